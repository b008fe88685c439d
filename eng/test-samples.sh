#!/usr/bin/env bash
# Builds and runs every sample in samples/ against exactly the version of the libraries just packed into the local feed
# (artifacts/packages), the way someone outside this repository consumes them:
#   - samples/InMemoryStore: a third-party store and the conformance suite (eng/test-sample.sh; xunit, a trx file);
#   - samples/MinimalApp: the README's quick start, line for line; started on a free port of 127.0.0.1, one upload with
#     curl (POST, two PATCHes, HEAD), the bytes compared on disk;
#   - samples/FullStack: every package (S3 or file store, quota, Consul or memory locker, hooks, both Kestrel connection
#     middlewares), published once as a native executable (Native AOT; a trim or AOT warning fails it) and run twice:
#     file store + memory locker, then S3 (Ceph RGW) + Consul. Each run: a creation without a filename is refused with
#     400 and the hook's JSON body, one over the quota with 413 ERR_QUOTA_EXCEEDED, an upload completes, reads back
#     byte for byte with GET, is logged by the post-finish hook, and is terminated.
# The S3 + Consul run needs TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY, TUS_S3_SECRET_KEY (TUS_S3_REGION) and TUS_CONSUL_ADDRESS
# or CONSUL_HTTP_ADDR (eng/services/ceph.sh and consul.sh write them): without them it reports SKIPPED with the reason,
# except in CI (CI=true), where it fails.
#
# The checks of MinimalApp and FullStack are written as a TAP file (samples.tap: "ok N - ...", then "# pass N",
# "# fail N", "# skipped N"), which eng/test.sh counts with the node runs' TAP files.
#
# Usage: eng/test-samples.sh [--results DIR]   with --results, the trx of InMemoryStore and samples.tap go into DIR
#                                              (default for the TAP file: artifacts/samples)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false
exec </dev/null

results=""
while (($#)); do
  case "$1" in
    --results) results="$2"; shift 2 ;;
    *) echo "eng/test-samples.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

configuration="${CONFIGURATION:-Release}"
work="$root/artifacts/samples"
rm -rf "$work"
mkdir -p "$work"
tap_dir="${results:-$work}"
mkdir -p "$tap_dir"
tap_file="$tap_dir/samples.tap"

# Pack once (eng/test.sh has packed already and passes the version on).
version="${TUS_PACKAGE_VERSION:-}"
if [[ -z "$version" || ! -f "$root/artifacts/packages/Tus.Core.$version.nupkg" ]]; then
  base="$(dotnet msbuild Tus.Core/Tus.Core.csproj -getProperty:Version)"
  version="$base-local.$(date -u +%Y%m%d-%H%M%S)"
  bash "$root/eng/pack.sh" "$version"
fi
export TUS_PACKAGE_VERSION="$version"

# --- TAP ------------------------------------------------------------------------------------------------------------
tap_lines=()
tests=0 passed=0 failed=0 skipped=0
ok() { tests=$((tests + 1)) passed=$((passed + 1)); tap_lines+=("ok $tests - $1"); echo "ok - $1"; }
not_ok() { # not_ok NAME REASON
  tests=$((tests + 1)) failed=$((failed + 1))
  tap_lines+=("not ok $tests - $1" "  ---" "  error: '${2//\'/\'\'}'" "  ...")
  echo "not ok - $1: $2" >&2
}
skip() { tests=$((tests + 1)) skipped=$((skipped + 1)); tap_lines+=("ok $tests - $1 # SKIP $2"); echo "SKIPPED - $1: $2"; }
write_tap() {
  {
    echo "TAP version 13"
    printf '%s\n' "${tap_lines[@]}"
    echo "1..$tests"
    echo "# tests $tests"
    echo "# pass $passed"
    echo "# fail $failed"
    echo "# skipped $skipped"
  } >"$tap_file"
}
# check NAME COMMAND...: one test point. COMMAND runs in this shell (the apps it starts stay known to stop_app), its
# output goes to a file, and its last line is the reason when it fails.
check() {
  local name="$1" out="$work/check.out"
  shift
  if "$@" >"$out" 2>&1; then
    ok "$name"
    return 0
  fi
  cat "$out" >&2
  not_ok "$name" "$(tail -n 1 "$out")"
  return 1
}

