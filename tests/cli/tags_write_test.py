#!/usr/bin/env python3
"""`nomtag tags write` and `tags clear` of several files by hand: files and
key=value pairs in any order, every file written (each format, foreign tags
and audio unchanged by an independent reader), a file that cannot be
written reported by name while the others are written, a mistyped key
refused before any file is touched, two names of one file in one call.
Files made by ffmpeg, tagged by mutagen, judged by independent_view.

Usage: tags_write_test.py NOMTAG_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

NOMTAG = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import independent_view  # noqa: E402

CODECS = {"mp3": "libmp3lame", "flac": "flac", "ogg": "libvorbis",
          "opus": "libopus", "m4a": "aac"}


def sha(path):
    with open(path, "rb") as f:
        return f.read()


class TagsWrite(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name
        os.environ["HOME"] = self.dir  # no user configuration
        os.environ.pop("NOMTAG_CONFIG", None)

    def make(self, name):
        path = os.path.join(self.dir, name)
        ext = name.rsplit(".", 1)[1]
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        "sine=frequency=440:duration=1", "-c:a", CODECS[ext],
                        "-metadata", "title=Theirs", "-metadata",
                        "artist=Somebody", "-y", path], check=True)
        return path

    def run_nomtag(self, *args):
        return subprocess.run([NOMTAG, *args], capture_output=True,
                              text=True, cwd=self.dir)

    def test_every_format_in_one_call_keeps_what_is_not_ours(self):
        files = [self.make(f"a.{ext}") for ext in CODECS]
        before = {p: (independent_view.foreign(p),
                      independent_view.audio_hash(p)) for p in files}
        # Pairs between and after the files, as a user may type them.
        r = self.run_nomtag("tags", "write", files[0], "mood-strict=happy",
                            *files[1:], "bpm=120", "nom:genre=a", "genre=b")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{len(files)} files: {len(files)} written, "
                      "0 unchanged, 0 failed", r.stdout)
        want = {"mood-strict": ["happy"], "bpm": ["120"],
                "genre": ["a", "b"]}
        for p in files:
            self.assertEqual(independent_view.ours(p), want, p)
            self.assertEqual((independent_view.foreign(p),
                              independent_view.audio_hash(p)), before[p], p)
        r = self.run_nomtag("tags", "write", *files, "bpm=120",
                            "mood-strict=happy", "genre=a", "genre=b")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 written, 5 unchanged", r.stdout)
        r = self.run_nomtag("tags", "clear", *files)
        self.assertEqual(r.returncode, 0, r.stderr)
        for p in files:
            self.assertEqual(independent_view.ours(p), {}, p)
            self.assertEqual((independent_view.foreign(p),
                              independent_view.audio_hash(p)), before[p], p)

    def test_a_file_that_fails_is_named_and_the_others_are_written(self):
        good = [self.make("a.mp3"), self.make("b.flac")]
        broken = os.path.join(self.dir, "broken.flac")
        with open(broken, "wb") as f:
            f.write(b"fLaC" + b"\x00" * 100)  # cut short inside a block
        broken_bytes = sha(broken)
        missing = os.path.join(self.dir, "missing.ogg")
        r = self.run_nomtag("--json", "tags", "write", good[0], broken,
                            missing, good[1], "bpm=99")
        self.assertEqual(r.returncode, 1, r.stdout)
        out = json.loads(r.stdout)
        self.assertEqual((out["written"], out["failed"]), (2, 2), out)
        errors = {f["file"]: f.get("error") for f in out["files"]}
        self.assertTrue(errors[broken] and errors[missing], out)
        self.assertIn(broken, r.stderr)
        self.assertIn(missing, r.stderr)
        for p in good:
            self.assertEqual(independent_view.ours(p), {"bpm": ["99"]}, p)
        self.assertEqual(sha(broken), broken_bytes)
        self.assertFalse(os.path.exists(missing))

    def test_leftovers_that_cannot_be_resolved_stop_their_folder_only(self):
        # A folder where a.mp3's journal would be: recovery cannot read it,
        # and a journal may hold the writes of several files of its folder
        # (a group's), so neither a.mp3 nor b.flac beside it is written;
        # c.flac in another folder is.
        a, b = self.make("a.mp3"), self.make("b.flac")
        os.mkdir(os.path.join(self.dir, ".a.mp3.nomtag-journal"))
        os.mkdir(os.path.join(self.dir, "other"))
        c = self.make(os.path.join("other", "c.flac"))
        a_bytes, b_bytes = sha(a), sha(b)
        r = self.run_nomtag("tags", "write", a, b, c, "bpm=3")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(".a.mp3.nomtag-journal", r.stderr)
        self.assertIn(b + ": not written: the journal", r.stderr)
        self.assertIn("1 written, 0 unchanged, 2 failed", r.stdout)
        self.assertEqual(sha(a), a_bytes)
        self.assertEqual(sha(b), b_bytes)
        self.assertEqual(independent_view.ours(c), {"bpm": ["3"]})

    def test_a_mistyped_key_writes_nothing(self):
        files = [self.make("a.mp3"), self.make("b.flac")]
        before = [sha(p) for p in files]
        r = self.run_nomtag("tags", "write", *files, "bpm=1", "Mood=happy")
        self.assertEqual(r.returncode, 1)
        self.assertIn("'Mood=happy' is neither a file nor key=value",
                      r.stderr)
        self.assertEqual([sha(p) for p in files], before)
        r = self.run_nomtag("tags", "write", "bpm=1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("name at least one audio file", r.stderr)

    def test_a_file_name_with_an_equals_sign_is_named_with_a_slash(self):
        path = self.make("mood=x.mp3")
        r = self.run_nomtag("tags", "write", "./mood=x.mp3", "bpm=7")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(independent_view.ours(path), {"bpm": ["7"]})

    def test_two_names_of_one_file_in_one_call(self):
        # The second name's lock is held by the group writing the first:
        # it goes to a later round instead of waiting for its own group.
        path = self.make("a.flac")
        link = os.path.join(self.dir, "same.flac")
        os.link(path, link)
        r = self.run_nomtag("--json", "tags", "write", path, link, "bpm=5")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["written"], out["unchanged"]), (1, 1), out)
        self.assertEqual(independent_view.ours(link), {"bpm": ["5"]})
        self.assertEqual(os.stat(path).st_ino, os.stat(link).st_ino)

    def test_writing_tags_does_not_load_ffmpeg(self):
        # Only decoding needs FFmpeg's ~130 libraries (audio_module.h);
        # loading them cost every command about 40 ms at start.
        path = self.make("a.flac")
        r = subprocess.run([NOMTAG, "tags", "write", path, "bpm=1"],
                           capture_output=True, text=True, cwd=self.dir,
                           env=dict(os.environ, LD_DEBUG="files"))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertIn("calling init", r.stderr)  # LD_DEBUG did report
        self.assertNotIn("libavcodec", r.stderr)
        self.assertNotIn("libnomtag-audio", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
