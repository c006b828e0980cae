#!/usr/bin/env bash
# The folders show the architecture, and this test keeps it so:
#   - sdk/ knows nothing of the host;
#   - host/core/ sees plugins only through the SDK: no TagLib, SOCI, SQL,
#     HTTP or Boost.DLL header;
#   - bundled plugins know only the SDK (never host/ headers);
#   - host/report/ (what the CLI and the server both print) knows neither;
#   - host/formats/ (typed views of format plugins) is below host/plugins/
#     (which loads them and hands out those views), never the other way.
set -euo pipefail
root=$1
fail=0
check() {  # check DESCRIPTION DIR REGEX
  local hits
  hits=$(grep -rnE "$3" "$root/$2" --include='*.h' --include='*.hpp' \
           --include='*.cc' --include='*.c' || true)
  if [ -n "$hits" ]; then
    echo "FAIL: $1"; echo "$hits"; fail=1
  fi
}
check "sdk/ includes host headers" sdk '#include *"(core|plugins|formats|io|write|cli|store|scan|report|server)/'
check "host/core includes a third-party adapter header" host/core \
  '#include *<(taglib/|soci/|boost/dll|sqlite3|httplib|libpq|yaml-cpp)'
check "host/core includes adapter code" host/core \
  '#include *"(plugins|formats|io|write|cli|store|scan|report|server)/'
check "a bundled plugin includes host headers" plugins \
  '#include *"(core|plugins|formats|io|write|cli|store|scan|report|server)/'
check "host/report includes the CLI or the server" host/report \
  '#include *"(cli|server)/'
check "host/formats includes plugin loading" host/formats \
  '#include *"plugins/'
[ $fail -eq 0 ] && echo "architecture: sdk, core and plugin boundaries hold"
exit $fail
