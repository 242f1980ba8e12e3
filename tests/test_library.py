"""The scenario library (simulator/app/library.py): saved scenarios in SQLite or PostgreSQL.

The behaviour tests run on both databases (the ``location`` fixture: a SQLite file in the
test's ``tmp_path``, or a new database on the session's throwaway PostgreSQL server from
``tests/pgserver.py``, skipped without PostgreSQL unless ``$GUANGYUAN_REQUIRE_POSTGRES=1``);
then come the cases of one database only. ``tests/conftest.py`` also points
``$GUANGYUAN_LIBRARY`` at a temporary file for every test, so none touches the user's library.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sqlite3
import sys
import threading
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from simulator.app import library
from simulator.app.library import Library, LibraryError, LibraryUnavailable
from simulator.app.session import load_presets
from simulator.plan.scenario import ScenarioError, loads

from pgserver import PASSWORD, REQUIRE_ENV, free_port, require_psycopg, unavailable
from pgserver import postgres_server  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parents[1]
PRESETS = load_presets(REPO / "scenarios")
PLAN, BASELINE, AMBITIOUS = PRESETS["plan"], PRESETS["baseline"], PRESETS["ambitious"]


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str:
    """Where a test's library is: a new SQLite file, or a new PostgreSQL database (its URL
    with the password)."""
    if request.param == "sqlite":
        return str(tmp_path / "lib.sqlite3")
    server = request.getfixturevalue("postgres_server")
    return server.url(server.create_database())


@pytest.fixture
def lib(location) -> Library:
    return Library(location)


def mine(name: str = "mine", value: float = 12.0):
    return PLAN.with_levers(name, sme_campaign=value)


class Behind:
    """The database of a library opened behind its back, with its own driver (a hand edit, an
    old version's row, another process holding a lock)."""

    def __init__(self, location: str):
        self.postgres = location.startswith("postgresql://")
        self.location = location

    def connect(self):
        """A new autocommit connection (close it after use)."""
        if self.postgres:
            import psycopg
            return psycopg.connect(self.location, autocommit=True)
        return sqlite3.connect(self.location, isolation_level=None)

    def query(self, sql: str, *args) -> list[tuple]:
        """Run one statement (``?`` placeholders) and return its rows (none for a change)."""
        if self.postgres:
            sql = sql.replace("?", "%s")
        con = self.connect()
        try:
            cursor = con.execute(sql, args) if args else con.execute(sql)
            return cursor.fetchall() if cursor.description else []
        finally:
            con.close()

    def set_version(self, version: int) -> None:
        self.query(f"UPDATE library_schema SET version = {version}" if self.postgres
                   else f"PRAGMA user_version = {version}")

    def columns(self) -> list[str]:
        """The columns of the table ``scenarios``, in order."""
        if self.postgres:
            return [row[0] for row in self.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'scenarios' ORDER BY ordinal_position")]
        return [row[1] for row in self.query("PRAGMA table_info(scenarios)")]

    def created(self) -> bool:
        """Whether the library made anything yet (its file; its tables)."""
        if self.postgres:
            return bool(self.query("SELECT 1 FROM information_schema.tables WHERE "
                                   "table_schema = 'public'"))
        return Path(self.location).exists()


@pytest.fixture
def behind(location) -> Behind:
    return Behind(location)


def execute(behind: Behind, sql: str, *args) -> None:
    """Change the database behind the library's back."""
    behind.query(sql, *args)


# --------------------------------------------------------------------------------------------
# Round trip

def test_the_conftest_points_the_tests_at_a_temporary_library(fresh_library):
    # (imported from conftest, the name would be the browser tests' conftest in a full run)
    assert os.environ.get(library.ENV_VAR) == str(fresh_library)
    path = library.from_env().path
    assert library.default_path() != path and REPO not in path.parents


def test_save_list_get_delete_round_trip(lib):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    saved, token = lib.save(mine(), BASELINE, author=" 张三 ", note="第一行\n第二行 ")
    assert library.ID_PATTERN.fullmatch(saved.id)
    assert (saved.entry.name, saved.entry.author, saved.entry.note) == ("mine", "张三", "第一行\n第二行")
    assert before <= saved.entry.created <= datetime.now(timezone.utc)
    assert lib.entries() == [saved.entry]
    got = lib.get(saved.id)
    assert got == saved
    assert got.scenario == mine() and got.reference == BASELINE
    assert got.scenario.levers["sme_campaign"] == (12.0,) * 3
    lib.delete(saved.id, token)
    assert lib.entries() == [] and lib.count() == 0
    with pytest.raises(library.UnknownScenario, match=f"no saved scenario has id '{saved.id}'"):
        lib.get(saved.id)


def test_a_new_connection_sees_the_rows_as_after_a_reload_or_restart(lib, location):
    first, _ = lib.save(mine("a", 2.0), BASELINE)
    second, _ = lib.save(mine("b", 4.0), AMBITIOUS, author="李四")
    # a new object, as after a server restart (a SQLite file named by its URL this time)
    again = Library(location if lib.path is None else f"sqlite:///{lib.path}")
    assert (again.path, again.where) == (lib.path, lib.where)
    assert [e.id for e in again.entries()] == [second.id, first.id]  # newest first
    assert again.get(second.id) == second and again.get(first.id) == first


def test_yaml_text_is_validated_and_stored_as_given(lib, behind):
    text = "# made by hand\nname: hand\nlevers:\n  hte_reward: 40\n"
    saved, _ = lib.save(text, BASELINE.to_yaml())
    assert saved.scenario == loads(text) and saved.reference == BASELINE
    assert behind.query("SELECT scenario_yaml FROM scenarios") == [(text,)]


@pytest.mark.parametrize("text, message", [
    ("name: x\nlevers: {nope: 1}\n", "unknown lever"),
    ("name: x\nlevers: {hte_reward: 1e9}\n", "out of range"),
    ("name: [unclosed\n", "malformed YAML"),
], ids=["unknown-lever", "out-of-range", "malformed"])
def test_an_invalid_scenario_is_refused_on_the_way_in(lib, text, message):
    with pytest.raises(ScenarioError, match=message):
        lib.save(text, BASELINE)
    assert lib.count() == 0


# --------------------------------------------------------------------------------------------
# Limits

@pytest.mark.parametrize("field, value, message", [
    ("author", "x" * (library.MAX_AUTHOR_CHARS + 1), "field 'author'.* at most 64 allowed"),
    ("author", "a\nb", "field 'author': character U\\+000A"),
    ("note", "n" * (library.MAX_NOTE_CHARS + 1), "field 'note'.* at most 1,000 allowed"),
    ("note", "bidi \u202e", "field 'note': character U\\+202E"),
    ("author", 7, "field 'author'.* is not text"),
], ids=["long-author", "multiline-author", "long-note", "bidi-note", "number-author"])
def test_fields_over_their_limits_are_refused_in_one_line(lib, field, value, message):
    with pytest.raises(LibraryError, match=message) as info:
        lib.save(mine(), BASELINE, **{field: value})
    assert "\n" not in str(info.value)
    assert lib.count() == 0


def test_a_name_follows_the_scenario_files_rules(lib):
    with pytest.raises(ScenarioError, match="field 'name'"):
        lib.save(f"name: {'n' * 65}\n", BASELINE)


def test_yaml_over_its_size_limit_is_refused_before_parsing(lib):
    text = "name: big\ndescription: " + "x" * library.MAX_YAML_BYTES + "\n"
    with pytest.raises(LibraryError, match="bytes of YAML; at most 100,000 allowed"):
        lib.save(text, BASELINE)


def test_a_full_library_refuses_a_save_and_keeps_its_rows(location):
    lib = Library(location, max_scenarios=3)
    for k in range(3):
        lib.save(mine(f"s{k}"), BASELINE)
    with pytest.raises(library.LibraryFull, match="holds 3 scenarios, the most allowed"):
        lib.save(mine("s3"), BASELINE)
    assert [e.name for e in lib.entries()] == ["s2", "s1", "s0"]


# --------------------------------------------------------------------------------------------
# Deleting

def test_only_the_token_of_the_save_deletes_a_row(lib):
    saved, token = lib.save(mine(), BASELINE)
    other, other_token = lib.save(mine("other"), BASELINE)
    for wrong in (other_token, "", token[:-1] + ("A" if token[-1] != "A" else "B")):
        with pytest.raises(LibraryError, match="only the session that saved it can delete it"):
            lib.delete(saved.id, wrong)
    assert lib.count() == 2
    lib.delete(saved.id, token)
    assert [e.id for e in lib.entries()] == [other.id]
    with pytest.raises(library.UnknownScenario):
        lib.delete(saved.id, token)


def test_purge_deletes_without_a_token(lib):
    saved, _ = lib.save(mine(), BASELINE)
    assert lib.purge(saved.id) is True
    assert lib.purge(saved.id) is False and lib.count() == 0


@pytest.mark.parametrize("bad", ["short", "x" * 13, "abc/def?ghi=", "../../etc/pa", "ａｂｃｄｅｆｇｈｉｊｋｌ"],
                         ids=["short", "long", "punctuation", "path", "fullwidth"])
def test_malformed_ids_are_refused_before_any_lookup(lib, behind, bad):
    for call in (lib.get, lib.purge, lambda i: lib.delete(i, "t")):
        with pytest.raises(LibraryError, match="is not the id of a saved scenario"):
            call(bad)
    assert not behind.created()  # nothing was opened for a malformed id


# --------------------------------------------------------------------------------------------
# Damaged rows: reported, never crashed on

def skip_bytes_in_postgres(lib: Library, value) -> None:
    if lib.dialect == "postgresql" and isinstance(value, bytes):
        pytest.skip("PostgreSQL keeps a TEXT column text: bytes cannot be written into it")


@pytest.mark.parametrize("column, value, message", [
    ("scenario_yaml", "name: mine\nlevers: {removed_lever: 1}\n", "unknown lever"),
    ("scenario_yaml", "name: [mine\n", "malformed YAML"),
    ("scenario_yaml", b"name: mine\n", "not text"),
    ("scenario_yaml", "name: another\n", "names another scenario"),
    ("reference_yaml", "name: baseline\nassumptions: {gdp_growth: 99}\n", "out of range"),
], ids=["removed-lever", "malformed", "blob", "other-name", "reference-out-of-range"])
def test_a_row_whose_yaml_no_longer_validates_is_reported(lib, behind, column, value, message):
    skip_bytes_in_postgres(lib, value)
    saved, _ = lib.save(mine(), BASELINE)
    sound, _ = lib.save(mine("sound"), BASELINE)
    execute(behind, f"UPDATE scenarios SET {column} = ? WHERE id = ?", value, saved.id)
    with pytest.raises(LibraryError, match=message) as info:
        lib.get(saved.id)
    text = str(info.value)
    assert text.startswith(f"library: saved scenario '{saved.id}' is damaged") and "\n" not in text
    assert [e.id for e in lib.entries()] == [sound.id, saved.id]  # still listed
    assert lib.get(sound.id) == sound  # the others still open


@pytest.mark.parametrize("column, value, message", [
    ("author", "bad\u202eauthor", "field 'author': character U\\+202E"),
    ("created", "yesterday", "field 'created': value 'yesterday' is not a date"),
    ("created", b"\x00\xff", "field 'created': value b'.*' is not a date"),
    ("name", "a,b", "field 'name'"),
    ("id", "not-an-id", "is not the id of a saved scenario"),
], ids=["author-bidi", "date-text", "date-blob", "name-comma", "id"])
def test_a_row_with_damaged_fields_is_listed_with_its_problem(lib, behind, column, value, message):
    skip_bytes_in_postgres(lib, value)
    saved, _ = lib.save(mine(), BASELINE)
    execute(behind, f"UPDATE scenarios SET {column} = ? WHERE id = ?", value, saved.id)
    [entry] = lib.entries()
    assert entry.problem and "\n" not in entry.problem
    assert "is damaged" in entry.problem and re.search(message, entry.problem)
    if column != "id":
        with pytest.raises(LibraryError, match="is damaged"):
            lib.get(saved.id)


# --------------------------------------------------------------------------------------------
# Concurrency: several server threads and processes on one database

def test_two_threads_saving_at_once_keep_every_row(lib):
    per_thread, barrier, failures = 15, threading.Barrier(2), []

    def work(tag: str) -> None:
        try:
            barrier.wait()
            for k in range(per_thread):
                lib.save(mine(f"{tag}{k}", float(k % 20)), BASELINE, author=tag)
                lib.entries()  # readers and writers interleave
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    entries = lib.entries()
    assert len(entries) == 2 * per_thread == len({e.id for e in entries})
    assert sorted(e.name for e in entries) == sorted(f"{t}{k}" for t in "ab" for k in range(per_thread))


def at_once(*calls) -> list[BaseException]:
    """Run each of ``calls`` in its own thread, all released together; the exceptions raised."""
    barrier, failures = threading.Barrier(len(calls)), []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
        except Exception as exc:  # pragma: no cover - reported by the caller
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_threads_opening_a_new_file_at_once_all_succeed(tmp_path):
    """The first use of a new SQLite file switches it to WAL mode, which SQLite refuses at once
    ("database is locked", no busy wait) while another connection holds a lock: threads of one
    server, and servers, opening a new library together must all succeed."""
    for round_ in range(12):
        lib = Library(tmp_path / f"new{round_}.sqlite3")
        assert at_once(*[lib.entries] * 4) == [], f"round {round_}: one object"
        others = [Library(tmp_path / f"shared{round_}.sqlite3") for _ in range(3)]
        assert at_once(*[one.entries for one in others]) == [], f"round {round_}: three objects"


def _save_in_process(location: str, tag: str, n: int) -> None:
    lib = Library(location)
    for k in range(n):
        lib.save(mine(f"{tag}{k}"), BASELINE)


def test_two_processes_saving_at_once_keep_every_row(lib, location):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_save_in_process, args=(location, tag, 8)) for tag in "pq"]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert sorted(e.name for e in lib.entries()) == sorted(f"{t}{k}" for t in "pq" for k in range(8))


