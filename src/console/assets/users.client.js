// @ts-check
// sealbucket console: the Users page (IAM users, their access keys and policies) and the bucket
// policy editor. Policies are built from templates or written as JSON; the gateway validates them
// and its refusal (MalformedPolicy / MalformedPolicyDocument) is shown as it says it.
// Served as written: types are JSDoc only (tsconfig.console.json checks them).
import { ApiError } from './api.js';
import { busy, confirmButton, flash, flashNext, fmtDate, h, message, put } from './dom.js';

/** @import { Gateway } from './api.js' */

const ACCOUNT = '000000000000';

/** @param {unknown} doc */
const pretty = (doc) => JSON.stringify(doc, null, 2);

/**
 * Identity-policy templates (PutUserPolicy). Each takes the bucket and prefix typed beside it.
 * @type {Record<string, { label: string, needs: ('bucket' | 'prefix')[], build: (bucket: string, prefix: string) => unknown }>}
 */
export const USER_TEMPLATES = {
  'read-only-bucket': {
    label: 'Read-only on a bucket',
    needs: ['bucket'],
    build: (b) => ({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ListTheBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: `arn:aws:s3:::${b}` },
        { Sid: 'ReadItsObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `arn:aws:s3:::${b}/*` },
      ],
    }),
  },
  'read-write-prefix': {
    label: 'Read-write on a prefix of a bucket',
    needs: ['bucket', 'prefix'],
    build: (b, p) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ListThePrefix',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: `arn:aws:s3:::${b}`,
          Condition: { StringLike: { 's3:prefix': [`${p}*`] } },
        },
        {
          Sid: 'ReadWriteUnderThePrefix',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          Resource: `arn:aws:s3:::${b}/${p}*`,
        },
      ],
    }),
  },
  'deny-unencrypted': {
    label: 'Deny unencrypted uploads',
    needs: [],
    build: () => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyUploadsWithoutSSE',
          Effect: 'Deny',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::*/*',
          Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
        },
      ],
    }),
  },
};

/**
 * Bucket-policy templates. "user" is the IAM user the read-only template names.
 * @type {Record<string, { label: string, build: (bucket: string, user: string) => unknown }>}
 */
export const BUCKET_TEMPLATES = {
  'deny-no-sse': {
    label: 'Deny uploads without SSE',
    build: (b) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyUploadsWithoutSSE',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObject',
          Resource: `arn:aws:s3:::${b}/*`,
          Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
        },
      ],
    }),
  },
  'deny-sse-c': {
    label: 'Deny SSE-C',
    build: (b) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyCustomerKeys',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObject',
          Resource: `arn:aws:s3:::${b}/*`,
          Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } },
        },
      ],
    }),
  },
  'read-only-user': {
    label: 'Read-only for a user',
    build: (b, user) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadOnlyForOneUser',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/${user || 'USER-NAME'}` },
          Action: ['s3:ListBucket', 's3:GetObject'],
          Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`],
        },
      ],
    }),
  },
};

/**
 * The JSON syntax error of a document, in words ('' when it parses as an object).
 * @param {string} text
 */
export function jsonProblem(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? '' : 'A policy is a JSON object: { "Version": ..., "Statement": [...] }.';
  } catch (/** @type {any} */ e) {
    return `This is not valid JSON: ${e?.message ?? e}`;
  }
}

/** @param {string} name */
const userHash = (name) => `#/u/${encodeURIComponent(name)}`;

/** A paragraph that says why data is missing (an AccessDenied's "You are not allowed to ..."). @param {any} e @param {string} id */
const deniedNote = (e, id) => h('p', { class: 'error', id, text: message(e) });

// ---------------------------------------------------------------- Users

/** @param {Gateway} gw @param {() => boolean} live */
export async function usersPage(gw, live) {
  const view = /** @type {HTMLElement} */ (document.getElementById('view'));
  const name = h('input', { id: 'user-name', placeholder: 'alice', spellcheck: 'false', autocapitalize: 'off', required: true });
  const create = h('button', { type: 'submit', id: 'create-user', text: 'Create user' });
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 3, class: 'hint', text: 'Loading…' })));
  put(
    view,
    h('h1', { text: 'Users' }),
    h('p', {
      class: 'hint',
      text: 'IAM users of this gateway. Each signs with its own access keys and may do what its policies allow; the root keys from the secret store may do everything.',
    }),
    h(
      'form',
      {
        class: 'card row',
        id: 'create-user-form',
        onsubmit: (ev) => {
          ev.preventDefault();
          busy(create, async () => {
            const n = name.value.trim();
            await gw.createUser(n);
            flashNext(`User ${n} created.`);
            location.hash = userHash(n);
          });
        },
      },
      h('label', {}, 'New user name', name),
      create,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'users' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', { text: 'User' }), h('th', { class: 'hide-narrow', text: 'ARN' }), h('th', { text: 'Created' })),
        ),
        tbody,
      ),
    ),
  );
  let users;
  try {
    users = await gw.listUsers();
  } catch (e) {
    if (live()) put(tbody, h('tr', {}, h('td', { colspan: 3 }, deniedNote(e, 'users-denied'))));
    return;
  }
  if (!live()) return;
  put(
    tbody,
    users.length
      ? users.map((u) =>
          h(
            'tr',
            { 'data-user': u.UserName },
            h('td', { class: 'name' }, h('a', { href: userHash(u.UserName), text: u.UserName })),
            h('td', { class: 'mono hide-narrow', text: u.Arn }),
            h('td', { text: fmtDate(u.CreateDate) }),
          ),
        )
      : h('tr', {}, h('td', { colspan: 3, class: 'hint', text: 'No users yet: create one above.' })),
  );
}

