#!/usr/bin/python3
"""ID3v2 splice (issue 18): nomtag writes its TXXX frames into tags made by
other programs (mutagen, hand-made layouts: 2.2, 2.3 with TYER/TDAT/TIME,
COMM with a trailing NUL, unsynchronisation, extended headers with CRCs,
a 2.4 footer, iTunes' plain frame sizes) and every foreign frame keeps its
exact bytes and order.

Judged without nomtag's code: a small ID3v2 walker below (raw bytes of
every frame that is not ours), mutagen for the namespace, ffmpeg for the
audio.

Usage: id3v2_splice_test.py NOMTAG PLUGINS_YAML
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import independent_view  # noqa: E402
from mutagen.id3 import (ID3, APIC, COMM, POPM, TDAT, TIME, TIT2,  # noqa: E402
                         TPE1, TXXX, TYER)

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
FAILURES = []
WANT = {"mood-strict": ["happy", "party"], "bpm": ["120"],
        "genre.model-v2": ["rock\u00e9"]}
CHANGED = dict(WANT, bpm=["121"])


# ---- an independent ID3v2 walker --------------------------------------

def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F,
                  n & 0x7F])


def unsyncsafe(b):
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def unsynchronise(data):
    out = bytearray()
    for i, b in enumerate(data):
        out.append(b)
        if b == 0xFF and (i + 1 == len(data) or data[i + 1] >= 0xE0
                          or data[i + 1] == 0):
            out.append(0)
    return bytes(out)


def tag_of(data):
    """(header, body, footer) of the ID3v2 tag at the start, or None."""
    if data[:3] != b"ID3":
        return None
    size = unsyncsafe(data[6:10])
    footer = data[3] == 4 and data[5] & 0x10
    return (data[:10], data[10:10 + size],
            data[10 + size:20 + size] if footer else b"")


def walk(data):
    """[(id, raw bytes, ours)] of every frame, in order, and the parsed
    extended header (decoded bytes) — raw bytes as on disk, stuffing
    included."""
    header, body, _ = tag_of(data)
    major, flags = header[3], header[5]
    if flags & 0x80 and major < 4:
        dec, raw_of = bytearray(), []
        i = 0
        while i < len(body):
            dec.append(body[i])
            raw_of.append(i)
            if body[i] == 0xFF and i + 1 < len(body) and body[i + 1] == 0:
                i += 1
            i += 1
        raw_of.append(len(body))
        dec = bytes(dec)
    else:
        dec, raw_of = body, list(range(len(body) + 1))
    at = 0
    ext = b""
    if flags & 0x40 and major == 3:
        at = 4 + struct.unpack(">I", dec[:4])[0]
        ext = dec[:at]
    elif flags & 0x40 and major == 4:
        at = unsyncsafe(dec[:4])
        ext = dec[:at]
    frames = []
    idlen, head = (3, 6) if major == 2 else (4, 10)
    while at + head <= len(dec) and dec[at] != 0:
        fid = dec[at:at + idlen].decode("latin-1")
        if major == 2:
            size = int.from_bytes(dec[at + 3:at + 6], "big")
        elif major == 3:
            size = struct.unpack(">I", dec[at + 4:at + 8])[0]
        else:
            sb = dec[at + 4:at + 8]
            size = (struct.unpack(">I", sb)[0] if any(b & 0x80 for b in sb)
                    else unsyncsafe(sb))
        fbody = dec[at + head:at + head + size]
        fflags = 0 if major == 2 else struct.unpack(">H", dec[at + 8:at + 10])[0]
        if fflags & 2:
            fbody = fbody.replace(b"\xff\x00", b"\xff")
        ours = fid in ("TXX", "TXXX") and is_nom(fbody)
        frames.append((fid, body[raw_of[at]:raw_of[at + head + size]], ours))
        at += head + size
    return frames, ext, dec[at:]


def is_nom(fbody):
    enc = fbody[0]
    if enc in (0, 3):
        desc = fbody[1:].split(b"\0")[0].decode("latin-1")
    else:
        t = fbody[1:]
        for i in range(0, len(t) - 1, 2):
            if t[i:i + 2] == b"\0\0":
                t = t[:i]
                break
        desc = t.decode("utf-16" if enc == 1 else "utf-16-be", "replace")
    return desc.startswith("nom:") and len(desc) > 4


def foreign_frames(path):
    data = open(path, "rb").read()
    if tag_of(data) is None:
        return []
    return [(fid, raw) for fid, raw, ours in walk(data)[0] if not ours]


def after_tag(path):
    data = open(path, "rb").read()
    t = tag_of(data)
    return data if t is None else data[sum(map(len, t)):]


# ---- the corpus -------------------------------------------------------

def frame23(fid, payload, flags=0):
    return fid.encode() + struct.pack(">IH", len(payload), flags) + payload


def frame24(fid, payload, flags=0):
    return fid.encode() + syncsafe(len(payload)) + struct.pack(">H", flags) + payload


def frame22(fid, payload):
    return fid.encode() + struct.pack(">I", len(payload))[1:] + payload


def latin(s):
    return b"\x00" + s.encode("latin-1")


def nom_txxx(key, value):
    return b"\x03nom:" + key.encode() + b"\x00" + value.encode()


def make_corpus(d):
    base = os.path.join(d, "_base.mp3")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=330:duration=1", "-c:a", "libmp3lame",
                    "-b:a", "64k", "-id3v2_version", "0", "-write_id3v1", "0",
                    base], check=True)
    audio = open(base, "rb").read()
    files = {}

    def raw(name, tag, expect="ok"):
        path = os.path.join(d, name)
        open(path, "wb").write(tag + audio)
        files[name] = expect

    def by_mutagen(name, frames, version, expect="ok"):
        path = os.path.join(d, name)
        shutil.copy(base, path)
        t = ID3()
        for f in frames:
            t.add(f)
        t.save(path, v2_version=version)
        files[name] = expect

    pic = b"\x89PNG\r\n\x1a\n" + bytes((i * 7) & 0xFF for i in range(3000))
    common = [TIT2(encoding=3, text="Title \u00e9"), TPE1(encoding=1, text=["A", "B"]),
              COMM(encoding=3, lang="eng", desc="", text="a comment"),
              POPM(email="rater@example.org", rating=196, count=3),
              APIC(encoding=0, mime="image/png", type=3, desc="", data=pic),
              TXXX(encoding=3, desc="MOOD", text="calm"),
              TXXX(encoding=3, desc="nomad", text="not ours"),
              TXXX(encoding=3, desc="nom:bpm", text="99")]  # ours: replaced
    by_mutagen("mutagen_v24.mp3", common, 4)
    by_mutagen("mutagen_v23_dates.mp3", common + [
        TYER(encoding=0, text="1999"), TDAT(encoding=0, text="2412"),
        TIME(encoding=0, text="1230")], 3)

    # COMM and text frames ending in NUL (iTunes, ffmpeg), an odd POPM
    # (no counter), a TYER, our old frame in the middle.
    frames = (frame23("TIT2", latin("Nul ended\0")) +
              frame23("COMM", b"\x00eng\x00A comment\x00") +
              frame23("TXXX", nom_txxx("bpm", "80").replace(b"\x03", b"\x00", 1)) +
              frame23("POPM", b"x@y\x00\x80") +
              frame23("TYER", latin("2001")) +
              frame23("COMM", b"\x01eng\xff\xfe\x00\x00\xff\xfeh\x00i\x00\x00\x00"))
    raw("v23_comm_nul.mp3", b"ID3\x03\x00\x00" + syncsafe(len(frames) + 200) +
        frames + bytes(200))

    frames = (frame22("TT2", latin("Two point two")) + frame22("TP1", latin("Old")) +
              frame22("COM", b"\x00eng\x00old comment") +
              frame22("TXX", b"\x00MOOD\x00calm") +
              frame22("PIC", b"\x00PNG\x03\x00" + pic[:500]))
    raw("v22.mp3", b"ID3\x02\x00\x00" + syncsafe(len(frames)) + frames)

    # Unsynchronised 2.3 with 0xFF bytes inside frames and at a frame's end.
    frames = (frame23("TIT2", latin("Unsync")) +
              frame23("PRIV", b"owner\x00\xff\xe0\xff\x00\xff\xfbdata\xff") +
              frame23("TXXX", b"\x00nom:bpm\x0077") +
              frame23("TPE1", latin("After \xff")))
    body = unsynchronise(frames) + bytes(64)
    raw("v23_unsync.mp3", b"ID3\x03\x00\x80" + syncsafe(len(body)) + body)

    # 2.3 with an extended header holding a CRC: TagLib 1.13 reads a 2.3
    # extended header's size as 2.4's and finds no frame after it, so the
    # write cannot be verified and is refused (the file left intact).
    frames = frame23("TIT2", latin("Extended")) + frame23("TPE1", latin("X"))
    ext = struct.pack(">IHI", 10, 0x8000, 100) + struct.pack(">I", zlib.crc32(frames))
    body = ext + frames + bytes(100)
    raw("v23_ext_crc.mp3", b"ID3\x03\x00\x40" + syncsafe(len(body)) + body,
        "refused")

    # 2.4 with an extended header: CRC (35-bit sync-safe) and restrictions.
    frames = frame24("TIT2", latin("Ext 2.4")) + frame24("TPE1", latin("Y"))
    pad = bytes(300)
    crc = zlib.crc32(frames + pad)
    crc5 = bytes([crc >> 28] + [(crc >> (21 - 7 * i)) & 0x7F for i in range(4)])
    ext = syncsafe(6 + 6 + 2) + b"\x01\x30" + b"\x05" + crc5 + b"\x01\x00"
    body = ext + frames + pad
    raw("v24_ext_crc.mp3", b"ID3\x04\x00\x40" + syncsafe(len(body)) + body)

    # 2.4, tag-level unsynchronisation: each frame unsynchronised and flagged.
    priv = b"owner\x00\xff\xe1\xff\x00end"
    frames = (frame24("TIT2", latin("Unsync 2.4")) +
              frame24("PRIV", unsynchronise(priv), 0x0002))
    body = frames + bytes(128)
    raw("v24_unsync.mp3", b"ID3\x04\x00\x80" + syncsafe(len(body)) + body)

    # 2.4 with a footer (no padding allowed).
    frames = frame24("TIT2", latin("Footer")) + frame24("TALB", latin("Album"))
    # TagLib 1.13 reads such a tag 10 bytes short: refused, unverifiable.
    raw("v24_footer.mp3", b"ID3\x04\x00\x10" + syncsafe(len(frames)) + frames +
        b"3DI\x04\x00\x10" + syncsafe(len(frames)), "refused")

    # iTunes: plain big-endian frame sizes in a 2.4 tag.
    big = b"\x00" + b"x" * 200
    frames = (b"TIT2" + struct.pack(">I", len(big)) + b"\x00\x00" + big +
              frame24("TPE1", latin("iTunes")))
    raw("v24_itunes_sizes.mp3", b"ID3\x04\x00\x00" + syncsafe(len(frames) + 50) +
        frames + bytes(50))

    shutil.copy(base, os.path.join(d, "no_tag.mp3"))
    files["no_tag.mp3"] = "ok"
    os.remove(base)
    return files


# ---- the checks -------------------------------------------------------

def run(*args):
    return subprocess.run([NOMTAG, "--config", CONFIG] + list(args),
                          capture_output=True, text=True)


def assignments(tags):
    return [f"{k}={v}" for k, vs in tags.items() for v in vs]


def check_write(name, path, tags, step):
    before = open(path, "rb").read()
    frames = foreign_frames(path)
    audio = independent_view.audio_hash(path)
    rest = after_tag(path)
    theirs = independent_view.foreign(path)
    version = before[3] if before[:3] == b"ID3" else None
    if tags:
        r = run("tags", "write", path, *assignments(tags))
    else:
        r = run("tags", "clear", path)
    if r.returncode != 0:
        FAILURES.append(f"{name}: {step}: refused: {r.stderr.strip()}")
        return None
    after = open(path, "rb").read()
    if foreign_frames(path) != frames:
        FAILURES.append(f"{name}: {step}: foreign frame bytes changed:\n"
                        f"    {frames}\n -> {foreign_frames(path)}")
    if independent_view.ours(path) != tags:
        FAILURES.append(f"{name}: {step}: mutagen reads "
                        f"{independent_view.ours(path)}, not {tags}")
    if independent_view.foreign(path) != theirs:
        FAILURES.append(f"{name}: {step}: mutagen's foreign view changed")
    if independent_view.audio_hash(path) != audio or after_tag(path) != rest:
        FAILURES.append(f"{name}: {step}: audio or trailing bytes changed")
    if version is not None and after[:3] == b"ID3" and after[3] != version:
        FAILURES.append(f"{name}: {step}: version 2.{version} -> 2.{after[3]}")
    if after[:3] == b"ID3":
        check_container(name, step, after)
    return before, after


def check_container(name, step, data):
    """The sizes and checksums a reader relies on."""
    header, body, footer = tag_of(data)
    frames, ext, padding = walk(data)
    if any(padding):
        FAILURES.append(f"{name}: {step}: padding is not zeros")
    if footer and footer != b"3DI" + header[3:]:
        FAILURES.append(f"{name}: {step}: footer does not repeat the header")
    if header[3] == 4 and header[5] & 0x40 and ext[5] & 0x20:
        got = ext[7:12]
        crc = zlib.crc32(body[len(ext):])
        want = bytes([crc >> 28] + [(crc >> (21 - 7 * i)) & 0x7F
                                    for i in range(4)])
        if got != want:
            FAILURES.append(f"{name}: {step}: 2.4 extended header CRC wrong")
    for fid, raw, ours in frames:
        if ours and fid != ("TXX" if header[3] == 2 else "TXXX"):
            FAILURES.append(f"{name}: {step}: our frame spelled {fid}")
        if ours and header[3] == 4 and header[5] & 0x80 and not raw[9] & 2:
            FAILURES.append(f"{name}: {step}: our frame not unsynchronised")


def check_new_tag_version(work):
    """A file with no ID3v2 tag gets 2.4, or 2.3 when format-mp3's
    `id3v2_version` setting says so; a bad value stops nomtag with a
    message naming the setting."""
    bare = os.path.join(work, "bare.mp3")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "sine=frequency=440:duration=1", "-map_metadata",
                    "-1", "-id3v2_version", "0", "-write_xing", "0", bare],
                   check=True)
    if open(bare, "rb").read(3) == b"ID3":
        FAILURES.append("new tag version: ffmpeg's file has a tag already")
        return
    text = open(CONFIG).read()
    for version, setting in ((4, None), (3, "2.3"), (4, "2.4"),
                             (None, "2.5")):
        config = os.path.join(work, f"plugins-{setting}.yaml")
        block = (f"\n    settings:\n      id3v2_version: \"{setting}\""
                 if setting else "")
        with open(config, "w") as f:
            f.write(text.replace("- name: format-mp3",
                                 "- name: format-mp3" + block, 1))
        path = os.path.join(work, f"new-{setting}.mp3")
        shutil.copy(bare, path)
        r = subprocess.run([NOMTAG, "--config", config, "tags", "write",
                            path] + assignments(WANT),
                           capture_output=True, text=True)
        where = f"new tag, id3v2_version {setting}"
        if version is None:
            if r.returncode == 0 or "id3v2_version" not in r.stderr:
                FAILURES.append(f"{where}: not refused by name: "
                                f"{r.returncode} {r.stderr}")
            if open(path, "rb").read() != open(bare, "rb").read():
                FAILURES.append(f"{where}: the file changed")
            continue
        if r.returncode != 0:
            FAILURES.append(f"{where}: refused: {r.stderr.strip()}")
            continue
        data = open(path, "rb").read()
        if data[:4] != b"ID3" + bytes([version]):
            FAILURES.append(f"{where}: tag version {data[3]}, not {version}")
        if ID3(path).version[:2] != (2, version):
            FAILURES.append(f"{where}: mutagen reads {ID3(path).version}")
        if independent_view.ours(path) != WANT:
            FAILURES.append(f"{where}: mutagen reads "
                            f"{independent_view.ours(path)}")
        check_container(where, "first write", data)
        print(f"  {where}: ID3v2.{data[3]}")


def main():
    work = tempfile.mkdtemp(prefix="nomtag-id3splice-")
    check_new_tag_version(work)
    files = make_corpus(work)
    counts = {"written": 0, "refused": 0}
    for name, expect in sorted(files.items()):
        path = os.path.join(work, name)
        if expect == "refused":
            before = open(path, "rb").read()
            r = run("tags", "write", path, *assignments(WANT))
            if r.returncode == 0:
                FAILURES.append(f"{name}: expected a refusal, was written")
            elif open(path, "rb").read() != before:
                FAILURES.append(f"{name}: refused AND changed the file")
            elif not ("extended header" in r.stderr or "footer" in r.stderr):
                FAILURES.append(f"{name}: refusal does not say why: {r.stderr}")
            counts["refused"] += 1
            print(f"  {name}: refused ({r.stderr.strip()})")
            continue
        if check_write(name, path, WANT, "first write") is None:
            counts["refused"] += 1
            continue
        counts["written"] += 1
        # A changed value fits in the padding: the tag keeps its length.
        done = check_write(name, path, CHANGED, "changed value")
        if done:
            before, after = done
            fixed = tag_of(before) is not None and tag_of(before)[2] == b""
            if fixed and len(after) != len(before):
                FAILURES.append(f"{name}: a changed value moved the audio "
                                f"({len(before)} -> {len(after)} bytes)")
            differ = sum(1 for a, b in zip(before, after) if a != b)
            print(f"  {name}: written; the change touched {differ} bytes")
        check_write(name, path, {}, "clear")
    shutil.rmtree(work)
    print(f"{counts['written']} written, {counts['refused']} refused "
          f"(of {len(files)})")
    if FAILURES:
        print("FAILURES:\n  " + "\n  ".join(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
