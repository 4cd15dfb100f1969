// @ts-check
// sealbucket console: the pages. Plain DOM, no framework; every call goes through api.js.
// Served as written: types are JSDoc only (tsconfig.console.json checks them).
import { ApiError, Gateway, MULTIPART_THRESHOLD, mapLimit } from './api.js';

/** @import { Caller, Credentials, Encryption, KeyDetail } from './api.js' */
import { $, busy, confirmButton, flash, flashPending, fmtDate, fmtSize, h, message, put } from './dom.js';
import { bucketPolicySection, userPage, usersPage } from './users.js';

const STORE_KEY = 'sealbucket-console';
const PAGE_SIZE = 50;
const HEAD_CONCURRENCY = 4;

/**
 * The signed-in gateway, the cached key list, and the number of the page being rendered (a page
 * stops when it is no longer the latest: see route()).
 * @type {{ gw: Gateway | null, keys: Promise<KeyDetail[]> | null, seq: number, caller: Caller | null }}
 */
const state = { gw: null, keys: null, seq: 0, caller: null };
/** The signed-in gateway (the pages render only while there is one). */
function gateway() {
  if (!state.gw) throw new Error('not signed in');
  return state.gw;
}
// ---------------------------------------------------------------- session

/** @param {Gateway} gw @param {boolean} remember @param {Credentials} creds @param {Caller} caller */
function signedIn(gw, remember, creds, caller) {
  state.gw = gw;
  state.keys = null;
  state.caller = caller;
  if (remember) sessionStorage.setItem(STORE_KEY, JSON.stringify(creds));
  else sessionStorage.removeItem(STORE_KEY);
  $('signin-form').reset();
  $('who').textContent = caller.name ? `Signed in as ${caller.name}` : gw.accessKeyId;
  $('who').title = caller.arn || gw.accessKeyId;
  for (const id of ['nav', 'who', 'signout']) $(id).hidden = false;
  showPermittedPages(gw);
  if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/buckets';
  else route();
}

/**
 * The Users page is offered to whoever may call iam:ListUsers; the Master key page (the admin
 * endpoint's keyring status) only to whoever may read it. Other failures leave the links as they
 * are: the page then says what went wrong.
 * @param {Gateway} gw
 */
function showPermittedPages(gw) {
  $('nav-users').hidden = true;
  $('nav-master').hidden = false;
  gw.iam('ListUsers', { MaxItems: '1' })
    .then(() => {
      if (state.gw === gw) $('nav-users').hidden = false;
    })
    .catch(() => {});
  gw.keyring().catch((e) => {
    if (state.gw === gw && e instanceof ApiError && e.status === 403) $('nav-master').hidden = true;
  });
}

function signOut() {
  state.gw = null;
  state.keys = null;
  state.caller = null;
  state.seq++; // a page still loading is no longer live: it stops rather than go on signed out
  sessionStorage.removeItem(STORE_KEY);
  for (const id of ['nav', 'who', 'signout']) $(id).hidden = true;
  put($('view'));
  flash('');
  route();
}

/** @param {Credentials} creds @param {boolean} remember */
async function trySignIn(creds, remember) {
  const gw = new Gateway(creds);
  const caller = await gw.whoAmI();
  signedIn(gw, remember, creds, caller);
}