/** @param {Gateway} gw @param {string} user @param {() => boolean} live */
export async function userPage(gw, user, live) {
  const view = /** @type {HTMLElement} */ (document.getElementById('view'));
  const keysBox = h('div', { id: 'user-keys' }, h('p', { class: 'hint', text: 'Loading…' }));
  const secretBox = h('div', { id: 'secret-box', 'aria-live': 'polite' });
  const inlineBox = h('div', { id: 'inline-policies' }, h('p', { class: 'hint', text: 'Loading…' }));
  const attachedBox = h('div', { id: 'attached-policies' }, h('p', { class: 'hint', text: 'Loading…' }));
  const deleteBox = h('div', { id: 'delete-user-box' });
  const newKey = h('button', { type: 'button', id: 'create-key', text: 'Create access key' });
  newKey.addEventListener('click', () =>
    busy(newKey, async () => {
      const k = await gw.createAccessKey(user);
      showSecret(secretBox, k.AccessKeyId, k.SecretAccessKey);
      await fillKeys();
    }),
  );
  put(
    view,
    h('nav', { class: 'crumbs', 'aria-label': 'Path' }, h('a', { href: '#/users', text: 'Users' }), ' / ', user),
    h('h1', { text: user }),
    h('h2', { text: 'Access keys' }),
    secretBox,
    keysBox,
    h('div', { class: 'actions-bar' }, newKey),
    h('h2', { text: 'Inline policies' }),
    inlineBox,
    policyForm(gw, user, () => fillPolicies()),
    h('h2', { text: 'Attached managed policies' }),
    attachedBox,
    h('h2', { text: 'Delete this user' }),
    deleteBox,
  );

  /** @type {{ keys: string[], inline: string[], attached: string[] }} */
  const held = { keys: [], inline: [], attached: [] };

  async function fillKeys() {
    let keys;
    try {
      keys = await gw.listAccessKeys(user);
    } catch (e) {
      if (live()) put(keysBox, deniedNote(e, 'keys-denied'));
      return;
    }
    if (!live()) return;
    held.keys = keys.map((k) => k.AccessKeyId);
    showDelete();
    if (!keys.length) return put(keysBox, h('p', { class: 'hint', text: 'No access keys.' }));
    put(
      keysBox,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'access-keys' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { text: 'Access key ID' }),
              h('th', { text: 'Status' }),
              h('th', { class: 'hide-narrow', text: 'Created' }),
              h('th', { text: '' }),
            ),
          ),
          h(
            'tbody',
            {},
            keys.map((k) => {
              const active = k.Status === 'Active';
              const toggle = h('button', {
                type: 'button',
                class: 'secondary toggle-key',
                text: active ? 'Make inactive' : 'Make active',
                'aria-label': `${active ? 'Make inactive' : 'Make active'} ${k.AccessKeyId}`,
              });
              toggle.addEventListener('click', () =>
                busy(toggle, async () => {
                  await gw.updateAccessKey(user, k.AccessKeyId, active ? 'Inactive' : 'Active');
                  flash(`Access key ${k.AccessKeyId} is now ${active ? 'inactive' : 'active'}.`, 'ok');
                  await fillKeys();
                }),
              );
              return h(
                'tr',
                { 'data-access-key': k.AccessKeyId },
                h('td', { class: 'mono', text: k.AccessKeyId }),
                h('td', {}, h('span', { class: `badge ${active ? 'good' : 'bad'}`, text: k.Status })),
                h('td', { class: 'hide-narrow', text: fmtDate(k.CreateDate) }),
                h(
                  'td',
                  { class: 'actions' },
                  toggle,
                  confirmButton(
                    'Delete',
                    'Really delete?',
                    async () => {
                      try {
                        await gw.deleteAccessKey(user, k.AccessKeyId);
                        flash(`Access key ${k.AccessKeyId} deleted.`, 'ok');
                        await fillKeys();
                      } catch (e) {
                        flash(message(e));
                      }
                    },
                    { class: 'danger delete-key', 'aria-label': `Delete ${k.AccessKeyId}` },
                  ),
                ),
              );
            }),
          ),
        ),
      ),
    );
  }

  async function fillPolicies() {
    try {
      const names = await gw.listUserPolicies(user);
      if (!live()) return;
      held.inline = names;
      put(
        inlineBox,
        names.length
          ? h(
              'ul',
              { id: 'inline-policy-list' },
              names.map((n) => {
                const doc = h('pre', { class: 'mono', hidden: true });
                const show = h('button', { type: 'button', class: 'secondary', text: 'Show', 'aria-expanded': 'false' });
                show.addEventListener('click', () =>
                  busy(show, async () => {
                    if (doc.hidden) doc.textContent = await gw.getUserPolicy(user, n);
                    doc.hidden = !doc.hidden;
                    show.setAttribute('aria-expanded', String(!doc.hidden));
                  }),
                );
                return h(
                  'li',
                  { 'data-policy': n },
                  h('strong', { text: n }),
                  ' ',
                  show,
                  ' ',
                  confirmButton(
                    'Delete',
                    'Really delete?',
                    async () => {
                      try {
                        await gw.deleteUserPolicy(user, n);
                        flash(`Policy ${n} deleted.`, 'ok');
                        await fillPolicies();
                      } catch (e) {
                        flash(message(e));
                      }
                    },
                    { class: 'danger delete-policy', 'aria-label': `Delete policy ${n}` },
                  ),
                  doc,
                );
              }),
            )
          : h('p', { class: 'hint', text: 'No inline policies.' }),
      );
    } catch (e) {
      if (live()) put(inlineBox, deniedNote(e, 'inline-denied'));
    }
    try {
      const attached = await gw.listAttachedUserPolicies(user);
      if (!live()) return;
      held.attached = attached.map((a) => a.PolicyArn);
      put(
        attachedBox,
        attached.length
          ? h(
              'ul',
              { id: 'attached-policy-list' },
              attached.map((a) =>
                h(
                  'li',
                  { 'data-policy-arn': a.PolicyArn },
                  h('strong', { text: a.PolicyName }),
                  ' ',
                  h('span', { class: 'mono', text: a.PolicyArn }),
                  ' ',
                  confirmButton('Detach', 'Really detach?', async () => {
                    try {
                      await gw.detachUserPolicy(user, a.PolicyArn);
                      await fillPolicies();
                    } catch (e) {
                      flash(message(e));
                    }
                  }),
                ),
              ),
            )
          : h('p', { class: 'hint', text: 'No managed policies attached (attach them with aws iam attach-user-policy).' }),
      );
    } catch (e) {
      if (live()) put(attachedBox, deniedNote(e, 'attached-denied'));
    }
    showDelete();
  }

  // IAM refuses DeleteUser (DeleteConflict) while the user has keys or policies: offer to
  // remove them first, saying how many.
  function showDelete() {
    const n = held.keys.length + held.inline.length + held.attached.length;
    const what = n
      ? `This removes its ${held.keys.length} access key(s), ${held.inline.length} inline and ${held.attached.length} attached policy(ies) first.`
      : 'It has no access keys or policies left.';
    put(
      deleteBox,
      h('p', { class: 'hint', text: what }),
      confirmButton(
        n ? 'Remove keys and policies, then delete user' : 'Delete user',
        'Really delete this user?',
        async () => {
          try {
            for (const k of held.keys) await gw.deleteAccessKey(user, k);
            for (const p of held.inline) await gw.deleteUserPolicy(user, p);
            for (const a of held.attached) await gw.detachUserPolicy(user, a);
            await gw.deleteUser(user);
            flashNext(`User ${user} deleted.`);
            location.hash = '#/users';
          } catch (e) {
            flash(message(e));
            await Promise.all([fillKeys(), fillPolicies()]);
          }
        },
        { id: 'delete-user' },
      ),
    );
  }

  await Promise.all([fillKeys(), fillPolicies()]);
}

