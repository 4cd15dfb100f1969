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

require('s3rver/bin/s3rver.js');
