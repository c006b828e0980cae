#!/usr/bin/env python3
"""nomtag as a new user runs it: from a folder outside the source tree, with
no configuration anywhere, then with each step of the documented search
order (docs/user-guide.md, "Configuration"), and with the global options
before or after the subcommand.

Usage: cli_config_test.py NOMTAG_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile

NOMTAG = sys.argv[1]
BUNDLED = {"format-mp3", "format-mp4", "format-flac", "format-ogg-vorbis",
           "format-opus", "storage-sqlite", "storage-postgresql",
           "inference-descriptors"}


def run(args, env, cwd, ok=True):
    p = subprocess.run([NOMTAG] + args, env=env, cwd=cwd,
                       capture_output=True, text=True)
    if ok and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def loaded_ids(stdout):
    return {p["id"] for p in json.loads(stdout)["loaded"]}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        work = os.path.join(tmp, "work")  # the cwd: no plugins.yaml here
        os.makedirs(home)
        os.makedirs(work)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        if os.path.exists("/etc/nomtag/plugins.yaml"):
            print("SKIP-PART: /etc/nomtag/plugins.yaml exists on this machine; "
                  "the no-configuration case cannot be seen here")
            system_config = True
        else:
            system_config = False

        # 1. No configuration anywhere: every bundled plugin, said under -v.
        if not system_config:
            p = run(["-v", "plugins", "--json"], env, work)
            ids = loaded_ids(p.stdout)
            assert len(ids) == len(BUNDLED), ids
            assert "no plugins.yaml found" in p.stderr, p.stderr
            assert "bundled plugin" in p.stderr, p.stderr
            assert os.path.join(home, ".config/nomtag/plugins.yaml") in p.stderr
            # Quiet without -v.
            p = run(["plugins"], env, work)
            assert p.stderr == "", p.stderr
            assert "8 plugin(s) loaded" in p.stdout, p.stdout

        # 2. Global options after the subcommand, and --json before it.
        db = os.path.join(tmp, "after.db")
        music = os.path.join(tmp, "music")
        os.makedirs(music)
        run(["library", "add", "music", music, "--db", db], env, work)
        assert os.path.exists(db), "--db after the subcommand was not used"
        p = run(["--json", "library", "list", "--db", db], env, work)
        libs = json.loads(p.stdout)
        assert [l["name"] for l in libs] == ["music"], libs
        p = run(["scan", "music", "--db", db, "-v"], env, work)
        p = run(["--db", db, "scan", "music"], env, work)
        # --json before a command without its own --json is accepted.
        run(["--json", "library", "set-mode", "music", "minimal", "--db", db],
            env, work)

        # 3. NOMTAG_DB, and --db wins over it.
        env_db = dict(env, NOMTAG_DB=db)
        p = run(["library", "list", "--json"], env_db, work)
        assert [l["name"] for l in json.loads(p.stdout)] == ["music"]
        other = os.path.join(tmp, "other.db")
        # Only library add creates a database (issue 17.4).
        run(["library", "add", "elsewhere", music, "--db", other], env_db, work)
        p = run(["library", "list", "--json", "--db", other], env_db, work)
        assert [l["name"] for l in json.loads(p.stdout)] == ["elsewhere"]

        # 4. The user's configuration (XDG_CONFIG_HOME, else ~/.config).
        def write(path, plugins):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("plugins:\n" + "".join(f"  - name: {n}\n" for n in plugins))
        home_config = os.path.join(home, ".config/nomtag/plugins.yaml")
        write(home_config, ["format-mp3", "storage-sqlite"])
        p = run(["-v", "plugins", "--json"], env, work)
        assert len(loaded_ids(p.stdout)) == 2, p.stdout
        assert home_config in p.stderr and "user configuration" in p.stderr
        xdg = os.path.join(tmp, "xdg")
        write(os.path.join(xdg, "nomtag/plugins.yaml"), ["format-flac"])
        env_xdg = dict(env, XDG_CONFIG_HOME=xdg)
        p = run(["plugins", "--json"], env_xdg, work)
        assert len(loaded_ids(p.stdout)) == 1, p.stdout

        # 5. NOMTAG_CONFIG before the user's; --config before both.
        named = os.path.join(tmp, "named.yaml")
        write(named, ["format-opus", "format-flac", "storage-sqlite"])
        env_named = dict(env_xdg, NOMTAG_CONFIG=named)
        p = run(["plugins", "--json"], env_named, work)
        assert len(loaded_ids(p.stdout)) == 3, p.stdout
        p = run(["plugins", "--json", "--config", home_config], env_named, work)
        assert len(loaded_ids(p.stdout)) == 2, p.stdout

        # 6. A configuration that is named but missing, or broken, is an
        # error: never a silent fall back to the defaults.
        p = run(["plugins"], dict(env, NOMTAG_CONFIG=os.path.join(tmp, "no.yaml")),
                work, ok=False)
        assert p.returncode == 1 and "NOMTAG_CONFIG" in p.stderr, p.stderr
        with open(home_config, "w") as f:
            f.write("plugins: [\n")
        p = run(["plugins"], env, work, ok=False)
        assert p.returncode == 1 and home_config in p.stderr, p.stderr
    print("cli configuration: defaults, search order, global options, NOMTAG_DB")


main()
