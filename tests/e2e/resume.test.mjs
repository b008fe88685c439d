// tus-js-client resuming against the real Tus.Server: after an abort (from the URL, and from the client's URL
// storage), after the server process is killed mid-upload and restarted, and termination of unfinished uploads.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tus from 'tus-js-client';
import { MiB, head, idOf, runUpload, sha256, sha256File, storedFile, within, withLog } from './helpers.mjs';
import { startServer } from './server.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  const code = await server?.stop();
  assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
});

/**
 * Starts an upload and aborts it from within a callback once shouldAbort(sent, total) says so; resolves with the
 * upload URL once the abort is done. terminate is passed to abort().
 */
function startAndAbort(data, options, shouldAbort, terminate = false) {
  return new Promise((resolve, reject) => {
    let aborting = false;
    const upload = new tus.Upload(data, {
      endpoint: server.endpoint,
      retryDelays: null,
      ...options,
      onChunkComplete: (chunk, accepted, total) => {
        if (!aborting && shouldAbort(accepted, total)) {
          aborting = true;
          upload.abort(terminate).then(() => resolve(upload.url), reject);
        }
      },
      onError: (error) => reject(withLog(server, error)),
      onSuccess: () => reject(new Error('the upload finished before it could be aborted')),
    });
    upload.start();
  });
}

/** Notes on a HEAD request the Upload-Offset the server answered, for the assertions. */
const recordHeadOffset = (req, res) => {
  if (req.getMethod() === 'HEAD') req._offsetSeen = Number(res.getHeader('Upload-Offset'));
};

test('an upload aborted at about 40% resumes from its URL and finishes byte-exact', { timeout: 60_000 }, async () => {
  const size = 20 * MiB;
  const data = randomBytes(size);

  const url = await startAndAbort(data, { chunkSize: 2 * MiB, metadata: { filename: 'resumed.bin' } }, (accepted) => accepted >= 0.4 * size);

  const before = await head(url);
  assert.equal(before.status, 200);
  assert.ok(before.offset >= 0.4 * size && before.offset < size, `the server kept the acknowledged part (offset ${before.offset} of ${size})`);

  // A new tus.Upload told the URL asks the server where it stands and goes on from there.
  const { requests } = await runUpload(server, data, { uploadUrl: url, chunkSize: 2 * MiB });

  assert.equal(requests.filter((r) => r.method === 'POST').length, 0, 'no new upload was created');
  const firstPatch = requests.find((r) => r.method === 'PATCH');
  assert.equal(Number(firstPatch.headers['Upload-Offset']), before.offset, 'the first PATCH starts at the stored offset');
  assert.equal((await head(url)).offset, size);
  assert.equal(await sha256File(storedFile(server, url)), sha256(data));
});

test('an aborted upload found again through the client URL storage (findPreviousUploads) resumes', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-urls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const urlStorage = new tus.FileUrlStorage(path.join(dir, 'urls.json'));
  const size = 8 * MiB + 3;
  const data = randomBytes(size);
  const options = { chunkSize: MiB, urlStorage, storeFingerprintForResuming: true, removeFingerprintOnSuccess: true };

  const url = await startAndAbort(data, options, (accepted) => accepted >= 3 * MiB);

  // A second client, as after a restart of the program: it knows only the file and the storage.
  const upload = new tus.Upload(data, { endpoint: server.endpoint, ...options });
  const previous = await upload.findPreviousUploads();
  assert.equal(previous.length, 1, 'the storage remembers the unfinished upload');
  assert.equal(previous[0].uploadUrl, url);
  upload.resumeFromPreviousUpload(previous[0]);
  const requests = [];
  await within(30_000, new Promise((resolve, reject) => {
    Object.assign(upload.options, {
      retryDelays: null,
      onBeforeRequest: (req) => { requests.push({ method: req.getMethod(), offset: req.getHeader('Upload-Offset') }); },
      onError: (error) => reject(withLog(server, error)),
      onSuccess: resolve,
    });
    upload.start();
  }), 'the resumed upload');

  assert.equal(upload.url, url, 'the same upload was finished');
  assert.equal(requests[0].method, 'HEAD', 'the client asked the server for the offset first');
  assert.ok(Number(requests.find((r) => r.method === 'PATCH').offset) >= 3 * MiB, 'and went on from there');
  assert.equal(await sha256File(storedFile(server, url)), sha256(data));
  assert.deepEqual(await upload.findPreviousUploads(), [], 'removeFingerprintOnSuccess cleared the storage');
});

