#!/usr/bin/env bash
# Installs Debian's Chromium for the browser end-to-end test (tests/e2e/browser.test.mjs), which drives it with
# playwright-core; nothing downloads a browser build of its own. Does nothing when the browser is already there.
# Needs root and apt-get; without them it says why and exits 0, and the browser test then reports SKIPPED. When
# apt-get is there but the install fails, it exits 1: a machine that could have the browser must not skip its test.
# Usage: bash eng/install-chromium.sh        (CHROMIUM_PATH overrides /usr/bin/chromium)
set -euo pipefail

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$chromium" ]]; then
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-chromium: not root, cannot install Chromium with apt-get; the browser test will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-chromium: apt-get not found, cannot install Chromium; the browser test will be skipped" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: apt-get install chromium"
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
"$chromium" --version
