"""The scenario library: named scenarios saved by the app's visitors, kept in a database so
that they survive reloads and server restarts — an embedded SQLite file by default, or a
PostgreSQL database that several servers share.

Where: ``$GUANGYUAN_LIBRARY``, one of

* a file path, or a URL ``sqlite:///PATH`` as SQLAlchemy writes it (``sqlite:///rel/lib.db`` is
  relative to the working directory, ``sqlite:////abs/lib.db`` absolute);
* a PostgreSQL URL as libpq reads it, ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME`` (or
  ``postgres://``; query options such as ``?host=/socket/dir`` or ``?sslmode=require`` too),
  opened with psycopg 3, an optional dependency (``pip install -e ".[postgres]"``);
* unset: ``guangyuan-sim/library.sqlite3`` under the user's data directory (``$XDG_DATA_HOME``
  or ``~/.local/share``; ``%LOCALAPPDATA%`` on Windows, ``~/Library/Application Support`` on
  macOS), never inside the repository.

Any other URL scheme (``mysql://`` …) is refused in one line that names the scheme. A password
in a PostgreSQL URL is never shown: messages and ``repr`` name the database by
:attr:`Library.where`, the URL without it, and whatever the driver says is scrubbed of it.

Both databases hold the same table with the same columns, and the same SQL reads and writes it
(:class:`_Backend` holds what the two dialects spell differently: placeholders, how a write
transaction takes its lock, where the schema version lives, the numbered key's type). Several
server threads and processes can share one library: every operation opens its own connection
and holds a transaction only for the few statements it needs, and writes take the write lock
at their start (SQLite's ``BEGIN IMMEDIATE``; PostgreSQL's ``LOCK TABLE … SHARE ROW
EXCLUSIVE``, which readers do not wait for), so a save is all or nothing and limits are checked
under the lock. A SQLite file runs in WAL mode; a lock held longer than :data:`BUSY_TIMEOUT_S`
fails the operation in one line (SQLite's busy timeout, PostgreSQL's ``lock_timeout``).

What a row holds: a short random id (URL-safe, 72 bits: not sequential, so one id tells
nothing about another; not a secret, since the app lists every row), the scenario's name, the author, the date (UTC), a note,
the scenario as YAML text (the format of ``scenarios/*.yaml``) and the reference scenario it was
compared with (its name and YAML). The YAML is validated by
:func:`simulator.plan.scenario.loads` on the way in and again on the way out: a row that no
longer validates (edited by hand, or saved before a lever was removed from the model) is
reported in one line, never crashed on.

Deleting: a save returns a secret token (kept by the session that saved, stored here only as
its SHA-256); :meth:`Library.delete` needs it, so on a shared server a visitor can delete only
what their own session saved. :meth:`Library.purge` deletes without a token: it is for the
server's administrator, from Python, and the app never calls it.

The schema's version is SQLite's ``PRAGMA user_version``, or in PostgreSQL the one row of the
table ``library_schema``; :data:`MIGRATIONS` holds the statements that take a database from
each version to the next, run in one transaction when a library is first used (in PostgreSQL
under an advisory lock, so two servers starting at once do not both migrate). A database of a
newer version than this code knows is refused.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import unquote

import pandas as pd

from simulator.app.i18n import detail, ui
from simulator.base import inputs
from simulator.plan import scenario as scenario_mod
from simulator.plan.scenario import Scenario

#: The environment variable that says where the library is (a path, ``sqlite:///PATH`` or
#: ``postgresql://…``).
ENV_VAR = "GUANGYUAN_LIBRARY"
#: The database file's name under the user's data directory when ``$GUANGYUAN_LIBRARY`` is unset.
DEFAULT_FILE = Path("guangyuan-sim") / "library.sqlite3"
#: The schema version this code writes and reads.
SCHEMA_VERSION = 1
#: Most scenarios one library holds (a save beyond it is refused; delete some first).
MAX_SCENARIOS = 1000
#: Longest author, in characters (one line).
MAX_AUTHOR_CHARS = 64
#: Longest note, in characters (line breaks allowed).
MAX_NOTE_CHARS = 1000
#: Largest scenario YAML a row may hold, in UTF-8 bytes (the app's scenarios take ~2 kB).
MAX_YAML_BYTES = 100_000
#: How long an operation waits for another connection's write lock, in seconds (and, for
#: PostgreSQL, for a connection to the server).
BUSY_TIMEOUT_S = 10.0
#: A saved scenario's id: 12 URL-safe characters (``secrets.token_urlsafe(9)``, 72 random bits).
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{12}")
#: Source name in error messages (no server path: visitors may see them).
SOURCE = "library"
#: How to install the PostgreSQL driver (said when a ``postgresql://`` URL is given without it).
POSTGRES_INSTALL = 'pip install -e ".[postgres]"'

#: Statements that take the schema from version ``n - 1`` to ``n`` (key ``n``), in order, the
#: same for both databases; ``{serial}`` is the one type they spell differently (an
#: automatically numbered key, :attr:`_Backend.serial`). A new version adds an entry
#: (``ALTER TABLE …``, a new table, a data fix) and raises :data:`SCHEMA_VERSION`; a library at
#: an older version is brought up to date on first use.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE scenarios (
               seq {serial},
               id TEXT NOT NULL UNIQUE,
               name TEXT NOT NULL,
               author TEXT NOT NULL,
               created TEXT NOT NULL,
               note TEXT NOT NULL,
               scenario_yaml TEXT NOT NULL,
               reference_name TEXT NOT NULL,
               reference_yaml TEXT NOT NULL,
               token_sha256 TEXT NOT NULL
           )""",
        "CREATE INDEX scenarios_created ON scenarios (created)",
    ),
}

