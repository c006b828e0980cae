#!/usr/bin/env bash
# Builds the fuzz harnesses with clang + libFuzzer and runs each for
# SECONDS seconds (default 60). New crashes land in build/fuzz/crashes/;
# check each in under tests/fuzz/corpus/<harness>/ as a regression input.
# The seed is fixed (NOMTAG_FUZZ_SEED, default 1) so a CI run is
# reproducible; set another to explore.
# Usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DNOMTAG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=$(sed -n 's/^nomtag_fuzz_target(\([a-z_]*\)$/\1/p' tests/fuzz/CMakeLists.txt)
# shellcheck disable=SC2086
cmake --build build/fuzz -j2 --target $targets
mkdir -p build/fuzz/crashes
for t in $targets; do
  corpus=$(awk -v t="$t" '$0 ~ "^nomtag_fuzz_target\\(" t "$" {f=1} f && /CORPUS/ {print $2; exit}' tests/fuzz/CMakeLists.txt | tr -d ')')
  work=build/fuzz/corpus/$t
  mkdir -p "$work"
  echo "== $t for ${seconds}s"
  "build/fuzz/bin/$t" -max_total_time="$seconds" -timeout=10 -seed="${NOMTAG_FUZZ_SEED:-1}" \
    -artifact_prefix="build/fuzz/crashes/$t-" "$work" "tests/fuzz/corpus/$corpus"
done
