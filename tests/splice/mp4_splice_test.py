#!/usr/bin/python3
"""MP4 splice (issue 18): files with no udta/meta/ilst at all get ours
created; tagged files keep every foreign atom byte for byte (a `gnre`
atom, a cover with a `name` atom, a freeform item TagLib cannot render),
in their order; chunk offsets follow samples that move. An old
QuickTime-style file without ftyp is written too.

Judged without nomtag's code: the raw atom leaves of independent_view,
mutagen for the namespace, ffmpeg for the audio.

Usage: mp4_splice_test.py NOMTAG PLUGINS_YAML
"""
import os
import struct
import subprocess
import sys
import tempfile
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import independent_view  # noqa: E402
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm  # noqa: E402

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
FAILURES = []
WANT = {"mood-strict": ["happy", "party"], "bpm": ["120"]}
CHANGED = dict(WANT, bpm=["121"])

CONT = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"meta",
        b"ilst", b"covr"}


# ---- a small atom tree: parse, edit, render, fix the chunk offsets ------

def parse(buf, parent=b""):
    out, at = [], 0
    while at + 8 <= len(buf):
        size, name = struct.unpack(">I4s", buf[at:at + 8])
        body = buf[at + 8:at + size]
        if name == b"meta":
            out.append([name, (body[:4], parse(body[4:], name))])
        elif name in CONT or parent == b"ilst":
            out.append([name, parse(body, name)])
        else:
            out.append([name, body])
        at += size
    return out


def render(atoms):
    out = b""
    for name, body in atoms:
        if isinstance(body, tuple):
            body = body[0] + render(body[1])
        elif isinstance(body, list):
            body = render(body)
        out += struct.pack(">I4s", 8 + len(body), name) + body
    return out


def child(atoms, name):
    return next(a for a in atoms if a[0] == name)


def rebuild(path, edit):
    """Applies edit(top) to the tree and writes it back; moves the chunk
    offsets by what moov changed when moov comes before mdat."""
    data = open(path, "rb").read()
    top = parse(data)
    names = [a[0] for a in top]
    old = len(render([child(top, b"moov")]))
    edit(top)
    delta = len(render([child(top, b"moov")])) - old
    if names.index(b"moov") < names.index(b"mdat"):
        for trak in [a for a in child(top, b"moov")[1] if a[0] == b"trak"]:
            stbl = child(child(child(trak[1], b"mdia")[1], b"minf")[1],
                         b"stbl")
            stco = child(stbl[1], b"stco")
            n = struct.unpack(">I", stco[1][4:8])[0]
            offs = struct.unpack(">%dI" % n, stco[1][8:8 + 4 * n])
            stco[1] = stco[1][:8] + struct.pack(
                ">%dI" % n, *[o + delta for o in offs])
    open(path, "wb").write(render(top))


def ffmpeg_m4a(path, faststart):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=330:duration=1", "-c:a", "aac", "-b:a",
                    "64k", "-map_metadata", "-1", "-fflags", "+bitexact"] +
                   (["-movflags", "+faststart"] if faststart else []) + [path],
                   check=True)


def make_corpus(d):
    files = []
    for faststart in (True, False):
        tail = "moov_first" if faststart else "moov_last"
        # No udta at all: the most common untagged file.
        p = os.path.join(d, f"no_udta_{tail}.m4a")
        ffmpeg_m4a(p, faststart)
        rebuild(p, lambda top: child(top, b"moov")[1].remove(
            child(child(top, b"moov")[1], b"udta")))
        files.append(p)
        # A udta holding only a foreign QuickTime atom: meta is new.
        p = os.path.join(d, f"udta_no_meta_{tail}.m4a")
        ffmpeg_m4a(p, faststart)

        def foreign_udta(top):
            moov = child(top, b"moov")[1]
            udta = child(moov, b"udta")
            udta[1] = [[b"\xa9cmt", b"\x00\x05\x00\x00quick"]]
        rebuild(p, foreign_udta)
        files.append(p)
        # Tagged by mutagen (a cover, a freeform TagLib cannot render),
        # then a `name` atom in the cover and a `gnre` by hand.
        p = os.path.join(d, f"mutagen_{tail}.m4a")
        ffmpeg_m4a(p, faststart)
        f = MP4(p)
        f["\xa9nam"] = ["Title"]
        f["trkn"] = [(3, 12)]
        f["covr"] = [MP4Cover(b"\x89PNG\r\n\x1a\n" + bytes(2000),
                              MP4Cover.FORMAT_PNG)]
        f["----:com.apple.iTunes:MOOD"] = [MP4FreeForm(b"calm")]
        f["----:com.apple.iTunes:nom.bpm"] = [MP4FreeForm(b"99")]
        f["----:com.apple.iTunes:foo:bar"] = [MP4FreeForm(b"x")]
        f.save()

        def cover_name(top):
            ilst = child(child(child(child(top, b"moov")[1], b"udta")[1],
                               b"meta")[1][1], b"ilst")
            child(ilst[1], b"covr")[1].append([b"name", b"\x00\x00\x00\x00front"])
            # An ID3v1 genre index (18: Rock), which mutagen cannot write.
            ilst[1].insert(1, [b"gnre", [[b"data", bytes(8) + b"\x00\x12"]]])
        rebuild(p, cover_name)
        files.append(p)
    # Old QuickTime style: no ftyp, moov last; every chunk offset moves
    # down by the ftyp removed.
    p = os.path.join(d, "no_ftyp.m4a")
    ffmpeg_m4a(p, False)
    data = open(p, "rb").read()
    ftyp = struct.unpack(">I", data[:4])[0]
    top = parse(data[ftyp:])
    for trak in [a for a in child(top, b"moov")[1] if a[0] == b"trak"]:
        stbl = child(child(child(trak[1], b"mdia")[1], b"minf")[1], b"stbl")
        stco = child(stbl[1], b"stco")
        n = struct.unpack(">I", stco[1][4:8])[0]
        offs = struct.unpack(">%dI" % n, stco[1][8:8 + 4 * n])
        stco[1] = stco[1][:8] + struct.pack(">%dI" % n,
                                            *[o - ftyp for o in offs])
    open(p, "wb").write(render(top))
    files.append(p)
    for p in files:
        independent_view.audio_hash(p)  # ffmpeg reads every one of them
    return files


