#!/usr/bin/env bash
# The S3 benchmark: a 1 GiB upload into a real Ceph RGW (eng/services/ceph.sh) through Tus.Server on the S3 store
# (one PATCH, and 64 MiB PATCHes), beside a direct AWS SDK multipart upload of the same bytes and beside @tus/server
# with @tus/s3-store, interleaved; prints MB/s, server CPU seconds, peak RSS and peak temporary disk, and writes
# bench/results/s3-latest.md. Options pass through: --size-mib N (default 1024), --rounds N (default 2), --only TEXT.
# Starts Ceph (8 GiB memstore) when it is not running, and stops it afterwards only if it started it.
#
# --tls: everything over HTTPS instead (Ceph started with TUS_CEPH_TLS=1; its CA trusted through SSL_CERT_FILE for
# the .NET processes and NODE_EXTRA_CA_CERTS for Node), plus Tus.Server rows with --s3-disable-content-hashes, which
# only skips payload hashing over HTTPS; writes bench/results/s3-tls.md. Only explicit: an env file that offers HTTPS
# does not switch it on, so the default benchmark stays the HTTP one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec </dev/null

tls=0
for arg in "$@"; do [[ "$arg" == --tls ]] && tls=1; done
if ((tls)); then
  export TUS_CEPH_TLS=1
fi

started=0
if ! bash eng/services/ceph.sh status >/dev/null 2>&1 || [[ ! -f artifacts/services/ceph/env ]]; then
  bash eng/services/ceph.sh install
  TUS_CEPH_MEMSTORE_BYTES="${TUS_CEPH_MEMSTORE_BYTES:-8589934592}" bash eng/services/ceph.sh start
  started=1
fi
trap '((started)) && bash eng/services/ceph.sh stop' EXIT
set -a
# shellcheck disable=SC1091
source artifacts/services/ceph/env
set +a
if ((tls)); then
  if [[ -z "${TUS_S3_TLS_ENDPOINT:-}" || -z "${TUS_S3_CA_FILE:-}" ]]; then
    echo "s3.sh: --tls, but the running Ceph (artifacts/services/ceph) serves HTTP only: stop it first" >&2
    exit 1
  fi
  export TUS_S3_ENDPOINT="$TUS_S3_TLS_ENDPOINT"
fi

(cd bench/node && npm ci --no-audit --no-fund)
dotnet build Tus.Server -c Release
dotnet build bench/Tus.Bench.S3 -c Release
if ((tls)); then
  # Only the benchmark's processes (driver, servers, direct child), which talk to 127.0.0.1 only: SSL_CERT_FILE
  # replaces the default CA bundle, NODE_EXTRA_CA_CERTS adds to Node's.
  SSL_CERT_FILE="$TUS_S3_CA_FILE" NODE_EXTRA_CA_CERTS="$TUS_S3_CA_FILE" \
    dotnet bench/Tus.Bench.S3/bin/Release/net10.0/Tus.Bench.S3.dll "$@"
else
  dotnet bench/Tus.Bench.S3/bin/Release/net10.0/Tus.Bench.S3.dll "$@"
fi
