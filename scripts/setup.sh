#!/usr/bin/env bash
# Installs the Debian packages Herald builds and tests with, when missing.
# Needs root (or sudo) the first time; later runs find everything and return at once.
set -euo pipefail
packages=(
  libcurl4-openssl-dev libssl-dev librdkafka-dev libpcap-dev libffi-dev libsqlite3-dev  # build: channels and the store
  python3 openssl curl                                           # tests: the HTTP(S) receiver and its certificates
  rsyslog rsyslog-openssl kcat python3-aiosmtpd                  # tests: syslog (with TLS) and SMTP servers, a Kafka consumer
  python3-prometheus-client python3-jsonschema python3-yaml     # tests: independent readers of /metrics and the OpenAPI document
  chromium chromium-driver python3-selenium                      # tests: the console in a real, headless browser
  nginx-light                                                    # benchmark: a receiver faster than the daemon
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first" >&2; exit 1; }
