#!/usr/bin/env bash
# A real Consul agent for tests, in -dev mode (in memory, one server) on 127.0.0.1.
#
#   bash eng/services/consul.sh install   fetches Debian bullseye's consul .deb (not in bookworm) with apt-get download
#                                         and unpacks the binary into $BIN; nothing is installed system-wide; idempotent
#   bash eng/services/consul.sh start [--port N]   starts the agent, waits for a leader, writes $DIR/env; idempotent
#   bash eng/services/consul.sh status    exit 0 when running (prints the env file), 3 when not
#   bash eng/services/consul.sh check     session, KV lock acquire/release against the running agent (curl)
#   bash eng/services/consul.sh stop      stops the agent by its recorded PID and removes $DIR
#
# $BIN is TUS_CONSUL_BIN_DIR (default artifacts/services/consul-bin); $DIR (PID file, log, env) is TUS_CONSUL_DIR
# (default artifacts/services/consul), both under the repository root. TUS_CONSUL_PORT (or --port) picks the HTTP
# port; a free one otherwise. Tests `source "$DIR/env"`:
#   CONSUL_HTTP_ADDR=http://127.0.0.1:PORT TUS_CONSUL_ADDRESS=http://127.0.0.1:PORT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(services_repo_root)"
BIN="${TUS_CONSUL_BIN_DIR:-$ROOT/artifacts/services/consul-bin}"
DIR="${TUS_CONSUL_DIR:-$ROOT/artifacts/services/consul}"
CONSUL="$BIN/consul"
ENV_FILE="$DIR/env"
PIDFILE="$DIR/consul.pid"
SUITE=bullseye # the last Debian release that packages consul

say() { echo "consul: $*"; }
die() { echo "consul: $*" >&2; exit 1; }

installed() { [[ -x "$CONSUL" ]] && "$CONSUL" version >/dev/null 2>&1; }

