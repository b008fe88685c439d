// Tus.Server on the S3 store (Ceph RGW of eng/services/ceph.sh) with the clients of the other e2e files: Uppy's
// Dashboard in headless Chromium (cross-origin, paused and resumed), and tus-js-client across a SIGKILL of the server
// mid-PATCH and its restart (the part files the dead process left are swept at start-up). Every finished upload is
// compared with its source through the server's GET and straight from the bucket. Each test reports SKIPPED with the
// reason when no S3 server is configured (or, for the browser, when Chromium is missing).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { MiB, head, runUpload, within } from './helpers.mjs';
import { startServer } from './server.mjs';
import { startStaticServer } from './static-server.mjs';
import { assertStoredInS3, ensureBucket, s3ServerOptions, s3Skip } from './s3.mjs';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserSkip = s3Skip || (existsSync(chromiumPath)
  ? false
  : `Chromium not found at ${chromiumPath}: install it with "bash eng/install-chromium.sh" (root, apt-get) or set CHROMIUM_PATH`);
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

const prefix = `e2e-clients-${randomUUID().slice(0, 8)}/`;

/** The part files of the S3 store under a TMPDIR, with the process id in their names (tus-s3-{pid}-{guid}.part). */
async function partFiles(tmpDir) {
  const dir = path.join(tmpDir, 'tus-s3-parts');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((name) => name.startsWith('tus-s3-') && name.endsWith('.part'));
}

