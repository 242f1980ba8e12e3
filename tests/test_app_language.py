"""One language (issue 14, item 7): every string the Chinese page shows is Chinese, the English
page's English.

The scan renders the page through AppTest in each state a planner can reach — every tab, with
uncertainty on, in advanced mode, in meeting mode, with a solver answer (reachable and not), a
milestones result (met and out of reach), a rejected scenario upload (a validation error and a
YAML syntax error), a rejected file of actuals and a library error — and collects every string
shown: Markdown and captions (HTML stripped; ``title``/``alt``/``aria-label`` attributes kept:
they show as tooltips), titles and subheaders, alerts, labels, help texts and placeholders of
widgets, options as displayed, button labels, metrics, tab and expander labels, dataframe headers
and cells, chart titles, axis and legend titles, and the text a chart shows from its data
(legend entries, labels, tooltips; the model map's variable names and units included).

On the Chinese page no run of Latin letters may remain once :data:`ALLOWED_LATIN` is taken out;
on the English page no CJK character may remain once :data:`ALLOWED_CJK` is taken out. What
the tests upload is the user's own data: its values are taken out too (:func:`user_data`).
Streamlit's words that no API sets (the uploader's, "Press Enter to apply", the table's
toolbar) are not in AppTest's tree: the browser test checks those (``tests/e2e``).
"""
from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Iterator

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from simulator.analysis import milestones, solver
from simulator.app import analyses, i18n, library, session, untrusted
from simulator.plan import scenario, tables

from helpers import open_all

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
TIMEOUT = 300

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")

#: Latin text the Chinese page may show, and why. Each pattern is taken out before the scan
#: looks for Latin letters.
ALLOWED_LATIN: tuple[tuple[str, str], ...] = (
    (r"R&D", "the plan's own spelling (全社会研究与试验发展（R&D）经费)"),
    (r"GDP", "the abbreviation Chinese statistics write as is (名义GDP, GDP平减指数)"),
    (r"(?<![\w/])(?:scenarios|models)/[\w./-]*", "the repository's folders and files a help "
     "text points to (scenarios/, models/uncertainty.yaml)"),
    (r"[\w.-]*\.(?:yaml|yml|csv|mdl|md|py|xlsx|zip|pdf|png|docx)(?![A-Za-z])", "file names"),
    (r"(?<![A-Za-z])(?:YAML|CSV|Excel|Word|PDF|PNG|ZIP|UTF-8|MB|UTC|Vensim|Morris)(?![A-Za-z])",
     "names of formats, programs and methods, written so in Chinese too"),
    (r"(?<![A-Za-z])e\^", "Euler's number in a formula (1−e^(−力度))"),
    (r"(?<![A-Za-z])[RB]\d+(?!\d)", "the model's loop names (R1 reinforcing, B1 balancing), "
     "as in the .mdl and docs/model.md"),
    (r"\?saved=", "the link's parameter a planner types (?saved=编号)"),
    (r"indicator,year,value|kind, source, note|hindcast --observed", "what a planner types: "
     "the column names a file of actuals must have, and the command-line option"),
    (r"Language|English", "the language picker: its label and the other language's name are "
     "written in both, so that a reader of either finds it"),
)
#: CJK the English page may show, and why.
ALLOWED_CJK: tuple[tuple[str, str], ...] = (
    (r"中文|语言", "the language picker: its label and the other language's name are written "
     "in both, so that a reader of either finds it"),
    (r"万元", "the plan's money unit, named beside its English gloss (10,000 yuan)"),
    (r"Plan clause: [^\n]*", "a lever's clause of the plan, cited in the plan's own words"),
)
#: In an error or warning: the ids and field names a file must use, and the excerpts of the
#: user's file it quotes — what the planner has to write or wrote (``字段 'levers.nope'：未知杠杆
#: …；允许 hte_reward, …``).
FILE_WORDS: tuple[tuple[str, str], ...] = (
    ("(?<![A-Za-z0-9_@])(?:" + "|".join(re.escape(w) for w in sorted(
        {lev.id for lev in tables.levers()} | {a.id for a in tables.assumptions()}
        | {ind.id for ind in tables.indicators()} | {t.key for t in tables.targets()}
        | set(scenario.TOP_FIELDS), key=len, reverse=True)) + ")(?![A-Za-z0-9_@])",
     "ids and field names of the file formats"),
    (r"'[^'\n]*'", "an excerpt of the user's file, quoted"),
)

