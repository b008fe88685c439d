// The storage quota (Tus.Stores.Limited, --quota-bytes) as tus-js-client meets it: a refusal is 413
// ERR_QUOTA_EXCEEDED, which the client's own default rule (no onShouldRetry given) does not retry, so the user sees an
// error at once instead of an upload that retries forever; a deferred-length upload keeps exactly the bytes that fit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import tus from 'tus-js-client';
import { head, runUpload, sha256, sha256File, storedFile, within } from './helpers.mjs';
import { startServer } from './server.mjs';

const QUOTA = 64 * 1024;
let server;

before(async () => {
  server = await startServer(['--quota-bytes', String(QUOTA)]);
});

after(async () => {
  const code = await server?.stop();
  assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
});

/** Runs an upload expected to fail, with retries allowed and tus-js-client's default retry rule; resolves with the
 * error and every request the client made. */
function expectRefusal(data, options) {
  const requests = [];
  let upload;
  return within(30_000, new Promise((resolve, reject) => {
    upload = new tus.Upload(data, {
      endpoint: server.endpoint,
      retryDelays: [0, 0, 0], // a retry would show at once as more requests
      ...options,
      onBeforeRequest: (req) => { requests.push(req.getMethod()); },
      onError: (error) => resolve({ error, requests, url: upload.url }),
      onSuccess: () => reject(new Error('the upload succeeded although the quota should have refused it')),
    });
    upload.start();
  }), 'the upload to be refused');
}

/** Deletes an upload (termination), releasing its bytes. */
async function terminate(url) {
  const response = await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' }, signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 204);
}

test('an upload that does not fit in the quota is refused at creation with 413 ERR_QUOTA_EXCEEDED, shown as an error without a retry', { timeout: 60_000 }, async () => {
  const before = await readdir(server.uploadDir);

  const { error, requests } = await expectRefusal(randomBytes(QUOTA + 1), { chunkSize: 16 * 1024 });

  assert.ok(error instanceof tus.DetailedError, `a DetailedError: ${error}`);
  assert.equal(error.originalResponse?.getStatus(), 413, `${error}`);
  assert.match(error.originalResponse.getBody(), /ERR_QUOTA_EXCEEDED/);
  assert.deepEqual(requests, ['POST'], 'one request: the client did not retry');
  assert.deepEqual(await readdir(server.uploadDir), before, 'nothing was stored');
});

test('a deferred-length upload that outgrows the quota keeps exactly the bytes that fit, and its PATCH fails without a retry', { timeout: 60_000 }, async () => {
  const first = randomBytes(QUOTA - 10_000);
  const { upload: kept } = await runUpload(server, first, { chunkSize: 16 * 1024 });
  const data = randomBytes(30_000);

  const { error, requests, url } = await expectRefusal(Readable.from([data], { objectMode: false }), {
    uploadLengthDeferred: true,
    // Smaller than the data, so the first PATCH cannot declare the length yet: the upload grows into the quota.
    chunkSize: 16 * 1024,
  });

  assert.equal(error.originalResponse?.getStatus(), 413, `${error}`);
  assert.match(error.originalResponse.getBody(), /ERR_QUOTA_EXCEEDED/);
  assert.deepEqual(requests, ['POST', 'PATCH'], 'no retry');
  assert.equal(Number(error.originalResponse.getHeader('Upload-Offset')), 10_000, 'the 413 reports the bytes kept');
  assert.equal((await head(url)).offset, 10_000);
  assert.equal((await stat(storedFile(server, url))).size, 10_000, 'nothing was written past the quota');
  assert.ok((await readFile(storedFile(server, url))).equals(data.subarray(0, 10_000)), 'the bytes that fit are kept as sent');
  assert.equal(await sha256File(storedFile(server, kept.url)), sha256(first), 'the finished upload is untouched');

  // Terminating both gives the room back: a full-quota upload then goes through.
  await terminate(url);
  await terminate(kept.url);
  const full = randomBytes(QUOTA);
  const { upload } = await runUpload(server, full, { chunkSize: 16 * 1024 });
  assert.equal(await sha256File(storedFile(server, upload.url)), sha256(full));
  await terminate(upload.url);
});

test('a deferred-length upload whose last PATCH declares a length that does not fit is refused before a byte is written, without a retry', { timeout: 60_000 }, async () => {
  const first = randomBytes(QUOTA - 10_000);
  const { upload: kept } = await runUpload(server, first, { chunkSize: 16 * 1024 });
  const data = randomBytes(30_000);

  // The whole stream fits in one chunk, so the client declares Upload-Length with its only PATCH.
  const { error, requests, url } = await expectRefusal(Readable.from([data], { objectMode: false }), {
    uploadLengthDeferred: true,
    chunkSize: 64 * 1024,
  });

  assert.equal(error.originalResponse?.getStatus(), 413, `${error}`);
  assert.match(error.originalResponse.getBody(), /ERR_QUOTA_EXCEEDED/);
  assert.deepEqual(requests, ['POST', 'PATCH'], 'no retry');
  const state = await head(url);
  assert.equal(state.offset, 0);
  assert.equal(state.deferLength, '1', 'the length is still deferred');
  await terminate(url);
  await terminate(kept.url);
});
