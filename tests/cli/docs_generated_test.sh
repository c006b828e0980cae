#!/usr/bin/env bash
# The man page and the bash completion the build wrote from the command
# definitions: every command and subcommand --help lists is in both, every
# option of a command is in the man page, `man -l` renders the page without
# a warning, and the completion completes commands, subcommands and options.
# Usage: docs_generated_test.sh NOMTAG_BINARY MAN_PAGE COMPLETION
set -euo pipefail
nomtag=$1 man_page=$2 completion=$3
fail() { echo "FAIL: $*"; exit 1; }

# The subcommands of a command path, read from its --help.
subcommands() {
  "$nomtag" "$@" --help | awk '/^Subcommands:/ {on=1; next}
    on && /^  [a-z]/ {print $1} on && /^$/ {on=0}'
}
# The long options of a command path, read from its --help.
long_options() {
  "$nomtag" "$@" --help | grep -oE -- '--[a-z][a-z-]*' | grep -vx -- --help | sort -u
}

top=$(subcommands)
[ -n "$top" ] || fail "no subcommands in nomtag --help"
paths=()
for c in $top; do
  paths+=("$c")
  for s in $(subcommands "$c"); do paths+=("$c $s"); done
done
echo "${#paths[@]} command paths: ${paths[*]}"
[ "${#paths[@]}" -ge 12 ] || fail "expected at least 12 command paths"

warnings=$(mktemp)
trap 'rm -f "$warnings"' EXIT
rendered=$(MANWIDTH=100 man --warnings -l "$man_page" 2>"$warnings")
[ ! -s "$warnings" ] || { cat "$warnings"; fail "man warnings"; }
grep -q "GLOBAL OPTIONS" <<<"$rendered" || fail "no GLOBAL OPTIONS section"
for p in "${paths[@]}"; do
  # Each command path has a section heading "nomtag <path> ...".
  grep -qE "^ +nomtag $p( |$)" <<<"$rendered" ||
    fail "man page has no section for 'nomtag $p'"
  # shellcheck disable=SC2086
  for o in $(long_options $p); do
    grep -q -- "$o" <<<"$rendered" || fail "man page lacks $o of '$p'"
  done
done
# The hidden build command stays hidden.
if grep -q generate-docs <<<"$rendered"; then fail "generate-docs shown"; fi

# Completion: simulate bash's calls.
complete_words() {
  # shellcheck disable=SC1090
  source "$completion"
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _nomtag
  echo "${COMPREPLY[*]}"
}
for c in $top; do
  got=$(complete_words nomtag "${c:0:3}")
  [[ " $got " == *" $c "* ]] || fail "'nomtag ${c:0:3}' completes to '$got', not $c"
  subs=$(subcommands "$c" | tr '\n' ' ')
  if [ -n "$subs" ]; then
    got=$(complete_words nomtag "$c" "")
    for s in $subs; do
      [[ " $got " == *" $s "* ]] || fail "'nomtag $c ' completes to '$got', lacks $s"
    done
  fi
done
got=$(complete_words nomtag --db x.db reconcile music --dr)
[ "$got" = "--dry-run" ] || fail "'reconcile music --dr' completes to '$got'"
got=$(complete_words nomtag tags show f --js)
[ "$got" = "--json" ] || fail "'tags show f --js' completes to '$got'"
echo "man page and completion cover every command of --help"
