#!/usr/bin/env bash
# The main job on a built-in example: installs the dependencies, builds
# nomtag, makes a small library of real audio files (one per format, each
# with tags of its own and a cover), and projects nom tags into them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOMTAG_BUILD_TESTS=OFF
cmake --build build/demo -j2
nomtag="$PWD/build/demo/bin/nomtag --config $PWD/plugins.yaml"

lib=$PWD/build/demo/example-library
rm -rf "$lib" && mkdir -p "$lib"
ffmpeg -loglevel error -y -f lavfi -i "color=c=orange:s=64x64" -frames:v 1 "$lib/cover.png"
make_track() {  # make_track FILE CODEC-ARGS...
  local out=$1; shift
  ffmpeg -loglevel error -y -f lavfi -i "sine=frequency=440:duration=5" "$@" \
    -metadata title="Example $(basename "$out")" -metadata artist="nomtag demo" \
    "$out"
}
make_track "$lib/track.mp3" -c:a libmp3lame -id3v2_version 3
make_track "$lib/track.m4a" -c:a aac
make_track "$lib/track.flac" -c:a flac
make_track "$lib/track.ogg" -c:a libvorbis
make_track "$lib/track.opus" -c:a libopus

echo
echo "== nomtag plugins"
$nomtag plugins
db=$PWD/build/demo/nomtag.db
rm -f "$db"*
nomtag="$nomtag --db $db"

echo
echo "== a library: scan it, import tags into the database, reconcile"
$nomtag library add demo "$lib"
$nomtag scan demo
cat > "$PWD/build/demo/tags.jsonl" <<'JSON'
{"path": "track.mp3",  "tags": {"mood-strict": "happy", "mood-regular": ["happy", "calm"], "bpm": 120, "danceability": 0.8125}}
{"path": "track.m4a",  "tags": {"mood-strict": "calm", "bpm": 96}}
{"path": "track.flac", "tags": {"mood-loose": ["dark", "calm"], "bpm": 140}}
{"path": "track.ogg",  "tags": {"mood-strict": "happy", "bpm": 100}}
{"path": "track.opus", "tags": {"mood-regular": "sad", "bpm": 80}}
JSON
$nomtag tags import demo "$PWD/build/demo/tags.jsonl"
$nomtag status demo
echo
echo "== what reconcile would change (--dry-run writes nothing)"
$nomtag reconcile demo --dry-run
$nomtag reconcile demo
echo
echo "== without calibration the mood tiers stay out; with one they go in"
echo '{"model": "demo-v1", "thresholds": {"strict": 0.8}}' > "$PWD/build/demo/calibration.json"
$nomtag calibration import "$PWD/build/demo/calibration.json"
$nomtag status demo
$nomtag reconcile demo
echo
echo "== the second run finds nothing to do and opens no file"
$nomtag reconcile demo
echo
echo "== minimal mode keeps only the mood tiers"
$nomtag library set-mode demo minimal
$nomtag reconcile demo
echo
echo "== what one file holds now (foreign tags untouched)"
$nomtag tags show "$lib/track.mp3"
echo
echo "Done: the example library is in $lib, its database in $db"
