"""The database an end-to-end test runs against, by backend: an SQLite file
in the test's folder, or a fresh database on the PostgreSQL test server
(tests/support/pg_server.sh, ctest's `postgresql` fixture), dropped when the
test ends. The backend is $NOMTAG_TEST_BACKEND ("sqlite", the default, or
"postgresql"); the server's URL is $NOMTAG_TEST_PG_URL, else the file
$NOMTAG_TEST_PG_URL_FILE names.

Without a server the PostgreSQL run fails loudly: it never skips.
"""
import os
import subprocess
import unittest
import uuid

BACKEND = os.environ.get("NOMTAG_TEST_BACKEND", "sqlite")


def server_url():
    url = os.environ.get("NOMTAG_TEST_PG_URL")
    if not url and os.environ.get("NOMTAG_TEST_PG_URL_FILE"):
        try:
            with open(os.environ["NOMTAG_TEST_PG_URL_FILE"]) as f:
                url = f.read().strip()
        except OSError:
            url = None
    if not url:
        raise AssertionError(
            "no PostgreSQL test server: run through ctest, whose fixture "
            "starts one (tests/support/pg_server.sh), or set "
            "NOMTAG_TEST_PG_URL")
    return url


def with_database(url, name):
    """url with its database name replaced."""
    head, query = url.split("?", 1)
    return head[:head.index("///") + 3] + name + "?" + query


def psql(sql, database="nomtag"):
    subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql,
                    with_database(server_url(), database)],
                   check=True, capture_output=True)


def new_database(test, folder):
    """A --db value for a fresh, empty database; bytes when folder is."""
    if BACKEND == "sqlite":
        return os.path.join(folder, b"nomtag.db" if isinstance(folder, bytes)
                            else "nomtag.db")
    name = "e2e_" + uuid.uuid4().hex[:12]
    # Byte for byte, as the user guide advises for libraries whose file
    # names need not be UTF-8 (the tests have such names).
    psql(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' TEMPLATE template0")
    test.addCleanup(psql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    url = with_database(server_url(), name)
    return url.encode() if isinstance(folder, bytes) else url


def sqlite_only(why):
    """Skips a test of SQLite's own behaviour (a file, its locks) on the
    other backend, saying what it is about."""
    return unittest.skipIf(BACKEND != "sqlite", f"SQLite only: {why}")
