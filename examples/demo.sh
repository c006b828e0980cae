#!/usr/bin/env bash
# The main job on a built-in example: installs the dependencies, builds
# nomtag, makes a small music-like library of real audio files (every
# format, several tempi and loudness levels, each with tags of its own),
# then add → scan → analyze → calibrate → reconcile, and shows the tags.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOMTAG_BUILD_TESTS=OFF
cmake --build build/demo -j2
nomtag="$PWD/build/demo/bin/nomtag --config $PWD/plugins.yaml"

lib=$PWD/build/demo/example-library
rm -rf "$lib" && mkdir -p "$lib"
# A music-like library: on every beat a decaying tone over a quiet pad, at
# several tempi, loudness levels and pitches, in every format, each file
# with tags of its own.
make_song() {  # make_song FILE BPM LEVEL TONE_HZ CODEC-ARGS...
  local out=$1 bpm=$2 level=$3 tone=$4; shift 4
  local period expr
  period=$(awk "BEGIN {print 60/$bpm}")
  expr="$level*(0.7*sin(2*PI*$tone*t)*exp(-12*mod(t\,$period))+0.15*sin(PI*$tone*t))"
  ffmpeg -loglevel error -y -f lavfi -i "aevalsrc=$expr|$expr:s=44100:d=20" "$@" \
    -metadata title="$(basename "${out%.*}")" -metadata artist="nomtag demo" \
    "$out"
}
make_song "$lib/stomp.mp3"     150 0.9  2400 -c:a libmp3lame -id3v2_version 3
make_song "$lib/lullaby.flac"   66 0.05  180 -c:a flac
make_song "$lib/stroll.m4a"    100 0.3   500 -c:a aac
make_song "$lib/anthem.ogg"     80 0.8   300 -c:a libvorbis
make_song "$lib/sprint.opus"   170 0.12 3000 -c:a libopus
make_song "$lib/drift.flac"     90 0.1  1200 -c:a flac
make_song "$lib/groove.mp3"    124 0.5   700 -c:a libmp3lame
make_song "$lib/shimmer.ogg"   112 0.4  4200 -c:a libvorbis

echo
echo "== nomtag plugins"
$nomtag plugins
db=$PWD/build/demo/nomtag.db
rm -f "$db"*
nomtag="$nomtag --db $db"

echo
echo "== a library: add it and scan it"
$nomtag library add demo "$lib"
$nomtag scan demo
echo
echo "== analyze: the built-in descriptors plugin (tempo, loudness,"
echo "   brightness; no model) fills the database; no audio file is written"
$nomtag analyze demo --workers 2
echo
echo "== calibrate: where each score lies across the library; mood tiers"
echo "   are written only once a calibration is active"
$nomtag calibrate demo
$nomtag status demo
echo
echo "== reconcile: project the database into the files"
$nomtag reconcile demo --dry-run | head -4
$nomtag reconcile demo
echo
echo "== the second run finds nothing to do and opens no file"
$nomtag reconcile demo
echo
echo "== what a few files hold now (their own tags untouched)"
for f in stomp.mp3 lullaby.flac shimmer.ogg; do
  echo "-- $f"
  $nomtag tags show "$lib/$f"
done
echo
echo "Done: the example library is in $lib, its database in $db"
