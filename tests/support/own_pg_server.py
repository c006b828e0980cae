"""For the tests that crash their PostgreSQL server and so run their own
(tests/support/pg_server.sh): the server, and a library of short MP3s."""
import os
import shutil
import subprocess

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "pg_server.sh")


def start(tmp):
    """Starts a server with its state in tmp; returns (state, URL)."""
    state = os.path.join(tmp, "server")
    subprocess.run([SERVER, "start", state], check=True)
    with open(state + ".url") as f:
        return state, f.read().strip()


def server(action, state):
    """crash, resume or stop (pg_server.sh)."""
    subprocess.run([SERVER, action, state], check=action != "stop")


def mp3_library(tmp, names):
    """tmp/music holding a one-second MP3 under each name; its path."""
    root = os.path.join(tmp, "music")
    os.makedirs(root)
    seed = os.path.join(tmp, "seed.mp3")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=duration=1", "-c:a", "libmp3lame", seed],
                   check=True)
    for n in names:
        shutil.copy(seed, os.path.join(root, n))
    return root
