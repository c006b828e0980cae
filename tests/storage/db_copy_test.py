#!/usr/bin/python3
"""`nomtag db copy FROM TO` (issue 23), end to end with the real command, a
real PostgreSQL server (ctest's `postgresql` fixture) and real files: a
library scanned, its tags imported, analysed by the example external worker
(heads, descriptors, embeddings), calibrated, reconciled, one file gone
missing, one file name not UTF-8.

- SQLite → PostgreSQL → SQLite: every row a user cares about comes back
  equal (read by Python's sqlite3, not by nomtag), the server holds the same
  counts, each copy's `status` is the source's (pending files, current
  analyses) and a reconcile against it writes nothing: nothing became due.
- A target that holds a library is refused, and left as it was.
- A copy refused after it created a new file (rows the target refuses)
  removes the file, its companions and the folders made for it; a file
  that was there before stays.
- A source with a running worker holding claims is refused, naming it.
- A storage plugin built before ABI 1.7 says it cannot copy.

Usage: db_copy_test.py NOMTAG SOURCE_DIR [TEST_NAME...]
"""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import test_database  # noqa: E402

NOMTAG, SOURCE = sys.argv[1], sys.argv[2]
WORKER = os.path.join(SOURCE, "examples", "external-worker", "worker.py")
NON_UTF8 = b"caf\xe9 \xff.mp3"

# What the copy carries, per table (claims are left out on purpose).
COLUMNS = {
    "libraries": "id, name, root, file_write_mode, keep_mtime, "
                 "write_strategy, hardlinks, padding",
    "calibration": "id, hash, definition",
    "files": "id, library_id, path, size, mtime_ns, format, missing, "
             "has_nomarr_namespace, last_written_mode, "
             "last_written_calibration_hash, last_written_at, written_key, "
             "tags_rev, written_tags_rev, last_error, dev, inode, "
             "written_digest",
    "tags": "file_id, tag_key, position, value",
    "analyses": "file_id, plugin_id, plugin_version, settings_digest, size, "
                "mtime_ns, analysed_at, error, audio_seconds",
    "analysis_heads": "file_id, plugin_id, model_id, label, score, spread, "
                      "opposite",
    "analysis_descriptors": "file_id, plugin_id, name, value",
    "analysis_embeddings": "file_id, plugin_id, model_id, vector",
}


def dump(path):
    """Every copied row of an SQLite database, read without nomtag."""
    con = sqlite3.connect(path)
    con.text_factory = bytes  # names need not be UTF-8
    out = {t: sorted(con.execute(f"SELECT {c} FROM {t}").fetchall(),
                     key=repr)
           for t, c in COLUMNS.items()}
    con.close()
    return out


def pg_counts(url):
    out = {}
    for t in COLUMNS:
        p = subprocess.run(["psql", "-At", "-c", f"SELECT COUNT(*) FROM {t}",
                            url], capture_output=True, text=True, check=True)
        out[t] = int(p.stdout.strip())
    return out


def pg_tables(url):
    p = subprocess.run(["psql", "-At", "-c", "SELECT table_name FROM "
                        "information_schema.tables WHERE table_schema = "
                        "current_schema()", url],
                       capture_output=True, text=True, check=True)
    return p.stdout.split()


def pg_digest(url):
    """A digest of every copied row on the server, to see it unchanged."""
    h = hashlib.sha256()
    for t, c in COLUMNS.items():
        p = subprocess.run(["psql", "-At", "-c",
                            f"SELECT {c} FROM {t} ORDER BY 1, 2", url],
                           capture_output=True, check=True)
        h.update(p.stdout)
    return h.hexdigest()


