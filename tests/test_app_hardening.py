"""Hardening of the Streamlit app (issue 11, part 2): what a hostile or careless visitor can
send — links, uploads, names — ends in the page they expect or one short message, never in
markup, a traceback or a broken session; the server's defaults are safe.

AppTest drives the real page for a handful of examples each; the Hypothesis properties go
through the :mod:`simulator.app` functions the page calls (``decode_query``, ``read_upload``,
``md_text``), which is where the work is and fast enough for hundreds of examples.
"""
from __future__ import annotations

import logging
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (README: 3.10+)
    import tomli as tomllib
import tracemalloc
from datetime import timedelta

import pytest
import streamlit as st
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from simulator.app import hooks, i18n, library, links, scorecards, session, untrusted
from simulator.base import inputs
from simulator.plan import scenario, tables

from test_app import (
    APP,
    REPO,
    SCENARIOS,
    TIMEOUT,
    expected_scorecard,
    rerun,
    scorecard_text,
    start,
)

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")

CONFIG = REPO / ".streamlit" / "config.toml"
#: Longest one-line message the app may show for a refused input (inputs.MAX_MESSAGE_CHARS and
#: the sentence around it).
MESSAGE_BUDGET = inputs.MAX_MESSAGE_CHARS
#: A generous per-example limit for the properties: it catches a hang or an expansion bomb, not
#: a slow machine (a valid upload takes milliseconds).
DEADLINE = timedelta(seconds=10)

#: Every ASCII punctuation character preceded by a backslash (a CommonMark escape).
_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="w_upload").upload(name, content, "application/x-yaml")
    return rerun(at)


def rendered_texts(at: AppTest) -> list[str]:
    """The source of every element that Streamlit renders as Markdown, except the app's own
    HTML (styles and scorecards, built with html.escape and tested in test_appsupport)."""
    kinds = ("markdown", "caption", "success", "error", "warning", "info", "title", "header",
             "subheader")
    out = []
    for kind in kinds:
        for element in at.get(kind):
            value = str(element.value)
            if "<style>" not in value and 'class="gy-card' not in value:
                out.append(value)
    return out


def assert_inert(markdown: str) -> None:
    """No link, image, HTML or autolink literal can form in ``markdown``: once the escaped
    characters are taken out, no bracket, parenthesis, angle bracket or bang is left, and the
    autolink starts (``://``, ``www.``, ``@host``) are broken."""
    rest = _ESCAPED.sub("", markdown)
    assert not re.search(r"[\[\]()<>!`]", rest), markdown
    assert "://" not in markdown and "www." not in markdown.lower(), markdown
    assert not re.search(r"@[\w-]", markdown), markdown


def texts_with(at: AppTest, word: str) -> list[str]:
    return [t for t in rendered_texts(at) if word in t]


# --------------------------------------------------------------------------------------------
# Server defaults

def test_server_listens_on_this_machine_and_never_shows_tracebacks():
    from streamlit.config import ShowErrorDetailsConfigOptions

    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    details = config["client"]["showErrorDetails"]
    assert details == ShowErrorDetailsConfigOptions.NONE.value == "none"


def test_streamlit_upload_limit_is_the_smallest_whole_number_above_the_apps():
    """Streamlit's own check must fire after the app's (1,000,000 bytes), so that a file just
    over 1 MB gets the app's message in the page's language. ``server.maxUploadSize`` is a
    whole number of megabytes, which Streamlit's browser code counts as 1000² bytes (1024² on
    Windows) and its server as 1024²: the smallest one above the app's limit is wanted."""
    mb = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    assert isinstance(mb, int)
    assert (mb - 1) * 1000**2 <= scenario.MAX_FILE_BYTES < mb * 1000**2


# --------------------------------------------------------------------------------------------
# Escaping: one helper, everywhere

