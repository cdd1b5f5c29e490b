#!/usr/bin/env bash
# Sets up and runs every test: unit, plugin ABI and conformance, and the
# integration tests against real HTTP(S) receivers on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
scripts/build-plugins.sh debug
swift test --skip-build --disable-xctest "$@"
