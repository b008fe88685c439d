// The peer for the S3 benchmark: @tus/server with @tus/s3-store, as its README shows, with its defaults (8 MiB parts),
// on 127.0.0.1:PORT against the S3 server given by the environment. The checksum settings are the ones S3-compatible
// servers need from AWS SDK v3 (as for Tus.Server).
import http from 'node:http';
import { Server } from '@tus/server';
import { S3Store } from '@tus/s3-store';

const server = new Server({
  path: '/files',
  datastore: new S3Store({
    s3ClientConfig: {
      bucket: process.env.BENCH_S3_BUCKET,
      region: process.env.TUS_S3_REGION ?? 'us-east-1',
      endpoint: process.env.TUS_S3_ENDPOINT,
      forcePathStyle: true,
      credentials: { accessKeyId: process.env.TUS_S3_ACCESS_KEY, secretAccessKey: process.env.TUS_S3_SECRET_KEY },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
  }),
});
const port = Number(process.env.PORT ?? 0);
const listener = http.createServer((req, res) => server.handle(req, res));
listener.listen(port, '127.0.0.1', () => console.log(`tus endpoint: http://127.0.0.1:${listener.address().port}/files/`));
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
