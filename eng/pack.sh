#!/usr/bin/env bash
# Packs every library of the repository, and Tus.Server as a .NET tool (command tus-server), into artifacts/packages,
# the folder nuget.config adds as the feed "tus-local". Builds are CI builds (ContinuousIntegrationBuild: deterministic,
# source paths /_/... in the embedded PDBs), so a pack does not depend on where the clone lives.
# Every pack gets a version no earlier pack used, <VersionPrefix of Directory.Build.props>-local.<UTC date-time>, so a
# NuGet cache can never serve stale bits under a reused version; a release passes its plain version (eng/pack.sh 0.1.0). It builds in a tree of its own (artifacts/pack-build), so
# the regular bin/ and obj/ folders are left alone, and concurrent runs wait for each other.
#
# Usage: eng/pack.sh [VERSION]    (VERSION defaults to TUS_PACKAGE_VERSION, then to a fresh local version)
# The last line printed is the version packed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
exec </dev/null

feed="$root/artifacts/packages"
build="$root/artifacts/pack-build"
mkdir -p "$feed" "$build"

# One pack at a time: they share the build tree.
exec 9>"$build/.lock"
flock 9

version="${1:-${TUS_PACKAGE_VERSION:-}}"
if [[ -z "$version" ]]; then
  base="$(dotnet msbuild Tus.Core/Tus.Core.csproj -getProperty:Version)"
  version="$base-local.$(date -u +%Y%m%d-%H%M%S)"
fi

# The libraries: every top-level Tus.*/Tus.*.csproj that is packable (Tus.Server, an application, is packed below).
libraries=()
for project in Tus.*/Tus.*.csproj; do
  if [[ "$(dotnet msbuild "$project" -getProperty:IsPackable)" == "true" ]]; then
    libraries+=("$project")
  fi
done
if ((${#libraries[@]} == 0)); then
  echo "eng/pack.sh: no packable library found" >&2
  exit 1
fi

# Local packs older than an hour are dropped; a run in progress elsewhere keeps its own.
find "$feed" -maxdepth 1 -name 'Tus.*-local.*.nupkg' -mmin +60 -delete

# One solution of just the libraries, so that a single restore and build serves every pack.
{
  echo '<Solution>'
  for project in "${libraries[@]}"; do
    echo "  <Project Path=\"../../$project\" />"
  done
  echo '</Solution>'
} >"$build/Libraries.slnx"

printf '\n==> dotnet pack %s (%s)\n' "${libraries[*]}" "$version"
common=(-c Release --artifacts-path "$build" -p:Version="$version" -p:PackageOutputPath="$feed" -p:ContinuousIntegrationBuild=true)
dotnet pack "$build/Libraries.slnx" "${common[@]}"

# The server as a .NET tool: PackAsTool only here (Tus.Server.csproj), since the native publish cannot be a tool.
printf '\n==> dotnet pack Tus.Server as the tool tus-server (%s)\n' "$version"
dotnet pack Tus.Server/Tus.Server.csproj "${common[@]}" -p:TusPackAsTool=true

echo
echo "Packed ${#libraries[@]} libraries into $feed:"
for project in "${libraries[@]}"; do
  echo "  $(basename "$project" .csproj).$version.nupkg"
done
echo "and the tool: Tus.Server.$version.nupkg (dotnet tool install --tool-path DIR --add-source $feed --version $version Tus.Server)"
echo "$version"