function setupSignIn() {
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = $('signin-error');
    err.hidden = true;
    const creds = { accessKeyId: $('ak').value.trim(), secretAccessKey: $('sk').value, region: $('region').value.trim() || 'us-east-1' };
    if (!creds.accessKeyId || !creds.secretAccessKey) {
      err.textContent = 'Enter both the access key ID and the secret access key.';
      err.hidden = false;
      return;
    }
    const button = $('signin-button');
    button.disabled = true;
    try {
      await trySignIn(creds, $('remember').checked);
    } catch (/** @type {any} */ e) {
      err.textContent = e instanceof ApiError ? `Sign-in failed: ${e.message}` : `Sign-in failed: ${e?.message ?? e}`;
      err.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $('signout').addEventListener('click', signOut);
}

// ---------------------------------------------------------------- keys (cached for pickers and labels)

/** @returns {Promise<KeyDetail[]>} */
async function loadKeys(force = false) {
  if (!state.keys || force) state.keys = gateway().keyDetails();
  try {
    return await state.keys;
  } catch (e) {
    state.keys = null;
    throw e;
  }
}

/** @param {string} id */
const shortId = (id) => (id ? `${id.slice(0, 8)}…` : '');

/**
 * "alias/name" for a key id when it has one, else the short id.
 * @param {string | undefined} keyId
 */
async function keyLabel(keyId) {
  if (!keyId) return '';
  const keys = await loadKeys().catch(() => []);
  const k = keys.find((x) => x.KeyId === keyId || x.Arn === keyId || x.aliases?.includes(keyId));
  return k?.aliases?.[0] ?? (keyId.startsWith('alias/') ? keyId : shortId(keyId));
}

/**
 * A <select> of usable KMS keys (by alias where there is one).
 * @param {string} id
 * @param {string} [selected]
 */
function keyPicker(id, selected = '') {
  const sel = h('select', { id, 'aria-label': 'KMS key' }, h('option', { value: '', text: 'Loading keys…' }));
  loadKeys()
    .then((keys) => {
      const usable = keys.filter((k) => k.KeyState === 'Enabled');
      put(
        sel,
        ...(usable.length ? [] : [h('option', { value: '', text: 'No enabled keys: create one in Keys' })]),
        ...usable.map((k) =>
          h('option', {
            value: k.KeyId,
            selected: k.KeyId === selected,
            text: k.aliases[0] ? `${k.aliases[0]} (${shortId(k.KeyId)})` : k.KeyId,
          }),
        ),
      );
    })
    .catch((e) => put(sel, h('option', { value: '', text: `Keys unavailable: ${message(e)}` })));
  return sel;
}

/**
 * Mode select (SSE-COS / SSE-KMS, optionally "gateway default") with a key picker shown for SSE-KMS.
 * value().mode is 'cos', 'kms', or '' for the gateway default.
 * @param {string} prefix
 * @param {{ mode?: 'cos' | 'kms' | null, keyId?: string, allowDefault?: boolean }} [options]
 */
function encryptionChooser(prefix, { mode = 'cos', keyId = '', allowDefault = false } = {}) {
  const picker = keyPicker(`${prefix}-key`, keyId);
  const pickerLabel = h('label', { hidden: mode !== 'kms' }, 'Key', picker);
  const select = h(
    'select',
    { id: `${prefix}-mode`, 'aria-label': 'Encryption' },
    allowDefault ? h('option', { value: '', text: 'Gateway default', selected: !mode }) : null,
    h('option', { value: 'cos', text: 'SSE-COS (gateway master key)', selected: mode === 'cos' }),
    h('option', { value: 'kms', text: 'SSE-KMS (a KMS key)', selected: mode === 'kms' }),
  );
  select.addEventListener('change', () => (pickerLabel.hidden = select.value !== 'kms'));
  return {
    el: [h('label', {}, 'Encryption', select), pickerLabel],
    value: () => ({ mode: select.value, keyId: select.value === 'kms' ? picker.value : '' }),
  };
}

/** @param {Pick<Encryption, 'mode'>} enc @param {string} label */
function encBadge(enc, label) {
  const cls = { 'SSE-COS': 'cos', 'SSE-KMS': 'kms', 'SSE-C': 'c', none: 'none' }[enc.mode] ?? '';
  return h(
    'span',
    {},
    h('span', { class: `badge ${cls}`, text: enc.mode }),
    label ? h('span', { class: 'enc-key', text: ` ${label}` }) : null,
  );
}

// ---------------------------------------------------------------- routing

const hashFor = {
  buckets: () => '#/buckets',
  bucket: (/** @type {string} */ b, prefix = '') => `#/b/${encodeURIComponent(b)}/${encodeURIComponent(prefix)}`,
  object: (/** @type {string} */ b, /** @type {string} */ key) => `#/o/${encodeURIComponent(b)}/${encodeURIComponent(key)}`,
};

function route() {
  const view = $('view');
  if (!state.gw) {
    $('signin').hidden = false;
    view.hidden = true;
    put(view);
    return;
  }
  $('signin').hidden = true;
  view.hidden = false;
  flashPending();
  const [page = 'buckets', a = '', b = ''] = location.hash.replace(/^#\/?/, '').split('/');
  const dec = (/** @type {string} */ s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return '';
    }
  };
  for (const link of document.querySelectorAll('[data-nav]')) {
    const nav = link.getAttribute('data-nav');
    link.classList.toggle(
      'active',
      nav === page || (nav === 'buckets' && (page === 'b' || page === 'o')) || (nav === 'users' && page === 'u'),
    );
  }
  const seq = ++state.seq;
  const live = () => seq === state.seq;
  const render =
    /** @type {Record<string, () => Promise<void>>} */ ({
      b: () => objectsPage(dec(a), dec(b), live),
      o: () => objectPage(dec(a), dec(b), live),
      keys: () => keysPage(live),
      master: () => masterPage(live),
      users: () => usersPage(gateway(), live),
      u: () => userPage(gateway(), dec(a), live),
    })[page] ?? (() => bucketsPage(live));
  render().catch((e) => live() && flash(message(e)));
}

/** @param {string} bucket @param {string} prefix */
function crumbs(bucket, prefix) {
  const parts = prefix.split('/').filter(Boolean);
  const out = [h('a', { href: hashFor.buckets(), text: 'Buckets' }), ' / ', h('a', { href: hashFor.bucket(bucket), text: bucket })];
  let acc = '';
  for (const p of parts) {
    acc += `${p}/`;
    out.push(' / ', h('a', { href: hashFor.bucket(bucket, acc), text: p }));
  }
  return h('nav', { class: 'crumbs', 'aria-label': 'Path' }, out);
}

// ---------------------------------------------------------------- Buckets

/** @param {() => boolean} live whether this page is still the one to show */
async function bucketsPage(live) {
  const gw = gateway();
  const view = $('view');
  const name = h('input', { id: 'bucket-name', placeholder: 'my-bucket', spellcheck: 'false', autocapitalize: 'off', required: true });
  const create = h('button', { type: 'submit', id: 'create-bucket', text: 'Create bucket' });
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 4, class: 'hint', text: 'Loading…' })));
  put(
    view,
    h('h1', { text: 'Buckets' }),
    h(
      'form',
      {
        class: 'card row',
        id: 'create-bucket-form',
        onsubmit: (ev) => {
          ev.preventDefault();
          busy(create, async () => {
            await gw.createBucket(name.value.trim());
            flash(`Bucket ${name.value.trim()} created.`, 'ok');
            name.value = '';
            await fill();
          });
        },
      },
      h('label', {}, 'New bucket', name),
      create,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'buckets' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { text: 'Name' }),
            h('th', { class: 'hide-narrow', text: 'Created' }),
            h('th', { text: 'Default encryption' }),
            h('th', { text: '' }),
          ),
        ),
        tbody,
      ),
    ),
  );

  async function fill() {
    let buckets;
    try {
      buckets = await gw.listBuckets();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) throw e;
      if (live()) put(tbody, h('tr', {}, h('td', { colspan: 4 }, h('p', { class: 'error', id: 'buckets-denied', text: e.message }))));
      if (live()) view.append(openBucketForm());
      return;
    }
    if (!live()) return;
    if (!buckets.length) {
      put(tbody, h('tr', {}, h('td', { colspan: 4, class: 'hint', text: 'No buckets yet: create one above.' })));
      return;
    }
    const rows = buckets.map((b) => {
      const encCell = h('td', { class: 'enc' }, h('span', { class: 'hint', text: '…' }));
      const row = h(
        'tr',
        { 'data-bucket': b.name },
        h('td', { class: 'name' }, h('a', { href: hashFor.bucket(b.name), text: b.name })),
        h('td', { class: 'hide-narrow', text: fmtDate(b.created) }),
        encCell,
        h(
          'td',
          { class: 'actions' },
          confirmButton(
            'Delete',
            'Really delete?',
            async () => {
              try {
                await gw.deleteBucket(b.name);
                flash(`Bucket ${b.name} deleted.`, 'ok');
                await fill();
              } catch (e) {
                flash(message(e));
              }
            },
            { class: 'danger delete-bucket' },
          ),
        ),
      );
      return { b, row, encCell };
    });
    put(tbody, ...rows.map((r) => r.row));
    await mapLimit(rows, HEAD_CONCURRENCY, ({ b, encCell }) =>
      showBucketEncryption(b.name, encCell, live).catch((e) => put(encCell, h('span', { class: 'hint', text: message(e) }))),
    );
  }
  await fill();
}