def new_pg_database(test):
    name = "copy_" + uuid.uuid4().hex[:12]
    test_database.psql(
        f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0")
    test.addCleanup(test_database.psql,
                    f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return test_database.with_database(test_database.server_url(), name)


def song(path, level, tone_hz):
    codec = {b"mp3": ["-c:a", "libmp3lame"], b"flac": ["-c:a", "flac"],
             b"ogg": ["-c:a", "libvorbis"]}[path.rsplit(b".", 1)[1]]
    subprocess.run([b"ffmpeg", b"-loglevel", b"error", b"-y", b"-f",
                    b"lavfi", b"-i",
                    f"sine=frequency={tone_hz}:duration=2".encode(),
                    b"-af", f"volume={level}".encode()] + codec + [path],
                   check=True)


def fingerprint(root):
    out = {}
    for name in sorted(os.listdir(root)):
        p = os.path.join(root, name)
        with open(p, "rb") as f:
            out[name] = (hashlib.sha256(f.read()).hexdigest(),
                         os.stat(p).st_mtime_ns)
    return out


class Fixture:
    """One analysed, calibrated, reconciled library in SQLite."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nomtag-copy-").encode()
        self.music = os.path.join(self.dir, b"music")
        self.other = os.path.join(self.dir, b"other")
        os.makedirs(self.music)
        os.makedirs(self.other)
        self.db = os.path.join(self.dir, b"source.db")
        self.config = os.path.join(self.dir, b"plugins.yaml")
        with open(self.config, "w") as f:
            f.write("plugins:\n" + "".join(
                f"  - name: format-{n}\n" for n in ("mp3", "flac",
                                                    "ogg-vorbis")) +
                    "  - name: storage-sqlite\n"
                    "  - name: storage-postgresql\n"
                    "  - name: inference-external\n"
                    "    settings:\n"
                    "      command: /usr/bin/python3\n"
                    f"      args: [{WORKER}]\n"
                    "      tier_sources:\n"
                    "        - {model: example-loudness/1, label: loud, "
                    "opposite: quiet}\n")
        songs = {b"a.mp3": (0.9, 2400), b"b.flac": (0.05, 150),
                 NON_UTF8: (0.4, 600), b"gone.ogg": (0.3, 900)}
        for name, (level, tone) in songs.items():
            song(os.path.join(self.music, name), level, tone)
        song(os.path.join(self.other, b"c.mp3"), 0.5, 440)
        self.run("library", "add", "music", self.music)
        self.run("library", "add", "other", self.other, "--mode", "minimal")
        jl = os.path.join(self.dir, b"import.jsonl")
        with open(jl, "w") as f:
            f.write(json.dumps({"path": "a.mp3", "tags": {
                "bpm": "128", "mood-strict": ["calm", "warm"]}}) + "\n")
        self.run("scan", "music")
        self.run("scan", "other")
        self.run("tags", "import", "music", jl)
        self.run("analyze", "music")
        self.run("analyze", "other")
        self.run("calibrate")
        for lib in ("music", "other"):
            r = self.json("reconcile", lib)
            assert r["failed"] == 0 and r["processed"] > 0, r
            assert lib == "other" or r["written"] > 0, r
        # nomtag's own write changed the files' size and mtime, which makes
        # them due for analysis again; analysed again (the same results),
        # the files then already hold what a reconcile would write: the
        # library is at rest, nothing due anywhere.
        for lib in ("music", "other"):
            self.run("analyze", lib)
            self.run("reconcile", lib)
        os.remove(os.path.join(self.music, b"gone.ogg"))
        self.run("scan", "music")

    def run(self, *args, db=None, check=True, env=None):
        argv = [NOMTAG, "--config", self.config, "--db", db or self.db]
        p = subprocess.run(argv + list(args), capture_output=True,
                           env=env, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError(f"nomtag {args} exited {p.returncode}:\n"
                                 f"{p.stdout.decode(errors='replace')}\n"
                                 f"{p.stderr.decode(errors='replace')}")
        return p

    def json(self, *args, db=None):
        return json.loads(self.run(*args, "--json", db=db).stdout)

    def copy(self, source, target, check=True):
        return self.run("db", "copy", source, target, check=check)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class DbCopyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Fixture()

    @classmethod
    def tearDownClass(cls):
        cls.f.close()

    def assert_nothing_due(self, db):
        """The copy's status is the source's (nothing pending, the same
        analyses current), and a reconcile against it writes nothing."""
        f = self.f
        before = (fingerprint(f.music), fingerprint(f.other))
        for lib in ("music", "other"):
            st = f.json("status", lib, db=db)
            self.assertEqual(st, f.json("status", lib))
            self.assertEqual(st["pending_count"], 0, st)
            analysed = st["analysis"][0]["analysed"]
            self.assertGreater(analysed, 0, st)
            r = f.json("reconcile", lib, db=db)
            self.assertEqual((r["written"], r["processed"], r["failed"]),
                             (0, 0, 0), r)
        self.assertEqual(before, (fingerprint(f.music), fingerprint(f.other)))

    def test_round_trip_sqlite_postgresql_sqlite_loses_nothing(self):
        f = self.f
        source = dump(f.db)
        # The fixture holds what the copy must carry.
        for t in COLUMNS:
            self.assertTrue(source[t], f"the fixture has no {t} rows")
        paths = [r[2] for r in source["files"]]
        self.assertIn(NON_UTF8, paths)
        self.assertIn(1, [r[6] for r in source["files"]])  # missing
        self.assertTrue(all(r[11] for r in source["files"] if r[6] == 0))

        pg = new_pg_database(self)
        p = f.copy(f.db, pg)
        self.assertIn(b"analysis_embeddings", p.stdout)
        self.assertEqual(pg_counts(pg),
                         {t: len(rows) for t, rows in source.items()})
        self.assert_nothing_due(pg)

        back = os.path.join(f.dir, b"back.db")
        self.addCleanup(lambda: os.path.exists(back) and os.remove(back))
        f.copy(pg, back)
        self.assertEqual(dump(back), source)
        self.assert_nothing_due(back)
        # Ids go on after the copied ones on the server: a new library and
        # a new file are recorded there as anywhere.
        newlib = os.path.join(f.dir, b"new")
        os.makedirs(newlib, exist_ok=True)
        song(os.path.join(newlib, b"n.mp3"), 0.2, 300)
        f.run("library", "add", "new", newlib, db=pg)
        f.run("scan", "new", db=pg)
        self.assertEqual(pg_counts(pg)["files"], len(source["files"]) + 1)

    def test_a_target_that_is_not_empty_is_refused_and_left_unchanged(self):
        f = self.f
        pg = new_pg_database(self)
        f.copy(f.db, pg)
        before = pg_digest(pg)
        p = f.copy(f.db, pg, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"is not empty (2 libraries", p.stderr)
        self.assertIn(b"nothing was changed", p.stderr)
        self.assertEqual(pg_digest(pg), before)

        target = os.path.join(f.dir, b"taken.db")
        self.addCleanup(os.remove, target)
        shutil.copyfile(f.db, target)
        with open(target, "rb") as t:
            bytes_before = t.read()
        p = f.copy(pg, target, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"is not empty", p.stderr)
        with open(target, "rb") as t:
            self.assertEqual(t.read(), bytes_before)

    def test_a_refused_copy_into_a_new_file_leaves_no_file_behind(self):
        f = self.f
        bad = self.scratch(b"bad.db")
        # A row the target refuses: tags of a file that is not there, as a
        # database edited without foreign keys may hold.
        con = sqlite3.connect(bad)
        con.execute("PRAGMA foreign_keys = OFF")
        con.execute("INSERT INTO tags VALUES (99999, 'bpm', 0, '1')")
        con.commit()
        con.close()
        made = os.path.join(f.dir, b"made")
        target = os.path.join(made, b"deeper", b"copy.db")
        p = f.copy(bad, target, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"writing tags into the copy", p.stderr)
        self.assertIn(b"removed " + target, p.stderr)
        self.assertFalse(os.path.exists(made), os.listdir(f.dir))
        # Into a file of its own folder: the same, companions included.
        target = os.path.join(f.dir, b"refused.db")
        p = f.copy(bad, target, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual([n for n in os.listdir(f.dir)
                          if n.startswith(b"refused.db")], [])
        # A file that was there (empty: SQLite takes it for a new database)
        # is never removed.
        kept = os.path.join(f.dir, b"kept.db")
        self.addCleanup(os.remove, kept)
        open(kept, "wb").close()
        p = f.copy(bad, kept, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn(b"removed", p.stderr)
        self.assertTrue(os.path.exists(kept))

    def scratch(self, name):
        """A copy of the fixture's database, made by db copy, to change."""
        path = os.path.join(self.f.dir, name)
        self.addCleanup(os.remove, path)
        self.f.copy(self.f.db, path)
        return path

    def test_a_running_worker_holding_claims_is_named_and_refused(self):
        f = self.f
        busy = self.scratch(b"busy.db")
        jl = os.path.join(f.dir, b"bpm.jsonl")
        with open(jl, "w") as out:
            out.write(json.dumps({"path": "b.flac", "tags": {"bpm": "90"}})
                      + "\n")
        f.run("tags", "import", "music", jl, db=busy)
        env = dict(os.environ, NOMTAG_TEST_STOP_AT="before-project")
        worker = subprocess.Popen(
            [NOMTAG, "--config", f.config, "--db", busy, "reconcile",
             "music"], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            for _ in range(3000):
                with open(f"/proc/{worker.pid}/stat") as s:
                    if s.read().rsplit(")", 1)[1].split()[0] == "T":
                        break
                self.assertIsNone(worker.poll(), "the worker ended")
                time.sleep(0.01)
            pg = new_pg_database(self)
            p = f.copy(busy, pg, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"workers are running", p.stderr)
            self.assertIn(f":{worker.pid}".encode(), p.stderr)
            self.assertEqual(pg_tables(pg), [])  # refused before opening
            # Into a new file: refused before the file is made.
            fresh = os.path.join(f.dir, b"never.db")
            p = f.copy(busy, fresh, check=False)
            self.assertIn(b"workers are running", p.stderr)
            self.assertFalse(os.path.exists(fresh))
        finally:
            worker.send_signal(signal.SIGCONT)
            worker.communicate(timeout=120)
        self.assertEqual(worker.returncode, 0)
        f.copy(busy, pg)  # the worker is done: the copy goes
        self.assertEqual(pg_counts(pg)["libraries"], 2)

    def test_a_running_analysis_holding_claims_is_named_and_refused(self):
        """Analysis claims are seen by the plugin's export itself."""
        f = self.f
        busy = self.scratch(b"analysing.db")
        marker = os.path.join(f.dir, b"asked")
        worker = os.path.join(f.dir, b"stuck_worker.py")
        with open(worker, "w") as out:
            out.write("import json, os, sys, time\n"
                      "print(json.dumps({'ready': True, 'protocol': 1}), "
                      "flush=True)\n"
                      "sys.stdin.readline()\n"
                      f"open({marker.decode()!r}, 'w').close()\n"
                      "time.sleep(300)\n")
        config = os.path.join(f.dir, b"stuck.yaml")
        with open(f.config) as src, open(config, "w") as out:
            out.write(src.read().replace(WORKER, worker.decode()).replace(
                "      tier_sources:", "      timeout_s: 300\n"
                "      tier_sources:"))
        analysing = subprocess.Popen(
            [NOMTAG, "--config", config, "--db", busy, "analyze", "music"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        try:
            for _ in range(3000):
                if os.path.exists(marker):
                    break
                self.assertIsNone(analysing.poll(), "analyze ended")
                time.sleep(0.01)
            self.assertTrue(os.path.exists(marker), "the worker was not asked")
            pg = new_pg_database(self)
            p = f.copy(busy, pg, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"workers are running", p.stderr)
            self.assertIn(f":{analysing.pid}:".encode(), p.stderr)
            self.assertEqual(set(pg_counts(pg).values()), {0})
        finally:
            os.killpg(analysing.pid, signal.SIGKILL)
            analysing.wait()
        # Its claims died with it: they are not copied, the rest is.
        f.copy(busy, pg)
        self.assertEqual(pg_counts(pg)["analyses"], len(dump(f.db)["analyses"]))

    def test_a_storage_plugin_before_abi_1_7_says_it_cannot_copy(self):
        plugin = os.environ.get("NOMTAG_TEST_STORAGE_ABI14")
        self.assertTrue(plugin and os.path.exists(plugin),
                        "NOMTAG_TEST_STORAGE_ABI14 names the 1.4 plugin")
        f = self.f
        config = os.path.join(f.dir, b"old.yaml")
        with open(config, "w") as out:
            out.write(f"plugins:\n  - path: {plugin}\n")
        target = os.path.join(f.dir, b"old-target.db")
        p = subprocess.run([NOMTAG, "--config", config, "db", "copy", f.db,
                            target], capture_output=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"needs ABI 1.7", p.stderr)
        self.assertFalse(os.path.exists(target), "the new file stays made")
        # The same plugin still serves everything else.
        p = subprocess.run([NOMTAG, "--config", config, "--db", f.db,
                            "library", "list"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"music", p.stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
