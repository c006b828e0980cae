#!/usr/bin/env bash
# Group commit (issue 19): durable time of a reconcile, nomtag beside the
# original system's write path, in the same run on the same files.
#
# Durable time is the command plus a `sync`: the original system never
# syncs, so its wall time alone hides the writeback of every file it
# rewrote. For each library size:
#   first write    a library tagged by others gets its first nom tags
#                  (nomtag: `reconcile`; the peer: the original system's
#                  safe write, mutagen_write.py --peer); nomtag again by
#                  copy (NOMTAG_SHIFT=off: the baseline of growing a tag
#                  area in place), and bytes written per file;
#   changed values the same library with new values for every file
#                  (REPS=3 rounds, interleaved, medians printed: the
#                  machine this runs on is rarely quiet);
#   changed, cold  the same with the page cache dropped before each run
#                  (root only), as for a library larger than memory;
# each by nomtag with group commit (the default), by nomtag with
# NOMTAG_GROUP_COMMIT=off (a sync per journal, file and folder: the write
# path before group commit, the baseline), and by the peer. Then the
# changed-values run once more under `strace -c -f` for both nomtag
# variants: syncs, reads and bytes written per file.
#
# Usage: [SIZES="30:180 600:30"] group_commit_bench.sh BUILD_DIR
#        [DIR=/tmp/nomtag-gc-bench]
# SIZES: files per format and seconds per file; the default is 150 files
# of 3 minutes, then 3,000 files of 30 seconds (3,000 three-minute files
# would need ~30 GB for the three copies).
set -euo pipefail
build=$(cd "$1" && pwd) dir=${2:-/tmp/nomtag-gc-bench}
here=$(cd "$(dirname "$0")" && pwd)
nomtag_bin="$build/bin/nomtag"
plugins="$build/lib/nomtag/plugins"

tags_jsonl() {  # LIBRARY ROUND -> the import file for that round
  (cd "$1" && find . -type f -printf '%P\n') | /usr/bin/python3 -c '
import json, sys
r = int(sys.argv[1])
for i, p in enumerate(sys.stdin.read().split("\n")):
    if p:
        tags = {"mood-strict": ["happy", "sad"][r % 2], "bpm": 80 + (i + r) % 90,
                "key": "a-minor", "danceability": round(0.5 + r / 100, 3)}
        tags.update({f"genre-score.{g}": round(0.1 * ((i + r) % 7), 3)
                     for g in ("rock", "jazz", "pop", "folk", "ambient", "metal")})
        print(json.dumps({"path": p, "tags": tags}))' "$2"
}

peer_kv() {  # ROUND -> the same twelve values for mutagen_write.py
  local kv="mood-strict=$( (( $1 % 2 )) && echo sad || echo happy)"
  kv+=",bpm=$((80 + $1)),key=a-minor,danceability=0.5$1"
  for g in rock jazz pop folk ambient metal; do kv+=",genre-score.$g=0.$1"; done
  echo "$kv"
}

