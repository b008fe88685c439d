#!/usr/bin/env bash
# Regenerates the generated sections of docs/configuration.md (the server's settings table, between
# <!-- settings:begin --> and <!-- settings:end -->, and the libraries' options tables, between <!-- options:begin -->
# and <!-- options:end -->) from the code: Tus.Server/ServerSettings.cs and the options classes' XML docs.
#
# It runs the tests that compare the document with the code (tests/Tus.Server.Tests, ConfigurationReferenceTests) with
# TUS_UPDATE_DOCS=1, which makes them rewrite the sections instead of failing. The prose around the markers is never
# touched. Review the diff it prints, then commit it with the code change.
#
# Usage: eng/update-config-reference.sh        (CONFIGURATION=Debug to build Debug instead of Release)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

configuration="${CONFIGURATION:-Release}"
tests=Tus.Server.Tests.Docs.ConfigurationReferenceTests

# First the two tests that own a generated section, rewriting it; then every test of the class, which must now pass
# (the other ones check the prose and the other documents, which only a person can fix).
TUS_UPDATE_DOCS=1 dotnet test tests/Tus.Server.Tests -c "$configuration" -f net10.0 \
  --filter "FullyQualifiedName~$tests.SettingsTable_|FullyQualifiedName~$tests.OptionsTables_"
dotnet test tests/Tus.Server.Tests -c "$configuration" -f net10.0 --no-build --filter "FullyQualifiedName~$tests"

if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$root" --no-pager diff --stat -- docs/configuration.md
fi
