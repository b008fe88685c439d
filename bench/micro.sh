#!/usr/bin/env bash
# The engine's hot paths under BenchmarkDotNet, allocations included: header parsing, metadata codec, checksum, and the
# body copy loop. A short job by default (a few minutes in all); results land in bench/results/micro/.
#   bash bench/micro.sh [--full] [BenchmarkDotNet options, e.g. --filter '*BodyCopy*']
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
exec </dev/null
job=(--job short)
if [[ "${1:-}" == "--full" ]]; then job=(); shift; fi
filter=(--filter '*')
for arg in "$@"; do [[ "$arg" == "--filter" ]] && filter=(); done
dotnet build "$bench/Tus.MicroBench" -c Release -v quiet -nologo -clp:ErrorsOnly >&2
dll="$(find "$bench/Tus.MicroBench/bin/Release" -name Tus.MicroBench.dll -path '*net10.0*' | head -n 1)"
cd "$bench"
dotnet "$dll" "${job[@]}" "${filter[@]}" --artifacts "$bench/results/micro" --exporters github "$@"