/**
 * The new key's secret, shown this once with a copy button. It lives only in this element: it
 * goes when the page changes.
 * @param {HTMLElement} box
 * @param {string} id
 * @param {string} secret
 */
function showSecret(box, id, secret) {
  const copy = h('button', { type: 'button', class: 'secondary', id: 'copy-secret', text: 'Copy secret' });
  copy.addEventListener('click', () =>
    navigator.clipboard.writeText(secret).then(
      () => (copy.textContent = 'Copied'),
      () => flash('The browser did not allow copying; select the secret and copy it by hand.'),
    ),
  );
  const hide = h('button', { type: 'button', class: 'secondary', text: 'I have saved it', onclick: () => put(box) });
  put(
    box,
    h(
      'div',
      { class: 'secret', role: 'status' },
      h('p', {}, h('strong', { text: 'Save this secret access key now: it will not be shown again.' })),
      h(
        'dl',
        { class: 'meta' },
        h('dt', { text: 'Access key ID' }),
        h('dd', {}, h('code', { id: 'new-key-id', text: id })),
        h('dt', { text: 'Secret access key' }),
        h('dd', {}, h('code', { id: 'new-secret', text: secret })),
      ),
      h('div', { class: 'actions-bar' }, copy, hide),
    ),
  );
}

/**
 * Adds an inline policy: a template filled from a bucket and prefix, or free JSON.
 * @param {Gateway} gw
 * @param {string} user
 * @param {() => Promise<unknown>} done
 */
