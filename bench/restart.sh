#!/usr/bin/env bash
# Restart after kill -9: how long a killed Tus.Server takes to answer again, from exec to the first answer, on an upload
# directory that already holds uploads (as after a crash). Prints the median, min and max of each measurement:
#   runtime floor   `Tus.Server --help` (runtime start, argument parsing, exit): no host, no Kestrel
#   /health         the first answer of any kind
#   HEAD            the first answer to what a resuming client sends first
# Usage: bench/restart.sh [runs (default 15)] [uploads in the directory (default 500)]
#   TUS_SERVER_CMD  the server command (default: dotnet Tus.Server/bin/Release/net10.0/Tus.Server.dll), e.g. a native
#                   executable from `dotnet publish Tus.Server -r linux-x64 -p:PublishAot=true`
#   NO_BUILD=1      skip `dotnet build`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-15}"
uploads="${2:-500}"
port="${TUS_BENCH_PORT:-18431}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ -z "${NO_BUILD:-}" ]]; then
  dotnet build "$root/Tus.Server/Tus.Server.csproj" -c Release -v q -nologo >/dev/null
fi
read -r -a server <<<"${TUS_SERVER_CMD:-dotnet $root/Tus.Server/bin/Release/net10.0/Tus.Server.dll}"
data="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
base="http://127.0.0.1:$port"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start() { "${server[@]}" --host 127.0.0.1 --port "$port" --upload-dir "$data" >/dev/null 2>&1 & pid=$!; }
wait_for() { # wait_for URL METHOD -> returns when the server answers anything (curl -I for HEAD: -X HEAD waits for a body)
  local how=(-X GET)
  [[ "$2" == HEAD ]] && how=(-I)
  until curl -s -o /dev/null "${how[@]}" -H 'Tus-Resumable: 1.0.0' --max-time 1 "$1" 2>/dev/null; do sleep 0.002; done
}

# An upload directory as a crash leaves it: many uploads, some half written.
start
wait_for "$base/health" GET
first=""
for ((i = 0; i < uploads; i++)); do
  location="$(curl -s -D - -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 100' "$base/files/" | tr -d '\r' | sed -n 's/^Location: //Ip')"
  first="${first:-$location}"
done
curl -s -o /dev/null -X PATCH -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' --data-binary 'hello' "$first"
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
upload_url="$base/files/${first##*/}"

stats() { sort -n | awk '{a[NR]=$1} END {printf "median %d ms, min %d ms, max %d ms (%d runs)\n", a[int((NR+1)/2)], a[1], a[NR], NR}'; }

floor=(); health=(); head=()
for ((r = 0; r < runs; r++)); do
  t0="$(now_ms)"; "${server[@]}" --help >/dev/null; floor+=($(( $(now_ms) - t0 )))
  t0="$(now_ms)"; start; wait_for "$base/health" GET; health+=($(( $(now_ms) - t0 )))
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  t0="$(now_ms)"; start; wait_for "$upload_url" HEAD; head+=($(( $(now_ms) - t0 )))
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
echo "restart after kill -9 ($uploads uploads in the directory): ${server[*]}"
echo "  runtime floor (--help):     $(printf '%s\n' "${floor[@]}" | stats)"
echo "  first answer (/health):     $(printf '%s\n' "${health[@]}" | stats)"
echo "  first HEAD of an upload:    $(printf '%s\n' "${head[@]}" | stats)"
