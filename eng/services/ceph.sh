#!/usr/bin/env bash
# A real S3 server for tests: Debian's Ceph (one monitor, one OSD on memstore, RADOS Gateway) on 127.0.0.1.
#
#   bash eng/services/ceph.sh install   apt-get install ceph-mon ceph-osd radosgw (no daemon is started); idempotent
#   bash eng/services/ceph.sh start [--port N]   starts the cluster, creates an S3 user, writes $DIR/env; idempotent
#   bash eng/services/ceph.sh status    exit 0 when running (prints the env file), 3 when not
#   bash eng/services/ceph.sh check     bucket, put/get, multipart upload against the running gateway (python3)
#   bash eng/services/ceph.sh stop      stops the daemons by their recorded PIDs and removes $DIR
#
# DIR (config, data, run, logs, admin sockets, PID files, env) is TUS_CEPH_DIR, by default
# artifacts/services/ceph under the repository root. TUS_CEPH_PORT (or --port) picks the gateway's port; a free one
# otherwise. TUS_CEPH_MEMSTORE_BYTES bounds the OSD's RAM store (default 1 GiB). Tests `source "$DIR/env"`:
#   TUS_S3_ENDPOINT=http://127.0.0.1:PORT TUS_S3_ACCESS_KEY=... TUS_S3_SECRET_KEY=... TUS_S3_REGION=us-east-1
#
# TUS_CEPH_TLS=1 (opt-in) also serves HTTPS: a self-signed CA and a server certificate for 127.0.0.1 (IP SAN) are
# made with openssl in $DIR/tls, the gateway listens on TUS_CEPH_TLS_PORT (a free one otherwise) beside its plain
# port, and the env file gains TUS_S3_TLS_ENDPOINT=https://127.0.0.1:TLS_PORT and TUS_S3_CA_FILE=$DIR/tls/ca.pem.
# Clients trust the CA explicitly: curl --cacert, SSL_CERT_FILE for .NET on Linux, NODE_EXTRA_CA_CERTS for Node.
# With TUS_CEPH_TLS=1, install also installs openssl. Without it, nothing about the cluster changes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(services_repo_root)"
DIR="${TUS_CEPH_DIR:-$ROOT/artifacts/services/ceph}"
CONF="$DIR/ceph.conf"
ENV_FILE="$DIR/env"
PACKAGES=(ceph-mon ceph-osd radosgw)
ACCESS_KEY="TUSTESTACCESSKEY0001"
SECRET_KEY="tus-test-secret-key-0000000000000000000001"
REGION="us-east-1"
MEMSTORE_BYTES="${TUS_CEPH_MEMSTORE_BYTES:-1073741824}"
DAEMONS=(client.rgw.tus osd.0 mon.a) # stop order
TLS=0
[[ "${TUS_CEPH_TLS:-0}" == 1 ]] && TLS=1
TLS_DIR="$DIR/tls"
((TLS)) && PACKAGES+=(openssl)

say() { echo "ceph: $*"; }
die() { echo "ceph: $*" >&2; exit 1; }
ceph_cli() { timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"; }

installed() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
  done
  command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v radosgw >/dev/null &&
    { ((!TLS)) || command -v openssl >/dev/null; }
}

cmd_install() {
  if installed; then
    say "already installed ($(ceph --version 2>/dev/null | awk '{print $3}'))"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "installing needs root (apt-get install ${PACKAGES[*]})"
  command -v apt-get >/dev/null || die "apt-get not found"
  local t0 policy="/usr/sbin/policy-rc.d" backup="" updated=0
  t0="$(services_now)"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start (or restart) any daemon: policy-rc.d exits 101 while we install.
  if [[ -e "$policy" ]]; then
    backup="$(mktemp)"
    cp -p "$policy" "$backup"
  fi
  # shellcheck disable=SC2064
  trap "if [[ -n '$backup' ]]; then mv -f '$backup' '$policy'; else rm -f '$policy'; fi" EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  local apt_opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if ! apt-get install -s "${apt_opts[@]}" "${PACKAGES[@]}" >/dev/null 2>&1; then
    say "apt-get update (the packages are not installable from the current lists)"
    apt-get update -q </dev/null
    updated=1
  fi
  say "apt-get install --no-install-recommends ${PACKAGES[*]}"
  if ! apt-get install "${apt_opts[@]}" "${PACKAGES[@]}" </dev/null; then
    ((updated)) && die "apt-get install failed"
    say "install failed with the current lists; apt-get update and retry"
    apt-get update -q </dev/null
    apt-get install "${apt_opts[@]}" "${PACKAGES[@]}" </dev/null
  fi
  installed || die "packages still missing after apt-get install"
  say "installed $(ceph --version | awk '{print $3}') in $(services_elapsed "$t0")s"
}

