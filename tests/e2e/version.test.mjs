// `--version` names the build the tests run against: the JIT build (dotnet Tus.Server.dll) or the native executable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { serverBuild, serverDll, serverExecutable } from './server.mjs';

const run = promisify(execFile);

test(`--version names the ${serverBuild} build, its commit, runtime and platform`, async () => {
  const { stdout } = serverExecutable
    ? await run(serverExecutable, ['--version'])
    : await run('dotnet', [serverDll, '--version']);
  const expected = serverBuild === 'native' ? 'native AOT' : 'JIT';
  assert.match(stdout.trim(), new RegExp(`^tus-server \\d+\\.\\d+\\.\\d+\\S* \\((commit [0-9a-f]+, )?${expected}, \\.NET [^,]+, [a-z0-9-]+\\)$`));
});
