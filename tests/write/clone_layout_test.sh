#!/usr/bin/env bash
# Copies share the audio with the original on filesystems that clone, on
# real ones: XFS (reflink) and Btrfs in loop-mounted images. A first write
# of files with no room for our tags copies them; with a hard link keeping
# the original inode alive (`--break-hardlinks`), the kernel's extent map
# (FIEMAP, via filefrag) must show the copy's audio as shared with it; with
# the layout turned off (NOMTAG_ALIGN_COPIES=off) it must not, so the check
# can fail. Every copy must still read back our tags (mutagen) and keep its
# audio (ffmpeg's packet hash). Left to choose, nomtag copies a file there
# (and, on XFS, grows a hard-linked one in place instead).
#
# Needs root, loop devices, mkfs.xfs and mkfs.btrfs; without them it says
# why and exits 77 (ctest: skipped). Unmounts and removes everything it
# made, whatever happens.
# Usage: clone_layout_test.sh NOMTAG PLUGINS_YAML PLUGIN_DIR
set -euo pipefail
nomtag=$1 config=$2 plugin_dir=$3

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "mounting a loop image needs root"
for tool in mkfs.xfs mkfs.btrfs filefrag ffmpeg; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

work=$(mktemp -d /var/tmp/nomtag-clone-test.XXXXXX)
cleanup() {
  for m in "$work"/mnt-*; do
    if mountpoint -q "$m"; then umount "$m"; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" INT TERM

audio_hash() {
  ffmpeg -loglevel error -i "$1" -map 0:a -c copy -f md5 -
}

shared_extents() {
  filefrag -v "$1" | grep -c shared || true
}

# 30 s of noise titled by someone else, as an encoder leaves it: no room
# for our tags.
make_track() {
  ffmpeg -loglevel error -y -f lavfi -i anoisesrc=duration=30:color=pink \
    -metadata title=Theirs "$1"
  /usr/bin/python3 -c "import mutagen; mutagen.File('$1').save(padding=lambda i: 0)"
}

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

for fs in xfs btrfs; do
  img="$work/$fs.img" mnt="$work/mnt-$fs"
  truncate -s 512M "$img"
  case $fs in
    xfs) mkfs.xfs -q -m reflink=1 "$img" ;;
    btrfs) mkfs.btrfs -q "$img" >/dev/null ;;
  esac
  mkdir "$mnt"
  mount -o loop "$img" "$mnt" 2>/dev/null || skip "cannot mount a loop image here"
  for layout in auto off; do
    dir="$mnt/$layout"
    mkdir "$dir"
    for ext in mp3 flac; do
      f="$dir/track.$ext"
      make_track "$f"
      ln "$f" "$dir/original.$ext"
      audio_hash "$f" > "$f.audio"
    done
    sync
    # A copy, even where the tag area could grow in place (XFS inserts
    # ranges): this is the copy's layout under test.
    env_layout=(NOMTAG_SHIFT=off)
    [ "$layout" = off ] && env_layout+=(NOMTAG_ALIGN_COPIES=off)
    env "${env_layout[@]}" "$nomtag" --config "$config" --plugin-dir "$plugin_dir" \
      tags write --break-hardlinks "$dir/track.mp3" "$dir/track.flac" \
      mood-strict=happy bpm=120 > "$dir/out.txt"
    sync
    for ext in mp3 flac; do
      f="$dir/track.$ext"
      grep -q "^$f: copied" "$dir/out.txt" || fail "$fs $layout $ext: not copied: $(cat "$dir/out.txt")"
      [ "$(audio_hash "$f")" = "$(cat "$f.audio")" ] || fail "$fs $layout $ext: the audio changed"
      got=$(/usr/bin/python3 -c "
import mutagen
f = mutagen.File('$f')
keys = [k for k in (f.tags.keys() if f.tags else []) if 'nom' in k.lower()]
print(' '.join(sorted(k.lower() for k in keys)))")
      case $ext in
        mp3) want="txxx:nom:bpm txxx:nom:mood-strict" ;;
        flac) want="nom:bpm nom:mood-strict" ;;
      esac
      [ "$got" = "$want" ] || fail "$fs $layout $ext: mutagen reads '$got', not '$want'"
      n=$(shared_extents "$f")
      if [ "$layout" = auto ] && [ "$n" -eq 0 ]; then
        fail "$fs $ext: the copy shares no extent with the original"
      fi
      if [ "$layout" = off ] && [ "$n" -ne 0 ]; then
        fail "$fs $ext: shared without the layout ($n extents): the check proves nothing"
      fi
      echo "$fs $layout $ext: $n shared extents"
    done
  done
  # Left to choose (no NOMTAG_SHIFT): a file is copied here, the copy
  # sharing its audio; a hard-linked one grows in place on XFS instead,
  # which keeps the link (Btrfs cannot insert ranges: it is refused).
  dir="$mnt/policy"
  mkdir "$dir"
  make_track "$dir/plain.mp3"
  make_track "$dir/linked.mp3"
  ln "$dir/linked.mp3" "$dir/other-name.mp3"
  "$nomtag" --config "$config" --plugin-dir "$plugin_dir" tags write \
    "$dir/plain.mp3" "$dir/linked.mp3" mood-strict=happy > "$dir/out.txt" 2>&1 || true
  grep -q "^$dir/plain.mp3: copied" "$dir/out.txt" ||
    fail "$fs: a plain file is not copied: $(cat "$dir/out.txt")"
  if [ "$fs" = xfs ]; then
    grep -q "^$dir/linked.mp3: grown in place" "$dir/out.txt" ||
      fail "$fs: a hard-linked file does not grow in place: $(cat "$dir/out.txt")"
    [ "$(stat -c %i "$dir/linked.mp3")" = "$(stat -c %i "$dir/other-name.mp3")" ] ||
      fail "$fs: the hard link was detached"
  else
    grep -q "hard links" "$dir/out.txt" ||
      fail "$fs: a hard-linked file was not refused: $(cat "$dir/out.txt")"
  fi
  echo "$fs: left to choose, $(grep -c . "$dir/out.txt") lines: $(tr '\n' ' ' < "$dir/out.txt")"
done
[ "$failures" -eq 0 ] || exit 1
echo "PASS"
