#!/usr/bin/python3
"""Claims, worker liveness, opening the database and --json, end to end:
real audio files made by ffmpeg, a real database (SQLite, or PostgreSQL
with NOMTAG_TEST_BACKEND=postgresql), the real nomtag
command run as several processes (stopped with SIGSTOP past a lease, killed
with SIGKILL), and mutagen as the independent reader of the files.

Issues 16.3, 16.14, 16.15 and 17.4, 17.10, 17.12, 17.15 (storage parts).

Usage: claims_test.py NOMTAG PLUGINS_YAML [TEST_NAME...]
"""
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

import mutagen

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
import test_database  # noqa: E402
from test_database import sqlite_only  # noqa: E402
SEED = None


def seed():
    """One pristine MP3 with a foreign tag, made once."""
    global SEED
    if SEED is None:
        SEED = os.path.join(tempfile.gettempdir(),
                            f"nomtag-claims-seed-{os.getpid()}.mp3")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "sine=frequency=440:duration=1", "-c:a",
                        "libmp3lame", "-metadata", "title=Seed", SEED],
                       check=True)
    return SEED


def bpm(path):
    """The nom:bpm values mutagen reads from the file, or None."""
    tags = mutagen.File(path).tags or {}
    frame = tags.get("TXXX:nom:bpm")
    return [str(v) for v in frame.text] if frame else None


def state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def wait_stopped(proc):
    """Until proc stops itself (NOMTAG_TEST_STOP_AT); fails if it ends."""
    for _ in range(6000):
        if proc.poll() is not None:
            raise AssertionError("the worker ended instead of stopping: " +
                                 proc.communicate()[1])
        if state(proc.pid) == "T":
            return
        time.sleep(0.01)
    raise AssertionError("the worker never reached its stop point")


