"""Shared by the serve tests: a real `nomtag serve` process on 127.0.0.1
(a free port picked by the server itself), a real database in a temporary
folder, real audio files made by ffmpeg, and mutagen to read what landed
in the files. Every process started here is stopped by stop(), which the
tests call from tearDown/finally even when a test fails."""
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import mutagen

CODECS = {"mp3": ["-c:a", "libmp3lame"], "flac": ["-c:a", "flac"],
          "ogg": ["-c:a", "libvorbis"], "m4a": ["-c:a", "aac"],
          "opus": ["-c:a", "libopus"]}


def make_audio(path, ext, seconds=1, frequency=440, volume=1.0):
    """A sine tone with tags of its own. Analysis needs 5 s at least: the
    1-second default is a file the analysis refuses as too short."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={frequency}:duration={seconds}",
                    "-af", f"volume={volume}"] + CODECS[ext] +
                   ["-metadata", "title=Their title", "-metadata",
                    "artist=Their artist", path], check=True)


def nom_tags(path):
    """Our keys as mutagen sees them (an independent reader)."""
    f = mutagen.File(path)
    out = {}
    for k, v in (f.tags or {}).items():
        key = str(k)
        if key.startswith("TXXX:nom:"):
            out[key[9:]] = [str(x) for x in v.text]
        elif key.startswith("----:com.apple.iTunes:nom."):
            out[key[26:]] = [bytes(x).decode() for x in v]
        elif key.lower().startswith("nom:"):
            out[key[4:].lower()] = list(v)
    return out


def foreign_title(path):
    f = mutagen.File(path, easy=True)
    return (f.tags or {}).get("title")


class Server:
    """One `nomtag serve` with its own HOME, config folder and database."""

    def __init__(self, nomtag, config, workdir, extra_args=(), stop_at=None):
        """stop_at: the server stops itself (SIGSTOP) the first time its
        work reaches that point (NOMTAG_TEST_STOP_AT, core/test_pause.h);
        the CLI runs of cli() never do."""
        self.nomtag, self.config, self.workdir = nomtag, config, workdir
        self.db = os.path.join(workdir, "nomtag.db")
        self.env = dict(os.environ, HOME=workdir,
                        XDG_CONFIG_HOME=os.path.join(workdir, "config"))
        self.env.pop("NOMTAG_TEST_STOP_AT", None)
        server_env = dict(self.env)
        if stop_at:
            server_env["NOMTAG_TEST_STOP_AT"] = stop_at
        self.token_path = os.path.join(workdir, "config", "nomtag",
                                       "serve-token")
        self.proc = subprocess.Popen(
            [nomtag, "--config", config, "--db", self.db, "serve",
             "--listen", "127.0.0.1:0", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server_env,
            text=True)
        self.port = None
        self.login_code = None
        deadline = time.time() + 60
        while self.login_code is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("serve exited: " + self.proc.stderr.read())
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            m = re.search(r"/login\?code=([0-9a-f]+)", line)
            if m:
                self.login_code = m.group(1)
        if self.login_code is None:
            self.stop()
            raise RuntimeError("serve printed no login link")
        with open(self.token_path) as f:
            self.token = f.read().strip()

    def cli(self, *args, check=True):
        return subprocess.run([self.nomtag, "--config", self.config, "--db",
                               self.db, *args], capture_output=True,
                              text=True, env=self.env, check=check)

    def request_text(self, method, path):
        """(status, the answer's text as sent) of one request with the
        token: for comparing bytes, not values."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path,
                     headers={"Authorization": "Bearer " + self.token})
        resp = conn.getresponse()
        text = resp.read().decode("utf-8")  # strict: must be UTF-8
        conn.close()
        return resp.status, text

    def request(self, method, path, body=None, token=True, raw=None,
                headers=None):
        """(status, parsed JSON or text, headers) of one request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if token is True:
            h["Authorization"] = "Bearer " + self.token
        elif token:
            h["Authorization"] = token
        data = raw if raw is not None else (
            None if body is None else json.dumps(body).encode())
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8")
        conn.close()
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = text
        return resp.status, payload, dict(resp.getheaders())

    def wait_job(self, job_id, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, job, _ = self.request("GET", f"/api/web/jobs/{job_id}")
            assert status == 200, job
            if job["state"] != "running":
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still running after {timeout}s")

    def wait_stopped(self, timeout=120):
        """Until the server has stopped itself at its stop_at point."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("serve ended instead of stopping")
            with open(f"/proc/{self.proc.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    return
            time.sleep(0.01)
        raise AssertionError("serve never reached its stop point")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # if stopped at a point
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode
