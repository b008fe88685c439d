#!/usr/bin/env bash
# Streams one upload of SIZE bytes (default 1 GiB) through a freshly started Tus.Server and prints the server's peak
# resident memory (VmHWM), before and after, and the throughput. Loopback only; cleans up after itself.
#   bash bench/peak-memory.sh [SIZE_BYTES] [--content-length]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-1073741824}"
mode="${2:-chunked}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
trap 'kill "${server_pid:-0}" 2>/dev/null || true; wait "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build "$root/Tus.Server" -c Release -v quiet -nologo >/dev/null
dll="$(find "$root/Tus.Server/bin/Release" -name Tus.Server.dll | head -n 1)"
dotnet "$dll" --host 127.0.0.1 --port "$port" --upload-dir "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

hwm() { awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$server_pid/status"; }
echo "server idle, peak RSS so far: $(hwm)"

location="$(curl -fs -i -X POST "http://127.0.0.1:$port/files/" -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" \
  | tr -d '\r' | sed -n 's/^Location: //Ip')"
start=$(date +%s.%N)
if [[ "$mode" == "--content-length" ]]; then
  # A sparse file reads back as zeros without taking disk space; curl sends it with its Content-Length.
  truncate -s "$size" "$work/body"
  curl -fs -X PATCH "$location" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
    -H 'Content-Type: application/offset+octet-stream' -T "$work/body" -o /dev/null
else
  head -c "$size" /dev/zero | curl -fs -X PATCH "$location" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
    -H 'Content-Type: application/offset+octet-stream' -H 'Transfer-Encoding: chunked' -T - -o /dev/null
fi
end=$(date +%s.%N)
offset="$(curl -fs -I "$location" -H 'Tus-Resumable: 1.0.0' | tr -d '\r' | sed -n 's/^Upload-Offset: //Ip')"
echo "uploaded $offset of $size bytes ($mode) in $(echo "$end - $start" | bc) s: $(echo "$size / ($end - $start) / 1048576" | bc) MiB/s"
echo "server peak RSS (VmHWM) after the upload: $(hwm)"
echo "server CPU seconds (user+system): $(awk '{print ($14 + $15) / 100}' "/proc/$server_pid/stat")"
