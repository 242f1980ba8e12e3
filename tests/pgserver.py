"""A throwaway PostgreSQL server for the tests: one per test session, made on first use.

``postgres_server`` (a session-scoped fixture; a test module imports it by name) runs
``initdb`` into a new temporary directory, starts the server on a free TCP port of 127.0.0.1
(password authentication, SCRAM) with its Unix socket in that directory (no password: trust),
and at the end of the session stops it (``pg_ctl stop -m immediate``) and removes the
directory. Each test asks it for a database of its own (:meth:`PostgresServer.create_database`,
a few tens of milliseconds), so tests never see each other's rows.

The binaries are looked up on ``$PATH`` and then in Debian's ``/usr/lib/postgresql/*/bin``
(newest version first). ``initdb`` refuses to run as root: as root, the server runs as the
``postgres`` system user (``runuser``), which owns the temporary directory.

Without the binaries or psycopg the PostgreSQL tests skip with the reason, unless
``$GUANGYUAN_REQUIRE_POSTGRES`` is ``1`` (CI installs both): then they fail.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

#: Set to 1 to make a missing PostgreSQL (binaries or psycopg) fail the tests instead of skipping.
REQUIRE_ENV = "GUANGYUAN_REQUIRE_POSTGRES"
#: The superuser's password over TCP: characters a URL must percent-encode, so that the tests
#: see the library find it in both forms.
PASSWORD = "gy-Pw:s3cr/t@%?#"
#: The superuser's name.
USER = "postgres"
#: The programs the fixture runs.
PROGRAMS = ("initdb", "pg_ctl", "postgres")


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``, or fail it when ``$GUANGYUAN_REQUIRE_POSTGRES=1``."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 requires PostgreSQL)", pytrace=False)
    pytest.skip(reason)


def require_psycopg():
    """The psycopg module (skips or fails the test without it, see :func:`unavailable`)."""
    try:
        import psycopg
    except ImportError:
        unavailable('psycopg is not installed (pip install -e ".[postgres]")')
    return psycopg


def find_bindir() -> Path | None:
    """The directory of ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).parent] if on_path else []

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in PROGRAMS):
            return bindir
    return None


def free_port() -> int:
    """A TCP port of 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: its port, socket directory and a counter for database names."""

    bindir: Path
    root: Path
    port: int = 0
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str, password: str | None = PASSWORD) -> str:
        """A TCP URL of database ``dbname`` on 127.0.0.1 (with the password, percent-encoded)."""
        secret = f":{quote(password, safe='')}" if password is not None else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{dbname}"

    def socket_url(self, dbname: str) -> str:
        """A URL of database ``dbname`` through the Unix socket (``?host=DIR``, no password)."""
        return f"postgresql://{USER}@/{dbname}?host={self.root}&port={self.port}"

    def admin(self):
        """A new autocommit connection to the ``postgres`` database (close it after use)."""
        import psycopg
        return psycopg.connect(self.socket_url("postgres"), autocommit=True)

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"test_{next(self._names)}"
        with self.admin() as con:
            con.execute(f"CREATE DATABASE {name}")
        return name

    # -- running the programs ----------------------------------------------------------------

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run one of the server's programs (as the ``postgres`` user when we are root)."""
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                cwd=self.root)
        if check and result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n"
                        f"{tail}", pytrace=False)
        return result

    def start(self) -> None:
        """initdb, then start on a free port (three tries: a port can be taken meanwhile)."""
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres")
        self.run("initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile),
                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                 "--no-locale", "--no-sync")
        pwfile.unlink()
        for attempt in range(3):
            self.port = free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                       "-c shared_buffers=16MB")
            result = self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                              "-o", options, "-w", "-t", "30", "start", check=attempt == 2)
            if result.returncode == 0:
                return

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "stop", "-m", "immediate", "-w", check=False)


#: The server of this test session, once started (each test module that imports the fixture
#: gets its own copy of it from pytest: they share this one server).
_RUNNING: list[PostgresServer] = []


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole session (see the module's docstring)."""
    if _RUNNING:  # started for another module's copy of this fixture, which stops it
        yield _RUNNING[0]
        return
    require_psycopg()
    bindir = find_bindir()
    if bindir is None:
        unavailable("PostgreSQL's initdb, pg_ctl and postgres were not found on $PATH nor in "
                    "/usr/lib/postgresql/*/bin")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        unavailable("running as root, and runuser (to run initdb as postgres) is missing")
    root = Path(tempfile.mkdtemp(prefix="guangyuan-pg-"))
    server = PostgresServer(bindir=bindir, root=root)
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        server.start()
        _RUNNING.append(server)
        yield server
    finally:
        _RUNNING.clear()
        if server.port:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