#: How another connection takes the write lock a save waits for, and what the timeout says.
WRITE_LOCKS = {"sqlite": (("BEGIN IMMEDIATE",), "database is locked"),
               "postgresql": (("BEGIN", "LOCK TABLE scenarios IN SHARE ROW EXCLUSIVE MODE"),
                              "canceling statement due to lock timeout")}


def test_a_write_waits_for_another_writers_lock_and_reads_do_not(lib, location, behind,
                                                                   monkeypatch):
    lib.save(mine("first"), BASELINE)
    monkeypatch.setattr(library, "BUSY_TIMEOUT_S", 0.2)
    statements, message = WRITE_LOCKS[lib.dialect]
    holder = behind.connect()
    try:
        for statement in statements:  # another process holds the write lock …
            holder.execute(statement)
        with pytest.raises(LibraryUnavailable, match=message) as info:
            Library(location).save(mine("second"), BASELINE)  # … past the busy timeout
        assert "\n" not in str(info.value)
        assert [e.name for e in lib.entries()] == ["first"]  # readers go on
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    Library(location).save(mine("second"), BASELINE)  # and once it is released, goes through
    assert lib.count() == 2


# --------------------------------------------------------------------------------------------
# Locations and schema

@pytest.mark.parametrize("url, scheme", [
    ("postgresql+psycopg://user@db.example/guangyuan", "postgresql+psycopg"),
    ("mysql+pymysql://u:p@h/db", "mysql+pymysql"),
    ("https://example.org/library.db", "https"),
], ids=["sqlalchemy-postgresql", "mysql", "https"])
def test_urls_of_other_databases_are_refused_by_scheme(url, scheme):
    with pytest.raises(LibraryUnavailable) as info:
        Library(url)
    assert str(info.value) == (f"GUANGYUAN_LIBRARY: URL scheme '{scheme}' is not supported; "
                               "allowed a file path, sqlite:///PATH or "
                               "postgresql://USER@HOST[:PORT]/DBNAME")