_LATIN = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")


# --------------------------------------------------------------------------------------------
# What the page shows

def markdown_text(body: str) -> str:
    """What a reader sees of a Markdown/HTML body: tags and style sheets out, tooltips in."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.S | re.I)
    tips = re.findall(r'\b(?:title|alt|aria-label)="([^"]*)"', body)
    body = re.sub(r"<[^>]*>", " ", body)
    body = re.sub(r":material/[a-z_]+:", " ", body)                   # icons
    body = re.sub(r":(?:red|green|orange|blue|gray|grey|violet|rainbow|primary)\[", " ", body)
    body = re.sub(r"\]\((?:https?://|\?|/)[^)]*\)", " ", body)        # link targets
    body = re.sub(r"\\(.)", r"\1", body)                              # Markdown escapes
    return html.unescape(" ".join([body, *tips]))


def _chart_texts(spec: str) -> Iterator[str]:
    """Titles of a Vega-Lite chart: the chart's, its axes' and its legends'."""
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title":
                    if isinstance(value, str):
                        yield value
                    elif isinstance(value, list):
                        yield from (v for v in value if isinstance(v, str))
                    elif isinstance(value, dict) and isinstance(value.get("text"), str):
                        yield value["text"]
                    else:
                        yield from walk(value)
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
    yield from walk(json.loads(spec))


#: Encodings whose field's values a chart shows as text (legends, labels, tooltips, facets).
_SHOWN_ENCODINGS = ("color", "strokeDash", "shape", "text", "tooltip", "facet", "row", "column")


def _chart_values(proto) -> Iterator[str]:
    """The text values a Vega-Lite chart shows from its data: those of the fields of
    :data:`_SHOWN_ENCODINGS`, in its datasets (Arrow) and inline data (colours left out)."""
    import pyarrow as pa
    spec = json.loads(proto.spec)
    fields: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _SHOWN_ENCODINGS:
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, dict) and isinstance(item.get("field"), str):
                            fields.add(item["field"])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(spec)
    rows = []
    for dataset in proto.datasets:
        rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    for part in [spec, *spec.get("layer", [])]:
        rows += part.get("data", {}).get("values", []) if isinstance(part.get("data"), dict) else []
    for row in rows:
        for name in fields:
            value = row.get(name)
            if isinstance(value, str) and not re.fullmatch(r"#[0-9a-fA-F]{3,8}", value):
                yield value


_FIELDS = ("label", "body", "help", "placeholder", "delta")


def shown(at: AppTest) -> list[tuple[str, str]]:
    """Every string the page shows, as ``(where, text)``."""
    out: list[tuple[str, str]] = []

    def add(where: str, text) -> None:
        if isinstance(text, str) and text.strip():
            out.append((where, text))

    def visit(node, path: str) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "?")
        where = f"{path}/{kind}"
        if isinstance(node, Block):
            # AppTest keeps a tab's or expander's own message (label, help) as its proto; other
            # blocks keep the whole block message
            fields = getattr(getattr(proto, "DESCRIPTOR", None), "fields_by_name", {})
            sub = proto if "label" in fields else getattr(proto, kind, None)
            for name in ("label", "help"):
                add(f"{where} {name}", getattr(sub, name, None))
            for child in node.children.values():
                visit(child, where)
            return
        if kind == "dataframe":
            frame = node.value
            for column in frame.columns:
                add(f"{where} header", str(column))
            for column in frame.columns:
                for cell in frame[column]:
                    add(f"{where} cell", cell if isinstance(cell, str) else None)
            return
        if kind in ("vega_lite_chart", "arrow_vega_lite_chart"):
            for text in _chart_texts(proto.spec):
                add(f"{where} title", text)
            for text in dict.fromkeys(_chart_values(proto)):
                add(f"{where} value", text)
            return
        for name in _FIELDS:
            value = getattr(proto, name, None) if proto is not None else None
            if isinstance(value, str):
                add(f"{where} {name}", markdown_text(value) if name in ("body", "help") else value)
        options = getattr(proto, "options", None) if proto is not None else None
        if options is not None and not isinstance(options, str):
            for option in options:
                add(f"{where} option", option if isinstance(option, str)
                    else getattr(option, "content", None))

    visit(at._tree, "")
    return out


