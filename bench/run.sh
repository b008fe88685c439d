#!/usr/bin/env bash
# The benchmarks in one command: Tus.Server (file store) vs @tus/server + @tus/file-store vs the floor (Kestrel
# discarding bodies), interleaved, each server fresh per scenario run on 127.0.0.1. Prints the Markdown table and
# writes bench/results/latest.{md,svg,csv} (--quick: bench/results/quick.*, one round at smaller sizes).
#   bash bench/run.sh [--quick] [--rounds N (default 5)] [--only single,chunked,small,small-cwu,many]
#                     [--servers tus,native,node,floor] [--no-native] [--tus-env KEY=VALUE]...
#                     [--data-dir DIR] [--name NAME]
# --data-dir: where every server's upload directory is made (default: the temporary directory). The filesystem matters
# for small uploads, each of which creates files: see bench/README.md. --name: the results' file name (default latest).
# The native build (eng/publish-native.sh, Native AOT) runs beside the JIT build unless --no-native.
# Needs the .NET 10 SDK, Node >= 20.19 with npm. Loopback only; takes about 10-15 minutes (--quick: about 1 minute).
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
exec </dev/null

args=()
native=1
data_dir="${TMPDIR:-/tmp}"
while (($#)); do
  case "$1" in
    --tus) args+=(--servers tus) ;;
    --no-native) native=0 ;;
    --data-dir) data_dir="$2"; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
mkdir -p "$data_dir"
export TMPDIR="$(cd "$data_dir" && pwd)"
# Named in the results: on ext4 without a journal, creating a file after many deletions scans for recently deleted
# inodes, which can cost more CPU than the server itself spends on a small upload.
read -r data_source data_fstype < <(findmnt -n -o SOURCE,FSTYPE -T "$TMPDIR" 2>/dev/null || echo "? ?")
data_fs="$data_fstype"
if [[ "$data_fstype" == ext4 ]]; then
  if compgen -G "/proc/fs/jbd2/$(basename "$data_source")-*" >/dev/null; then data_fs="ext4 (journal)"; else data_fs="ext4 (no journal)"; fi
fi
export BENCH_DATA_FS="$TMPDIR on $data_fs"

# 1. The peer, from npm, exactly as locked (the lock file carries no download addresses).
node="$bench/node"
lock_hash="$(sha256sum "$node/package-lock.json" | cut -d' ' -f1)"
stamp="$node/node_modules/.installed-from-lock"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  echo "==> npm ci (bench/node)" >&2
  (cd "$node" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_hash" >"$stamp"
fi

# 2. The peer's server: the standalone file-store server from @tus/server's README, plus /health for the driver.
cat >"$node/server.mjs" <<'JS'
// Written by bench/run.sh. @tus/server with @tus/file-store on HOST:PORT storing in DIR, as its README shows.
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [host, port, directory] = process.argv.slice(2);
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.end('ok');
    return;
  }
  tus.handle(req, res);
});
server.listen(Number(port), host, () => console.log(`listening on http://${host}:${port}/files`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
JS

# 3. The three .NET programs, Release.
echo "==> dotnet build (Tus.Server, floor, driver)" >&2
for project in "$root/Tus.Server" "$bench/Tus.Bench.Floor" "$bench/Tus.Bench"; do
  dotnet build "$project" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
done
dll() { find "$1/bin/Release" -name "$2.dll" -path '*net10.0*' -not -path '*/linux-*' | head -n 1; }
if ((native)); then
  echo "==> eng/publish-native.sh" >&2
  args+=(--tus-native "$(bash "$root/eng/publish-native.sh" 2>/dev/null | tail -n 1)")
fi

# 4. Run, interleaved.
export BENCH_COMMIT="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD -- Tus.Core Tus.Stores.File Tus.AspNetCore Tus.Server 2>/dev/null || echo '+changes')"
export BENCH_NODE_VERSION="$(node --version)"
export BENCH_PEER_VERSIONS="$(cd "$node" && node -e "const p=n=>require('./node_modules/'+n+'/package.json').version; console.log('@tus/server '+p('@tus/server')+', @tus/file-store '+p('@tus/file-store'))")"
cd "$bench"
dotnet "$(dll "$bench/Tus.Bench" Tus.Bench)" \
  --tus "$(dll "$root/Tus.Server" Tus.Server)" \
  --floor "$(dll "$bench/Tus.Bench.Floor" Tus.Bench.Floor)" \
  --node "$node/server.mjs" \
  --out "$bench/results" \
  "${args[@]}"