# --- Apps -----------------------------------------------------------------------------------------------------------
app_pid=""
stop_app() {
  if [[ -n "$app_pid" ]]; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
  fi
}
trap 'stop_app; write_tap' EXIT

base_url=""
# start_app DIR LOG COMMAND...: starts the app in DIR listening on a free port of 127.0.0.1 (Kestrel picks it: no race
# with another process) and sets base_url from the address it logs.
start_app() {
  local dir="$1" log="$2"
  shift 2
  mkdir -p "$dir"
  (cd "$dir" && exec "$@" --urls http://127.0.0.1:0) >"$log" 2>&1 &
  app_pid=$!
  base_url=""
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    base_url="$(sed -n 's#.*Now listening on: \(http://127\.0\.0\.1:[0-9]*\).*#\1#p' "$log" | head -n 1)"
    [[ -n "$base_url" ]] && return 0
    if ! kill -0 "$app_pid" 2>/dev/null; then
      wait "$app_pid" 2>/dev/null || true
      app_pid=""
      echo "the app exited before listening; its output:"; tail -n 20 "$log"
      echo "the app exited before listening (log: ${log#"$root"/})"
      return 1
    fi
    sleep 0.2
  done
  echo "the app did not listen within 60 s (log: ${log#"$root"/})"
  return 1
}

# header NAME FILE: the value of a response header in a curl -D dump (last response), without CR.
header() { sed -n "s/^$1: *//Ip" "$2" | tr -d '\r' | tail -n 1; }
status_of() { sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$1" | tail -n 1; }
expect() { # expect WHAT ACTUAL EXPECTED
  if [[ "$2" != "$3" ]]; then
    echo "$1: expected '$3', got '$2'"
    return 1
  fi
}

# tus_upload FILE METADATA: creates an upload for FILE, sends it in two PATCHes, checks HEAD; sets upload_url.
upload_url=""
tus_upload() {
  local file="$1" metadata="$2" size half headers="$work/headers"
  upload_url=""
  size="$(stat -c %s "$file")"
  half=$((size / 2))
  curl -sS -o /dev/null -D "$headers" -X POST "$base_url/files/" -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Length: $size" -H "Upload-Metadata: $metadata" || { echo "POST failed"; return 1; }
  expect "POST status" "$(status_of "$headers")" 201 || return 1
  upload_url="$(header Location "$headers")"
  [[ "$upload_url" == http* ]] || upload_url="$base_url$upload_url"
  head -c "$half" "$file" | curl -sS -o /dev/null -D "$headers" -X PATCH "$upload_url" -H 'Tus-Resumable: 1.0.0' \
    -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' --data-binary @- || { echo "PATCH failed"; return 1; }
  expect "first PATCH status" "$(status_of "$headers")" 204 || return 1
  expect "first PATCH Upload-Offset" "$(header Upload-Offset "$headers")" "$half" || return 1
  tail -c +"$((half + 1))" "$file" | curl -sS -o /dev/null -D "$headers" -X PATCH "$upload_url" -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Offset: $half" -H 'Content-Type: application/offset+octet-stream' --data-binary @- || { echo "PATCH failed"; return 1; }
  expect "second PATCH status" "$(status_of "$headers")" 204 || return 1
  curl -sS -o /dev/null -D "$headers" -I "$upload_url" -H 'Tus-Resumable: 1.0.0' || { echo "HEAD failed"; return 1; }
  expect "HEAD status" "$(status_of "$headers")" 200 || return 1
  expect "HEAD Upload-Offset" "$(header Upload-Offset "$headers")" "$size" || return 1
  expect "HEAD Upload-Length" "$(header Upload-Length "$headers")" "$size" || return 1
}

# restored PROJECT_DIR PACKAGE...: the restore took exactly the packed version of each package.
restored() {
  local assets="$1/obj/project.assets.json" package
  shift
  for package in "$@"; do
    grep -q "\"$package/$version\"" "$assets" || { echo "$(basename "$1") did not restore $package $version"; return 1; }
  done
}

empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855   # S3 signs the body's hash
payload="$work/payload.bin"
head -c $((1536 * 1024 + 7)) /dev/urandom >"$payload"
filename_metadata="filename $(printf 'photo.jpg' | base64 -w0)"

# --- samples/InMemoryStore (xunit; its trx is counted by eng/test.sh) ----------------------------------------------------
printf '\n==> samples/InMemoryStore\n'
rc=0
if [[ -n "$results" ]]; then
  bash "$root/eng/test-sample.sh" --results "$results/InMemoryStore" || rc=$?
else
  bash "$root/eng/test-sample.sh" || rc=$?
fi

# --- samples/MinimalApp -------------------------------------------------------------------------------------------------
printf '\n==> samples/MinimalApp against Tus.* %s\n' "$version"
minimal="$root/samples/MinimalApp"
# The README's quick start must be the sample's Program.cs, so that the README works as written.
readme_code() {
  awk '/^## Put tus in your ASP.NET Core app/ { section = 1; next }
       section && /^## / { exit }
       section && /^```csharp/ { code = 1; next }
       code && /^```/ { exit }
       code { print }' "$root/README.md"
}
same_as_readme() {
  local code
  code="$(readme_code)"
  [[ -n "$code" ]] || { echo "README.md has no csharp block under 'Put tus in your ASP.NET Core app'"; return 1; }
  diff <(printf '%s\n' "$code") "$minimal/Program.cs" || { echo "samples/MinimalApp/Program.cs differs from the README's quick start"; return 1; }
}
check "MinimalApp: Program.cs is the README's quick start" same_as_readme || true

minimal_build() {
  dotnet build "$minimal/MinimalApp.csproj" -c "$configuration" -p:TusVersion="$version" -nologo -v:q || { echo "dotnet build samples/MinimalApp failed"; return 1; }
  restored "$minimal" Tus.AspNetCore Tus.Stores.File Tus.Lockers.Memory Tus.Core
}
minimal_upload() {
  local dir="$work/minimal" id
  start_app "$dir" "$work/minimal.log" dotnet "$minimal/bin/$configuration/net10.0/MinimalApp.dll" || return 1
  tus_upload "$payload" "$filename_metadata" || return 1
  id="${upload_url##*/}"
  cmp "$payload" "$dir/data/$id" || { echo "data/$id differs from the file sent"; return 1; }
}
if check "MinimalApp: builds from the local feed with Tus.* $version" minimal_build; then
  check "MinimalApp: a curl upload (POST, 2 PATCH, HEAD) lands byte for byte in ./data" minimal_upload || true
  stop_app
fi

# --- samples/FullStack, native ------------------------------------------------------------------------------------------
printf '\n==> samples/FullStack: dotnet publish -p:PublishAot=true against Tus.* %s\n' "$version"
fullstack="$root/samples/FullStack"
native="$work/fullstack-native"
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) rid="" ;;
esac

# What the native toolchain needs, as eng/publish-native.sh installs it: Debian's clang and the zlib headers.
install_native_toolchain() {
  local packages=()
  command -v clang >/dev/null || packages+=(clang)
  dpkg-query -W -f='${Status}' zlib1g-dev 2>/dev/null | grep -q 'install ok installed' || packages+=(zlib1g-dev)
  ((${#packages[@]})) || return 0
  if [[ "$(id -u)" != 0 ]]; then
    echo "native publishing needs ${packages[*]}: install them (apt-get install ${packages[*]}) or run as root"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt_opts=(-y -q --no-install-recommends)
  apt-get install "${apt_opts[@]}" "${packages[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install "${apt_opts[@]}" "${packages[@]}"
  } || { echo "apt-get install ${packages[*]} failed"; return 1; }
}
fullstack_publish() {
  [[ -n "$rid" ]] || { echo "no native build for $(uname -m)"; return 1; }
  install_native_toolchain || return 1
  local log="$work/fullstack-publish.log"
  dotnet publish "$fullstack/FullStack.csproj" -c "$configuration" -r "$rid" -o "$native" -p:PublishAot=true \
    -p:TusVersion="$version" -nologo >"$log" 2>&1 || { tail -n 30 "$log"; echo "dotnet publish -p:PublishAot=true failed (log: ${log#"$root"/})"; return 1; }
  # A trim or AOT warning means a code path that may break only in the native build.
  if grep -E ': (warning|error) (IL[0-9]+|AOT)' "$log"; then
    echo "the native publish has trim/AOT warnings (above)"
    return 1
  fi
  [[ -x "$native/FullStack" ]] || { echo "no native executable at ${native#"$root"/}/FullStack"; return 1; }
  restored "$fullstack" Tus.Core Tus.AspNetCore Tus.Stores.File Tus.Stores.S3 Tus.Stores.Limited Tus.Lockers.Memory Tus.Lockers.Consul
}

# fullstack_run LABEL: the checks of one run of the native app, configured by the TUS_* variables already exported.
fullstack_run() {
  local label="$1" slug="${1,,}" dir log headers="$work/headers" body="$work/body" id
  dir="$work/fullstack-${slug//[^a-z0-9]/-}"
  log="$dir.log"
  check "FullStack native ($label): starts" start_app "$dir" "$log" "$native/FullStack" || { stop_app; return 0; }

  no_filename() {
    curl -sS -o "$body" -D "$headers" -X POST "$base_url/files/" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' \
      -H "Upload-Metadata: filetype $(printf 'image/jpeg' | base64 -w0)" || { echo "POST failed"; return 1; }
    expect "status" "$(status_of "$headers")" 400 || return 1
    expect "Content-Type" "$(header Content-Type "$headers")" application/json || return 1
    grep -q '"error":"filename_required"' "$body" || { echo "body: $(cat "$body")"; return 1; }
  }
  check "FullStack native ($label): the pre-create hook refuses an upload without a filename, 400 with a JSON body" no_filename || true

  over_quota() {
    curl -sS -o "$body" -D "$headers" -X POST "$base_url/files/" -H 'Tus-Resumable: 1.0.0' \
      -H "Upload-Length: $((TUS_QUOTA_MAX_UPLOAD_BYTES + 1))" -H "Upload-Metadata: $filename_metadata" || { echo "POST failed"; return 1; }
    expect "status" "$(status_of "$headers")" 413 || return 1
    grep -q ERR_QUOTA_EXCEEDED "$body" || { echo "body: $(cat "$body")"; return 1; }
  }
  check "FullStack native ($label): the quota refuses an upload over its limit, 413 ERR_QUOTA_EXCEEDED" over_quota || true

  accepted() {
    tus_upload "$payload" "$filename_metadata" || return 1
    curl -sS -o "$body" -D "$headers" "$upload_url" -H 'Tus-Resumable: 1.0.0' || { echo "GET failed"; return 1; }
    expect "GET status" "$(status_of "$headers")" 200 || return 1
    cmp "$payload" "$body" || { echo "GET returned other bytes than the file sent"; return 1; }
  }
  check "FullStack native ($label): an upload with a filename completes (POST, 2 PATCH, HEAD) and reads back with GET" accepted || true
  id="${upload_url##*/}"

  # Straight from the storage, not through the app: the upload is where the configured store keeps it.
  in_store() {
    if [[ "$TUS_STORE" == s3 ]]; then
      curl -sS -o "$body" -w '%{http_code}' "$TUS_S3_ENDPOINT/$TUS_S3_BUCKET/$TUS_S3_OBJECT_PREFIX$id" \
        --aws-sigv4 "aws:amz:$TUS_S3_REGION:s3" --user "$TUS_S3_ACCESS_KEY:$TUS_S3_SECRET_KEY" \
        -H "x-amz-content-sha256: $empty_sha256" >"$work/status" || { echo "GET from S3 failed"; return 1; }
      expect "GET s3://$TUS_S3_BUCKET/$TUS_S3_OBJECT_PREFIX$id" "$(cat "$work/status")" 200 || return 1
      cmp "$payload" "$body" || { echo "the object in the bucket differs from the file sent"; return 1; }
    else
      cmp "$payload" "$dir/$TUS_UPLOAD_DIR/$id" || { echo "$TUS_UPLOAD_DIR/$id differs from the file sent"; return 1; }
    fi
  }
  check "FullStack native ($label): the bytes are in the store ($TUS_STORE)" in_store || true

  post_finish_logged() {
    local deadline=$((SECONDS + 10))
    until grep -q "Upload $id finished: photo.jpg, $(stat -c %s "$payload") bytes" "$log"; do
      ((SECONDS < deadline)) || { echo "no post-finish log line for upload $id"; return 1; }
      sleep 0.2
    done
  }
  check "FullStack native ($label): the post-finish hook logs the finished upload" post_finish_logged || true

  terminated() {
    curl -sS -o /dev/null -D "$headers" -X DELETE "$upload_url" -H 'Tus-Resumable: 1.0.0' || { echo "DELETE failed"; return 1; }
    expect "DELETE status" "$(status_of "$headers")" 204 || return 1
    curl -sS -o /dev/null -D "$headers" -I "$upload_url" -H 'Tus-Resumable: 1.0.0' || { echo "HEAD failed"; return 1; }
    expect "HEAD status after DELETE" "$(status_of "$headers")" 404 || return 1
  }
  check "FullStack native ($label): DELETE terminates the upload" terminated || true
  stop_app
}

if check "FullStack: publishes as a native executable (Native AOT, $rid) without a trim or AOT warning" fullstack_publish; then

  export TUS_QUOTA_MAX_UPLOAD_BYTES=$((4 << 20))

  # 1. On disk, locked in memory.
  TUS_STORE=file TUS_LOCKER=memory TUS_UPLOAD_DIR=data fullstack_run "file store, memory locker"

  # The locker really is Consul when asked: with no agent at the address, the start-up check stops the app.
  no_consul() {
    local log="$work/fullstack-no-consul.log" rc=0
    (cd "$work" && TUS_LOCKER=consul TUS_CONSUL_ADDRESS=http://127.0.0.1:9 timeout 60 "$native/FullStack" --urls http://127.0.0.1:0) >"$log" 2>&1 || rc=$?
    ((rc != 0 && rc != 124)) || { cat "$log"; echo "expected the app to stop at start-up (exit $rc)"; return 1; }
    grep -qi consul "$log" || { cat "$log"; echo "the start-up failure does not name Consul"; return 1; }
    ! grep -q 'Now listening on' "$log" || { echo "the app listened although Consul cannot be reached"; return 1; }
  }
  check "FullStack native (Consul locker, no agent): refuses to start, naming Consul" no_consul || true

  # 2. In S3 (Ceph RGW), locked in Consul.
  consul_address="${TUS_CONSUL_ADDRESS:-${CONSUL_HTTP_ADDR:-}}"
  missing=()
  [[ -n "${TUS_S3_ENDPOINT:-}" && -n "${TUS_S3_ACCESS_KEY:-}" && -n "${TUS_S3_SECRET_KEY:-}" ]] || missing+=("no S3 server (TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY, TUS_S3_SECRET_KEY)")
  [[ -n "$consul_address" ]] || missing+=("no Consul agent (TUS_CONSUL_ADDRESS or CONSUL_HTTP_ADDR)")
  label="S3 store, Consul locker"
  if ((${#missing[@]})); then
    reason="$(printf '%s; ' "${missing[@]}")(eng/services/ceph.sh and consul.sh start them)"
    if [[ "${CI:-}" == true ]]; then
      not_ok "FullStack native ($label)" "$reason; CI must provide every service"
    else
      skip "FullStack native ($label)" "$reason"
    fi
  else
    bucket=tus-samples
    region="${TUS_S3_REGION:-us-east-1}"
    # The bucket, created with one signed request (curl signs with AWS SigV4; S3 wants the body's hash, here empty).
    bucket_status="$(curl -sS -o "$work/bucket" -w '%{http_code}' -X PUT "$TUS_S3_ENDPOINT/$bucket" \
      --aws-sigv4 "aws:amz:$region:s3" --user "$TUS_S3_ACCESS_KEY:$TUS_S3_SECRET_KEY" \
      -H "x-amz-content-sha256: $empty_sha256" || true)"
    if [[ "$bucket_status" != 200 && "$bucket_status" != 409 ]]; then
      not_ok "FullStack native ($label): starts" "creating bucket $bucket answered ${bucket_status:-nothing}: $(cat "$work/bucket" 2>/dev/null)"
    else
      # A prefix of its own per run: the quota rebuilds its accounting from the listing of exactly these uploads.
      TUS_STORE=s3 TUS_S3_BUCKET="$bucket" TUS_S3_OBJECT_PREFIX="samples-$(date -u +%Y%m%d%H%M%S)-$$/" TUS_S3_REGION="$region" \
        TUS_LOCKER=consul TUS_CONSUL_ADDRESS="$consul_address" fullstack_run "$label"
    fi
  fi
fi

write_tap
trap stop_app EXIT
printf '\neng/test-samples.sh: %s passed, %s failed, %s skipped (%s); InMemoryStore exited %s\n' \
  "$passed" "$failed" "$skipped" "${tap_file#"$root"/}" "$rc"
((failed == 0 && rc == 0))
