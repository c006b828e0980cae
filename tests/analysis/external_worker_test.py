#!/usr/bin/python3
"""inference-external end to end, with real worker processes: the worked
example (examples/external-worker/worker.py) through add → scan → analyze →
calibrate → reconcile, and a worker that misbehaves on purpose
(misbehaving_worker.py): each misbehaviour costs one file a clear reason,
the run goes on, the worker is restarted, nothing is left running, and no
audio file changes.

Usage: external_worker_test.py NOMTAG SOURCE_DIR [TEST_NAME...]
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
from independent_view import ours  # noqa: E402

NOMTAG, SOURCE = sys.argv[1], sys.argv[2]
EXAMPLE = os.path.join(SOURCE, "examples", "external-worker", "worker.py")
MISBEHAVING = os.path.join(SOURCE, "tests", "analysis", "misbehaving_worker.py")
PLUGIN = "org.nomtag.inference.external"
CODECS = {"mp3": ["-c:a", "libmp3lame"], "m4a": ["-c:a", "aac"],
          "flac": ["-c:a", "flac"], "ogg": ["-c:a", "libvorbis"],
          "opus": ["-c:a", "libopus"]}


def song(path, level, tone_hz, seconds=7):
    """A decaying tone on every half second over a quiet pad."""
    expr = (f"{level}*(0.7*sin(2*PI*{tone_hz}*t)*exp(-12*mod(t\\,0.5))"
            f"+0.15*sin(2*PI*{tone_hz / 2}*t))")
    ext = path.rsplit(".", 1)[1]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={expr}:s=44100:d={seconds}"] + CODECS[ext] +
                   [path], check=True)


def fingerprint(paths):
    out = {}
    for p in paths:
        with open(p, "rb") as f:
            out[p] = (hashlib.sha256(f.read()).hexdigest(),
                      os.stat(p).st_mtime_ns)
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): read its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Env:
    def __init__(self, settings):
        self.dir = tempfile.mkdtemp(prefix="nomtag-external-")
        self.db = os.path.join(self.dir, "nomtag.db")
        self.lib = os.path.join(self.dir, "music")
        self.log = os.path.join(self.dir, "worker.log")
        os.makedirs(self.lib)
        self.config = os.path.join(self.dir, "plugins.yaml")
        lines = ["plugins:"]
        for f in ("mp3", "flac", "ogg-vorbis", "opus", "mp4"):
            lines.append(f"  - name: format-{f}")
        lines.append("  - name: storage-sqlite")
        lines.append("  - name: inference-external")
        lines.append("    settings:")
        lines += ["      " + l for l in settings.strip().splitlines()]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.env = dict(os.environ, WORKER_LOG=self.log)

    def run(self, *args, check=True, mode=""):
        env = dict(self.env, WORKER_MODE=mode)
        p = subprocess.run([NOMTAG, "--config", self.config, "--db", self.db]
                           + list(args), capture_output=True, text=True,
                           env=env, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"nomtag {' '.join(args)} exited "
                                 f"{p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def json(self, *args, **kw):
        return json.loads(self.run(*args, "--json", **kw).stdout)

    def worker_log(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [l.split() for l in f.read().splitlines()]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


MISBEHAVING_SETTINGS = f"""
command: /usr/bin/python3
args: [{MISBEHAVING}]
timeout_s: 1.5
max_line_bytes: 65536
"""


class MisbehavingWorkerTest(unittest.TestCase):
    def setUp(self):
        self.env = Env(MISBEHAVING_SETTINGS)

    def tearDown(self):
        self.env.close()

    def library(self, names):
        for i, n in enumerate(names):
            song(os.path.join(self.env.lib, n), 0.3, 300 + 100 * i,
                 seconds=2)
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music")
        return [os.path.join(self.env.lib, n) for n in names]

    def test_each_misbehaviour_fails_one_file_and_the_run_goes_on(self):
        bad = {"crash-a.ogg": r"^refused by the plugin: worker crashed: it "
                              r"exited with status 3 while analysing this "
                              r"file; its stderr ends: crashing on purpose",
               "hang-b.flac": r"worker timeout: no answer within 1.5 s, "
                              r"killed",
               "garbage-c.flac": r"worker protocol error: the answer is not "
                                 r"valid JSON",
               "huge-d.m4a": r"worker protocol error: an answer line longer "
                             r"than 65536 bytes",
               "wrongid-e.opus": r"worker protocol error: the answer is for "
                                 r"request \d+, not \d+",
               "refuse-f.flac": r"worker refused the file: no vocals to "
                                r"analyse$"}
        good = ["good-1.flac", "good-22.mp3", "good-3.ogg"]
        paths = self.library(sorted(bad) + good)
        before = fingerprint(paths)
        out = self.env.json("analyze", "music", "--plugin", PLUGIN)
        [r] = out["plugins"]
        reasons = {f["path"]: f["reason"] for f in r["failures"]}
        self.assertEqual((r["analysed"], r["failed"]), (3, 6), r)
        for name, pattern in bad.items():
            self.assertRegex(reasons.get(name, ""), pattern, reasons)
        # The summary counts them by the plugin's own kind of failure.
        by = "refused by the plugin: "
        self.assertEqual(r["failures_by_reason"],
                         {by + "worker crashed": 1, by + "worker timeout": 1,
                          by + "worker protocol error": 3,
                          by + "worker refused the file": 1}, r)
        # Analysis writes the database only.
        self.assertEqual(before, fingerprint(paths))
        # The good files' answers are in the database.
        con = sqlite3.connect(self.env.db)
        rows = dict(con.execute(
            "SELECT f.path, d.value FROM analysis_descriptors d JOIN files f "
            "ON f.id = d.file_id WHERE d.name = 'name-length'"))
        self.assertEqual(rows, {n: len(n) for n in good})
        # The worker was restarted after each failure that ended it (but
        # not after the refusal, nor after the last file), and nothing it
        # started is left running: no zombie, no orphaned child.
        log = self.env.worker_log()
        starts = [int(pid) for kind, pid in log if kind == "start"]
        self.assertIn(len(starts), (5, 6), log)
        children = [int(pid) for kind, pid in log if kind == "child"]
        self.assertEqual(len(children), 1, log)
        for pid in starts + children:
            self.assertFalse(alive(pid), f"{pid} still runs: {log}")
        # Failures are per-file results in status, with their reasons.
        st = [a for a in self.env.json("status", "music")["analysis"]
              if a["plugin"] == PLUGIN][0]
        # (analysed counts every file with a result, failed ones included)
        self.assertEqual((st["analysed"], st["failed"], st["due"]),
                         (9, 6, 0), st)
        text = self.env.run("status", "music").stdout
        self.assertIn(f"analysis ({PLUGIN}): 9 analysed (6 of them failed), "
                      "0 due", text)

    def test_restarts_are_limited(self):
        self.env.close()
        self.env = Env(MISBEHAVING_SETTINGS + "max_restarts: 1\n")
        self.library(["crash-1.flac", "crash-2.flac", "crash-3.flac"])
        r = self.env.json("analyze", "music")["plugins"][0]
        reasons = sorted(f["reason"] for f in r["failures"])
        self.assertEqual(r["failed"], 3, r)
        self.assertEqual(sum("worker crashed" in x for x in reasons), 2,
                         reasons)
        self.assertRegex(reasons[-1], "worker gave up: it was restarted 1 "
                                      "times in this run")
        self.assertEqual(len(self.env.worker_log()), 2)

    def test_a_worker_that_cannot_start_stops_the_run_with_its_reason(self):
        self.library(["good-1.flac"])
        for mode, pattern in [
                ("exit-at-start",
                 "cannot start the worker /usr/bin/python3: the worker exited "
                 "with status 2 before its hello line; its stderr ends: no "
                 "model here: cannot load weights.bin"),
                ("bad-hello", "the worker broke the protocol at start: its "
                              "first line is not JSON")]:
            p = self.env.run("analyze", "music", check=False, mode=mode)
            self.assertNotEqual(p.returncode, 0, p.stdout)
            self.assertIn(pattern, p.stderr)
        # The file stays due: nothing was recorded.
        st = self.env.json("status", "music")["analysis"]
        self.assertEqual([a["due"] for a in st if a["plugin"] == PLUGIN], [1])

    def test_a_command_that_does_not_exist(self):
        self.env.close()
        self.env = Env("command: /nonexistent/worker\n")
        self.library(["good-1.flac"])
        p = self.env.run("analyze", "music", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot run /nonexistent/worker: No such file", p.stderr)

    def test_settings_are_checked_at_load(self):
        self.env.close()
        self.env = Env("command: /usr/bin/python3\ntimeout_s: soon\n")
        out = self.env.json("plugins", check=False)
        refused = json.dumps(out.get("refused", []))
        self.assertIn("`timeout_s:` must be a number", refused)


class ExampleWorkerTest(unittest.TestCase):
    """The worked example of docs/external-worker-protocol.md."""

    def setUp(self):
        self.env = Env(f"""