# --------------------------------------------------------------------------------------------
# The scan

def strip_allowed(text: str, allowed, extra: tuple[str, ...] = ()) -> str:
    for value in sorted(extra, key=len, reverse=True):
        text = text.replace(value, " ")
    for pattern, _why in allowed:
        text = re.sub(pattern, " ", text)
    return text


def foreign(at: AppTest, lang: str, user: tuple[str, ...] = ()) -> list[str]:
    """Strings of the page in the other language: ``where: offending words | text``. ``user``:
    the user's own data on the page (taken out as it is)."""
    found = []
    for where, text in shown(at):
        if where.endswith(("/error body", "/warning body")):
            text = strip_allowed(text, FILE_WORDS)
        if lang == "zh":
            rest = _LATIN.findall(strip_allowed(text, ALLOWED_LATIN, user))
        else:
            rest = _CJK.findall(strip_allowed(text, ALLOWED_CJK, user))
        if rest:
            found.append(f"{where}: {' '.join(dict.fromkeys(rest))} | {text[:300]}")
    return found


# --------------------------------------------------------------------------------------------
# The states a planner can reach

TAB_IDS = ("scorecard", "trajectories", "compare", "solve", "sensitivity", "milestones", "map",
           "export")
HTE = "high_tech_enterprises@2025"
ACTUALS = (b"indicator,year,value,kind,source,note\n"
           b"rd_intensity,2023,0.9,level,test,\ntech_smes,2024,250,level,test,\n")
#: What the actuals file holds, shown back to the planner as typed (the table of actuals).
ACTUALS_DATA = ("indicator", "year", "value", "kind", "source", "note", "rd_intensity",
                "tech_smes", "level", "test")