durable() {  # COMMAND... -> seconds for the command and a sync after it
  local t0 t1
  sync
  t0=$(date +%s.%N)
  "$@" >/dev/null
  sync
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

median() {  # NUMBERS... -> their median
  printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

nomtag_lib() {  # LIB DB ARGS...
  local lib=$1 db=$2
  shift 2
  "$nomtag_bin" --config "$here/../plugins.yaml" --plugin-dir "$plugins" \
    --db "$db" "$@"
}

setup_nomtag() {  # NAME -> a fresh library copy, scanned, round-1 tags
  local lib="$dir/$1" db="$dir/$1.db"
  rm -rf "$lib" "$db" "$db-wal" "$db-shm"
  cp -r "$dir/corpus" "$lib"
  nomtag_lib "$lib" "$db" library add bench "$lib" --mode full >/dev/null
  nomtag_lib "$lib" "$db" scan bench >/dev/null
  tags_jsonl "$lib" 1 > "$dir/$1.r1.jsonl"
  nomtag_lib "$lib" "$db" tags import bench "$dir/$1.r1.jsonl" >/dev/null
}

reconcile() {  # NAME ENV... -> runs the reconcile, checks it wrote every file
  local name=$1 out
  shift
  out=$(env "$@" "$nomtag_bin" --config "$here/../plugins.yaml" \
          --plugin-dir "$plugins" --db "$dir/$name.db" reconcile bench --json)
  /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["failed"] == 0 and r["remaining"] == 0 and r["written"] == int(sys.argv[2]), r
' "$out" "$count"
}

strace_counts() {  # NAME ENV... -> "syncs reads bytes_written" per file
  local name=$1 log="$dir/$1.strace"
  shift
  tags_jsonl "$dir/$name" 9 > "$dir/$name.r9.jsonl"
  nomtag_lib "$dir/$name" "$dir/$name.db" tags import bench "$dir/$name.r9.jsonl" >/dev/null
  strace -f -c -U name,calls -o "$log" env "$@" "$nomtag_bin" \
    --config "$here/../plugins.yaml" --plugin-dir "$plugins" \
    --db "$dir/$name.db" reconcile bench --json >/dev/null
  /usr/bin/python3 - "$log" "$count" <<'PY'
import sys
calls = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 2 and parts[1].isdigit():
        calls[parts[0]] = int(parts[1])
n = int(sys.argv[2])
syncs = sum(calls.get(c, 0) for c in ("fsync", "fdatasync", "syncfs", "sync_file_range"))
print(f"{syncs / n:6.2f} syncs/file ({calls.get('fsync', 0)} fsync, "
      f"{calls.get('fdatasync', 0)} fdatasync, {calls.get('syncfs', 0)} syncfs), "
      f"{calls.get('pread64', 0) / n:5.2f} pread/file, "
      f"{calls.get('pwrite64', 0) / n:5.2f} pwrite/file")
PY
}

written_per_file() {  # CASE NAME ROUND PEER_FILES... -> one line
  # rusage's filesystem output blocks (512 bytes), counted when a page is
  # dirtied: what each has the disk write, hardware aside.
  local what=$1 name=$2 round=$3 nb pb
  shift 3
  nb=$( { /usr/bin/time -f '%O' "$nomtag_bin" --config "$here/../plugins.yaml" \
          --plugin-dir "$plugins" --db "$dir/$name.db" reconcile bench >/dev/null; } 2>&1 | tail -1)
  pb=$( { /usr/bin/time -f '%O' /usr/bin/python3 "$here/mutagen_write.py" --peer "$dir" \
          "$(peer_kv "$round")" "$@" >/dev/null; } 2>&1 | tail -1)
  printf '  %s, written per file (database included): nomtag %.1f KiB, peer %.1f KiB\n' \
    "$what" "$(echo "$nb / 2 / $count" | bc -l)" "$(echo "$pb / 2 / $count" | bc -l)"
}

one_size() {  # FILES_PER_FORMAT SECONDS
  count=$(($1 * 5))
  export count
  rm -rf "$dir/corpus"
  bash "$here/make_corpus.sh" "$dir/corpus" "$1" "$2" >/dev/null
  rm -rf "$dir/corpus/seed"
  echo "== $count files (5 formats), $2 s each =="
  setup_nomtag gc
  setup_nomtag off
  rm -rf "$dir/peer" && cp -r "$dir/corpus" "$dir/peer"
  local g o p
  mapfile -t peer_files < <(find "$dir/peer" -type f)

  g=$(durable reconcile gc)
  o=$(durable reconcile off NOMTAG_GROUP_COMMIT=off)
  p=$(durable /usr/bin/python3 "$here/mutagen_write.py" --peer "$dir" "$(peer_kv 1)" "${peer_files[@]}")
  printf '  first write     nomtag %6.2f s   per-file syncs %6.2f s   peer %6.2f s   ' "$g" "$o" "$p"
  printf 'vs peer %5.1fx (per-file syncs %4.1fx)\n' "$(echo "$p / $g" | bc -l)" "$(echo "$p / $o" | bc -l)"
  # On ext4 a first write grows most files in place (a shift,
  # host/write/commit.h); the same write by copy (NOMTAG_SHIFT=off) is its
  # baseline. On a filesystem that clones (XFS, Btrfs) copies share the
  # audio with the originals; a copy without that layout
  # (NOMTAG_ALIGN_COPIES=off) is that one's baseline, and on XFS the same
  # write grown in place (NOMTAG_SHIFT=on) is measured beside it.
  local fs_type na
  fs_type=$(stat -f -c %T "$dir")
  setup_nomtag na
  na=$(durable reconcile na NOMTAG_SHIFT=off)
  printf '  first write by copy (NOMTAG_SHIFT=off)  %6.2f s   vs peer %5.1fx   ' "$na" "$(echo "$p / $na" | bc -l)"
  printf 'the default %4.1fx faster\n' "$(echo "$na / $g" | bc -l)"
  case $fs_type in
    xfs|btrfs)
      setup_nomtag na
      na=$(durable reconcile na NOMTAG_SHIFT=off NOMTAG_ALIGN_COPIES=off)
      printf '  first write, copies not laid out for cloning  %6.2f s   ' "$na"
      printf 'cloning %4.1fx faster\n' "$(echo "$na / $g" | bc -l)"
      if [ "$fs_type" = xfs ]; then
        setup_nomtag na
        na=$(durable reconcile na NOMTAG_SHIFT=on)
        printf '  first write grown in place (NOMTAG_SHIFT=on)  %6.2f s   vs peer %5.1fx\n' \
          "$na" "$(echo "$p / $na" | bc -l)"
      fi ;;
  esac
  # What each first write has the disk write per file.
  setup_nomtag na
  rm -rf "$dir/peer1" && cp -r "$dir/corpus" "$dir/peer1"
  mapfile -t peer1_files < <(find "$dir/peer1" -type f)
  written_per_file "first write" na 1 "${peer1_files[@]}"
  rm -rf "$dir/na" "$dir/na.db"* "$dir/peer1"

  # Changed values, REPS times, the three interleaved; medians printed.
  local gs=() os=() ps=()
  for rep in $(seq 1 "${REPS:-3}"); do
    local round=$((rep + 1))
    for name in gc off; do
      tags_jsonl "$dir/$name" "$round" > "$dir/$name.r$round.jsonl"
      nomtag_lib "$dir/$name" "$dir/$name.db" tags import bench "$dir/$name.r$round.jsonl" >/dev/null
    done
    gs+=("$(durable reconcile gc)")
    os+=("$(durable reconcile off NOMTAG_GROUP_COMMIT=off)")
    ps+=("$(durable /usr/bin/python3 "$here/mutagen_write.py" --peer "$dir" "$(peer_kv "$round")" "${peer_files[@]}")")
  done
  g=$(median "${gs[@]}") o=$(median "${os[@]}") p=$(median "${ps[@]}")
  printf '  changed values  nomtag %6.2f s   per-file syncs %6.2f s   peer %6.2f s   ' "$g" "$o" "$p"
  printf 'vs peer %5.1fx (per-file syncs %4.1fx)   median of %s\n' "$(echo "$p / $g" | bc -l)" "$(echo "$p / $o" | bc -l)" "${REPS:-3}"
  echo "    runs: nomtag ${gs[*]}; per-file ${os[*]}; peer ${ps[*]}"

  # Changed values again with nothing in the page cache, as on a NAS
  # whose library is far larger than its memory (root only: the caches
  # are dropped before each run; programs and libraries are cold too).
  if [ -w /proc/sys/vm/drop_caches ]; then
    local gc=() pc=()
    for rep in $(seq 1 "${REPS:-3}"); do
      local round=$((rep + 20))
      tags_jsonl "$dir/gc" "$round" > "$dir/gc.r$round.jsonl"
      nomtag_lib "$dir/gc" "$dir/gc.db" tags import bench "$dir/gc.r$round.jsonl" >/dev/null
      sync; echo 3 > /proc/sys/vm/drop_caches
      gc+=("$(durable reconcile gc)")
      sync; echo 3 > /proc/sys/vm/drop_caches
      pc+=("$(durable /usr/bin/python3 "$here/mutagen_write.py" --peer "$dir" "$(peer_kv "$round")" "${peer_files[@]}")")
    done
    g=$(median "${gc[@]}") p=$(median "${pc[@]}")
    printf '  changed, cold   nomtag %6.2f s   peer %6.2f s   vs peer %5.1fx   median of %s\n' \
      "$g" "$p" "$(echo "$p / $g" | bc -l)" "${REPS:-3}"
  fi

  # What each changed-values write has the disk write per file.
  tags_jsonl "$dir/gc" 10 > "$dir/gc.r10.jsonl"
  nomtag_lib "$dir/gc" "$dir/gc.db" tags import bench "$dir/gc.r10.jsonl" >/dev/null
  written_per_file "changed values" gc 10 "${peer_files[@]}"

  echo "  changed values under strace -c:"
  echo "    group commit:   $(strace_counts gc)"
  echo "    per-file syncs: $(strace_counts off NOMTAG_GROUP_COMMIT=off)"
}

mkdir -p "$dir"
for size in ${SIZES:-30:180 600:30}; do one_size "${size%%:*}" "${size##*:}"; done
rm -rf "$dir"