_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class LibraryError(inputs.InputError):
    """A library request cannot be done: a field too long, the library full, an unknown id, a
    damaged row, a wrong delete token. One line, without server paths."""


class LibraryFull(LibraryError):
    """The library holds as many scenarios as it may (a save is refused)."""


class UnknownScenario(LibraryError):
    """No row has the id asked for (never saved, or deleted since)."""

    def __init__(self, scenario_id: str):
        super().__init__(f"{SOURCE}: no saved scenario has id {inputs.excerpt(scenario_id)}")
        self.scenario_id = scenario_id


class LibraryUnavailable(LibraryError):
    """The library's database cannot be used (a refused location, an unreadable file, a newer
    schema, a lock held too long). The message names the location: for the server's log."""


@dataclass(frozen=True)
class Entry:
    """A row of the library as listed: what identifies and describes it.

    Attributes
    ----------
    id, name, author, note : str
        As saved (``name`` is the scenario's name).
    created : datetime or None
        When it was saved (UTC); None if the row's date is damaged.
    reference_name : str
        The name of the reference scenario it was compared with.
    problem : str
        Empty for a sound row; else one line saying what is damaged (the row cannot be opened).
    """

    id: str
    name: str
    author: str
    created: datetime | None
    note: str
    reference_name: str
    problem: str = ""


@dataclass(frozen=True)
class SavedScenario:
    """A saved scenario, validated on the way out.

    Attributes
    ----------
    entry : Entry
        Its id, name, author, date and note.
    scenario : Scenario
        The scenario saved.
    reference : Scenario
        The reference scenario it was compared with.
    """

    entry: Entry
    scenario: Scenario
    reference: Scenario

    @property
    def id(self) -> str:
        return self.entry.id


def default_path() -> Path:
    """The library file when ``$GUANGYUAN_LIBRARY`` is unset: under the user's data directory."""
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Application Support"
    else:
        root = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return root / DEFAULT_FILE


