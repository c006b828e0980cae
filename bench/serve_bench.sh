#!/usr/bin/env bash
# GET /api/web/libraries/{id}/reconcile-status under load, with FILES files
# in the database (default 100,000): requests/s and latency percentiles
# from wrk on loopback (bounded: SECONDS per phase, default 10), first
# idle, then while a reconcile job of the same server writes the files;
# then the server's resident memory. Baseline in the same run: GET / (the
# embedded page, no database work) idle.
#
# Needs wrk (apt-get install wrk). Usage:
#   bash bench/serve_bench.sh BUILD_DIR [FILES] [SECONDS]
set -euo pipefail
build=$(cd "$1" && pwd)
files=${2:-100000}
seconds=${3:-10}
src=$(cd "$(dirname "$0")/.." && pwd)
nomtag="$build/bin/nomtag"
work=$(mktemp -d /tmp/nomtag-serve-bench.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work XDG_CONFIG_HOME=$work/config
nt() { "$nomtag" --config "$src/plugins.yaml" --db "$work/db" "$@"; }

echo "== making $files files (copies of one small MP3) and their tags"
ffmpeg -loglevel error -f lavfi -i sine=frequency=440:duration=1 -c:a libmp3lame -b:a 8k "$work/seed.mp3"
python3 - "$work" "$files" <<'PY'
import json, os, shutil, sys
work, n = sys.argv[1], int(sys.argv[2])
with open(os.path.join(work, "tags.jsonl"), "w") as out:
    for i in range(n):
        rel = f"d{i // 1000:03d}/f{i:06d}.mp3"
        os.makedirs(os.path.join(work, "music", os.path.dirname(rel)), exist_ok=True)
        shutil.copyfile(os.path.join(work, "seed.mp3"), os.path.join(work, "music", rel))
        out.write(json.dumps({"path": rel, "tags": {"bpm": i, "genre-rock": 0.5}}) + "\n")
PY
nt library add music "$work/music" --mode full >/dev/null
start=$(date +%s.%N)
nt scan music >/dev/null
echo "scan: $(echo "$(date +%s.%N) - $start" | bc) s"
nt tags import music "$work/tags.jsonl" >/dev/null
nt status music | sed -n 2,3p

# Started directly (not through nt) so that $! is the server's own pid.
"$nomtag" --config "$src/plugins.yaml" --db "$work/db" serve \
  --listen 127.0.0.1:0 > "$work/serve.out" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.out")
token=$(cat "$work/config/nomtag/serve-token")
status_url="$base/api/web/libraries/1/reconcile-status"
load() {  # load LABEL URL
  echo "-- $1"
  wrk -t2 -c16 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$2" |
    grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors"
}
echo "== idle"
load "GET / (baseline: embedded page, no database)" "$base/"
load "GET reconcile-status, $files files pending" "$status_url"
echo "== while a reconcile job runs"
# -d '': cpp-httplib answers 400 to a POST without Content-Length.
started=$(curl -s -X POST -d '' -H "Authorization: Bearer $token" "$base/api/web/libraries/1/reconcile-tags")
echo "started: $started" | cut -c1-300
job_id=$(echo "$started" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["id"])')
sleep 1
load "GET reconcile-status during reconcile" "$status_url"
echo "job after the load: $(curl -s -H "Authorization: Bearer $token" "$base/api/web/jobs/$job_id" | cut -c1-400)"
echo "server resident memory: $(grep VmRSS /proc/$server_pid/status | awk '{print $2, $3}') (peak $(grep VmHWM /proc/$server_pid/status | awk '{print $2, $3}'))"
