#!/usr/bin/env bash
# Builds the .deb packages from this build tree (no rebuild: cpack installs
# what is built), extracts them into an empty root with dpkg-deb -x, and
# uses them as a user and a plugin author would:
#   - the control fields (dependencies computed by dpkg-shlibdeps),
#   - the files each package holds,
#   - `nomtag plugins` from the extracted root, with the packaged
#     /etc/nomtag/plugins.yaml and with no configuration at all,
#   - examples/constant-descriptor built against the extracted nomtag-dev
#     alone and loaded by the extracted nomtag,
#   - `systemd-analyze verify` on the packaged units (skipped, loudly, when
#     systemd is not installed; CI installs it).
# Usage: deb_package_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/out/nomtag_*.deb)
dev=$(ls "$work"/out/nomtag-dev_*.deb)
echo "packages: $(basename "$deb") $(basename "$dev")"

# Control fields: dependencies are computed, not hand-listed.
depends=$(dpkg-deb -f "$deb" Depends)
echo "nomtag Depends: $depends"
for lib in libc6 libstdc++6 libtag1v5 libsoci-sqlite3 libyaml-cpp; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib"
done
[ "$(dpkg-deb -f "$dev" Architecture)" = all ] || fail "nomtag-dev is not Architecture: all"
dpkg-deb -f "$deb" Package | grep -qx nomtag
dpkg-deb -f "$dev" Package | grep -qx nomtag-dev

# Contents.
mkdir -p "$work/root"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -x "$dev" "$work/root"
r=$work/root
for f in usr/bin/nomtag usr/bin/nomtag-nightly etc/nomtag/plugins.yaml \
    usr/share/man/man1/nomtag.1.gz usr/share/bash-completion/completions/nomtag \
    usr/lib/systemd/system/nomtag.service \
    usr/lib/systemd/system/nomtag-nightly.service \
    usr/lib/systemd/system/nomtag-nightly.timer usr/lib/sysusers.d/nomtag.conf \
    usr/share/doc/nomtag/user-guide.md usr/include/nomtag/plugin.h usr/lib/cmake/nomtag-sdk/nomtag-sdkConfig.cmake; do
  [ -e "$r/$f" ] || fail "missing /$f"
done
dpkg-deb -c "$dev" | grep -q 'usr/bin' && fail "nomtag-dev holds binaries"
dpkg-deb -c "$deb" | grep -q 'usr/include' && fail "nomtag holds the SDK headers"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -q conffiles ||
  fail "no conffiles (/etc/nomtag/plugins.yaml must be one)"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/nomtag/plugins.yaml "$work/control/conffiles" || fail "conffiles"
[ "$(ls "$r"/usr/lib/nomtag/plugins/nomtag-*.so | wc -l)" -eq 6 ] ||
  fail "expected the 6 bundled plugins"

# The extracted command finds its bundled plugins beside itself.
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
out=$("$r/usr/bin/nomtag" --config "$r/etc/nomtag/plugins.yaml" plugins --json)
echo "$out" | ROOT="$r" python3 -c '
import json, os, sys
d = json.load(sys.stdin)
assert d["refused"] == [], d["refused"]
assert len(d["loaded"]) == 6, d["loaded"]
for p in d["loaded"]:
    assert p["file"].startswith(os.environ["ROOT"] + "/usr/lib/nomtag/plugins/"), p
'
if [ ! -e /etc/nomtag/plugins.yaml ]; then
  "$r/usr/bin/nomtag" plugins | grep -q "6 plugin(s) loaded" ||
    fail "no-configuration run"
fi
zcat "$r/usr/share/man/man1/nomtag.1.gz" | grep -q '^\.SH COMMANDS' || fail "man page"

# A plugin built from nomtag-dev alone, loaded by the packaged nomtag.
cmake -S "$src/examples/constant-descriptor" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$r/usr" >"$work/example.log" 2>&1 ||
  { cat "$work/example.log"; fail "configure the example"; }
cmake --build "$work/example" >>"$work/example.log" 2>&1 ||
  { cat "$work/example.log"; fail "build the example"; }
grep -q "$r/usr/lib/cmake/nomtag-sdk" "$work/example/CMakeCache.txt" ||
  fail "the example did not use the extracted SDK"
cat >"$work/plugins.yaml" <<YAML
plugins:
  - name: storage-sqlite
  - path: $work/example/nomtag-constant-descriptor.so
    settings:
      value: 0.5
YAML
"$r/usr/bin/nomtag" --config "$work/plugins.yaml" plugins --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["refused"] == [], d["refused"]
assert {p["id"] for p in d["loaded"]} >= {"org.example.constant-descriptor"}, d
'

# The systemd units, as packaged.
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze is not installed; the units were NOT verified"
  echo "(install systemd: .ci/install-deps does)"
  exit 0
fi
units=("$r"/usr/lib/systemd/system/nomtag*)
# The units they depend on (sysinit.target, ...) come from the system, as
# on a machine the package is installed on; ours are not overwritten.
cp -rn /usr/lib/systemd/system/. "$r/usr/lib/systemd/system/"
# --man=no: the man page is in the root, where man(1) does not look.
systemd-analyze verify --man=no --root="$r" "${units[@]}" 2>&1 |
  tee "$work/verify.log"
# verify exits non-zero only on some errors; any output is a finding.
[ ! -s "$work/verify.log" ] || fail "systemd-analyze verify reported the above"
echo "packages built, extracted, used; units verified"
