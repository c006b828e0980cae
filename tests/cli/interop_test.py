#!/usr/bin/env python3
"""docs/interop.md stays true: its examples are run, as written, against
files the real nomtag wrote in every format — the mutagen reader, beets'
field definitions through mediafile (beets' tag library; skipped, loudly,
when it is not installed), and the Navidrome tag configuration, looked up
the way Navidrome does in what its TagLib reader gives (navidrome_tag_keys:
Navidrome itself is not run).

Usage: interop_test.py NOMTAG_BINARY docs/interop.md NAVIDROME_TAG_KEYS
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

NOMTAG, DOC, NAVIDROME_KEYS = sys.argv[1], sys.argv[2], sys.argv[3]
WANT = {"mood-regular": ["calm", "happy"], "mood-strict": ["calm"],
        "bpm": ["120"], "danceability": ["0.8125"]}
FORMATS = {"a.mp3": "libmp3lame", "b.m4a": "aac", "c.flac": "flac",
           "d.ogg": "libvorbis", "e.opus": "libopus"}


def examples():
    text = open(DOC).read()
    blocks = re.findall(r"```python\n(# interop-example: (\w+)\n.*?)```", text,
                        re.S)
    return {name: code for code, name in blocks}


def navidrome_config():
    text = open(DOC).read()
    blocks = re.findall(r"```toml\n# interop-example: navidrome\n(.*?)```",
                        text, re.S)
    assert len(blocks) == 1, "no navidrome example in " + DOC
    return tomllib.loads(blocks[0])["Tags"]


def check_navidrome(files):
    """Each configured tag, looked up by its aliases (lower-cased, values of
    every alias found, in order) as Navidrome's tag mapping does, holds the
    nom key's values in every format; and every alias is a name some format
    really gives (a dead alias means the doc misdescribes the names)."""
    tags = navidrome_config()
    out = subprocess.run([NAVIDROME_KEYS] + files, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    names = [json.loads(line) for line in out]
    assert len(names) == len(files), out
    used = set()
    for tag, conf in tags.items():
        aliases = [a.lower() for a in conf["Aliases"]]
        keys = {re.search(r"nom[:.]([a-z0-9._-]+)$", a).group(1)
                for a in aliases}
        assert len(keys) == 1, f"{tag}: aliases of several keys: {aliases}"
        key = keys.pop()
        for path, got in zip(files, names):
            values = [v for a in aliases for v in got.get(a, [])]
            used |= {a for a in aliases if a in got}
            assert values == WANT.get(key, []), \
                f"{path}: Navidrome tag {tag} would read {values}"
    dead = {a.lower() for c in tags.values() for a in c["Aliases"]} - used
    assert not dead, f"aliases no file gives: {sorted(dead)}"
    print(f"navidrome example: {len(tags)} tags read from", len(files), "files")


def main():
    code = examples()
    assert set(code) == {"mutagen", "beets"}, code.keys()
    os.environ["HOME"] = tempfile.mkdtemp()  # bundled plugins, no config
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, codec in FORMATS.items():
            path = os.path.join(tmp, name)
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                            "sine=duration=1", "-c:a", codec, "-y", path],
                           check=True)
            assignments = [f"{k}={v}" for k, vs in WANT.items() for v in vs]
            subprocess.run([NOMTAG, "tags", "write", path] + assignments,
                           check=True, capture_output=True)
            files.append(path)

        scope = {}
        exec(compile(code["mutagen"], DOC + " (mutagen)", "exec"), scope)
        for path in files:
            got = scope["read_nom"](path)
            assert got == WANT, f"{path}: mutagen example read {got}"
        print("mutagen example: reads every key of", len(files), "files")

        check_navidrome(files)

        try:
            import mediafile
        except ImportError:
            print("SKIPPED: python3-mediafile is not installed; the beets "
                  "example was NOT checked")
            return
        scope = {}
        exec(compile(code["beets"], DOC + " (beets)", "exec"), scope)
        for key in scope["KEYS"]:
            mediafile.MediaFile.add_field(key.replace("-", "_"),
                                          scope["nom_field"](key))
        for path in files:
            mf = mediafile.MediaFile(path)
            for key in scope["KEYS"]:
                got = getattr(mf, key.replace("-", "_"))
                assert got == WANT.get(key, []) or (
                    not got and key not in WANT), f"{path}: beets {key}: {got}"
        print("beets example: mediafile reads the mood tiers of", len(files),
              "files")


main()
