// tus-js-client uploads against the real Tus.Server: sizes × chunk sizes, a file stream, parallel uploads
// (concatenation), deferred length from a Node stream, and non-ASCII metadata read back through HEAD and GET.
// Every stored file's SHA-256 is compared with the source.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { MiB, decodeMetadata, dispositionFileName, head, idOf, runUpload, sha256, sha256File, storedFile } from './helpers.mjs';
import { startServer } from './server.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  const code = await server?.stop();
  assert.equal(code, 0, `Tus.Server should stop cleanly on SIGTERM:\n${server?.log()}`);
});

/** Asserts the server stored exactly these bytes for the upload, finished. */
async function assertStored(url, data) {
  const state = await head(url);
  assert.equal(state.status, 200, `HEAD ${url}`);
  assert.equal(state.offset, data.length, 'Upload-Offset is the whole size');
  assert.equal(state.length, data.length, 'Upload-Length is the whole size');
  assert.equal((await stat(storedFile(server, url))).size, data.length, 'stored size');
  assert.equal(await sha256File(storedFile(server, url)), sha256(data), 'stored SHA-256');
}

// Sizes that do not divide by any chunk size, around the interesting edges.
const sizes = [
  ['0 bytes', 0],
  ['1 byte', 1],
  ['1 MiB - 7', MiB - 7],
  ['25 MiB + 13', 25 * MiB + 13],
];
const chunkSizes = [
  ['chunkSize Infinity', Infinity],
  ['chunkSize 1 MiB', MiB],
  ['chunkSize 5 MiB', 5 * MiB],
  ['chunkSize 777777', 777_777],
];

describe('sizes × chunk sizes', () => {
  const sources = new Map(sizes.map(([, size]) => [size, randomBytes(size)]));
  for (const [sizeName, size] of sizes) {
    for (const [chunkName, chunkSize] of chunkSizes) {
      test(`${sizeName}, ${chunkName}: stored byte-exact`, { timeout: 60_000 }, async () => {
        const data = sources.get(size);
        const { upload, requests } = await runUpload(server, data, {
          chunkSize,
          metadata: { filename: `matrix-${size}-${chunkSize}.bin`, filetype: 'application/octet-stream' },
        });

        assert.match(upload.url, /^http:\/\/127\.0\.0\.1:\d+\/files\/[A-Za-z0-9_-]+$/);
        await assertStored(upload.url, data);
        const patches = requests.filter((r) => r.method === 'PATCH');
        const expected = size === 0 ? 0 : Math.ceil(size / Math.min(chunkSize, size));
        assert.equal(patches.length, expected, `PATCH requests for ${size} bytes in chunks of ${chunkSize}`);
        assert.ok(requests.every((r) => r.status !== null && r.status < 300), 'every request succeeded');
      });
    }
  }
});

test('a file read from disk (fs.ReadStream) in 2 MiB chunks is stored byte-exact', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-src-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = randomBytes(6 * MiB + 101);
  const file = path.join(dir, 'source.bin');
  await writeFile(file, data);

  const { upload } = await runUpload(server, createReadStream(file), { chunkSize: 2 * MiB, uploadSize: data.length });

  await assertStored(upload.url, data);
});

