#!/usr/bin/python3
"""The PostgreSQL server restarted at random moments of a reconcile
(issue 23): a few rounds, each with a new desired state and a multi-batch
run during which the server crashes and comes back at a random moment
(the seed is printed; NOMTAG_TEST_SEED repeats a run). Each time:

- the run finishes, or stops cleanly with an error that names the lost
  connection (never a crash, never a hang);
- no file is half-written: each holds its old value or the new one, whole,
  and no journal or temporary copy is left beside them;
- a rerun after the restart, with no repair, completes: every file holds
  the new value, and a file that already held it before the rerun is not
  written again (its inode, size, mtime and ctime unchanged), while the
  rerun's `written` count is exactly the files that still needed it — so
  each file was written once for each desired state.

This test runs its own server (tests/support/pg_server.sh): it crashes it.

Usage: pg_restart_test.py NOMTAG PLUGINS_YAML
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import mutagen

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "support"))
from own_pg_server import mp3_library, server, start  # noqa: E402
FILES, BATCH, ROUNDS = 24, 3, 4


def bpm(path):
    frame = (mutagen.File(path).tags or {}).get("TXXX:nom:bpm")
    return [str(v) for v in frame.text] if frame else None


def stamp(path):
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def main():
    seed = int(os.environ.get("NOMTAG_TEST_SEED", random.randrange(1 << 30)))
    print(f"seed {seed} (NOMTAG_TEST_SEED={seed} repeats this run)",
          file=sys.stderr)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="nomtag-pgrestart-")
    state = os.path.join(tmp, "server")
    try:
        state, url = start(tmp)
        names = [f"f{i:02}.mp3" for i in range(FILES)]
        root = mp3_library(tmp, names)

        def nomtag(*args):
            r = subprocess.run([NOMTAG, "--config", CONFIG, "--db", url] +
                               list(args), capture_output=True, text=True,
                               timeout=300)
            assert r.returncode == 0, f"{args}: {r.stderr}"
            return r

        nomtag("library", "add", "music", root)
        nomtag("scan", "music")
        # How long an undisturbed run takes, to aim the restarts inside one.
        value = 1
        jl = os.path.join(tmp, "tags.jsonl")

        def want(v):
            with open(jl, "w") as f:
                for n in names:
                    f.write(json.dumps({"path": n, "tags": {"bpm": v}}) + "\n")
            nomtag("tags", "import", "music", jl)

        want(value)
        started = time.monotonic()
        report = json.loads(nomtag("reconcile", "music", "--batch",
                                   str(BATCH), "--json").stdout)
        span = time.monotonic() - started
        assert report["written"] == FILES, report
        stopped = 0
        for rnd in range(ROUNDS):
            old, value = value, value + 1
            want(value)
            # Now and then after the run: it must simply have finished.
            delay = rng.uniform(0.0, span * 1.2)
            worker = subprocess.Popen(
                [NOMTAG, "--config", CONFIG, "--db", url, "reconcile",
                 "music", "--batch", str(BATCH), "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(delay)
            server("crash", state)
            time.sleep(rng.uniform(0.0, 0.3))
            server("resume", state)
            out, err = worker.communicate(timeout=120)
            what = f"round {rnd} (restart at {delay:.3f} s of ~{span:.3f} s)"
            # Finished, or a clean stop that names the lost connection.
            assert worker.returncode in (0, 1), \
                f"{what}: exit {worker.returncode}: {err}"
            assert "internal error" not in err and "Traceback" not in err, err
            if worker.returncode == 1:
                stopped += 1
                assert "PostgreSQL" in err and "connection" in err, \
                    f"{what}: {err}"
            # Nothing half-written, nothing left beside the files.
            assert sorted(os.listdir(root)) == names, \
                f"{what}: {sorted(os.listdir(root))}"
            held = {}
            for n in names:
                got = bpm(os.path.join(root, n))
                assert got in ([str(old)], [str(value)]), f"{what}: {n} {got}"
                held[n] = got == [str(value)]
            stamps = {n: stamp(os.path.join(root, n)) for n in names}
            # The rerun, with no repair: it writes exactly what is left.
            report = json.loads(nomtag("reconcile", "music", "--batch",
                                       str(BATCH), "--json").stdout)
            assert report["remaining"] == 0 and report["failed"] == 0, \
                f"{what}: {report}"
            assert report["written"] == sum(not h for h in held.values()), \
                f"{what}: wrote {report['written']}, {held}"
            for n in names:
                assert bpm(os.path.join(root, n)) == [str(value)], n
                if held[n]:
                    assert stamp(os.path.join(root, n)) == stamps[n], \
                        f"{what}: {n} was written twice"
            status = json.loads(nomtag("status", "music", "--json").stdout)
            assert status["pending_count"] == 0, status
            assert status["in_progress"] == 0, status
            print(f"  {what}: the run "
                  f"{'stopped cleanly' if worker.returncode else 'finished'}"
                  f", {sum(held.values())} files done before, the rerun "
                  f"wrote {report['written']}", file=sys.stderr)
    finally:
        server("stop", state)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"server restarts at {ROUNDS} random moments ({stopped} runs "
          "stopped by one): no file half-written, reruns wrote each file "
          "once")


main()