/** A form to open a bucket by name, for whoever may not list the buckets. */
function openBucketForm() {
  const name = h('input', { id: 'open-bucket-name', placeholder: 'my-bucket', spellcheck: 'false', autocapitalize: 'off', required: true });
  return h(
    'form',
    {
      class: 'card row',
      id: 'open-bucket-form',
      onsubmit: (ev) => {
        ev.preventDefault();
        location.hash = hashFor.bucket(name.value.trim());
      },
    },
    h('label', {}, 'Open a bucket by name', name),
    h('button', { type: 'submit', id: 'open-bucket', text: 'Open' }),
  );
}

/** @param {string} bucket @param {HTMLElement} cell @param {() => boolean} live */
async function showBucketEncryption(bucket, cell, live) {
  const gw = gateway();
  const cfg = await gw.bucketEncryption(bucket);
  if (!live()) return;
  const label = cfg.mode === 'kms' ? await keyLabel(cfg.keyId) : '';
  const summary = cfg.mode
    ? encBadge({ mode: cfg.mode === 'kms' ? 'SSE-KMS' : 'SSE-COS' }, cfg.mode === 'kms' ? label || 'default KMS key' : '')
    : h('span', { class: 'hint', text: 'Gateway default' });
  const edit = h('button', {
    type: 'button',
    class: 'secondary edit-encryption',
    text: 'Edit',
    onclick: () => {
      const chooser = encryptionChooser(`enc-${bucket}`, { mode: cfg.mode, keyId: cfg.keyId, allowDefault: true });
      const save = h('button', { type: 'submit', class: 'save-encryption', text: 'Save' });
      put(
        cell,
        h(
          'form',
          {
            class: 'row',
            onsubmit: (ev) => {
              ev.preventDefault();
              busy(save, async () => {
                const v = chooser.value();
                if (v.mode === 'kms' && !v.keyId) throw new ApiError(400, 'NoKey', '', 'Choose a KMS key (create one in Keys first).');
                await gw.setBucketEncryption(bucket, v.mode, v.keyId);
                flash(`Default encryption of ${bucket} saved.`, 'ok');
                await showBucketEncryption(bucket, cell, live);
              });
            },
          },
          chooser.el,
          save,
          h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => showBucketEncryption(bucket, cell, live) }),
        ),
      );
    },
  });
  put(cell, summary, ' ', edit);
}