class Library:
    def __init__(self, test, names=("a.mp3",), root_name=b"music"):
        self.dir = tempfile.mkdtemp(prefix="nomtag-claims-").encode()
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.root = os.path.join(self.dir, root_name)
        self.db = test_database.new_database(test, self.dir)
        os.makedirs(self.root)
        self.names = [n.encode() if isinstance(n, str) else n for n in names]
        for n in self.names:
            shutil.copy(seed(), os.path.join(self.root, n))

    def path(self, name):
        return os.path.join(self.root,
                            name.encode() if isinstance(name, str) else name)

    def argv(self, *args):
        return [NOMTAG, "--config", CONFIG, "--db", self.db] + list(args)

    def run(self, *args, check=True, env=None):
        r = subprocess.run(self.argv(*args), capture_output=True, env=env)
        r.out, r.err = r.stdout.decode(), r.stderr.decode(errors="replace")
        if check and r.returncode != 0:
            raise AssertionError(f"nomtag {args} failed ({r.returncode}): "
                                 f"{r.err}{r.out}")
        return r

    def json(self, *args, check=True):
        return json.loads(self.run(*args, "--json", check=check).out)

    def start(self, *args, stop_at=None):
        env = dict(os.environ)
        if stop_at:
            env["NOMTAG_TEST_STOP_AT"] = stop_at
            # A stop point stops every thread of the process wherever it
            # is: with one worker, no other thread can be holding the
            # database's lock at that moment.
            args += ("--workers", "1")
        return subprocess.Popen(self.argv(*args), env=env, text=True,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def stop_past_lease(self, stop_at):
        """Starts worker A with a 1 s lease, stopped at stop_at; imports
        bpm 2 and waits until A's lease has run out (A is still alive)."""
        a = self.start("reconcile", "music", "--lease-ms", "1000", "--json",
                       stop_at=stop_at)
        wait_stopped(a)
        self.import_bpm(2)
        time.sleep(1.5)
        return a

    def import_bpm(self, value, names=None):
        jl = os.path.join(self.dir, b"import.jsonl")
        with open(jl, "w") as f:
            for n in names or self.names:
                f.write(json.dumps({"path": n.decode(),
                                    "tags": {"bpm": value}}) + "\n")
        self.run("tags", "import", "music", jl)

    def setup(self, value=1):
        self.run("library", "add", "music", self.root)
        self.run("scan", "music")
        self.import_bpm(value)


class LostLeases(unittest.TestCase):
    """Issue 16.3: no file write without a claim valid at that moment."""

    def test_a_worker_stopped_past_its_lease_writes_nothing(self):
        # Reproduces the review's case: worker A claims the file and stops
        # (SIGSTOP) before writing; the tags change; A's lease runs out and
        # worker B writes the new value. When A goes on, the claim check
        # right before its commit says no: the file keeps B's value and the
        # database agrees. Before the fix A wrote its stale value after B
        # and the database still said "in sync".
        lib = Library(self)
        lib.setup(1)
        a = lib.stop_past_lease("before-project")
        b = lib.json("reconcile", "music")
        self.assertEqual(b["written"], 1)
        self.assertEqual(bpm(lib.path("a.mp3")), ["2"])
        a.send_signal(signal.SIGCONT)
        out, err = a.communicate(timeout=120)
        self.assertEqual(a.returncode, 0, err)
        report = json.loads(out)
        self.assertEqual(report["written"], 0, report)
        self.assertEqual(report["superseded"], 1, report)
        self.assertEqual(bpm(lib.path("a.mp3")), ["2"], "A wrote a stale value")
        status = lib.json("status", "music")
        self.assertEqual(status["pending_count"], 0)
        self.assertEqual(lib.json("reconcile", "music")["processed"], 0)

    def test_a_stale_write_after_the_claim_check_is_undone(self):
        # A passes the claim check, then stops before its first byte while
        # holding the file's write lock; its lease runs out. B cannot write
        # the file while A holds the lock, and says so (exit 2, "retried").
        # When A goes on, its record is refused (B fenced it off), so the
        # file is due again and the next run writes the right value: the
        # file and the database end in agreement.
        lib = Library(self)
        lib.setup(1)
        a = lib.stop_past_lease("after-claim-check")
        r = lib.run("reconcile", "music", "--json", check=False)
        self.assertEqual(r.returncode, 2, r.out)
        self.assertIn("another nomtag process is writing it",
                      json.loads(r.out)["failures"][0]["error"])
        a.send_signal(signal.SIGCONT)
        a.communicate(timeout=120)
        out = lib.json("reconcile", "music")
        self.assertEqual(out["remaining"], 0, out)
        self.assertEqual(bpm(lib.path("a.mp3")), ["2"])
        status = lib.json("status", "music")
        self.assertEqual(status["pending_count"], 0)

    def test_a_group_stopped_past_its_lease_checks_its_claims_again(self):
        # A group's claims are checked in one transaction, and that check
        # covers the group for a quarter of the lease (issue 19). A stops
        # right after it, before its first file's first byte, and its lease
        # runs out; C takes both claims over and stops before opening the
        # files (A holds their locks). When A goes on, its first file is
        # written (it passed its check); the record is refused, which
        # leaves that file due and unclaimed, so A claims and writes it
        # again with the new value. The second, far past the quarter, is
        # checked again and not written: it stays C's, untouched. C then
        # writes the database's value into it.
        lib = Library(self, names=("a.mp3", "b.mp3"))
        lib.setup(1)
        a = lib.stop_past_lease("after-claim-check")
        c = lib.start("reconcile", "music", "--json",
                      stop_at="before-project")
        wait_stopped(c)
        a.send_signal(signal.SIGCONT)
        out, err = a.communicate(timeout=120)
        self.assertEqual(a.returncode, 3, err)  # C holds the second file
        report = json.loads(out)
        self.assertEqual(report["superseded"], 2, report)
        self.assertEqual(report["written"], 1, report)
        values = sorted(str(bpm(lib.path(n))) for n in lib.names)
        self.assertEqual(values, ["None", "['2']"],
                         "A wrote its second file after its lease ran out")
        c.send_signal(signal.SIGCONT)
        out, err = c.communicate(timeout=120)
        self.assertEqual(c.returncode, 0, err)
        self.assertEqual(json.loads(out)["remaining"], 0, out)
        for n in lib.names:
            self.assertEqual(bpm(lib.path(n)), ["2"], n)
        self.assertEqual(lib.json("status", "music")["pending_count"], 0)

    def lease_lost_before_the_first_byte(self, stop_at, *library_options):
        # A passes every check of the build, writes its journal (in place)
        # or its whole copy, and stops right there, before its first byte
        # reaches the file; its lease runs out and B takes the claim over
        # (B then meets A's write lock and gives up). When A goes on, the
        # claim check right before the first byte says no: A's stale value
        # never reaches the file and nothing is left beside it. A then
        # claims the file afresh (it is still due) and writes the
        # database's value. Before the check moved into the commit, A
        # wrote its stale value (bpm 1) here.
        lib = Library(self)
        # mutagen leaves padding in the tag, so the write fits in place.
        mutagen.File(lib.path("a.mp3")).save(padding=lambda info: 4096)
        lib.setup(1)
        if library_options:
            lib.run("library", "set", "music", *library_options)
        a = lib.start("reconcile", "music", "--lease-ms", "1000", "--json",
                      stop_at=stop_at)

        def go_on_until_stopped_or_done():
            a.send_signal(signal.SIGCONT)
            while a.poll() is None and state(a.pid) != "T":
                time.sleep(0.01)

        try:
            wait_stopped(a)
            lib.import_bpm(2)
            time.sleep(1.5)
            r = lib.run("reconcile", "music", "--json", check=False)
            self.assertEqual(r.returncode, 2, r.out)
            self.assertIn("another nomtag process is writing it", r.out)
            go_on_until_stopped_or_done()
            self.assertIsNone(bpm(lib.path("a.mp3")),
                              "A wrote after its claim was taken over")
            # (Stopped again: the fresh claim's journal or copy is there.)
            self.assertIsNone(a.poll(), "A did not take the file again")
            go_on_until_stopped_or_done()  # the fresh claim's write
            out, err = a.communicate(timeout=120)
        finally:
            if a.poll() is None:
                a.kill()
                a.communicate()
        report = json.loads(out)
        self.assertEqual(report["superseded"], 1, report)
        self.assertEqual(report["written"], 1, report)
        self.assertEqual(bpm(lib.path("a.mp3")), ["2"])
        self.assertEqual(os.listdir(lib.root), [b"a.mp3"])
        self.assertEqual(lib.json("status", "music")["pending_count"], 0)
        self.assertEqual(lib.json("reconcile", "music")["processed"], 0)

    def test_a_lease_lost_after_the_journal_stops_an_in_place_write(self):
        self.lease_lost_before_the_first_byte("after-journal")

    def test_a_lease_lost_during_a_copy_stops_the_rename(self):
        self.lease_lost_before_the_first_byte("after-temp-written",
                                              "--write-strategy", "copy")


class Liveness(unittest.TestCase):
    """Issue 16.15: a rerun right after a crash finishes the work."""

    def test_a_rerun_right_after_kill_9_finishes_the_work(self):
        names = [f"f{i}.mp3" for i in range(6)]
        lib = Library(self, names)
        lib.setup(7)
        # Killed while it holds claims on every file (10-minute leases).
        a = lib.start("reconcile", "music", stop_at="before-project")
        wait_stopped(a)
        self.assertEqual(lib.json("status", "music")["in_progress"], 6)
        a.send_signal(signal.SIGKILL)
        a.communicate()
        r = lib.run("reconcile", "music", "--json")
        report = json.loads(r.out)
        self.assertEqual(report["remaining"], 0, report)
        self.assertEqual(report["processed"], 6, report)
        for n in names:
            self.assertEqual(bpm(lib.path(n)), ["7"], n)
        status = lib.json("status", "music")
        self.assertEqual(status["pending_count"], 0)
        self.assertEqual(status["in_progress"], 0)
        if test_database.BACKEND == "sqlite":
            self.assertEqual(os.listdir(lib.db + b"-workers"), [],
                             "no worker file outlives its worker")

    def test_kill_9_at_random_moments_then_an_immediate_rerun(self):
        names = [f"f{i}.mp3" for i in range(8)]
        lib = Library(self, names)
        lib.setup(0)
        for trial in range(4):
            lib.import_bpm(trial + 1)
            p = lib.start("reconcile", "music", "--batch", "2")
            time.sleep(0.05 * trial)
            p.send_signal(signal.SIGKILL)
            p.communicate()
            report = lib.json("reconcile", "music")
            self.assertEqual(report["remaining"], 0, f"trial {trial}")
            for n in names:
                self.assertEqual(bpm(lib.path(n)), [str(trial + 1)], n)

    def test_work_a_live_worker_holds_is_named_and_exits_non_zero(self):
        names = ["a.mp3", "b.mp3"]
        lib = Library(self, names)
        lib.setup(3)
        a = lib.start("reconcile", "music", stop_at="before-project")
        wait_stopped(a)
        try:
            r = lib.run("reconcile", "music", check=False)
            self.assertEqual(r.returncode, 3, r.err + r.out)
            self.assertIn("held by worker", r.out)
            self.assertIn(f":{a.pid}:", r.out, "names the worker")
            self.assertIn("lease until", r.out)
            self.assertIn("other workers hold them", r.err)
            r = lib.run("reconcile", "music", "--json", check=False)
            self.assertEqual(r.returncode, 3)
            held = json.loads(r.out)["held_by_others"]
            self.assertEqual(len(held), 1)
            self.assertEqual(held[0]["files"], 2)
            self.assertTrue(held[0]["alive"])
            self.assertIn(f":{a.pid}:", held[0]["worker"])
        finally:
            a.send_signal(signal.SIGKILL)
            a.communicate()
        self.assertEqual(lib.json("reconcile", "music")["processed"], 2)


class Options(unittest.TestCase):
    """Issue 17.10: numeric options are range-checked; a run never
    re-claims what it holds."""

    def test_out_of_range_numbers_are_refused(self):
        lib = Library(self)
        lib.setup(1)
        for args in (["reconcile", "music", "--lease-ms", "-5"],
                     ["reconcile", "music", "--lease-ms", "1"],
                     ["reconcile", "music", "--lease-ms", "99999999999999"],
                     ["reconcile", "music", "--batch", "0"],
                     ["reconcile", "music", "--workers", "0"],
                     ["--wait", "-1", "library", "list"]):
            r = lib.run(*args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("not in range", r.err + r.out, args)
        self.assertEqual(bpm(lib.path("a.mp3")), None, "nothing written")

    def test_a_failing_file_is_claimed_once_per_run(self):
        # The failing file's claim outlives its lease while the run goes
        # on (the run is stopped 1.5 s); it was claimed again and counted
        # "2 failed" before.
        lib = Library(self)
        lib.setup(1)
        os.remove(lib.path("a.mp3"))
        a = lib.start("reconcile", "music", "--lease-ms", "1000", "--json",
                      stop_at="before-project")
        wait_stopped(a)
        time.sleep(1.5)
        a.send_signal(signal.SIGCONT)
        out, err = a.communicate(timeout=120)
        self.assertEqual(a.returncode, 2, err)
        self.assertEqual(json.loads(out)["failed"], 1)


NON_UTF8 = b"caf\xe9 \xff\xfe.mp3"  # Latin-1 bytes: not valid UTF-8


class Json(unittest.TestCase):
    """Issues 16.14 and 17.12: every command takes --json, and a name that
    is not valid UTF-8 neither crashes it nor is lost."""

    def assert_has_name(self, value, raw):
        found = []

        def walk(v):
            if isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, str) and os.fsencode(v).endswith(raw):
                found.append(v)
        walk(value)
        self.assertTrue(found, f"{raw!r} not found losslessly in {value}")

    def test_every_command_with_json_and_a_name_that_is_not_utf8(self):
        lib = Library(self, names=["ok.mp3", NON_UTF8],
                      root_name=b"m\xfcsic")
        bad = lib.path(NON_UTF8)
        cal = os.path.join(lib.dir, b"cal.json")
        with open(cal, "w") as f:
            f.write('{"happy": [0.1, 0.9]}')
        jl = os.path.join(lib.dir, b"tags.jsonl")
        with open(jl, "w") as f:
            f.write(json.dumps({"path": "ok.mp3", "tags": {"bpm": 5}}) + "\n")

        def run(*args, name=None):
            r = lib.run(*args, "--json", check=False)
            self.assertEqual(r.returncode, 0, f"{args}: {r.err}")
            out = json.loads(r.stdout.decode("utf-8"))  # strict UTF-8
            if name is not None:
                self.assert_has_name(out, name)
            return out

        run("library", "add", "music", lib.root, name=b"m\xfcsic")
        run("library", "list", name=b"m\xfcsic")
        run("library", "set", "music", "--keep-mtime", "off")
        run("library", "set-mode", "music", "full")
        run("scan", "music")
        run("tags", "import", "music", jl)
        run("calibration", "import", cal)
        run("calibration", "show")
        run("calibration", "clear")
        run("reconcile", "music", "--dry-run", name=NON_UTF8)
        run("reconcile", "music")
        run("status", "music")
        run("tags", "write", bad, "bpm=9", name=NON_UTF8)
        self.assertEqual(bpm(bad), ["9"])
        run("tags", "show", bad)
        run("tags", "clear", bad, name=NON_UTF8)
        self.assertEqual(bpm(bad), None)
        run("recover", lib.root, name=b"m\xfcsic")
        r = lib.run("plugins", "--json", check=False)
        json.loads(r.stdout.decode("utf-8"))
        self.assertIn(r.returncode, (0, 2))  # 2: a plugin was refused

    def test_a_failure_naming_the_file_is_reported_whole(self):
        lib = Library(self, names=[NON_UTF8])
        lib.run("library", "add", "music", lib.root)
        lib.run("scan", "music")
        os.remove(lib.path(NON_UTF8))
        r = lib.run("reconcile", "music", "--json", check=False)
        self.assertEqual(r.returncode, 2, r.err)
        out = json.loads(r.stdout.decode("utf-8"))
        self.assertEqual(os.fsencode(out["failures"][0]["path"]), NON_UTF8)
        status = lib.json("status", "music")
        self.assert_has_name(status, NON_UTF8)


class Opening(unittest.TestCase):
    """Issues 17.4 and 17.15: opening is read-only until the database is
    known to be nomtag's; locks and read-only files are explained."""

    @sqlite_only("a database file's bytes (PostgreSQL: storage_test)")
    def test_another_programs_database_is_left_byte_identical(self):
        lib = Library(self)
        theirs = os.path.join(lib.dir, b"theirs.db")
        c = sqlite3.connect(theirs)
        c.execute("CREATE TABLE files (name TEXT)")
        c.execute("CREATE TABLE schema_version (version INTEGER)")
        c.execute("INSERT INTO files VALUES ('mine')")
        c.commit()
        c.close()
        with open(theirs, "rb") as f:
            before = f.read()
        for args in (["library", "list"], ["status", "x"],
                     ["library", "add", "music", lib.root],
                     ["scan", "music"]):
            r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", theirs] +
                               args, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("is not a nomtag database", r.stderr, args)
            self.assertIn("left unchanged", r.stderr, args)
        with open(theirs, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(sorted(os.listdir(lib.dir)),
                         [b"music", b"theirs.db"], "nothing made beside it")

    @sqlite_only("a database file's folder")
    def test_a_missing_database_folder_is_an_error_for_readers(self):
        lib = Library(self)
        gone = os.path.join(lib.dir, b"nonexistent", b"x", b"y.db")
        for args in (["library", "list"], ["status", "music"],
                     ["scan", "music"], ["calibration", "show"]):
            r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", gone] +
                               args, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("no nomtag database at", r.stderr)
            self.assertIn("does not exist", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(lib.dir,
                                                     b"nonexistent")))
        r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", gone,
                            "library", "add", "music", lib.root],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("created the folder", r.stderr, "said so")
        self.assertTrue(os.path.exists(gone))

    @sqlite_only("SQLite's file lock")
    def test_a_locked_database_names_its_holder_and_wait_gives_up(self):
        lib = Library(self)
        lib.setup(1)
        holder = sqlite3.connect(lib.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            r = lib.run("--wait", "0.5", "scan", "music", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("is locked by process " + str(os.getpid()), r.err)
            self.assertIn("gave up after 0.5 s", r.err)
            self.assertNotIn("internal error", r.err)
            # Readers are not held up by a writer (WAL).
            self.assertEqual(lib.json("library", "list")[0]["name"], "music")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        lib.run("scan", "music")

    @sqlite_only("a read-only database file")
    def test_a_read_only_database_serves_reads(self):
        lib = Library(self)
        lib.setup(1)
        with open(lib.db, "rb") as f:
            before = f.read()
        os.chmod(lib.dir, 0o555)
        os.chmod(lib.db, 0o444)
        self.addCleanup(os.chmod, lib.dir, 0o755)
        # As another user: root writes read-only files anyway.
        nobody = ["setpriv", "--reuid=65534", "--regid=65534",
                  "--clear-groups"]
        for args in (["library", "list", "--json"],
                     ["status", "music", "--json"],
                     ["reconcile", "music", "--dry-run", "--json"],
                     ["calibration", "show", "--json"]):
            r = subprocess.run(nobody + lib.argv(*args), capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, f"{args}: {r.stderr}")
            json.loads(r.stdout)
        r = subprocess.run(nobody + lib.argv("scan", "music"),
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0, "writing still needs the rights")
        with open(lib.db, "rb") as f:
            self.assertEqual(f.read(), before)


if __name__ == "__main__":
    try:
        unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
    finally:
        if SEED and os.path.exists(SEED):
            os.remove(SEED)
