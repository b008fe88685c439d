# Shared helpers for eng/services/*.sh (sourced, not run). Everything listens on 127.0.0.1 only.

services_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }

services_now() { date +%s.%N; }
services_elapsed() { awk -v a="$1" -v b="$(services_now)" 'BEGIN { printf "%.1f", b - a }'; }

# True when something accepts connections on 127.0.0.1:$1.
services_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints a port on 127.0.0.1 that nothing listens on, below the kernel's ephemeral range; skips the ports in "$@".
services_free_port() {
  local p i skip
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    skip=0
    for q in "$@"; do [[ "$q" == "$p" ]] && skip=1; done
    ((skip)) && continue
    services_port_busy "$p" || { echo "$p"; return 0; }
  done
  echo "no free port found" >&2
  return 1
}

# True when process $1 exists and is not a zombie (an exited daemon whose parent has not reaped it yet).
services_pid_alive() {
  [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != Z ]]
}

# Starts "$@" in the background with no terminal (stdin from /dev/null, output to $2), writes its PID to $1.
services_launch() {
  local pidfile="$1" out="$2"
  shift 2
  "$@" </dev/null >"$out" 2>&1 9>&- &
  echo $! >"$pidfile"
}

# Holds an exclusive lock on file $1 for the rest of the script, so that two start/stop runs never interleave.
services_lock() {
  exec 9>"$1"
  if ! flock -w 300 9; then
    echo "could not lock $1 within 300 s" >&2
    return 1
  fi
}

# Sends SIGTERM to the PID in file $1, waits up to $2 seconds (default 20) for it to exit, then SIGKILL.
services_stop_pidfile() {
  local file="$1" limit="${2:-20}" pid i
  [[ -f "$file" ]] || return 0
  pid="$(tr -dc 0-9 <"$file")"
  if services_pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < limit * 10; i++)); do
      services_pid_alive "$pid" || break
      sleep 0.1
    done
    if services_pid_alive "$pid"; then
      echo "  pid $pid did not exit after ${limit}s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do services_pid_alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$file"
}

# Prints the Debian archive URI of the machine's own apt sources (the one that serves the release's own suite, not
# -security or -updates), read from deb822 .sources files or one-line sources.list files; nothing is hard-coded.
services_debian_archive_uri() {
  local codename f uri
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri="$(awk -v c="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { uris = $i;   sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
          if ($i ~ /^Types:/)  { types = $i }
        }
        if (types !~ /deb([ \t]|$)/) next
        n = split(suites, s, /[ \t]+/)
        for (j = 1; j <= n; j++) if (s[j] == c) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri="$(awk -v c="$codename" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == c) { print $i; exit }
      }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return 0; }
  done
  echo "could not find the Debian archive for '$codename' in the machine's apt sources" >&2
  return 1
}

# The subcommands every service script offers, dispatched in one place: start and stop hold the service's lock, so two
# runs never fight over one service's directory. Each script defines cmd_install, cmd_start, cmd_stop, cmd_status and
# cmd_check and sets DIR, then calls: services_main "$@"
services_main() {
  case "${1:-}" in
    start | stop) mkdir -p "$(dirname "$DIR")"; services_lock "$DIR.lock" ;;
  esac
  case "${1:-}" in
    install) shift; cmd_install "$@" ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status "$@" ;;
    check) shift; cmd_check "$@" ;;
    *) echo "usage: $0 install|start [--port N]|stop|status|check" >&2; exit 2 ;;
  esac
}
