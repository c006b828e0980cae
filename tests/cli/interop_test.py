#!/usr/bin/env python3
"""docs/interop.md stays true: the Python examples in it are run, as
written, against files the real nomtag wrote in every format — the mutagen
reader, and beets' field definitions through mediafile (beets' tag
library; skipped, loudly, when it is not installed).

Usage: interop_test.py NOMTAG_BINARY docs/interop.md
"""
import os
import re
import subprocess
import sys
import tempfile

NOMTAG, DOC = sys.argv[1], sys.argv[2]
WANT = {"mood-regular": ["calm", "happy"], "mood-strict": ["calm"],
        "bpm": ["120"], "danceability": ["0.8125"]}
FORMATS = {"a.mp3": "libmp3lame", "b.m4a": "aac", "c.flac": "flac",
           "d.ogg": "libvorbis", "e.opus": "libopus"}


def examples():
    text = open(DOC).read()
    blocks = re.findall(r"```python\n(# interop-example: (\w+)\n.*?)```", text,
                        re.S)
    return {name: code for code, name in blocks}


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
