// A real browser: Uppy's Dashboard with its Tus plugin, in Debian's Chromium driven headless by playwright-core,
// on a page served from another origin than Tus.Server, so CORS is exercised for real. The upload is paused from the
// Dashboard mid-way, resumed, and the stored bytes are compared with the file; a screenshot of the finished
// Dashboard is saved as a test artifact.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { MiB, head, idOf, sha256, sha256File } from './helpers.mjs';
import { startServer } from './server.mjs';
import { startStaticServer } from './static-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = process.env.TUS_E2E_ARTIFACTS ?? path.resolve(here, '../../artifacts/test-results');
// Each test reports SKIPPED with this reason (never a pass) when the machine has no Chromium. (A skipped describe()
// would hide its tests from the runner's counts, so the tests themselves carry the skip.)
const skip = existsSync(chromiumPath)
  ? false
  : `Chromium not found at ${chromiumPath}: install it with "bash eng/install-chromium.sh" (root, apt-get) or set CHROMIUM_PATH`;

// The flags the machine's Chromium needs here: no sandbox as root, no GPU, and no background traffic to the
// outside. playwright-core gives each launch a new, empty --user-data-dir of its own and downloads nothing.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

const FILE_SIZE = 8 * MiB;
const CHUNK_SIZE = MiB;
// Chromium's own network throttling (DevTools protocol) slows the upload to about 4 s, so the pause lands mid-way.
const UPLOAD_BYTES_PER_SECOND = 2 * MiB;
const PAUSE_AFTER = 1.5 * MiB; // bytes uploaded, in the middle of the second chunk

let page;       // the page on the allowed origin
let allowed;    // its static server
let disallowed; // the same page on an origin Tus.Server does not allow
let server;
let browser;
let tmp;

