// The S3 server of eng/services/ceph.sh for the e2e tests on the S3 store: its settings from the environment
// (TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY, TUS_S3_SECRET_KEY, TUS_S3_REGION), and a minimal AWS Signature V4 client
// (node:crypto only) to create the bucket and read objects back directly.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { head, idOf, sha256 } from './helpers.mjs';

export const s3 = {
  endpoint: process.env.TUS_S3_ENDPOINT,
  accessKey: process.env.TUS_S3_ACCESS_KEY,
  secretKey: process.env.TUS_S3_SECRET_KEY,
  region: process.env.TUS_S3_REGION ?? 'us-east-1',
  bucket: 'tus-e2e',
};

/** A skip reason when no S3 server is configured, else false. */
export const s3Skip = s3.endpoint && s3.accessKey && s3.secretKey
  ? false
  : 'No S3 server: TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY and TUS_S3_SECRET_KEY are not set (bash eng/services/ceph.sh start, then source artifacts/services/ceph/env)';

const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const hex = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** One signed request to the S3 server, path-style: s3Request('PUT', '/bucket'). Resolves with the fetch Response. */
export async function s3Request(method, path, body) {
  const url = new URL(path, s3.endpoint);
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = now.slice(0, 8);
  const payloadHash = hex(body ?? '');
  const headers = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': now };
  const names = Object.keys(headers).sort();
  const canonical = [
    method,
    url.pathname.split('/').map(encodeURIComponent).join('/'),
    [...url.searchParams].sort().map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
    names.map((n) => `${n}:${headers[n]}\n`).join(''),
    names.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${day}/${s3.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, hex(canonical)].join('\n');
  let key = hmac(`AWS4${s3.secretKey}`, day);
  for (const part of [s3.region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const authorization = `AWS4-HMAC-SHA256 Credential=${s3.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  const { host, ...sent } = headers;
  return fetch(url, { method, headers: { ...sent, authorization }, body, signal: AbortSignal.timeout(60_000) });
}

/** Creates the e2e bucket (it may exist already). */
export async function ensureBucket() {
  const response = await s3Request('PUT', `/${s3.bucket}`);
  if (!response.ok && response.status !== 409) {
    throw new Error(`Creating bucket ${s3.bucket} failed: ${response.status} ${await response.text()}`);
  }
}

/** The server flags and environment that put Tus.Server on the S3 store under a prefix of its own. */
export function s3ServerOptions(prefix, extraArgs = []) {
  return {
    args: ['--store', 's3', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--s3-force-path-style',
      '--s3-object-prefix', prefix, '--s3-part-size', String(5 * 1024 * 1024), ...extraArgs],
    env: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: s3.region },
  };
}

/** The stored object of an upload, read straight from S3: { status, bytes, contentType }. */
export async function s3Object(key) {
  const response = await s3Request('GET', `/${s3.bucket}/${key}`);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') };
}

/**
 * Asserts the upload is finished and stored byte-exact: HEAD, GET through the server, and the object `prefix + id` in
 * the bucket, with its Content-Type (from filetype) when one is given.
 */
export async function assertStoredInS3(url, data, prefix, contentType) {
  const state = await head(url);
  assert.equal(state.status, 200, `HEAD ${url}`);
  assert.equal(state.offset, data.length, 'Upload-Offset is the whole size');
  const download = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  assert.equal(download.status, 200, 'GET through the server');
  assert.equal(sha256(Buffer.from(await download.arrayBuffer())), sha256(data), 'GET through the server: SHA-256');
  const object = await s3Object(prefix + idOf(url));
  assert.equal(object.status, 200, 'the final object exists in the bucket');
  assert.equal(object.bytes.length, data.length, 'the final object\'s size');
  assert.equal(sha256(object.bytes), sha256(data), 'the final object\'s SHA-256');
  if (contentType !== undefined) {
    assert.equal(object.contentType, contentType, 'the final object\'s Content-Type (from filetype)');
  }
}
