#!/usr/bin/env bash
# Sets up and runs every test: unit, plugin ABI and conformance, and the
# integration tests against real peers on 127.0.0.1. The plugin-kit
# commands' tests (which build plugin projects from scratch and would
# starve the peers of the other suites of CPU) run on their own, last.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
scripts/build-plugins.sh debug
swift test --skip-build --disable-xctest --skip PluginKitCommandTests "$@"
swift test --skip-build --disable-xctest --filter PluginKitCommandTests "$@"