test('an upload survives the server being killed (SIGKILL) mid-upload and restarted on the same port and directory', { timeout: 120_000 }, async (t) => {
  const uploadDir = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-crash-'));
  t.after(() => rm(uploadDir, { recursive: true, force: true }));
  let current = await startServer({ uploadDir });
  t.after(() => current.stop());
  const first = current;
  const size = 16 * MiB + 77;
  const chunkSize = 4 * MiB;
  const data = randomBytes(size);

  // tus-js-client reports progress at the start of each PATCH body (then at most every 100 ms) and once the chunk
  // is acknowledged. The kill comes at the first report inside the third chunk's body: the server is reading it.
  let acknowledged = 0; // bytes the server confirmed before it was killed
  let killedAt = null;
  let restarting = null; // resolves once the new process serves requests
  const retried = [];
  const { upload, requests } = await within(90_000, runUpload(current, data, {
    chunkSize,
    retryDelays: [0, 250, 500, 1000],
    onChunkComplete: (chunk, accepted) => {
      if (killedAt === null) acknowledged = accepted;
    },
    onProgress: (sent) => {
      if (killedAt === null && acknowledged >= 2 * chunkSize && sent > acknowledged) {
        killedAt = sent;
        restarting = (async () => {
          const { signal } = await first.kill(); // sends the signal at once, then waits for the exit
          assert.equal(signal, 'SIGKILL');
          current = await startServer({ uploadDir, port: first.port });
        })();
      }
    },
    // Requests sent while the server is down wait for its restart (an event, not a sleep).
    onBeforeRequest: () => restarting,
    onShouldRetry: (error, attempt) => {
      retried.push({ attempt, status: error.originalResponse?.getStatus() ?? 0, request: error.originalRequest?.getMethod() });
      return true;
    },
    onAfterResponse: recordHeadOffset,
  }), 'the upload across the restart');

  await restarting;
  assert.ok(killedAt !== null, 'the server was killed mid-upload');
  assert.notEqual(current, first, 'a new server process answered');
  assert.equal(new URL(upload.url).port, String(first.port));
  assert.ok(retried.some((r) => r.request === 'PATCH'), `the interrupted PATCH failed and was retried: ${JSON.stringify(retried)}`);
  const heads = requests.filter((r) => r.method === 'HEAD');
  assert.ok(heads.length >= 1, 'the client asked the restarted server for the offset');
  const resumedFrom = heads[0].req._offsetSeen;
  t.diagnostic(`killed with ${killedAt} bytes sent, ${acknowledged} acknowledged; the restarted server had ${resumedFrom}; retries ${JSON.stringify(retried)}`);
  assert.ok(resumedFrom >= acknowledged && acknowledged > 0,
    `the restarted server kept every acknowledged byte (resumed at ${resumedFrom}, ${acknowledged} acknowledged before the kill)`);
  assert.ok(resumedFrom < size, 'the upload was not finished when the server died');
  assert.equal((await head(upload.url)).offset, size);
  assert.equal(await sha256File(path.join(uploadDir, idOf(upload.url))), sha256(data), 'stored SHA-256 after the restart');
});

test('upload.abort(true) terminates the upload: HEAD answers 404 and no file is left', { timeout: 60_000 }, async () => {
  const data = randomBytes(4 * MiB);

  const url = await startAndAbort(data, { chunkSize: MiB }, () => true, true);

  assert.equal((await head(url)).status, 404);
  const left = (await readdir(server.uploadDir)).filter((name) => name.startsWith(idOf(url)));
  assert.deepEqual(left, [], 'no file of the upload is left');
});

test('tus.Upload.terminate(url) removes an unfinished upload: HEAD answers 404 and no file is left', { timeout: 60_000 }, async () => {
  const data = randomBytes(4 * MiB);
  const url = await startAndAbort(data, { chunkSize: MiB }, () => true);
  assert.ok(existsSync(storedFile(server, url)), 'the unfinished upload is stored');
  assert.equal((await head(url)).status, 200);

  await tus.Upload.terminate(url, { retryDelays: null });

  assert.equal((await head(url)).status, 404);
  const left = (await readdir(server.uploadDir)).filter((name) => name.startsWith(idOf(url)));
  assert.deepEqual(left, [], 'no file of the upload is left');
});
