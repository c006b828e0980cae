#!/usr/bin/python3
"""nomtag end to end: real audio files made by ffmpeg, a real SQLite
database (SQLite, or PostgreSQL with NOMTAG_TEST_BACKEND=postgresql), the
real command, and mutagen and ffmpeg as independent readers.
Covers original-plan.md's completion criteria for storage, scanning and
reconciliation, several processes at once, kill -9 at random moments, and
bad input.

Usage: reconcile_test.py NOMTAG PLUGINS_YAML [TEST_NAME...]
"""
import atexit
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import mutagen

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import independent_view  # noqa: E402
import test_database  # noqa: E402
from test_database import sqlite_only  # noqa: E402
EXTS = ["mp3", "m4a", "flac", "ogg", "opus"]
CODECS = {"mp3": ["-c:a", "libmp3lame"], "m4a": ["-c:a", "aac"],
          "flac": ["-c:a", "flac"], "ogg": ["-c:a", "libvorbis"],
          "opus": ["-c:a", "libopus"]}
SEEDS = {}
atexit.register(lambda: [os.remove(p) for p in SEEDS.values()
                         if os.path.exists(p)])


def seed(ext):
    """One pristine file per format, with foreign tags."""
    if ext not in SEEDS:
        path = os.path.join(tempfile.gettempdir(),
                            f"nomtag-e2e-seed-{os.getpid()}.{ext}")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "sine=frequency=500:duration=2"] + CODECS[ext] +
                       ["-metadata", "title=Seed title", "-metadata",
                        "artist=Seed artist", path], check=True)
        SEEDS[ext] = path
    return SEEDS[ext]


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# The files are judged by a reader with no nomtag code in it.
audio_hash = independent_view.audio_hash
ours = independent_view.ours
foreign = independent_view.foreign


def sidecars(folder):
    return sorted(e for e in os.listdir(folder) if ".nomtag-" in e)


def journal_entries(path):
    """How many writes a journal holds, as recovery counts them: a torn
    one (its checksum does not match) is one; a complete NOMTAGJ3 journal
    (a group's writes in place in one folder) says its count after the
    magic; any other, one file."""
    with open(path, "rb") as f:
        j = f.read()
    if len(j) < 40 or hashlib.sha256(j[:-32]).digest() != j[-32:]:
        return 1
    if j.startswith(b"NOMTAGJ3"):
        return int.from_bytes(j[8:16], "little")
    return 1