// ---------------------------------------------------------------- Objects

/**
 * @param {string} bucket
 * @param {string} prefix
 * @param {() => boolean} live
 * @param {string[]} [tokens] the continuation token of each page up to this one ('' for the first)
 */
async function objectsPage(bucket, prefix, live, tokens = ['']) {
  const gw = gateway();
  const view = $('view');
  const page = tokens.length - 1;
  const token = tokens[page];
  const chooser = encryptionChooser('upload');
  const input = h('input', { type: 'file', id: 'file-input', multiple: true });
  // Uploads in progress stay listed while the page re-renders for the same folder.
  const old = $('uploads');
  const uploads =
    old && old.getAttribute('data-where') === `${bucket}/${prefix}`
      ? old
      : h('div', { id: 'uploads', 'data-where': `${bucket}/${prefix}` });
  const drop = h('div', { class: 'drop', id: 'drop' }, 'Drop files here, or ', input);
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 4, class: 'hint', text: 'Loading…' })));
  const prev = h('button', { type: 'button', class: 'secondary', id: 'prev-page', text: '← Previous', disabled: page === 0 });
  const next = h('button', { type: 'button', class: 'secondary', id: 'next-page', text: 'Next →', disabled: true });
  const pageLabel = h('span', { class: 'hint', text: `Page ${page + 1}` });

  /** @param {File[]} files */
  const start = (files) => {
    const { mode, keyId } = chooser.value();
    if (mode === 'kms' && !keyId) return flash('Choose a KMS key for SSE-KMS (create one in Keys first).');
    for (const f of files)
      uploadOne(bucket, prefix + f.name, f, mode, keyId, uploads, () => live() && objectsPage(bucket, prefix, live, tokens));
  };
  input.addEventListener('change', () => {
    start([.../** @type {FileList} */ (input.files)]);
    input.value = '';
  });
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    start([...(ev.dataTransfer?.files ?? [])]);
  });
  prev.addEventListener('click', () => objectsPage(bucket, prefix, live, tokens.slice(0, -1)));

  put(
    view,
    crumbs(bucket, prefix),
    h('h1', { text: prefix ? prefix : bucket }),
    h(
      'section',
      { class: 'card', 'aria-label': 'Upload' },
      h('div', { class: 'row' }, chooser.el),
      h('p', { class: 'hint', text: `Files over ${MULTIPART_THRESHOLD / 1048576} MiB go up in parts.` }),
      drop,
      uploads,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'objects' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { text: 'Name' }),
            h('th', { class: 'num', text: 'Size' }),
            h('th', { class: 'hide-narrow', text: 'Last modified' }),
            h('th', { text: 'Encryption' }),
          ),
        ),
        tbody,
      ),
    ),
    h('div', { class: 'pager' }, prev, pageLabel, next),
    prefix || page ? null : bucketPolicySection(gw, bucket),
  );

  let list;
  try {
    list = await gw.listObjects(bucket, prefix, token, PAGE_SIZE);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403)) throw e;
    if (live()) put(tbody, h('tr', {}, h('td', { colspan: 4 }, h('p', { class: 'error', id: 'objects-denied', text: e.message }))));
    return;
  }
  if (!live()) return;
  next.disabled = !list.next;
  next.addEventListener('click', () => objectsPage(bucket, prefix, live, [...tokens, list.next]));
  const rows = [];
  const folderRows = list.folders.map((f) =>
    h(
      'tr',
      { class: 'folder' },
      h('td', { class: 'name' }, h('a', { href: hashFor.bucket(bucket, f), text: `📁 ${f.slice(prefix.length)}` })),
      h('td', {}),
      h('td', { class: 'hide-narrow' }),
      h('td', {}),
    ),
  );
  for (const o of list.objects) {
    const encCell = h('td', { class: 'enc' }, h('span', { class: 'hint', text: '…' }));
    const row = h(
      'tr',
      { 'data-key': o.key },
      h('td', { class: 'name' }, h('a', { href: hashFor.object(bucket, o.key), text: o.key.slice(prefix.length) })),
      h('td', { class: 'num', text: fmtSize(o.size) }),
      h('td', { class: 'hide-narrow', text: fmtDate(o.lastModified) }),
      encCell,
    );
    rows.push({ o, row, encCell });
  }
  put(tbody, ...folderRows, ...rows.map((r) => r.row));
  if (!folderRows.length && !rows.length)
    put(
      tbody,
      h(
        'tr',
        {},
        h('td', { colspan: 4, class: 'hint', text: prefix ? 'This folder is empty.' : 'This bucket is empty: upload files above.' }),
      ),
    );
  // One HEAD per visible row (a few at a time) tells how each object is sealed.
  await mapLimit(rows, HEAD_CONCURRENCY, async ({ o, encCell }) => {
    if (!live()) return;
    try {
      const { enc } = await gw.headObject(bucket, o.key);
      const label = enc.mode === 'SSE-KMS' ? await keyLabel(enc.keyId) : '';
      put(
        encCell,
        encBadge(enc, label),
        enc.error && enc.mode !== 'SSE-C' ? h('div', { class: 'hint enc-note', text: enc.error.message }) : null,
      );
    } catch (e) {
      put(encCell, h('span', { class: 'hint', text: message(e) }));
    }
  });
}

