#!/usr/bin/env bash
# The one command that builds the solution and runs every test: the .NET test projects (xunit, through
# `dotnet test`, with a real S3 server from eng/services/ceph.sh for the S3 store), then the end-to-end tests that
# drive the real Tus.Server with tus-js-client and with Uppy in
# headless Chromium (node --test). Needs the .NET 10 SDK and Node 20 with npm; installs the e2e tests' npm packages
# and, as root, Debian's Chromium (eng/install-chromium.sh). Idempotent; needs no terminal (CI=true, no stdin).
# Ends with one line "N passed, N failed, N skipped" and exits non-zero when anything failed.
#
# Quiet by default: the terminal gets one line per step, a summary per test project and each failure with its
# message; everything else goes to artifacts/test.log. `bash eng/test.sh --verbose` (or TUS_TEST_VERBOSE=1) streams
# the whole output instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
configuration="${CONFIGURATION:-Release}"
results="$root/artifacts/test-results"
e2e="$root/tests/e2e"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false
exec </dev/null

verbose="${TUS_TEST_VERBOSE:-0}"
case "${1:-}" in
  --verbose | -v) verbose=1 ;;
  "") ;;
  *) echo "usage: bash eng/test.sh [--verbose]" >&2; exit 2 ;;
esac

rm -rf "$results"
mkdir -p "$results"
log="$root/artifacts/test.log"
started_at=$SECONDS
step_started_at=$SECONDS
if ((verbose)); then
  exec 3>&1
else
  # fd 3 is the terminal; stdout and stderr of every step go to the log.
  exec 3>&1 >"$log" 2>&1
  printf 'eng/test.sh: quiet run, full log in %s (--verbose streams it)\n' "${log#"$root"/}" >&3
fi

# say TEXT: to the terminal (and to the log, when quiet)
say() {
  printf '%s\n' "$*" >&3
  ((verbose)) || printf '%s\n' "$*"
}
step() {
  printf '\n==> %s\n' "$*"
  ((verbose)) || printf '==> %s\n' "$*" >&3
  step_started_at=$SECONDS
}
took() { echo "$((SECONDS - step_started_at)) s"; }

# When a step that is not a test fails (set -e ends the script), a quiet run shows the end of the log.
on_failure_exit() {
  local rc=$?
  if ((rc != 0 && !verbose)) && [[ -z "${summary_printed:-}" ]]; then
    printf '\neng/test.sh failed (exit %s); the last lines of %s:\n' "$rc" "${log#"$root"/}" >&3
    tail -n 60 "$log" >&3
  fi
}

# 1. The e2e tests' packages: npm ci only when node_modules is missing or was installed from another lock file.
lock_hash="$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)"
stamp="$e2e/node_modules/.installed-from-lock"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  step "npm ci (tests/e2e)"
  (cd "$e2e" && npm ci --no-audit --no-fund)
  echo "$lock_hash" >"$stamp"
fi

#    Debian's Chromium for the browser test, when it is missing (apt-get as root; otherwise that test reports SKIPPED).
chromium_rc=0
bash "$root/eng/install-chromium.sh" || chromium_rc=$?

#    The .NET 8 runtimes, for the libraries' net8.0 builds (eng/install-dotnet8.sh, from the runtime packs NuGet serves).
step "eng/install-dotnet8.sh"
bash "$root/eng/install-dotnet8.sh"

# 2. Build everything once.
step "dotnet build Tus.slnx -c $configuration"
dotnet build Tus.slnx -c "$configuration"

# 2b. Pack the libraries once (eng/pack.sh, into artifacts/packages): the package-graph tests read these packages and
#     the third-party sample consumes them.
step "eng/pack.sh"
base_version="$(dotnet msbuild Tus.Core/Tus.Core.csproj -getProperty:Version)"
export TUS_PACKAGE_VERSION="$base_version-local.$(date -u +%Y%m%d-%H%M%S)"
bash "$root/eng/pack.sh" "$TUS_PACKAGE_VERSION"

