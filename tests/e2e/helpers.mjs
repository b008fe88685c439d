// Helpers shared by the end-to-end suites: running tus-js-client uploads, reading back what the server stored,
// and a loopback proxy that can answer chosen requests itself.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import tus from 'tus-js-client';
import { recentLog } from './server.mjs';

export const KiB = 1024;
export const MiB = 1024 * 1024;

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 of a file, streamed (stored uploads can be large). */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('error', reject).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex')));
  });
}

export const idOf = (url) => new URL(url).pathname.split('/').pop();
export const storedFile = (server, url) => path.join(server.uploadDir, idOf(url));

/** Adds the server's recent log to an error, to explain a failure. */
export const withLog = (server, error) => {
  const wrapped = new Error(`${error?.message ?? error}\n--- Tus.Server log ---\n${recentLog(server)}`);
  wrapped.cause = error;
  return wrapped;
};

/**
 * Runs one tus.Upload to its end. Resolves with { upload, requests } once onSuccess fires; rejects on onError.
 * requests lists every request the client sent, as { method, url, headers: {name: value}, status } (status once answered).
 */
export function runUpload(server, data, options) {
  const requests = [];
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint: server.endpoint,
      retryDelays: [0, 500, 1000],
      ...options,
      onBeforeRequest: (req) => {
        requests.push(describe(req));
        return options.onBeforeRequest?.(req);
      },
      onAfterResponse: (req, res) => {
        const entry = requests.findLast((r) => r.req === req);
        if (entry) entry.status = res.getStatus();
        return options.onAfterResponse?.(req, res);
      },
      onError: (error) => reject(withLog(server, error)),
      onSuccess: (payload) => resolve({ upload, requests, payload }),
    });
    upload.start();
  });
}

const TUS_HEADERS = ['Upload-Length', 'Upload-Offset', 'Upload-Defer-Length', 'Upload-Concat', 'Upload-Metadata'];
function describe(req) {
  const headers = {};
  for (const name of TUS_HEADERS) {
    const value = req.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return { req, method: req.getMethod(), url: req.getURL(), headers };
}

/** HEAD of an upload: status and the tus headers. */
export async function head(url) {
  const response = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' }, signal: AbortSignal.timeout(10_000) });
  return {
    status: response.status,
    offset: response.headers.has('upload-offset') ? Number(response.headers.get('upload-offset')) : null,
    length: response.headers.has('upload-length') ? Number(response.headers.get('upload-length')) : null,
    concat: response.headers.get('upload-concat'),
    metadata: response.headers.get('upload-metadata'),
    deferLength: response.headers.get('upload-defer-length'),
  };
}

/** Decodes an Upload-Metadata header ("key base64,key2 base64") into { key: UTF-8 string }. */
export function decodeMetadata(header) {
  const result = {};
  for (const pair of (header ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value = ''] = pair.split(' ');
    result[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return result;
}

/** The file name a Content-Disposition header gives, from filename* (RFC 6266/8187) when present. */
export function dispositionFileName(header) {
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header ?? '');
  if (extended) return decodeURIComponent(extended[1].trim());
  const plain = /filename\s*=\s*"([^"]*)"/i.exec(header ?? '');
  return plain ? plain[1] : null;
}

/** Waits for a promise, failing after ms with a message. */
export function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A loopback HTTP proxy in front of Tus.Server. It keeps the client's Host header, so the upload URLs the server
 * builds point at the proxy. decide(req, index) may return:
 *   undefined         forward the request as it is;
 *   { status, body }  read the request body, do not forward it, and answer with this status;
 *   { forwardThen }   forward the request, then answer the client with this status instead of the server's.
 * Every request is recorded as { method, url, status, at } in proxy.log.
 */
export async function startProxy(target, decide = () => undefined) {
  const targetUrl = new URL(target);
  const log = [];
  let index = 0;
  const server = http.createServer((req, res) => {
    const entry = { method: req.method, url: req.url, status: null, at: Date.now() };
    log.push(entry);
    const decision = decide(req, index++);
    const answer = (status, body) => {
      entry.status = status;
      entry.answeredAt = Date.now();
      res.writeHead(status, { 'Tus-Resumable': '1.0.0', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (decision?.status) {
      req.resume();
      req.once('end', () => answer(decision.status, decision.body ?? 'ERR_INTERNAL_SERVER_ERROR: injected by the test proxy'));
      return;
    }
    const upstream = http.request({
      host: targetUrl.hostname,
      port: targetUrl.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    }, (upstreamRes) => {
      if (decision?.forwardThen) {
        entry.upstreamStatus = upstreamRes.statusCode;
        upstreamRes.resume();
        upstreamRes.once('end', () => answer(decision.forwardThen, 'ERR_INTERNAL_SERVER_ERROR: injected by the test proxy'));
        return;
      }
      entry.status = upstreamRes.statusCode;
      entry.answeredAt = Date.now();
      res.writeHead(upstreamRes.statusCode, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', (error) => {
      entry.error = error.message;
      res.destroy(error);
    });
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    log,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
