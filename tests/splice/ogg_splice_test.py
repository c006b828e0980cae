#!/usr/bin/python3
"""Ogg comment splice (issue 18): nomtag writes its NOM: fields into the
Vorbis / Opus comment packet and the vendor and every other field keep
their bytes and order (mixed-case names interleaved, which TagLib
regroups and upper-cases on save). Judged by an Ogg packet reader of its
own, mutagen and ffmpeg. A multiplexed file (two streams) is refused
with a reason that says so.

Usage: ogg_splice_test.py NOMTAG PLUGINS_YAML
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import independent_view  # noqa: E402
import mutagen  # noqa: E402

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
FAILURES = []
WANT = {"mood-strict": ["happy", "party"], "bpm": ["120"]}
CHANGED = dict(WANT, bpm=["121"])
MAGIC = {".ogg": b"\x03vorbis", ".opus": b"OpusTags"}


def packets(data, count):
    """The first `count` packets of the (only) logical stream."""
    out, cur, at = [], b"", 0
    while at + 27 <= len(data) and len(out) < count:
        assert data[at:at + 4] == b"OggS"
        nseg = data[at + 26]
        lacing = data[at + 27:at + 27 + nseg]
        at += 27 + nseg
        for n in lacing:
            cur += data[at:at + n]
            at += n
            if n < 255:
                out.append(cur)
                cur = b""
    return out


def foreign(path):
    data = open(path, "rb").read()
    ext = os.path.splitext(path)[1]
    body = packets(data, 2)[1][len(MAGIC[ext]):]
    n = struct.unpack("<I", body[:4])[0]
    vendor = body[:4 + n]
    at = 4 + n
    count = struct.unpack("<I", body[at:at + 4])[0]
    at += 4
    fields = []
    for _ in range(count):
        ln = struct.unpack("<I", body[at:at + 4])[0]
        f = body[at + 4:at + 4 + ln]
        name = f.split(b"=", 1)[0].upper()
        if not (b"=" in f and name.startswith((b"NOM:", b"NOM_"))):
            fields.append(f)
        at += 4 + ln
    return vendor, fields


def make_corpus(d):
    files = []
    for ext, codec in ((".ogg", ["-c:a", "libvorbis"]),
                       (".opus", ["-c:a", "libopus"])):
        path = os.path.join(d, "mixed" + ext)
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "sine=frequency=330:duration=1"] + codec + [path],
                       check=True)
        f = mutagen.File(path)
        for kv in [("title", "Title"), ("artist", "lower first"),
                   ("ARTIST", "Upper"), ("Album", "Mixed"),
                   ("artist", "again lower"), ("NOM_BPM", "legacy ours"),
                   ("nomad", "not ours")]:
            f.tags.append(kv)
        f.save()
        files.append(path)
    return files


def check_multiplexed(d):
    """Two Vorbis streams in one file: refused with a reason that says so,
    the file untouched."""
    path = os.path.join(d, "two_streams.ogg")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=330:duration=1", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", "-map", "0", "-map", "1",
                    "-c:a", "libvorbis", path], check=True)
    before = open(path, "rb").read()
    r = run("tags", "write", path, *assignments(WANT))
    if r.returncode == 0:
        FAILURES.append("two_streams.ogg: a multiplexed file was written")
    elif "multiplexed" not in r.stderr:
        FAILURES.append("two_streams.ogg: the refusal does not say why: " +
                        r.stderr.strip())
    if open(path, "rb").read() != before:
        FAILURES.append("two_streams.ogg: refused AND changed")
    print(f"  two_streams.ogg: refused ({r.stderr.strip()})")


def run(*args):
    return subprocess.run([NOMTAG, "--config", CONFIG] + list(args),
                          capture_output=True, text=True)


def assignments(tags):
    return [f"{k}={v}" for k, vs in tags.items() for v in vs]


def check(name, path, tags, step, original):
    audio = independent_view.audio_hash(path)
    r = run("tags", "write", path, *assignments(tags)) if tags else run(
        "tags", "clear", path)
    if r.returncode != 0:
        FAILURES.append(f"{name}: {step}: refused: {r.stderr.strip()}")
        return False
    if foreign(path) != original:
        FAILURES.append(f"{name}: {step}: comment fields changed:\n    "
                        f"{original}\n -> {foreign(path)}")
    if independent_view.audio_hash(path) != audio:
        FAILURES.append(f"{name}: {step}: audio changed")
    if independent_view.ours(path) != tags:
        FAILURES.append(f"{name}: {step}: mutagen reads "
                        f"{independent_view.ours(path)}, not {tags}")
    return True


def main():
    work = tempfile.mkdtemp(prefix="nomtag-oggsplice-")
    files = make_corpus(work)
    written = 0
    for path in files:
        name = os.path.basename(path)
        original = foreign(path)
        if not check(name, path, WANT, "first write", original):
            continue
        written += 1
        size = os.path.getsize(path)
        if check(name, path, CHANGED, "changed value", original):
            if os.path.getsize(path) != size:
                FAILURES.append(f"{name}: a changed value resized the file")
        check(name, path, {}, "clear", original)
        print(f"  {name}: written, changed in place, cleared")
    print(f"{written} of {len(files)} written")
    check_multiplexed(work)
    shutil.rmtree(work)
    if FAILURES:
        print("FAILURES:\n  " + "\n  ".join(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