/**
 * @param {string} bucket
 * @param {string} key
 * @param {File} file
 * @param {string} mode
 * @param {string} keyId
 * @param {HTMLElement} into the list of uploads
 * @param {() => unknown} done
 */
function uploadOne(bucket, key, file, mode, keyId, into, done) {
  const bar = h('progress', { max: String(file.size || 1), value: '0' });
  const status = h('span', { class: 'hint', text: ' starting…' });
  const item = h(
    'div',
    { class: 'upload-item', 'data-upload': key },
    h('div', {}, h('strong', { text: key }), ` (${fmtSize(file.size)})`, status),
    bar,
  );
  into.prepend(item);
  gateway()
    .upload(bucket, key, file, mode, keyId, (sent, total) => {
      bar.value = sent;
      status.textContent = ` ${Math.floor((100 * sent) / (total || 1))}%`;
    })
    .then(() => {
      bar.value = file.size || 1;
      status.textContent = ' uploaded';
      item.classList.add('done');
      done();
    })
    .catch((e) => {
      status.textContent = ` failed: ${message(e)}`;
      status.className = 'error';
      item.classList.add('failed');
    });
}

// ---------------------------------------------------------------- Object details

/** @param {string} bucket @param {string} key @param {() => boolean} live */
async function objectPage(bucket, key, live) {
  const gw = gateway();
  const view = $('view');
  const prefix = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  put(view, crumbs(bucket, prefix), h('h1', { text: key.slice(prefix.length) }), h('p', { class: 'hint', text: 'Loading…' }));
  const { headers, enc } = await gw.headObject(bucket, key);
  if (!live()) return;
  const label = enc.mode === 'SSE-KMS' ? await keyLabel(enc.keyId) : '';
  const meta = [
    ['Bucket', bucket],
    ['Key', key],
  ];
  if (headers) {
    meta.push(['Size', `${fmtSize(Number(headers.get('content-length')))} (${headers.get('content-length')} bytes)`]);
    meta.push(['Content type', headers.get('content-type') ?? '']);
    meta.push(['Last modified', fmtDate(headers.get('last-modified'))]);
    meta.push(['ETag', headers.get('etag') ?? '']);
    headers.forEach((v, k) => {
      if (k.startsWith('x-amz-meta-') || k.startsWith('x-cos-meta-')) meta.push([`Metadata ${k.replace(/^x-(amz|cos)-meta-/, '')}`, v]);
    });
  }
  const encDd = h('dd', { id: 'object-encryption' }, encBadge(enc, label), enc.keyId ? h('div', { class: 'mono', text: enc.keyId }) : null);
  const card = h(
    'section',
    { class: 'card' },
    h(
      'dl',
      { class: 'meta' },
      meta.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]),
      h('dt', { text: 'Encryption' }),
      encDd,
    ),
  );
  const problem = enc.error ? h('p', { class: 'error', id: 'object-error', role: 'alert', text: enc.error.message }) : null;

  /** @type {HTMLButtonElement} */
  const download = h('button', {
    type: 'button',
    id: 'download',
    text: 'Download',
    disabled: enc.mode === 'SSE-C',
    onclick: () =>
      busy(download, async () => {
        await gw.probeRead(bucket, key); // a readable error instead of a broken download
        const a = h('a', { href: await gw.downloadUrl(bucket, key), download: key.split('/').pop() || 'download' });
        document.body.append(a);
        a.click();
        a.remove();
      }),
  });
  const del = confirmButton(
    'Delete',
    'Really delete?',
    async () => {
      try {
        await gw.deleteObject(bucket, key);
        location.hash = hashFor.bucket(bucket, prefix);
        setTimeout(() => flash(`Deleted ${key}.`, 'ok'));
      } catch (e) {
        flash(message(e));
      }
    },
    { id: 'delete-object' },
  );

  const chooser = encryptionChooser('change', { mode: enc.mode === 'SSE-KMS' ? 'cos' : 'kms' });
  const change = h('button', { type: 'submit', id: 'change-encryption', text: 'Change encryption' });
  const changeForm =
    enc.mode === 'SSE-C'
      ? h('p', {
          class: 'hint',
          text: 'This object is sealed with a customer-provided key (SSE-C); the console cannot read or re-encrypt it.',
        })
      : h(
          'form',
          {
            class: 'card',
            id: 'change-form',
            onsubmit: (ev) => {
              ev.preventDefault();
              busy(change, async () => {
                const v = chooser.value();
                if (v.mode === 'kms' && !v.keyId) throw new ApiError(400, 'NoKey', '', 'Choose a KMS key (create one in Keys first).');
                await gw.changeEncryption(bucket, key, v.mode, v.keyId);
                await objectPage(bucket, key, live);
                flash(`Encryption changed to ${v.mode === 'kms' ? 'SSE-KMS' : 'SSE-COS'}.`, 'ok');
              });
            },
          },
          h('h2', { text: 'Change encryption' }),
          h('p', { class: 'hint', text: 'Copies the object onto itself with the new encryption; its data and metadata stay the same.' }),
          h('div', { class: 'row' }, chooser.el, change),
        );
  put(
    view,
    crumbs(bucket, prefix),
    h('h1', { text: key.slice(prefix.length) }),
    problem,
    card,
    h('div', { class: 'actions-bar' }, download, del),
    changeForm,
  );
}

