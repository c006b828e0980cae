#!/usr/bin/env bash
# Generates a benchmark corpus: COUNT files per format (mp3, m4a, flac, ogg,
# opus) of SECONDS seconds each, with a few foreign tags, in DIR.
# Usage: make_corpus.sh DIR [COUNT=200] [SECONDS=30]
set -euo pipefail
dir=$1 count=${2:-200} seconds=${3:-30}
mkdir -p "$dir/seed"
declare -A codec=([mp3]="-c:a libmp3lame -b:a 192k -id3v2_version 3"
                  [m4a]="-c:a aac -b:a 160k"
                  [flac]="-c:a flac"
                  [ogg]="-c:a libvorbis -q:a 4"
                  [opus]="-c:a libopus -b:a 96k")
for ext in mp3 m4a flac ogg opus; do
  seed="$dir/seed/seed.$ext"
  if [ ! -f "$seed" ]; then
    # shellcheck disable=SC2086
    ffmpeg -loglevel error -y -f lavfi \
      -i "sine=frequency=440:duration=$seconds,aformat=channel_layouts=stereo" \
      ${codec[$ext]} -metadata title="Bench title" -metadata artist="Bench artist" \
      -metadata album="Bench album" "$seed"
  fi
  mkdir -p "$dir/$ext"
  for i in $(seq 1 "$count"); do
    f=$(printf '%s/%s/track%04d.%s' "$dir" "$ext" "$i" "$ext")
    [ -f "$f" ] || cp "$seed" "$f"
  done
done
echo "corpus: $count files per format, ${seconds}s each, in $dir"
