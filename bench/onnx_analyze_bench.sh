#!/usr/bin/env bash
# Issue 21 end to end: the real `nomtag analyze` with the inference-onnx
# plugin on one 4-minute stereo 44.1 kHz track (MP3 by default: decode ->
# front-end -> backbone -> nine heads -> pooling -> database), with the
# plugin's `threads: 1` and `threads: 2`. Prints seconds of audio per
# second of wall time and the peak resident memory (/usr/bin/time), each
# run on a fresh database, best and worst of RUNS. Baseline in the same
# run: ffmpeg decoding the same track to nothing on one thread (what any
# analysis pays at least before its first patch).
# Usage: onnx_analyze_bench.sh BUILD_DIR [MODELS=../shared/models] [RUNS=3]
#        [TRACK=a generated 4-minute MP3]
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
models=$(cd "${2:-$here/../../shared/models}" && pwd)
runs=${3:-3}
dir=$(mktemp -d /tmp/nomtag-onnx-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/music"
track=${4:-}
if [ -z "$track" ]; then
  # Two voices and noise: something for the codec to code (a pure sine
  # decodes unusually fast).
  track="$dir/music/track.mp3"
  ffmpeg -loglevel error -y -f lavfi -i "aevalsrc=0.3*sin(2*PI*220*t)+\
0.2*sin(2*PI*331*t)*sin(2*PI*0.5*t)+0.05*(random(0)-0.5)|\
0.3*sin(2*PI*221*t)+0.2*sin(2*PI*440*t)*sin(2*PI*0.3*t)+0.05*(random(1)-0.5)\
:s=44100:d=240" -c:a libmp3lame -b:a 192k "$track"
else
  cp "$track" "$dir/music/"
fi
seconds=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$track")
plugin="$build/lib/nomtag/optional-plugins/nomtag-inference-onnx.so"

measure() {  # label command... : prints wall seconds and peak RSS
  local label=$1 best="" worst="" rss=0
  shift
  for _ in $(seq "$runs"); do
    [ -n "${setup:-}" ] && eval "$setup"
    /usr/bin/time -f "%e %M" -o "$dir/time" "$@" >"$dir/out" 2>"$dir/err" || {
      cat "$dir/err" "$dir/out"; exit 1; }
    read -r wall kib <"$dir/time"
    best=$(python3 -c "print(min(float('$wall'), float('${best:-1e9}')))")
    worst=$(python3 -c "print(max(float('$wall'), float('${worst:-0}')))")
    rss=$(( kib > rss ? kib : rss ))
    [ -n "${check:-}" ] && eval "$check"
  done
  python3 -c "
s, b, w, r = $seconds, $best, $worst, $rss
print(f'  {\"$label\":<34} {b:6.2f} s ({w:.2f})  {s/b:6.1f}x real time ({s/w:.1f})  peak {r/1024:.0f} MiB')"
}

echo "track: $(basename "$track"), $seconds s; $runs runs each, best (worst)"
setup="" check=""
measure "baseline: ffmpeg decode only" \
  ffmpeg -loglevel error -threads 1 -i "$track" -f null -
for threads in 1 2; do
  cat >"$dir/plugins.yaml" <<YAML
plugins:
  - name: format-mp3
  - name: format-flac
  - name: storage-sqlite
  - path: $plugin
    settings:
      models: $models
      threads: $threads
YAML
  nomtag=("$build/bin/nomtag" --config "$dir/plugins.yaml"
          --plugin-dir "$build/lib/nomtag/plugins" --db "$dir/db")
  setup='rm -rf "$dir"/db*; "${nomtag[@]}" library add music "$dir/music" >/dev/null;
         "${nomtag[@]}" scan music >/dev/null'
  # Every run must have analysed the track, not found it current.
  check='grep -q "\"analysed\": *1" "$dir/out" || { cat "$dir/out"; exit 1; }'
  measure "nomtag analyze, threads: $threads" "${nomtag[@]}" analyze music --json
done
