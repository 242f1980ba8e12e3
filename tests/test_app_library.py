"""The scenario library in the app (AppTest) and in the link (``simulator.app.links``).

``tests/conftest.py`` points ``$GUANGYUAN_LIBRARY`` at a fresh temporary file for every test,
so these sessions never see the user's library, nor each other's rows; the PostgreSQL case
uses a new database on the session's throwaway server (``tests/pgserver.py``).
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from simulator.app import i18n, library, links, session, untrusted
from simulator.plan import tables

from pgserver import PASSWORD, free_port, require_psycopg
from pgserver import postgres_server  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
TIMEOUT = 60
PRESETS = session.load_presets(REPO / "scenarios")


#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")


def start(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def select_tab(at: AppTest, key: str) -> AppTest:
    at.session_state["w_tab"] = i18n.ui(f"tab_{key}", at.session_state["_lang"])
    return rerun(at)


def save(at: AppTest, name: str, author: str = "", note: str = "") -> AppTest:
    select_tab(at, "compare")
    at.text_input(key="w_save_name").set_value(name)
    at.text_input(key="w_save_author").set_value(author)
    at.text_area(key="w_save_note").set_value(note)
    rerun(at)
    at.button(key="w_save").click()
    return rerun(at)


def heading(at: AppTest) -> str:
    """The line naming the current scenario above the counts."""
    return next(m.value for m in at.markdown if m.value.startswith("#### "))


def library_table(at: AppTest):
    return next(df.value for df in at.dataframe if "编号" in df.value.columns)


def link_warning(at: AppTest) -> str:
    assert len(at.warning) == 1
    return at.warning[0].value


# --------------------------------------------------------------------------------------------
# The link, as pure functions

def _saved_row(tmp_path, reference="ambitious"):
    lib = library.Library(tmp_path / "lib.sqlite3")
    scn = PRESETS["plan"].with_levers("方案甲", sme_campaign=12, tech_loans=(3, 5, 8))
    saved, _ = lib.save(scn, PRESETS[reference], author="王五")
    return lib, saved


def test_a_saved_link_opens_the_row_with_its_reference(tmp_path):
    lib, saved = _saved_row(tmp_path)
    state = links.decode_query({"saved": saved.id}, PRESETS, open_saved=lib.get)
    assert state.errors == ()
    assert state.preset == session.SAVED_PREFIX + saved.id and state.opened == saved.scenario
    assert state.levers == dict(saved.scenario.levers) and state.reference == "ambitious"
    query = links.encode_query(state.levers, state.assumptions, preset=state.preset,
                               presets=PRESETS, session_presets={state.preset: state.opened},
                               reference=state.reference, default_reference="ambitious")
    assert query == {"saved": saved.id}


def test_a_saved_link_with_moves_and_another_reference_round_trips(tmp_path):
    lib, saved = _saved_row(tmp_path)
    moved = {**saved.scenario.levers, "hte_reward": (40.0,) * 3}
    key = session.SAVED_PREFIX + saved.id
    query = links.encode_query(moved, saved.scenario.assumptions, preset=key, presets=PRESETS,
                               session_presets={key: saved.scenario}, reference="baseline",
                               default_reference="ambitious")
    assert query == {"saved": saved.id, "ref": "baseline", "hte_reward": "40"}
    state = links.decode_query(query, PRESETS, open_saved=lib.get)
    assert state.errors == () and state.levers == moved and state.reference == "baseline"


@pytest.mark.parametrize("value, message", [
    ("AAAAAAAAAAAA", "field 'saved': no saved scenario has id 'AAAAAAAAAAAA'"),
    ("../etc", "field 'saved': id '../etc' is not the id of a saved scenario"),
    ("[x](https://e.example)", "is not the id of a saved scenario"),
], ids=["unknown", "path", "markdown"])
def test_a_bad_saved_id_is_reported_never_guessed(tmp_path, value, message):
    lib, _ = _saved_row(tmp_path)
    state = links.decode_query({"saved": value, "sme_campaign": "12"}, PRESETS, open_saved=lib.get)
    assert len(state.errors) == 1 and message in state.errors[0]
    assert state.preset == session.DEFAULT_PRESET and state.opened is None
    assert state.levers["sme_campaign"] == (12.0,) * 3  # the rest of the link still applies


def test_a_saved_link_without_a_library_says_so_without_server_paths(tmp_path):
    def broken(_id):
        raise library.LibraryUnavailable(f"library {tmp_path}: disk I/O error")
    state = links.decode_query({"saved": "AAAAAAAAAAAA"}, PRESETS, open_saved=broken)
    assert state.errors == ("link: field 'saved': value 'AAAAAAAAAAAA' cannot be opened: the "
                            "scenario library is unavailable on this server",)


def test_a_saved_link_refuses_a_second_starting_scenario(tmp_path):
    lib, saved = _saved_row(tmp_path)
    state = links.decode_query({"saved": saved.id, "preset": "ambitious", "upload": "x",
                                "title_zh": "标题"}, PRESETS, open_saved=lib.get)
    assert state.preset == session.SAVED_PREFIX + saved.id
    assert [e.split(":")[1].strip() for e in state.errors] == [
        "field 'preset'", "field 'upload'", "field 'title_zh'"]


def test_an_uploaded_scenarios_link_keeps_its_name_titles_and_reference():
    uploaded = PRESETS["plan"].with_levers("my-plan", sme_campaign=14)
    uploaded = session.scenario_mod.from_dict(
        {**uploaded.to_dict(), "title_zh": "我的方案(草稿)", "title_en": "My plan",
         "description": "not carried"}, source="test")
    key = session.UPLOAD_PREFIX + uploaded.name
    query = links.encode_query(uploaded.levers, uploaded.assumptions, preset=key, presets=PRESETS,
                               session_presets={key: uploaded}, reference="ambitious")
    assert query == {"upload": "my-plan", "title_zh": "我的方案(草稿)", "title_en": "My plan",
                     "ref": "ambitious", "sme_campaign": "14"}
    state = links.decode_query(query, PRESETS)
    assert state.errors == () and state.preset == key and state.reference == "ambitious"
    assert (state.opened.title_zh, state.opened.title_en) == ("我的方案(草稿)", "My plan")
    assert state.opened.levers == uploaded.levers and state.opened.description == ""


@pytest.mark.parametrize("params, message, preset", [
    ({"upload": "a,b"}, "field 'upload': value 'a,b' is not allowed", session.DEFAULT_PRESET),
    ({"upload": "x", "title_zh": "a\u202eb"}, "field 'title_zh': character U+202E",
     session.UPLOAD_PREFIX + "x"),
    ({"upload": "x", "title_en": "t" * 201}, "field 'title_en'", session.UPLOAD_PREFIX + "x"),
    ({"title_zh": "无上传"}, "field 'title_zh': allowed only with 'upload'", session.DEFAULT_PRESET),
    ({"ref": "nope"}, "field 'ref': value 'nope' is unknown", session.DEFAULT_PRESET),
], ids=["bad-name", "bidi-title", "long-title", "title-alone", "unknown-ref"])
def test_bad_upload_title_and_reference_parameters_are_reported(params, message, preset):
    state = links.decode_query(params, PRESETS)
    assert len(state.errors) == 1 and message in state.errors[0], state.errors
    assert state.preset == preset and state.reference == session.REFERENCE_PRESET


# --------------------------------------------------------------------------------------------
# The app

def test_a_saved_scenario_is_there_after_a_reload_and_a_server_restart(fresh_library,
                                                                        monkeypatch):
    first = start()
    first.slider(key="w_sme_campaign").set_value(12.0)
    rerun(first)
    save(first, "方案甲", author="张三", note="第一行\n第二行")
    [saved_id] = first.session_state["_compare"]
    reload = select_tab(start(), "compare")  # a new session: what a reload is
    table = library_table(reload)
    assert table.to_dict("records") == [{
        "方案名称": "方案甲", "作者": "张三",
        "保存时间(UTC)": library.from_env().entries()[0].created.strftime("%Y-%m-%d %H:%M"),
        "备注": "第一行 第二行", "比较基准": "基准情景", "编号": saved_id}]  # the preset's title
    assert reload.session_state["_compare"] == []  # compared in the session that saved it only
    # a server restart: a new library object and new connections on the same file (the URL
    # form of the path is another key of the app's cache_resource, so the app makes one)
    monkeypatch.setenv(library.ENV_VAR, f"sqlite:///{fresh_library}")
    restarted = select_tab(start(), "compare")
    assert list(library_table(restarted)["编号"]) == [saved_id]
    assert fresh_library.exists()


def test_two_servers_on_one_postgresql_library_share_its_scenarios(postgres_server,
                                                                   monkeypatch):
    dbname = postgres_server.create_database()
    monkeypatch.setenv(library.ENV_VAR, postgres_server.url(dbname))
    first = start()
    save(first, "方案丙", author="赵六")
    [saved_id] = first.session_state["_compare"]
    # another server process, here over the Unix socket (another key of the app's cache)
    monkeypatch.setenv(library.ENV_VAR, postgres_server.socket_url(dbname))
    other = select_tab(start({"saved": saved_id}), "compare")
    assert heading(other) == f"#### {i18n.ui('current', 'zh')} · 方案丙"
    assert [(r["编号"], r["作者"]) for r in library_table(other).to_dict("records")] == [
        (saved_id, "赵六")]


def test_a_saved_link_opens_the_scenario_with_its_title_and_reference():
    first = start({"ref": "ambitious"})
    first.slider(key="w_hte_reward").set_value(44.0)
    rerun(first)
    save(first, "方案乙")
    saved_id = first.session_state["_compare"][0]
    at = start({"saved": saved_id})
    assert heading(at) == f"#### {i18n.ui('current', 'zh')} · 方案乙"
    assert at.session_state["_preset"] == session.SAVED_PREFIX + saved_id
    assert at.session_state["_levers"]["hte_reward"] == (44.0,) * 3
    assert at.session_state["_reference"] == "ambitious"
    assert at.query_params == {"saved": saved_id}  # the link stays as it was
    assert not at.warning
    assert at.selectbox(key="w_preset").value == session.SAVED_PREFIX + saved_id
    at.slider(key="w_sme_campaign").set_value(10.0)
    rerun(at)  # moves are written as differences from the saved scenario
    assert at.query_params == {"saved": saved_id, "sme_campaign": "10"}
    assert heading(at).endswith(untrusted.md_text(f"({i18n.ui('modified', 'zh')})"))


@pytest.mark.parametrize("value, message", [
    ("AAAAAAAAAAAA", "没有编号为 'AAAAAAAAAAAA' 的已保存方案"),
    ("nope", "编号 'nope' 不是已保存方案的编号"),
], ids=["unknown", "malformed"])
def test_a_bad_saved_id_in_the_link_is_reported_and_the_page_works(value, message):
    at = start({"saved": value})  # reported in the page's language, the id kept
    assert untrusted.md_text(message) in link_warning(at)
    assert at.session_state["_preset"] == session.DEFAULT_PRESET
    assert at.query_params == {}


def test_an_uploaded_scenarios_link_reopens_with_its_title_and_reference():
    text = yaml.safe_dump({"name": "my-plan", "title_zh": "我的方案", "title_en": "My plan",
                           "levers": {"sme_campaign": 14, "tech_loans": [3, 5, 8]}},
                          allow_unicode=True)
    at = start()
    at.file_uploader(key="w_upload").upload("my.yaml", text.encode(), "application/x-yaml")
    rerun(at)
    select_tab(at, "trajectories")
    at.selectbox(key="w_reference").set_value("ambitious")
    rerun(at)
    query = dict(at.query_params)
    assert query["upload"] == "my-plan" and query["title_zh"] == "我的方案"
    assert query["title_en"] == "My plan" and query["ref"] == "ambitious"
    shared = start(query)
    assert not shared.warning
    assert heading(shared) == f"#### {i18n.ui('current', 'zh')} · 我的方案"
    assert shared.session_state["_preset"] == "upload:my-plan"
    assert shared.session_state["_reference"] == "ambitious"
    assert shared.session_state["_levers"] == at.session_state["_levers"]
    assert dict(shared.query_params) == query
    ref_name = session.short_title(PRESETS["ambitious"], "zh")
    assert shared.metric[0].delta.endswith(i18n.ui("vs_reference", "zh", name=ref_name))
    english = start({**query, "lang": "en"})
    assert heading(english) == f"#### {i18n.ui('current', 'en')} · My plan"


def test_only_the_session_that_saved_a_scenario_can_delete_it():
    owner = start()
    save(owner, "方案丙")
    saved_id = owner.session_state["_compare"][0]
    other = select_tab(start(), "compare")
    other.multiselect(key="w_compare").set_value([saved_id])
    rerun(other)
    assert other.button(key="w_load_0") and not [b for b in other.button if b.key == "w_delete_0"]
    other.button(key="w_load_0").click()  # but it can open it
    rerun(other)
    assert other.session_state["_preset"] == session.SAVED_PREFIX + saved_id
    owner.button(key="w_delete_0").click()
    rerun(owner)
    assert library.from_env().count() == 0
    assert untrusted.md_text(i18n.ui("deleted_ok", "zh", name="方案丙")) in [s.value for s in owner.success]
    other.button(key="w_load_0").click()  # drawn before the delete: says what happened
    rerun(other)
    assert other.error[0].value == untrusted.md_text(i18n.ui("library_unknown", "zh", id=saved_id))
    assert other.session_state["_compare"] == [] and other.info  # and leaves the comparison


def test_a_damaged_row_is_marked_and_its_link_reported():
    owner = start()
    save(owner, "坏方案")
    saved_id = owner.session_state["_compare"][0]
    con = sqlite3.connect(library.from_env().path)
    with con:
        con.execute("UPDATE scenarios SET scenario_yaml = 'name: 坏方案\nlevers: {gone: 1}\n'")
    con.close()
    rerun(owner)  # compared: its line says it is damaged, the page works
    assert any("未知杠杆" in e.value for e in owner.error)
    at = start({"saved": saved_id})
    warning = link_warning(at)  # in the page's language, the id and the field kept
    # (the id as the page's Markdown escapes it: a random id may hold "_" and "-")
    assert "已损坏" in warning and "未知杠杆" in warning and untrusted.md_text(saved_id) in warning
    assert "is damaged" not in warning and "unknown lever" not in warning
    assert at.session_state["_preset"] == session.DEFAULT_PRESET


@pytest.mark.parametrize("kind", ["scheme", "postgresql-refused"],
                         ids=["scheme", "postgresql-refused"])
def test_a_library_that_cannot_be_opened_leaves_the_page_working(monkeypatch, caplog, kind):
    # a refused URL scheme; a PostgreSQL server that refuses the connection
    if kind == "scheme":
        url, reason = "mysql://db.example/guangyuan", "URL scheme 'mysql' is not supported"
    else:
        require_psycopg()
        url, reason = (f"postgresql://gy:{quote(PASSWORD, safe='')}@127.0.0.1:"
                       f"{free_port()}/guangyuan", "Connection refused")
    monkeypatch.setenv(library.ENV_VAR, url)
    caplog.set_level(logging.ERROR)
    at = select_tab(start({"saved": "AAAAAAAAAAAA"}), "compare")
    assert "方案库不可用" in link_warning(at)
    assert at.error[0].value == untrusted.md_text(i18n.ui("library_unavailable", "zh"))
    at.text_input(key="w_save_name").set_value("方案丁")
    rerun(at)
    at.button(key="w_save").click()
    rerun(at)
    assert untrusted.md_text(i18n.ui("library_unavailable", "zh")) in [e.value for e in at.error]
    assert tables.levers() and at.session_state["_compare"] == []
    assert reason in caplog.text  # the reason went to the server's log …
    for secret in (PASSWORD, quote(PASSWORD, safe="")):  # … without the password
        assert secret not in caplog.text


def test_a_full_library_says_so_in_the_pages_language(monkeypatch):
    monkeypatch.setattr(library, "MAX_SCENARIOS", 1)  # read when the library object is made
    at = start({"lang": "en"})
    save(at, "one")
    at.text_input(key="w_save_name").set_value("two")
    rerun(at)
    at.button(key="w_save").click()
    rerun(at)
    assert untrusted.md_text(i18n.ui("library_full", "en", n="1")) in [e.value for e in at.error]
    assert library.from_env().count() == 1
