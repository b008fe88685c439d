// End to end: the reference tus client (tus-js-client) against the real Tus.Server process.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tus from 'tus-js-client';
import { startServer } from './server.mjs';

const MiB = 1024 * 1024;
let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  const code = await server?.stop();
  assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
});

/** The server's recent log lines (its configuration lines left out), to explain a failure. */
const serverLog = () => server.log().split('\n').filter((line) => !line.includes(' Setting ')).slice(-40).join('\n');
const withLog = (reject) => (error) => reject(new Error(`${error.message}\n--- Tus.Server log ---\n${serverLog()}`));

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const idOf = (url) => new URL(url).pathname.split('/').pop();
const storedFile = (url) => path.join(server.uploadDir, idOf(url));

/** Runs one tus.Upload to its end; resolves with the upload once onSuccess fires. */
function runUpload(data, options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      retryDelays: [0, 500, 1000],
      ...options,
      onError: withLog(reject),
      onSuccess: () => resolve(upload),
    });
    upload.start();
  });
}

async function headOffset(url) {
  const response = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  return { status: response.status, offset: Number(response.headers.get('upload-offset')) };
}

test('a full upload in 1 MiB chunks stores the exact bytes', async () => {
  const data = randomBytes(3 * MiB + 12345);

  const upload = await runUpload(data, {
    endpoint: server.endpoint,
    chunkSize: MiB,
    metadata: { filename: 'whole.bin', filetype: 'application/octet-stream' },
  });

  assert.match(upload.url, /^http:\/\/127\.0\.0\.1:\d+\/files\/[^/]+$/);
  assert.equal(sha256(await readFile(storedFile(upload.url))), sha256(data));
  const info = JSON.parse(await readFile(`${storedFile(upload.url)}.info`, 'utf8'));
  assert.ok(JSON.stringify(info).includes('whole.bin') || JSON.stringify(info).includes(Buffer.from('whole.bin').toString('base64')),
    'the metadata is stored with the upload');
});

test('an upload aborted at about 40% resumes from the stored URL and finishes byte-exact', async () => {
  const size = 20 * MiB;
  const chunkSize = 5 * MiB;
  const data = randomBytes(size);

  // First attempt: abort once about 40% has been sent.
  const url = await new Promise((resolve, reject) => {
    let aborting = false;
    const upload = new tus.Upload(data, {
      endpoint: server.endpoint,
      chunkSize,
      retryDelays: null,
      metadata: { filename: 'resumed.bin' },
      onProgress: (sent) => {
        if (!aborting && sent >= 0.4 * size) {
          aborting = true;
          upload.abort().then(() => resolve(upload.url), reject);
        }
      },
      onError: withLog(reject),
      onSuccess: () => reject(new Error('the upload finished before it could be aborted')),
    });
    upload.start();
  });

  assert.ok(url, 'the upload URL is known after the abort');
  const before = await headOffset(url);
  assert.equal(before.status, 200);
  assert.ok(before.offset > 0 && before.offset < size, `the server kept part of the upload (offset ${before.offset} of ${size})`);

  // Second attempt: a new tus.Upload told the URL resumes where the server stands.
  let resumedFrom = null;
  await runUpload(data, {
    uploadUrl: url,
    chunkSize,
    onChunkComplete: (chunk, accepted) => {
      resumedFrom ??= accepted - chunk;
    },
  });

  assert.ok(resumedFrom >= before.offset && resumedFrom > 0, `resumed at ${resumedFrom}, not from the start`);
  assert.equal((await headOffset(url)).offset, size);
  assert.equal(sha256(await readFile(storedFile(url))), sha256(data));
});

test('terminating an unfinished upload removes it', async () => {
  const data = randomBytes(4 * MiB);
  const url = await new Promise((resolve, reject) => {
    let aborting = false;
    const upload = new tus.Upload(data, {
      endpoint: server.endpoint,
      chunkSize: MiB,
      retryDelays: null,
      onChunkComplete: () => {
        if (!aborting) {
          aborting = true;
          upload.abort().then(() => resolve(upload.url), reject);
        }
      },
      onError: withLog(reject),
      onSuccess: () => reject(new Error('the upload finished before it could be aborted')),
    });
    upload.start();
  });
  assert.ok(existsSync(storedFile(url)), 'the unfinished upload is stored');

  await tus.Upload.terminate(url, { retryDelays: null });

  assert.equal((await headOffset(url)).status, 404);
  const left = (await readdir(server.uploadDir)).filter((name) => name.startsWith(idOf(url)));
  assert.deepEqual(left, [], 'no file of the upload is left');
});