// ---------------------------------------------------------------- Keys

/** @param {() => boolean} live whether this page is still the one to show */
async function keysPage(live) {
  const gw = gateway();
  const view = $('view');
  const desc = h('input', { id: 'key-description', placeholder: 'What this key protects' });
  const alias = h('input', { id: 'key-alias', placeholder: 'alias/my-key', spellcheck: 'false', autocapitalize: 'off' });
  const create = h('button', { type: 'submit', id: 'create-key', text: 'Create key' });
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 7, class: 'hint', text: 'Loading…' })));
  const aliasName = (/** @type {string} */ s) => (s.startsWith('alias/') ? s : `alias/${s}`);
  put(
    view,
    h('h1', { text: 'Keys' }),
    h(
      'form',
      {
        class: 'card row',
        id: 'create-key-form',
        onsubmit: (ev) => {
          ev.preventDefault();
          busy(create, async () => {
            const a = alias.value.trim();
            const r = await gw.kms(
              'CreateKey',
              { Description: desc.value.trim(), KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' },
              'kms',
            );
            const id = r.KeyMetadata.KeyId;
            if (a) {
              try {
                await gw.kms('CreateAlias', { AliasName: aliasName(a), TargetKeyId: id }, 'kms');
              } catch (/** @type {any} */ e) {
                await fill();
                throw new ApiError(e.status, e.code, e.detail, `Key ${id} created, but its alias was not: ${e.message}`);
              }
            }
            desc.value = '';
            alias.value = '';
            flash(`Key ${a ? aliasName(a) : id} created.`, 'ok');
            await fill();
          });
        },
      },
      h('label', {}, 'Alias (optional)', alias),
      h('label', {}, 'Description', desc),
      create,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'keys' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Alias', 'Key ID', 'State', 'Origin', 'Rotation', 'Created', ''].map((t, i) =>
              h('th', { class: i === 3 || i === 5 ? 'hide-narrow' : null, text: t }),
            ),
          ),
        ),
        tbody,
      ),
    ),
  );

  async function fill() {
    const keys = await loadKeys(true);
    if (!live()) return;
    if (!keys.length) {
      put(tbody, h('tr', {}, h('td', { colspan: 7, class: 'hint', text: 'No KMS keys yet: create one above.' })));
      return;
    }
    put(tbody, ...keys.map((k) => keyRow(k)));
  }

  /**
   * @param {HTMLButtonElement | null} button
   * @param {string} op
   * @param {Record<string, unknown>} input
   * @param {string} done
   */
  const act = (button, op, input, done) =>
    busy(button, async () => {
      await gw.kms(op, input, 'kms');
      if (done) flash(done, 'ok');
      await fill();
    });

  /** @param {KeyDetail} k */
  function keyRow(k) {
    const id = k.KeyId;
    const st = k.KeyState ?? '';
    const stateBadge = h('span', {
      class: `badge ${st === 'Enabled' ? 'good' : st === 'Disabled' || st === 'PendingDeletion' ? 'bad' : ''}`,
      text: st === 'PendingDeletion' ? `Pending deletion (${fmtDate(k.DeletionDate)})` : st,
    });
    const actions = h('td', { class: 'actions' });
    /** @type {HTMLButtonElement[]} */
    const buttons = [];
    if (st === 'Enabled')
      buttons.push(
        h('button', {
          type: 'button',
          class: 'secondary disable-key',
          text: 'Disable',
          onclick: (ev) => act(ev.currentTarget, 'DisableKey', { KeyId: id }, `Key ${k.aliases[0] ?? id} disabled.`),
        }),
      );
    if (st === 'Disabled')
      buttons.push(
        h('button', {
          type: 'button',
          class: 'secondary enable-key',
          text: 'Enable',
          onclick: (ev) => act(ev.currentTarget, 'EnableKey', { KeyId: id }, `Key ${k.aliases[0] ?? id} enabled.`),
        }),
      );
    if (k.rotation === false && k.Origin !== 'EXTERNAL')
      buttons.push(
        h('button', {
          type: 'button',
          class: 'secondary enable-rotation',
          text: 'Enable rotation',
          onclick: (ev) => act(ev.currentTarget, 'EnableKeyRotation', { KeyId: id }, 'Yearly rotation enabled.'),
        }),
      );
    if (k.rotation === true)
      buttons.push(
        h('button', {
          type: 'button',
          class: 'secondary disable-rotation',
          text: 'Disable rotation',
          onclick: (ev) => act(ev.currentTarget, 'DisableKeyRotation', { KeyId: id }, 'Rotation disabled.'),
        }),
      );
    if (st !== 'PendingDeletion') {
      buttons.push(
        h('button', {
          type: 'button',
          class: 'secondary add-alias',
          text: 'Add alias',
          onclick: () => {
            const input = h('input', { class: 'alias-input', placeholder: 'alias/name', 'aria-label': 'New alias' });
            const save = h('button', { type: 'submit', text: 'Save alias' });
            put(
              actions,
              h(
                'form',
                {
                  class: 'row',
                  onsubmit: (ev) => {
                    ev.preventDefault();
                    act(save, 'CreateAlias', { AliasName: aliasName(input.value.trim()), TargetKeyId: id }, 'Alias created.');
                  },
                },
                input,
                save,
                h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => put(actions, ...buttons) }),
              ),
            );
            input.focus();
          },
        }),
      );
      buttons.push(
        confirmButton(
          'Schedule deletion',
          'Delete in 30 days?',
          () =>
            act(
              null,
              'ScheduleKeyDeletion',
              { KeyId: id, PendingWindowInDays: 30 },
              'Deletion scheduled in 30 days; objects under this key stay unreadable until you cancel it.',
            ),
          { class: 'danger schedule-deletion' },
        ),
      );
    } else {
      buttons.push(
        h('button', {
          type: 'button',
          class: 'secondary cancel-deletion',
          text: 'Cancel deletion',
          onclick: (ev) =>
            act(
              ev.currentTarget,
              'CancelKeyDeletion',
              { KeyId: id },
              'Deletion cancelled; the key is disabled: enable it to use it again.',
            ),
        }),
      );
    }
    put(actions, ...buttons);
    return h(
      'tr',
      { 'data-key-id': id },
      h(
        'td',
        { class: 'name' },
        k.aliases.length ? k.aliases.map((a) => h('div', { text: a })) : h('span', { class: 'hint', text: '(none)' }),
      ),
      h('td', { class: 'mono', title: k.Description || '', text: id }),
      h('td', { class: 'state' }, stateBadge),
      h('td', { class: 'hide-narrow', text: k.Origin ?? '' }),
      h('td', { class: 'rotation', text: k.rotation === null ? '—' : k.rotation ? 'Yearly' : 'Off' }),
      h('td', { class: 'hide-narrow', text: fmtDate(k.CreationDate) }),
      actions,
    );
  }
  await fill();
}

