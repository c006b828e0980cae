#!/usr/bin/env bash
# Reconcile throughput on real files: a copy of a make_corpus.sh corpus is
# scanned, given 12 tags per file by `nomtag tags import`, then reconciled
# (every file written by the safe write) by 1, 2 and 4 `nomtag reconcile`
# processes at once on a fresh copy each; then a second run that must find
# nothing and write nothing. Each run's --json reports are checked against
# what they claim (together the processes wrote every file once).
# With NOMTAG_BENCH_POSTGRESQL=1 (issue 23) every run is repeated on a
# PostgreSQL 15 server the script starts for the purpose
# (tests/support/pg_server.sh), beside SQLite in the same run.
# Baselines from the same run, on a fresh copy of the same files: the
# original system's durable write path writing the same 12 tags to every
# file (mutagen_write.py), and a `find` walk that stats every file beside
# the no-op run.
# Usage: reconcile_bench.sh BUILD_DIR [DIR=/tmp/nomtag-reconcile-bench]
#                           [PER_FORMAT=200]
set -euo pipefail
build=$(cd "$1" && pwd) dir=${2:-/tmp/nomtag-reconcile-bench} per=${3:-200}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
"$here/make_corpus.sh" "$dir/seed-corpus" "$per" 10 >/dev/null

pg_state=$dir/pg-state
if [ "${NOMTAG_BENCH_POSTGRESQL:-0}" = 1 ]; then
  chmod 755 "$dir"
  "$here/../tests/support/pg_server.sh" start "$pg_state"
  trap '"$here/../tests/support/pg_server.sh" stop "$pg_state"' EXIT
fi

# A fresh database for a run: an SQLite file, or a server database.
fresh_db() {  # backend name
  if [ "$1" = sqlite ]; then
    rm -f "$dir/$2.db" "$dir/$2.db-wal" "$dir/$2.db-shm"
    echo "$dir/$2.db"
  else
    local url
    url=$(cat "$pg_state.url")
    psql -q -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" "$url" >/dev/null
    psql -q -c "CREATE DATABASE $2 ENCODING 'SQL_ASCII' TEMPLATE template0" \
      "$url" >/dev/null
    echo "${url/\/nomtag\?//$2?}"
  fi
}

run() {  # backend processes
  local lib="$dir/lib$2" db
  db=$(fresh_db "$1" "rec_$1_$2")
  rm -rf "$lib"
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
  local total t0 t1 pass procs p
  total=$(wc -l < "$dir/tags.jsonl")
  for pass in first second; do
    procs=$2
    [ "$pass" = second ] && procs=1
    t0=$(date +%s.%N)
    for p in $(seq "$procs"); do
      # Exit 3: this process finished while another still held files.
      ("${nomtag[@]}" reconcile bench --batch 10 --json > "$dir/out.$p" ||
        [ $? -eq 3 ]) &
    done
    wait
    t1=$(date +%s.%N)
    cat "$dir"/out.* | /usr/bin/python3 -c '
import json, sys
backend, procs, pass_, total, t0, t1 = sys.argv[1:]
dec, text, reports = json.JSONDecoder(), sys.stdin.read(), []
while text.strip():
    r, end = dec.raw_decode(text.strip())
    reports.append(r)
    text = text.strip()[end:]
secs = float(t1) - float(t0)
written = sum(r["written"] for r in reports)
want = int(total) if pass_ == "first" else 0
assert all(r["failed"] == 0 for r in reports), reports
assert written == want, f"{pass_}: wrote {written}, expected {want}"
print(f"  {backend:10} {procs} process(es), {pass_} run: {secs:7.2f} s, "
      f"wrote {written} of {total} files ({written/secs:.0f} files/s)")
' "$1" "$procs" "$pass" "$total" "$t0" "$t1"
    rm -f "$dir"/out.*
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
backends=(sqlite)
[ "${NOMTAG_BENCH_POSTGRESQL:-0}" = 1 ] && backends+=(postgresql)
for b in "${backends[@]}"; do
  for n in 1 2 4; do run "$b" "$n"; done
done
