#!/usr/bin/env bash
# Builds examples/constant-descriptor against a clean `cmake --install` of
# the SDK alone, then loads it into the host with its settings.
# Usage: examples_build_test.sh SOURCE_DIR BUILD_DIR NOMTAG_BINARY
set -euo pipefail
src=$1 build=$2 nomtag=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/sdk" >/dev/null
# Nothing but the SDK was installed.
test -f "$work/sdk/include/nomtag/plugin.h"
test ! -e "$work/sdk/bin"

cmake -S "$src/examples/constant-descriptor" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$work/sdk" >/dev/null
cmake --build "$work/example" >/dev/null
plugin="$work/example/nomtag-constant-descriptor.so"
test -f "$plugin"

# Only the entry symbol is exported: no weak C++ template symbols either.
exported=$(nm -D --defined-only "$plugin" | awk '{print $3}')
[ "$exported" = "nomtag_entry" ] || { echo "exports: $exported"; exit 1; }

cat > "$work/plugins.yaml" <<YAML
plugins:
  - path: $plugin
    settings:
      value: 0.25
YAML
out=$("$nomtag" --config "$work/plugins.yaml" plugins --json)
echo "$out"
# The plugin reports the ABI of the SDK it was built against.
abi=$(awk '/#define NOMTAG_ABI_MAJOR/ {M=$3} /#define NOMTAG_ABI_MINOR/ {m=$3}
           END {print M "." m}' "$work/sdk/include/nomtag/version.h")
echo "$out" | ABI="$abi" python3 -c '
import json, os, sys
d = json.load(sys.stdin)
assert d["refused"] == [], d["refused"]
[p] = d["loaded"]
assert p["id"] == "org.example.constant-descriptor", p
assert p["kind"] == "inference", p
assert p["abi"] == os.environ["ABI"], (p, os.environ["ABI"])
'
# Bad settings are refused with the plugin's own message.
cat > "$work/bad.yaml" <<YAML
plugins:
  - path: $plugin
    settings:
      value: lots
YAML
if out=$("$nomtag" --config "$work/bad.yaml" plugins 2>&1); then
  echo "bad settings were accepted: $out"; exit 1
fi
echo "$out" | grep -q '`value:` must be a number'
echo "example plugin: built, loaded, bad settings refused"
