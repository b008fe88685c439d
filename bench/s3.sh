#!/usr/bin/env bash
# The S3 benchmark: a 1 GiB upload into a real Ceph RGW (eng/services/ceph.sh) through Tus.Server on the S3 store
# (one PATCH, and 64 MiB PATCHes), beside a direct AWS SDK multipart upload of the same bytes and beside @tus/server
# with @tus/s3-store, interleaved; prints MB/s, server CPU seconds, peak RSS and peak temporary disk, and writes
# bench/results/s3-latest.md. Options pass through: --size-mib N (default 1024), --rounds N (default 2).
# Starts Ceph (8 GiB memstore) when it is not running, and stops it afterwards only if it started it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec </dev/null

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

(cd bench/node && npm ci --no-audit --no-fund)
dotnet build Tus.Server -c Release
dotnet build bench/Tus.Bench.S3 -c Release
dotnet bench/Tus.Bench.S3/bin/Release/net10.0/Tus.Bench.S3.dll "$@"
