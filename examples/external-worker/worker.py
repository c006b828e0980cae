#!/usr/bin/python3
"""A worker for nomtag's inference-external plugin, in standard-library
Python: it measures how loud a track is and how high its sound sits, from
the audio ffmpeg decodes, and answers in the JSON-lines protocol of
docs/external-worker-protocol.md.

Per file it reports
  descriptors  rms-dbfs (RMS level of the mono mix), peak-dbfs,
               zero-crossing-rate (crossings per second / 2: roughly the
               dominant frequency in Hz for a tone), duration-s
  heads        example-loudness/1  loud | quiet   (from the RMS level)
               example-pitch/1     high | low     (from the crossing rate)
               each with its spread across 3-second segments
  embedding    example-profile/1: four numbers (for similarity search)

A real worker loads its model once before saying hello, then answers
requests in a loop, exactly like this one.
"""
import json
import math
import os
import statistics
import subprocess
import sys
from array import array

RATE = 11025          # decode at a low rate: enough for level and pitch
SEGMENT = 3 * RATE    # samples per segment, for the heads' spread


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def loud_score(rms_db):
    return logistic((rms_db + 24.0) / 4.0)


def high_score(zcr_hz):
    return logistic(2.0 * math.log2(max(zcr_hz, 1.0) / 800.0))


def decode(path):
    """The file as mono 16-bit samples at RATE, decoded by ffmpeg."""
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path,
                        "-map", "0:a:0", "-ac", "1", "-ar", str(RATE),
                        "-f", "s16le", "-"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise ValueError("ffmpeg cannot decode it: " +
                         p.stderr.decode(errors="replace").strip()[-200:])
    samples = array("h")
    samples.frombytes(p.stdout[:len(p.stdout) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        raise ValueError("no audio")
    return samples


def measure(samples):
    """(rms dBFS, zero-crossing rate in Hz) of a run of samples."""
    energy = sum(s * s for s in samples) / len(samples)
    rms_db = 10 * math.log10(max(energy, 1e-3) / (32768.0 * 32768.0))
    crossings = sum(1 for a, b in zip(samples, samples[1:])
                    if (a < 0) != (b < 0))
    return rms_db, crossings * RATE / (2.0 * len(samples))


def analyse(path):
    samples = decode(path)
    rms_db, zcr = measure(samples)
    peak = max(abs(s) for s in samples)
    peak_db = 20 * math.log10(max(peak, 1) / 32768.0)
    segments = [measure(samples[i:i + SEGMENT])
                for i in range(0, len(samples) - SEGMENT + 1, SEGMENT)]
    loud = loud_score(rms_db)
    high = high_score(zcr)

    def spread(score):
        values = [score(seg) for seg in segments]
        return statistics.pstdev(values) if len(values) >= 2 else None

    loud_spread = spread(lambda seg: loud_score(seg[0]))
    high_spread = spread(lambda seg: high_score(seg[1]))
    return {
        "descriptors": {"rms-dbfs": round(rms_db, 2),
                        "peak-dbfs": round(peak_db, 2),
                        "zero-crossing-rate": round(zcr, 1),
                        "duration-s": round(len(samples) / RATE, 2)},
        "heads": [
            {"model": "example-loudness/1", "label": "loud", "value": loud,
             "spread": loud_spread},
            {"model": "example-loudness/1", "label": "quiet",
             "value": 1 - loud, "spread": loud_spread},
            {"model": "example-pitch/1", "label": "high", "value": high,
             "spread": high_spread},
            {"model": "example-pitch/1", "label": "low", "value": 1 - high,
             "spread": high_spread},
        ],
        "embedding": {"model": "example-profile/1",
                      "values": [rms_db / 60.0, peak_db / 60.0,
                                 math.log2(max(zcr, 1.0)) / 14.0,
                                 (peak_db - rms_db) / 30.0]},
    }


def main():
    out = sys.stdout
    # Load the model here (nothing to load for this one), then say hello.
    out.write(json.dumps({"ready": True, "protocol": 1}) + "\n")
    out.flush()
    for line in sys.stdin.buffer:       # one request per line, until EOF
        request = json.loads(line)
        # The path as bytes, exactly as on disk (non-UTF-8 names included).
        path = os.fsencode(request["path"])
        try:
            answer = analyse(path)
        except (OSError, ValueError) as e:
            answer = {"error": str(e)}
        answer["id"] = request["id"]
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
