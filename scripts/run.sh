#!/usr/bin/env bash
# Sets up and runs the daemon on the embedded default: SQLite in data/,
# config/herald.example.yaml, the plugins built into .build/herald-plugins.
# Extra arguments go to `herald serve` (for example --log-level debug).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product herald
scripts/build-plugins.sh debug
mkdir -p data
exec .build/debug/herald serve --config config/herald.example.yaml "$@"
