#!/usr/bin/python3
"""nomtag analyze / calibrate end to end: real audio made by ffmpeg, a real
database (SQLite, or PostgreSQL with NOMTAG_TEST_BACKEND=postgresql: the
tests named in tests/analysis/CMakeLists.txt), the real command, mutagen as
the independent reader.

Usage: analyze_test.py NOMTAG PLUGINS_YAML [TEST_NAME...]
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import mutagen

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import test_database  # noqa: E402
from independent_view import ours  # noqa: E402

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
CODECS = {"mp3": ["-c:a", "libmp3lame"], "m4a": ["-c:a", "aac"],
          "flac": ["-c:a", "flac"], "ogg": ["-c:a", "libvorbis"],
          "opus": ["-c:a", "libopus"]}


def song(path, bpm, level, tone_hz, seconds=12, channels=1):
    """A music-like track: a decaying tone on every beat over a quiet pad."""
    period = 60.0 / bpm
    expr = (f"{level}*(0.7*sin(2*PI*{tone_hz}*t)*exp(-12*mod(t\\,{period}))"
            f"+0.15*sin(2*PI*{tone_hz / 2}*t))")
    layout = "|".join([expr] * channels)
    ext = path.rsplit(".", 1)[1]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={layout}:s=44100:d={seconds}"] + CODECS[ext] +
                   ["-metadata", "title=Their title", path], check=True)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Env:
    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="nomtag-analyze-")
        self.db = test_database.new_database(test, self.dir)
        self.lib = os.path.join(self.dir, "music")
        os.makedirs(self.lib)

    def run(self, *args, check=True, env=None):
        p = subprocess.run([NOMTAG, "--config", CONFIG, "--db", self.db] +
                           list(args), capture_output=True, text=True,
                           env=dict(os.environ, **(env or {})))
        if check and p.returncode != 0:
            raise AssertionError(f"nomtag {' '.join(args)} exited "
                                 f"{p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def json(self, *args, check=True):
        return json.loads(self.run(*args, "--json", check=check).stdout)

    def popen(self, *args):
        return subprocess.Popen([NOMTAG, "--config", CONFIG, "--db", self.db] +
                                list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def analysis_of(status):
    [a] = [a for a in status["analysis"]
           if a["plugin"] == "org.nomtag.inference.descriptors"]
    return a


class AnalyzeTest(unittest.TestCase):
    def setUp(self):
        self.env = Env(self)

    def tearDown(self):
        self.env.close()

    def make_library(self):
        specs = [("loud-fast.mp3", 150, 0.9, 2400),
                 ("quiet-slow.flac", 70, 0.05, 180),
                 ("mid.ogg", 110, 0.3, 600),
                 ("loud-slow.m4a", 75, 0.8, 300),
                 ("quiet-fast.opus", 140, 0.08, 2000),
                 ("mid-bright.flac", 100, 0.4, 3500)]
        for name, bpm, level, tone in specs:
            song(os.path.join(self.env.lib, name), bpm, level, tone)
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music")
        return [s[0] for s in specs]

    def test_analyze_calibrate_reconcile(self):
        names = self.make_library()
        paths = [os.path.join(self.env.lib, n) for n in names]
        before = {p: (sha(p), os.stat(p).st_mtime_ns) for p in paths}
        dry = self.env.json("analyze", "music", "--dry-run")
        self.assertEqual(dry["plugins"][0]["due"], len(names))
        out = self.env.json("analyze", "music", "--workers", "2")
        [p] = out["plugins"]
        self.assertEqual((p["analysed"], p["failed"]), (len(names), 0), p)
        self.assertGreater(p["audio_seconds"], 11 * len(names))
        # Analysis writes the database only: bytes and mtimes unchanged.
        self.assertEqual(before,
                         {q: (sha(q), os.stat(q).st_mtime_ns) for q in paths})
        st = analysis_of(self.env.json("status", "music"))
        self.assertEqual((st["analysed"], st["due"], st["failed"]),
                         (len(names), 0, 0))
        again = self.env.json("analyze", "music")["plugins"][0]
        self.assertEqual((again["due"], again["analysed"]), (0, 0))

        cal = self.env.json("calibrate")
        self.assertTrue(cal["changed"])
        self.assertEqual(len(cal["labels"]), 6)
        same = self.env.json("calibrate", "music")
        self.assertEqual((same["hash"], same["changed"]), (cal["hash"], False))
        self.assertTrue(all(h["converged"] for h in same["labels"]))

        self.env.run("reconcile", "music")
        tags = {n: ours(os.path.join(self.env.lib, n)) for n in names}
        for n in names:
            self.assertIn("bpm", tags[n], n)
            self.assertIn("loudness-lufs", tags[n], n)
        bpm = float(tags["loud-fast.mp3"]["bpm"][0])
        self.assertAlmostEqual(bpm, 150, delta=4)
        lufs = {n: float(tags[n]["loudness-lufs"][0]) for n in names}
        self.assertGreater(lufs["loud-fast.mp3"], lufs["quiet-slow.flac"] + 20)
        loose = {n: set(tags[n].get("mood-loose", [])) for n in names}
        self.assertIn("energetic", loose["loud-fast.mp3"], tags)
        self.assertIn("calm", loose["quiet-slow.flac"], tags)
        self.assertNotEqual(loose["loud-fast.mp3"], loose["quiet-slow.flac"])
        for n in names:  # strict ⊂ regular ⊂ loose
            strict = set(tags[n].get("mood-strict", []))
            regular = set(tags[n].get("mood-regular", []))
            self.assertLessEqual(strict, regular, n)
            self.assertLessEqual(regular, loose[n], n)
            for a, b in [("energetic", "calm"), ("bright", "dark"),
                         ("fast", "slow")]:
                self.assertFalse({a, b} <= loose[n], n)

    def test_bad_files_are_per_file_results(self):
        song(os.path.join(self.env.lib, "good.flac"), 120, 0.5, 440)
        song(os.path.join(self.env.lib, "short.flac"), 120, 0.5, 440,
             seconds=2)
        song(os.path.join(self.env.lib, "surround.flac"), 120, 0.5, 440,
             channels=6)
        song(os.path.join(self.env.lib, "truncated.flac"), 120, 0.5, 440,
             seconds=30)
        t = os.path.join(self.env.lib, "truncated.flac")
        with open(t, "r+b") as f:  # keeps its tags, loses most frames
            f.truncate(os.path.getsize(t) // 3)
        song(os.path.join(self.env.lib, "garbage.mp3"), 120, 0.5, 440)
        g = os.path.join(self.env.lib, "garbage.mp3")
        with open(g, "r+b") as f:  # the audio overwritten with noise
            f.seek(2000)
            f.write(os.urandom(os.path.getsize(g) - 2000))
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music", check=False)
        # Files that cannot be analysed are results, not a failed run.
        p = self.env.run("analyze", "music", "--json")
        [r] = json.loads(p.stdout)["plugins"]
        reasons = {f["path"]: f["reason"] for f in r["failures"]}
        self.assertNotIn("good.flac", reasons)
        self.assertRegex(reasons.get("short.flac", ""), "^too short: 2.0 s")
        self.assertRegex(reasons.get("surround.flac", ""),
                         "^too many channels: 6")
        st = analysis_of(self.env.json("status", "music"))
        self.assertEqual(st["failed"], len(reasons))
        self.assertGreaterEqual(st["analysed"], 1 + len(reasons))
        # Failures are results: the next run does not retry them.
        again = self.env.json("analyze", "music")["plugins"][0]
        self.assertEqual(again["due"], 0)
        # --force does.
        forced = self.env.run("analyze", "music", "--force", "--json",
                              check=False)
        self.assertEqual(json.loads(forced.stdout)["plugins"][0]["due"],
                         st["analysed"])

    def test_without_the_audio_module_no_file_is_claimed_or_failed(self):
        # FFmpeg lives in a module loaded on first use (audio_module.h): a
        # broken install is one clear error, and no file's result changes.
        song(os.path.join(self.env.lib, "a.flac"), 120, 0.5, 440)
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music")
        missing = os.path.join(self.env.dir, "gone", "libnomtag-audio.so")
        p = self.env.run("analyze", "music", check=False,
                         env={"NOMTAG_AUDIO_MODULE": missing})
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn(f"the audio decoder {missing} cannot be loaded",
                      p.stderr)
        st = analysis_of(self.env.json("status", "music"))
        self.assertEqual((st["analysed"], st["due"], st["failed"]),
                         (0, 1, 0))
        out = self.env.json("analyze", "music")["plugins"][0]
        self.assertEqual((out["analysed"], out["failed"]), (1, 0), out)

    @test_database.sqlite_only("counts claim tokens in the SQLite file")
    def test_several_processes_analyse_each_file_once(self):
        for i in range(12):
            song(os.path.join(self.env.lib, f"t{i:02}.ogg"), 80 + 7 * i,
                 0.1 + 0.05 * i, 200 + 150 * i, seconds=8)
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music")
        procs = [self.env.popen("analyze", "music", "--json")
                 for _ in range(3)]
        outs = [p.communicate() for p in procs]
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, err)
        analysed = [json.loads(o)["plugins"][0]["analysed"] for o, _ in outs]
        self.assertEqual(sum(analysed), 12, analysed)
        con = sqlite3.connect(self.env.db)
        rows = con.execute("SELECT COUNT(*), SUM(claim_token) FROM analyses "
                           "WHERE analysed_at IS NOT NULL").fetchone()
        self.assertEqual(rows, (12, 12))  # one claim per file, never retaken

    def test_calibration_change_marks_exactly_tier_files(self):
        self.make_library()
        other = os.path.join(self.env.dir, "other")
        os.makedirs(other)
        for i in range(3):
            song(os.path.join(other, f"o{i}.flac"), 90 + 20 * i, 0.2, 500)
        self.env.run("library", "add", "other", other)
        self.env.run("library", "set-mode", "other", "none")
        self.env.run("scan", "other")
        for lib in ("music", "other"):
            self.env.run("analyze", lib)
        self.env.run("calibrate")
        for lib in ("music", "other"):
            self.env.run("reconcile", lib)
            self.assertEqual(self.env.json("status", lib)["pending_count"], 0)
        exported = os.path.join(self.env.dir, "cal.json")
        self.env.run("calibration", "export", exported)
        # The same calibration again changes nothing.
        self.env.run("calibration", "import", exported)
        self.assertEqual(self.env.json("status", "music")["pending_count"], 0)
        # A changed one marks the files of the library that writes tiers.
        with open(exported) as f:
            doc = json.load(f)
        doc["labels"][0]["p95"] = min(1.0, doc["labels"][0]["p95"] + 0.01)
        with open(exported, "w") as f:
            json.dump(doc, f)
        self.env.run("calibration", "import", exported)
        self.assertEqual(self.env.json("status", "music")["pending_count"], 6)
        self.assertEqual(self.env.json("status", "other")["pending_count"], 0)
        # A bad calibration document is refused and changes nothing.
        doc["labels"][0]["p5"] = 2
        with open(exported, "w") as f:
            json.dump(doc, f)
        bad = self.env.run("calibration", "import", exported, check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("p5", bad.stderr)

    @test_database.sqlite_only("watches the claim in the SQLite file")
    def test_file_replaced_while_analysed_is_left_due(self):
        long = os.path.join(self.env.lib, "long.flac")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "sine=frequency=440:duration=300", "-c:a",
                        "flac", "-compression_level", "0", long], check=True)
        other = os.path.join(self.env.dir, "other.flac")
        song(other, 90, 0.2, 300, seconds=10)
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music")
        proc = self.env.popen("analyze", "music", "--json")
        con = sqlite3.connect(self.env.db, timeout=30)
        deadline = time.time() + 60
        while time.time() < deadline:
            row = con.execute("SELECT claimed_at FROM analyses").fetchone()
            if row and row[0] is not None:
                break
            time.sleep(0.01)
        os.replace(other, long)
        out, err = proc.communicate()
        r = json.loads(out)["plugins"][0]
        if r["analysed"] == 1:
            self.skipTest("the analysis finished before the file was "
                          "replaced: " + json.dumps(r))
        self.assertEqual(r["left_due"], 1, r)
        self.assertIn("changed while being analysed",
                      r["failures"][0]["reason"])
        st = analysis_of(self.env.json("status", "music"))
        self.assertEqual(st["due"], 1)
        self.env.run("scan", "music")
        self.assertEqual(self.env.json("analyze", "music")["plugins"][0]
                         ["analysed"], 1)


    def analyse_small_library(self):
        """Three 6-second tracks, scanned and analysed: a FLAC written in
        place, an MP3 and an Ogg Vorbis file that the first write moves (a
        new inode by copy and rename)."""
        names = ["a.flac", "b.mp3", "c.ogg"]
        for i, n in enumerate(names):
            song(os.path.join(self.env.lib, n), 90 + 20 * i, 0.3, 300 + 400 * i,
                 seconds=6)
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("library", "set-mode", "music", "full")
        self.env.run("scan", "music")
        p = self.env.json("analyze", "music")["plugins"][0]
        self.assertEqual((p["analysed"], p["failed"]), (len(names), 0), p)
        return names

    def due(self):
        """(due per `analyze --dry-run`, due per `status`) and the due
        paths."""
        dry = self.env.json("analyze", "music", "--dry-run")["plugins"][0]
        st = analysis_of(self.env.json("status", "music"))
        return (dry["due"], st["due"]), sorted(dry["due_paths"])

    def test_own_write_keeps_analyses_current(self):
        # Writing the nom namespace changes no audio: an analysis valid for
        # the file just before nomtag's write is valid after it, and the
        # slow part must not run again for every file nomtag wrote.
        names = self.analyse_small_library()
        paths = [os.path.join(self.env.lib, n) for n in names]
        before = {p: (sha(p), os.stat(p).st_mtime_ns) for p in paths}
        r = self.env.json("reconcile", "music")
        self.assertEqual((r["written"], r["failed"]), (len(names), 0), r)
        for p in paths:  # really written: new bytes, new mtime
            self.assertNotEqual(before[p][0], sha(p), p)
            self.assertIn("bpm", ours(p), p)
        self.assertEqual(self.due(), ((0, 0), []))
        self.env.run("scan", "music")  # nomtag's write is not a change
        self.assertEqual(self.due(), ((0, 0), []))
        again = self.env.json("analyze", "music")["plugins"][0]
        self.assertEqual((again["due"], again["analysed"]), (0, 0), again)
        # A second write (the namespace cleared) carries it on again.
        self.env.run("library", "set-mode", "music", "none")
        r = self.env.json("reconcile", "music")
        self.assertEqual(r["written"], len(names), r)
        self.assertEqual(ours(paths[0]), {})
        self.env.run("scan", "music")
        self.assertEqual(self.due(), ((0, 0), []))
        st = analysis_of(self.env.json("status", "music"))
        self.assertEqual((st["analysed"], st["failed"]), (len(names), 0))

    def test_foreign_change_after_analysis_stays_due(self):
        # Only nomtag's own write, on exactly the bytes analysed, carries an
        # analysis forward. A tag another program added before the write,
        # or audio re-encoded after it, makes the file due.
        names = self.analyse_small_library()
        a, b, c = (os.path.join(self.env.lib, n) for n in names)
        was = os.stat(a)
        f = mutagen.File(a)
        f["comment"] = "added by another tagger"
        f.save()
        self.assertNotEqual(was.st_mtime_ns, os.stat(a).st_mtime_ns)
        r = self.env.json("reconcile", "music")  # no scan in between
        self.assertEqual((r["written"], r["failed"]), (len(names), 0), r)
        self.assertEqual(mutagen.File(a)["comment"], ["added by another tagger"])
        song(b, 160, 0.8, 2500, seconds=6)  # re-encoded over our write
        self.env.run("scan", "music")
        self.assertEqual(self.due(), ((2, 2), ["a.flac", "b.mp3"]))
        p = self.env.json("analyze", "music")["plugins"][0]
        self.assertEqual((p["analysed"], p["failed"]), (2, 0), p)
        self.assertEqual(self.due(), ((0, 0), []))
        self.assertIn("bpm", ours(c))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