def resolve(location: str | os.PathLike | None) -> Path | str:
    """The database a location names: a SQLite file's path, or a PostgreSQL URL.

    Parameters
    ----------
    location : str, path or None
        A file path, ``sqlite:///PATH``, ``postgresql://…`` (or ``postgres://…``), or None/""
        for the default file.

    Returns
    -------
    Path or str
        The SQLite file, or the PostgreSQL URL as given (checked by :class:`Library`).

    Raises
    ------
    LibraryUnavailable
        For a URL of another scheme, a SQLite URL with a host, options or no file
        (``:memory:`` would forget everything when its connection closes).
    """
    if location is None or str(location) == "":
        return default_path()
    text = os.fspath(location)
    match = _URL_SCHEME.match(text)
    if match is None:
        return Path(text).expanduser()
    scheme = match.group(1)
    allowed = "allowed a file path, sqlite:///PATH or postgresql://USER@HOST[:PORT]/DBNAME"
    if scheme.lower() in _POSTGRES_SCHEMES:
        return text
    if scheme.lower() != "sqlite":
        raise LibraryUnavailable(f"{ENV_VAR}: URL scheme {inputs.excerpt(scheme)} is not "
                                 f"supported; {allowed}")
    rest = text[match.end():]
    if not rest.startswith("/") or "?" in rest or rest in ("/", "/:memory:"):
        raise LibraryUnavailable(f"{ENV_VAR}: {inputs.excerpt(text)} is not a SQLite file URL; "
                                 f"{allowed}")
    return Path(rest[1:]).expanduser()


def from_env() -> "Library":
    """The library ``$GUANGYUAN_LIBRARY`` names (or the default one); see :func:`resolve`."""
    return Library(os.environ.get(ENV_VAR))


def check_id(text: str) -> str:
    """``text`` if it has the form of a saved scenario's id, else a one-line LibraryError."""
    if not isinstance(text, str) or not ID_PATTERN.fullmatch(text):
        raise LibraryError(f"{SOURCE}: id {inputs.excerpt(text)} is not the id of a saved scenario; "
                           "allowed 12 characters A-Z, a-z, 0-9, '-', '_'")
    return text


def _author(text: str) -> str:
    return inputs.check_text(text, SOURCE, "author", max_chars=MAX_AUTHOR_CHARS,
                             error=LibraryError).strip()


def _note(text: str) -> str:
    return inputs.check_text(text, SOURCE, "note", multiline=True, max_chars=MAX_NOTE_CHARS,
                             error=LibraryError).strip()


def _scenario_yaml(value: Scenario | str, fieldname: str) -> tuple[str, Scenario]:
    """The YAML text to store and the scenario it validates to (on the way in)."""
    text = value.to_yaml() if isinstance(value, Scenario) else value
    if not isinstance(text, str):
        raise LibraryError(f"{SOURCE}: field '{fieldname}': value {inputs.excerpt(text)} is not "
                           "a scenario or YAML text")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise LibraryError(f"{SOURCE}: field '{fieldname}': {size:,} bytes of YAML; at most "
                           f"{MAX_YAML_BYTES:,} allowed")
    scn = scenario_mod.loads(text, source=f"{SOURCE}: {fieldname}")
    if isinstance(value, Scenario) and scn != value:  # to_yaml must read back to the same
        raise LibraryError(f"{SOURCE}: field '{fieldname}': scenario "
                           f"{inputs.excerpt(value.name)} does not read back from its YAML")
    return text, scn


# --------------------------------------------------------------------------------------------
# The two databases: what they spell differently, and nothing else

class _Connection:
    """One open connection of either database, taking the library's SQL as written here:
    ``?`` placeholders in a statement with parameters (which then holds no other ``?`` nor
    any ``%``); a statement without parameters goes to the database as it is."""

    def __init__(self, raw: Any, backend: "_Backend"):
        self.raw, self.backend = raw, backend

    def execute(self, sql: str, params: tuple = ()) -> Any:
        """Run one statement; returns the driver's cursor (``fetchone``, ``rowcount`` …)."""
        if not params:
            return self.raw.execute(sql)
        return self.raw.execute(sql.replace("?", self.backend.placeholder), params)

    def begin(self, kind: str) -> None:
        """Open the transaction of ``kind``: ``read``, ``write`` or ``prepare``."""
        for statement in self.backend.begin[kind]:
            self.execute(statement)


