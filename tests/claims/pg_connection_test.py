#!/usr/bin/python3
"""Connection loss on PostgreSQL (issue 23), end to end: a worker holds its
claims (stopped at before-project) when the server crashes; when it goes
on, it stops with an error that says the connection was lost, exits
non-zero and leaves no file half-written. The server, restarted on the
same data without any repair, serves a rerun that finishes the work at
once: the lost worker's liveness lock went with its connection, so its
claims are taken over without waiting for the lease.

This test runs its own server (tests/support/pg_server.sh), since it
crashes it.

Usage: pg_connection_test.py NOMTAG PLUGINS_YAML
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import mutagen

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
from own_pg_server import mp3_library, server, start  # noqa: E402


def bpm(path):
    frame = (mutagen.File(path).tags or {}).get("TXXX:nom:bpm")
    return [str(v) for v in frame.text] if frame else None


def wait_stopped(proc):
    for _ in range(6000):
        if proc.poll() is not None:
            raise AssertionError("the worker ended: " + proc.communicate()[1])
        with open(f"/proc/{proc.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)
    raise AssertionError("the worker never reached its stop point")


def main():
    tmp = tempfile.mkdtemp(prefix="nomtag-pgconn-")
    state = os.path.join(tmp, "server")
    try:
        state, url = start(tmp)
        names = [f"f{i}.mp3" for i in range(4)]
        root = mp3_library(tmp, names)

        def nomtag(*args, check=True):
            r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", url] +
                               list(args), capture_output=True, text=True)
            if check:
                assert r.returncode == 0, f"{args}: {r.stderr}"
            return r

        nomtag("library", "add", "music", root)
        nomtag("scan", "music")
        jl = os.path.join(tmp, "tags.jsonl")
        with open(jl, "w") as f:
            for n in names:
                f.write(json.dumps({"path": n, "tags": {"bpm": 5}}) + "\n")
        nomtag("tags", "import", "music", jl)
        before = {n: open(os.path.join(root, n), "rb").read() for n in names}

        env = dict(os.environ, NOMTAG_TEST_STOP_AT="before-project")
        worker = subprocess.Popen([NOMTAG, "--config", CONFIG, "--db", url,
                                   "reconcile", "music", "--json"], env=env,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        wait_stopped(worker)
        server("crash", state)
        worker.send_signal(signal.SIGCONT)
        out, err = worker.communicate(timeout=120)
        assert worker.returncode != 0, f"the worker went on: {out}{err}"
        print("the lost worker said:", err, file=sys.stderr)
        assert "lost the connection to the PostgreSQL database" in err, err
        assert "Traceback" not in err and "internal error" not in err, err
        # No file half-written: each is as it was or fully written, and
        # no journal or copy is left beside them.
        for n in names:
            data = open(os.path.join(root, n), "rb").read()
            assert data == before[n] or bpm(os.path.join(root, n)) == ["5"], n
        assert sorted(os.listdir(root)) == sorted(names), os.listdir(root)

        server("resume", state)
        started = time.monotonic()
        report = json.loads(nomtag("reconcile", "music", "--json").stdout)
        print("after the restart:", report, file=sys.stderr)
        assert report["remaining"] == 0 and report["failed"] == 0, report
        assert time.monotonic() - started < 60, "waited for the lease"
        for n in names:
            assert bpm(os.path.join(root, n)) == ["5"], n
        status = json.loads(nomtag("status", "music", "--json").stdout)
        assert status["pending_count"] == 0, status
        assert status["in_progress"] == 0, status
    finally:
        server("stop", state)
        shutil.rmtree(tmp, ignore_errors=True)
    print("connection loss: a clear stop, nothing half-written, a restarted "
          "server needs no repair")


main()
