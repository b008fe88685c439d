// How tus-js-client meets the real Tus.Server's errors: a 4xx surfaces as a client error at once (no retry); a 5xx
// is retried after the configured delay, and the upload then finishes byte-exact.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import tus from 'tus-js-client';
import { head, runUpload, sha256, sha256File, startProxy, storedFile, within } from './helpers.mjs';
import { startServer } from './server.mjs';

const MAX_SIZE = 64 * 1024;
let server;

before(async () => {
  server = await startServer(['--max-size', String(MAX_SIZE)]);
});

after(async () => {
  const code = await server?.stop();
  assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
});

/** Runs an upload expected to fail; resolves with { error, requests, retries }. */
function expectFailure(data, options) {
  const requests = [];
  const retries = [];
  return within(30_000, new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint: server.endpoint,
      retryDelays: [0, 0, 0], // retries are allowed: the client itself must decide not to retry
      ...options,
      onBeforeRequest: (req) => { requests.push(req.getMethod()); },
      onShouldRetry: (error, attempt, opts) => {
        // tus-js-client's own rule (not 4xx, except 409 and 423), recorded.
        const status = error.originalResponse?.getStatus() ?? 0;
        const retry = !(status >= 400 && status < 500) || status === 409 || status === 423;
        retries.push({ attempt, status, retry });
        return retry;
      },
      onError: (error) => resolve({ error, requests, retries }),
      onSuccess: () => reject(new Error('the upload succeeded although it should have been refused')),
    });
    upload.start();
  }), 'the upload to fail');
}

test('an upload larger than --max-size fails at once with 413 ERR_MAX_SIZE_EXCEEDED, without a retry', { timeout: 60_000 }, async () => {
  const before = await readdir(server.uploadDir);

  const { error, requests, retries } = await expectFailure(randomBytes(MAX_SIZE + 1), { chunkSize: 16 * 1024 });

  assert.ok(error instanceof tus.DetailedError, `a DetailedError: ${error}`);
  assert.equal(error.originalResponse?.getStatus(), 413, `${error}`);
  assert.match(error.originalResponse.getBody(), /ERR_MAX_SIZE_EXCEEDED/);
  assert.deepEqual(requests, ['POST'], 'one request, no retry');
  assert.deepEqual(retries, [{ attempt: 0, status: 413, retry: false }]);
  assert.deepEqual(await readdir(server.uploadDir), before, 'nothing was stored');
});

test('an upload of exactly --max-size bytes is accepted; OPTIONS announces the limit', { timeout: 60_000 }, async () => {
  const options = await fetch(server.endpoint, { method: 'OPTIONS', signal: AbortSignal.timeout(10_000) });
  assert.equal(options.headers.get('tus-max-size'), String(MAX_SIZE));
  const data = randomBytes(MAX_SIZE);
  const { upload } = await runUpload(server, data, { chunkSize: 10_000 });
  assert.equal(await sha256File(storedFile(server, upload.url)), sha256(data));
});

test('a deferred-length upload that outgrows --max-size fails with a 413 on its PATCH, without a retry', { timeout: 60_000 }, async () => {
  const data = randomBytes(MAX_SIZE + 10);

  const { error, requests, retries } = await expectFailure(Readable.from([data], { objectMode: false }), {
    uploadLengthDeferred: true,
    chunkSize: MAX_SIZE * 2,
  });

  assert.equal(error.originalResponse?.getStatus(), 413, `${error}`);
  assert.deepEqual(requests, ['POST', 'PATCH'], 'no retry');
  assert.deepEqual(retries, [{ attempt: 0, status: 413, retry: false }]);
});

test('a 500 answered to the first PATCH is retried after retryDelays[0], and the upload finishes byte-exact', { timeout: 60_000 }, async (t) => {
  let patches = 0;
  const proxy = await startProxy(server.endpoint, (req) => (req.method === 'PATCH' && patches++ === 0 ? { status: 500 } : undefined));
  t.after(() => proxy.close());
  const data = randomBytes(MAX_SIZE - 1000);
  const delay = 400;
  const retries = [];

  const { upload } = await runUpload(server, data, {
    endpoint: proxy.endpoint,
    chunkSize: 16 * 1024,
    retryDelays: [delay, 5_000],
    onShouldRetry: (error, attempt) => {
      retries.push({ attempt, status: error.originalResponse?.getStatus() });
      return true;
    },
  });

  assert.deepEqual(retries, [{ attempt: 0, status: 500 }], 'one retry, after the 500');
  const log = proxy.log.map((e) => `${e.method} ${e.status}`);
  assert.deepEqual(log.slice(0, 4), ['POST 201', 'PATCH 500', 'HEAD 200', 'PATCH 204'],
    'the client asked for the offset again and went on');
  const failed = proxy.log[1];
  const next = proxy.log[2];
  assert.ok(next.at - failed.answeredAt >= delay - 5, `the retry waited retryDelays[0] (${next.at - failed.answeredAt} ms)`);
  assert.ok(next.at - failed.answeredAt < 5_000, 'and not the second delay');
  assert.equal(proxy.log.filter((e) => e.status === 500).length, 1);
  assert.equal(await sha256File(storedFile(server, upload.url)), sha256(data));
  assert.equal((await head(upload.url)).offset, data.length);
});

test('a 502 after the server took a PATCH is retried, and the client resumes from the offset the server reports', { timeout: 60_000 }, async (t) => {
  let patches = 0;
  // The second PATCH reaches the server (which stores its bytes), but the client is told 502.
  const proxy = await startProxy(server.endpoint, (req) => (req.method === 'PATCH' && patches++ === 1 ? { forwardThen: 502 } : undefined));
  t.after(() => proxy.close());
  const chunkSize = 8 * 1024;
  const data = randomBytes(4 * chunkSize + 5);

  const { upload, requests } = await runUpload(server, data, { endpoint: proxy.endpoint, chunkSize, retryDelays: [0, 100] });

  const swallowed = proxy.log.find((e) => e.status === 502);
  assert.equal(swallowed.upstreamStatus, 204, 'the server took the PATCH that the client saw fail');
  const afterRetry = requests.slice(requests.findIndex((r) => r.status === 502) + 1);
  assert.equal(afterRetry[0].method, 'HEAD');
  assert.equal(afterRetry[1].method, 'PATCH');
  assert.equal(Number(afterRetry[1].headers['Upload-Offset']), 2 * chunkSize, 'the retry did not send the stored chunk again');
  assert.equal(await sha256File(storedFile(server, upload.url)), sha256(data));
});