class _Backend:
    """SQLite: one file, opened with the standard library's ``sqlite3``.

    Attributes
    ----------
    name : str
        ``sqlite`` or ``postgresql``.
    placeholder : str
        How a statement's parameters are written (the library's SQL uses ``?``).
    serial : str
        The type of the ``seq`` column: a key numbered by the database, never reused.
    begin : dict
        The statements that open a transaction that reads, writes (the write lock taken at its
        start), or prepares the schema (the migrations' lock).
    set_version : tuple of str
        The statements that write the schema version (``{n}``); :meth:`version` reads it.
    errors : tuple of exception types
        The driver's errors (they become :class:`LibraryUnavailable`).
    """

    name = "sqlite"
    placeholder = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"
    begin = {"read": ("BEGIN",), "write": ("BEGIN IMMEDIATE",),
             "prepare": ("BEGIN IMMEDIATE",)}
    set_version = ("PRAGMA user_version = {n}",)
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)

    def connect(self) -> _Connection:
        """A new connection with the busy timeout set (the file is created if missing)."""
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return _Connection(con, self)

    def version(self, con: _Connection) -> int:
        """The schema version of the database (0 before the first migration)."""
        return int(con.execute("PRAGMA user_version").fetchone()[0])

    def before_prepare(self, con: _Connection) -> None:
        """Switch the file to WAL mode (before the schema's transaction: the journal mode
        cannot change inside one). SQLite answers "database is locked" at once, without its
        busy timeout, while another connection (another server process opening the same new
        file) holds a lock: tried again until :data:`BUSY_TIMEOUT_S` has passed."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        if mode.lower() != "wal":
            raise LibraryUnavailable(f"{SOURCE} {self.where}: the database cannot run in WAL "
                                     "mode (is it on a network file system?)")

    def make_room(self) -> None:
        """Create the directory of the file (private to the server's user)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def in_transaction(self, con: _Connection) -> bool:
        return con.raw.in_transaction

    def describe(self, exc: BaseException) -> str:
        """The driver's error as the end of a one-line message."""
        return f"{type(exc).__name__}: {exc}"


class _Postgres(_Backend):
    """PostgreSQL: a database on a server, opened with psycopg 3 (imported here, on demand:
    it is an optional dependency). The URL is parsed by libpq when the library is made, so a
    malformed one is refused before anything is opened."""

    name = "postgresql"
    placeholder = "%s"
    serial = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    #: Any constant: the advisory lock under which migrations run (one server at a time).
    MIGRATION_LOCK = 0x67795F6C6962  # "gy_lib"
    begin = {"read": ("BEGIN READ ONLY",),
             "write": ("BEGIN", "LOCK TABLE scenarios IN SHARE ROW EXCLUSIVE MODE"),
             "prepare": ("BEGIN", f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")}
    set_version = ("CREATE TABLE IF NOT EXISTS library_schema (version INTEGER NOT NULL)",
                   "DELETE FROM library_schema",
                   "INSERT INTO library_schema (version) VALUES ({n})")

    def __init__(self, url: str):
        self.path = None
        self._secrets = _url_secrets(url)
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:
            raise LibraryUnavailable(
                f"{ENV_VAR}: a postgresql:// URL needs the psycopg package, which is not "
                f"installed; install it with {POSTGRES_INSTALL}") from None
        self.psycopg = psycopg
        self.errors = (psycopg.Error,)
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            message = self.scrub(" ".join(str(exc).split()))
            raise LibraryUnavailable(f"{ENV_VAR}: the PostgreSQL URL does not parse: {message}; "
                                     "allowed postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME "
                                     "as libpq reads it") from None
        if params.get("password"):  # as libpq decoded it (from the user part or the query)
            self._secrets.add(str(params["password"]))
        if not params.get("dbname"):
            raise LibraryUnavailable(f"{ENV_VAR}: the PostgreSQL URL names no database; "
                                     "allowed postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME")
        self.url = url
        self.where = self.scrub(_postgres_where(params))  # a malformed URL can misplace it
        # libpq's defaults unless the URL sets them: give up on a server that does not answer,
        # and name the app in the server's list of connections
        self._extra = {key: value for key, value in
                       (("connect_timeout", max(2, round(BUSY_TIMEOUT_S))),
                        ("application_name", "guangyuan-sim")) if key not in params}

    def connect(self) -> _Connection:
        """A new connection in autocommit mode (transactions are opened explicitly, as with
        SQLite) with :data:`BUSY_TIMEOUT_S` as its lock timeout."""
        con = self.psycopg.connect(self.url, autocommit=True, **self._extra)
        try:
            con.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except BaseException:
            con.close()
            raise
        return _Connection(con, self)

    def version(self, con: _Connection) -> int:
        """The schema version: the row of ``library_schema`` (0 while there is no such table)."""
        if con.execute("SELECT to_regclass('library_schema')").fetchone()[0] is None:
            return 0
        row = con.execute("SELECT MAX(version) FROM library_schema").fetchone()
        return int(row[0] or 0)

    def before_prepare(self, con: _Connection) -> None:
        """Nothing: the server runs its own journal."""

    def make_room(self) -> None:
        """Nothing: the database exists (the app creates tables in it, not the database)."""

    def in_transaction(self, con: _Connection) -> bool:
        return con.raw.info.transaction_status != self.psycopg.pq.TransactionStatus.IDLE

    def describe(self, exc: BaseException) -> str:
        """The driver's message on one line (libpq writes several), without the password."""
        return self.scrub(f"{type(exc).__name__}: {' '.join(str(exc).split())}")

    def scrub(self, text: str) -> str:
        """``text`` with every form of the URL's password replaced by ``***``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def _url_secrets(url: str) -> set[str]:
    """The password of a PostgreSQL URL in every form a message might quote it, found without
    libpq (its own parse errors quote the URL): as written, percent-decoded, and, written
    with a ``/ ? # @ :`` that should have been percent-encoded (libpq then cuts it there and
    may quote a piece as a host, port or database), its pieces of three characters or more."""
    found = set(re.findall(r"[?&]password=([^&#]*)", url))
    userinfo = url.split("://", 1)[-1].rpartition("@")[0]  # up to the last @: a stray / too
    if ":" in userinfo:
        found.add(userinfo.split(":", 1)[1])
    pieces = {piece for raw in found for piece in re.split(r"[/?#@:]", raw) if len(piece) >= 3}
    return {form for raw in found for form in (raw, unquote(raw)) if form} | pieces


def _postgres_where(params: dict) -> str:
    """A parsed PostgreSQL URL without its password: user, host, port and database. What the
    URL leaves out is shown as libpq fills it in from ``$PGUSER``, ``$PGHOST`` and
    ``$PGPORT`` (no host at all: its default Unix socket, written as a URL writes it)."""
    user = params.get("user") or os.environ.get("PGUSER", "")
    host = params.get("host") or os.environ.get("PGHOST") or ""
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    at = f"{user}@" if user else ""
    if host.startswith("/"):  # a socket directory, as libpq's URLs write it
        return f"postgresql://{at}/{params['dbname']}?host={host}&port={port}"
    if not host:
        return f"postgresql://{at}/{params['dbname']}?port={port}"
    return f"postgresql://{at}{host}:{port}/{params['dbname']}"


class Library:
    """A scenario library in one SQLite file or one PostgreSQL database.

    Parameters
    ----------
    location : str, path or None
        A file path, ``sqlite:///PATH``, ``postgresql://…``, or None for the default
        (:func:`resolve`). Nothing is opened or created until the first operation.
    max_scenarios : int, optional
        Most rows the library may hold (default :data:`MAX_SCENARIOS`).

    Attributes
    ----------
    path : Path or None
        The SQLite file (None for PostgreSQL).
    where : str
        The database as messages name it: the file, or the URL without its password.
    dialect : str
        ``sqlite`` or ``postgresql``.

    Raises
    ------
    LibraryUnavailable
        For a location that is neither (:func:`resolve`), a PostgreSQL URL that does not parse
        or names no database, or one given without psycopg installed.
    """

    def __init__(self, location: str | os.PathLike | None = None, *,
                 max_scenarios: int | None = None):
        target = resolve(location)
        self._backend = _Backend(target) if isinstance(target, Path) else _Postgres(target)
        self.path, self.where = self._backend.path, self._backend.where
        self.dialect = self._backend.name
        self.max_scenarios = MAX_SCENARIOS if max_scenarios is None else int(max_scenarios)
        self._ready = False
        self._preparing = threading.Lock()  # one first use at a time (the server's threads)

    def __repr__(self) -> str:
        return f"Library({self.where!r})"

    # -- connections ------------------------------------------------------------------------

    def _unavailable(self, exc: BaseException) -> LibraryUnavailable:
        return LibraryUnavailable(inputs.one_line(
            f"{SOURCE} {self.where}: {self._backend.describe(exc)}"))

    @contextmanager
    def _connect(self, kind: str) -> Iterator[_Connection]:
        """A new connection inside one transaction of ``kind`` (:attr:`_Backend.begin`):
        committed on success, rolled back on any exception, always closed. The driver's own
        errors become :class:`LibraryUnavailable`."""
        backend = self._backend
        try:
            con = backend.connect()
        except backend.errors as exc:
            raise self._unavailable(exc) from None
        try:
            if kind == "prepare":
                backend.before_prepare(con)
            con.begin(kind)
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if backend.in_transaction(con):
                    con.execute("ROLLBACK")
                raise
        except backend.errors as exc:
            raise self._unavailable(exc) from None
        finally:
            con.raw.close()

    def _prepare(self) -> None:
        """Create the file (SQLite) and bring the schema up to :data:`SCHEMA_VERSION` (once per
        object; the migrations of several versions run in one transaction, all or nothing)."""
        try:
            self._backend.make_room()
        except OSError as exc:
            raise self._unavailable(exc) from None
        with self._connect("prepare") as con:
            version = self._backend.version(con)
            if version > SCHEMA_VERSION:
                raise LibraryUnavailable(
                    f"{SOURCE} {self.where}: schema version {version} was written by a newer "
                    f"version of the simulator; this one reads up to {SCHEMA_VERSION}")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    con.execute(statement.replace("{serial}", self._backend.serial))
                for statement in self._backend.set_version:
                    con.execute(statement.format(n=int(step)))
        self._ready = True

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[_Connection]:
        """A connection inside one short transaction (when ``write``, the write lock is taken
        at the start, so checks made inside hold until the commit)."""
        if not self._ready:
            with self._preparing:
                if not self._ready:
                    self._prepare()
        with self._connect("write" if write else "read") as con:
            yield con


    # -- operations -------------------------------------------------------------------------

    def save(self, scenario: Scenario | str, reference: Scenario | str, *, author: str = "",
             note: str = "") -> tuple[SavedScenario, str]:
        """Save a scenario (a Scenario or its YAML text) with the reference it was compared
        with; the scenario's name is the entry's name.

        Returns
        -------
        (SavedScenario, token)
            The row as it reads back, and the secret that :meth:`delete` asks for.

        Raises
        ------
        ScenarioError
            If the scenario or reference YAML does not validate.
        LibraryError
            If a field is too long or not one line, or the library holds ``max_scenarios``.
        """
        text, scn = _scenario_yaml(scenario, "scenario")
        ref_text, ref = _scenario_yaml(reference, "reference")
        author, note = _author(author), _note(note)
        token = secrets.token_urlsafe(16)
        created = datetime.now(timezone.utc).replace(microsecond=0)
        with self._transaction(write=True) as con:
            count = con.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0]
            if count >= self.max_scenarios:
                raise LibraryFull(f"{SOURCE}: it holds {count:,} scenarios, the most allowed "
                                   f"({self.max_scenarios:,}); delete some first")
            for _ in range(5):  # 72 random bits: a clash is practically impossible
                new_id = secrets.token_urlsafe(9)
                if con.execute("SELECT 1 FROM scenarios WHERE id = ?", (new_id,)).fetchone() is None:
                    break
            else:  # pragma: no cover
                raise LibraryUnavailable(f"{SOURCE} {self.where}: no free id found")
            con.execute(
                "INSERT INTO scenarios (id, name, author, created, note, scenario_yaml, "
                "reference_name, reference_yaml, token_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new_id, scn.name, author, created.strftime(_DATE_FORMAT), note, text, ref.name,
                 ref_text, _digest(token)))
        entry = Entry(id=new_id, name=scn.name, author=author, created=created, note=note,
                      reference_name=ref.name)
        return SavedScenario(entry=entry, scenario=scn, reference=ref), token

    def entries(self) -> list[Entry]:
        """Every row, newest first; a damaged row is listed with its ``problem`` (one line)."""
        with self._transaction() as con:
            rows = con.execute("SELECT id, name, author, created, note, reference_name "
                               "FROM scenarios ORDER BY created DESC, seq DESC").fetchall()
        return [_entry(row) for row in rows]

    def count(self) -> int:
        """How many rows the library holds."""
        with self._transaction() as con:
            return con.execute("SELECT COUNT(*) FROM scenarios").fetchone()[0]

    def get(self, scenario_id: str) -> SavedScenario:
        """The saved scenario ``scenario_id``, validated.

        Raises
        ------
        LibraryError
            If the id is malformed or unknown, or the row is damaged (its fields or either YAML
            no longer validate); the message is one line and names the id.
        """
        check_id(scenario_id)
        with self._transaction() as con:
            row = con.execute("SELECT id, name, author, created, note, reference_name, "
                              "scenario_yaml, reference_yaml FROM scenarios WHERE id = ?",
                              (scenario_id,)).fetchone()
        if row is None:
            raise UnknownScenario(scenario_id)
        entry = _entry(row[:6])
        if entry.problem:
            raise LibraryError(entry.problem)
        try:
            scn = scenario_mod.loads(_stored_text(row[6]), source=f"{SOURCE}: {scenario_id}")
            ref = scenario_mod.loads(_stored_text(row[7]),
                                     source=f"{SOURCE}: {scenario_id} reference")
        except inputs.InputError as exc:
            raise LibraryError(inputs.one_line(f"{_damaged(scenario_id)}: {exc}")) from None
        if scn.name != entry.name or ref.name != entry.reference_name:
            raise LibraryError(f"{_damaged(scenario_id)}: its YAML names another scenario than "
                               "its row")
        return SavedScenario(entry=entry, scenario=scn, reference=ref)

    def delete(self, scenario_id: str, token: str) -> None:
        """Delete a row with the token its :meth:`save` returned (only the saver can).

        Raises
        ------
        LibraryError
            If the id is unknown or the token is not the one of this row.
        """
        check_id(scenario_id)
        with self._transaction(write=True) as con:
            row = con.execute("SELECT token_sha256 FROM scenarios WHERE id = ?",
                              (scenario_id,)).fetchone()
            if row is None:
                raise UnknownScenario(scenario_id)
            if not isinstance(token, str) or not hmac.compare_digest(str(row[0]), _digest(token)):
                raise LibraryError(f"{SOURCE}: scenario {scenario_id} was saved by another "
                                   "session; only the session that saved it can delete it")
            con.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,))

    def purge(self, scenario_id: str) -> bool:
        """Delete a row without its token (the administrator's tool; the app never calls it).
        Returns whether a row was deleted."""
        check_id(scenario_id)
        with self._transaction(write=True) as con:
            return con.execute("DELETE FROM scenarios WHERE id = ?",
                               (scenario_id,)).rowcount > 0

    def schema_version(self) -> int:
        """The database's schema version (:data:`SCHEMA_VERSION` once used)."""
        with self._transaction() as con:
            return self._backend.version(con)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _damaged(scenario_id: str) -> str:
    return f"{SOURCE}: saved scenario {inputs.excerpt(scenario_id)} is damaged"


def _stored_text(value) -> str:
    """A stored YAML cell as text (a BLOB or a number, written by hand, is damaged)."""
    if not isinstance(value, str):
        raise inputs.InputError(f"the stored YAML is {type(value).__name__}, not text")
    return value


def _date(value) -> datetime:
    """A stored date (``2026-03-01T09:30:00Z``) as an aware UTC datetime."""
    try:
        return datetime.strptime(value, _DATE_FORMAT).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        raise LibraryError(f"field 'created': value {inputs.excerpt(value)} is not a date; "
                           "allowed YYYY-MM-DDTHH:MM:SSZ (UTC)") from None


def _entry(row: tuple) -> Entry:
    """A listed row, checked field by field: what does not validate becomes ``problem``."""
    raw_id, name, author, created, note, reference_name = row
    shown_id = raw_id if isinstance(raw_id, str) else str(raw_id)
    try:
        check_id(raw_id)
        for value in (name, reference_name):  # the scenario file's rules for a name
            scenario_mod.from_dict({"name": value}, source=f"{SOURCE}: {shown_id}")
        _author(author)
        _note(note)
        when = _date(created)
    except inputs.InputError as exc:
        return Entry(id=shown_id, name=str(name), author=str(author), created=None,
                     note=str(note), reference_name=str(reference_name),
                     problem=inputs.one_line(f"{_damaged(shown_id)}: {exc}"))
    return Entry(id=raw_id, name=name, author=author.strip(), created=when, note=note.strip(),
                 reference_name=reference_name)


# --------------------------------------------------------------------------------------------
# The app's view of the library (words from simulator.app.i18n)

def entry_date(entry: Entry) -> str:
    """When a row was saved, as the app shows it (``2026-03-01 09:30``, UTC), or ``?``."""
    return entry.created.strftime("%Y-%m-%d %H:%M") if entry.created else "?"


def entry_label(entry: Entry, lang: str) -> str:
    """One line naming a row: ``name · author · date`` (plain text: escape it to show it)."""
    return f"{entry.name} · {entry.author or ui('anonymous', lang)} · {entry_date(entry)}"


def entries_frame(entries: list[Entry], lang: str,
                  reference_titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The library as a table for the page: name, author, date (UTC), note, reference, id; a
    damaged row says so in its note column (the problem in ``lang``). ``reference_titles``
    maps a reference scenario's name to the title the page shows for it (a preset's title in
    ``lang``); a name it lacks is shown as saved."""
    titles = reference_titles or {}
    rows = [{ui("col_saved_name", lang): e.name, ui("col_author", lang): e.author,
             ui("col_saved_at", lang): entry_date(e),
             ui("col_note", lang): (f"⚠ {ui('library_damaged', lang)}: {detail(e.problem, lang)}"
                                    if e.problem else inputs.one_line(" ".join(e.note.splitlines()), 200)),
             ui("col_reference", lang): titles.get(e.reference_name, e.reference_name),
             ui("col_id", lang): e.id}
            for e in entries]
    columns = [ui(k, lang) for k in ("col_saved_name", "col_author", "col_saved_at", "col_note",
                                     "col_reference", "col_id")]
    return pd.DataFrame(rows, columns=columns)
