"""The scenario library: named scenarios saved by the app's visitors, kept in an embedded
SQLite database so that they survive reloads and server restarts.

Where: ``$GUANGYUAN_LIBRARY`` (a file path, or a URL ``sqlite:///PATH`` as SQLAlchemy writes
it: ``sqlite:///rel/lib.db`` is relative to the working directory, ``sqlite:////abs/lib.db``
absolute); without it, ``guangyuan-sim/library.sqlite3`` under the user's data directory
(``$XDG_DATA_HOME`` or ``~/.local/share``; ``%LOCALAPPDATA%`` on Windows,
``~/Library/Application Support`` on macOS), never inside the repository. Only SQLite is
supported: any other URL scheme (``postgresql://``, ``mysql://`` …) is refused in one line that
names the scheme. Several server threads and processes can share one file: the database runs in
WAL mode, every operation opens its own connection with a busy timeout and holds a transaction
only for the few statements it needs, and writes take the write lock at their start
(``BEGIN IMMEDIATE``), so a save is all or nothing and limits are checked under the lock.

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

The schema's version is SQLite's ``PRAGMA user_version``; :data:`MIGRATIONS` holds the
statements that take a database from each version to the next, run in one transaction when a
library is first used. A database of a newer version than this code knows is refused.

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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd

from simulator.app.i18n import ui
from simulator.base import inputs
from simulator.plan import scenario as scenario_mod
from simulator.plan.scenario import Scenario

#: The environment variable that says where the library is (a path or ``sqlite:///PATH``).
ENV_VAR = "GUANGYUAN_LIBRARY"
#: The database file's name under the user's data directory when ``$GUANGYUAN_LIBRARY`` is unset.
DEFAULT_FILE = Path("guangyuan-sim") / "library.sqlite3"
#: The schema version this code writes and reads (SQLite's ``PRAGMA user_version``).
SCHEMA_VERSION = 1
#: Most scenarios one library holds (a save beyond it is refused; delete some first).
MAX_SCENARIOS = 1000
#: Longest author, in characters (one line).
MAX_AUTHOR_CHARS = 64
#: Longest note, in characters (line breaks allowed).
MAX_NOTE_CHARS = 1000
#: Largest scenario YAML a row may hold, in UTF-8 bytes (the app's scenarios take ~2 kB).
MAX_YAML_BYTES = 100_000
#: How long an operation waits for another connection's write lock, in seconds.
BUSY_TIMEOUT_S = 10.0
#: A saved scenario's id: 12 URL-safe characters (``secrets.token_urlsafe(9)``, 72 random bits).
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{12}")
#: Source name in error messages (no server path: visitors may see them).
SOURCE = "library"

#: Statements that take the schema from version ``n - 1`` to ``n`` (key ``n``), in order. A new
#: version adds an entry (``ALTER TABLE …``, a new table, a data fix) and raises
#: :data:`SCHEMA_VERSION`; a library at an older version is brought up to date on first use.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE scenarios (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
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


def resolve(location: str | os.PathLike | None) -> Path:
    """The database file of a location: a path, ``sqlite:///PATH``, or None/"" for the default.

    Raises
    ------
    LibraryUnavailable
        For a URL of another scheme (only SQLite is supported), a SQLite URL with a host,
        options or no file (``:memory:`` would forget everything when its connection closes).
    """
    if location is None or str(location) == "":
        return default_path()
    text = os.fspath(location)
    match = _URL_SCHEME.match(text)
    if match is None:
        return Path(text).expanduser()
    scheme = match.group(1)
    allowed = "allowed a file path or sqlite:///PATH (only SQLite databases are supported)"
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


class Library:
    """A scenario library in one SQLite file.

    Parameters
    ----------
    location : str, path or None
        A file path, ``sqlite:///PATH``, or None for the default (:func:`resolve`). Nothing is
        opened or created until the first operation.
    max_scenarios : int, optional
        Most rows the library may hold (default :data:`MAX_SCENARIOS`).

    Raises
    ------
    LibraryUnavailable
        For a location that is not a SQLite file (:func:`resolve`).
    """

    def __init__(self, location: str | os.PathLike | None = None, *,
                 max_scenarios: int | None = None):
        self.path = resolve(location)
        self.max_scenarios = MAX_SCENARIOS if max_scenarios is None else int(max_scenarios)
        self._ready = False

    def __repr__(self) -> str:
        return f"Library({str(self.path)!r})"

    # -- connections ------------------------------------------------------------------------

    def _unavailable(self, exc: BaseException) -> LibraryUnavailable:
        return LibraryUnavailable(inputs.one_line(
            f"{SOURCE} {self.path}: {type(exc).__name__}: {exc}"))

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return con

    @contextmanager
    def _connect(self, begin: str, wal: bool = False) -> Iterator[sqlite3.Connection]:
        """A new connection inside one transaction (``begin``; after switching the file to WAL
        mode when ``wal``): committed on success, rolled back on any exception, always closed.
        SQLite's own errors become :class:`LibraryUnavailable`."""
        try:
            con = self._open()
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        try:
            if wal and con.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise LibraryUnavailable(f"{SOURCE} {self.path}: the database cannot run in WAL "
                                         "mode (is it on a network file system?)")
            con.execute(begin)
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        finally:
            con.close()

    def _prepare(self) -> None:
        """Create the file and bring its schema up to :data:`SCHEMA_VERSION` (once per object;
        the migrations of several versions run in one transaction, all or nothing)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise self._unavailable(exc) from None
        with self._connect("BEGIN IMMEDIATE", wal=True) as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LibraryUnavailable(
                    f"{SOURCE} {self.path}: schema version {version} was written by a newer "
                    f"version of the simulator; this one reads up to {SCHEMA_VERSION}")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {step}")
        self._ready = True

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection inside one short transaction (``BEGIN IMMEDIATE`` when ``write``, so
        the write lock is taken at the start and checks made inside hold until the commit)."""
        if not self._ready:
            self._prepare()
        with self._connect("BEGIN IMMEDIATE" if write else "BEGIN") as con:
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
                raise LibraryUnavailable(f"{SOURCE} {self.path}: no free id found")
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
            return con.execute("PRAGMA user_version").fetchone()[0]


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


def entries_frame(entries: list[Entry], lang: str) -> pd.DataFrame:
    """The library as a table for the page: name, author, date (UTC), note, reference, id; a
    damaged row says so in its note column."""
    rows = [{ui("col_saved_name", lang): e.name, ui("col_author", lang): e.author,
             ui("col_saved_at", lang): entry_date(e),
             ui("col_note", lang): (f"⚠ {ui('library_damaged', lang)}: {e.problem}"
                                    if e.problem else inputs.one_line(" ".join(e.note.splitlines()), 200)),
             ui("col_reference", lang): e.reference_name, ui("col_id", lang): e.id}
            for e in entries]
    columns = [ui(k, lang) for k in ("col_saved_name", "col_author", "col_saved_at", "col_note",
                                     "col_reference", "col_id")]
    return pd.DataFrame(rows, columns=columns)
