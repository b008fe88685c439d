#!/usr/bin/env bash
# Packs the libraries (eng/pack.sh) and runs the third-party sample in samples/InMemoryStore against exactly the version
# just packed, consuming Tus.Core and Tus.Conformance as packages from the local feed, the way an outsider would (the
# protocol suite needs no locker package). Fails when the restore resolved any other version, or any other Tus package.
#
# Usage: eng/test-sample.sh [--results DIR]    with --results, also writes a trx file into DIR (eng/test.sh counts it)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
exec </dev/null

results=""
while (($#)); do
  case "$1" in
    --results) results="$2"; shift 2 ;;
    *) echo "eng/test-sample.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# eng/test.sh packs once for every consumer and passes the version on; alone, this script packs afresh.
version="${TUS_PACKAGE_VERSION:-}"
if [[ -z "$version" || ! -f "$root/artifacts/packages/Tus.Core.$version.nupkg" ]]; then
  base="$(dotnet msbuild Tus.Core/Tus.Core.csproj -getProperty:Version)"
  version="$base-local.$(date -u +%Y%m%d-%H%M%S)"
  bash "$root/eng/pack.sh" "$version"
fi

sample="$root/samples/InMemoryStore/InMemoryStore.csproj"
args=(test "$sample" -c "${CONFIGURATION:-Release}" -p:TusVersion="$version" --logger "console;verbosity=normal")
if [[ -n "$results" ]]; then
  mkdir -p "$results"
  args+=(--results-directory "$results" --logger "trx;LogFilePrefix=sample")
fi

printf '\n==> dotnet test samples/InMemoryStore against Tus.* %s from artifacts/packages\n' "$version"
rc=0
dotnet "${args[@]}" || rc=$?

# The restore must have taken exactly the packages just packed, not a project, a cached or an older build.
assets="$root/samples/InMemoryStore/obj/project.assets.json"
for package in Tus.Core Tus.Conformance; do
  if ! grep -q "\"$package/$version\"" "$assets"; then
    echo "eng/test-sample.sh: the sample did not restore $package $version" >&2
    rc=1
  fi
done
# Nothing else of ours: the conformance package must not drag in ASP.NET Core hosting or a locker.
for package in Tus.AspNetCore Tus.Lockers.Memory Tus.Stores.File; do
  if grep -q "\"$package/" "$assets"; then
    echo "eng/test-sample.sh: the sample restored $package, which Tus.Conformance must not depend on" >&2
    rc=1
  fi
done
exit "$rc"
