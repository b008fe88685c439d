#!/usr/bin/env bash
# Where the native server's CPU goes on one large stream: publishes Tus.Server with Native AOT (eng/publish-native.sh,
# unless --no-publish), uploads SIZE bytes (default 1 GiB) in one PATCH with curl while `perf record` samples the
# server, and prints the server's CPU seconds (user and kernel) and the hottest symbols (kernel and user space).
#   bash bench/profile-native.sh [SIZE] [--no-publish] [--server-arg ARG]...
#   bash bench/profile-native.sh --small [COUNT] [--no-publish] [--server-arg ARG]...
# --small: instead of one stream, COUNT uploads (default 2000) of 64 KiB, 32 at a time, each a POST then a PATCH (the
# bench's `small` scenario, driven by curl); it also prints the call chains into the hottest kernel symbol.
# Needs perf (Debian's linux-perf; installed here when missing, as root). Loopback only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=1073741824
publish=1
small=0
count=2000
server_args=()
while (($#)); do
  case "$1" in
    --small) small=1; shift; [[ "${1:-}" =~ ^[0-9]+$ ]] && { count="$1"; shift; } ;;
    --no-publish) publish=0; shift ;;
    --server-arg) server_args+=("$2"); shift 2 ;;
    *) size="$1"; shift ;;
  esac
done

if ! command -v perf >/dev/null; then
  [[ "$(id -u)" == 0 ]] || { echo "profile-native: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-perf >/dev/null
fi
if ((publish)); then
  executable="$(bash "$root/eng/publish-native.sh" 2>/dev/null | tail -n 1)"
else
  executable="$(bash "$root/eng/publish-native.sh" --print)"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if ((small)); then size=65536; fi
head -c "$size" /dev/urandom >"$work/body"
port=$((20000 + RANDOM % 10000))
"$executable" --host 127.0.0.1 --port "$port" --upload-dir "$work/uploads" "${server_args[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done

# perf samples the server while the load runs; its CPU time comes from /proc (utime, stime) around the load.
ticks() { awk '{ print $14, $15 }' "/proc/$server_pid/stat"; }
start_sampling() {
  perf record -F 999 -g -p "$server_pid" -o "$work/perf.data" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.3
  read -r user0 system0 < <(ticks)
  start=$(date +%s.%N)
}
stop_sampling() {
  end=$(date +%s.%N)
  read -r user1 system1 < <(ticks)
  kill -INT "$perf_pid"
  wait "$perf_pid" 2>/dev/null || true
  hz="$(getconf CLK_TCK)"
}

if ((small)); then
  export port work
  upload_one() {
    local location
    location="$(curl -s -i -X POST "http://127.0.0.1:$port/files/" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 65536' \
      | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')"
    curl -s -o /dev/null -w '%{http_code}\n' -X PATCH "$location" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
      -H 'Content-Type: application/offset+octet-stream' -H 'Expect:' -T "$work/body"
  }
  export -f upload_one
  start_sampling
  seq "$count" | xargs -P 32 -I{} bash -c upload_one >"$work/statuses"
  stop_sampling
  ok="$(grep -c '^204$' "$work/statuses" || true)"
  awk -v n="$count" -v ok="$ok" -v a="$start" -v b="$end" -v u=$((user1 - user0)) -v k=$((system1 - system0)) -v hz="$hz" 'BEGIN {
    printf "%d uploads of 64 KiB (%d answered 204) in %.2f s = %.0f uploads/s (curl-driven); server CPU %.2f s user + %.2f s kernel = %.2f ms per upload\n",
      n, ok, b - a, n / (b - a), u / hz, k / hz, (u + k) / hz / n * 1000
  }'
  echo
  echo "hottest symbols (share of the server's samples; [k] kernel, [.] user space):"
  perf report -i "$work/perf.data" --no-children --sort sym -g none --percent-limit 0.7 2>/dev/null | grep -E '^ +[0-9]' | head -n 25
  hottest="$(perf report -i "$work/perf.data" --no-children --sort sym -g none 2>/dev/null | grep -E '^ +[0-9].*\[k\]' | head -n 1 | awk '{ print $3 }' || true)"
  echo
  echo "how the server reaches $hottest (system calls and kernel frames only):"
  perf report -i "$work/perf.data" --no-children --sort sym -G --symbol-filter="$hottest" 2>/dev/null \
    | grep -E '%|sys_|[a-z_]+$' | grep -vE '^#|0x[0-9a-f]+$' | head -n 30 || true
  exit 0
fi

location="$(curl -s -i -X POST "http://127.0.0.1:$port/files/" -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" \
  | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')"
start_sampling
status="$(curl -s -o /dev/null -w '%{http_code}' -X PATCH "$location" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
  -H 'Content-Type: application/offset+octet-stream' -T "$work/body")"
stop_sampling
awk -v s="$size" -v a="$start" -v b="$end" -v u=$((user1 - user0)) -v k=$((system1 - system0)) -v hz="$hz" -v st="$status" 'BEGIN {
  gib = s / 1073741824
  printf "PATCH %s: %.0f MiB in %.2f s = %.0f MiB/s; server CPU %.2f s user + %.2f s kernel = %.2f s per GiB\n",
    st, s / 1048576, b - a, s / 1048576 / (b - a), u / hz, k / hz, (u + k) / hz / gib
}'
echo
echo "hottest symbols (share of the server's samples; [k] kernel, [.] user space):"
perf report -i "$work/perf.data" --no-children --sort sym -g none --percent-limit 0.7 2>/dev/null | grep -E '^ +[0-9]' | head -n 25
echo
echo "by binary:"
perf report -i "$work/perf.data" --no-children --sort dso -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 8
