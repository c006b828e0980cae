#!/usr/bin/env bash
# Starts or stops the PostgreSQL 15 server the PostgreSQL tests run
# against: Debian's initdb and pg_ctl, a data folder in a fresh temporary
# folder, a Unix socket beside it and no TCP port, trust authentication for
# the user `nomtag`. PostgreSQL refuses to run as root, so as root (as in
# CI) the server runs as `nobody`, which owns the folder.
#
#   pg_server.sh start STATE   starts one; STATE gets its folder, and
#                              STATE.url the URL of its database `nomtag`
#   pg_server.sh stop STATE    stops it (immediately) and removes its folder
#   pg_server.sh crash STATE   stops it at once as a crash would, keeping
#                              its data; `resume` starts it on that data
#
# Used as the ctest fixture `postgresql` (tests/CMakeLists.txt): every
# PostgreSQL test requires it, and the stop runs even when tests fail. A
# server that cannot be started fails the start, and with it (ctest's
# fixture rule) every test that needs it — loudly, never a silent skip.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
action=${1:?start or stop}
state=${2:?state file}
as=()
[ "$(id -u)" -eq 0 ] && as=(runuser -u nobody --)

stop() {
  [ -f "$state" ] || return 0
  local dir
  dir=$(cat "$state")
  if [ -d "$dir/data" ]; then
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  rm -f "$state" "$state.url"
}

# Starts the server of the folder in $state on its data.
run_server() {
  local dir
  dir=$(cat "$state")
  # No fsync: a test server's data need not survive a power cut, and the
  # suite must stay quick; but every commit reaches the OS before it is
  # acknowledged (synchronous_commit stays on), so a crashed server loses
  # nothing, as a real one would not. A few more connections than the
  # default for the tests that run many workers at once.
  if ! "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir/sock -c listen_addresses='' -c fsync=off \
        -c full_page_writes=off -c max_connections=200" start >/dev/null; then
    echo "FAILED: the test PostgreSQL server did not start:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
}

case $action in
crash)
  "${as[@]}" "$bin/pg_ctl" -D "$(cat "$state")/data" -m immediate -w stop \
    >/dev/null
  ;;
resume)
  run_server
  ;;
start)
  stop  # a server a killed run left behind
  if [ ! -x "$bin/initdb" ]; then
    echo "FAILED: no PostgreSQL 15 server at $bin: install Debian's" \
      "postgresql package (.ci/install-deps does)" >&2
    exit 1
  fi
  dir=$(mktemp -d /tmp/nomtag-pg.XXXXXX)
  echo "$dir" >"$state"
  chmod 755 "$dir"
  [ ${#as[@]} -gt 0 ] && chown nobody: "$dir"
  "${as[@]}" mkdir "$dir/sock"
  if ! "${as[@]}" "$bin/initdb" -D "$dir/data" -U nomtag --auth=trust \
    -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
    echo "FAILED: initdb of a test server in $dir/data:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
  fi
  run_server
  "${as[@]}" "$bin/psql" -h "$dir/sock" -U nomtag -d postgres \
    -qc "CREATE DATABASE nomtag" >/dev/null
  echo "postgresql:///nomtag?host=$dir/sock&user=nomtag" >"$state.url"
  echo "PostgreSQL test server: $(cat "$state.url")"
  ;;
stop)
  stop
  echo "PostgreSQL test server stopped"
  ;;
*)
  echo "usage: $0 start|stop|crash|resume STATE" >&2
  exit 2
  ;;
esac