@pytest.mark.parametrize("text", [
    "[click me](https://evil.example/phish)",
    "![x](http://127.0.0.1:9/p.png)",
    "<img src=x onerror=alert(1)>",
    "visit www.evil.example or mail me@evil.example",
    "**bold** _it_ `code` :red[red] $x^2$ &lt; # heading",
    "1. list\n- item\n\n> quote",
    "[ref]: https://evil.example",
], ids=["link", "image", "html", "autolinks", "inline", "blocks", "reference"])
def test_md_text_leaves_no_markup(text):
    out = untrusted.md_text(text)
    assert_inert(out)
    assert "\n" not in out
    # taking the escapes and zero-width spaces out gives back the text (on one line)
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", out).replace("\u200b", "") == \
        inputs.one_line(text)


@given(hs.text(max_size=300))
@settings(max_examples=300, deadline=DEADLINE)
def test_md_text_property(text):
    out = untrusted.md_text(text, limit=200)
    assert_inert(out)
    assert out.replace("\u200b", "").isprintable()
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", out).replace("\u200b", "") == \
        inputs.one_line(text, 200)
    out.encode("utf-8")  # no lone surrogate reaches the browser


def test_html_text_escapes_and_keeps_one_line():
    assert untrusted.html_text('<b a="1">\n\ud83d') == "&lt;b a=&quot;1&quot;&gt;\\n\\ud83d"


LINK_ATTACKS = {
    "link": {"[click me](https://evil.example/phish)": "1"},
    "image": {"![x](http://127.0.0.1:9/p.png)": "1"},
    "value": {"hte_reward": "[click me](https://evil.example/phish)"},
    "preset": {"preset": "<img src=x onerror=alert(1)>"},
}


@pytest.mark.parametrize("case", list(LINK_ATTACKS), ids=list(LINK_ATTACKS))
def test_a_link_cannot_put_markup_into_the_warning(case):
    query = LINK_ATTACKS[case]
    at = start(query)
    errors = links.decode_query(query, session.load_presets(SCENARIOS)).errors
    (warning,) = [w.value for w in at.warning]
    assert warning == untrusted.link_errors_markdown([i18n.detail(e, "zh") for e in errors],
                                                     "zh") and len(errors) == 1
    heading, blank, bullet = warning.split("\n")
    assert (heading, blank) == (i18n.ui("url_errors", "zh"), "") and bullet.startswith("- ")
    assert_inert(bullet[2:])
    for text in rendered_texts(at):  # and nothing else on the page quotes it unescaped
        rest = _ESCAPED.sub("", text)
        assert "](" not in rest and "<img" not in rest


def test_many_bad_link_parameters_give_a_short_warning():
    query = {f"[x{i}](https://evil.example/{i})": "1" * 5000 for i in range(50)}
    at = start(query)
    (warning,) = [w.value for w in at.warning]
    assert warning.count("\n- ") == 8 + 1  # eight listed, then how many more
    assert i18n.ui("url_errors_more", "zh", n=42) in warning
    assert len(warning) < 10 * 200


def test_a_link_with_very_many_parameters_is_read_in_bounded_time_and_space():
    params = {f"k{i}": "1" for i in range(100_000)}
    state = links.decode_query(params, session.load_presets(SCENARIOS))
    assert len(state.errors) == links.MAX_LINK_PARAMS + 1
    assert state.errors[0] == (f"{links.LINK_SOURCE}: 100,000 parameters; at most "
                               f"{links.MAX_LINK_PARAMS} are read (the first ones)")


def test_link_numbers_are_plain_decimals():
    presets = session.load_presets(SCENARIOS)
    for raw in ("1_0", "nan", "inf", "１２", "0x1E", "1:30"):
        state = links.decode_query({"hte_reward": raw}, presets)
        assert len(state.errors) == 1 and "is not a number" in state.errors[0], raw
    state = links.decode_query({"hte_reward": "3e1", "tech_loans": " 2.5 ,3,.5"}, presets)
    assert state.errors == ()
    assert state.levers["hte_reward"] == (30.0,) * 3
    assert state.levers["tech_loans"] == (2.5, 3.0, 0.5)


