#!/usr/bin/python3
"""The original system's write path, as a baseline: for each file, copy it
to a temporary folder, write the tags with mutagen (TXXX / freeform /
Vorbis comments), and move it back over the original.

Made as durable as nomtag's path, so the two are timed for the same
promise: the copy is synced before the move, and after it the file (the
move is a copy when the temporary folder is on another filesystem) and
its folder are synced.

With --peer: the original system's own safe write, step for step
(nomarr/components/tagging/safe_write_comp.py, hard-link variant): copy
the file into a temporary folder beside the library (TMPDIR_FOR_PEER,
same filesystem), write the tags there, read the audio properties back,
rename the original to .bak, hard-link the copy in its place, remove the
.bak and the copy; nothing is synced. Time it with a `sync` after it: its
wall time alone hides the writeback of every file it rewrote.

Usage: mutagen_write.py [--peer TMPDIR_FOR_PEER] KEY=VALUE[,KEY=VALUE...] FILE...
Prints the number of files written and the seconds taken.
"""
import os
import shutil
import sys
import tempfile
import time

import mutagen
from mutagen.id3 import ID3, TXXX
from mutagen.mp4 import MP4, MP4FreeForm


def write(path, tags):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".mp3":
        id3 = ID3(path)
        for frame in [f for f in id3.getall("TXXX") if f.desc.startswith("nom:")]:
            id3.delall("TXXX:" + frame.desc)
        for k, v in tags.items():
            id3.add(TXXX(encoding=3, desc="nom:" + k, text=[v]))
        id3.save(path, v2_version=id3.version[1])
    elif ext in (".m4a", ".mp4", ".m4b"):
        f = MP4(path)
        for key in [k for k in f.keys() if k.startswith("----:com.apple.iTunes:nom")]:
            del f[key]
        for k, v in tags.items():
            f["----:com.apple.iTunes:nom." + k] = [MP4FreeForm(v.encode())]
        f.save()
    else:
        f = mutagen.File(path)
        for key in [k for k in f.keys() if k.upper().startswith(("NOM:", "NOM_"))]:
            del f[key]
        for k, v in tags.items():
            f["NOM:" + k.upper()] = [v]
        f.save()


def fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main():
    args = sys.argv[1:]
    peer = None
    if args[:1] == ["--peer"]:
        peer, args = args[1], args[2:]
    tags = dict(kv.split("=", 1) for kv in args[0].split(","))
    files = args[1:]
    tmpdir = tempfile.mkdtemp(prefix="mutagen-bench-", dir=peer)
    start = time.monotonic()
    for path in files:
        if peer:
            tmp = os.path.join(tmpdir, os.path.basename(path))
            before = mutagen.File(path).info.length
            shutil.copy2(path, tmp)
            write(tmp, tags)
            if abs(mutagen.File(tmp).info.length - before) > 0.1:
                raise SystemExit(f"{path}: the audio changed")
            bak = path + ".bak"
            os.rename(path, bak)
            os.link(tmp, path)
            os.unlink(bak)
            os.unlink(tmp)
            continue
        tmp = os.path.join(tmpdir, os.path.basename(path))
        shutil.copy2(path, tmp)
        write(tmp, tags)
        fsync(tmp)
        shutil.move(tmp, path)  # a copy + unlink when the temp dir is elsewhere
        fsync(path)
        fsync(os.path.dirname(os.path.abspath(path)))
    elapsed = time.monotonic() - start
    shutil.rmtree(tmpdir, ignore_errors=True)
    written = 0
    with open("/proc/self/io") as io:
        for line in io:
            if line.startswith("write_bytes:"):
                written = int(line.split()[1])
    print(f"{len(files)} {elapsed:.6f} {written}")


if __name__ == "__main__":
    main()
