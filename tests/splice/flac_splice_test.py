#!/usr/bin/python3
"""FLAC splice (issue 18): nomtag writes its NOM: fields into the
VORBIS_COMMENT block and every other comment field keeps its bytes and
order (mixed-case names interleaved, a field without '=', which TagLib
drops on save), as does every other block (PICTURE, APPLICATION,
SEEKTABLE, CUESHEET-free files too); a file without a comment block gets
one. Judged by a block walker of its own, mutagen and ffmpeg.

Usage: flac_splice_test.py NOMTAG PLUGINS_YAML
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

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
FAILURES = []
WANT = {"mood-strict": ["happy", "party"], "bpm": ["120"]}
CHANGED = dict(WANT, bpm=["121"])


def blocks(data):
    """[(type, body)] in order, and where the frames start."""
    at = 4
    out = []
    while True:
        head = data[at]
        size = int.from_bytes(data[at + 1:at + 4], "big")
        out.append((head & 0x7F, data[at + 4:at + 4 + size]))
        at += 4 + size
        if head & 0x80:
            return out, at


def render(bl):
    out = b"fLaC"
    for i, (t, body) in enumerate(bl):
        last = 0x80 if i == len(bl) - 1 else 0
        out += bytes([t | last]) + len(body).to_bytes(3, "big") + body
    return out


def comment(fields, vendor=b"hand made"):
    out = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(fields))
    for f in fields:
        out += struct.pack("<I", len(f)) + f
    return out


def parse_comment(body):
    """(vendor bytes, [raw fields], tail)."""
    n = struct.unpack("<I", body[:4])[0]
    vendor = body[:4 + n]
    at = 4 + n
    count = struct.unpack("<I", body[at:at + 4])[0]
    at += 4
    fields = []
    for _ in range(count):
        ln = struct.unpack("<I", body[at:at + 4])[0]
        fields.append(body[at + 4:at + 4 + ln])
        at += 4 + ln
    return vendor, fields, body[at:]


def is_ours(field):
    name = field.split(b"=", 1)[0].upper()
    return b"=" in field and name.startswith((b"NOM:", b"NOM_")) and len(name) > 4


def foreign(path):
    data = open(path, "rb").read()
    bl, frames = blocks(data)
    others = [(t, b) for t, b in bl if t not in (1, 4)]
    com = [b for t, b in bl if t == 4]
    fields = None
    if com:
        vendor, fs, tail = parse_comment(com[0])
        fields = (vendor, [f for f in fs if not is_ours(f)], tail)
    return others, fields, data[frames:]


def make_corpus(d):
    base = os.path.join(d, "_base.flac")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=330:duration=1", "-c:a", "flac", base],
                   check=True)
    bl, frames = blocks(open(base, "rb").read())
    audio = open(base, "rb").read()[frames:]
    streaminfo = bl[0]
    seek = (3, struct.pack(">QQH", 0, 0, 4096))
    app = (2, b"abcd" + bytes(range(40)))
    pic = (6, struct.pack(">II", 3, 9) + b"image/png" + struct.pack(">I", 5) +
           b"front" + struct.pack(">IIIII", 1, 1, 24, 0, 12) + b"\x89PNG" + bytes(8))
    fields = [b"TITLE=Title", b"artist=lower first", b"ARTIST=Upper",
              b"Album=Mixed", b"artist=again lower", b"NOFIELDSEPARATOR",
              b"NOM_MOOD_STRICT=legacy ours", b"nomad=not ours",
              b"NOM:BPM=99"]
    files = {}

    def put(name, bl):
        path = os.path.join(d, name)
        open(path, "wb").write(render(bl) + audio)
        files[name] = path

    put("full.flac", [streaminfo, seek, app, (4, comment(fields)), pic,
                      (1, bytes(2000))])
    put("no_comment.flac", [streaminfo, app, pic, (1, bytes(500))])
    put("no_padding.flac", [streaminfo, (4, comment(fields[:3])), pic])
    put("padding_in_middle.flac", [streaminfo, (1, bytes(300)),
                                   (4, comment(fields[:2], b"")), app])
    put("bare.flac", [streaminfo])
    os.remove(base)
    for p in files.values():
        independent_view.audio_hash(p)  # ffmpeg reads every one of them
    return files


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
    others, fields, frames = foreign(path)
    o_others, o_fields, o_frames = original
    if others != o_others:
        FAILURES.append(f"{name}: {step}: a foreign block changed or moved")
    if o_fields is None:
        o_fields = (struct.pack("<I", 0), [], b"")  # a new, empty vendor
    if fields != o_fields:
        FAILURES.append(f"{name}: {step}: comment fields changed:\n    "
                        f"{o_fields}\n -> {fields}")
    if frames != o_frames or independent_view.audio_hash(path) != audio:
        FAILURES.append(f"{name}: {step}: audio changed")
    if independent_view.ours(path) != tags:
        FAILURES.append(f"{name}: {step}: mutagen reads "
                        f"{independent_view.ours(path)}, not {tags}")
    return True


def frames_at(path):
    return blocks(open(path, "rb").read())[1]


def main():
    work = tempfile.mkdtemp(prefix="nomtag-flacsplice-")
    files = make_corpus(work)
    written = 0
    for name, path in sorted(files.items()):
        original = foreign(path)
        if not check(name, path, WANT, "first write", original):
            continue
        written += 1
        at = frames_at(path)
        if check(name, path, CHANGED, "changed value", original):
            if frames_at(path) != at:
                FAILURES.append(f"{name}: a changed value moved the audio")
        check(name, path, {}, "clear", original)
        print(f"  {name}: written, changed in place, cleared")
    print(f"{written} of {len(files)} written")
    shutil.rmtree(work)
    if FAILURES:
        print("FAILURES:\n  " + "\n  ".join(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
