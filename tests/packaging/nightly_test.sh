#!/usr/bin/env bash
# nomtag-nightly (what nomtag-nightly.timer runs): every library is scanned,
# analyzed when this nomtag has `analyze`, and reconciled; a library that
# fails does not stop the others, and the exit status says so.
# Usage: nightly_test.sh NOMTAG_BINARY NIGHTLY_SCRIPT
set -euo pipefail
nomtag=$1 nightly=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export HOME=$work/home NOMTAG_DB=$work/nomtag.db
mkdir -p "$HOME" "$work/a" "$work/b"
for lib in a b; do
  ffmpeg -v error -f lavfi -i sine=duration=1 -c:a flac "$work/$lib/x.flac"
  "$nomtag" library add "$lib" "$work/$lib" >/dev/null
  "$nomtag" scan "$lib" >/dev/null
  echo "{\"path\": \"x.flac\", \"tags\": {\"bpm\": \"12$lib\"}}" >"$work/$lib.jsonl"
  "$nomtag" tags import "$lib" "$work/$lib.jsonl" >/dev/null
done
# The script runs `nomtag` from PATH unless NOMTAG says otherwise.
out=$(NOMTAG="$nomtag" "$nightly" 2>&1) || { echo "$out"; fail "nightly failed"; }
echo "$out"
for lib in a b; do
  "$nomtag" tags show "$work/$lib/x.flac" --json |
    python3 -c "import json,sys; d=json.load(sys.stdin); assert d['nom'] == {'bpm': ['12$lib']}, d"
done
if ! "$nomtag" --help | grep -qE '^ +analyze( |$)'; then
  echo "$out" | grep -q "no analyze command; skipping analysis" || fail "analysis skip not said"
fi
# A library whose folder vanished fails; the other is still done.
echo '{"path": "x.flac", "tags": {"bpm": "99"}}' >"$work/b2.jsonl"
"$nomtag" tags import b "$work/b2.jsonl" >/dev/null
mv "$work/a" "$work/a-moved"
if out=$(NOMTAG="$nomtag" "$nightly" 2>&1); then echo "$out"; fail "a failing library gave exit 0"; fi
"$nomtag" tags show "$work/b/x.flac" --json |
  python3 -c "import json,sys; d=json.load(sys.stdin); assert d['nom'] == {'bpm': ['99']}, d"
echo "nightly: every library scanned and reconciled; a failure is reported, the rest done"