NAME_ATTACKS = {
    "link": "[click me](https://evil.example/phish)",
    "image": "![x](http://127.0.0.1:9/p.png)",
    "html": "<img src=x onerror=alert(1)>",
}


@pytest.mark.parametrize("case", list(NAME_ATTACKS), ids=list(NAME_ATTACKS))
def test_an_uploaded_name_and_title_are_shown_as_text(case):
    payload = NAME_ATTACKS[case]
    text = yaml.safe_dump({"name": payload, "title_zh": f"**{payload}**",
                           "title_en": f"**{payload}**"}, allow_unicode=True)
    at = upload(start(), f"{case}.yaml", text.encode())
    assert at.session_state["_preset"] == f"upload:{payload}"
    shown = texts_with(at, "evil") + texts_with(at, "127") + texts_with(at, "onerror")
    assert shown  # the success line and the heading quote it
    for value in shown:
        assert_inert(value.removeprefix("#### "))
    assert untrusted.md_text(i18n.ui("upload_ok", "zh", name=payload)) in [s.value for s in at.success]


def test_saved_scenario_names_are_shown_as_text():
    at = start()
    at.session_state["w_tab"] = i18n.ui("tab_compare", "zh")
    rerun(at)
    payload = "[a](https://evil.example)"
    at.text_input(key="w_save_name").input(payload)
    at.button(key="w_save").click()
    rerun(at)
    assert library.from_env().get(at.session_state["_compare"][0]).entry.name == payload
    shown = texts_with(at, "evil")
    assert len(shown) >= 2  # the "saved" line and the list entry
    for value in shown:
        assert_inert(value.removeprefix("1\\. "))


# --------------------------------------------------------------------------------------------
# Uploads: one short message, and the session keeps working

ALIAS_BOMB = ("name: [&a0 [lol], "
              + ", ".join(f"&a{k} [" + ",".join([f"*a{k - 1}"] * 10) + "]" for k in range(1, 10))
              + "]\n").encode()

BAD_TEXT_UPLOADS = {
    "surrogate": b'name: "plan\\ud83d\\ude00"\n',
    "escape": b'name: "plan\\e[31mred"\n',
    "nul": b'name: "plan\\0"\n',
    "bidi": b'name: "plan\\u202eevil"\n',
    "zero-width": b'name: "pl\\u200ban"\n',
    "title-bidi": b'name: ok\ntitle_en: "abc\\u202edef"\n',
    "alias-bomb": ALIAS_BOMB,
    "deep-flow": b"levers: " + b"[" * 1000 + b"]" * 1000 + b"\n",
    "deep-block": b"".join(b"  " * k + f"k{k}:\n".encode() for k in range(500)) + b"  " * 500
    + b"x\n",
    "binary": bytes(range(256)) * 8,
    "empty": b"",
    "bom-only": b"\xef\xbb\xbf",
}


@pytest.mark.parametrize("case", list(BAD_TEXT_UPLOADS), ids=list(BAD_TEXT_UPLOADS))
def test_a_hostile_upload_gets_one_short_message_and_the_next_upload_works(case, model):
    at = start()
    before = scorecard_text(at)
    at = upload(at, f"{case}.yaml", BAD_TEXT_UPLOADS[case])
    (error,) = [e.value for e in at.sidebar.error]
    head, message = error.split("\n\n", 1)
    assert head == i18n.ui("upload_bad", "zh")
    assert "\n" not in message and len(message) < 2 * MESSAGE_BUDGET
    assert f"{case}.yaml" in message.replace("\\", "")
    assert "Traceback" not in error and str(REPO) not in error
    assert scorecard_text(at) == before and at.session_state["_preset"] == session.DEFAULT_PRESET
    # the session still works: the next (valid) upload is read, without a reload
    good = (SCENARIOS / "ambitious.yaml").read_bytes()
    at = upload(at, "ambitious.yaml", good)
    assert at.session_state["_preset"] == "upload:ambitious" and not at.sidebar.error
    assert scorecard_text(at) == expected_scorecard(model, scenario.loads(good))


