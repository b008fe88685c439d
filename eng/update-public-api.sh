#!/usr/bin/env bash
# Rewrites PublicAPI.Unshipped.txt of the given packages (default: every package) from what the compiler sees, for
# when a public API change is intended. The PublicApiAnalyzers fail the build on any public change the files do not
# list; this script lists them, and the diff of the files is the API change to review in the commit.
#
# Usage: eng/update-public-api.sh [Tus.Core Tus.Stores.File ...]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
exec </dev/null

packages=("$@")
if ((${#packages[@]} == 0)); then
  for file in Tus.*/PublicAPI.Shipped.txt; do
    packages+=("$(dirname "$file")")
  done
fi

# Dependencies first (Tus.Core), so that each package builds against an already updated one.
ordered=()
for package in Tus.Core "${packages[@]}"; do
  if [[ " ${packages[*]} " == *" $package "* && " ${ordered[*]-} " != *" $package "* ]]; then
    ordered+=("$package")
  fi
done

for package in "${ordered[@]}"; do
  unshipped="$package/PublicAPI.Unshipped.txt"
  printf '#nullable enable\n' >"$unshipped"
  log="$(mktemp)"
  # Every target framework: the API must be the same on each, and each reports what it lacks.
  dotnet build "$package/$package.csproj" -c Release -p:TreatWarningsAsErrors=false --no-incremental >"$log" 2>&1 || true
  grep -oE "RS0016: Symbol '[^']+'" "$log" | sed -E "s/^RS0016: Symbol '(.*)'$/\1/" | sort -u >>"$unshipped"
  rm -f "$log"
  echo "$unshipped: $(($(wc -l <"$unshipped") - 1)) entries"
done