function policyForm(gw, user, done) {
  const template = h(
    'select',
    { id: 'policy-template' },
    Object.entries(USER_TEMPLATES).map(([v, t]) => h('option', { value: v, text: t.label })),
    h('option', { value: 'json', text: 'Free JSON' }),
  );
  const bucket = h('input', { id: 'policy-bucket', spellcheck: 'false', autocapitalize: 'off', placeholder: 'my-bucket' });
  const prefix = h('input', { id: 'policy-prefix', spellcheck: 'false', autocapitalize: 'off', placeholder: 'team/' });
  const name = h('input', { id: 'policy-name', spellcheck: 'false', autocapitalize: 'off', required: true, value: 'read-only-bucket' });
  const json = h('textarea', { id: 'policy-json', spellcheck: 'false', rows: '14' });
  const bucketLabel = h('label', {}, 'Bucket', bucket);
  const prefixLabel = h('label', {}, 'Prefix', prefix);
  const problem = h('p', { class: 'error', id: 'policy-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', id: 'save-policy', text: 'Attach policy' });
  const refresh = () => {
    const t = USER_TEMPLATES[template.value];
    bucketLabel.hidden = !t?.needs.includes('bucket');
    prefixLabel.hidden = !t?.needs.includes('prefix');
    if (t) json.value = pretty(t.build(bucket.value.trim() || 'my-bucket', prefix.value.trim()));
  };
  template.addEventListener('change', () => {
    if (template.value !== 'json') name.value = template.value;
    refresh();
  });
  bucket.addEventListener('input', refresh);
  prefix.addEventListener('input', refresh);
  refresh();
  return h(
    'form',
    {
      class: 'card',
      id: 'policy-form',
      onsubmit: (ev) => {
        ev.preventDefault();
        problem.hidden = true;
        const bad = jsonProblem(json.value);
        if (bad) {
          problem.textContent = bad;
          problem.hidden = false;
          return;
        }
        busy(save, async () => {
          try {
            await gw.putUserPolicy(user, name.value.trim(), json.value);
          } catch (e) {
            problem.textContent = message(e);
            problem.hidden = false;
            return;
          }
          flash(`Policy ${name.value.trim()} attached to ${user}.`, 'ok');
          await done();
        });
      },
    },
    h('div', { class: 'row' }, h('label', {}, 'Template', template), bucketLabel, prefixLabel, h('label', {}, 'Policy name', name)),
    h('label', {}, 'Policy document (JSON)', json),
    problem,
    save,
  );
}

