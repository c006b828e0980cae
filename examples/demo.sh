#!/usr/bin/env bash
# The main job on a built-in example: installs the dependencies, builds
# nomtag, and runs it on a small generated library.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOMTAG_BUILD_TESTS=OFF
cmake --build build/demo -j2
nomtag=$PWD/build/demo/bin/nomtag

echo "== nomtag plugins (from ./plugins.yaml)"
"$nomtag" --config plugins.yaml plugins