# 2c. Real services the .NET and e2e tests need, on 127.0.0.1, stopped by PID when this script exits:
#     - Ceph's RADOS Gateway (eng/services/ceph.sh: apt-get install as root, then a one-node cluster in RAM), a real S3
#       server for the S3 store's tests and the e2e tests on S3 (variables TUS_S3_*);
#     - a Consul agent (eng/services/consul.sh: Debian's package fetched once, unpacked, run as a -dev agent) for the
#       Consul locker and the multi-instance tests (CONSUL_HTTP_ADDR, TUS_CONSUL_ADDRESS).
#     Their env files are exported. A service that cannot be installed or started makes its tests report SKIPPED, and
#     the run fails: CI must provide every service.
services_rc=0
ceph_started=0
consul_started=0
stop_services() {
  if ((ceph_started)); then bash "$root/eng/services/ceph.sh" stop || true; fi
  if ((consul_started)); then bash "$root/eng/services/consul.sh" stop || true; fi
}
trap 'on_failure_exit; stop_services' EXIT
# The OSD keeps objects in RAM (memstore) and RGW frees deleted ones hours later, so the S3 tests get 4 GiB (used
# only as written) rather than the script's 1 GiB default.
export TUS_CEPH_MEMSTORE_BYTES="${TUS_CEPH_MEMSTORE_BYTES:-4294967296}"
step "eng/services/ceph.sh install && start"
if bash "$root/eng/services/ceph.sh" install && bash "$root/eng/services/ceph.sh" start; then
  ceph_started=1
  set -a
  # shellcheck disable=SC1091
  source "${TUS_CEPH_DIR:-$root/artifacts/services/ceph}/env"
  set +a
else
  services_rc=1
  say "Ceph RGW could not be started: the S3 tests will report SKIPPED"
fi
step "eng/services/consul.sh install && start"
if bash "$root/eng/services/consul.sh" install && bash "$root/eng/services/consul.sh" start; then
  consul_started=1
  set -a
  # shellcheck disable=SC1091
  source "$root/artifacts/services/consul/env"
  set +a
else
  services_rc=1
  say "Consul could not be started: the tests that need it will report SKIPPED"
fi

