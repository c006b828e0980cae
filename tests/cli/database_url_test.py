#!/usr/bin/env python3
"""A --db, $NOMTAG_DB or `database:` that reads as a URL picks the storage
plugin by its scheme, and is never taken for a file path (issue 23): with
only storage-sqlite loaded, `postgresql://…` is an error that names the
plugin to add, and nothing is created — no folder `postgresql:` in the
current folder or beside plugins.yaml, no database anywhere.

Usage: database_url_test.py NOMTAG_BINARY
"""
import os
import subprocess
import sys
import tempfile

NOMTAG = sys.argv[1]
PG_URL = "postgresql://nomtag@/nomtag?host=/run/pg"


def tree(root):
    """Every path under root, relative, so that a test sees anything made."""
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def refused(args, env, cwd, root, *must_say):
    before = tree(root)
    p = subprocess.run([NOMTAG] + args, env=env, cwd=cwd,
                       capture_output=True, text=True)
    assert p.returncode != 0, f"{args} succeeded:\n{p.stdout}\n{p.stderr}"
    for words in must_say:
        assert words in p.stderr, f"{args}: {words!r} not in:\n{p.stderr}"
    made = tree(root) - before
    assert not made, f"{args} created {sorted(made)}"
    return p


def main():
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        work = os.path.join(tmp, "work")
        music = os.path.join(tmp, "music")
        for d in (home, work, music):
            os.makedirs(d)
        config = os.path.join(tmp, "plugins.yaml")
        with open(config, "w") as f:
            f.write("plugins:\n  - name: format-mp3\n  - name: storage-sqlite\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "NOMTAG_CONFIG": config}
        add = "`- name: storage-postgresql` to plugins.yaml"

        # The new user's command of the issue, and every command shape.
        refused(["--db", PG_URL, "reconcile", "music"], env, work, tmp,
                "storage-postgresql", add)
        refused(["library", "add", "music", music, "--db", PG_URL], env, work,
                tmp, add)
        refused(["library", "list"], dict(env, NOMTAG_DB=PG_URL), work, tmp, add)
        # libpq's alias, and any letter case, are the same scheme.
        refused(["--db", "Postgres://h/db", "library", "list"], env, work, tmp,
                add)
        # The password never reaches a message.
        p = refused(["--db", "postgresql://u:s3cret@h/db", "library", "list"],
                    env, work, tmp, add)
        assert "s3cret" not in p.stderr, p.stderr

        # An unknown scheme: no plugin can serve it; the known ones listed.
        refused(["--db", "mysql://u@h/db", "library", "add", "m", music], env,
                work, tmp, "no storage plugin for mysql://",
                "storage-postgresql (postgresql://)")

        # `database:` in plugins.yaml: the same choice, the same refusal
        # (and the URL is not resolved as a path beside plugins.yaml).
        with open(config, "w") as f:
            f.write("plugins:\n  - name: storage-sqlite\n"
                    f"    settings:\n      database: {PG_URL}\n")
        refused(["library", "add", "music", music], env, work, tmp, add,
                "database:")

        # A URL set for storage-postgresql is used though storage-sqlite is
        # listed first (here no server answers: the error says so).
        with open(config, "w") as f:
            f.write("plugins:\n  - name: storage-sqlite\n"
                    "  - name: storage-postgresql\n    settings:\n"
                    f"      database: postgresql:///x?host={tmp}/none\n")
        refused(["library", "list"], env, work, tmp,
                "cannot connect to the PostgreSQL database")

        # A path still is a path: the database is made where it says.
        with open(config, "w") as f:
            f.write("plugins:\n  - name: format-mp3\n  - name: storage-sqlite\n")
        db = os.path.join(tmp, "data", "nomtag.db")
        p = subprocess.run([NOMTAG, "--db", db, "library", "add", "music",
                            music], env=env, cwd=work, capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stderr
        assert os.path.isfile(db), "a file path no longer makes a database"

        # With both storage plugins listed, a file database does not load
        # the PostgreSQL plugin (libpq and Kerberos cost ~8 ms at every
        # start); a URL still does.
        with open(config, "w") as f:
            f.write("plugins:\n  - name: format-mp3\n  - name: storage-sqlite\n"
                    "  - name: storage-postgresql\n")
        p = subprocess.run([NOMTAG, "--db", db, "library", "list"],
                           env=dict(env, LD_DEBUG="files"), cwd=work,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr[-2000:]
        assert "calling init" in p.stderr, "LD_DEBUG said nothing"
        assert "libpq" not in p.stderr, "a file database loaded libpq"
        assert "nomtag-storage-sqlite" in p.stderr
        refused(["--db", f"postgresql:///x?host={tmp}/none", "library",
                 "list"], env, work, tmp,
                "cannot connect to the PostgreSQL database")
    print("database URLs: chosen by scheme, refused clearly, nothing created")


main()