// ---------------------------------------------------------------- Master key

/** @param {() => boolean} live whether this page is still the one to show */
async function masterPage(live) {
  const gw = gateway();
  const view = $('view');
  put(view, h('h1', { text: 'Master key' }), h('p', { class: 'hint', text: 'Loading…' }));
  const r = await gw.keyring();
  if (!live()) return;
  const versions = Object.entries(r.versions ?? {});
  const other = Object.entries(r.usage ?? {}).filter(([k]) => !k.startsWith('master:'));
  const otherRows = await Promise.all(
    other.map(async ([k, n]) => {
      const what = k.startsWith('kms:')
        ? `SSE-KMS ${(await keyLabel(k.slice(4))) || k.slice(4)}`
        : k === 'sse-c'
          ? 'SSE-C (customer keys)'
          : k === 'unencrypted'
            ? 'Not encrypted'
            : k;
      return h('tr', {}, h('td', { text: what }), h('td', { class: 'num', text: String(n) }));
    }),
  );
  put(
    view,
    h('h1', { text: 'Master key' }),
    h('p', {
      class: 'hint',
      text: 'SSE-COS objects have their data keys wrapped by a version of the gateway master key. New objects use the active version; the rotation job re-wraps older ones in batches.',
    }),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'master-versions' },
        h('thead', {}, h('tr', {}, h('th', { text: 'Version' }), h('th', { text: 'Status' }), h('th', { class: 'num', text: 'Objects' }))),
        h(
          'tbody',
          {},
          versions.map(([id, n]) =>
            h(
              'tr',
              { 'data-version': id },
              h('td', { class: 'mono', text: id }),
              h(
                'td',
                {},
                id === r.active
                  ? h('span', { class: 'badge good', text: 'Active' })
                  : h('span', { class: 'badge', text: n ? 'Older: awaiting rotation' : 'Older: retirable' }),
              ),
              h('td', { class: 'num', text: String(n) }),
            ),
          ),
        ),
      ),
    ),
    r.missingVersions?.length
      ? h('p', {
          class: 'error',
          text: `Objects refer to master key versions missing from the keyring: ${r.missingVersions.join(', ')}. They cannot be read until those versions are restored.`,
        })
      : null,
    otherRows.length
      ? [
          h('h2', { text: 'Other objects' }),
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'other-usage' },
              h('thead', {}, h('tr', {}, h('th', { text: 'Sealed with' }), h('th', { class: 'num', text: 'Objects' }))),
              h('tbody', {}, otherRows),
            ),
          ),
        ]
      : null,
  );
}

// ---------------------------------------------------------------- start

setupSignIn();
window.addEventListener('hashchange', route);
const saved = sessionStorage.getItem(STORE_KEY);
if (saved) {
  /** @type {Credentials | undefined} */
  let creds;
  try {
    creds = JSON.parse(saved);
  } catch {
    sessionStorage.removeItem(STORE_KEY);
  }
  if (creds)
    trySignIn(creds, true).catch(() => {
      sessionStorage.removeItem(STORE_KEY);
      return route();
    });
  else route();
} else route();
