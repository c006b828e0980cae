#!/usr/bin/env bash
# Reconcile throughput on real files: a copy of a make_corpus.sh corpus is
# scanned, given 12 tags per file by `nomtag tags import`, then reconciled
# (every file written by the safe write), with 1 and then 2 workers on a
# fresh copy each; then a second run that must find nothing and write
# nothing. Each run's --json report is checked against what it claims.
# Baselines from the same run, on a fresh copy of the same files: the
# original system's durable write path writing the same 12 tags to every
# file (mutagen_write.py), and a `find` walk that stats every file beside
# the no-op run.
# Usage: reconcile_bench.sh BUILD_DIR [DIR=/tmp/nomtag-reconcile-bench]
#                           [PER_FORMAT=200]
set -euo pipefail
build=$(cd "$1" && pwd) dir=${2:-/tmp/nomtag-reconcile-bench} per=${3:-200}
here=$(cd "$(dirname "$0")" && pwd)
"$here/make_corpus.sh" "$dir/seed-corpus" "$per" 10 >/dev/null

run() {  # workers
  local lib="$dir/lib$1" db="$dir/rec$1.db"
  rm -rf "$lib" "$db" "$db-wal" "$db-shm"
  cp -r "$dir/seed-corpus" "$lib"
  local nomtag=("$build/bin/nomtag" --config "$here/../plugins.yaml"
                --plugin-dir "$build/lib/nomtag/plugins" --db "$db")
  "${nomtag[@]}" library add bench "$lib" --mode full >/dev/null
  "${nomtag[@]}" scan bench --json >/dev/null
  (cd "$lib" && find . -type f -printf '%P\n') | /usr/bin/python3 -c '
import json, sys
for i, p in enumerate(sys.stdin.read().split("\n")):
    if p:
        tags = {"mood-strict": "happy", "mood-regular": ["happy", "calm"],
                "mood-loose": ["happy", "calm", "warm"], "bpm": 80 + i % 90,
                "key": "a-minor", "danceability": 0.8125}
        tags.update({f"genre-score.{g}": round(0.1 * (i % 7), 3)
                     for g in ("rock", "jazz", "pop", "folk", "ambient", "metal")})
        print(json.dumps({"path": p, "tags": tags}))' > "$dir/tags.jsonl"
  "${nomtag[@]}" tags import bench "$dir/tags.jsonl" >/dev/null
  local total t0 t1 out
  total=$(wc -l < "$dir/tags.jsonl")
  for pass in first second; do
    t0=$(date +%s.%N)
    out=$("${nomtag[@]}" reconcile bench --workers "$1" --batch 100 --json)
    t1=$(date +%s.%N)
    /usr/bin/python3 - "$pass" "$1" "$total" "$t0" "$t1" "$out" <<'PY'
import json, sys
pass_, workers, total, t0, t1, out = sys.argv[1:]
r = json.loads(out)
secs = float(t1) - float(t0)
want = int(total) if pass_ == "first" else 0
assert r["failed"] == 0 and r["remaining"] == 0, r
assert r["written"] == want, f"{pass_}: wrote {r['written']}, expected {want}"
print(f"  {workers} worker(s), {pass_} run: {secs:7.2f} s, "
      f"wrote {r['written']} of {total} files ({r['written']/secs:.0f} files/s)")
PY
  done
}

baselines() {
  local lib="$dir/baseline" t0 t1
  rm -rf "$lib"
  cp -r "$dir/seed-corpus" "$lib"
  local kv="mood-strict=happy,mood-regular=happy,mood-loose=happy,bpm=120"
  kv+=",key=a-minor,danceability=0.8125"
  for g in rock jazz pop folk ambient metal; do kv+=",genre-score.$g=0.3"; done
  find "$lib" -type f -print0 | xargs -0 /usr/bin/python3 "$here/mutagen_write.py" "$kv" |
    awk '{printf "  baseline: mutagen, durable:   %7.2f s, wrote %d files (%.0f files/s)\n", $2, $1, $1/$2}'
  t0=$(date +%s.%N)
  find "$lib" -type f -printf '%s %T@ %p\n' >/dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 -c 'import sys; print(f"  baseline: find + stat walk:   {float(sys.argv[2]) - float(sys.argv[1]):7.2f} s")' "$t0" "$t1"
  rm -rf "$lib"
}

echo "reconcile of real files, $per per format plus 5 seeds (mp3, m4a, flac, ogg, opus; 10 s each)"
baselines
run 1
run 2
