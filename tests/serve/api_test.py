#!/usr/bin/python3
"""`nomtag serve` against a real process, a real database and real files:
every route, the 4xx answers for bad input, 409 for a second job, the
token check, traversal attempts, the login link, and a small fuzzer on
the JSON request bodies.

Usage: api_test.py NOMTAG PLUGINS_YAML [TEST_NAME...]
"""
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

import mutagen.id3

from serve_support import Server, foreign_title, make_audio, nom_tags

NOMTAG, CONFIG = sys.argv[1], sys.argv[2]
EXTS = ["mp3", "flac", "ogg", "m4a", "opus"]


class ServeApiTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nomtag-serve-")
        self.music = os.path.join(self.dir, "music")
        os.makedirs(os.path.join(self.music, "album"))
        self.files = []
        for i, ext in enumerate(EXTS):
            rel = f"album/{i:02d}.{ext}"
            make_audio(os.path.join(self.music, rel), ext)
            self.files.append(rel)
        self.server = Server(NOMTAG, CONFIG, self.dir)

    def tearDown(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # helpers
    def req(self, *args, **kw):
        return self.server.request(*args, **kw)

    def add_library(self, name="music", mode="full"):
        status, lib, _ = self.req("POST", "/api/web/libraries",
                                  {"name": name, "root": self.music,
                                   "file_write_mode": mode})
        self.assertEqual(status, 201, lib)
        return lib

    def scan(self, lib_id):
        status, body, _ = self.req("POST", f"/api/web/libraries/{lib_id}/scan")
        self.assertEqual(status, 202, body)
        job = self.server.wait_job(body["job"]["id"])
        self.assertEqual(job["state"], "done", job)
        return job

    def import_tags(self, name="music"):
        jl = os.path.join(self.dir, "tags.jsonl")
        with open(jl, "w") as f:
            for i, rel in enumerate(self.files):
                f.write(json.dumps({"path": rel, "tags": {
                    "bpm": 100 + i, "genre-electronic": 0.8125}}) + "\n")
        self.server.cli("tags", "import", name, jl)

    def assert_json_error(self, status, body, expected):
        self.assertEqual(status, expected, body)
        self.assertIsInstance(body, dict, body)
        self.assertIsInstance(body.get("detail"), str, body)

    # the three routes of SPEC section 7, end to end
    def test_mode_change_then_reconcile_writes_the_files(self):
        lib = self.add_library(mode="none")
        job = self.scan(lib["id"])
        self.assertEqual(job["result"]["seen"], len(self.files))
        self.import_tags()

        status, st, _ = self.req(
            "GET", f"/api/web/libraries/{lib['id']}/reconcile-status")
        self.assertEqual(status, 200, st)
        self.assertEqual(st["in_progress"], False)
        self.assertIsNone(st["job"])
        # mode none, files hold no nom tags: nothing to do yet.
        none_pending = st["pending_count"]

        # The original system's form: the query parameter.
        status, wm, _ = self.req(
            "PATCH",
            f"/api/web/libraries/{lib['id']}/write-mode?file_write_mode=full")
        self.assertEqual(status, 200, wm)
        self.assertEqual(wm, {"file_write_mode": "full",
                              "requires_reconciliation": True,
                              "affected_file_count": len(self.files)})
        self.assertLessEqual(none_pending, len(self.files))

        status, st, _ = self.req(
            "GET", f"/api/web/libraries/{lib['id']}/reconcile-status")
        self.assertEqual(st["pending_count"], len(self.files))

        status, rec, _ = self.req(
            "POST",
            f"/api/web/libraries/{lib['id']}/reconcile-tags?wait=true"
            "&batch_size=2")
        self.assertEqual(status, 200, rec)
        self.assertEqual((rec["processed"], rec["remaining"], rec["failed"]),
                         (len(self.files), 0, 0), rec)
        for i, rel in enumerate(self.files):
            path = os.path.join(self.music, rel)
            self.assertEqual(nom_tags(path),
                             {"bpm": [str(100 + i)],
                              "genre-electronic": ["0.8125"]}, rel)
            self.assertEqual(foreign_title(path), ["Their title"], rel)

        # JSON body form of write-mode, back to none: every file affected.
        status, wm, _ = self.req(
            "PATCH", f"/api/web/libraries/{lib['id']}/write-mode",
            {"file_write_mode": "none"})
        self.assertEqual(wm["affected_file_count"], len(self.files), wm)
        status, started, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags")
        self.assertEqual(status, 202, started)
        self.assertEqual(started["status"], "started")
        self.assertEqual(started["pending_count"], len(self.files))
        self.assertEqual(started["task_id"], str(started["job"]["id"]))
        job = self.server.wait_job(started["job"]["id"])
        self.assertEqual(job["state"], "done", job)
        self.assertEqual(job["result"]["processed"], len(self.files))
        for rel in self.files:
            self.assertEqual(nom_tags(os.path.join(self.music, rel)), {}, rel)
        status, st, _ = self.req(
            "GET", f"/api/web/libraries/{lib['id']}/reconcile-status")
        self.assertEqual(st["pending_count"], 0)
        # The library tells how its newest job ended, for a page that
        # looks only after it has finished.
        status, one, _ = self.req("GET", f"/api/web/libraries/{lib['id']}")
        self.assertEqual(one["running_jobs"], [])
        self.assertEqual((one["last_job"]["id"], one["last_job"]["state"],
                          one["last_job"]["result"]["processed"]),
                         (job["id"], "done", len(self.files)), one)

    def test_write_mode_refuses_anything_but_the_three_modes(self):
        lib = self.add_library()
        base = f"/api/web/libraries/{lib['id']}/write-mode"
        for q in ["?file_write_mode=FULL", "?file_write_mode=", "?file_write_mode=all",
                  "?file_write_mode=full%00"]:
            status, body, _ = self.req("PATCH", base + q)
            self.assert_json_error(status, body, 400)
        for b in [{"file_write_mode": "partial"}, {"file_write_mode": 1},
                  {"file_write_mode": None}, {"mode": "full"}, {}]:
            status, body, _ = self.req("PATCH", base, b)
            self.assert_json_error(status, body, 400)
        status, body, _ = self.req("PATCH", base + "?file_write_mode=none",
                                   {"file_write_mode": "full"})
        self.assert_json_error(status, body, 400)
        status, lib2, _ = self.req("GET", f"/api/web/libraries/{lib['id']}")
        self.assertEqual(lib2["file_write_mode"], "full", "nothing changed")

    def test_unknown_library_is_404_on_every_route(self):
        self.add_library()
        for lib_id in ["999", "0", "abc", "99999999999999999999999", "-1",
                       "1.0", "%32"]:
            base = f"/api/web/libraries/{lib_id}"
            for method, path, body in [
                    ("GET", base, None),
                    ("PATCH", base, {"keep_mtime": True}),
                    ("PATCH", base + "/write-mode?file_write_mode=full", None),
                    ("POST", base + "/scan", None),
                    ("POST", base + "/reconcile-tags", None),
                    ("POST", base + "/analyze", None),
                    ("DELETE", base, None),
                    ("GET", base + "/reconcile-status", None),
                    ("GET", base + "/file-tags?path=album/00.mp3", None)]:
                status, answer, _ = self.req(method, path, body)
                self.assert_json_error(status, answer, 404)

    def test_counts_give_the_folders_that_hold_files(self):
        # The root, album/ and a/b/ hold files; a/ holds only a folder.
        lib = self.add_library()
        self.assertEqual(lib["counts"]["folders"], 0)
        src = os.path.join(self.music, "album", "00.mp3")
        os.makedirs(os.path.join(self.music, "a", "b"))
        shutil.copy(src, os.path.join(self.music, "top.mp3"))
        shutil.copy(src, os.path.join(self.music, "a", "b", "deep.mp3"))
        shutil.copy(src, os.path.join(self.music, "a", "b", "deeper.mp3"))
        self.scan(lib["id"])
        status, got, _ = self.req("GET", f"/api/web/libraries/{lib['id']}")
        self.assertEqual(status, 200, got)
        self.assertEqual((got["counts"]["files"], got["counts"]["folders"]),
                         (len(self.files) + 3, 3), got["counts"])
        # A folder whose files are gone (missing) no longer counts.
        shutil.rmtree(os.path.join(self.music, "a"))
        self.scan(lib["id"])
        status, got, _ = self.req("GET", f"/api/web/libraries/{lib['id']}")
        self.assertEqual((got["counts"]["files"], got["counts"]["folders"]),
                         (len(self.files) + 1, 2), got["counts"])

    def test_library_create_update_and_list(self):
        lib = self.add_library()
        self.assertEqual(lib["root"], os.path.realpath(self.music))
        self.assertEqual(lib["counts"]["files"], 0)
        status, body, _ = self.req("GET", "/api/web/libraries")
        self.assertEqual([l["name"] for l in body["libraries"]], ["music"])
        status, upd, _ = self.req("PATCH", f"/api/web/libraries/{lib['id']}",
                                  {"keep_mtime": True, "write_strategy": "copy",
                                   "hardlinks": "break"})
        self.assertEqual(status, 200, upd)
        self.assertEqual((upd["keep_mtime"], upd["write_strategy"],
                          upd["hardlinks"]), (True, "copy", "break"))
        out = self.server.cli("library", "list", "--json").stdout
        cli = json.loads(out)[0]
        self.assertEqual((cli["keep_mtime"], cli["write_strategy"]),
                         (True, "copy"), "the CLI sees the server's change")
        status, body, _ = self.req("POST", "/api/web/libraries",
                                   {"name": "music", "root": self.music})
        self.assert_json_error(status, body, 409)
        # A file belongs to one library (`library add`'s rule): a link to
        # music, a folder inside it or around it is music's root again.
        link = os.path.join(self.dir, "link-to-music")
        os.symlink(self.music, link)
        for root in (link, os.path.join(self.music, "album"), self.dir):
            status, body, _ = self.req("POST", "/api/web/libraries",
                                       {"name": "again", "root": root})
            self.assert_json_error(status, body, 400)
            self.assertIn("library 'music'", body["detail"])
        # Nor a number for a name (it would shadow an id).
        other = os.path.join(self.dir, "other")
        os.makedirs(other)
        status, body, _ = self.req("POST", "/api/web/libraries",
                                   {"name": "42", "root": other})
        self.assert_json_error(status, body, 400)
        # A root reached through a link is stored resolved.
        link = os.path.join(self.dir, "link-to-other")
        os.symlink(other, link)
        status, lib2, _ = self.req("POST", "/api/web/libraries",
                                   {"name": "linked", "root": link})
        self.assertEqual(status, 201, lib2)
        self.assertEqual(lib2["root"], os.path.realpath(other))

    def test_bad_bodies_are_4xx_json_and_change_nothing(self):
        a_file = os.path.join(self.music, self.files[0])
        cases = [
            (b"{", 400), (b"[]", 400), (b"\"x\"", 400), (b"nul", 400),
            (b"{\"name\": \"x\"}", 400),                        # no root
            (json.dumps({"name": "x", "root": "music"}).encode(), 400),
            (json.dumps({"name": "x", "root": "/nonexistent/x"}).encode(), 400),
            (json.dumps({"name": "x", "root": a_file}).encode(), 400),
            (json.dumps({"name": 5, "root": self.music}).encode(), 400),
            (json.dumps({"name": "x", "root": self.music,
                         "file_write_mode": "loud"}).encode(), 400),
            (json.dumps({"name": "x", "root": self.music,
                         "keep_mtime": "yes"}).encode(), 400),
            (json.dumps({"name": "x", "root": self.music,
                         "surprise": 1}).encode(), 400),
            (json.dumps({"name": "", "root": self.music}).encode(), 400),
            (json.dumps({"name": "a\nb", "root": self.music}).encode(), 400),
            (b"{\"name\": \"\xff\", \"root\": \"/\"}", 400),     # not UTF-8
            (b"[" * 20000 + b"]" * 20000, 400),                  # deep
            (b"{\"name\": \"" + b"x" * (70 * 1024) + b"\"}", 413),
        ]
        for raw, expected in cases:
            status, body, _ = self.req("POST", "/api/web/libraries", raw=raw)
            self.assert_json_error(status, body, expected)
        status, body, _ = self.req("GET", "/api/web/libraries")
        self.assertEqual(body["libraries"], [], "nothing was created")
        lib = self.add_library()
        for raw in [b"{", b"{\"keep_mtime\": 1}", b"{\"name\": \"y\"}",
                    b"{\"hardlinks\": \"snap\"}"]:
            status, body, _ = self.req("PATCH",
                                       f"/api/web/libraries/{lib['id']}",
                                       raw=raw)
            self.assert_json_error(status, body, 400)
        for q in ["?batch_size=0", "?batch_size=1001", "?batch_size=x",
                  "?wait=maybe"]:
            status, body, _ = self.req(
                "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags" + q)
            self.assert_json_error(status, body, 400)
        status, body, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/scan", {"force": True})
        self.assert_json_error(status, body, 400)
        self.assertTrue(self.server.alive())

    def test_fuzzed_bodies_never_get_a_5xx(self):
        lib = self.add_library()
        rng = random.Random(22)
        seeds = [json.dumps({"name": "n", "root": self.music,
                             "file_write_mode": "full", "keep_mtime": True,
                             "write_strategy": "copy", "hardlinks": "keep"}),
                 json.dumps({"file_write_mode": "minimal"}),
                 json.dumps({"calibration": {"a": [1, 2.5, "x"]}})]
        alphabet = b"{}[]\",:\\0123456789.eE+-truefalsn \x00\xff\xc3\xa9u"
        targets = [("POST", "/api/web/libraries"),
                   ("PATCH", f"/api/web/libraries/{lib['id']}"),
                   ("PATCH", f"/api/web/libraries/{lib['id']}/write-mode"),
                   ("PUT", "/api/web/calibration")]
        for i in range(400):
            data = bytearray(rng.choice(seeds).encode())
            for _ in range(rng.randint(1, 6)):
                op = rng.randrange(3)
                pos = rng.randrange(len(data) + 1)
                if op == 0 and data:
                    del data[min(pos, len(data) - 1)]
                elif op == 1:
                    data.insert(pos, rng.choice(alphabet))
                else:
                    data[pos:pos] = data[:rng.randrange(len(data) + 1)]
            method, path = rng.choice(targets)
            status, body, _ = self.req(method, path, raw=bytes(data))
            self.assertLess(status, 500, (method, path, bytes(data), body))
            self.assertIsInstance(body, dict, (bytes(data), body))
        self.assertTrue(self.server.alive())

    def test_every_api_route_needs_the_token(self):
        lib = self.add_library()
        routes = [("GET", "/api/web/libraries"),
                  ("POST", "/api/web/libraries"),
                  ("GET", f"/api/web/libraries/{lib['id']}"),
                  ("PATCH", f"/api/web/libraries/{lib['id']}"),
                  ("PATCH", f"/api/web/libraries/{lib['id']}/write-mode"
                            "?file_write_mode=none"),
                  ("POST", f"/api/web/libraries/{lib['id']}/scan"),
                  ("POST", f"/api/web/libraries/{lib['id']}/analyze"),
                  ("DELETE", f"/api/web/libraries/{lib['id']}"),
                  ("POST", f"/api/web/libraries/{lib['id']}/reconcile-tags"),
                  ("GET", f"/api/web/libraries/{lib['id']}/reconcile-status"),
                  ("GET", f"/api/web/libraries/{lib['id']}/file-tags"
                          "?path=album/00.mp3"),
                  ("GET", "/api/web/jobs"), ("GET", "/api/web/jobs/1"),
                  ("POST", "/api/web/jobs/1/cancel"),
                  ("GET", "/api/web/calibration"),
                  ("PUT", "/api/web/calibration"),
                  ("DELETE", "/api/web/calibration"),
                  ("POST", "/api/web/calibration/generate"),
                  ("GET", "/api/web/calibration/heads"),
                  ("GET", "/api/web/nothing-here")]
        wrong = ["Bearer " + "0" * 64, "Bearer", "Basic " + self.server.token,
                 "Bearer " + self.server.token + "x",
                 "bearer " + self.server.token, ""]
        for method, path in routes:
            status, body, headers = self.req(method, path, token=None)
            self.assert_json_error(status, body, 401)
            self.assertEqual(headers.get("WWW-Authenticate"), "Bearer")
            for w in wrong:
                status, body, _ = self.req(method, path, token=w or None)
                self.assert_json_error(status, body, 401)
        status, lib2, _ = self.req("GET", f"/api/web/libraries/{lib['id']}")
        self.assertEqual(lib2["file_write_mode"], "full", "nothing changed")
        mode = stat.S_IMODE(os.stat(self.server.token_path).st_mode)
        self.assertEqual(mode, 0o600)
        self.assertEqual(len(self.server.token), 64)

    def test_login_link_works_once_and_the_page_needs_no_files(self):
        status, _, _ = self.req("GET", "/login?code=" + "0" * 32, token=None)
        self.assertEqual(status, 403)
        status, _, headers = self.req(
            "GET", "/login?code=" + self.server.login_code, token=None)
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/#token=" + self.server.token)
        status, _, _ = self.req(
            "GET", "/login?code=" + self.server.login_code, token=None)
        self.assertEqual(status, 403, "the link works once")
        status, page, headers = self.req("GET", "/", token=None)
        self.assertEqual(status, 200)
        self.assertIn("/assets/app.js", page)
        self.assertIn("default-src 'self'", headers["Content-Security-Policy"])
        status, js, _ = self.req("GET", "/assets/app.js", token=None)
        self.assertEqual(status, 200)
        self.assertIn("reconcile-tags", js)

    def test_traversal_attempts_never_leave_the_root(self):
        secret_dir = os.path.join(self.dir, "outside")
        os.makedirs(secret_dir)
        outside = os.path.join(secret_dir, "secret.mp3")
        make_audio(outside, "mp3")
        tag = mutagen.id3.ID3()
        tag.add(mutagen.id3.TXXX(desc="nom:secret", text=["leaked"]))
        tag.save(outside)
        os.symlink(outside, os.path.join(self.music, "album", "link.mp3"))
        os.symlink(secret_dir, os.path.join(self.music, "dirlink"))
        os.makedirs(os.path.join(self.music, "%2e%2e"))
        lib = self.add_library()
        base = f"/api/web/libraries/{lib['id']}/file-tags?path="
        attempts = {
            "../outside/secret.mp3": 403,
            "album/../../outside/secret.mp3": 403,
            "./album/00.mp3": 403,
            "album//00.mp3": 403,
            outside: 403,
            "album/link.mp3": 403,
            "dirlink/secret.mp3": 403,
            "%2e%2e/outside/secret.mp3": 403,           # encoded once: '..'
            "%252e%252e/outside/secret.mp3": 404,       # twice: a file name
            "..%2foutside%2fsecret.mp3": 403,
            "%2e%2e%2foutside%2fsecret.mp3": 403,
            "album/00.mp3%00.txt": 400,
            "": 400,
        }
        for path, expected in attempts.items():
            q = path if "%" in path else urllib.parse.quote(path)
            status, body, _ = self.req("GET", base + q)
            self.assert_json_error(status, body, expected)
            self.assertNotIn("leaked", json.dumps(body), path)
        status, body, _ = self.req("GET", base + "album/00.mp3")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["nom"], {})
        # The page's assets come from the binary, never from the disk.
        for path in ["/assets/../../../etc/passwd", "/assets/%2e%2e/app.js",
                     "/%2e%2e/%2e%2e/etc/passwd", "/assets/app.js/..",
                     "/assets/%252e%252e%252fapp.js", "/etc/passwd"]:
            status, body, _ = self.req("GET", path, token=None)
            self.assertIn(status, (400, 404), path)
            self.assertNotIn("root:", json.dumps(body), path)
        # A scan does not follow the links either.
        job = self.scan(lib["id"])
        self.assertEqual(job["result"]["seen"], len(self.files))

    def test_second_job_of_a_kind_is_409_and_a_job_can_be_stopped(self):
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        base = f"/api/web/libraries/{lib['id']}"
        # Hold SQLite's write lock: the job starts, then waits for it.
        hold = sqlite3.connect(self.server.db, timeout=30)
        hold.execute("BEGIN IMMEDIATE")
        try:
            status, first, _ = self.req("POST", base + "/reconcile-tags")
            self.assertEqual(status, 202, first)
            status, second, _ = self.req("POST", base + "/reconcile-tags")
            self.assertEqual(status, 409, second)
            self.assertEqual(second["job"]["id"], first["job"]["id"])
            self.assertIsInstance(second["detail"], str)
            status, st, _ = self.req("GET", base + "/reconcile-status")
            self.assertEqual(st["in_progress"], True)
            self.assertEqual(st["job"]["id"], first["job"]["id"])
            # Another kind on the same library is not blocked by it.
            status, scan, _ = self.req("POST", base + "/scan")
            self.assertEqual(status, 202, scan)
            status, again, _ = self.req("POST", base + "/scan")
            self.assertEqual(status, 409, again)
            status, stopped, _ = self.req(
                "POST", f"/api/web/jobs/{first['job']['id']}/cancel")
            self.assertEqual(status, 202, stopped)
            self.assertTrue(stopped["cancel_requested"])
        finally:
            hold.rollback()
            hold.close()
        job = self.server.wait_job(first["job"]["id"])
        self.assertEqual(job["state"], "cancelled", job)
        self.assertEqual(job["result"]["processed"], 0)
        self.server.wait_job(scan["job"]["id"])
        status, st, _ = self.req("GET", base + "/reconcile-status")
        self.assertEqual(st["pending_count"], len(self.files),
                         "a stopped run leaves the files pending")
        self.assertEqual(st["in_progress"], False)
        for rel in self.files:
            self.assertEqual(nom_tags(os.path.join(self.music, rel)), {})
        status, jobs, _ = self.req("GET", "/api/web/jobs")
        self.assertGreaterEqual(len(jobs["jobs"]), 3)
        status, body, _ = self.req("GET", "/api/web/jobs/424242")
        self.assert_json_error(status, body, 404)

    def test_cli_and_server_share_the_claims(self):
        """A CLI reconcile while the server's job runs: each file is
        written once (the claims are the same), and all end right."""
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        status, started, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags"
            "?batch_size=1")
        self.assertEqual(status, 202, started)
        cli = self.server.cli("reconcile", "music", "--json", check=False)
        # 3: the CLI ended while the server's live job still held a file.
        self.assertIn(cli.returncode, (0, 3), cli.stderr)
        job = self.server.wait_job(started["job"]["id"])
        cli_report = json.loads(cli.stdout)
        self.assertEqual(job["result"]["processed"] + cli_report["processed"],
                         len(self.files), (job["result"], cli_report))
        for i, rel in enumerate(self.files):
            self.assertEqual(nom_tags(os.path.join(self.music, rel))["bpm"],
                             [str(100 + i)])

    def start_reconcile_in_background(self, lib_id):
        """POST reconcile-tags from a thread: the server may stop itself
        (stop_at) before it has answered."""
        answer = {}

        def post():
            answer["reply"] = self.req(
                "POST", f"/api/web/libraries/{lib_id}/reconcile-tags"
                "?batch_size=1")
        thread = threading.Thread(target=post)
        thread.start()
        return thread, answer

    def test_a_stopped_server_job_keeps_its_claim_alive(self):
        """The server's job is a worker of its own, proved alive by its
        lock: while the server is stopped (SIGSTOP) holding a claimed file,
        a CLI run names it alive and leaves that file alone; let go, the
        job writes it, under the worker id the CLI named."""
        self.server.stop()
        self.server = Server(NOMTAG, CONFIG, self.dir,
                             stop_at="before-project")
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        thread, answer = self.start_reconcile_in_background(lib["id"])
        self.server.wait_stopped()
        cli = self.server.cli("reconcile", "music", "--json", check=False)
        self.assertEqual(cli.returncode, 3, cli.stderr)
        report = json.loads(cli.stdout)
        self.assertEqual(report["processed"], len(self.files) - 1, report)
        self.assertEqual(len(report["held_by_others"]), 1, report)
        holder = report["held_by_others"][0]
        self.assertEqual((holder["files"], holder["alive"]), (1, True))
        os.kill(self.server.proc.pid, signal.SIGCONT)
        thread.join(60)
        status, started, _ = answer["reply"]
        self.assertEqual(status, 202, started)
        job = self.server.wait_job(started["job"]["id"])
        self.assertEqual(job["state"], "done", job)
        self.assertEqual(job["result"]["worker"], holder["worker"], job)
        self.assertEqual(job["result"]["processed"], 1, job)
        for i, rel in enumerate(self.files):
            self.assertEqual(nom_tags(os.path.join(self.music, rel))["bpm"],
                             [str(100 + i)], rel)

    def test_a_killed_server_job_s_claim_is_taken_over_at_once(self):
        """Killed while its job holds a claim (a 10-minute lease), the
        server's lock is gone: the next CLI run takes the file at once."""
        self.server.stop()
        self.server = Server(NOMTAG, CONFIG, self.dir,
                             stop_at="before-project")
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        thread, _ = self.start_reconcile_in_background(lib["id"])
        self.server.wait_stopped()
        self.server.proc.kill()
        self.server.proc.wait()
        thread.join(60)
        cli = self.server.cli("reconcile", "music", "--json", check=False)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        report = json.loads(cli.stdout)
        self.assertEqual(report["processed"], len(self.files), report)
        self.assertEqual(report["held_by_others"], [], report)
        for i, rel in enumerate(self.files):
            self.assertEqual(nom_tags(os.path.join(self.music, rel))["bpm"],
                             [str(100 + i)], rel)

    def test_calibration_apply_reports_the_affected_libraries(self):
        lib = self.add_library(mode="minimal")
        self.scan(lib["id"])
        jl = os.path.join(self.dir, "tags.jsonl")
        with open(jl, "w") as f:
            for rel in self.files:
                f.write(json.dumps({"path": rel, "tags": {
                    "mood-strict": "happy"}}) + "\n")
        self.server.cli("tags", "import", "music", jl)
        status, rec, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags?wait=true")
        self.assertEqual(rec["remaining"], 0, rec)
        status, cal, _ = self.req("GET", "/api/web/calibration")
        self.assertEqual((cal["active"], cal["hash"]), (False, ""))
        status, cal, _ = self.req("PUT", "/api/web/calibration",
                                  {"calibration": {"mood": {"happy": 0.5}}})
        self.assertEqual(status, 200, cal)
        self.assertTrue(cal["active"])
        self.assertEqual(cal["libraries"],
                         [{"library_id": lib["id"], "name": "music",
                           "requires_reconciliation": True,
                           "affected_file_count": len(self.files)}])
        shown = json.loads(self.server.cli("calibration", "show",
                                           "--json").stdout)
        self.assertEqual(shown["hash"], cal["hash"], "the CLI's hash")
        status, rec, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags?wait=true")
        self.assertEqual(rec["processed"], len(self.files), rec)
        for rel in self.files:
            self.assertEqual(nom_tags(os.path.join(self.music, rel)),
                             {"mood-strict": ["happy"]})
        for bad in [{"calibration": []}, {"calibration": {}}, {"cal": {}},
                    {"calibration": "x"}]:
            status, body, _ = self.req("PUT", "/api/web/calibration", bad)
            self.assert_json_error(status, body, 400)
        status, cal, _ = self.req("DELETE", "/api/web/calibration")
        self.assertFalse(cal["active"])
        self.assertEqual(cal["libraries"][0]["affected_file_count"],
                         len(self.files))

    # analysis and calibration as jobs
    def add_long_files(self):
        """Four files long enough to analyse, each its own pitch and level
        (the five of setUp are too short: failures with a reason)."""
        os.makedirs(os.path.join(self.music, "long"))
        rels = []
        for i, (ext, freq, vol) in enumerate([("flac", 110, 0.2),
                                              ("mp3", 440, 0.5),
                                              ("ogg", 1760, 0.9),
                                              ("m4a", 3520, 0.6)]):
            rel = f"long/{i:02d}.{ext}"
            make_audio(os.path.join(self.music, rel), ext, seconds=6,
                       frequency=freq, volume=vol)
            rels.append(rel)
        return rels

    def analyze(self, lib_id):
        status, body, _ = self.req("POST",
                                   f"/api/web/libraries/{lib_id}/analyze")
        self.assertEqual(status, 202, body)
        job = self.server.wait_job(body["job"]["id"])
        self.assertEqual(job["state"], "done", job)
        return job

    def test_analyze_is_a_job_with_the_cli_s_results(self):
        long = self.add_long_files()
        lib = self.add_library()
        self.scan(lib["id"])
        base = f"/api/web/libraries/{lib['id']}"
        for bad in [{"force": "yes"}, {"workers": 2}, []]:
            status, body, _ = self.req("POST", base + "/analyze", bad)
            self.assert_json_error(status, body, 400)
        # Hold SQLite's write lock: the job starts, then waits to claim.
        hold = sqlite3.connect(self.server.db, timeout=30)
        hold.execute("BEGIN IMMEDIATE")
        try:
            status, first, _ = self.req("POST", base + "/analyze")
            self.assertEqual(status, 202, first)
            self.assertEqual(first["job"]["kind"], "analyze")
            status, second, _ = self.req("POST", base + "/analyze")
            self.assertEqual(status, 409, second)
            self.assertEqual(second["job"]["id"], first["job"]["id"])
            status, one, _ = self.req("GET", base)
            self.assertIn(first["job"]["id"],
                          [j["id"] for j in one["running_jobs"]])
            status, stopped, _ = self.req(
                "POST", f"/api/web/jobs/{first['job']['id']}/cancel")
            self.assertEqual(status, 202, stopped)
        finally:
            hold.rollback()
            hold.close()
        job = self.server.wait_job(first["job"]["id"])
        self.assertEqual(job["state"], "cancelled", job)
        # Stopped before its first plugin or before its first file: either
        # way nothing analysed.
        self.assertEqual(sum(p["analysed"] for p in job["result"]["plugins"]),
                         0, job)
        status, one, _ = self.req("GET", base)
        total = len(self.files) + len(long)
        self.assertEqual((one["counts"]["analysed"],
                          one["counts"]["analysis_due"]), (0, total), one)
        # The whole run: the long files analysed, the short ones failed
        # with their reason, as `nomtag analyze` stores them.
        job = self.analyze(lib["id"])
        self.assertEqual((job["done"], job["total"], job["failed"]),
                         (total, total, len(self.files)), job)
        run = job["result"]["plugins"][0]
        self.assertEqual((run["plugin"], run["analysed"], run["failed"]),
                         ("org.nomtag.inference.descriptors", len(long),
                          len(self.files)), run)
        self.assertEqual(sorted(e["path"] for e in job["last_errors"]),
                         sorted(self.files))
        for e in job["last_errors"]:
            self.assertIn("too short", e["error"])
        status, one, _ = self.req("GET", base)
        # As `nomtag status` counts: every file has a current result, the
        # short ones a failed one.
        self.assertEqual((one["counts"]["analysed"],
                          one["counts"]["analysis_failed"],
                          one["counts"]["analysis_due"]),
                         (total, len(self.files), 0), one)
        status_cli = self.server.cli("status", "music", "--json")
        self.assertIn(f'"analysed": {total}', status_cli.stdout)
        self.assertEqual(len(one["analysis"][0]["failures"]), len(self.files))
        # The CLI finds the server's results current (same key, same rows).
        cli = json.loads(self.server.cli("analyze", "music", "--dry-run",
                                         "--json").stdout)
        self.assertEqual(cli["plugins"][0]["due"], 0, cli)
        # Audio files are only read.
        for rel in long + self.files:
            self.assertEqual(nom_tags(os.path.join(self.music, rel)), {})

    def test_calibration_generate_is_a_job_and_heads_show_the_scores(self):
        long = self.add_long_files()
        lib = self.add_library()
        self.scan(lib["id"])
        # Nothing analysed yet: the job fails and says why.
        status, started, _ = self.req("POST", "/api/web/calibration/generate")
        self.assertEqual(status, 202, started)
        job = self.server.wait_job(started["job"]["id"])
        self.assertEqual(job["state"], "failed", job)
        self.assertIn("no analysed scores", job["error"])
        self.analyze(lib["id"])
        status, heads, _ = self.req("GET", "/api/web/calibration/heads")
        self.assertEqual(status, 200, heads)
        self.assertFalse(heads["active"])
        self.assertTrue(heads["labels"], heads)
        for h in heads["labels"]:
            self.assertFalse(h["converged"], h)
        for bad, code in [({"library_id": "1"}, 400), ({"library_id": 0}, 400),
                          ({"scope": 1}, 400), ({"library_id": 999}, 404)]:
            status, body, _ = self.req("POST", "/api/web/calibration/generate",
                                       bad)
            self.assert_json_error(status, body, code)
        # A second generation while one runs: 409 with the running one.
        hold = sqlite3.connect(self.server.db, timeout=30)
        hold.execute("BEGIN IMMEDIATE")
        try:
            status, first, _ = self.req("POST",
                                        "/api/web/calibration/generate", {})
            self.assertEqual(status, 202, first)
            status, second, _ = self.req("POST",
                                         "/api/web/calibration/generate")
            self.assertEqual(status, 409, second)
            self.assertEqual(second["job"]["id"], first["job"]["id"])
        finally:
            hold.rollback()
            hold.close()
        job = self.server.wait_job(first["job"]["id"])
        self.assertEqual(job["state"], "done", job)
        result = job["result"]
        self.assertTrue(result["changed"])
        shown = json.loads(self.server.cli("calibration", "show",
                                           "--json").stdout)
        self.assertEqual(shown["hash"], result["hash"])
        status, st, _ = self.req(
            "GET", f"/api/web/libraries/{lib['id']}/reconcile-status")
        self.assertEqual(result["libraries"],
                         [{"library_id": lib["id"], "name": "music",
                           "requires_reconciliation": True,
                           "affected_file_count": st["pending_count"]}])
        # The CLI computes the same calibration from the same rows.
        cli = json.loads(self.server.cli("calibrate", "--json").stdout)
        self.assertEqual((cli["hash"], cli["changed"]),
                         (result["hash"], False), cli)
        self.assertEqual(cli["labels"], [dict(h, converged=True)
                                         for h in result["labels"]])
        # The view: per head the active p5/p95, converged against the
        # scores, and a histogram of every score.
        status, heads, _ = self.req("GET", "/api/web/calibration/heads")
        self.assertEqual((heads["active"], heads["hash"], heads["bins"]),
                         (True, result["hash"], 20))
        self.assertEqual(heads["scores"], result["scores"])
        by_key = {(h["model"], h["label"]): h for h in cli["labels"]}
        self.assertEqual(len(heads["labels"]), len(by_key))
        for h in heads["labels"]:
            c = by_key[(h["model"], h["label"])]
            self.assertEqual((h["p5"], h["p95"], h["n"]),
                             (c["p5"], c["p95"], c["n"]), h)
            self.assertTrue(h["converged"], h)
            self.assertEqual(len(h["histogram"]), 20)
            self.assertEqual(sum(h["histogram"]), len(long), h)
            self.assertLessEqual(h["p5"], h["p95"])
        # A server reconcile writes what analysis yields, as the CLI's
        # does: the descriptors of each analysed file land in it.
        status, rec, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags?wait=true")
        self.assertEqual((status, rec["remaining"], rec["failed"]),
                         (200, 0, 0), rec)
        for rel in long:
            keys = nom_tags(os.path.join(self.music, rel))
            self.assertIn("bpm", keys, rel)
            self.assertIn("loudness-lufs", keys, rel)
            self.assertEqual(foreign_title(os.path.join(self.music, rel)),
                             ["Their title"])
        cli = json.loads(self.server.cli("reconcile", "music", "--dry-run",
                                         "--json").stdout)
        self.assertEqual(cli["pending"], 0, cli)

    # removing a library
    def digests(self):
        out = {}
        for rel in self.files:
            with open(os.path.join(self.music, rel), "rb") as f:
                out[rel] = hashlib.sha256(f.read()).hexdigest()
        return out

    def test_remove_forgets_the_rows_and_never_touches_a_file(self):
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        base = f"/api/web/libraries/{lib['id']}"
        status, rec, _ = self.req("POST", base + "/reconcile-tags?wait=true")
        self.assertEqual(rec["processed"], len(self.files), rec)
        before = self.digests()
        # Refused while a job works on the library.
        hold = sqlite3.connect(self.server.db, timeout=30)
        hold.execute("BEGIN IMMEDIATE")
        try:
            status, started, _ = self.req("POST", base + "/scan")
            self.assertEqual(status, 202, started)
            status, body, _ = self.req("DELETE", base)
            self.assertEqual(status, 409, body)
            self.assertEqual(body["job"]["id"], started["job"]["id"])
        finally:
            hold.rollback()
            hold.close()
        self.server.wait_job(started["job"]["id"])
        status, body, _ = self.req("DELETE", base, {"really": True})
        self.assert_json_error(status, body, 400)
        status, body, _ = self.req("DELETE", base)
        self.assertEqual((status, body), (200, {"removed": lib["id"],
                                                "name": "music"}))
        status, body, _ = self.req("GET", base)
        self.assert_json_error(status, body, 404)
        status, body, _ = self.req("DELETE", base)
        self.assert_json_error(status, body, 404)
        status, libs, _ = self.req("GET", "/api/web/libraries")
        self.assertEqual(libs["libraries"], [])
        db = sqlite3.connect(self.server.db)
        try:
            self.assertEqual(db.execute("SELECT COUNT(*) FROM files")
                             .fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT COUNT(*) FROM tags")
                             .fetchone()[0], 0)
        finally:
            db.close()
        self.assertEqual(self.digests(), before, "no file changed")
        for i, rel in enumerate(self.files):
            self.assertEqual(nom_tags(os.path.join(self.music, rel))["bpm"],
                             [str(100 + i)], "the tags written stay")
        # The root is free again, and nothing of the old rows comes back.
        again = self.add_library()
        self.assertEqual(again["counts"]["files"], 0)

    def test_cli_library_remove_waits_for_a_live_run(self):
        """A run elsewhere (here the server, stopped holding a claim) keeps
        the library: `library remove` is refused, removes nothing, and
        works once that run has ended."""
        self.server.stop()
        self.server = Server(NOMTAG, CONFIG, self.dir,
                             stop_at="before-project")
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        thread, answer = self.start_reconcile_in_background(lib["id"])
        self.server.wait_stopped()
        cli = self.server.cli("library", "remove", "music", check=False)
        self.assertNotEqual(cli.returncode, 0)
        self.assertIn("running worker", cli.stderr)
        listed = json.loads(self.server.cli("library", "list", "--json")
                            .stdout)
        self.assertEqual(len(listed), 1, listed)
        os.kill(self.server.proc.pid, signal.SIGCONT)
        thread.join(60)
        self.server.wait_job(answer["reply"][1]["job"]["id"])
        before = self.digests()
        cli = self.server.cli("library", "remove", "music", "--json")
        self.assertEqual(json.loads(cli.stdout),
                         {"removed": lib["id"], "name": "music"})
        self.assertEqual(json.loads(self.server.cli(
            "library", "list", "--json").stdout), [])
        self.assertEqual(self.digests(), before)

    def test_an_abi_1_4_storage_plugin_loads_and_remove_says_why_not(self):
        plugin = os.environ.get("NOMTAG_TEST_STORAGE_ABI14")
        self.assertTrue(plugin and os.path.exists(plugin),
                        "NOMTAG_TEST_STORAGE_ABI14 names the 1.4 plugin")
        self.server.stop()
        config = os.path.join(self.dir, "plugins-1.4.yaml")
        with open(config, "w") as f:
            f.write("plugins:\n" + "".join(
                f"  - name: {n}\n" for n in ["format-mp3", "format-flac",
                                             "format-ogg-vorbis",
                                             "format-opus", "format-mp4"]) +
                    f"  - path: {plugin}\n")
        self.server = Server(NOMTAG, config, self.dir)
        lib = self.add_library()
        self.scan(lib["id"])
        status, body, _ = self.req("DELETE", f"/api/web/libraries/{lib['id']}")
        self.assert_json_error(status, body, 501)
        self.assertIn("ABI 1.5", body["detail"])
        cli = self.server.cli("library", "remove", "music", check=False)
        self.assertNotEqual(cli.returncode, 0)
        self.assertIn("ABI 1.5", cli.stderr)
        status, libs, _ = self.req("GET", "/api/web/libraries")
        self.assertEqual([l["name"] for l in libs["libraries"]], ["music"])

    def test_failure_list_says_why_a_file_is_not_written(self):
        lib = self.add_library()
        self.scan(lib["id"])
        self.import_tags()
        # Copies only: a write would detach the hard-linked name, refused.
        status, _, _ = self.req("PATCH", f"/api/web/libraries/{lib['id']}",
                                {"write_strategy": "copy"})
        self.assertEqual(status, 200)
        victim = os.path.join(self.music, self.files[1])
        with open(victim, "rb") as f:
            before = f.read()
        os.link(victim, os.path.join(self.dir, "hardlink.flac"))
        status, rec, _ = self.req(
            "POST", f"/api/web/libraries/{lib['id']}/reconcile-tags?wait=true")
        self.assertEqual((rec["processed"], rec["failed"]),
                         (len(self.files) - 1, 1), rec)
        status, full, _ = self.req("GET", f"/api/web/libraries/{lib['id']}")
        self.assertEqual(full["counts"]["failed"], 1)
        self.assertEqual(full["counts"]["held_by_hard_links"], 1)
        self.assertEqual(len(full["failures"]), 1, full["failures"])
        self.assertEqual(full["failures"][0]["path"], self.files[1])
        self.assertTrue(full["failures"][0]["hard_links"])
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), before, "untouched")
        self.assertEqual(rec["job"]["last_errors"][0]["path"], self.files[1])

    def test_a_name_that_is_not_utf8_reads_as_the_cli_prints_it(self):
        """A file whose name is Latin-1 bytes: the API's failure list and
        the job's errors write it with the same \\udcXX escapes as
        `nomtag status --json` (one writer), and the bytes come back whole.
        Before, the server replaced each stray byte with U+FFFD."""
        raw = b"album/caf\xe9 \xff.flac"
        make_audio(os.fsencode(self.music) + b"/" + raw, "flac")
        lib = self.add_library()
        self.scan(lib["id"])
        os.remove(os.fsencode(self.music) + b"/" + raw)  # so its write fails
        base = f"/api/web/libraries/{lib['id']}"
        status, rec, _ = self.req("POST", base + "/reconcile-tags?wait=true")
        self.assertEqual((status, rec["failed"]), (200, 1), rec)
        self.assertEqual(os.fsencode(rec["job"]["last_errors"][0]["path"]),
                         raw)
        cli = self.server.cli("status", "music", "--json").stdout
        literal = re.findall(r'"path": ("[^"]*")', cli)
        self.assertEqual(len(literal), 1, cli)
        self.assertIn("\\udce9", literal[0])
        self.assertEqual(os.fsencode(json.loads(literal[0])), raw)
        status, text = self.server.request_text("GET", base)
        self.assertEqual(status, 200, text)
        self.assertIn('"path":' + literal[0], text)
        self.assertEqual(json.loads(text)["failures"][0]["path"],
                         json.loads(literal[0]))
        status, text = self.server.request_text("GET", "/api/web/jobs")
        self.assertIn('"path":' + literal[0], text)


class ServeStartTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nomtag-serve-start-")
        self.env = dict(os.environ, HOME=self.dir,
                        XDG_CONFIG_HOME=os.path.join(self.dir, "config"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, *args):
        return subprocess.run(
            [NOMTAG, "--config", CONFIG, "--db",
             os.path.join(self.dir, "db"), "serve", *args],
            capture_output=True, text=True, env=self.env, timeout=60)

    def test_no_token_off_loopback_is_refused(self):
        r = self.serve("--listen", "0.0.0.0:0", "--no-token")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("without an access token", r.stderr)
        r = self.serve("--listen", "nonsense")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("HOST:PORT", r.stderr)

    def test_an_unsafe_token_file_is_refused(self):
        server = Server(NOMTAG, CONFIG, self.dir)
        token = server.token
        self.assertEqual(server.stop(), 0, "SIGTERM ends serve cleanly")
        server = Server(NOMTAG, CONFIG, self.dir)
        self.assertEqual(server.token, token, "the token is kept")
        server.stop()
        os.chmod(server.token_path, 0o644)
        r = self.serve("--listen", "127.0.0.1:0")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("chmod 600", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