describe('Tus.Server on S3 with Uppy and across a crash', () => {
  test('Uppy Dashboard in Chromium: a 12 MiB file paused and resumed mid-way is stored byte-exact in the bucket', { skip: browserSkip, timeout: 180_000 }, async (t) => {
    await ensureBucket();
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-s3-browser-'));
    t.after(() => rm(tmp, { recursive: true, force: true }));
    const site = await startStaticServer();
    t.after(() => site.close());
    const options = s3ServerOptions(prefix, ['--cors-origins', site.origin]);
    const server = await startServer(options);
    t.after(async () => {
      const code = await server.stop();
      assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server.log()}`);
    });
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    t.after(() => browser.close());

    const size = 12 * MiB + 5;
    const chunkSize = 2 * MiB; // below the 5 MiB part minimum: every PATCH's tail is joined with the next one's bytes
    const data = randomBytes(size);
    const file = path.join(tmp, 'uppy-s3.bin');
    await writeFile(file, data);
    const context = await browser.newContext({ viewport: { width: 800, height: 520 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${site.origin}/?${new URLSearchParams({ endpoint: server.endpoint, chunkSize: String(chunkSize), retryDelays: '0,1000,3000' })}`);
    await page.waitForFunction(() => window.uppy && window.e2e);

    // Chromium's own throttling makes the upload take a few seconds, so the pause lands mid-way.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 3 * MiB });
    const patches = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH' && request.url().startsWith(server.endpoint)) patches.push(Number(request.headers()['upload-offset']));
    });

    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'browse files' }).click();
    await (await chooser).setFiles(file);
    await page.getByRole('button', { name: /^Upload 1 file/ }).click();
    await page.waitForFunction((bytes) => (window.e2e.bytesUploaded ?? 0) >= bytes, 3 * MiB, { timeout: 60_000 });
    await page.getByRole('button', { name: 'Pause upload' }).first().click();
    await page.getByText('Upload paused').first().waitFor();
    const uploadUrl = await page.evaluate(() => window.uppy.getFiles()[0].tus?.uploadUrl);
    assert.ok(uploadUrl?.startsWith(server.endpoint), `the upload URL is known: ${uploadUrl}`);
    // The PATCH in flight when the pause came is cut off; the server keeps what arrived of it.
    const patchesAtPause = patches.length;
    const paused = await head(uploadUrl);
    assert.ok(paused.offset >= chunkSize && paused.offset < size, `the server holds part of the file while paused (offset ${paused.offset})`);

    await page.getByRole('button', { name: 'Resume upload' }).first().click();
    await page.waitForFunction(() => window.e2e.complete !== null, null, { timeout: 120_000 });
    const result = await page.evaluate(() => window.e2e.complete);
    assert.deepEqual(result.failed, [], 'no failed upload');
    assert.equal(result.successful.length, 1);
    assert.equal(result.successful[0].url, uploadUrl, 'the paused upload was finished, not started again');
    // Uppy may ask the server for the offset again; either way its first PATCH after resuming starts where S3 stands.
    assert.ok(patches.length > patchesAtPause, 'PATCHes were sent after resuming');
    assert.ok(patches[patchesAtPause] >= paused.offset, `the first PATCH after resuming (${patches[patchesAtPause]}) starts at or after the server's offset at the pause (${paused.offset})`);
    t.diagnostic(`paused with ${paused.offset} bytes in S3; PATCH offsets ${patches.join(', ')}`);
    await assertStoredInS3(uploadUrl, data, prefix);
    assert.deepEqual(problems, [], 'no page errors');
    await context.close();
  });

  test('tus-js-client: the server killed (SIGKILL) mid-PATCH and restarted loses no acknowledged byte, and its part files are swept', { skip: s3Skip, timeout: 180_000 }, async (t) => {
    await ensureBucket();
    // A TMPDIR of its own, so the part files the killed process leaves can be seen and their sweep checked.
    const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-s3-crash-'));
    t.after(() => rm(tmpDir, { recursive: true, force: true }));
    const options = s3ServerOptions(prefix);
    const start = (port = 0) => startServer({ ...options, port, env: { ...options.env, TMPDIR: tmpDir } });
    let current = await start();
    t.after(() => current.stop());
    const first = current;
    const size = 24 * MiB + 77;
    const chunkSize = 6 * MiB; // one 5 MiB part and a 1 MiB tail per PATCH
    const data = randomBytes(size);

    let acknowledged = 0;
    let killedAt = null;
    let leftByTheDead = [];
    let restarting = null;
    const retried = [];
    const { upload, requests } = await within(150_000, runUpload(current, data, {
      chunkSize,
      retryDelays: [0, 250, 500, 1000, 2000],
      onChunkComplete: (chunk, accepted) => {
        if (killedAt === null) acknowledged = accepted;
      },
      onProgress: (sent) => {
        // At the first progress report inside the third PATCH's body: the server is reading and buffering it.
        if (killedAt === null && acknowledged >= 2 * chunkSize && sent > acknowledged) {
          killedAt = sent;
          restarting = (async () => {
            const { signal } = await first.kill();
            assert.equal(signal, 'SIGKILL');
            leftByTheDead = (await partFiles(tmpDir)).filter((name) => name.startsWith(`tus-s3-${first.pid}-`));
            current = await start(first.port);
          })();
        }
      },
      onBeforeRequest: () => restarting,
      onShouldRetry: (error, attempt) => {
        retried.push({ attempt, status: error.originalResponse?.getStatus() ?? 0, request: error.originalRequest?.getMethod() });
        return true;
      },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD') req._offsetSeen = Number(res.getHeader('Upload-Offset'));
      },
    }), 'the upload across the restart');

    await restarting;
    assert.ok(killedAt !== null, 'the server was killed mid-upload');
    assert.notEqual(current, first, 'a new server process answered');
    assert.ok(retried.some((r) => r.request === 'PATCH'), `the interrupted PATCH failed and was retried: ${JSON.stringify(retried)}`);
    const heads = requests.filter((r) => r.method === 'HEAD');
    assert.ok(heads.length >= 1, 'the client asked the restarted server for the offset');
    const resumedFrom = heads[0].req._offsetSeen;
    t.diagnostic(`killed with ${killedAt} bytes sent, ${acknowledged} acknowledged; restarted server had ${resumedFrom}; ` +
      `part files left by the dead process: ${leftByTheDead.length}; retries ${JSON.stringify(retried)}`);
    assert.ok(resumedFrom >= acknowledged && acknowledged > 0,
      `the restarted server kept every acknowledged byte (resumed at ${resumedFrom}, ${acknowledged} acknowledged before the kill)`);
    assert.ok(resumedFrom < size, 'the upload was not finished when the server died');
    await assertStoredInS3(upload.url, data, prefix);
    assert.ok(leftByTheDead.length > 0, 'the killed process left part files (nothing deletes them at a SIGKILL)');
    const stillThere = (await partFiles(tmpDir)).filter((name) => name.startsWith(`tus-s3-${first.pid}-`));
    assert.deepEqual(stillThere, [], 'the restarted server swept the part files of the dead process');
  });
});