describe('Uppy Dashboard + Tus in headless Chromium', () => {
  before(async () => {
    if (skip) return;
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-browser-'));
    allowed = await startStaticServer();
    disallowed = await startStaticServer();
    server = await startServer({
      args: ['--cors-origins', allowed.origin],
      // ASP.NET Core's request log shows the browser's CORS preflights reaching the server.
      env: { 'Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics': 'Information' },
    });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  });

  after(async () => {
    if (skip) return;
    await browser?.close();
    await allowed?.close();
    await disallowed?.close();
    const code = await server?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
  });

  const pageUrl = (origin, query) => `${origin}/?${new URLSearchParams({ endpoint: server.endpoint, ...query })}`;

  async function openPage(origin, query) {
    const context = await browser.newContext({ viewport: { width: 800, height: 520 } });
    const newPage = await context.newPage();
    newPage.setDefaultTimeout(30_000);
    const problems = [];
    newPage.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    newPage.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await newPage.goto(pageUrl(origin, query));
    await newPage.waitForFunction(() => window.uppy && window.e2e);
    return { page: newPage, context, problems };
  }

  /** Adds a file through the Dashboard's "browse files" button and its file chooser, as a person would. */
  async function addFile(target, file) {
    const chooser = target.waitForEvent('filechooser');
    await target.getByRole('button', { name: 'browse files' }).click();
    await (await chooser).setFiles(file);
  }

  const progress = (target) => target.evaluate(() => ({ uploaded: window.e2e.bytesUploaded ?? 0, total: window.e2e.bytesTotal ?? 0 }));

  test('an 8 MiB file uploads from the Dashboard, is paused mid-way and resumed, and is stored byte-exact', { skip, timeout: 180_000 }, async (t) => {
    const data = randomBytes(FILE_SIZE);
    const file = path.join(tmp, 'uppy-e2e-8MiB.bin');
    await writeFile(file, data);
    const opened = await openPage(allowed.origin, { chunkSize: String(CHUNK_SIZE), retryDelays: '0,1000,3000' });
    page = opened.page;
    t.after(() => opened.context.close());

    // Throttle the page's uploads in the browser itself; the requests still go straight to Tus.Server.
    const cdp = await opened.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: UPLOAD_BYTES_PER_SECOND,
    });
    const patches = []; // Upload-Offset of every PATCH the page sends
    page.on('request', (request) => {
      if (request.method() === 'PATCH' && request.url().startsWith(server.endpoint)) patches.push(Number(request.headers()['upload-offset']));
    });

    await addFile(page, file);
    await page.getByRole('button', { name: /^Upload 1 file/ }).click();

    // Pause from the Dashboard's status bar once part of the file is on its way.
    await page.waitForFunction((bytes) => (window.e2e.bytesUploaded ?? 0) >= bytes, PAUSE_AFTER, { timeout: 60_000 });
    await page.getByRole('button', { name: 'Pause upload' }).first().click();
    await page.getByText('Upload paused').first().waitFor();
    const atPause = await progress(page);
    const patchesAtPause = patches.length;
    assert.ok(atPause.uploaded > 0 && atPause.uploaded < FILE_SIZE, `paused between 0 and 100%: ${JSON.stringify(atPause)}`);
    const uploadUrl = await page.evaluate(() => window.uppy.getFiles()[0].tus?.uploadUrl);
    assert.ok(uploadUrl?.startsWith(server.endpoint), `the upload URL is known: ${uploadUrl}`);

    // While paused nothing moves: neither the page's progress nor its requests. (An observation window: there is
    // no event for "nothing happened", so time is the measure here.)
    await page.waitForTimeout(1_500);
    assert.deepEqual(await progress(page), atPause, 'the progress stays put while paused');
    assert.equal(patches.length, patchesAtPause, 'no PATCH is sent while paused');
    const serverAtPause = await head(uploadUrl);
    assert.ok(serverAtPause.offset >= CHUNK_SIZE && serverAtPause.offset < FILE_SIZE,
      `the server holds part of the file while paused (offset ${serverAtPause.offset})`);
    t.diagnostic(`paused with ${atPause.uploaded} bytes reported by the page; the server kept ${serverAtPause.offset}`);

    // Resume from the Dashboard and wait for Uppy's complete event.
    await page.getByRole('button', { name: 'Resume upload' }).first().click();
    await page.waitForFunction(() => window.e2e.complete !== null, null, { timeout: 120_000 });
    const result = await page.evaluate(() => window.e2e.complete);
    assert.deepEqual(result.failed, [], 'no failed upload');
    assert.equal(result.successful.length, 1);
    assert.equal(result.successful[0].url, uploadUrl, 'the paused upload was finished, not started again');
    assert.equal(patches[patchesAtPause], serverAtPause.offset, `the first PATCH after resuming starts at the server's offset: ${patches.join(', ')}`);

    // The stored bytes are the file's.
    const stored = await head(uploadUrl);
    assert.equal(stored.offset, FILE_SIZE);
    assert.equal(await sha256File(path.join(server.uploadDir, idOf(uploadUrl))), sha256(data), 'stored SHA-256');

    // The browser really went through CORS: it sent preflights, which the server answered.
    assert.match(server.log(), /Request starting HTTP\/1\.1 OPTIONS http:\/\/127\.0\.0\.1:\d+\/files\//, 'the browser sent CORS preflights');
    assert.deepEqual(opened.problems, [], 'no page errors');

    await page.getByText('Complete', { exact: true }).first().waitFor();
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'uppy-dashboard.png') });
  });

  test('a page on an origin that --cors-origins does not list cannot upload', { skip, timeout: 60_000 }, async (t) => {
    const opened = await openPage(disallowed.origin, { retryDelays: '' });
    t.after(() => opened.context.close());
    const file = path.join(tmp, 'refused.txt');
    await writeFile(file, 'this must not be stored\n');
    const uploadsBefore = await readdir(server.uploadDir);

    await addFile(opened.page, file);
    await opened.page.getByRole('button', { name: /^Upload 1 file/ }).click();
    await opened.page.waitForFunction(() => window.e2e.complete !== null, null, { timeout: 30_000 });

    const result = await opened.page.evaluate(() => window.e2e.complete);
    assert.equal(result.successful.length, 0, 'nothing was uploaded');
    assert.equal(result.failed.length, 1, `the upload failed: ${JSON.stringify(result)}`);
    assert.deepEqual(await readdir(server.uploadDir), uploadsBefore, 'nothing was stored');
    assert.ok(opened.problems.some((line) => /CORS policy/.test(line)), `the browser blocked the request by CORS:\n${opened.problems.join('\n')}`);

    // What the browser saw: the preflight refused, with no Access-Control-Allow-Origin for that origin.
    const refused = await fetch(server.endpoint, {
      method: 'OPTIONS',
      headers: { Origin: disallowed.origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'tus-resumable,upload-length' },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    assert.match(await refused.text(), /ERR_ORIGIN_NOT_ALLOWED/);
    const granted = await fetch(server.endpoint, {
      method: 'OPTIONS',
      headers: { Origin: allowed.origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'tus-resumable,upload-length' },
      signal: AbortSignal.timeout(10_000),
    });
    assert.ok(granted.ok, `the allowed origin's preflight succeeds (${granted.status})`);
    assert.equal(granted.headers.get('access-control-allow-origin'), allowed.origin);
  });
});