cmd_install() {
  if installed; then
    say "already installed: $("$CONSUL" version | head -n 1) in $BIN"
    return 0
  fi
  command -v apt-get >/dev/null || die "apt-get not found"
  local t0 uri tmp signed_by="" deb
  t0="$(services_now)"
  uri="$(services_debian_archive_uri)" || die "no Debian archive in the apt sources"
  # The archive keyring that signs the machine's own sources also holds the previous release's keys.
  for f in /usr/share/keyrings/debian-archive-keyring.gpg; do [[ -f "$f" ]] && signed_by="[signed-by=$f] "; done
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb"
  echo "deb $signed_by$uri $SUITE main" >"$tmp/sources.list"
  local apt=(apt-get -q
    -o "Dir::Etc::sourcelist=$tmp/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
    -o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
  say "apt-get update with a private sources list for $SUITE"
  "${apt[@]}" update </dev/null >"$tmp/update.log" 2>&1 || { cat "$tmp/update.log" >&2; die "apt-get update for $SUITE failed"; }
  say "apt-get download consul ($SUITE)"
  (cd "$tmp/deb" && "${apt[@]}" download consul </dev/null) || die "apt-get download consul failed"
  deb="$(ls "$tmp"/deb/consul_*.deb)"
  dpkg-deb -x "$deb" "$tmp/x"
  mkdir -p "$BIN"
  install -m 755 "$tmp/x/usr/bin/consul" "$CONSUL.tmp"
  mv -f "$CONSUL.tmp" "$CONSUL"
  installed || die "the unpacked consul binary does not run"
  say "installed $("$CONSUL" version | head -n 1) from $(basename "$deb") into $BIN in $(services_elapsed "$t0")s"
}

pid() { [[ -f "$PIDFILE" ]] && tr -dc 0-9 <"$PIDFILE" || true; }
running() { services_pid_alive "$(pid)" && [[ -f "$ENV_FILE" ]]; }
http_port() { sed -n 's|^TUS_CONSUL_ADDRESS=http://127.0.0.1:||p' "$ENV_FILE"; }

cmd_start() {
  local port="${TUS_CONSUL_PORT:-}"
  while (($#)); do
    case "$1" in
      --port) port="$2"; shift 2 ;;
      --port=*) port="${1#*=}"; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  if running; then
    say "already running (pid $(pid)) in $DIR"
    cat "$ENV_FILE"
    return 0
  fi
  services_stop_pidfile "$PIDFILE" 10
  installed || die "not installed: run 'bash eng/services/consul.sh install' first"
  if [[ -n "$port" ]] && services_port_busy "$port"; then
    die "port $port on 127.0.0.1 is already in use"
  fi
  local t0 server serf_lan serf_wan i leader=""
  t0="$(services_now)"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  [[ -n "$port" ]] || port="$(services_free_port)"
  server="$(services_free_port "$port")"
  serf_lan="$(services_free_port "$port" "$server")"
  serf_wan="$(services_free_port "$port" "$server" "$serf_lan")"
  services_launch "$PIDFILE" "$DIR/consul.log" "$CONSUL" agent -dev -node tus-dev \
    -bind 127.0.0.1 -client 127.0.0.1 -advertise 127.0.0.1 \
    -http-port "$port" -dns-port -1 -grpc-port -1 \
    -server-port "$server" -serf-lan-port "$serf_lan" -serf-wan-port "$serf_wan" \
    -disable-host-node-id -log-level warn
  for ((i = 0; i < 300; i++)); do
    if ! services_pid_alive "$(pid)"; then
      tail -n 20 "$DIR/consul.log" >&2
      rm -f "$PIDFILE"
      die "the agent exited during start-up (log kept in $DIR)"
    fi
    leader="$(curl -sf --max-time 2 "http://127.0.0.1:$port/v1/status/leader" 2>/dev/null || true)"
    [[ -n "$leader" && "$leader" != '""' ]] && break
    sleep 0.1
  done
  if [[ -z "$leader" || "$leader" == '""' ]]; then
    tail -n 20 "$DIR/consul.log" >&2
    services_stop_pidfile "$PIDFILE" 10
    die "no leader after 30 s (log kept in $DIR)"
  fi
  cat >"$ENV_FILE.tmp" <<ENV
CONSUL_HTTP_ADDR=http://127.0.0.1:$port
TUS_CONSUL_ADDRESS=http://127.0.0.1:$port
ENV
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  say "ready in $(services_elapsed "$t0")s (pid $(pid), leader $leader); env in $ENV_FILE:"
  cat "$ENV_FILE"
}

cmd_stop() {
  if [[ ! -d "$DIR" ]]; then
    say "not running"
    return 0
  fi
  services_stop_pidfile "$PIDFILE" 15
  rm -rf "$DIR"
  say "stopped; removed $DIR"
}

cmd_status() {
  if running; then
    say "pid $(pid) running"
    cat "$ENV_FILE"
    return 0
  fi
  say "not running"
  return 3
}

cmd_check() {
  running || die "not running"
  local base session other value
  base="http://127.0.0.1:$(http_port)/v1"
  c() { curl -sS --fail-with-body --max-time 10 "$@"; }
  session="$(c -X PUT -d '{"Name":"tus-check","TTL":"15s","LockDelay":"0s","Behavior":"delete"}' \
    "$base/session/create" | sed -n 's/.*"ID": *"\([^"]*\)".*/\1/p')"
  [[ -n "$session" ]] || die "check: no session created"
  say "check: session $session"
  other="$(c -X PUT -d '{"Name":"tus-check-other","TTL":"15s","LockDelay":"0s"}' \
    "$base/session/create" | sed -n 's/.*"ID": *"\([^"]*\)".*/\1/p')"
  [[ "$(c -X PUT -d owner-1 "$base/kv/tus-check/lock?acquire=$session")" == true ]] || die "check: acquire failed"
  say "check: lock acquired"
  [[ "$(c -X PUT -d owner-2 "$base/kv/tus-check/lock?acquire=$other")" == false ]] ||
    die "check: a second session acquired a held lock"
  say "check: second session refused while held"
  value="$(c "$base/kv/tus-check/lock?raw")"
  [[ "$value" == owner-1 ]] || die "check: unexpected value '$value'"
  c -X PUT "$base/session/renew/$session" >/dev/null
  [[ "$(c -X PUT "$base/kv/tus-check/lock?release=$session")" == true ]] || die "check: release failed"
  say "check: lock released"
  [[ "$(c -X PUT -d owner-2 "$base/kv/tus-check/lock?acquire=$other")" == true ]] ||
    die "check: second session could not acquire after release"
  say "check: second session acquired after release"
  c -X PUT "$base/session/destroy/$other" >/dev/null
  c -X PUT "$base/session/destroy/$session" >/dev/null
  c -X DELETE "$base/kv/tus-check?recurse" >/dev/null
  say "check: Consul OK at ${base%/v1}"
}

services_main "$@"
