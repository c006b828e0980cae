#!/usr/bin/python3
"""A worker for inference-external that misbehaves on purpose, chosen by
the name of the file it is asked about (external_worker_test.py):

  crash-*     exits with status 3, after a line on stderr
  hang-*      starts a child that sleeps, then sleeps itself (never answers)
  garbage-*   prints a line that is not JSON
  huge-*      prints a 3 MB line
  wrongid-*   answers with another request's id
  refuse-*    answers with a per-file error (the protocol's refusal)
  others      a good answer

$WORKER_MODE changes the start: "exit-at-start" exits with status 2
before the hello, "bad-hello" says something else. Every start and every
child is appended to $WORKER_LOG as "start PID" / "child PID".
"""
import json
import os
import subprocess
import sys
import time


def log(what):
    with open(os.environ["WORKER_LOG"], "a") as f:
        f.write(what + "\n")


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


log(f"start {os.getpid()}")
mode = os.environ.get("WORKER_MODE", "")
if mode == "exit-at-start":
    sys.stderr.write("no model here: cannot load weights.bin\n")
    sys.exit(2)
if mode == "bad-hello":
    print("hello?", flush=True)
else:
    say({"ready": True, "protocol": 1})

for line in sys.stdin:
    req = json.loads(line)
    name = os.path.basename(req["path"])
    if name.startswith("crash-"):
        sys.stderr.write("crashing on purpose\n")
        sys.stderr.flush()
        os._exit(3)
    if name.startswith("hang-"):
        child = subprocess.Popen(["sleep", "300"])
        log(f"child {child.pid}")
        time.sleep(300)
    if name.startswith("garbage-"):
        print("this is not json {", flush=True)
        continue
    if name.startswith("huge-"):
        sys.stdout.write("[" + "1," * 1500000 + "1]\n")
        sys.stdout.flush()
        continue
    if name.startswith("wrongid-"):
        say({"id": req["id"] + 1000, "descriptors": {}})
        continue
    if name.startswith("refuse-"):
        say({"id": req["id"], "error": "no vocals to analyse"})
        continue
    say({"id": req["id"],
         "descriptors": {"name-length": len(name)},
         "heads": [{"model": "test-worker/1", "label": "up",
                    "value": 0.25 + 0.5 * (len(name) % 2), "spread": 0.01}]})