@pytest.mark.parametrize("url", ["sqlite://host/lib.db", "sqlite:///:memory:", "sqlite:///",
                                 "sqlite:///lib.db?mode=ro"],
                         ids=["host", "memory", "no-file", "options"])
def test_sqlite_urls_without_a_plain_file_are_refused(url):
    with pytest.raises(LibraryUnavailable, match="is not a SQLite file URL"):
        Library(url)


@pytest.mark.parametrize("location, expected", [
    ("sqlite:////abs/lib.db", Path("/abs/lib.db")),
    ("sqlite:///rel/lib.db", Path("rel/lib.db")),
    ("/abs/lib.db", Path("/abs/lib.db")),
    ("rel.db", Path("rel.db")),
], ids=["sqlite-absolute", "sqlite-relative", "path-absolute", "path-relative"])
def test_locations_resolve_as_sqlalchemy_writes_them(location, expected):
    assert library.resolve(location) == expected


def test_the_default_is_under_the_users_data_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(library.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert library.resolve(None) == tmp_path / "guangyuan-sim" / "library.sqlite3"
    assert library.resolve("") == library.default_path()
    monkeypatch.delenv(library.ENV_VAR)
    assert library.from_env().path == tmp_path / "guangyuan-sim" / "library.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert library.default_path() == Path.home() / ".local/share/guangyuan-sim/library.sqlite3"


def test_nothing_is_created_until_the_first_operation(tmp_path):
    lib = Library(tmp_path / "a" / "b" / "lib.sqlite3")
    assert not (tmp_path / "a").exists()
    assert lib.entries() == [] and lib.schema_version() == library.SCHEMA_VERSION


def test_a_file_that_is_not_a_database_is_reported_in_one_line(tmp_path):
    path = tmp_path / "lib.sqlite3"
    path.write_bytes(b"not a database, just text" * 100)
    with pytest.raises(LibraryUnavailable, match="file is not a database") as info:
        Library(path).entries()
    assert "\n" not in str(info.value)


def test_a_library_of_a_newer_schema_is_refused(lib, location, behind):
    lib.save(mine(), BASELINE)
    behind.set_version(library.SCHEMA_VERSION + 1)
    with pytest.raises(LibraryUnavailable, match="written by a newer version"):
        Library(location).entries()


def test_an_older_library_is_migrated_on_first_use_and_keeps_its_rows(lib, location, behind,
                                                                      monkeypatch):
    saved, _ = lib.save(mine(), BASELINE)
    migrations = {**library.MIGRATIONS,
                  2: ("ALTER TABLE scenarios ADD COLUMN tags TEXT NOT NULL DEFAULT ''",)}
    monkeypatch.setattr(library, "MIGRATIONS", migrations)
    monkeypatch.setattr(library, "SCHEMA_VERSION", 2)
    newer = Library(location)
    assert newer.get(saved.id) == saved and newer.schema_version() == 2
    assert behind.columns()[-1] == "tags"


def test_a_failing_migration_leaves_the_library_as_it_was(lib, location, behind, monkeypatch):
    lib.save(mine(), BASELINE)
    migrations = {**library.MIGRATIONS,
                  2: ("ALTER TABLE scenarios ADD COLUMN tags TEXT", "NOT SQL AT ALL")}
    monkeypatch.setattr(library, "MIGRATIONS", migrations)
    monkeypatch.setattr(library, "SCHEMA_VERSION", 2)
    with pytest.raises(LibraryUnavailable, match="syntax error"):
        Library(location).entries()
    assert "tags" not in behind.columns()
    monkeypatch.undo()
    again = Library(location)
    assert again.schema_version() == 1 and again.count() == 1


# --------------------------------------------------------------------------------------------
# The app's view

def test_entries_frame_lists_every_row_and_marks_a_damaged_one(lib, behind):
    saved, _ = lib.save(mine(), BASELINE, author="张三", note="备注")
    broken, _ = lib.save(mine("broken"), BASELINE)
    execute(behind, "UPDATE scenarios SET created = 'x' WHERE id = ?", broken.id)
    frame = library.entries_frame(lib.entries(), "zh")
    assert list(frame.columns) == ["方案名称", "作者", "保存时间(UTC)", "备注", "比较基准", "编号"]
    rows = {row["编号"]: row for row in frame.to_dict("records")}
    assert rows[saved.id]["作者"] == "张三" and rows[saved.id]["比较基准"] == "baseline"  # no titles
    titled = library.entries_frame(lib.entries(), "zh", {"baseline": "基准情景"})
    assert {row["编号"]: row for row in titled.to_dict("records")}[saved.id]["比较基准"] == "基准情景"
    assert rows[saved.id]["保存时间(UTC)"] == saved.entry.created.strftime("%Y-%m-%d %H:%M")
    # the problem in the page's language, its quoted parts kept
    assert rows[broken.id]["备注"] == (f"⚠ 已损坏，无法打开: 方案库：已保存的方案 '{broken.id}' 已损坏："
                                     "字段 'created'：值 'x' 不是日期；允许 YYYY-MM-DDTHH:MM:SSZ(UTC)")
    english = library.entries_frame(lib.entries(), "en")
    assert english.set_index("ID").at[broken.id, "Note"].startswith(
        "⚠ damaged, cannot be opened: library: saved scenario")
    assert library.entry_label(saved.entry, "en").startswith("mine · 张三 · ")
    assert library.entry_label(broken.entry, "en").startswith("broken · anonymous · ")


def test_dates_are_stored_in_utc(lib):
    saved, _ = lib.save(mine(), BASELINE)
    assert saved.entry.created.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------------------------
# SQLite only

def test_the_sqlite_database_runs_in_wal_mode(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    lib.save(mine(), BASELINE)
    con = sqlite3.connect(lib.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# PostgreSQL only: the URL, the password, the server's refusals, several servers at once

@pytest.fixture
def pg(postgres_server):
    """The session's PostgreSQL server and a new database on it (its name)."""
    return postgres_server, postgres_server.create_database()


def assert_no_password(text: str, *secrets: str) -> None:
    for secret in (PASSWORD, quote(PASSWORD, safe=""), *secrets):
        assert secret not in text


def test_both_databases_hold_the_same_table(tmp_path, pg):
    server, dbname = pg
    sqlite_lib, pg_lib = Library(tmp_path / "lib.sqlite3"), Library(server.url(dbname))
    for one in (sqlite_lib, pg_lib):
        one.save(mine(), BASELINE)
    assert (Behind(str(sqlite_lib.path)).columns() == Behind(server.url(dbname)).columns()
            == ["seq", "id", "name", "author", "created", "note", "scenario_yaml",
                "reference_name", "reference_yaml", "token_sha256"])
    tables = Behind(server.url(dbname)).query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "ORDER BY table_name")
    assert tables == [("library_schema",), ("scenarios",)]
    assert pg_lib.schema_version() == sqlite_lib.schema_version() == library.SCHEMA_VERSION


def test_a_password_in_the_url_is_never_shown(pg, caplog):
    server, dbname = pg
    caplog.set_level(logging.DEBUG)  # every logger, the driver's included
    lib = Library(server.url(dbname))
    assert lib.where == f"postgresql://postgres@127.0.0.1:{server.port}/{dbname}"
    saved, _ = lib.save(mine(), BASELINE)
    assert lib.get(saved.id) == saved
    wrong = "Wrong-pw-7c1e"
    failures = [Library(server.url(dbname, password=wrong)),  # authentication fails
                Library(server.url("no_such_database")),
                Library(server.url(dbname).replace(f":{server.port}/", f":{free_port()}/"))]
    texts = [repr(lib), lib.where]
    for failing in failures:
        with pytest.raises(LibraryUnavailable) as info:
            failing.entries()
        logging.getLogger("simulator.app").error("scenario library: %s", info.value,
                                                 exc_info=info.value)  # as the app logs it
        texts += [repr(failing), str(info.value), "".join(traceback.format_exception(info.value))]
    assert_no_password("\n".join(texts) + caplog.text, wrong)
    assert caplog.text.count("scenario library:") == len(failures)  # the logging did happen


@pytest.mark.parametrize("case, message", [
    ("refused", "Connection refused"),
    ("authentication", 'password authentication failed for user "postgres"'),
    ("missing-database", 'database "no_such_database" does not exist'),
], ids=["refused", "authentication", "missing-database"])
def test_a_server_that_refuses_is_reported_in_one_line_naming_host_port_and_database(
        pg, case, message):
    server, dbname = pg
    port, password = server.port, PASSWORD
    if case == "refused":
        port = free_port()
    elif case == "authentication":
        password = "not-the-password"
    else:
        dbname = "no_such_database"
    url = f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{port}/{dbname}"
    with pytest.raises(LibraryUnavailable) as info:
        Library(url).save(mine(), BASELINE)
    text = str(info.value)
    assert text.startswith(f"library postgresql://postgres@127.0.0.1:{port}/{dbname}: ")
    assert message in text and "\n" not in text and "\t" not in text
    assert_no_password(text, password)


def test_two_libraries_on_one_database_see_each_others_saves(pg):
    server, dbname = pg
    # two server processes behind a proxy: one over TCP with a password, one over the socket
    first, second = Library(server.url(dbname)), Library(server.socket_url(dbname))
    assert second.where == (f"postgresql://postgres@/{dbname}?host={server.root}"
                            f"&port={server.port}")
    a, a_token = first.save(mine("a"), BASELINE)
    b, b_token = second.save(mine("b"), AMBITIOUS)
    assert [e.id for e in first.entries()] == [e.id for e in second.entries()] == [b.id, a.id]
    assert first.get(b.id) == b and second.get(a.id) == a
    with pytest.raises(LibraryError, match="only the session that saved it can delete it"):
        second.delete(a.id, b_token)
    second.delete(a.id, a_token)  # the token, not the server process, decides
    assert [e.id for e in first.entries()] == [b.id]


def test_servers_starting_at_once_migrate_the_database_once(pg):
    server, dbname = pg
    url, results = server.url(dbname), []
    failures = at_once(*[lambda: results.append(Library(url).schema_version())] * 4)
    assert failures == [] and results == [library.SCHEMA_VERSION] * 4
    assert Behind(url).query("SELECT version FROM library_schema") == [(library.SCHEMA_VERSION,)]


@pytest.mark.parametrize("url, message", [
    ("postgresql://u:s%zzcret@db.example/gy", 'does not parse: invalid percent-encoded token'),
    ("postgresql://u:secret@[::1/gy", "does not parse: end of string reached"),
    ("postgres://u@db.example/gy?password=secret&nope=1", 'invalid URI query parameter: "nope"'),
    ("postgresql://u:secret@db.example", "names no database"),
], ids=["percent-encoding", "ipv6", "query", "no-database"])
def test_a_malformed_postgresql_url_is_refused_before_connecting(url, message):
    require_psycopg()
    with pytest.raises(LibraryUnavailable, match=message) as info:
        Library(url)
    text = str(info.value)
    assert text.startswith("GUANGYUAN_LIBRARY: ") and "\n" not in text
    assert "secret" not in text and "s%zzcret" not in text


def test_a_password_libpq_misreads_stays_hidden():
    require_psycopg()
    lib = Library("postgresql://app:pa55/w0rd@db.example/gy")  # "/" not percent-encoded
    assert "pa55" not in repr(lib) and "w0rd" not in repr(lib) and "***" in lib.where


def test_postgres_is_an_alias_and_nothing_is_opened_until_used():
    require_psycopg()
    lib = Library("postgres://app:pw@db.example:6543/gy?sslmode=require")
    assert (lib.dialect, lib.path, lib.where) == ("postgresql", None,
                                                  "postgresql://app@db.example:6543/gy")


def test_without_psycopg_a_postgresql_url_says_how_to_install_it(monkeypatch):
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    with pytest.raises(LibraryUnavailable) as info:
        Library("postgresql://app:pw@db.example/gy")
    assert str(info.value) == ("GUANGYUAN_LIBRARY: a postgresql:// URL needs the psycopg "
                               "package, which is not installed; install it with "
                               'pip install -e ".[postgres]"')


def test_without_postgresql_its_tests_skip_unless_ci_requires_them(monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server here"):
        unavailable("no server here")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception,
                       match=r"no server here \(and GUANGYUAN_REQUIRE_POSTGRES=1 requires"):
        unavailable("no server here")
