#!/usr/bin/env bash
# Scan throughput on real files: a first scan of a corpus made by
# make_corpus.sh (every file opened, its namespace read), a second scan of
# the unchanged library (nothing opened), and a third after touching 1% of
# the files (only those reopened). Each scan's --json report is checked:
# the counts must say what the timing claims. Before each scan, a baseline
# from the same run: a plain `find` walk that stats every file (what any
# scan pays at least), and before the first, a read of the first 64 KiB of
# every file (about what reading each file's tags costs without parsing).
# Usage: scan_bench.sh BUILD_DIR [DIR=/tmp/nomtag-scan-bench] [PER_FORMAT=600]
set -euo pipefail
build=$(cd "$1" && pwd) dir=${2:-/tmp/nomtag-scan-bench} per=${3:-600}
here=$(cd "$(dirname "$0")" && pwd)
"$here/make_corpus.sh" "$dir/corpus" "$per" 10 >/dev/null
db="$dir/scan.db"; rm -f "$db" "$db-wal" "$db-shm"
nomtag=("$build/bin/nomtag" --config "$here/../plugins.yaml"
        --plugin-dir "$build/lib/nomtag/plugins" --db "$db")
"${nomtag[@]}" library add scanbench "$dir/corpus" >/dev/null
total=$(find "$dir/corpus" -type f | wc -l)

scan() {  # label expected-opened
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("${nomtag[@]}" scan scanbench --json)
  t1=$(date +%s.%N)
  /usr/bin/python3 - "$1" "$2" "$total" "$t0" "$t1" "$out" <<'PY'
import json, sys
label, opened, total, t0, t1, out = sys.argv[1:]
r = json.loads(out)
secs = float(t1) - float(t0)
got = r["added"] + r["updated"]
assert r["seen"] == int(total), f"seen {r['seen']} of {total}"
assert got == int(opened), f"{label}: opened {got}, expected {opened}"
assert not r["errors"], r["errors"]
print(f"  {label:<34} {secs:7.2f} s  {int(total)/secs:9.0f} files/s"
      f"  (opened {got}, unchanged {r['unchanged']})")
PY
}

baseline() {  # label command...
  local t0 t1 label=$1
  shift
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 -c 'import sys; l, t0, t1, n = sys.argv[1:]; s = float(t1) - float(t0)
print(f"  {l:<34} {s:7.2f} s  {int(n)/s:9.0f} files/s")' "$label" "$t0" "$t1" "$total"
}
walk() { find "$dir/corpus" -type f -printf '%s %T@ %p\n'; }
heads() { find "$dir/corpus" -type f -exec head -c 65536 {} + ; }

echo "scan of $total real files (mp3, m4a, flac, ogg, opus; 10 s each)"
sync
baseline "baseline: find + stat walk:" walk
baseline "baseline: read first 64 KiB of each:" heads
scan "first scan (every file read):" "$total"
baseline "baseline: find + stat walk:" walk
scan "second scan, unchanged:" 0
touched=$(find "$dir/corpus" -type f | awk 'NR % 100 == 0' | tee "$dir/touched" | wc -l)
xargs -r -d '\n' touch < "$dir/touched"
baseline "baseline: find + stat walk:" walk
scan "third scan, 1% touched:" "$touched"