# report_trx NAME DIR: the project's counts (and failures) on the terminal, from its trx files.
report_trx() {
  local files
  mapfile -t files < <(find "$2" -name '*.trx' 2>/dev/null)
  if ((${#files[@]} == 0)); then
    say "    $1: no results (see the log)"
  else
    say "    $1: $(python3 "$root/eng/test-report.py" trx "${files[@]}") ($(took))"
  fi
}
# report_tap NAME FILE: the same for a node --test TAP file.
report_tap() {
  if [[ -f "$2" ]]; then
    say "    $1: $(python3 "$root/eng/test-report.py" tap "$2") ($(took))"
  else
    say "    $1: no results (see the log)"
  fi
}

# 3. .NET tests, one project at a time, each into its own results folder: the trx logger names files by the second,
#    so projects finishing together in one `dotnet test Tus.slnx` run could overwrite each other's results.
dotnet_rc=0
mapfile -t test_projects < <(dotnet sln Tus.slnx list | tr -d '\r' | grep -E '^tests/.+\.csproj$' | sort)
for project in "${test_projects[@]}"; do
  name="$(basename "$project" .csproj)"
  # Each target framework on its own (net10.0, then net8.0 where the project has it), never two at once: the tests of
  # one framework share buckets, keys and ports with the other's.
  frameworks="$(dotnet msbuild "$project" -getProperty:TargetFrameworks)"
  [[ -n "$frameworks" ]] || frameworks="$(dotnet msbuild "$project" -getProperty:TargetFramework)"
  for framework in ${frameworks//;/ }; do
    step "dotnet test $project -f $framework"
    dotnet test "$project" -c "$configuration" --no-build -f "$framework" \
      --results-directory "$results/$name/$framework" \
      --logger "trx;LogFileName=$name.trx" \
      --logger "console;verbosity=normal" || dotnet_rc=$?
    report_trx "$name ($framework)" "$results/$name/$framework"
  done
done

# 4. End to end: tus-js-client and Uppy in Chromium against the Tus.Server just built (the tests start and stop it
#    themselves), every tests/e2e/*.test.mjs in one run so that one TAP summary counts them all.
step "node --test (tests/e2e)"
node_rc=0
(cd "$e2e" && TUS_CONFIGURATION="$configuration" node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results/e2e.tap" \
  ./*.test.mjs) || node_rc=$?
report_tap "e2e (JIT server)" "$results/e2e.tap"

#     The same tests against the native executable (eng/publish-native.sh, Native AOT), the server's main
#     distribution: publishing it also proves the whole server still compiles to native code without a warning.
step "eng/publish-native.sh && node --test (tests/e2e, native server)"
native_rc=0
if native_executable="$(bash "$root/eng/publish-native.sh" | tail -n 1)" && [[ -x "$native_executable" ]]; then
  (cd "$e2e" && TUS_CONFIGURATION="$configuration" TUS_SERVER_EXECUTABLE="$native_executable" node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$results/e2e-native.tap" \
    ./*.test.mjs) || node_rc=$?
  report_tap "e2e (native server)" "$results/e2e-native.tap"
else
  native_rc=1
  say "    eng/publish-native.sh failed (see the log)"
fi

# 4b. The samples against the libraries just packed into the local feed (eng/test-samples.sh): InMemoryStore's trx and
#     the TAP file of the MinimalApp and native FullStack checks are counted below.
step "eng/test-samples.sh"
bash "$root/eng/test-samples.sh" --results "$results/Samples" || dotnet_rc=$?
report_trx "samples/InMemoryStore" "$results/Samples/InMemoryStore"
report_tap "samples/MinimalApp, samples/FullStack (native)" "$results/Samples/samples.tap"

# 5. One summary over every trx file and the node runner's counts.
passed=0 failed=0 skipped=0
counter() { # counter NAME TEXT -> the number in NAME="..." within TEXT, or 0
  local value
  value="$(printf '%s' "$2" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")"
  echo "${value:-0}"
}
trx_files=0
while IFS= read -r -d '' trx; do
  trx_files=$((trx_files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)"
  passed=$((passed + $(counter passed "$counters")))
  failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters")))
  # A skipped test counts in "total" but not in "executed" (and is not reported as notExecuted).
  skipped=$((skipped + $(counter total "$counters") - $(counter executed "$counters")))
done < <(find "$results" -name '*.trx' -print0)

tap_count() { # tap_count NAME -> the sum of N over the "# NAME N" lines of the node runs' and the samples' TAP summaries
  local value total=0 tap
  for tap in "$results/e2e.tap" "$results/e2e-native.tap" "$results/Samples/samples.tap"; do
    value="$(sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$tap" 2>/dev/null | tail -n 1)"
    total=$((total + ${value:-0}))
  done
  echo "$total"
}
passed=$((passed + $(tap_count pass)))
failed=$((failed + $(tap_count fail) + $(tap_count cancelled)))
skipped=$((skipped + $(tap_count skipped) + $(tap_count todo)))

status=0
if ((dotnet_rc != 0)); then
  say "dotnet test exited with $dotnet_rc"
  status=1
fi
if ((chromium_rc != 0)); then
  say "eng/install-chromium.sh exited with $chromium_rc: Chromium could not be installed"
  status=1
fi
if ((services_rc != 0)); then
  say "a service (Ceph RGW or Consul, eng/services/) could not be installed or started: its tests were skipped"
  status=1
fi
if ((native_rc != 0)); then
  say "eng/publish-native.sh failed: the native server could not be published, its e2e tests did not run"
  status=1
fi
if ((node_rc != 0)); then
  say "node --test exited with $node_rc"
  status=1
fi
if ((trx_files == 0)); then
  say "no .trx result was written: no .NET test ran"
  status=1
fi
if ((failed > 0)); then
  status=1
fi

summary_printed=1
say "finished in $((SECONDS - started_at)) s; full log: ${log#"$root"/}"
say ""
say "$passed passed, $failed failed, $skipped skipped"
exit "$status"
