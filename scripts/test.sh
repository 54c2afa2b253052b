#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (gpu tests report
# "skipped" without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@"
cd build
ctest --output-on-failure --timeout 1200