def test_a_session_keeps_only_the_latest_uploads():
    assert session.MAX_UPLOADED == 8
    at = start()
    for i in range(10):
        at = upload(at, f"u{i}.yaml", f"name: u{i}\n".encode())
    at = upload(at, "u3-again.yaml", b"name: u3\n")  # uploaded again: now the latest
    assert list(at.session_state["_uploaded"]) == [f"upload:u{i}"
                                                   for i in (2, 4, 5, 6, 7, 8, 9, 3)]
    assert at.session_state["_preset"] == "upload:u3"
    assert session.keep_latest({"a": 1, "b": 2, "c": 3}, "a", 2) == {"c": 3, "a": 1}


def test_the_alias_bomb_is_refused_without_growing_memory():
    tracemalloc.start()
    try:
        scn, message = untrusted.read_upload(ALIAS_BOMB, "bomb.yaml", "en")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scn is None and "alias" in message and len(message) <= MESSAGE_BUDGET
    assert peak < 5_000_000  # bytes: the 9-level bomb would expand to 10**8 items


@pytest.mark.parametrize("size", [scenario.MAX_FILE_BYTES + 1, 2**20, 2 * 1000**2],
                         ids=["1e6+1", "1MiB", "2e6"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_oversized_upload_gets_the_apps_own_message(size, lang):
    at = start({"lang": lang} if lang != "zh" else None)
    content = b"name: big\n" + b"#" * (size - 10)
    assert len(content) == size
    at = upload(at, "big.yaml", content)
    (error,) = [e.value for e in at.sidebar.error]
    expected = i18n.ui("upload_too_big", lang, source="big.yaml", size=f"{size:,}",
                     limit=f"{scenario.MAX_FILE_BYTES:,}")
    assert error == f"{i18n.ui('upload_bad', lang)}\n\n{untrusted.md_text(expected)}"


def test_uploader_label_and_help_follow_the_language():
    at = start({"lang": "en"})
    uploader = at.sidebar.get("file_uploader")[0]
    assert uploader.proto.label == i18n.ui("upload", "en")
    assert uploader.proto.help == i18n.ui("upload_help", "en")


def test_an_unexpected_error_while_reading_an_upload_keeps_the_session(monkeypatch, caplog):
    at = start()

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/secret/path went wrong")

    monkeypatch.setattr(untrusted, "read_upload", broken)
    with caplog.at_level(logging.ERROR, logger="guangyuan.app"):
        at = upload(at, "x.yaml", b"name: x\n")
    (error,) = [e.value for e in at.sidebar.error]
    assert untrusted.md_text(i18n.ui("upload_failed", "zh")) in error and "secret" not in error
    assert any(r.exc_info and "secret" in str(r.exc_info[1]) for r in caplog.records)
    monkeypatch.undo()
    at = upload(at, "ambitious.yaml", (SCENARIOS / "ambitious.yaml").read_bytes())
    assert at.session_state["_preset"] == "upload:ambitious" and not at.sidebar.error


# --------------------------------------------------------------------------------------------
# No traceback reaches a visitor

def _all_text(at: AppTest) -> str:
    return "\n".join(rendered_texts(at) + [str(e.value) for e in at.exception])


def test_an_exception_in_the_page_shows_a_short_message_and_is_logged(monkeypatch, caplog):
    def broken(card):
        raise RuntimeError(f"boom in {REPO}/secret.py")

    monkeypatch.setattr(scorecards, "summary", broken)  # called by the page on every run
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    with caplog.at_level(logging.ERROR, logger="guangyuan.app"):
        at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [i18n.CRASH_MESSAGE]
    text = _all_text(at)
    assert "Traceback" not in text and "boom" not in text and str(REPO) not in text
    assert "/" not in i18n.CRASH_MESSAGE and len(i18n.CRASH_MESSAGE) < 200
    logged = [r for r in caplog.records if r.name == "guangyuan.app" and r.exc_info]
    assert logged and "boom" in str(logged[0].exc_info[1])
    # the visitor can start again once the fault is gone
    monkeypatch.undo()
    at.button(key="w_restart").click()
    rerun(at)
    assert not at.error and at.session_state["_preset"] == session.DEFAULT_PRESET


def test_an_exception_in_a_callback_shows_a_short_message_and_the_page_works(monkeypatch,
                                                                            caplog):
    at = start()
    before = scorecard_text(at)

    def broken(value):
        raise RuntimeError(f"boom in {REPO}/secret.py")

    monkeypatch.setattr(i18n, "clean_value", broken)  # the slider callback's first step
    at.slider(key="w_hte_reward").set_value(45.0)
    with caplog.at_level(logging.ERROR, logger="guangyuan.app"):
        rerun(at)
    assert [e.value for e in at.error] == [i18n.CRASH_MESSAGE]
    assert "boom" not in _all_text(at) and scorecard_text(at) == before
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    monkeypatch.undo()
    rerun(at)
    assert not at.error  # shown once


# --------------------------------------------------------------------------------------------
# Parsing Python in two threads (CPython 3.11, python/cpython#106905)

def test_the_scripts_compile_waits_for_the_engines_parsing(tmp_path):
    """After the app has run once, Streamlit's compile of a script holds the engine's AST lock,
    so it never parses while the warm-up thread generates engine code (which failed the first
    page of a fresh checkout with "AST constructor recursion depth mismatch")."""
    import threading

    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    from simulator.sd.engine import AST_LOCK
    start()
    assert getattr(ScriptCache.get_bytecode, "holds_ast_lock", False)
    script = tmp_path / "s.py"
    script.write_text("x = 1\n", encoding="utf-8")
    done = threading.Event()

    def compile_script():
        ScriptCache().get_bytecode(str(script))
        done.set()
    with AST_LOCK:
        worker = threading.Thread(target=compile_script)
        worker.start()
        assert not done.wait(0.5)  # blocked while the engine "parses"
    worker.join(timeout=30)
    assert done.is_set()


def test_serialise_script_compiles_wraps_once_and_tolerates_a_future_streamlit():
    import threading

    class Cache:
        def get_bytecode(self, path):
            return path

    lock = threading.RLock()
    assert hooks.serialise_script_compiles(Cache, lock)
    wrapped = Cache.get_bytecode
    assert hooks.serialise_script_compiles(Cache, lock) and Cache.get_bytecode is wrapped
    assert Cache().get_bytecode("p") == "p"
    assert not hooks.serialise_script_compiles(type("NoMethod", (), {}), lock)


# --------------------------------------------------------------------------------------------
# Streamlit's clear-cache message

def test_clear_cache_message_clears_only_the_senders_session():
    from streamlit.runtime.app_session import AppSession

    log = logging.getLogger("test.clear_cache")
    assert hooks.keep_shared_caches(AppSession, log)  # the installed Streamlit has the handler
    assert hooks.keep_shared_caches(AppSession, log)  # and a second call changes nothing
    calls = []

    @st.cache_data
    def pure(x: int) -> int:
        calls.append(x)
        return 2 * x

    assert pure(3) == 6

    class Sender:
        def __init__(self):
            self._session_state = {"_levers": 1}

    sender = Sender()
    AppSession._handle_clear_cache_request(sender)
    assert sender._session_state == {}
    assert pure(3) == 6 and calls == [3]  # the shared cache was kept


def test_keep_shared_caches_says_when_streamlit_has_no_such_handler(caplog):
    class Other:
        pass

    with caplog.at_level(logging.WARNING, logger="test.clear_cache"):
        assert not hooks.keep_shared_caches(Other, logging.getLogger("test.clear_cache"))
    assert "shared caches" in caplog.text


def test_the_page_is_the_same_after_the_shared_caches_are_cleared(model):
    """The caches hold only recomputable results: emptied (by a restart, a TTL, or Streamlit's
    own clearing), the next run computes the same page."""
    at = start({"hte_reward": "45"})
    before = scorecard_text(at)
    st.cache_data.clear()
    st.cache_resource.clear()
    again = start({"hte_reward": "45"})
    assert scorecard_text(again) == before
    expected = session.load_presets(SCENARIOS)[session.DEFAULT_PRESET].with_levers(hte_reward=45.0)
    assert before == expected_scorecard(model, expected)
    rerun(at)  # an open session after the clearing
    assert scorecard_text(at) == before


# --------------------------------------------------------------------------------------------
# Properties: every link and every upload ends in a result or one short message

PRESETS = session.load_presets(SCENARIOS)
_IDS = [lev.id for lev in tables.levers()] + [a.id for a in tables.assumptions()]
_keys = hs.one_of(hs.sampled_from(_IDS + list(links.RESERVED_QUERY_KEYS)), hs.text(max_size=80))
_values = hs.one_of(
    hs.text(max_size=80),
    hs.lists(hs.floats(allow_nan=True, allow_infinity=True).map(repr), min_size=1,
             max_size=4).map(",".join),
    hs.lists(hs.text(max_size=20), max_size=3),  # a repeated key
)


@given(hs.dictionaries(_keys, _values, max_size=12))
@settings(max_examples=300, deadline=DEADLINE,
          suppress_health_check=[HealthCheck.too_slow])
def test_any_link_ends_in_settings_or_short_messages(params):
    state = links.decode_query(params, PRESETS)
    assert (state.preset in PRESETS if state.opened is None  # or an upload the link rebuilds
            else state.preset == session.UPLOAD_PREFIX + state.opened.name)
    assert state.lang in i18n.LANGS and state.reference in PRESETS
    scenario.from_dict({"name": "x", "levers": {k: list(v) for k, v in state.levers.items()},
                        "assumptions": state.assumptions})  # what it sets is valid
    assert len(state.errors) <= len(params)
    for error in state.errors:
        assert error.isprintable() and len(error) <= MESSAGE_BUDGET, error
    untrusted.link_errors_markdown(state.errors, "en").encode("utf-8")


def _yaml_values():
    scalars = hs.one_of(hs.none(), hs.booleans(), hs.integers(), hs.floats(),
                        hs.text(max_size=40))
    return hs.recursive(scalars, lambda inner: hs.one_of(
        hs.lists(inner, max_size=4), hs.dictionaries(hs.text(max_size=12), inner, max_size=4)),
        max_leaves=20)


_field_names = hs.sampled_from(list(scenario.TOP_FIELDS) + _IDS + ["x"])
_documents = hs.dictionaries(_field_names, hs.one_of(
    _yaml_values(), hs.dictionaries(hs.sampled_from(_IDS), hs.one_of(
        hs.floats(), hs.lists(hs.floats(), max_size=4), hs.text(max_size=10)), max_size=5)),
    max_size=6)


def _check_upload(data: bytes) -> None:
    scn, message = untrusted.read_upload(data, "fuzz.yaml", "en")
    if scn is None:
        assert message and message.isprintable() and len(message) <= MESSAGE_BUDGET, message
        untrusted.md_text(message).encode("utf-8")
    else:
        assert message == ""
        scn.to_yaml().encode("utf-8")  # valid text all the way to the export


@given(hs.binary(max_size=2000))
@settings(max_examples=300, deadline=DEADLINE)
def test_any_uploaded_bytes_end_in_a_scenario_or_one_short_message(data):
    _check_upload(data)


@given(_documents)
@settings(max_examples=300, deadline=DEADLINE,
          suppress_health_check=[HealthCheck.too_slow])
def test_any_uploaded_yaml_document_ends_in_a_scenario_or_one_short_message(document):
    _check_upload(yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogatepass"))
