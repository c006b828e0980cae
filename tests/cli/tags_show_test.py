#!/usr/bin/env python3
"""`nomtag tags show` prints what nomtag leaves alone as text: foreign
ID3v2 text frames in each of their four encodings, comments, user text
frames, Vorbis fields, MP4 items, and binary ones (pictures) as kind and
size; --json keeps the exact raw item too. Files made by ffmpeg, tagged by
mutagen (another program), read by the real command.

Usage: tags_show_test.py NOMTAG_BINARY
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, COMM, ID3, TALB, TIT2, TPE1, TXXX, WOAR
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis

NOMTAG = sys.argv[1]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def make(path, codec):
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", "-c:a", codec, "-y", path],
                   check=True)


def show(path, *extra):
    p = subprocess.run([NOMTAG, "tags", "show", path, *extra],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def expect_lines(out, wanted):
    for w in wanted:
        assert any(w in line for line in out.splitlines()), \
            f"no line with {w!r} in:\n{out}"


def main():
    env_home = tempfile.mkdtemp()
    os.environ["HOME"] = env_home  # no user configuration: bundled plugins
    os.environ.pop("NOMTAG_CONFIG", None)
    with tempfile.TemporaryDirectory() as tmp:
        mp3 = os.path.join(tmp, "a.mp3")
        make(mp3, "libmp3lame")
        tags = ID3()
        tags.add(TIT2(encoding=1, text=["Grüße, UTF-16"]))    # UTF-16 + BOM
        tags.add(TPE1(encoding=0, text=["Motörhead"]))         # Latin-1
        tags.add(TALB(encoding=3, text=["Ålbum", "Second"]))   # UTF-8, two values
        tags.add(COMM(encoding=3, lang="eng", desc="", text=["a comment"]))
        tags.add(TXXX(encoding=1, desc="MusicBrainz Album Id", text=["abc-123"]))
        tags.add(WOAR(url="https://example.org/artist"))
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=PNG))
        tags.save(mp3, v2_version=4)
        # One UTF-16BE frame needs v2.4; add it with its own encoding 2.
        t = ID3(mp3)
        t.add(TXXX(encoding=2, desc="BE", text=["big endian ✓"]))
        t.save(mp3, v2_version=4)
        out = show(mp3)
        expect_lines(out, [
            "id3v2:TIT2 = Grüße, UTF-16",
            "id3v2:TPE1 = Motörhead",
            "id3v2:TALB = Ålbum; Second",
            "id3v2:COMM = [eng]: a comment",
            "MusicBrainz Album Id: abc-123",
            "BE: big endian ✓",
            "id3v2:WOAR = https://example.org/artist",
            "id3v2:APIC = (picture, ",
        ])
        assert "bytes>" not in out, out  # the old "<28 bytes>" form is gone

        d = json.loads(show(mp3, "--json"))
        by_id = {}
        for item in d["foreign"]:
            by_id.setdefault(item["id"], []).append(item)
        [tit2] = by_id["id3v2:TIT2"]
        assert tit2["text"] == ["Grüße, UTF-16"], tit2
        assert tit2["kind"] == "text"
        raw = base64.b64decode(tit2["raw_base64"])
        assert len(raw) == tit2["size"] and raw[:4] == b"TIT2", raw
        [apic] = by_id["id3v2:APIC"]
        assert apic["text"] is None and apic["kind"].startswith("picture"), apic
        assert PNG in base64.b64decode(apic["raw_base64"])

        flac = os.path.join(tmp, "b.flac")
        make(flac, "flac")
        f = FLAC(flac)
        f["TITLE"] = "Flac title"
        f["ARTIST"] = ["One", "Two"]
        f["LYRICS"] = "line one\nline two"
        pic = Picture()
        pic.type, pic.mime, pic.data = 3, "image/png", PNG
        f.add_picture(pic)
        f.save()
        out = show(flac)
        expect_lines(out, ["vorbis:TITLE = Flac title", "vorbis:ARTIST = One; Two",
                           "vorbis:LYRICS = line one\\nline two",
                           ":type6 = (picture, "])

        ogg = os.path.join(tmp, "c.ogg")
        make(ogg, "libvorbis")
        o = OggVorbis(ogg)
        o["COMMENT"] = "ogg comment"
        o.save()
        expect_lines(show(ogg), ["ogg comment", "vorbis:vendor = "])

        m4a = os.path.join(tmp, "d.m4a")
        make(m4a, "aac")
        m = MP4(m4a)
        m["\xa9nam"] = ["Mp4 title"]
        m["trkn"] = [(3, 12)]
        m["covr"] = [MP4Cover(PNG, imageformat=MP4Cover.FORMAT_PNG)]
        m["----:com.apple.iTunes:MOOD"] = [b"mellow"]
        m.save()
        out = show(m4a)
        expect_lines(out, ["Mp4 title", "mp4:trkn = 3/12", "mp4:covr = (cover art, ",
                           "mp4:----:com.apple.iTunes:MOOD = mellow"])
    print("tags show: foreign text as text, binary as kind and size, raw in --json")


main()