pidfile() { echo "$DIR/run/$1.pid"; }
pid_of() { [[ -f "$(pidfile "$1")" ]] && tr -dc 0-9 <"$(pidfile "$1")" || true; }

# 0: all daemons alive; 1: none recorded or alive; 2: some alive, some not.
running_state() {
  local d alive=0 total=0
  for d in "${DAEMONS[@]}"; do
    total=$((total + 1))
    services_pid_alive "$(pid_of "$d")" && alive=$((alive + 1))
  done
  ((alive == total)) && [[ -f "$ENV_FILE" ]] && return 0
  ((alive == 0)) && return 1
  return 2
}

stop_daemons() {
  local d
  for d in "${DAEMONS[@]}"; do
    # The OSD's memstore writes its contents out on a clean shutdown; the data is thrown away, so do not wait long.
    services_stop_pidfile "$(pidfile "$d")" 15
  done
}

show_logs() {
  local f
  for f in "$DIR"/log/*.log; do
    [[ -f "$f" ]] || continue
    echo "---- tail $f" >&2
    tail -n 20 "$f" >&2
  done
}

fail_start() {
  echo "ceph: start failed: $*" >&2
  show_logs
  stop_daemons
  echo "ceph: daemons stopped; logs kept in $DIR/log" >&2
  exit 1
}

wait_for() { # seconds description command...
  local limit="$1" what="$2" i d
  shift 2
  for ((i = 0; i < limit * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    for d in "${DAEMONS[@]}"; do
      if [[ -f "$(pidfile "$d")" ]] && ! services_pid_alive "$(pid_of "$d")"; then
        fail_start "$d exited while waiting for $what: $(tail -n 5 "$DIR/log/$d.out" 2>/dev/null)"
      fi
    done
    sleep 0.2
  done
  fail_start "timed out after ${limit}s waiting for $what"
}

osd_up() { ceph_cli osd stat -f json 2>/dev/null | grep -Eq '"num_up_osds": ?1[,}]'; }
rgw_http() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$RGW_PORT/"; }
rgw_https() { curl -sf -o /dev/null --max-time 2 --cacert "$TLS_DIR/ca.pem" "https://127.0.0.1:$RGW_TLS_PORT/"; }

# A throw-away CA (10 days) and a server certificate it signs for IP 127.0.0.1, in $TLS_DIR; keys readable by the
# owner only. Real clients validate the chain and the IP SAN, so nothing has to switch validation off.
make_tls_certificates() {
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 10 -subj "/CN=tus test CA $(date -u +%Y%m%dT%H%M%S)" \
    -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >"$DIR/log/openssl.out" 2>&1 || return 1
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" \
    -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" >>"$DIR/log/openssl.out" 2>&1 || return 1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1" >"$TLS_DIR/server.ext"
  openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
    -days 10 -sha256 -extfile "$TLS_DIR/server.ext" -out "$TLS_DIR/server.pem" >>"$DIR/log/openssl.out" 2>&1 ||
    return 1
  chmod 600 "$TLS_DIR"/*.key
}

cmd_start() {
  local port="${TUS_CEPH_PORT:-}"
  while (($#)); do
    case "$1" in
      --port) port="$2"; shift 2 ;;
      --port=*) port="${1#*=}"; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  local state=0
  running_state || state=$?
  if ((state == 0)); then
    if ((TLS)) && ! grep -q '^TUS_S3_TLS_ENDPOINT=' "$ENV_FILE"; then
      die "already running in $DIR without TLS; stop it first to start with TUS_CEPH_TLS=1"
    fi
    say "already running in $DIR"
    cat "$ENV_FILE"
    return 0
  fi
  if ((state == 2)); then
    say "a previous cluster in $DIR is partly running; stopping it first"
    stop_daemons
  fi
  installed || die "not installed: run 'bash eng/services/ceph.sh install' first"
  if [[ -n "$port" ]] && services_port_busy "$port"; then
    die "port $port on 127.0.0.1 is already in use"
  fi
  local t0
  t0="$(services_now)"
  rm -rf "$DIR"
  mkdir -p "$DIR"/{mon,osd,run,log,rgw,tmp}
  chmod 700 "$DIR"

  MON_PORT="$(services_free_port)"
  if [[ -n "$port" ]]; then
    RGW_PORT="$port"
  else
    RGW_PORT="$(services_free_port "$MON_PORT")"
  fi
  local frontends="beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1"
  if ((TLS)); then
    RGW_TLS_PORT="${TUS_CEPH_TLS_PORT:-}"
    if [[ -n "$RGW_TLS_PORT" ]]; then
      services_port_busy "$RGW_TLS_PORT" && die "port $RGW_TLS_PORT on 127.0.0.1 is already in use"
    else
      RGW_TLS_PORT="$(services_free_port "$MON_PORT" "$RGW_PORT")"
    fi
    make_tls_certificates || fail_start "openssl: $(tail -n 5 "$DIR/log/openssl.out")"
    frontends+=" ssl_endpoint=127.0.0.1:$RGW_TLS_PORT ssl_certificate=$TLS_DIR/server.pem"
    frontends+=" ssl_private_key=$TLS_DIR/server.key"
  fi
  local fsid osd_uuid
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"

  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
keyring = /dev/null
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon cluster log file = $DIR/log/cluster.log
log to stderr = false
err to stderr = true
crash dir = $DIR/tmp
exporter sock dir = $DIR/run
tmp dir = $DIR/tmp
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mgr initial modules =

[mon]
mon data = $DIR/mon/\$name

[osd]
osd data = $DIR/osd/\$name
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES

[client.rgw.tus]
rgw frontends = $frontends
rgw data = $DIR/rgw
rgw dns name = 127.0.0.1
rgw enable usage log = false
# radosgw defaults its monitor connections to msgr2 'secure' mode, which auth none cannot offer (EACCES, then a
# 300 s hang): let it use crc mode like the other daemons.
ms mon client mode = crc
client mount timeout = 30
rgw init timeout = 60
CONF

  say "monitor on 127.0.0.1:$MON_PORT"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/tmp/monmap" >/dev/null ||
    fail_start "monmaptool"
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/tmp/monmap" >"$DIR/log/mkfs-mon.out" 2>&1 ||
    fail_start "ceph-mon --mkfs: $(tail -n 5 "$DIR/log/mkfs-mon.out")"
  services_launch "$(pidfile mon.a)" "$DIR/log/mon.a.out" ceph-mon -f -c "$CONF" -i a
  wait_for 30 "the monitor" ceph_cli mon stat

  say "OSD on memstore ($MEMSTORE_BYTES bytes)"
  local osd_id
  osd_id="$(ceph_cli osd new "$osd_uuid")" || fail_start "ceph osd new"
  [[ "$osd_id" == 0 ]] || fail_start "unexpected OSD id '$osd_id'"
  mkdir -p "$DIR/osd/osd.0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/mkfs-osd.out" 2>&1 ||
    fail_start "ceph-osd --mkfs: $(tail -n 5 "$DIR/log/mkfs-osd.out")"
  services_launch "$(pidfile osd.0)" "$DIR/log/osd.0.out" ceph-osd -f -c "$CONF" -i 0
  wait_for 60 "the OSD to be up" osd_up

  say "RADOS Gateway on 127.0.0.1:$RGW_PORT"
  services_launch "$(pidfile client.rgw.tus)" "$DIR/log/client.rgw.tus.out" radosgw -f -c "$CONF" -n client.rgw.tus
  wait_for 120 "the gateway to answer HTTP" rgw_http
  if ((TLS)); then
    say "RADOS Gateway HTTPS on 127.0.0.1:$RGW_TLS_PORT (CA $TLS_DIR/ca.pem)"
    wait_for 30 "the gateway to answer HTTPS" rgw_https
  fi

  timeout 60 radosgw-admin -c "$CONF" user create --uid=tus --display-name="tus tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$DIR/log/user-create.out" 2>&1 ||
    fail_start "radosgw-admin user create: $(tail -n 5 "$DIR/log/user-create.out")"

  cat >"$ENV_FILE.tmp" <<ENV
TUS_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
TUS_S3_ACCESS_KEY=$ACCESS_KEY
TUS_S3_SECRET_KEY=$SECRET_KEY
TUS_S3_REGION=$REGION
ENV
  if ((TLS)); then
    printf '%s\n' "TUS_S3_TLS_ENDPOINT=https://127.0.0.1:$RGW_TLS_PORT" "TUS_S3_CA_FILE=$TLS_DIR/ca.pem" >>"$ENV_FILE.tmp"
  fi
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  local d pids=""
  for d in "${DAEMONS[@]}"; do pids+=" $d=$(pid_of "$d")"; done
  say "ready in $(services_elapsed "$t0")s (pids$pids); env in $ENV_FILE:"
  cat "$ENV_FILE"
}

cmd_stop() {
  local state=0
  running_state || state=$?
  if ((state == 1)) && [[ ! -d "$DIR" ]]; then
    say "not running"
    return 0
  fi
  stop_daemons
  rm -rf "$DIR"
  say "stopped; removed $DIR"
}

cmd_status() {
  local state=0 d
  running_state || state=$?
  case "$state" in
    0)
      for d in "${DAEMONS[@]}"; do say "$d pid $(pid_of "$d") running"; done
      cat "$ENV_FILE"
      ;;
    1) say "not running"; return 3 ;;
    2)
      for d in "${DAEMONS[@]}"; do
        if services_pid_alive "$(pid_of "$d")"; then say "$d pid $(pid_of "$d") running"; else say "$d not running"; fi
      done
      say "partly running: 'stop' then 'start'"
      return 1
      ;;
  esac
}

cmd_check() {
  running_state || die "not running"
  command -v python3 >/dev/null || die "check needs python3"
  # shellcheck disable=SC1090
  (set -a; source "$ENV_FILE"; set +a; python3 - <<'PY'
# Signs S3 requests with AWS Signature Version 4 (standard library only) and exercises the gateway.
import datetime, hashlib, hmac, os, re, sys, urllib.error, urllib.parse, urllib.request

endpoint = os.environ["TUS_S3_ENDPOINT"].rstrip("/")
access, secret, region = os.environ["TUS_S3_ACCESS_KEY"], os.environ["TUS_S3_SECRET_KEY"], os.environ["TUS_S3_REGION"]
host = urllib.parse.urlparse(endpoint).netloc

def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()

def request(method, path, query=None, body=b"", headers=None):
    query = query or {}
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    hdrs = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
    signed = ";".join(sorted(hdrs))
    canonical_headers = "".join(f"{k}:{hdrs[k].strip()}\n" for k in sorted(hdrs))
    canonical = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), canonical_query, canonical_headers, signed,
                           payload_hash])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = sign(sign(sign(sign(("AWS4" + secret).encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, "
                             f"Signature={signature}")
    del hdrs["host"]
    url = endpoint + urllib.parse.quote(path, safe="/-_.~") + ("?" + canonical_query if canonical_query else "")
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()

def expect(what, result, status=200):
    code, headers, body = result
    if code != status:
        sys.exit(f"check: {what}: HTTP {code} (expected {status}): {body[:300]!r}")
    print(f"check: {what}: HTTP {code}")
    return headers, body

bucket = "tus-check-" + os.urandom(4).hex()
expect("create bucket", request("PUT", f"/{bucket}"))
data = os.urandom(100_000)
expect("put object", request("PUT", f"/{bucket}/hello.bin", body=data))
_, got = expect("get object", request("GET", f"/{bucket}/hello.bin"))
assert got == data, "get returned different bytes"
_, got = expect("get range", request("GET", f"/{bucket}/hello.bin", headers={"Range": "bytes=10-19"}), 206)
assert got == data[10:20], "range get returned different bytes"

_, body = expect("create multipart upload", request("POST", f"/{bucket}/multi.bin", {"uploads": ""}))
upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", body).group(1).decode()
parts = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
etags = []
for n, part in enumerate(parts, 1):
    h, _ = expect(f"upload part {n}",
                  request("PUT", f"/{bucket}/multi.bin", {"partNumber": str(n), "uploadId": upload_id}, part))
    etags.append(h.get("ETag") or h.get("Etag"))
_, body = expect("list parts", request("GET", f"/{bucket}/multi.bin", {"uploadId": upload_id}))
assert body.count(b"<Part>") == 2, body
complete = "<CompleteMultipartUpload>" + "".join(
    f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, 1)) + \
    "</CompleteMultipartUpload>"
expect("complete multipart upload",
       request("POST", f"/{bucket}/multi.bin", {"uploadId": upload_id}, complete.encode()))
_, got = expect("get multipart object", request("GET", f"/{bucket}/multi.bin"))
assert got == b"".join(parts), "multipart object has different bytes"

_, body = expect("create multipart upload to abort", request("POST", f"/{bucket}/gone.bin", {"uploads": ""}))
upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", body).group(1).decode()
expect("abort multipart upload", request("DELETE", f"/{bucket}/gone.bin", {"uploadId": upload_id}), 204)

for key in ("hello.bin", "multi.bin"):
    expect(f"delete {key}", request("DELETE", f"/{bucket}/{key}"), 204)
expect("delete bucket", request("DELETE", f"/{bucket}"), 204)
print("check: S3 OK at " + endpoint)
PY
  )
}

services_main "$@"