// ---------------------------------------------------------------- bucket policy

/**
 * The bucket policy editor of a bucket's page: load (none = empty), templates, local JSON check,
 * save (the gateway's MalformedPolicy message shown as it says it), delete.
 * @param {Gateway} gw
 * @param {string} bucket
 */
export function bucketPolicySection(gw, bucket) {
  const json = h('textarea', {
    id: 'bucket-policy-json',
    spellcheck: 'false',
    rows: '14',
    placeholder: 'No policy: choose a template or write one.',
  });
  const template = h(
    'select',
    { id: 'bucket-policy-template' },
    h('option', { value: '', text: 'Choose a template…' }),
    Object.entries(BUCKET_TEMPLATES).map(([v, t]) => h('option', { value: v, text: t.label })),
  );
  const user = h('input', { id: 'bucket-policy-user', spellcheck: 'false', autocapitalize: 'off', placeholder: 'alice' });
  const userLabel = h('label', { hidden: true }, 'User', user);
  const status = h('p', { class: 'hint', id: 'bucket-policy-status', text: 'Loading…' });
  const problem = h('p', { class: 'error', id: 'bucket-policy-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', id: 'save-bucket-policy', text: 'Save policy' });
  const fillTemplate = () => {
    userLabel.hidden = template.value !== 'read-only-user';
    const t = BUCKET_TEMPLATES[template.value];
    if (t) json.value = pretty(t.build(bucket, user.value.trim()));
  };
  template.addEventListener('change', fillTemplate);
  user.addEventListener('input', fillTemplate);
  const remove = confirmButton(
    'Delete policy',
    'Really delete the policy?',
    async () => {
      try {
        await gw.deleteBucketPolicy(bucket);
        flash(`The policy of ${bucket} is deleted.`, 'ok');
        await load();
      } catch (e) {
        flash(message(e));
      }
    },
    { id: 'delete-bucket-policy' },
  );
  const form = h(
    'form',
    {
      id: 'bucket-policy-form',
      onsubmit: (ev) => {
        ev.preventDefault();
        problem.hidden = true;
        const bad = jsonProblem(json.value);
        if (bad) {
          problem.textContent = bad;
          problem.hidden = false;
          return;
        }
        busy(save, async () => {
          try {
            await gw.putBucketPolicy(bucket, json.value);
          } catch (e) {
            // MalformedPolicy's own words: they say what is wrong with the document.
            problem.textContent = e instanceof ApiError && e.code === 'MalformedPolicy' ? e.detail || e.message : message(e);
            problem.hidden = false;
            return;
          }
          flash(`The policy of ${bucket} is saved.`, 'ok');
          await load();
        });
      },
    },
    h('div', { class: 'row' }, h('label', {}, 'Template', template), userLabel),
    h('label', {}, 'Policy (JSON)', json),
    problem,
    h('div', { class: 'actions-bar' }, save, remove),
  );
  async function load() {
    try {
      const text = await gw.bucketPolicy(bucket);
      json.value = text ? prettyIfJson(text) : '';
      status.textContent = text ? 'This bucket has a policy.' : 'This bucket has no policy.';
      status.className = 'hint';
      remove.hidden = !text;
      form.hidden = false;
    } catch (e) {
      status.textContent = message(e);
      status.className = 'error';
      // Denied, or a gateway without bucket policies: nothing to edit. Other failures keep the editor.
      form.hidden = !(e instanceof ApiError) || e.status === 403 || e.code === 'NotImplemented';
    }
  }
  form.hidden = true;
  load();
  return h(
    'section',
    { class: 'card', id: 'bucket-policy', 'aria-label': 'Bucket policy' },
    h('h2', { text: 'Bucket policy' }),
    status,
    form,
  );
}

/** @param {string} text */
function prettyIfJson(text) {
  try {
    return pretty(JSON.parse(text));
  } catch {
    return text;
  }
}