command: /usr/bin/python3
args: [{EXAMPLE}]
timeout_s: 30
tier_sources:
  - {{model: example-loudness/1, label: loud, opposite: quiet}}
  - {{model: example-pitch/1, label: high, opposite: low}}
""")

    def tearDown(self):
        self.env.close()

    def test_add_scan_analyze_calibrate_reconcile(self):
        specs = {"loud-high.mp3": (0.9, 2400), "quiet-low.flac": (0.03, 150),
                 "mid.ogg": (0.2, 600), "loud-low.m4a": (0.8, 200),
                 "quiet-high.opus": (0.05, 2000)}
        for name, (level, tone) in specs.items():
            song(os.path.join(self.env.lib, name), level, tone)
        paths = [os.path.join(self.env.lib, n) for n in specs]
        self.env.run("library", "add", "music", self.env.lib)
        self.env.run("scan", "music")
        before = fingerprint(paths)
        # Two sessions, so two workers side by side.
        r = self.env.json("analyze", "music", "--workers", "2")["plugins"][0]
        self.assertEqual((r["analysed"], r["failed"]), (5, 0), r)
        self.assertGreater(r["audio_seconds"], 5 * 6.5)
        self.assertEqual(before, fingerprint(paths))
        con = sqlite3.connect(self.env.db)
        rms = dict(con.execute(
            "SELECT f.path, d.value FROM analysis_descriptors d JOIN files f "
            "ON f.id = d.file_id WHERE d.name = 'rms-dbfs'"))
        self.assertGreater(rms["loud-high.mp3"], rms["quiet-low.flac"] + 20)
        emb = con.execute("SELECT COUNT(*), MIN(length(vector)), "
                          "MAX(length(vector)) FROM analysis_embeddings "
                          "WHERE model_id = 'example-profile/1'").fetchone()
        self.assertEqual(emb, (5, 16, 16))  # four float32 each

        cal = self.env.json("calibrate")
        self.assertEqual(len(cal["labels"]), 4, cal)
        self.env.run("reconcile", "music")
        shown = self.env.json("tags", "show",
                              os.path.join(self.env.lib, "loud-high.mp3"))
        self.assertIn("rms-dbfs", json.dumps(shown))
        tags = {n: ours(os.path.join(self.env.lib, n)) for n in specs}
        self.assertAlmostEqual(float(tags["loud-high.mp3"]["rms-dbfs"][0]),
                               rms["loud-high.mp3"], delta=0.01)
        loose = {n: set(t.get("mood-loose", [])) for n, t in tags.items()}
        self.assertIn("loud", loose["loud-high.mp3"], tags)
        self.assertIn("high", loose["loud-high.mp3"], tags)
        self.assertIn("quiet", loose["quiet-low.flac"], tags)
        self.assertIn("low", loose["quiet-low.flac"], tags)
        for n in specs:
            for a, b in [("loud", "quiet"), ("high", "low")]:
                self.assertFalse({a, b} <= loose[n], n)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
