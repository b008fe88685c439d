// Starts the built Tus.Server as a separate process on a loopback port with an upload directory, and stops or kills it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const configuration = process.env.TUS_CONFIGURATION ?? 'Release';

export const serverDll =
  process.env.TUS_SERVER_DLL ?? path.resolve(here, '../../Tus.Server/bin', configuration, 'net10.0/Tus.Server.dll');

/** The native executable (eng/publish-native.sh) to test instead of the JIT build's dll, when set. */
export const serverExecutable = process.env.TUS_SERVER_EXECUTABLE || null;

/** Which build the tests run against, for their names and logs. */
export const serverBuild = serverExecutable ? 'native' : 'jit';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Starts Tus.Server and resolves once it logs its endpoint.
 * @param {string[] | {args?: string[], port?: number, uploadDir?: string, env?: Record<string, string>}} [options]
 *   args: extra flags; port: 0 (a free one) unless given, so a restarted server can take its predecessor's port;
 *   uploadDir: a new temporary directory unless given (a given one is left in place on stop); env: extra variables.
 */
export async function startServer(options = {}) {
  const { args = [], port = 0, uploadDir: givenDir, env: extraEnv = {} } = Array.isArray(options) ? { args: options } : options;
  const uploadDir = givenDir ?? await mkdtemp(path.join(os.tmpdir(), 'tus-e2e-'));
  const ownsDir = givenDir === undefined;
  // TUS_* variables of the caller would change the server's settings; the test says exactly what it wants.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TUS_'))), ...extraEnv };
  const serverArgs = ['--host', '127.0.0.1', '--port', String(port), '--upload-dir', uploadDir, ...args];
  const child = serverExecutable
    ? spawn(serverExecutable, serverArgs, { stdio: ['ignore', 'pipe', 'pipe'], env })
    : spawn('dotnet', [serverDll, ...serverArgs], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text) => { output += text; });
  child.stderr.setEncoding('utf8').on('data', (text) => { output += text; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`Tus.Server did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS);
    const check = () => {
      const match = /tus endpoint: (http:\/\/\S+)/.exec(output);
      if (match) finish(null, match[1]);
    };
    let done = false;
    function finish(error, url) {
      if (done) return;
      done = true;
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

  const running = () => child.exitCode === null && child.signalCode === null;
  const cleanUp = () => (ownsDir ? rm(uploadDir, { recursive: true, force: true }) : Promise.resolve());

  return {
    endpoint,
    port: Number(new URL(endpoint).port),
    origin: new URL(endpoint).origin,
    uploadDir,
    pid: child.pid,
    log: () => output,
    /** Stops with SIGTERM (SIGKILL after 30 s); removes the upload directory it made; resolves with the exit code. */
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const { code } = await exited;
        clearTimeout(timer);
        await cleanUp();
        return code;
      }
      await cleanUp();
      return child.exitCode;
    },
    /** Kills the process with SIGKILL, as a crash would; keeps the upload directory; resolves once it is gone. */
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** The server's recent log lines (its configuration lines left out), to explain a failure. */
export function recentLog(server, lines = 40) {
  if (!server) return '(no server)';
  return server.log().split('\n').filter((line) => !line.includes(' Setting ')).slice(-lines).join('\n');
}
