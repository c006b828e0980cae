#!/usr/bin/python3
"""Drives every file of the odd-files corpus through nomtag in all three
write modes and back, and checks the promise to users: each write either
leaves the file correct (namespace as desired, foreign tags and audio
unchanged by an independent reader) or is refused with a clear error and
the file byte-identical. Never anything in between.

Usage: odd_files_test.py NOMTAG PLUGINS_YAML
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NOMTAG, CONFIG = sys.argv[1], sys.argv[2]

FULL = ["mood-strict=happy", "mood-regular=happy", "mood-regular=calm",
        "mood-loose=calm", "bpm=120", "danceability=0.8125",
        "genre.model-v2=rock"]
TIERS = {"mood-strict", "mood-regular", "mood-loose"}
FAILURES = []


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def audio_hash(path):
    """ffmpeg's hash of the encoded audio packets: an independent reader."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:a",
                        "-c", "copy", "-f", "hash", "-hash", "sha256", "-"],
                       capture_output=True)
    return r.stdout.strip() if r.returncode == 0 else None


def foreign_view(path):
    """What mutagen sees that is not ours."""
    import mutagen
    try:
        f = mutagen.File(path)
    except Exception as e:  # mutagen cannot read it either
        return ("unreadable", type(e).__name__)
    if f is None or f.tags is None:
        return ()
    items = []
    for k, v in f.tags.items():
        key = str(k)
        low = key.lower()
        if low.startswith(("txxx:nom:", "nom:", "nom_",
                           "----:com.apple.itunes:nom")):
            continue
        items.append((key, repr(v)))
    return tuple(sorted(items))


def nom_keys(path):
    r = run(["tags", "show", path, "--json"])
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)["nom"]


def run(args):
    return subprocess.run([NOMTAG, "--config", CONFIG] + args,
                          capture_output=True, text=True, errors="replace")


def fail(name, step, why):
    FAILURES.append(f"{name}: {step}: {why}")


def check_step(name, path, step, args, want):
    before_bytes = sha(path)
    before_audio = audio_hash(path)
    before_foreign = foreign_view(path)
    r = run(args)
    if r.returncode != 0:
        if sha(path) != before_bytes:
            fail(name, step, "failed AND changed the file: " + r.stderr)
        elif not r.stderr.strip().startswith("nomtag: "):
            fail(name, step, "failed without a clear message")
        return "refused", r.stderr.strip()
    got = nom_keys(path)
    if got != want:
        fail(name, step, f"namespace {got} != desired {want}")
    if audio_hash(path) != before_audio:
        fail(name, step, "audio packets changed (ffmpeg hash)")
    if foreign_view(path) != before_foreign:
        fail(name, step, "foreign tags changed (mutagen)")
    leftovers = [e for e in os.listdir(os.path.dirname(path))
                 if ".nomtag-" in e]
    if leftovers:
        fail(name, step, f"left {leftovers}")
    return "ok", ""


def main():
    work = tempfile.mkdtemp(prefix="nomtag-odd-")
    corpus = os.path.join(work, "corpus")
    subprocess.run([os.path.join(HERE, "make_odd_files.py"), corpus],
                   check=True, stdout=subprocess.DEVNULL)
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    full = {}
    for kv in FULL:
        k, v = kv.split("=", 1)
        full.setdefault(k, []).append(v)
    minimal = {k: v for k, v in full.items() if k in TIERS}
    steps = [("full", ["--mode", "full"], full),
             ("minimal", ["--mode", "minimal"], minimal),
             ("none", ["--mode", "none"], {}),
             ("full again", ["--mode", "full"], full),
             ("clear", None, {})]
    summary = []
    for entry in manifest:
        name = entry.get("file") or bytes.fromhex(entry["file_hex"]).decode(
            "utf-8", "surrogateescape")
        path = os.path.join(corpus, name)
        outcomes = []
        for step, mode, want in steps:
            args = (["tags", "clear", path] if mode is None else
                    ["tags", "write", path] + FULL + mode)
            outcome, why = check_step(name, path, step, args, want)
            outcomes.append(outcome)
            if outcome == "refused":
                if entry["expect"] == "ok":
                    fail(name, step, "refused a file that must work: " + why)
                summary.append(f"  {name}: refused at '{step}': {why}")
                break
        if entry["expect"] == "error" and outcomes[0] != "refused":
            fail(name, "full", "accepted a file that cannot be read")
        if outcomes[-1] == "ok":
            summary.append(f"  {name}: ok in every mode")
    print("\n".join(summary))
    shutil.rmtree(work)
    if FAILURES:
        print("FAILURES:\n  " + "\n  ".join(FAILURES))
        return 1
    print(f"{len(manifest)} odd files: every write correct or refused intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