@pytest.fixture
def small(monkeypatch):
    """The app's searches made smaller (as in tests/test_app_solver.py): 20 draws, 200
    candidates; their answers are real, only less polished."""
    monkeypatch.setattr(analyses, "SOLVE_N", 20)
    monkeypatch.setattr(solver, "solve", functools.partial(solver.solve, candidates=200))
    monkeypatch.setattr(milestones, "milestones",
                        functools.partial(milestones.milestones, candidates=200))


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(lang: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    open_all(at)  # every lazy expander, so that its content is scanned
    if lang != i18n.DEFAULT_LANG:
        at.query_params["lang"] = lang
    at = rerun(at)
    assert at.session_state["_lang"] == lang
    return at


def open_tab(at: AppTest, tab: str, lang: str) -> AppTest:
    at.session_state["w_tab"] = i18n.ui(f"tab_{tab}", lang)
    return rerun(at)


def run_button(at: AppTest, multiselect: str, chosen: list[str], button: str) -> AppTest:
    at.multiselect(key=multiselect).set_value(chosen)
    rerun(at)
    at.button(key=button).click()
    return rerun(at)


def upload(at: AppTest, key: str, name: str, content: bytes, mime: str) -> AppTest:
    at.file_uploader(key=key).upload(name, content, mime)
    return rerun(at)


def _tab(tab):
    def drive(at, lang):
        return open_tab(at, tab, lang)
    return drive


def _toggle(key, tab="scorecard"):
    def drive(at, lang):
        at.toggle(key=key).set_value(True)
        return open_tab(rerun(at), tab, lang)
    return drive


def _solve(targets):
    def drive(at, lang):
        at = run_button(open_tab(at, "solve", lang), "w_solve_targets", targets(), "w_solve_run")
        assert at.session_state["_solve"], "no answer"
        return at
    return drive


def _milestones(goals, feasible):
    def drive(at, lang):
        at = run_button(open_tab(at, "milestones", lang), "w_ms_goals", goals, "w_ms_run")
        assert at.session_state["_ms"][1].feasible is feasible
        return at
    return drive


def _scenario_upload(name, content):
    def drive(at, lang):
        at = upload(at, "w_upload", name, content, "application/x-yaml")
        assert at.session_state["_upload_msg"][0] == "error"
        return at
    return drive


def _actuals(content, ok):
    def drive(at, lang):
        at = upload(at, "w_actuals", "actuals.csv", content, "text/csv")
        if ok:
            at.toggle(key="w_recal").set_value(True)
            at = rerun(at)
        assert (at.session_state["_actuals"] is not None) is ok
        return at
    return drive


def _library_error(at, lang):
    return open_tab(at, "compare", lang)


#: name → (what drives the page there, whether the library cannot be opened)
STATES = {
    **{f"tab-{t}": (_tab(t), False) for t in TAB_IDS},
    "uncertainty": (_toggle("w_uncertainty"), False),
    "uncertainty-trajectories": (_toggle("w_uncertainty", "trajectories"), False),
    "advanced": (_toggle("w_advanced"), False),
    "meeting": (_toggle("w_meeting"), False),
    "solver-reachable": (_solve(lambda: [HTE]), False),
    "solver-unreachable": (_solve(lambda: [t.key for t in tables.targets() if t.year == 2025]),
                           False),
    "milestones-met": (_milestones(["innovation_index@2035"], True), False),
    "milestones-out-of-reach": (_milestones(["rd_intensity@2035", "innovation_index@2035"],
                                            False), False),
    "upload-invalid": (_scenario_upload("bad.yaml", b"name: mine\nlevers:\n  nope: 3\n"),
                       False),
    "upload-yaml-syntax": (_scenario_upload("syntax.yaml", b"name: mine\nlevers: [1, 2\n"),
                           False),
    "upload-yaml-indent": (_scenario_upload("indent.yaml", b"name: mine\n  levers: 3\n"),
                           False),
    "actuals-invalid": (_actuals(b"indicator,year,value\nno_such,2025,1\n", False), False),
    "actuals-recalibrated": (_actuals(ACTUALS, True), False),
    "library-error": (_library_error, True),
}


@pytest.mark.parametrize("lang", i18n.LANGS, ids=list(i18n.LANGS))
@pytest.mark.parametrize("state", list(STATES), ids=list(STATES))
def test_the_page_speaks_one_language(small, monkeypatch, state, lang):
    """Every string shown in this state is in the page's language (allow-lists above)."""
    drive, library_down = STATES[state]
    if library_down:  # a database URL this server cannot open (tests/test_app_library.py)
        monkeypatch.setenv(library.ENV_VAR, "mysql://db.example/guangyuan")
    at = drive(start(lang), lang)
    assert len(at.sidebar.slider) >= len(tables.levers())  # the lazy lever groups were drawn
    if library_down:
        shown_errors = [e.value for e in at.error]
        assert untrusted.md_text(i18n.ui("library_unavailable", lang)) in shown_errors
    user = ("mine", "bad.yaml", "syntax.yaml", "indent.yaml", "actuals.csv")
    if state == "actuals-recalibrated":
        user += ACTUALS_DATA
    assert foreign(at, lang, user) == []


# --------------------------------------------------------------------------------------------
# The scan itself finds what it is for

def _every_kind_of_text():
    """A page with an English word in each kind of element the scan reads."""
    import altair as alt
    import pandas as pd
    import streamlit as st
    st.markdown('<div title="tooltipword">正文</div> markdownword', unsafe_allow_html=True)
    st.caption("captionword")
    st.subheader("subheaderword", help="helpword")
    st.selectbox("选择", ["optionword"], placeholder="placeholderword", index=None)
    st.button("buttonword")
    st.error("alertword")
    st.metric("metricword", "1", "deltaword")
    with st.expander("expanderword"):
        st.write("中文")
    st.tabs(["tabword"])
    st.dataframe(pd.DataFrame({"headerword": ["cellword"]}))
    st.altair_chart(alt.Chart(pd.DataFrame({"x": [1], "s": ["legendword"]})).mark_point().encode(
        x=alt.X("x", title="axisword"), color="s").properties(title="chartword"))


def test_the_scan_reads_every_kind_of_text():
    at = AppTest.from_function(_every_kind_of_text, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    found = " ".join(foreign(at, "zh"))
    words = ("tooltipword", "markdownword", "captionword", "subheaderword", "helpword",
             "optionword", "placeholderword", "buttonword", "alertword", "metricword",
             "deltaword", "expanderword", "tabword", "headerword", "cellword", "axisword",
             "chartword", "legendword")
    assert [w for w in words if w not in found] == []
    offending = [f.split(" | ")[0] for f in foreign(at, "en")]  # "where: words"
    assert any(w.endswith(": 选择") for w in offending), offending  # a label
    assert not any("中文" in w for w in offending), offending      # allowed: the picker's name


@pytest.mark.parametrize("text, lang, left", [
    ("研发经费投入强度(R&D) · models/uncertainty.yaml · 1−e^(−力度) · R1", "zh", []),
    ("名义GDP年增速 (nominal)", "zh", ["nominal"]),
    ("Morris基本效应筛选", "zh", []),
    ("Morrisfoo", "zh", ["Morrisfoo"]),
    ("Cost (万元 a year)", "en", []),
    ("Plan clause: 三 · 三(二)\n\nEffect: 力度", "en", ["力度"]),
], ids=["zh-allowed", "zh-word", "zh-name-before-cjk", "zh-name-inside-word", "en-unit",
        "en-clause-only"])
def test_allow_lists_take_out_only_what_they_name(text, lang, left):
    if lang == "zh":
        assert _LATIN.findall(strip_allowed(text, ALLOWED_LATIN)) == left
    else:
        assert _CJK.findall(strip_allowed(text, ALLOWED_CJK)) == left


# --------------------------------------------------------------------------------------------
# Words from data, in Chinese

#: Malformed YAML of the kinds a hand-edited scenario file shows, through the project's reader
#: (libyaml's messages when installed, else PyYAML's).
BAD_YAML = {
    "indent": b"name: x\n  levers: 3\n", "unclosed-list": b"name: x\nlevers: [1, 2\n",
    "unclosed-map": b"a: {b: 1\n", "list-in-map": b"- a\nb: c\n", "stray-key": b"a: [b, c]]\n",
    "unclosed-quote": b"a: 'abc\n", "bad-character": b"a: @x\n", "tab": b"a:\n\t- b\n",
    "escape": b'a: "\\q"\n', "dash-after-colon": b"a: - b\n", "empty-anchor": b"a: &\n",
    "no-value": b"a: ,b\n", "block-indicator": b"a: |x\n", "hex": b'a: "\\x4"\n',
    "tag-handle": b"a: !e!x y\n",
    "two-directives": b"%YAML 1.1\n%YAML 1.1\n---\na: 1\n", "zero-indent": b"a: |0\n  x\n",
    "second-document": b"a: 1\n---\nb: 2\n", "list-key": b"[a, b]: c\n",
    "after-end": b"a: 1\n...\nb\n",
}


@pytest.mark.parametrize("loader", ["libyaml", "python"], ids=["libyaml", "python"])
@pytest.mark.parametrize("name", list(BAD_YAML), ids=list(BAD_YAML))
def test_yaml_syntax_errors_in_chinese(monkeypatch, name, loader):
    """The one-line message in Chinese keeps the line, column and quoted characters, and has
    no English word left (what it quotes of the file aside)."""
    import yaml
    from simulator.base import inputs
    if loader == "python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    with pytest.raises(ValueError) as caught:
        inputs.parse_yaml(BAD_YAML[name], "f.yaml", error=ValueError)
    message = str(caught.value)
    zh = i18n.detail(message, "zh")
    rest = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"|f\.yaml|YAML|#x[0-9a-fA-F]+|<[^>]*>", " ", zh)
    assert not _LATIN.findall(rest), (message, zh)
    for line, column in re.findall(r"line (\d+), column (\d+)", message):
        assert f"第{line}行第{column}列" in zh
    for quoted in re.findall(r"'[^'\n]*'", message):
        assert quoted in zh


def test_an_unknown_yaml_problem_gets_the_general_sentence():
    message = "f.yaml: malformed YAML at line 3, column 7: found a brand-new problem ':'"
    assert i18n.detail(message, "zh") == ("f.yaml：YAML格式错误(第3行第7列)：语法错误(检查缩进、冒号、"
                                          "引号和括号)：':'")


def test_every_assumption_has_a_chinese_source_with_its_numbers():
    for item in tables.assumptions():
        zh = i18n.assumption_source(item, "zh")
        assert zh != item.source and not _LATIN.findall(strip_allowed(zh, ALLOWED_LATIN)), item.id
        numbers = [sorted(re.findall(r"\d+(?:\.\d+)?", t)) for t in (zh, item.source)]
        assert numbers[0] == numbers[1], item.id
        assert i18n.assumption_source(item, "en") == item.source
    assert set(i18n.ASSUMPTION_SOURCES_ZH) == {a.id for a in tables.assumptions()}


def test_every_uncertain_constant_has_a_name_in_both_languages():
    from simulator.analysis import uncertainty
    ids = {d.constant for d in uncertainty.load_spec().distributions}
    assert set(i18n.CONSTANT_NAMES) == ids
    for param, (zh, en) in i18n.CONSTANT_NAMES.items():
        assert _CJK.search(zh) and not _LATIN.findall(strip_allowed(zh, ALLOWED_LATIN)), param
        assert not _CJK.search(en) and en != param, param
    assert len({zh for zh, _ in i18n.CONSTANT_NAMES.values()}) == len(ids)  # no two alike
    assert i18n.constant_name("no_such_constant", "zh") == "no_such_constant"


def test_recalibration_line_states_the_facts_of_its_summary():
    """The page's line (analyses.recal_summary) and the command line's (Recalibration.summary)
    from the same object: the same numbers; constants by name."""
    from types import SimpleNamespace

    from simulator.analysis import hindcast
    from simulator.plan.calibrated import parameters
    param = next(iter(parameters()))
    rec = SimpleNamespace(fitted={param: 0.123456, "ht_rd_ratio": 0.02}, up_to=2023.0,
                          scenario="plan", result=SimpleNamespace(targets=[
                              {"role": "fit", "source": "actuals:x.csv"},
                              {"role": "fit", "source": "observed"},
                              {"role": "check", "source": "actuals:x.csv"}]))
    english = hindcast.Recalibration.summary(rec)
    for lang in i18n.LANGS:
        text = analyses.recal_summary(rec, lang)
        assert sorted(re.findall(r"\d[\d.]*", text)) == sorted(re.findall(r"\d[\d.]*",
                                                                          english.replace(
                                                                              "ht_rd_ratio", "")))
        assert i18n.constant_name(param, lang) in text and param not in text
    none = SimpleNamespace(**{**vars(rec), "fitted": {}})
    assert i18n.ui("recal_none", "zh") in analyses.recal_summary(none, "zh")
