// The same real clients against Tus.Server on the S3 store (--store s3) over the Ceph RGW of eng/services/ceph.sh:
// tus-js-client with sizes × chunk sizes (tails below the 5 MiB part minimum joined across PATCHes), parallel
// uploads (concatenation), a deferred length from a Node stream, an abort resumed, and termination. Every finished upload is read back twice, through the server's GET and straight from
// the bucket, and compared with the source. Each test reports SKIPPED when no S3 server is configured.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tus from 'tus-js-client';
import { MiB, head, idOf, runUpload, withLog } from './helpers.mjs';
import { startServer } from './server.mjs';
import { assertStoredInS3, ensureBucket, s3Object, s3ServerOptions, s3Skip } from './s3.mjs';

const prefix = `e2e-${randomUUID().slice(0, 8)}/`;
let server;

describe('Tus.Server on S3 (Ceph RGW)', () => {
  before(async () => {
    if (s3Skip) return;
    await ensureBucket();
    server = await startServer(s3ServerOptions(prefix));
  });

  after(async () => {
    if (s3Skip) return;
    const code = await server?.stop();
    assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
  });

  const sizes = [['0 bytes', 0], ['1 byte', 1], ['1 MiB - 7', MiB - 7], ['12 MiB + 13', 12 * MiB + 13]];
  const chunkSizes = [['chunkSize Infinity', Infinity], ['chunkSize 1 MiB', MiB], ['chunkSize 5 MiB', 5 * MiB], ['chunkSize 777777', 777_777]];
  for (const [sizeName, size] of sizes) {
    for (const [chunkName, chunkSize] of chunkSizes) {
      test(`${sizeName}, ${chunkName}: stored byte-exact in S3`, { skip: s3Skip, timeout: 120_000 }, async () => {
        const data = randomBytes(size);
        const { upload } = await runUpload(server, data, { chunkSize, metadata: { filename: `m-${size}-${chunkSize}.bin`, filetype: 'application/x-test' } });
        await assertStoredInS3(upload.url, data, prefix, 'application/x-test');
      });
    }
  }

  test('parallelUploads: 3 (concatenation with server-side copies and small partials)', { skip: s3Skip, timeout: 120_000 }, async () => {
    const data = randomBytes(17 * MiB + 5);
    const { upload } = await runUpload(server, data, { parallelUploads: 3, metadata: { filename: 'parallel.bin', filetype: 'application/octet-stream' } });
    await assertStoredInS3(upload.url, data, prefix, 'application/octet-stream');
  });

  test('deferred length from a Node stream, finished by a small last PATCH', { skip: s3Skip, timeout: 120_000 }, async () => {
    const data = randomBytes(11 * MiB + 5);
    const { upload } = await runUpload(server, Readable.from([data.subarray(0, 3 * MiB), data.subarray(3 * MiB)]), {
      uploadLengthDeferred: true,
      chunkSize: 5 * MiB,
      metadata: { filename: 'deferred.bin', filetype: 'application/octet-stream' },
    });
    await assertStoredInS3(upload.url, data, prefix, 'application/octet-stream');
  });

  test('an upload aborted mid-way resumes from its URL and finishes byte-exact', { skip: s3Skip, timeout: 120_000 }, async () => {
    const data = randomBytes(14 * MiB);
    const url = await new Promise((resolve, reject) => {
      let aborting = false;
      const upload = new tus.Upload(data, {
        endpoint: server.endpoint,
        chunkSize: 3 * MiB,
        retryDelays: null,
        metadata: { filename: 'resume.bin', filetype: 'application/octet-stream' },
        onChunkComplete: (chunk, accepted) => {
          if (!aborting && accepted >= 6 * MiB) {
            aborting = true;
            upload.abort().then(() => resolve(upload.url), reject);
          }
        },
        onError: (error) => reject(withLog(server, error)),
      });
      upload.start();
    });
    const paused = await head(url);
    assert.ok(paused.offset >= 6 * MiB && paused.offset < data.length, `offset after the abort: ${paused.offset}`);

    const { upload } = await runUpload(server, data, { uploadUrl: url, chunkSize: 3 * MiB });
    assert.equal(upload.url, url);
    await assertStoredInS3(url, data, prefix, 'application/octet-stream');
  });

  test('termination removes the upload and its objects', { skip: s3Skip, timeout: 60_000 }, async () => {
    const data = randomBytes(7 * MiB);
    const { upload } = await runUpload(server, data, { chunkSize: 2 * MiB, metadata: { filename: 'gone.bin' } });
    const deleted = await fetch(upload.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(deleted.status, 204);
    assert.equal((await head(upload.url)).status, 404);
    assert.equal((await s3Object(prefix + idOf(upload.url))).status, 404, 'the object is gone from the bucket');
  });
});