def opened_files(args, env=None):
    """Runs nomtag under strace; returns (result, files it opened)."""
    log = tempfile.mktemp(prefix="nomtag-strace-")
    # LeakSanitizer cannot run under ptrace: in the ASan build it would die
    # at exit before stdout is flushed.
    env = dict(env if env is not None else os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=0:" + env.get("ASAN_OPTIONS", "")
    r = subprocess.run(["strace", "-f", "-qq", "-e",
                        "trace=open,openat,openat2", "-o", log, NOMTAG,
                        "--config", CONFIG] + list(args),
                       capture_output=True, text=True, env=env)
    with open(log) as f:
        lines = f.read().splitlines()
    os.remove(log)
    opened = set()
    for line in lines:
        if "= -1" in line or '"' not in line:
            continue
        opened.add(line.split('"')[1])
    return r, opened


class Library:
    def __init__(self, test, n_per_ext=2, exts=EXTS):
        self.dir = tempfile.mkdtemp(prefix="nomtag-e2e-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.root = os.path.join(self.dir, "music")
        self.db = test_database.new_database(test, self.dir)
        os.makedirs(os.path.join(self.root, "album"))
        self.files = []
        for ext in exts:
            for i in range(n_per_ext):
                rel = f"album/{ext}-{i}.{ext}"
                shutil.copy(seed(ext), os.path.join(self.root, rel))
                self.files.append(rel)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def run(self, *args, check=True, env=None):
        r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", self.db] +
                           list(args), capture_output=True, text=True,
                           env=dict(os.environ, **(env or {})))
        if check and r.returncode != 0:
            raise AssertionError(f"nomtag {' '.join(args)} failed "
                                 f"({r.returncode}): {r.stderr}{r.stdout}")
        return r

    def json(self, *args, check=True):
        return json.loads(self.run(*args, "--json", check=check).stdout)

    def import_tags(self, tags_by_file):
        lines = [json.dumps({"path": p, "tags": t})
                 for p, t in tags_by_file.items()]
        jl = os.path.join(self.dir, "import.jsonl")
        write_text(jl, "\n".join(lines) + "\n")
        self.run("tags", "import", "music", jl)

    def state(self):
        return {rel: (sha(self.path(rel)), os.stat(self.path(rel)).st_mtime_ns)
                for rel in self.files}


TAGS = {"mood-strict": "happy", "mood-regular": ["happy", "calm"],
        "mood-loose": ["happy", "calm", "dark"], "bpm": 120,
        "danceability": 0.8125}
TIERS = {"mood-strict": ["happy"], "mood-regular": ["happy", "calm"],
         "mood-loose": ["happy", "calm", "dark"]}
FULL = dict(TIERS, bpm=["120"], danceability=["0.8125"])
NO_TIERS = {"bpm": ["120"], "danceability": ["0.8125"]}


class CompletionCriteria(unittest.TestCase):
    def setUp(self):
        self.lib = Library(self)
        self.lib.run("library", "add", "music", self.lib.root)
        self.lib.run("scan", "music")
        self.lib.import_tags({rel: TAGS for rel in self.lib.files})
        self.audio = {rel: audio_hash(self.lib.path(rel))
                      for rel in self.lib.files}
        self.foreign = {rel: foreign(self.lib.path(rel))
                        for rel in self.lib.files}

    def assert_files(self, want):
        for rel in self.lib.files:
            p = self.lib.path(rel)
            self.assertEqual(ours(p), want, rel)
            self.assertEqual(foreign(p), self.foreign[rel], rel)
            self.assertEqual(audio_hash(p), self.audio[rel], rel)
        leftovers = [e for e in os.listdir(self.lib.path("album"))
                     if ".nomtag-" in e]
        self.assertEqual(leftovers, [])

    def test_analysis_path_never_writes_audio(self):
        before = self.lib.state()
        self.lib.run("scan", "music")
        self.lib.import_tags({rel: dict(TAGS, bpm=99) for rel in self.lib.files})
        self.lib.run("status", "music")
        self.lib.run("reconcile", "music", "--dry-run")
        self.assertEqual(self.lib.state(), before)

    def test_full_then_minimal_then_none_and_idempotence(self):
        r = self.lib.json("reconcile", "music")
        self.assertEqual(r["processed"], len(self.lib.files))
        self.assertEqual(r["remaining"], 0)
        self.assert_files(NO_TIERS)  # no calibration: tiers filtered out

        calibration = os.path.join(self.lib.dir, "cal.json")
        write_text(calibration, '{"model": "v1"}')
        self.lib.run("calibration", "import", calibration)
        self.assertEqual(self.lib.json("status", "music")["pending_count"],
                         len(self.lib.files))
        self.lib.run("reconcile", "music")
        self.assert_files(FULL)

        out = self.lib.json("library", "set-mode", "music", "minimal")
        self.assertTrue(out["requires_reconciliation"])
        self.assertEqual(out["affected_file_count"], len(self.lib.files))
        self.lib.run("reconcile", "music", "--workers", "3")
        self.assert_files(TIERS)

        before = self.lib.state()
        again = self.lib.json("reconcile", "music")
        self.assertEqual((again["processed"], again["written"]), (0, 0))
        self.assertEqual(self.lib.state(), before, "idempotent: untouched")

        self.lib.run("library", "set-mode", "music", "none")
        self.lib.run("reconcile", "music")
        self.assert_files({})

    def test_calibration_change_remarks_only_tier_writing_modes(self):
        other = os.path.join(self.lib.dir, "other")
        shutil.copytree(self.lib.root, other)
        self.lib.run("library", "add", "other", other, "--mode", "none")
        self.lib.run("scan", "other")
        self.lib.run("reconcile", "music")
        self.lib.run("reconcile", "other")
        calibration = os.path.join(self.lib.dir, "cal.json")
        write_text(calibration, '{"model": "v2"}')
        self.lib.run("calibration", "import", calibration)
        self.assertEqual(self.lib.json("status", "music")["pending_count"],
                         len(self.lib.files))
        self.assertEqual(self.lib.json("status", "other")["pending_count"], 0)

    def test_dry_run_shows_keys_per_file(self):
        out = self.lib.json("reconcile", "music", "--dry-run")
        self.assertEqual(len(out["files"]), len(self.lib.files))
        for f in out["files"]:
            self.assertEqual(sorted(f["added"]), ["bpm", "danceability"])
        self.assertEqual(self.lib.json("status", "music")["pending_count"],
                         len(self.lib.files))


def padding_of(path):
    """The room after the tags, as mutagen measures it (None: not told)."""
    f = mutagen.File(path)
    if path.endswith(".flac"):
        return sum(b.length for b in f.metadata_blocks
                   if isinstance(b, mutagen.flac.Padding))
    return getattr(f.tags, "_padding", None)


class Padding(unittest.TestCase):
    def test_library_padding_leaves_room_and_the_next_write_is_in_place(self):
        lib = Library(self, n_per_ext=1)
        lib.run("library", "add", "music", lib.root, "--padding", "16KiB")
        self.assertEqual(lib.json("library", "list")[0]["padding"], 16384)
        lib.run("scan", "music")
        lib.import_tags({rel: TAGS for rel in lib.files})
        inodes = {rel: os.stat(lib.path(rel)).st_ino for rel in lib.files}
        lib.run("reconcile", "music")
        for rel in lib.files:
            p = lib.path(rel)
            # Without a calibration no tier is written.
            self.assertEqual(ours(p), NO_TIERS, rel)
            if os.stat(p).st_ino == inodes[rel]:
                continue  # fit in place: FLAC's room, M4A's moov at the end
            inodes[rel] = os.stat(p).st_ino
            self.assertGreaterEqual(padding_of(p), 16384 - 512, rel)
        # A change that grows every file's tags by a few KiB fits.
        lib.import_tags({rel: dict(TAGS, comment_like=["x" * 3000])
                         for rel in lib.files})
        lib.run("reconcile", "music")
        for rel in lib.files:
            self.assertEqual(os.stat(lib.path(rel)).st_ino, inodes[rel], rel)
            self.assertEqual(ours(lib.path(rel))["comment_like"],
                             ["x" * 3000], rel)

    def test_bad_padding_is_refused(self):
        lib = Library(self, n_per_ext=1)
        lib.run("library", "add", "music", lib.root)
        for bad in ["12x", "-5", "17MiB", "99999999999", "KiB"]:
            r = lib.run("library", "set", "music", "--padding", bad,
                        check=False)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("--padding", r.stderr, bad)
        self.assertEqual(lib.json("library", "list")[0]["padding"], 0)
        lib.run("library", "set", "music", "--padding", "1MiB")
        self.assertEqual(lib.json("library", "list")[0]["padding"], 1 << 20)


class HardLinks(unittest.TestCase):
    def test_a_write_that_would_break_a_link_waits_and_status_says_so(self):
        lib = Library(self, n_per_ext=1)
        mp3 = lib.path("album/mp3-0.mp3")
        other = os.path.join(lib.dir, "elsewhere.mp3")  # outside the root
        os.link(mp3, other)
        before = sha(mp3)
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        lib.import_tags({rel: TAGS for rel in lib.files})
        # ffmpeg's MP3 has no ID3v2 padding: the first write must move it.
        r = lib.run("reconcile", "music", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(sha(mp3), before)
        self.assertEqual(os.stat(mp3).st_nlink, 2)
        status = lib.json("status", "music")
        self.assertEqual(status["held_by_hard_links"], 1)
        [failure] = status["failures"]
        self.assertEqual(failure["path"], "album/mp3-0.mp3")
        self.assertTrue(failure["hard_links"])
        self.assertIn("--hardlinks break", lib.run("status", "music").stdout)

        lib.run("library", "set", "music", "--hardlinks", "break")
        lib.run("reconcile", "music")
        self.assertEqual(ours(mp3), NO_TIERS)
        self.assertEqual(sha(other), before, "the other name kept the old")
        self.assertEqual(lib.json("status", "music")["held_by_hard_links"], 0)


    def test_two_names_of_one_file_in_one_group_are_both_brought_in_line(self):
        # A group holds its files' locks until it is durable: the second
        # name of a file it already holds must wait for a later round, not
        # for the lock its own group holds (which would time out).
        lib = Library(self, n_per_ext=1, exts=["flac"])
        flac = lib.path("album/flac-0.flac")  # ffmpeg's padding: in place
        os.link(flac, lib.path("album/same.flac"))
        lib.files.append("album/same.flac")
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        lib.import_tags({rel: TAGS for rel in lib.files})
        out = json.loads(lib.run("reconcile", "music", "--json",
                                 env={"NOMTAG_LOCK_WAIT_MS": "3000"}).stdout)
        self.assertEqual((out["processed"], out["failed"]), (2, 0), out)
        self.assertEqual(os.stat(flac).st_nlink, 2, "still one file")
        self.assertEqual(ours(flac), NO_TIERS)
        self.assertEqual(lib.json("status", "music")["pending_count"], 0)


class LibraryOptions(unittest.TestCase):
    """Options set on the command line reach the write, by what the files
    show afterwards (each also shown off, so the test can fail)."""

    def setUp(self):
        # FLAC straight from ffmpeg has room: patched in place; MP3 has
        # none: moved by copy.
        self.lib = Library(self, n_per_ext=1, exts=["flac", "mp3"])
        self.flac = self.lib.path("album/flac-0.flac")
        self.mp3 = self.lib.path("album/mp3-0.mp3")

    def reconcile(self, value):
        self.lib.import_tags({rel: {"bpm": value} for rel in self.lib.files})
        self.lib.run("reconcile", "music")
        for rel in self.lib.files:
            self.assertEqual(ours(self.lib.path(rel)), {"bpm": [str(value)]})

    def test_keep_mtime_on_keeps_it_in_place_and_by_copy(self):
        self.lib.run("library", "add", "music", self.lib.root,
                     "--keep-mtime", "on")
        self.lib.run("scan", "music")
        old = 1_400_000_000_123_456_789
        for p in (self.flac, self.mp3):
            os.utime(p, ns=(old, old))
        inodes = {p: os.stat(p).st_ino for p in (self.flac, self.mp3)}
        self.reconcile(1)
        self.assertEqual(os.stat(self.flac).st_ino, inodes[self.flac])
        self.assertNotEqual(os.stat(self.mp3).st_ino, inodes[self.mp3])
        for p in (self.flac, self.mp3):
            self.assertEqual(os.stat(p).st_mtime_ns, old, p)
        self.lib.run("library", "set", "music", "--keep-mtime", "off")
        self.reconcile(2)
        for p in (self.flac, self.mp3):
            self.assertNotEqual(os.stat(p).st_mtime_ns, old, p)

    def test_write_strategy_copy_never_patches_in_place(self):
        self.lib.run("library", "add", "music", self.lib.root,
                     "--write-strategy", "copy")
        self.lib.run("scan", "music")
        ino = os.stat(self.flac).st_ino
        self.reconcile(1)
        self.assertNotEqual(os.stat(self.flac).st_ino, ino, "copied")
        ino = os.stat(self.flac).st_ino
        self.reconcile(2)
        self.assertNotEqual(os.stat(self.flac).st_ino, ino, "copied again")
        self.lib.run("library", "set", "music", "--write-strategy", "auto")
        ino = os.stat(self.flac).st_ino
        self.reconcile(3)
        self.assertEqual(os.stat(self.flac).st_ino, ino, "auto: in place")

    def test_a_copy_keeps_owner_group_and_mode(self):
        self.lib.run("library", "add", "music", self.lib.root)
        self.lib.run("scan", "music")
        if os.geteuid() != 0:
            self.skipTest("giving a file away needs root")
        os.chown(self.mp3, 4321, 8765)
        os.chmod(self.mp3, 0o640)
        ino = os.stat(self.mp3).st_ino
        self.reconcile(1)
        st = os.stat(self.mp3)
        self.assertNotEqual(st.st_ino, ino, "copied")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (4321, 8765, 0o640))

    def test_a_file_replaced_with_the_same_size_and_mtime(self):
        """Scanning takes it for the same file (SPEC 6: size and mtime);
        the write reads what is there now: the replacement's own tags
        are kept, and ours land."""
        self.lib.run("library", "add", "music", self.lib.root)
        self.lib.run("scan", "music")
        st = os.stat(self.flac)
        with open(self.flac, "rb") as f:
            data = f.read()
        at = data.index(b"Seed title")
        other = self.flac + ".other"
        with open(other, "wb") as f:
            f.write(data[:at] + b"Seed TITLE" + data[at + 10:])
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.rename(other, self.flac)
        self.assertEqual((os.path.getsize(self.flac),
                          os.stat(self.flac).st_mtime_ns),
                         (st.st_size, st.st_mtime_ns))
        theirs = foreign(self.flac)
        self.assertEqual(mutagen.File(self.flac)["title"], ["Seed TITLE"])
        self.lib.run("scan", "music")  # whatever it makes of it
        self.reconcile(1)
        self.assertEqual(foreign(self.flac), theirs)
        self.assertEqual(mutagen.File(self.flac)["title"], ["Seed TITLE"])


class Recovery(unittest.TestCase):
    def test_a_file_changed_after_a_crash_is_left_alone_until_kept(self):
        lib = Library(self, n_per_ext=1)
        mp3 = lib.path("album/mp3-0.mp3")
        journal = lib.path("album/.mp3-0.mp3.nomtag-journal")
        lib.run("tags", "write", mp3, "bpm=120")  # moves, leaves padding
        env = dict(os.environ, NOMTAG_TEST_CRASH_AT="before-journal-remove")
        r = subprocess.run([NOMTAG, "--config", CONFIG, "tags", "write", mp3,
                            "bpm=121", "mood-strict=happy"], env=env,
                           capture_output=True)
        self.assertEqual(r.returncode, 86, r.stderr)
        self.assertTrue(os.path.exists(journal))
        # Another program writes the file before nomtag runs again.
        with open(mp3, "r+b") as f:
            f.truncate(os.path.getsize(mp3) - 1)
        theirs = sha(mp3)

        r = lib.run("recover", lib.root, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("something else", r.stdout + r.stderr)
        self.assertEqual(sha(mp3), theirs, "their write is not undone")
        self.assertTrue(os.path.exists(journal))

        report = lib.json("recover", lib.root, "--keep-as-is")
        self.assertEqual(report["journals_dropped_keeping_files"], 1)
        self.assertEqual(report["unresolved"], [])
        self.assertFalse(os.path.exists(journal))
        self.assertEqual(sha(mp3), theirs)


class Scanning(unittest.TestCase):
    @sqlite_only("reads the rows with sqlite3")
    def test_the_original_systems_keys_are_read_and_renamed_on_write(self):
        # The original (Python) system's exact keys, written by mutagen as
        # it writes them: nom:{label}_musicnn_{stem}, labels with spaces.
        # They are ours: the mode is full, the scores become the file's
        # tags under valid keys, and the first write replaces the old keys
        # by those.
        happy = "_musicnn_mood_happy-msd-musicnn-1"
        voice = "_musicnn_voice_instrumental-msd-musicnn-1"
        theirs = {"not happy" + happy: "0.25", "happy" + happy: "0.75",
                  "instrumental only" + voice: "0.125"}
        lib = Library(self, n_per_ext=1)
        for rel in lib.files:
            f = mutagen.File(lib.path(rel))
            for key, value in theirs.items():
                if rel.endswith(".mp3"):
                    f.tags.add(mutagen.id3.TXXX(encoding=3, desc="nom:" + key,
                                                text=[value]))
                elif rel.endswith(".m4a"):
                    f["----:com.apple.iTunes:nom:" + key] = [value.encode()]
                else:
                    f["nom:" + key] = [value]
            f.save()
        lib.run("library", "add", "music", lib.root, "--mode", "full")
        lib.run("scan", "music")
        db = sqlite3.connect(lib.db)
        rows = dict(db.execute("SELECT path, last_written_mode FROM files"))
        want = {k.replace(" ", "-"): [v] for k, v in theirs.items()}
        for rel in lib.files:
            self.assertEqual(rows[rel], "full", rel)
            stored = {}
            for k, v in db.execute(
                    "SELECT t.tag_key, t.value FROM tags t JOIN files f "
                    "ON f.id = t.file_id WHERE f.path = ? ORDER BY position",
                    (rel,)):
                stored.setdefault(k, []).append(v)
            self.assertEqual(stored, want, rel)
        lib.run("reconcile", "music")
        for rel in lib.files:
            self.assertEqual(ours(lib.path(rel)), want, rel)
            raw = [k for k in mutagen.File(lib.path(rel)).keys()
                   if "musicnn" in k and " " in k]
            self.assertEqual(raw, [], rel)
            self.assertEqual(foreign(lib.path(rel)),
                             foreign(seed(rel.rsplit(".", 1)[1])), rel)

    @sqlite_only("reads the rows with sqlite3 and counts opens of the file")
    def test_mode_inference_and_missing_files(self):
        lib = Library(self, n_per_ext=1)
        mp3, flac, ogg, m4a, opus = (lib.path(f"album/{e}-0.{e}")
                                     for e in ["mp3", "flac", "ogg", "m4a",
                                               "opus"])
        w = ["--config", CONFIG, "tags", "write"]
        subprocess.run([NOMTAG] + w + [mp3, "mood-strict=happy"], check=True,
                       capture_output=True)
        subprocess.run([NOMTAG] + w + [flac, "mood-strict=happy", "bpm=1"],
                       check=True, capture_output=True)
        o = mutagen.File(ogg)
        o["NOM:Bad Key"] = ["x"]  # a key nomtag cannot classify
        o.save()
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        db = sqlite3.connect(lib.db)
        rows = dict(db.execute("SELECT path, last_written_mode FROM files"))
        ns = dict(db.execute("SELECT path, has_nomarr_namespace FROM files"))
        self.assertEqual(rows["album/mp3-0.mp3"], "minimal")
        self.assertEqual(rows["album/flac-0.flac"], "full")
        self.assertEqual(rows["album/ogg-0.ogg"], "unknown")
        self.assertIsNone(rows["album/m4a-0.m4a"])
        self.assertEqual(ns["album/flac-0.flac"], 1)
        self.assertEqual(ns["album/opus-0.opus"], 0)

        # Unchanged files are not reopened (strace's count of opens, not
        # the scanner's own); a vanished one is marked missing with its
        # tags kept.
        r, opened = opened_files(["--db", lib.db, "scan", "music", "--json"])
        again = json.loads(r.stdout)
        self.assertEqual(again["unchanged"], 5)
        self.assertIn(lib.db, opened, "strace saw the opens")
        self.assertEqual(opened & {lib.path(rel) for rel in lib.files}, set())
        os.utime(mp3)  # a changed mtime: reopened, and strace sees it
        r, opened = opened_files(["--db", lib.db, "scan", "music", "--json"])
        self.assertEqual(json.loads(r.stdout)["updated"], 1)
        self.assertEqual(opened & {lib.path(rel) for rel in lib.files}, {mp3})
        lib.import_tags({"album/opus-0.opus": {"bpm": 1}})
        os.remove(opus)
        again = lib.json("scan", "music")
        self.assertEqual(again["missing"], 1)
        self.assertEqual(lib.json("status", "music")["missing"], 1)
        self.assertEqual(db.execute(
            "SELECT COUNT(*) FROM tags t JOIN files f ON f.id = t.file_id "
            "WHERE f.path = 'album/opus-0.opus'").fetchone()[0], 1)

    def test_symlinks_are_not_followed_and_temp_files_cleaned(self):
        lib = Library(self, n_per_ext=1)
        outside = tempfile.mkdtemp(prefix="nomtag-outside-")
        self.addCleanup(shutil.rmtree, outside, True)
        shutil.copy(seed("flac"), os.path.join(outside, "secret.flac"))
        os.symlink(outside, lib.path("escape"))
        os.symlink(os.path.join(outside, "secret.flac"),
                   lib.path("album/link.flac"))
        stale = lib.path("album/.flac-0.flac.nomtag-tmp-999999999-0")
        write_text(stale, "half a copy")
        lib.run("library", "add", "music", lib.root)
        out = lib.json("scan", "music")
        self.assertEqual(out["seen"], 5)
        self.assertEqual(out["temp_files_removed"], 1)
        self.assertFalse(os.path.exists(stale))


class BadInput(unittest.TestCase):
    def test_missing_root_is_a_clear_error(self):
        lib = Library(self, n_per_ext=1)
        lib.run("library", "add", "music", lib.root)
        shutil.rmtree(lib.root)
        r = lib.run("scan", "music", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a readable folder", r.stderr)
        r = lib.run("library", "add", "x", "/nonexistent/folder", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a folder", r.stderr)

    def test_unknown_library_and_mode(self):
        lib = Library(self, n_per_ext=1)
        r = lib.run("scan", "nope", check=False)
        # Only add makes it (on a server, the database is there but empty).
        self.assertIn("no nomtag database at" if test_database.BACKEND ==
                      "sqlite" else "is an empty database", r.stderr)
        self.assertIn("`nomtag library add`", r.stderr)
        lib.run("library", "add", "music", lib.root)
        r = lib.run("scan", "nope", check=False)
        self.assertIn("no library 'nope'", r.stderr)
        r = lib.run("library", "set-mode", "music", "loud", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown write mode 'loud'", r.stderr)

    def test_malformed_import_imports_nothing(self):
        lib = Library(self, n_per_ext=1)
        lib.run("library", "add", "music", lib.root)
        jl = os.path.join(lib.dir, "bad.jsonl")
        write_text(jl, '{"path": "a.flac", "tags": {"bpm": 1}}\n'
                            '{"path": "b.flac", "tags": {"bpm": 1\n')
        r = lib.run("tags", "import", "music", jl, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.jsonl:2", r.stderr)
        self.assertIn("nothing was imported", r.stderr)
        write_text(jl, '{"path": "../../etc/x.flac", "tags": {}}\n')
        r = lib.run("tags", "import", "music", jl, check=False)
        self.assertIn("relative to the library root", r.stderr)
        self.assertEqual(lib.json("status", "music")["files"], 0)

    def test_vanished_and_read_only_files_fail_alone(self):
        lib = Library(self, n_per_ext=1)
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        lib.import_tags({rel: {"bpm": 5} for rel in lib.files})
        os.remove(lib.path("album/mp3-0.mp3"))  # vanished after the scan
        ro = lib.path("album/flac-0.flac")
        os.chmod(ro, 0o444)
        before = sha(ro)
        r = lib.run("reconcile", "music", "--json", check=False)
        self.assertEqual(r.returncode, 2)
        out = json.loads(r.stdout)
        self.assertEqual(out["processed"], 3)
        self.assertEqual(out["failed"], 2)
        self.assertEqual(sha(ro), before)
        status = lib.json("status", "music")
        self.assertEqual(status["failed"], 2)
        errors = " ".join(f["error"] for f in status["failures"])
        self.assertIn("read-only", errors)
        self.assertIn("mp3-0.mp3", errors)


class Concurrency(unittest.TestCase):
    def test_several_processes_write_each_file_once(self):
        lib = Library(self, n_per_ext=8)
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        lib.import_tags({rel: {"bpm": 7, "title-model": "x"}
                         for rel in lib.files})
        procs = [subprocess.Popen(
            [NOMTAG, "--config", CONFIG, "--db", lib.db, "reconcile",
             "music", "--batch", "3", "--json"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            # 3: it ended while a peer still held files (named in its
            # report); the peer writes them.
            self.assertIn(p.returncode, (0, 3), err + out)
            results.append(json.loads(out))
            if p.returncode == 3:
                self.assertTrue(results[-1]["held_by_others"], out)
        self.assertEqual(sum(r["written"] for r in results), len(lib.files))
        self.assertEqual(sum(r["processed"] for r in results), len(lib.files))
        for rel in lib.files:
            self.assertEqual(ours(lib.path(rel)),
                             {"bpm": ["7"], "title-model": ["x"]}, rel)
        self.assertEqual(lib.json("status", "music")["pending_count"], 0)


class Crashes(unittest.TestCase):
    def test_kill_9_at_random_moments_never_damages_a_file(self):
        lib = Library(self, n_per_ext=4)
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        audio = {rel: audio_hash(lib.path(rel)) for rel in lib.files}
        theirs = {rel: foreign(lib.path(rel)) for rel in lib.files}
        had = {rel: {} for rel in lib.files}  # each file's value so far
        landed = 0
        rng = random.Random(1124)
        for trial in range(12):
            value = "v" * (1 + trial * 37)  # grows: some writes must move
            lib.import_tags({rel: {"trial": value} for rel in lib.files})
            p = subprocess.Popen([NOMTAG, "--config", CONFIG, "--db", lib.db,
                                  "reconcile", "music", "--batch", "2"],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.4))
            p.send_signal(signal.SIGKILL)
            p.wait()
            left = sidecars(lib.path("album"))
            journals = [e for e in left if "journal" in e]
            temps = [e for e in left if e not in journals]
            writes = sum(journal_entries(os.path.join(lib.path("album"), j))
                         for j in journals)
            landed += bool(left)
            report = lib.json("recover", "music")
            # What recovery says it did is what the kill left.
            self.assertEqual(report["rolled_back"] +
                             report["finished_writes_kept"] +
                             report["not_started_journals_dropped"] +
                             report["torn_journals_discarded"], writes,
                             f"trial {trial}: {left} {report}")
            self.assertEqual(report["temp_files_removed"], len(temps),
                             f"trial {trial}: {left} {report}")
            self.assertEqual(report["unresolved"], [])
            for rel in lib.files:
                path = lib.path(rel)
                self.assertEqual(audio_hash(path), audio[rel], rel)
                self.assertEqual(foreign(path), theirs[rel], rel)
                got = ours(path)
                self.assertIn(len(got), (0, 1), rel)  # old or new, whole
                # By value: what the file held before this run, or this
                # run's value.
                self.assertIn(got, (had[rel], {"trial": [value]}),
                              f"trial {trial}: {rel}")
                had[rel] = got
            leftovers = [e for e in os.listdir(lib.path("album"))
                         if ".nomtag-" in e]
            self.assertEqual(leftovers, [], f"trial {trial}")
        print(f"  {landed} of 12 random kills left a journal or a copy "
              "(the named moments are hit by test_each_moment_of_a_commit)",
              file=sys.stderr)
        # A rerun converges at once: the killed runs' claims are taken
        # over because their workers' locks are free.
        out = lib.json("reconcile", "music")
        self.assertEqual(out["remaining"], 0)
        for rel in lib.files:
            self.assertEqual(ours(lib.path(rel)), {"trial": [value]}, rel)

    # Each named moment of a commit, hit by the crash hook of that name
    # (the process ends there, as kill -9 would leave it): which moment
    # was hit is checked on disk, recovery must report what it did, the
    # file must hold the old or the new value (read by mutagen) with its
    # bytes, mtime, foreign tags and audio as they should be, and a rerun
    # must finish the work.
    MOMENTS = [
        # (format, strategy, moment, what recovery does, file holds)
        # Before the commit: nothing on disk yet, nothing to recover.
        ("flac", "auto", "after-open", None, "old"),
        ("flac", "auto", "before-commit", None, "old"),
        # The journal is durable but no byte was patched yet: the write
        # never started, so the journal is dropped and the file left alone.
        ("flac", "auto", "after-journal", "not_started_journals_dropped",
         "old"),
        ("flac", "auto", "between-range-writes", "rolled_back", "old"),
        ("flac", "auto", "before-journal-remove", "finished_writes_kept",
         "new"),
        # moov after mdat: the in-place write extends the file.
        ("m4a", "auto", "between-range-writes", "rolled_back", "old"),
        ("m4a", "auto", "before-journal-remove", "finished_writes_kept",
         "new"),
        ("mp3", "copy", "after-temp-written", "temp_files_removed", "old"),
        ("mp3", "copy", "after-rename", None, "new"),
    ]

    def test_each_moment_of_a_commit(self):
        for ext, strategy, moment, action, holds in self.MOMENTS:
            with self.subTest(ext=ext, moment=moment):
                self.crash_at(ext, strategy, moment, action, holds)

    # The same moments, but the user just runs reconcile again (no
    # recover): its own sweep must resolve what the crash left, say so,
    # and finish the write.
    SUMMARY = {"rolled_back": "1 rolled back",
               "finished_writes_kept": "1 finished writes kept",
               "not_started_journals_dropped":
               "1 journals of writes that never started dropped",
               "temp_files_removed": "1 temporary files removed"}

    def test_each_moment_then_reconcile_again_without_recover(self):
        for ext, strategy, moment, action, holds in self.MOMENTS:
            with self.subTest(ext=ext, moment=moment):
                self.crash_at(ext, strategy, moment, action, holds,
                              recover=False)

    def crash_at(self, ext, strategy, moment, action, holds, recover=True):
        lib = Library(self, n_per_ext=1, exts=[ext])
        rel = lib.files[0]
        path, album = lib.path(rel), lib.path("album")
        lib.run("library", "add", "music", lib.root, "--write-strategy",
                strategy)
        lib.run("scan", "music")
        lib.import_tags({rel: {"trial": "old"}})
        lib.run("reconcile", "music")
        # An M4A's new value outgrows the room its first write left, so
        # the in-place write extends the file.
        value = "new" * (2000 if ext == "m4a" else 70)
        old, new = {"trial": ["old"]}, {"trial": [value]}
        self.assertEqual(ours(path), old)
        os.utime(path, ns=(1_500_000_000_111_111_111,
                           1_600_000_000_222_222_222))
        st, before = os.stat(path), sha(path)
        audio, theirs = audio_hash(path), foreign(path)
        grows = ext == "m4a"
        lib.import_tags({rel: {"trial": value}})
        env = dict(os.environ, NOMTAG_TEST_CRASH_AT=moment)
        r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", lib.db,
                            "reconcile", "music"], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 86, f"{moment} was hit: {r.stderr}")

        # The moment, as the disk shows it.
        left = sidecars(album)
        if moment in ("after-journal", "between-range-writes",
                      "before-journal-remove"):
            self.assertEqual(len(left), 1)
            self.assertIn("journal", left[0])
            self.assertEqual(os.stat(path).st_ino, st.st_ino, "in place")
        if moment == "after-journal":
            self.assertEqual(sha(path), before, "not yet written")
        if moment == "between-range-writes":
            self.assertNotEqual(sha(path), before, "partly written")
        if moment == "before-journal-remove":
            self.assertEqual(ours(path), new, "fully written")
            if grows:
                self.assertGreater(os.path.getsize(path), st.st_size)
        if moment == "after-temp-written":
            self.assertEqual(len(left), 1)
            self.assertIn("tmp", left[0])
            self.assertEqual(sha(path), before)
            self.assertEqual(ours(os.path.join(album, left[0])), new,
                             "the copy is complete")
        if moment == "after-rename":
            self.assertEqual(left, [])
            self.assertNotEqual(os.stat(path).st_ino, st.st_ino, "moved")
            self.assertEqual(ours(path), new)
        if moment in ("after-open", "before-commit"):
            self.assertEqual(left, [])
            self.assertEqual(sha(path), before, "not yet written")
            self.assertEqual(os.stat(path).st_mtime_ns, st.st_mtime_ns)

        if not recover:
            self.rerun_finishes(lib, path, album, action, new, theirs, audio)
            return
        report = lib.json("recover", "music")
        counts = {k: report[k] for k in ("rolled_back", "finished_writes_kept",
                                         "not_started_journals_dropped",
                                         "torn_journals_discarded",
                                         "temp_files_removed")}
        want = {k: int(k == action) for k in counts}
        self.assertEqual(counts, want, report)
        self.assertEqual(report["unresolved"], [])
        self.assertEqual(sidecars(album), [])
        self.assertEqual(ours(path), old if holds == "old" else new)
        if holds == "old":
            self.assertEqual(sha(path), before, "every byte back")
            self.assertEqual(os.path.getsize(path), st.st_size)
            self.assertEqual(os.stat(path).st_mtime_ns, st.st_mtime_ns,
                             "the mtime back too")
        self.assertEqual(foreign(path), theirs)
        self.assertEqual(audio_hash(path), audio)

        # A rerun finishes the work (the killed worker's claim is taken
        # over at once), and the database agrees.
        out = lib.json("reconcile", "music")
        self.assertEqual(out["remaining"], 0)
        self.assertEqual(ours(path), new)
        self.assertEqual(lib.json("status", "music")["pending_count"], 0)

    def rerun_finishes(self, lib, path, album, action, new, theirs, audio):
        r = lib.run("reconcile", "music", "--json")
        out = json.loads(r.stdout)
        self.assertEqual((out["failed"], out["remaining"]), (0, 0), out)
        self.assertEqual(sidecars(album), [])
        self.assertEqual(ours(path), new)
        if action is None:
            self.assertNotIn("resolved interrupted writes", r.stderr)
        else:
            self.assertIn("resolved interrupted writes: ", r.stderr)
            self.assertIn(self.SUMMARY[action], r.stderr)
        self.assertEqual(foreign(path), theirs)
        self.assertEqual(audio_hash(path), audio)
        self.assertEqual(lib.json("status", "music")["pending_count"], 0)

if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
