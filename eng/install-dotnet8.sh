#!/usr/bin/env bash
# Installs the .NET 8 runtimes (Microsoft.NETCore.App and Microsoft.AspNetCore.App) beside the .NET 10 SDK, so that
# the libraries' net8.0 builds are tested on the runtime their users run. The runtimes come from the runtime packs
# NuGet serves (Microsoft.NETCore.App.Runtime.linux-x64 and Microsoft.AspNetCore.App.Runtime.linux-x64), restored
# with a throwaway project and laid out as the shared frameworks an installer would put there.
#
#   bash eng/install-dotnet8.sh          installs when no 8.0 runtime is there; prints what it found or installed
#
# Needs write access to the SDK's folder (root, usually). TUS_DOTNET8_VERSION picks the patch (default below).
set -euo pipefail

version="${TUS_DOTNET8_VERSION:-8.0.34}"
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
shared="$dotnet_root/shared"

# have FRAMEWORK FILE: an 8.0 version of the shared framework with that file in it
have() { compgen -G "$shared/$1/8.0.*/$2" >/dev/null; }
if have Microsoft.NETCore.App System.Private.CoreLib.dll && have Microsoft.AspNetCore.App Microsoft.AspNetCore.dll; then
  echo "install-dotnet8: .NET 8 runtimes present ($(ls "$shared/Microsoft.NETCore.App" | grep '^8\.' | tr '\n' ' '))"
  exit 0
fi
if [[ ! -w "$shared" ]]; then
  echo "install-dotnet8: cannot write $shared: run as root to install the .NET 8 runtimes (the net8.0 tests need them)" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/runtimes.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Microsoft.NETCore.App.Runtime.linux-x64" Version="[$version]" />
    <PackageDownload Include="Microsoft.AspNetCore.App.Runtime.linux-x64" Version="[$version]" />
  </ItemGroup>
</Project>
EOF
# Its own packages folder: the restore must not depend on (or fill) the user's global cache.
dotnet restore "$work/runtimes.csproj" --packages "$work/packages" -nologo -v quiet

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  *) echo "install-dotnet8: only linux-x64 is scripted here" >&2; exit 1 ;;
esac

install_framework() { # install_framework FRAMEWORK PACKAGE
  local pack="$work/packages/$(echo "$2" | tr '[:upper:]' '[:lower:]')/$version/runtimes/$rid"
  local target="$shared/$1/$version"
  [[ -d "$pack/lib/net8.0" ]] || { echo "install-dotnet8: $2 $version has no lib/net8.0" >&2; exit 1; }
  rm -rf "$target.partial"
  mkdir -p "$target.partial"
  cp -p "$pack/lib/net8.0/"* "$target.partial/"
  if [[ -d "$pack/native" ]]; then cp -p "$pack/native/"* "$target.partial/"; fi
  rm -rf "$target"
  mv "$target.partial" "$target"
}
install_framework Microsoft.NETCore.App Microsoft.NETCore.App.Runtime.linux-x64
install_framework Microsoft.AspNetCore.App Microsoft.AspNetCore.App.Runtime.linux-x64
echo "install-dotnet8: installed Microsoft.NETCore.App and Microsoft.AspNetCore.App $version into $shared"
