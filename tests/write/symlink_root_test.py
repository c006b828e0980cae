#!/usr/bin/python3
"""Issue 17 item 2, end to end: reconcile never writes outside a library's
root through a symbolic link inside it.

A library `lib` held ext/a.mp3 when it was scanned and tagged; then ext/
became a link to ../outside, where a.mp3 now lives. The row's path
"ext/a.mp3" is text inside the root, but the file it reaches is not:
reconcile must refuse it and leave outside/a.mp3 byte for byte as it was,
with openat2 and with the component-by-component walk used where the
kernel lacks it.

Usage: symlink_root_test.py NOMTAG PLUGINS_YAML
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class SymlinkedFolder(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nomtag-symlink-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = os.path.join(self.dir, "nomtag.db")

    def nomtag(self, *args, env=None, check=True):
        r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", self.db] +
                           list(args), capture_output=True, text=True,
                           env=dict(os.environ, **(env or {})))
        if check and r.returncode != 0:
            raise AssertionError(f"nomtag {' '.join(args)} failed "
                                 f"({r.returncode}): {r.stderr}{r.stdout}")
        return r

    def check(self, env):
        lib = os.path.join(self.dir, "lib")
        outside = os.path.join(self.dir, "outside")
        os.makedirs(os.path.join(lib, "ext"))
        os.makedirs(os.path.join(lib, "in"))
        os.makedirs(outside)
        for rel in ("ext/a.mp3", "in/b.mp3"):
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f",
                            "lavfi", "-i", "sine=frequency=440:duration=1",
                            "-c:a", "libmp3lame", "-metadata", "title=Theirs",
                            os.path.join(lib, rel)], check=True)
        self.nomtag("library", "add", "music", lib)
        self.nomtag("scan", "music")
        jl = os.path.join(self.dir, "tags.jsonl")
        with open(jl, "w") as f:
            for rel in ("ext/a.mp3", "in/b.mp3"):
                f.write(json.dumps({"path": rel, "tags": {"bpm": 120}}) + "\n")
        self.nomtag("tags", "import", "music", jl)

        # ext/ becomes a link to a folder outside the root.
        os.rename(os.path.join(lib, "ext", "a.mp3"),
                  os.path.join(outside, "a.mp3"))
        os.rmdir(os.path.join(lib, "ext"))
        os.symlink("../outside", os.path.join(lib, "ext"))
        before = sha(os.path.join(outside, "a.mp3"))

        r = self.nomtag("reconcile", "music", env=env, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("symbolic link", r.stdout + r.stderr)
        self.assertEqual(sha(os.path.join(outside, "a.mp3")), before,
                         "a file outside the root was written")
        # The file inside the root was written as usual.
        shown = json.loads(self.nomtag("tags", "show",
                                       os.path.join(lib, "in", "b.mp3"),
                                       "--json").stdout)
        self.assertEqual(shown["nom"], {"bpm": ["120"]})

    def test_with_openat2(self):
        self.check({})

    def test_with_the_walk(self):
        self.check({"NOMTAG_TEST_NO_OPENAT2": "1"})


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
