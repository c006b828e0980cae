#!/usr/bin/python3
"""Drives every file of the odd-files corpus through nomtag (scan, import,
reconcile) in all three write modes and back, and checks the promise to users: each write either
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
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import independent_view  # noqa: E402
NOMTAG, CONFIG = sys.argv[1], sys.argv[2]

FULL = ["mood-strict=happy", "mood-regular=happy", "mood-regular=calm",
        "mood-loose=calm", "bpm=120", "danceability=0.8125",
        "genre.model-v2=rock"]
TIERS = {"mood-strict", "mood-regular", "mood-loose"}
FAILURES = []


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def audio_hash(path):
    """ffmpeg's hash of the encoded audio packets, or why there is none: a
    string that never equals a hash, so an unreadable file never passes
    as "the same audio"."""
    try:
        return independent_view.audio_hash(path)
    except independent_view.Unreadable as e:
        return e


def same_audio(before, after):
    return isinstance(before, str) and before == after


class Unjudged:
    """Why a file's foreign view could not be read: equal to nothing, not
    even another Unjudged, so a file the independent reader cannot read
    never passes as "foreign tags unchanged"."""

    def __init__(self, why):
        self.why = why

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    def __repr__(self):
        return f"unreadable by the independent reader ({self.why})"


def foreign_view(path):
    """What is not ours, by mutagen and raw blocks and atoms."""
    try:
        return independent_view.foreign(path)
    except Exception as e:  # mutagen cannot read it either
        return Unjudged(f"{type(e).__name__}: {e}")


def ours_by_mutagen(path):
    try:
        return independent_view.ours(path)
    except Exception as e:
        return ("unreadable", type(e).__name__)


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
    got = ours_by_mutagen(path)
    if got != want:
        fail(name, step, f"mutagen reads namespace {got} != desired {want}")
    if not same_audio(before_audio, audio_hash(path)):
        fail(name, step, "audio packets changed or unhashable (ffmpeg)")
    after_foreign = foreign_view(path)
    if after_foreign != before_foreign:
        fail(name, step, "foreign tags changed or unreadable (mutagen): "
             f"{after_foreign!r}"[:300])
    leftovers = [e for e in os.listdir(os.path.dirname(path))
                 if ".nomtag-" in e]
    if leftovers:
        fail(name, step, f"left {leftovers}")
    return "ok", ""


def is_utf8(name):
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def nomtag_db(db, *args):
    return subprocess.run([NOMTAG, "--config", CONFIG, "--db", db] +
                          list(args), capture_output=True, text=True,
                          errors="replace")


def main():
    work = tempfile.mkdtemp(prefix="nomtag-odd-")
    corpus = os.path.join(work, "corpus")
    subprocess.run([os.path.join(HERE, "make_odd_files.py"), corpus],
                   check=True, stdout=subprocess.DEVNULL)
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    os.remove(os.path.join(corpus, "manifest.json"))
    full = {}
    for kv in FULL:
        k, v = kv.split("=", 1)
        full.setdefault(k, []).append(v)
    minimal = {k: v for k, v in full.items() if k in TIERS}
    db = os.path.join(work, "nomtag.db")
    calibration = os.path.join(work, "calibration.json")
    with open(calibration, "w") as f:
        f.write('{"model": "odd-files"}')
    nomtag_db(db, "library", "add", "odd", corpus)
    nomtag_db(db, "calibration", "import", calibration)
    r = nomtag_db(db, "scan", "odd", "--json")
    names = []
    for entry in manifest:
        name = entry.get("file") or bytes.fromhex(entry["file_hex"]).decode(
            "utf-8", "surrogateescape")
        names.append((name, entry))
    # The scan exits non-zero when it lists unreadable files: only files
    # expected to be refused may be among them, and every folder is seen.
    if r.returncode != 0:
        try:
            out = json.loads(r.stdout)
        except ValueError:
            out = None
        expect = {n: e["expect"] for n, e in names}
        if (out is None or out["unseen"] or
                any(expect.get(e["path"], "ok") == "ok"
                    for e in out["errors"])):
            FAILURES.append("scan failed: " + r.stderr + r.stdout)
    # Tags go in through an import (a name that is not UTF-8 cannot be
    # spelled in JSON; it gets the same tags by hand below).
    with open(os.path.join(work, "tags.jsonl"), "w") as f:
        for name, _ in names:
            if is_utf8(name):
                f.write(json.dumps({"path": name, "tags": full}) + "\n")
    r = nomtag_db(db, "tags", "import", "odd", os.path.join(work, "tags.jsonl"))
    if r.returncode != 0:
        FAILURES.append("import failed: " + r.stderr)

    # Every file through reconcile in every mode and back: each file ends
    # correct, or is reported failed with its bytes as they were.
    steps = [("full", full), ("minimal", minimal), ("none", {}),
             ("full", full)]
    refused = {}
    for mode, want in steps:
        before = {n: sha(os.path.join(corpus, n)) for n, _ in names}
        audio = {n: audio_hash(os.path.join(corpus, n)) for n, _ in names}
        theirs = {n: foreign_view(os.path.join(corpus, n)) for n, _ in names}
        nomtag_db(db, "library", "set-mode", "odd", mode)
        r = nomtag_db(db, "reconcile", "odd", "--json")
        if r.returncode not in (0, 2):
            FAILURES.append(f"reconcile {mode} crashed: {r.stderr}")
            break
        out = json.loads(r.stdout)
        failed = {f["path"]: f["error"] for f in out["failures"]}
        for name, entry in names:
            if not is_utf8(name):
                continue  # not in the database: checked by hand below
            path = os.path.join(corpus, name)
            if name in failed:
                refused.setdefault(name, f"{mode}: {failed[name]}")
                if sha(path) != before[name]:
                    fail(name, mode, "failed AND changed the file")
                if entry["expect"] == "ok":
                    fail(name, mode, "refused a file that must work: " +
                         failed[name])
                continue
            if entry["expect"] == "error":
                fail(name, mode, "a broken file was not reported")
                continue
            got = nom_keys(path)
            if got != want:
                fail(name, mode, f"namespace {got} != desired {want}")
            got = ours_by_mutagen(path)
            if got != want:
                fail(name, mode, f"mutagen reads namespace {got} != "
                     f"desired {want}")
            if not same_audio(audio[name], audio_hash(path)):
                fail(name, mode, "audio packets changed or unhashable "
                     f"(ffmpeg): {audio[name]}")
            after_foreign = foreign_view(path)
            if after_foreign != theirs[name]:
                fail(name, mode, "foreign tags changed or unreadable "
                     f"(mutagen): {after_foreign!r}"[:300])
        leftovers = [e for e in os.listdir(corpus) if ".nomtag-" in e]
        if leftovers:
            FAILURES.append(f"{mode}: left {leftovers}")

    # The file whose name is not UTF-8, by hand through the same write.
    for name, entry in names:
        if is_utf8(name):
            continue
        path = os.path.join(corpus, name)
        for step, args, want in [
                ("full", ["tags", "write", path] + FULL, full),
                ("clear", ["tags", "clear", path], {})]:
            outcome, why = check_step(name, path, step, args, want)
            if outcome != "ok":
                fail(name, step, "refused: " + why)

    for name, _ in names:
        print(f"  {name!r}: " + (f"refused ({refused[name]})"
                                 if name in refused else "ok in every mode"))
    shutil.rmtree(work)
    if FAILURES:
        print("FAILURES:\n  " + "\n  ".join(FAILURES))
        return 1
    print(f"{len(manifest)} odd files through reconcile in every mode and "
          "back: each correct or refused intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
