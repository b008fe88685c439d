#!/usr/bin/env bash
# Publishes Tus.Server as a native executable (Native AOT, linux-x64 or linux-arm64 by the machine), installing what
# the native toolchain needs first: Debian's clang (the linker driver ILCompiler calls) and the zlib headers.
#
#   bash eng/publish-native.sh            -> artifacts/native/tus-server (one file; prints its path last)
#   bash eng/publish-native.sh --print    -> prints the executable's path when it is published and current, else exits 3
#
# Idempotent: skips apt-get when clang and zlib1g-dev are installed. Installing needs root; without it the script says
# which packages to install and fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="$root/artifacts/native"
executable="$out/tus-server"
configuration="${CONFIGURATION:-Release}"

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) echo "publish-native: no native build for $(uname -m)" >&2; exit 1 ;;
esac

if [[ "${1:-}" == "--print" ]]; then
  [[ -x "$executable" ]] && { echo "$executable"; exit 0; }
  exit 3
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

packages=()
command -v clang >/dev/null || packages+=(clang)
dpkg-query -W -f='${Status}' zlib1g-dev 2>/dev/null | grep -q 'install ok installed' || packages+=(zlib1g-dev)
if ((${#packages[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    echo "publish-native: native publishing needs ${packages[*]}; install them (apt-get install ${packages[*]}) or run as root" >&2
    exit 1
  fi
  echo "publish-native: apt-get install ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-y -q --no-install-recommends)
  apt-get install "${apt_opts[@]}" "${packages[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install "${apt_opts[@]}" "${packages[@]}"
  }
fi

# The build's identity, shown by `tus-server --version`: the commit, and whether the tree had local changes.
commit="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ "$commit" != unknown ]] && ! git -C "$root" diff --quiet HEAD -- 2>/dev/null; then
  commit="$commit-dirty"
fi

rm -rf "$out"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet publish Tus.Server/Tus.Server.csproj -c "$configuration" -r "$rid" -o "$out" \
  -p:PublishAot=true -p:SourceRevisionId="$commit" -nologo 2>&1 | tee "$log" >&2
[[ "${PIPESTATUS[0]}" == 0 ]] || { echo "publish-native: dotnet publish failed" >&2; exit 1; }
# A trim or AOT warning means some code path may break only in the native build: it fails the publish here.
if grep -E ': (warning|error) (IL[0-9]+|AOT)' "$log" >&2; then
  echo "publish-native: the native build has trim/AOT warnings (above)" >&2
  exit 1
fi
# The command is named as tusd's is; the debug symbols stay beside it for perf and gdb.
mv "$out/Tus.Server" "$executable"
[[ -f "$out/Tus.Server.dbg" ]] && mv "$out/Tus.Server.dbg" "$executable.dbg"
echo "$executable"
