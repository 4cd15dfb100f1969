// s3rver 3.7.1, run as the e2e upstream, with its listing fixed to behave as S3's:
// - its filesystem store lists in directory-walk order ("list-other" after "list/x"),
//   where S3 lists in UTF-8 byte order;
// - it stops walking at the first delimiter below the prefix, so a common prefix
//   whose objects all sit two or more levels deeper ("ls/e/" for "ls/e/x/y") is
//   never reported.
// Here every listing walks the prefix flat, sorts, and then applies start-after,
// the delimiter and max-keys itself.
// - CompleteMultipartUpload stitches whatever each part number holds now, whatever ETag
//   the request names; S3 (and COS) refuse a part whose ETag is not the one named
//   (InvalidPart). A part re-uploaded while a Complete is under way would otherwise
//   make s3rver store bytes the Complete never named.
// - CopyObject and CompleteMultipartUpload ignore S3's conditional-write headers on their
//   destination (If-None-Match: *, If-Match: <etag>; S3 answers 412 PreconditionFailed, or
//   404 NoSuchKey for If-Match without an object). Here they are honoured, the check and the
//   write of one key serialised, so the gateway's proxy layout meets an upstream that has them.
'use strict';
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const { join } = require('node:path');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const S3Error = require('s3rver/lib/models/error');

const listObjects = FilesystemStore.prototype.listObjects;
const byBytes = (a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

FilesystemStore.prototype.listObjects = async function (bucket, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const all = await listObjects.call(this, bucket, { prefix, delimiter: '', startAfter: '', maxKeys: Infinity });
  const after = Buffer.from(startAfter);
  const commonPrefixes = new Set();
  const objects = [];
  let isTruncated = false;
  for (const o of all.objects.sort(byBytes)) {
    if (startAfter && Buffer.compare(Buffer.from(o.key), after) <= 0) continue;
    const i = delimiter ? o.key.slice(prefix.length).indexOf(delimiter) : -1;
    if (i !== -1) {
      commonPrefixes.add(o.key.slice(0, prefix.length + i + delimiter.length));
    } else if (objects.length < maxKeys) {
      objects.push(o);
    } else {
      isTruncated = true;
      break;
    }
  }
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

const putObjectMultipart = FilesystemStore.prototype.putObjectMultipart;
const md5Of = (file) =>
  new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });

FilesystemStore.prototype.putObjectMultipart = async function (bucket, uploadId, parts) {
  const dir = join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  for (const part of parts) {
    const actual = await md5Of(join(dir, String(part.number))).catch(() => undefined);
    if (actual !== part.etag) {
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        {
          PartNumber: part.number,
          ETag: part.etag,
        },
      );
    }
  }
  return putObjectMultipart.call(this, bucket, uploadId, parts);
};

const objectCtrl = require('s3rver/lib/controllers/object');
const writing = new Map();

/** Runs `write` after every earlier conditional write of the same key has settled. */
async function serialised(id, write) {
  const before = writing.get(id) ?? Promise.resolve();
  const mine = before.then(write, write);
  const settled = mine.catch(() => {});
  writing.set(id, settled);
  try {
    return await mine;
  } finally {
    if (writing.get(id) === settled) writing.delete(id);
  }
}

async function checkDestination(ctx) {
  const ifNoneMatch = ctx.headers['if-none-match'];
  const ifMatch = ctx.headers['if-match'];
  if (ifNoneMatch === undefined && ifMatch === undefined) return;
  const { bucket, key } = ctx.params;
  const exists = await ctx.store.existsObject(bucket, key);
  const failed = () =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: ifNoneMatch !== undefined ? 'If-None-Match' : 'If-Match',
    });
  if (ifNoneMatch !== undefined && exists) throw failed();
  if (ifMatch === undefined) return;
  if (!exists) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  const etag = String((await ctx.store.getMetadata(bucket, key)).etag ?? '').replace(/"/g, '');
  if (ifMatch.replace(/"/g, '') !== etag) throw failed();
}

for (const name of ['putObjectCopy', 'completeMultipartUpload']) {
  const original = objectCtrl[name];
  objectCtrl[name] = (ctx) =>
    serialised(`${ctx.params.bucket}/${ctx.params.key}`, async () => {
      await checkDestination(ctx);
      return original(ctx);
    });
}

require('s3rver/bin/s3rver.js');
