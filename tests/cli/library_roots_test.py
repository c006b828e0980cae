#!/usr/bin/env python3
"""Per-machine library roots (issue 23): one database, a library mounted
at different folders on different machines. plugins.yaml `roots:` maps a
library's name to this machine's folder; the database keeps paths relative
to the root, so a run through the mapping reads and writes the files under
the mapped folder and nothing under the stored one.

Usage: library_roots_test.py NOMTAG_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import mutagen

NOMTAG = sys.argv[1]


def run(config, db, *args, ok=True):
    p = subprocess.run([NOMTAG, "--config", config, "--db", db] + list(args),
                       capture_output=True, text=True)
    if ok:
        assert p.returncode == 0, f"{args}: {p.stderr}"
    return p


def bpm(path):
    frame = (mutagen.File(path).tags or {}).get("TXXX:nom:bpm")
    return [str(v) for v in frame.text] if frame else None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        here, there = (os.path.join(tmp, m, "music") for m in ("a", "b"))
        os.makedirs(os.path.join(here, "album"))
        song = os.path.join(here, "album", "song.mp3")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                        "sine=duration=1", song], check=True)
        shutil.copytree(here, there)  # the same share, mounted elsewhere
        db = os.path.join(tmp, "nomtag.db")
        plain = os.path.join(tmp, "a.yaml")
        mapped = os.path.join(tmp, "b.yaml")
        plugins = "plugins:\n  - name: format-mp3\n  - name: storage-sqlite\n"
        with open(plain, "w") as f:
            f.write(plugins)
        with open(mapped, "w") as f:
            f.write(plugins + f"roots:\n  music: {there}\n")

        run(plain, db, "library", "add", "music", here)
        run(plain, db, "scan", "music")
        jl = os.path.join(tmp, "tags.jsonl")
        with open(jl, "w") as f:
            f.write(json.dumps({"path": "album/song.mp3",
                                "tags": {"bpm": 97}}) + "\n")
        run(plain, db, "tags", "import", "music", jl)

        # The other machine sees its own mount, the same relative paths.
        libs = json.loads(run(mapped, db, "library", "list", "--json").stdout)
        assert [l["root"] for l in libs] == [there], libs
        libs = json.loads(run(plain, db, "library", "list", "--json").stdout)
        assert [l["root"] for l in libs] == [here], libs
        scan = json.loads(run(mapped, db, "scan", "music", "--json").stdout)
        assert scan["unchanged"] + scan.get("updated", 0) == 1, scan
        assert scan.get("new", 0) == 0, scan

        report = json.loads(run(mapped, db, "reconcile", "music",
                                "--json").stdout)
        assert report["written"] == 1, report
        assert bpm(os.path.join(there, "album", "song.mp3")) == ["97"]
        assert bpm(song) is None, "the stored root's files were not touched"

        # A root must be an absolute folder; the error names the line.
        with open(mapped, "w") as f:
            f.write(plugins + "roots:\n  music: relative/music\n")
        p = run(mapped, db, "library", "list", ok=False)
        assert p.returncode != 0 and "absolute" in p.stderr, p.stderr
        assert "b.yaml:5" in p.stderr, p.stderr
    print("library roots: mapped per machine, paths relative, stored root "
          "untouched")


main()
