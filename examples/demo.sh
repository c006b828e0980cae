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
echo
echo "== writing nom tags into every file (full mode)"
for f in "$lib"/track.*; do
  $nomtag tags write "$f" mood-strict=happy mood-regular=happy \
    mood-regular=calm bpm=120 danceability=0.8125
done
echo
echo "== what one file holds now"
$nomtag tags show "$lib/track.mp3"
echo
echo "== the same write again changes nothing (the files are not rewritten)"
for f in "$lib"/track.*; do $nomtag tags write "$f" mood-strict=happy \
  mood-regular=happy mood-regular=calm bpm=120 danceability=0.8125; done
echo
echo "== minimal mode keeps only the mood tiers"
$nomtag tags write "$lib/track.flac" --mode minimal mood-strict=happy bpm=120
$nomtag tags show "$lib/track.flac"
echo
echo "Done: the example library is in $lib"
