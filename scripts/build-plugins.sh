#!/usr/bin/env bash
# Builds every channel plugin into .build/herald-plugins/ (the example config's
# plugins folder): the Swift ones with SwiftPM, the C example with cc and
# nothing but the SDK header.
# Usage: scripts/build-plugins.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-debug}
out=.build/herald-plugins
mkdir -p "$out"
for product in HeraldHTTP HeraldSyslog HeraldKafka HeraldEmail HeraldPCAP HeraldPagerDuty HeraldTencent HeraldAliyun; do
  swift build -c "$mode" --product "$product"
  cp ".build/$mode/lib$product.so" "$out/"
done
cc -shared -fPIC -O2 -Wall -Werror -I plugin-sdk/include -o "$out/libfile_channel.so" plugin-sdk/examples/file_channel.c
echo "plugins in $out: $(ls "$out" | tr '\n' ' ')"