# ---- the checks -------------------------------------------------------

def leaves(path):
    data = open(path, "rb").read()
    out = []
    independent_view._mp4_leaves(data, 0, len(data), b"", out)
    return out


def created(path):
    """Leaves a first write may add: meta's version and hdlr."""
    return {b"moov.udta.meta#version", b"moov.udta.meta.hdlr"}


def ours(path):
    """Our keys by mutagen, opened as MP4 by name: mutagen.File (which
    independent_view uses) does not take a file without ftyp for an MP4."""
    tags = MP4(path).tags or {}
    prefix = "----:com.apple.iTunes:nom."
    return {k[len(prefix):]: [bytes(v).decode() for v in vs]
            for k, vs in tags.items() if k.startswith(prefix)}


def run(*args):
    return subprocess.run([NOMTAG, "--config", CONFIG] + list(args),
                          capture_output=True, text=True)


def assignments(tags):
    return [f"{k}={v}" for k, vs in tags.items() for v in vs]


def mdat_offset(path):
    data = open(path, "rb").read()
    at = 0
    while at + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[at:at + 8])
        if name == b"mdat":
            return at
        at += size


def check(name, path, tags, step, original):
    before = leaves(path)
    audio = independent_view.audio_hash(path)
    r = run("tags", "write", path, *assignments(tags)) if tags else run(
        "tags", "clear", path)
    if r.returncode != 0:
        FAILURES.append(f"{name}: {step}: refused: {r.stderr.strip()}")
        return False
    after = leaves(path)
    new = {k for k, _ in after} - {k for k, _ in original}
    if new - created(path):
        FAILURES.append(f"{name}: {step}: new atoms {new}")
    kept = [leaf for leaf in after if leaf[0] not in new]
    if kept != [leaf for leaf in before if leaf[0] not in new]:
        FAILURES.append(f"{name}: {step}: foreign atoms changed (bytes or "
                        "order)")
    if kept != [leaf for leaf in original if leaf[0] not in new]:
        FAILURES.append(f"{name}: {step}: foreign atoms differ from the "
                        "original file")
    if ours(path) != tags:
        FAILURES.append(f"{name}: {step}: mutagen reads {ours(path)}, "
                        f"not {tags}")
    if independent_view.audio_hash(path) != audio:
        FAILURES.append(f"{name}: {step}: audio changed")
    return True


def main():
    work = tempfile.mkdtemp(prefix="nomtag-mp4splice-")
    written = 0
    for path in make_corpus(work):
        name = os.path.basename(path)
        original = leaves(path)
        if not check(name, path, WANT, "first write", original):
            continue
        written += 1
        size, mdat = os.path.getsize(path), mdat_offset(path)
        if check(name, path, CHANGED, "changed value", original):
            if (os.path.getsize(path), mdat_offset(path)) != (size, mdat):
                FAILURES.append(f"{name}: a changed value moved the audio")
        check(name, path, {}, "clear", original)
        print(f"  {name}: written, changed in place, cleared")
    print(f"{written} of 7 written")
    shutil.rmtree(work)
    if FAILURES:
        print("FAILURES:\n  " + "\n  ".join(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
