#!/usr/bin/env bash
# What durability costs with the file store: Tus.Server with --flush-to-disk off (the default: the OS writes back on its
# own schedule) and on (fsync of the data file at the end of each PATCH and of each info file before it is renamed), on
# a directory on a real disk (not tmpfs, where fsync costs nothing). Per write (fsync after every block) is not an
# option of the store; its cost is shown by dd writing 64 KiB blocks with and without O_DSYNC on the same disk.
# Usage: bench/durability.sh [MiB for the large upload (default 256)] [small PATCHes (default 300)]
#   TUS_BENCH_DIR   where the uploads go (default: artifacts/bench-durability in the repository)
#   NO_BUILD=1      skip `dotnet build`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mib="${1:-256}"
small="${2:-300}"
port="${TUS_BENCH_PORT:-18433}"
dir="${TUS_BENCH_DIR:-$root/artifacts/bench-durability}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ -z "${NO_BUILD:-}" ]]; then
  dotnet build "$root/Tus.Server/Tus.Server.csproj" -c Release -v q -nologo >/dev/null
fi
mkdir -p "$dir"
echo "filesystem: $(df -T "$dir" | awk 'NR==2 {print $2}')"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
base="http://127.0.0.1:$port"
payload="$dir/payload"
head -c $((mib << 20)) /dev/urandom >"$payload"
head -c 65536 /dev/urandom >"$dir/block"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
create() { curl -s -D - -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $1" "$base/files/" | tr -d '\r' | sed -n 's/^Location: //Ip'; }
patch() { curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Tus-Resumable: 1.0.0' -H "Upload-Offset: $2" \
  -H 'Content-Type: application/offset+octet-stream' --data-binary "@$3" "$1"; }

for flush in false true; do
  rm -rf "$dir/uploads"; mkdir -p "$dir/uploads"
  dotnet "$root/Tus.Server/bin/Release/net10.0/Tus.Server.dll" --host 127.0.0.1 --port "$port" --upload-dir "$dir/uploads" \
    --flush-to-disk "$flush" >/dev/null 2>&1 & pid=$!
  until curl -s -o /dev/null "$base/health"; do sleep 0.05; done
  # Large: one PATCH of the whole payload.
  url="$(create $((mib << 20)))"
  t0="$(now_ms)"; [[ "$(patch "$url" 0 "$payload")" == 204 ]]; large=$(( $(now_ms) - t0 ))
  # Small: many 64 KiB PATCHes, each answered only after its bytes (and, with the flag, their fsync).
  url="$(create $((small * 65536)))"
  t0="$(now_ms)"
  for ((i = 0; i < small; i++)); do [[ "$(patch "$url" $((i * 65536)) "$dir/block")" == 204 ]]; done
  many=$(( $(now_ms) - t0 ))
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  printf 'flush-to-disk %-5s  %d MiB in one PATCH: %5d ms (%d MiB/s)   %d PATCHes of 64 KiB: %5d ms (%.1f ms each)\n' \
    "$flush" "$mib" "$large" $(( mib * 1000 / (large > 0 ? large : 1) )) "$small" "$many" "$(echo "$many / $small" | bc -l)"
done
# Per write, for reference: 64 KiB blocks to the same disk, without and with a sync after each.
for flag in "" "oflag=dsync"; do
  rate="$(dd if=/dev/zero of="$dir/dd" bs=64k count=$((mib * 4)) $flag 2>&1 | tail -n 1 | awk -F, '{print $NF}')"
  echo "dd 64 KiB blocks ${flag:-(no sync)}: $rate"
done
