#!/usr/bin/env bash
# Runs Tus.Server from the repository root (uploads in ./data unless told otherwise); options pass through, e.g.
#   bash eng/run-server.sh --port 9000 --max-size 1073741824      (see --help for every setting)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec dotnet run --project Tus.Server -c "${CONFIGURATION:-Release}" -- "$@"
