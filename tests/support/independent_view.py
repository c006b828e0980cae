#!/usr/bin/python3
"""What a file holds, read without any nomtag code: mutagen for the tags,
a small walker of our own for the raw FLAC blocks, MP4 atoms and the bytes
after an ID3v2 tag, and ffmpeg for the audio packets.

The tests judge nomtag's writes with this, never with nomtag's own reader
(which is the code that verified the write in the first place).

    ours(path)        {logical key: [values]} of the `nom` namespace
    foreign(path)     everything that is not ours, as comparable data: each
                      foreign tag by mutagen's full view, and the raw bytes
                      of every FLAC block, picture and MP4 atom
    audio_hash(path)  ffmpeg's hash of the audio packets; raises when ffmpeg
                      cannot read them (a file with no hash is never "the
                      same audio")

As a command: independent_view.py FILE prints {"ours", "foreign",
"audio"} as JSON (foreign as a sha256 of its canonical form), for the C++
tests.
"""
import hashlib
import json
import struct
import subprocess
import sys

import mutagen
import mutagen.flac
import mutagen.id3
import mutagen.mp4


class Unreadable(Exception):
    pass


def audio_hash(path):
    """ffmpeg's hash of the encoded audio packets (stream copy)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:a",
                        "-c", "copy", "-f", "hash", "-hash", "sha256", "-"],
                       capture_output=True)
    out = r.stdout.strip()
    if r.returncode != 0 or not out.startswith(b"SHA256="):
        raise Unreadable(f"ffmpeg cannot hash the audio of {path}: "
                         f"{r.stderr.decode(errors='replace').strip()}")
    return out.decode()


def _is_ours_vorbis(key):
    low = key.lower()
    return low.startswith(("nom:", "nom_"))


def ours(path):
    """Our keys as mutagen sees them, decoded to logical keys."""
    f = mutagen.File(path)
    out = {}
    if f is None or f.tags is None:
        return out
    if isinstance(f.tags, mutagen.mp4.MP4Tags):
        for k, v in f.tags.items():
            if k.startswith("----:com.apple.iTunes:nom."):
                out[k[26:]] = [bytes(x).decode() for x in v]
    elif isinstance(f.tags, mutagen.id3.ID3):
        for frame in f.tags.getall("TXXX"):
            if frame.desc.startswith("nom:"):
                out[frame.desc[4:]] = [str(x) for x in frame.text]
    else:  # a Vorbis comment: a list of (field, value) in file order
        for k, v in f.tags:
            if k.lower().startswith("nom:"):
                out.setdefault(k[4:].lower(), []).append(v)
    return out


# --- raw walkers --------------------------------------------------------


def _flac_blocks(data):
    """[(type, bytes)] of the FLAC metadata blocks, in file order."""
    at = data.find(b"fLaC")  # an ID3v2 tag may come first
    if at < 0:
        raise Unreadable("no fLaC marker")
    at += 4
    blocks = []
    while at + 4 <= len(data):
        head = data[at]
        size = int.from_bytes(data[at + 1:at + 4], "big")
        blocks.append((head & 0x7F, data[at + 4:at + 4 + size]))
        at += 4 + size
        if head & 0x80:
            return blocks
    raise Unreadable("FLAC metadata runs past the end")


CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta",
              b"edts", b"dinf", b"mvex", b"moof", b"traf", b"ilst"}
# Atoms a write may move, resize or create: free space, the audio (hashed
# by ffmpeg instead) and the chunk offsets (which follow a moved mdat).
MP4_SKIP = {b"free", b"skip", b"mdat", b"stco", b"co64"}


def _mp4_freeform_name(body):
    """(mean, name) of a ---- item's children."""
    mean = name = None
    at = 0
    while at + 8 <= len(body):
        size = struct.unpack(">I", body[at:at + 4])[0]
        kind = body[at + 4:at + 8]
        if size < 8:
            break
        if kind == b"mean":
            mean = body[at + 12:at + size]
        elif kind == b"name":
            name = body[at + 12:at + size]
        at += size
    return mean, name


def _mp4_leaves(data, start, end, path, out):
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        head = 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
            head = 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            raise Unreadable(f"bad atom {kind!r} at {at}")
        here = path + b"." + kind if path else kind
        body = data[at + head:at + size]
        if path.endswith(b"ilst"):
            # One item: ours when a com.apple.iTunes freeform named nom.*
            # or nom:* (legacy); anything else is compared byte for byte.
            mean, name = _mp4_freeform_name(body) if kind == b"----" else (
                None, None)
            if not (mean == b"com.apple.iTunes" and name is not None and
                    name.startswith((b"nom.", b"nom:"))):
                out.append((here, body))
        elif kind == b"meta":
            out.append((here + b"#version", body[:4]))
            _mp4_leaves(data, at + head + 4, at + size, here, out)
        elif kind in CONTAINERS:
            _mp4_leaves(data, at + head, at + size, here, out)
        elif kind not in MP4_SKIP:
            out.append((here, body))
        at += size


def _id3v2_end(data):
    """Length of the ID3v2 tag at the start (0: none)."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for b in data[6:10]:
        size = (size << 7) | (b & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


def foreign(path):
    """Everything in the file that is not ours, as comparable data."""
    with open(path, "rb") as fh:
        data = fh.read()
    f = mutagen.File(path)
    if f is None:
        raise Unreadable(f"mutagen cannot read {path}")
    view = []
    if isinstance(f, mutagen.mp4.MP4):
        leaves = []
        _mp4_leaves(data, 0, len(data), b"", leaves)
        # A first write may add the udta/meta/hdlr that holds an ilst.
        view += sorted(leaves)
    elif isinstance(f, mutagen.id3.ID3FileType):
        for frame in (f.tags.values() if f.tags is not None else []):
            if frame.FrameID == "TXXX" and frame.desc.startswith("nom:"):
                continue
            view.append(("id3", repr(frame)))
        view.sort()
        # Audio, ID3v1, APE: every byte after the ID3v2 tag stays.
        view.append(("after-id3v2", hashlib.sha256(
            data[_id3v2_end(data):]).hexdigest()))
    else:
        if isinstance(f, mutagen.flac.FLAC):
            for kind, body in _flac_blocks(data):
                if kind not in (1, 4):  # padding and the comment: below
                    view.append(("flac-block", kind, body))
        if f.tags is not None:
            view.append(("vendor", f.tags.vendor))
            # Field names are case-insensitive (Vorbis I, 5.2.2) and TagLib
            # writes them upper case, grouped by name: compare them so, the
            # values of one name in their order.
            fields = [(k.upper(), v) for k, v in f.tags
                      if not _is_ours_vorbis(k)]
            view += [("comment", k, v)
                     for k, v in sorted(fields, key=lambda kv: kv[0])]
    return view


def main():
    path = sys.argv[1]
    canon = repr(foreign(path)).encode()
    print(json.dumps({"ours": ours(path),
                      "foreign": hashlib.sha256(canon).hexdigest(),
                      "audio": audio_hash(path)}, sort_keys=True))


if __name__ == "__main__":
    main()
