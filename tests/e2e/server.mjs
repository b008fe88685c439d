// Starts the built Tus.Server on a free loopback port with a temporary upload directory, and stops it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const configuration = process.env.TUS_CONFIGURATION ?? 'Release';

export const serverDll =
  process.env.TUS_SERVER_DLL ?? path.resolve(here, '../../Tus.Server/bin', configuration, 'net10.0/Tus.Server.dll');

export async function startServer(extraArgs = []) {
  const uploadDir = await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TUS_')));
  const child = spawn(
    'dotnet',
    [serverDll, '--host', '127.0.0.1', '--port', '0', '--upload-dir', uploadDir, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text) => { output += text; });
  child.stderr.setEncoding('utf8').on('data', (text) => { output += text; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`Tus.Server did not start within 60 s:\n${output}`)), 60_000);
    const check = () => {
      const match = /tus endpoint: (http:\/\/\S+)/.exec(output);
      if (match) finish(null, match[1]);
    };
    function finish(error, url) {
      clearTimeout(timer);
      child.stdout.off('data', check);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else {
        resolve(url);
      }
    }
    child.stdout.on('data', check);
    exited.then(({ code, signal }) => finish(new Error(`Tus.Server exited (${code ?? signal}) before it started:\n${output}`)));
  });

  return {
    endpoint,
    uploadDir,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const { code } = await exited;
        clearTimeout(timer);
        await rm(uploadDir, { recursive: true, force: true });
        return code;
      }
      await rm(uploadDir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}
