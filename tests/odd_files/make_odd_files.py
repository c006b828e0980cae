#!/usr/bin/python3
"""Generates the odd-files corpus: files real libraries contain, made with
ffmpeg and crafted with mutagen or by hand where no tool writes them.

Usage: make_odd_files.py OUTDIR

Writes OUTDIR/<name>.<ext> and OUTDIR/manifest.json, a list of
{"file": ..., "what": ..., "expect": "ok" | "ok-or-refused" | "error"}:
  ok             nomtag must write and clear the namespace correctly;
  ok-or-refused  either correct, or refused with the file byte-identical;
  error          unreadable: a clear error and the file byte-identical.
Deterministic: the same corpus every run.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from mutagen.apev2 import APEv2
from mutagen.flac import FLAC, Padding, Picture, MetadataBlock
from mutagen.id3 import APIC, ID3, TIT2, TPE1, TXXX, COMM
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

OUT = sys.argv[1]
MANIFEST = []


def ffmpeg(args, out, seconds=1):
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=330:duration={seconds}"] + args + [out],
        check=True)


def add(path, what, expect="ok"):
    MANIFEST.append({"file": os.path.basename(path), "what": what,
                     "expect": expect})


def p(name):
    return os.path.join(OUT, name)


def png(size):
    """A valid PNG header followed by filler: pictures are opaque bytes to
    every tag format, only their size and identity matter here."""
    head = b"\x89PNG\r\n\x1a\n"
    return head + bytes((i * 7) & 0xFF for i in range(size - len(head)))


# ---- raw ID3v2 crafting (mutagen writes only 2.3 and 2.4) ---------------

def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F,
                  n & 0x7F])


def unsynchronise(data):
    out = bytearray()
    for i, b in enumerate(data):
        out.append(b)
        if b == 0xFF and (i + 1 == len(data) or data[i + 1] >= 0xE0
                          or data[i + 1] == 0x00):
            out.append(0x00)
    return bytes(out)


def frame23(fid, payload):
    return fid.encode() + struct.pack(">I", len(payload)) + b"\x00\x00" + payload


def frame22(fid, payload):
    return fid.encode() + struct.pack(">I", len(payload))[1:] + payload


def text(s):
    return b"\x00" + s.encode("latin-1")


def strip_id3(path):
    """The MPEG frames of an ffmpeg MP3 without any tag."""
    data = open(path, "rb").read()
    if data[:3] == b"ID3":
        size = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
        data = data[size:]
    return data


def mp3_raw(name, tag_bytes, what, expect="ok"):
    base = p("_base.mp3")
    open(p(name), "wb").write(tag_bytes + strip_id3(base))
    add(p(name), what, expect)


def main():
    os.makedirs(OUT, exist_ok=True)
    ffmpeg(["-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "0",
            "-write_id3v1", "0"], p("_base.mp3"))

    # MP3 ------------------------------------------------------------------
    frames = frame22("TT2", text("Two point two")) + frame22("TP1", text("Old"))
    mp3_raw("id3v22.mp3", b"ID3\x02\x00\x00" + syncsafe(len(frames)) + frames,
            "ID3v2.2 tag (3-letter frame ids)")

    frames = (frame23("TIT2", text("Plain 2.3")) +
              frame23("TXXX", b"\x00MOOD\x00calm") +
              frame23("PRIV", b"owner\x00\xff\xfe\xff\x00binary"))
    mp3_raw("id3v23.mp3", b"ID3\x03\x00\x00" + syncsafe(len(frames)) + frames,
            "ID3v2.3 with a TXXX and a binary PRIV frame")

    body = unsynchronise(frames)
    mp3_raw("id3v23_unsync.mp3",
            b"ID3\x03\x00\x80" + syncsafe(len(body)) + body,
            "ID3v2.3 with unsynchronisation")

    ext = struct.pack(">IH", 6, 0) + b"\x00\x00\x00\x00"  # 2.3 ext header
    frames = frame23("TIT2", text("Extended"))
    mp3_raw("id3v23_exthdr.mp3",
            b"ID3\x03\x00\x40" + syncsafe(len(ext) + len(frames)) + ext + frames,
            "ID3v2.3 with an extended header (TagLib 1.13 cannot read "
            "frames after it: refused)", "ok-or-refused")

    f = p("id3v24_exthdr.mp3")
    ext24 = syncsafe(6) + b"\x01\x00"  # 2.4: size includes itself
    tit2 = b"TIT2" + syncsafe(len(text("Ext 2.4"))) + b"\x00\x00" + text("Ext 2.4")
    mp3_raw("id3v24_exthdr.mp3",
            b"ID3\x04\x00\x40" + syncsafe(len(ext24) + len(tit2)) + ext24 + tit2,
            "ID3v2.4 with an extended header")

    shutil.copy(p("_base.mp3"), p("id3v1_only.mp3"))
    with open(p("id3v1_only.mp3"), "ab") as fh:
        fh.write(b"TAG" + b"V1 title".ljust(30, b"\0") + b"V1 artist".ljust(30, b"\0")
                 + b"".ljust(30, b"\0") + b"1999" + b"".ljust(30, b"\0") + b"\x0c")
    add(p("id3v1_only.mp3"), "ID3v1 only")

    f = p("id3v1_and_v2.mp3")
    shutil.copy(p("id3v1_only.mp3"), f)
    t = ID3()
    t.add(TIT2(encoding=3, text=["V2 title"]))
    t.save(f, v1=1)  # keep the ID3v1 that is there
    add(f, "ID3v2.4 and ID3v1")

    f = p("id3v2_ape.mp3")
    shutil.copy(p("_base.mp3"), f)
    t = ID3()
    t.add(TIT2(encoding=3, text=["With APE"]))
    t.save(f)
    ape = APEv2()
    ape["Title"] = "APE title"
    ape["Custom"] = "kept"
    ape.save(f)
    add(f, "ID3v2 plus an APEv2 tag at the end", "ok-or-refused")

    f = p("huge_picture.mp3")
    shutil.copy(p("_base.mp3"), f)
    t = ID3()
    t.add(APIC(encoding=3, mime="image/png", type=3, desc="front",
               data=png(3 * 1024 * 1024)))
    t.save(f, v2_version=3)
    add(f, "a 3 MiB embedded picture, ID3v2.3")

    f = p("many_pictures.mp3")
    shutil.copy(p("_base.mp3"), f)
    t = ID3()
    for i in range(24):
        t.add(APIC(encoding=3, mime="image/png", type=i % 21, desc=f"pic {i}",
                   data=png(2048 + i)))
    t.save(f)
    add(f, "24 embedded pictures")

    f = p("duplicate_txxx.mp3")
    # Two TXXX frames with one description: mutagen merges them, so craft.
    frames = (frame23("TXXX", b"\x00MOOD\x00calm") +
              frame23("TXXX", b"\x00MOOD\x00angry") +
              frame23("TXXX", b"\x00nom:mood-strict\x00happy") +
              frame23("TXXX", b"\x00nom:mood-strict\x00sad"))
    mp3_raw("duplicate_txxx.mp3",
            b"ID3\x03\x00\x00" + syncsafe(len(frames)) + frames,
            "duplicate TXXX descriptions, foreign and ours", "ok-or-refused")

    f = p("comments_lang.mp3")
    shutil.copy(p("_base.mp3"), f)
    t = ID3()
    t.add(COMM(encoding=3, lang="eng", desc="", text=["english"]))
    t.add(COMM(encoding=3, lang="deu", desc="", text=["deutsch"]))
    t.add(TXXX(encoding=3, desc="nomad", text=["foreign"]))
    t.add(TXXX(encoding=3, desc="nom", text=["foreign too"]))
    t.save(f)
    # mutagen ends COMM text with a NUL that TagLib 1.13 drops on save: an
    # optional terminator, not a change of the comment.
    add(f, "COMM in two languages (mutagen), TXXX nomad and nom (foreign)")

    mp3_notag = p("no_tags.mp3")
    shutil.copy(p("_base.mp3"), mp3_notag)
    add(mp3_notag, "MP3 with no tags at all")

    # FLAC -------------------------------------------------------------------
    ffmpeg(["-c:a", "flac"], p("_base.flac"))
    f = p("flac_no_padding.flac")
    shutil.copy(p("_base.flac"), f)
    fl = FLAC(f)
    fl["TITLE"] = "No padding"
    fl.metadata_blocks = [b for b in fl.metadata_blocks if not isinstance(b, Padding)]
    fl.save(padding=lambda info: 0)
    add(f, "FLAC without a PADDING block")

    f = p("flac_odd_blocks.flac")
    shutil.copy(p("_base.flac"), f)
    fl = FLAC(f)
    fl["TITLE"] = "Odd blocks"
    fl["ARTIST"] = ["One", "Two"]
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/png", png(4096)
    fl.add_picture(pic)
    app = MetadataBlock(b"nomtTEST" + bytes(range(64)))
    app.code = 2  # APPLICATION
    fl.metadata_blocks.insert(1, app)
    fl.save()
    add(f, "FLAC with an APPLICATION block, a picture, repeated ARTIST")

    f = p("flac_no_tags.flac")
    ffmpeg(["-c:a", "flac", "-map_metadata", "-1", "-fflags", "+bitexact"], f)
    add(f, "FLAC with no tags")

    # Ogg Vorbis / Opus -----------------------------------------------------
    ffmpeg(["-c:a", "libvorbis"], p("_base.ogg"))
    f = p("vorbis_repeated.ogg")
    shutil.copy(p("_base.ogg"), f)
    o = OggVorbis(f)
    o["GENRE"] = ["Rock", "Pop", "Rock"]
    o["nom:mood-loose"] = ["calm", "dark"]
    o["NOM_MOOD_STRICT"] = ["calm"]
    o["NOMINATED"] = ["foreign"]
    o.save()
    add(f, "Vorbis: repeated field, ours in both encodings, NOMINATED foreign")

    f = p("vorbis_multipage_comment.ogg")
    shutil.copy(p("_base.ogg"), f)
    o = OggVorbis(f)
    o["TITLE"] = "Big comment"
    o["LYRICS"] = "la " * 60000  # 180 KB: the comment packet spans pages
    o.save()
    add(f, "Vorbis comment packet spanning several Ogg pages")

    ffmpeg(["-c:a", "libopus", "-b:a", "32k"], p("_base.opus"))
    f = p("opus_long_comments.opus")
    shutil.copy(p("_base.opus"), f)
    o = OggOpus(f)
    o["TITLE"] = "Long"
    for i in range(200):
        o[f"CUSTOM{i:03d}"] = "x" * 500
    o.save()
    add(f, "Opus with 200 long comments (100 KB)")

    # MP4 --------------------------------------------------------------------
    meta = p("_chapters.txt")
    open(meta, "w").write(";FFMETADATA1\ntitle=With chapters\n"
                          "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=One\n"
                          "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Two\n")
    f = p("mp4_chapters.m4a")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=duration=1", "-i", meta, "-map_metadata", "1",
                    "-map_chapters", "1", "-c:a", "aac", f], check=True)
    add(f, "M4A with chapters")

    ffmpeg(["-c:a", "aac"], p("_base.m4a"))
    f = p("mp4_freeform.m4a")
    shutil.copy(p("_base.m4a"), f)
    m = MP4(f)
    m["\xa9nam"] = ["Freeform"]
    m["----:com.apple.iTunes:MOOD"] = [MP4FreeForm(b"calm")]
    m["----:org.example:custom"] = [MP4FreeForm(b"kept")]
    m["----:com.apple.iTunes:nom:mood-strict"] = [MP4FreeForm(b"legacy")]
    m["covr"] = [MP4Cover(png(8192), MP4Cover.FORMAT_PNG)]
    m.save()
    add(f, "M4A: freeform atoms, our legacy nom: key, a cover")

    f = p("mp4_moov_first.m4a")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", p("_base.m4a"),
                    "-c", "copy", "-movflags", "+faststart", f], check=True)
    add(f, "M4A with moov before mdat (faststart)")

    f = p("mp4_64bit_mdat.m4a")
    make_64bit_mdat(p("_base.m4a"), f)
    add(f, "M4A whose mdat has a 64-bit size", "ok-or-refused")

    f = p("mp4_freeform_no_mean.m4a")
    make_freeform_without_mean(p("_base.m4a"), f)
    add(f, "M4A with a freeform atom without `mean`")

    # Broken and odd names ---------------------------------------------------
    open(p("zero_length.mp3"), "wb").close()
    add(p("zero_length.mp3"), "zero-length file", "error")
    data = open(p("_base.flac"), "rb").read()
    open(p("truncated.flac"), "wb").write(data[:100])
    add(p("truncated.flac"), "FLAC cut inside its metadata", "error")
    data = open(p("_base.m4a"), "rb").read()
    open(p("truncated.m4a"), "wb").write(data[: len(data) // 3])
    add(p("truncated.m4a"), "M4A cut in the middle", "ok-or-refused")
    open(p("garbage.ogg"), "wb").write(bytes(range(256)) * 8)
    add(p("garbage.ogg"), "not an Ogg file at all", "error")

    name = b"latin1-\xe9t\xe9.mp3"
    shutil.copy(p("_base.mp3"), os.path.join(OUT.encode(), name))
    MANIFEST.append({"file_hex": name.hex(), "what": "non-UTF-8 file name",
                     "expect": "ok"})

    for tmp in ("_base.mp3", "_base.flac", "_base.ogg", "_base.opus",
                "_base.m4a", "_chapters.txt"):
        os.remove(p(tmp))
    json.dump(MANIFEST, open(p("manifest.json"), "w"), indent=1)
    print(f"{len(MANIFEST)} odd files in {OUT}")


def atoms(data, start, end):
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[start + 8:start + 16])[0]
            header = 16
        elif size == 0:
            size = end - start
        yield start, size, header, kind
        start += size


def make_64bit_mdat(src, dst):
    """Rewrites mdat with a 64-bit size (8 bytes longer header) and shifts
    the chunk offsets in stco accordingly."""
    data = bytearray(open(src, "rb").read())
    top = list(atoms(data, 0, len(data)))
    mdat = next(a for a in top if a[3] == b"mdat")
    moov = next(a for a in top if a[3] == b"moov")
    if moov[0] < mdat[0]:
        raise SystemExit("moov-first input not handled")
    fix_stco(data, moov[0] + 8, moov[0] + moov[1], mdat[0], 8)
    start, size = mdat[0], mdat[1]
    new = (struct.pack(">I4sQ", 1, b"mdat", size + 8) + data[start + 8:start + size])
    data[start:start + size] = new
    open(dst, "wb").write(data)


def fix_stco(data, start, end, after, delta):
    for s, size, header, kind in atoms(data, start, end):
        if kind in (b"trak", b"mdia", b"minf", b"stbl"):
            fix_stco(data, s + header, s + size, after, delta)
        elif kind == b"stco":
            count = struct.unpack(">I", data[s + 12:s + 16])[0]
            for i in range(count):
                o = s + 16 + 4 * i
                off = struct.unpack(">I", data[o:o + 4])[0]
                if off > after:
                    data[o:o + 4] = struct.pack(">I", off + delta)


def make_freeform_without_mean(src, dst):
    """Adds to ilst a `----` atom holding only `name` and `data` children,
    as some taggers write; uses mutagen for the rest of the file."""
    tmp = dst + ".tmp"
    shutil.copy(src, tmp)
    m = MP4(tmp)
    m["\xa9nam"] = ["No mean"]
    m["----:com.apple.iTunes:PLACEHOLDER"] = [MP4FreeForm(b"x")]
    m.save()
    data = bytearray(open(tmp, "rb").read())
    os.remove(tmp)
    # Replace the mean child ("com.apple.iTunes") by a same-size `free`
    # child: the structure stays valid, the atom has no mean.
    i = data.find(b"mean\x00\x00\x00\x00com.apple.iTunes",
                  data.find(b"PLACEHOLDER") - 200)
    if i < 0:
        raise SystemExit("no mean atom found")
    data[i:i + 4] = b"free"
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main()