test('parallelUploads: 3 stores three partial uploads and a final one that is their concatenation', { timeout: 60_000 }, async () => {
  const data = randomBytes(9 * MiB + 5);
  const created = [];
  const { upload, requests } = await runUpload(server, data, {
    parallelUploads: 3,
    chunkSize: 2 * MiB,
    metadata: { filename: 'parallel.bin' },
    onAfterResponse: (req, res) => {
      if (req.getMethod() === 'POST') created.push({ concat: req.getHeader('Upload-Concat'), location: res.getHeader('Location') });
    },
  });

  // The client asked for three partial uploads, then a final one listing them.
  const partials = created.filter((c) => c.concat === 'partial');
  assert.equal(partials.length, 3, `three partial uploads were created: ${JSON.stringify(created)}`);
  const finals = created.filter((c) => c.concat?.startsWith('final;'));
  assert.equal(finals.length, 1, 'one final upload was created');
  assert.equal(requests.filter((r) => r.method === 'PATCH' && r.url === upload.url).length, 0, 'nothing was sent to the final upload');

  // The final upload is the whole file.
  await assertStored(upload.url, data);
  const final = await head(upload.url);
  assert.match(final.concat ?? '', /^final;/, 'HEAD of the final upload shows Upload-Concat: final;…');

  // The final upload lists the partial uploads the client created, in the file's order (they were created
  // concurrently, so the order of the POST answers says nothing).
  const listed = final.concat.slice('final;'.length).trim().split(/\s+/).map((u) => new URL(u, server.endpoint).href);
  assert.deepEqual([...listed].sort(), partials.map((p) => new URL(p.location, server.endpoint).href).sort(),
    'the final upload lists exactly the three partial uploads');

  // The partial uploads exist, each finished, and their bytes in that order are the source.
  let offset = 0;
  for (const url of listed) {
    const state = await head(url);
    assert.equal(state.status, 200, `HEAD of partial ${url}`);
    assert.equal(state.concat, 'partial');
    assert.ok(state.length > 0, 'every partial upload carries part of the file');
    assert.equal(state.offset, state.length, 'the partial upload is finished');
    assert.equal(await sha256File(storedFile(server, url)), sha256(data.subarray(offset, offset + state.length)), `bytes of ${idOf(url)}`);
    offset += state.length;
  }
  assert.equal(offset, data.length, 'the partial uploads add up to the file');
});

test('uploadLengthDeferred with a Node Readable stream declares the length once the stream ends', { timeout: 60_000 }, async () => {
  const data = randomBytes(3 * MiB + 333);
  // Pieces of uneven sizes, as a network or a pipe would deliver them.
  const pieces = [];
  for (let offset = 0, n = 0; offset < data.length; n++) {
    const size = [65_536, 1_000, 300_001, 7][n % 4];
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  const stream = Readable.from(pieces, { objectMode: false });

  const { upload, requests } = await runUpload(server, stream, {
    uploadLengthDeferred: true,
    chunkSize: MiB,
    metadata: { filename: 'deferred.bin' },
  });

  const post = requests.find((r) => r.method === 'POST');
  assert.equal(post.headers['Upload-Defer-Length'], '1', 'the upload was created with Upload-Defer-Length: 1');
  assert.equal(post.headers['Upload-Length'], undefined, 'and without Upload-Length');
  const declaring = requests.filter((r) => r.method === 'PATCH' && r.headers['Upload-Length'] !== undefined);
  assert.equal(declaring.length, 1, 'one PATCH declared the length');
  assert.equal(declaring[0].headers['Upload-Length'], String(data.length));
  await assertStored(upload.url, data);
  assert.equal((await head(upload.url)).deferLength, null, 'Upload-Defer-Length is gone once the length is known');
});

test('metadata with non-ASCII values reads back through HEAD (Upload-Metadata) and GET (Content-Disposition)', { timeout: 60_000 }, async () => {
  const filename = 'naïve résumé ✓ 日本.txt';
  const data = Buffer.from(`Grüße aus ${filename}\n`.repeat(1000), 'utf8');
  const metadata = { filename, filetype: 'text/plain', note: 'commas, spaces; and "quotes" — ok', empty: '' };

  const { upload } = await runUpload(server, data, { chunkSize: 4096, metadata });

  await assertStored(upload.url, data);
  const state = await head(upload.url);
  assert.deepEqual(decodeMetadata(state.metadata), metadata, 'HEAD returns every key and value, decoded as UTF-8');

  const response = await fetch(upload.url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200);
  const disposition = response.headers.get('content-disposition');
  assert.match(disposition ?? '', /filename\*=UTF-8''/i, `Content-Disposition carries filename*: ${disposition}`);
  assert.equal(dispositionFileName(disposition), filename, `filename* decodes to the original name: ${disposition}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(sha256(Buffer.from(await response.arrayBuffer())), sha256(data), 'GET returns the stored bytes');
});
