"""Tests of the Streamlit app (app.py) through streamlit.testing.v1.AppTest.

What the app shows is compared with ``Model().run`` of the scenario the settings describe,
never with numbers written here.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from simulator import Model
from simulator.analysis import sensitivity, solver, uncertainty
from simulator.app import analyses, i18n, library, links, scorecards, session, untrusted
from simulator.plan import goals, scenario, tables

from helpers import open_all

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
SCENARIOS = REPO / "scenarios"
TIMEOUT = 60
LEVERS = tables.levers()
ASSUMPTIONS = tables.assumptions()


# ``model`` (one loaded Model per session) comes from tests/conftest.py.

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")


@pytest.fixture(scope="module")
def presets():
    return session.load_presets(SCENARIOS)


def start(query: dict[str, str] | None = None, *, expanded: bool = True) -> AppTest:
    """The app's first run (for ``query``); with ``expanded``, every lazy expander opened
    (``helpers.open_all``: the tests read every slider)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if expanded:
        open_all(at)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app() -> AppTest:
    return start()


def scorecard_html_shown(at: AppTest) -> str:
    """The HTML of the scorecard the app shows (exactly one), as it is."""
    found = [m.value for m in at.markdown if 'class="gy-card' in m.value
             and "data-key=" in m.value]
    assert len(found) == 1
    return found[0].strip()


def highlighted(at: AppTest) -> set[str]:
    """Keys of the rows the scorecard highlights as changed with the last move."""
    return set(re.findall(r'<tr class="[^"]*\bchanged\b[^"]*" data-key="([^"]+)"',
                          scorecard_html_shown(at)))


def scorecard_text(at: AppTest) -> str:
    """The scorecard the app shows without the last-move highlight (tested on its own in
    ``test_rows_changed_by_a_move_are_highlighted``), to compare with a plain scorecard."""
    text = re.sub(r'<tr class="([^"]*?) changed"', r'<tr class="\1"', scorecard_html_shown(at))
    return re.sub(r'(data-key="[^"]*") title="[^"]*">', r"\1>", text)


def expected_scorecard(model: Model, scn: scenario.Scenario, lang: str = "zh",
                       large: bool = False) -> str:
    card = goals.scorecard(model.run(scn))
    return (scorecards.SCORECARD_CSS + scorecards.scorecard_html(card, lang, large=large)).strip()


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --------------------------------------------------------------------------------------------
# Start-up

def test_app_starts_and_shows_the_default_preset(app, model, presets):
    assert app.title[0].value == i18n.ui("app_title", "zh")
    assert scorecard_text(app) == expected_scorecard(model, presets[session.DEFAULT_PRESET])
    assert app.session_state["_preset"] == session.DEFAULT_PRESET
    assert app.query_params == {}  # nothing differs from the defaults
    assert not app.warning and not app.error


def test_metrics_count_targets_met(app, model, presets):
    card = goals.scorecard(model.run(presets[session.DEFAULT_PRESET]))
    ref = goals.scorecard(model.run(presets[session.REFERENCE_PRESET]))
    s, r = scorecards.summary(card), scorecards.summary(ref)
    values = [m.value for m in app.metric]
    assert values[0] == f"{s['met']} / {s['total']}"
    assert values[1] == f"{s['doubling_met']} / {s['doubling_total']}"
    assert app.metric[0].delta.startswith(f"{s['met'] - r['met']:+d}")


# --------------------------------------------------------------------------------------------
# Sliders

@pytest.mark.parametrize("lever", LEVERS, ids=[lev.id for lev in LEVERS])
def test_every_lever_has_a_slider_from_the_table(app, lever):
    slider = app.slider(key=f"w_{lever.id}")
    assert lever.name_zh in slider.label and lever.unit_zh in slider.label
    assert (slider.min, slider.max, slider.step) == (lever.min, lever.max, lever.step)
    assert lever.plan_clause in slider.help
    assert slider.value == session.load_presets(SCENARIOS)[session.DEFAULT_PRESET].levers[lever.id][0]


@pytest.mark.parametrize("item", ASSUMPTIONS, ids=[a.id for a in ASSUMPTIONS])
def test_every_assumption_has_a_slider(app, item):
    slider = app.slider(key=f"w_{item.id}")
    assert item.name_zh in slider.label
    assert (slider.min, slider.max) == (item.min, item.max)


def test_sliders_are_grouped_by_the_plan_actions(app):
    titles = [e.label for e in app.sidebar.expander]
    for group in i18n.action_groups():
        assert group.title("zh") in titles
    assert i18n.ui("assumptions", "zh") in titles
    assert len(app.slider) == len(LEVERS) + len(ASSUMPTIONS)


def _group_levers(n: int) -> list[str]:
    return [lev.id for lev in i18n.action_groups()[n].levers]


def test_only_open_groups_draw_their_sliders(model, presets):
    """A closed lever group sends no sliders (a slider move redraws less); the first group is
    open on a new page; what a closed group's levers are set to still counts, and opening the
    group shows it; the open groups stay open through a language switch."""
    at = start(expanded=False)
    assert sorted(s.key for s in at.slider) == sorted(f"w_{i}" for i in _group_levers(0))
    titles = [e.label for e in at.sidebar.expander]
    assert titles == [g.title("zh") for g in i18n.action_groups()] + [i18n.ui("assumptions", "zh")]
    # a lever of group 0 moved, then group 0 closed and group 6 opened (as clicks do)
    at.slider(key="w_sme_campaign").set_value(20.0)
    rerun(at)
    at.session_state["_open"] = {"w_group_6"}
    rerun(at)
    assert sorted(s.key for s in at.slider) == sorted(f"w_{i}" for i in _group_levers(6))
    base = presets[session.DEFAULT_PRESET]
    assert scorecard_text(at) == expected_scorecard(model, base.with_levers(sme_campaign=20.0))
    assert at.query_params == {"sme_campaign": "20"}
    at.slider(key="w_tech_loans").set_value(0.0)
    rerun(at)
    both = base.with_levers(sme_campaign=20.0, tech_loans=0.0)
    assert scorecard_text(at) == expected_scorecard(model, both)
    at.session_state["_open"] = {"w_group_0", "w_group_6"}
    rerun(at)
    assert at.slider(key="w_sme_campaign").value == 20.0   # the session's value, not the preset's
    assert at.slider(key="w_tech_loans").value == 0.0
    at.radio(key="w_lang").set_value("en")
    rerun(at)
    assert at.session_state["_open"] == {"w_group_0", "w_group_6"}
    assert len(at.slider) == len(_group_levers(0)) + len(_group_levers(6))
    assert scorecard_text(at) == expected_scorecard(model, both, "en")


def _moved(lever: tables.Lever, current: float) -> float:
    return lever.max if current != lever.max else lever.min


@pytest.mark.parametrize("lever", LEVERS, ids=[lev.id for lev in LEVERS])
def test_moving_a_lever_reruns_the_model(app, model, presets, lever):
    """The scorecard shown after a slider move is the model's for the moved scenario."""
    before = scorecard_text(app)
    base = presets[session.DEFAULT_PRESET]
    value = _moved(lever, base.levers[lever.id][0])
    app.slider(key=f"w_{lever.id}").set_value(value)
    rerun(app)
    expected = base.with_levers(**{lever.id: value})
    assert app.session_state["_levers"][lever.id] == (value,) * 3
    assert scorecard_text(app) == expected_scorecard(model, expected)
    assert app.query_params == {lever.id: i18n.plain_number(value)}
    assert any(i18n.ui("modified", "zh") in m.value for m in app.markdown)
    if goals.scorecard(model.run(expected))["value"].round(6).tolist() != goals.scorecard(
            model.run(base))["value"].round(6).tolist():
        assert scorecard_text(app) != before


@pytest.mark.parametrize("lever_id, value", [("sme_campaign", 20.0), ("fiscal_st_growth", 30.0),
                                             ("hv_patent_cultivation", 2000.0)],
                         ids=["sme_campaign", "fiscal_st_growth", "hv_patent_cultivation"])
def test_strong_levers_change_the_scorecard(app, lever_id, value):
    before = scorecard_text(app)
    app.slider(key=f"w_{lever_id}").set_value(value)
    rerun(app)
    assert scorecard_text(app) != before


@pytest.mark.parametrize("item", ASSUMPTIONS, ids=[a.id for a in ASSUMPTIONS])
def test_moving_an_assumption_reruns_the_model(app, model, presets, item):
    base = presets[session.DEFAULT_PRESET]
    value = item.max if base.assumptions[item.id] != item.max else item.min
    app.slider(key=f"w_{item.id}").set_value(value)
    rerun(app)
    expected = base.with_assumptions(**{item.id: value})
    assert scorecard_text(app) == expected_scorecard(model, expected)
    assert app.query_params == {item.id: i18n.plain_number(value)}


def test_advanced_mode_sets_one_period(app, model, presets):
    app.toggle(key="w_advanced").set_value(True)
    rerun(app)
    assert len(app.slider) == 3 * len(LEVERS) + len(ASSUMPTIONS)
    for lever in LEVERS:
        labels = [app.slider(key=f"w_{lever.id}_{k}").label for k in range(3)]
        assert labels == [p.replace("-", "–") for p in tables.PERIODS]
    app.slider(key="w_sme_campaign_1").set_value(15.0)
    rerun(app)
    base = presets[session.DEFAULT_PRESET]
    first, _, third = base.levers["sme_campaign"]
    assert app.session_state["_levers"]["sme_campaign"] == (first, 15.0, third)
    expected = base.with_levers(sme_campaign=(first, 15.0, third))
    assert scorecard_text(app) == expected_scorecard(model, expected)
    assert app.query_params["sme_campaign"] == f"{i18n.plain_number(first)},15,{i18n.plain_number(third)}"
    assert app.query_params["mode"] == "advanced"


def test_simple_mode_shows_and_then_unifies_per_period_values(model, presets):
    at = start({"preset": "ambitious"})
    values = presets["ambitious"].levers["hte_reward"]
    assert len(set(values)) > 1
    captions = [c.value for c in at.caption]
    assert any(" / ".join(i18n.plain_number(v) for v in values) in c for c in captions)
    at.slider(key="w_hte_reward").set_value(25.0)
    rerun(at)
    assert at.session_state["_levers"]["hte_reward"] == (25.0,) * 3
    assert scorecard_text(at) == expected_scorecard(
        model, presets["ambitious"].with_levers(hte_reward=25.0))


# --------------------------------------------------------------------------------------------
# Presets, reset, language

@pytest.mark.parametrize("name", ["baseline", "plan", "ambitious"])
def test_preset_picker(app, model, presets, name):
    app.selectbox(key="w_preset").set_value(name)
    rerun(app)
    assert scorecard_text(app) == expected_scorecard(model, presets[name])
    expected_query = {} if name == session.DEFAULT_PRESET else {"preset": name}
    assert app.query_params == expected_query


def test_reset_returns_to_the_preset(app, model, presets):
    app.selectbox(key="w_preset").set_value("ambitious")
    rerun(app)
    app.slider(key="w_tech_loans").set_value(0.0)
    app.slider(key="w_gdp_growth").set_value(3.0)
    rerun(app)
    assert scorecard_text(app) != expected_scorecard(model, presets["ambitious"])
    app.button(key="w_reset").click()
    rerun(app)
    assert scorecard_text(app) == expected_scorecard(model, presets["ambitious"])
    assert app.slider(key="w_tech_loans").value == presets["ambitious"].levers["tech_loans"][0]
    assert app.query_params == {"preset": "ambitious"}


def test_language_switch(app, model, presets):
    app.radio(key="w_lang").set_value("en")
    rerun(app)
    assert app.title[0].value == i18n.ui("app_title", "en")
    assert scorecard_text(app) == expected_scorecard(model, presets[session.DEFAULT_PRESET], "en")
    for lever in LEVERS:
        slider = app.slider(key=f"w_{lever.id}")
        assert lever.name_en in slider.label and lever.unit_en in slider.label
    assert [t.label for t in app.tabs] == [i18n.ui(f"tab_{k}", "en") for k in
                                           ("scorecard", "trajectories", "compare", "solve",
                                            "sensitivity", "milestones", "map", "export")]
    assert app.query_params == {"lang": "en"}
    app.radio(key="w_lang").set_value("zh")
    rerun(app)
    assert scorecard_text(app) == expected_scorecard(model, presets[session.DEFAULT_PRESET], "zh")


# --------------------------------------------------------------------------------------------
# Upload

def test_upload_a_good_scenario(app, model):
    text = (SCENARIOS / "ambitious.yaml").read_bytes()
    app.file_uploader(key="w_upload").upload("ambitious.yaml", text, "application/x-yaml")
    rerun(app)
    scn = scenario.loads(text, source="ambitious.yaml")
    assert app.session_state["_preset"] == "upload:ambitious"
    assert scorecard_text(app) == expected_scorecard(model, scn)
    assert any(i18n.ui("upload_ok", "zh", name="ambitious") in s.value for s in app.success)
    # the link cannot name an uploaded file: it lists the differences from the default preset
    state = links.decode_query(app.query_params, session.load_presets(SCENARIOS))
    assert state.levers == dict(scn.levers) and state.errors == ()


BAD_UPLOADS = {
    "malformed": (b"name: x\nlevers: [1, 2\n", "malformed YAML"),
    "oversized": (b"name: big\n" + b"#" * 1_000_001, "1,000,000"),
    "unknown-lever": (b"name: x\nlevers:\n  warp_drive: 3\n", "unknown lever"),
    "out-of-range": (b"name: x\nlevers:\n  sme_campaign: 500\n", "out of range"),
    "not-utf8": ("name: 规划\n".encode("gbk"), "not UTF-8"),
    "empty": (b"", "empty"),
    "code": (b"!!python/object/apply:os.system ['true']\n", "malformed YAML"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS), ids=list(BAD_UPLOADS))
def test_a_bad_upload_is_rejected_and_nothing_else_changes(app, case):
    app.slider(key="w_hte_reward").set_value(45.0)
    rerun(app)
    before = (scorecard_text(app), dict(app.query_params), app.session_state["_preset"],
              dict(app.session_state["_levers"]))
    content, message = BAD_UPLOADS[case]
    app.file_uploader(key="w_upload").upload(f"{case}.yaml", content, "application/x-yaml")
    rerun(app)
    errors = [e.value for e in app.sidebar.error]
    expected = untrusted.read_upload(content, f"{case}.yaml", "zh")[1]
    assert message in expected and f"{case}.yaml" in expected
    assert errors == [f"{i18n.ui('upload_bad', 'zh')}\n\n{untrusted.md_text(i18n.detail(expected, 'zh'))}"]  # escaped
    if case != "oversized":  # the size is checked by the app, in the page's language
        with pytest.raises(scenario.ScenarioError) as exc:
            scenario.loads(content, source=f"{case}.yaml")
        assert str(exc.value) == expected  # the same message as the CLI's
    after = (scorecard_text(app), dict(app.query_params), app.session_state["_preset"],
             dict(app.session_state["_levers"]))
    assert after == before


# --------------------------------------------------------------------------------------------
# The link

def test_query_string_round_trip(model, presets):
    at = start()
    at.selectbox(key="w_preset").set_value("baseline")
    rerun(at)
    at.slider(key="w_sme_campaign").set_value(9.5)
    at.slider(key="w_inflation").set_value(3.5)
    rerun(at)
    at.toggle(key="w_advanced").set_value(True)
    rerun(at)
    at.slider(key="w_tech_loans_2").set_value(12.0)
    at.radio(key="w_lang").set_value("en")
    rerun(at)
    query = dict(at.query_params)
    assert set(query) == {"preset", "sme_campaign", "inflation", "tech_loans", "mode", "lang"}
    again = start(query)  # a new session opened from the copied link
    for key in ("_preset", "_levers", "_assumptions", "_lang", "_advanced"):
        assert again.session_state[key] == at.session_state[key]
    assert scorecard_text(again) == scorecard_text(at)
    expected = presets["baseline"].with_levers(
        sme_campaign=9.5, tech_loans=(3.0, 3.0, 12.0)).with_assumptions(inflation=3.5)
    assert scorecard_text(again) == expected_scorecard(model, expected, "en")
    assert dict(again.query_params) == query


def test_invalid_link_values_are_reported_not_fatal(model, presets):
    query = {"hte_reward": "lots", "sme_campaign": "500", "tech_loans": "6", "zzz": "1"}
    at = start(query)
    errors = links.decode_query(query, presets).errors
    text = "\n".join(errors)
    assert "hte_reward" in text and "sme_campaign" in text and "zzz" in text
    assert "tech_loans" not in text
    assert [w.value for w in at.warning] == [untrusted.link_errors_markdown(
        [i18n.detail(e, "zh") for e in errors], "zh")]
    expected = presets[session.DEFAULT_PRESET].with_levers(tech_loans=6.0)
    assert scorecard_text(at) == expected_scorecard(model, expected)
    assert dict(at.query_params) == {"tech_loans": "6"}  # the link now holds valid values only
    at.button(key="w_dismiss").click()
    rerun(at)
    assert not at.warning


# --------------------------------------------------------------------------------------------
# Views: trajectories, compare, export, meeting mode

def select_tab(at: AppTest, key: str) -> AppTest:
    at.session_state["w_tab"] = i18n.ui(f"tab_{key}", at.session_state["_lang"])
    return rerun(at)


def test_trajectories_tab_draws_every_indicator(app):
    select_tab(app, "trajectories")
    vega = app.get("vega_lite_chart")
    assert len(vega) == 2  # all indicators (one faceted chart) and the detail chart
    app.selectbox(key="w_reference").set_value("ambitious")
    rerun(app)
    assert app.session_state["_reference"] == "ambitious"
    name = session.short_title(session.load_presets(SCENARIOS)["ambitious"], "zh")
    assert app.metric[0].delta.endswith(i18n.ui("vs_reference", "zh", name=name))


def test_compare_saves_to_the_library_and_compares_up_to_four(app, model, presets):
    select_tab(app, "compare")
    assert app.info  # nothing saved yet
    for k, value in enumerate([2.0, 6.0, 10.0, 14.0]):
        app.slider(key="w_sme_campaign").set_value(value)
        app.text_input(key="w_save_name").set_value(f"方案{k}")
        rerun(app)
        app.button(key="w_save").click()
        rerun(app)
    lib = library.from_env()
    ids = app.session_state["_compare"]
    assert [lib.get(i).entry.name for i in ids] == [f"方案{k}" for k in range(4)]
    table = next(m.value for m in app.markdown if "gy-card" in m.value and "方案0" in m.value)
    for k, value in enumerate([2.0, 6.0, 10.0, 14.0]):
        card = goals.scorecard(model.run(presets[session.DEFAULT_PRESET].with_levers(
            sme_campaign=value)))
        assert f"<b>{scorecards.summary(card)['met']}/{len(card)}</b>" in table
        assert f">方案{k}</th>" in table
    app.text_input(key="w_save_name").set_value("方案4")
    rerun(app)
    app.button(key="w_save").click()
    rerun(app)  # saved to the library, but the comparison holds four already
    assert untrusted.md_text(i18n.ui("saved_not_compared", "zh", n=4)) in app.success[0].value
    assert app.session_state["_compare"] == ids and lib.count() == 5
    app.button(key="w_delete_0").click()
    rerun(app)
    assert lib.count() == 4 and app.session_state["_compare"] == ids[1:]
    app.button(key="w_load_0").click()  # 方案1 back into the sliders
    rerun(app)
    assert app.session_state["_levers"]["sme_campaign"] == (6.0,) * 3
    assert app.session_state["_preset"] == session.SAVED_PREFIX + ids[1]


def test_export_tab_offers_every_download_and_the_link(app):
    app.slider(key="w_sme_campaign").set_value(12.0)
    rerun(app)
    select_tab(app, "export")
    assert len(app.get("download_button")) == 7  # 5 exports and the brief (PDF, Word)
    assert len(app.code) == 1 and app.code[0].value.endswith("?sme_campaign=12")


def test_meeting_mode_shows_scorecard_and_key_charts(model, presets):
    at = start({"view": "meeting"})
    assert scorecard_text(at) == expected_scorecard(model, presets[session.DEFAULT_PRESET],
                                                    large=True)
    assert not at.tabs and not at.get("file_uploader")
    assert len(at.get("vega_lite_chart")) == 1
    assert len(at.slider) == len(LEVERS) + len(ASSUMPTIONS)  # still steerable live
    at.slider(key="w_sme_campaign").set_value(20.0)
    rerun(at)
    assert scorecard_text(at) == expected_scorecard(
        model, presets[session.DEFAULT_PRESET].with_levers(sme_campaign=20.0), large=True)
    at.toggle(key="w_meeting").set_value(False)
    rerun(at)
    assert at.tabs and "view" not in at.query_params


# --------------------------------------------------------------------------------------------
# Sessions never share state

@pytest.fixture
def shared_script_cache_lock(monkeypatch):
    """Compile the script under one lock, as the Streamlit server does.

    The server keeps one ``ScriptCache`` whose lock serialises compiling ``app.py``; AppTest gives
    every run a fresh cache, so two AppTests running in threads compile (``ast.parse``) at the
    same time, which CPython 3.11 does not support (spurious "SystemError: AST constructor
    recursion depth mismatch", python/cpython#106905). One lock restores the server's behaviour.
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    lock = threading.Lock()
    original = ScriptCache.get_bytecode

    def get_bytecode(self, script_path):
        with lock:
            return original(self, script_path)
    monkeypatch.setattr(ScriptCache, "get_bytecode", get_bytecode)


def test_two_sessions_rerunning_at_once_each_see_their_own_results(model, presets,
                                                                  shared_script_cache_lock):
    sessions = {"low": (start(), 2.0), "high": (start(), 18.0)}
    barrier = threading.Barrier(len(sessions))
    errors: list[BaseException] = []

    def work(at: AppTest, base_value: float) -> None:
        try:
            barrier.wait(timeout=30)
            for step in range(4):
                at.slider(key="w_sme_campaign").set_value(base_value + step * 0.5)
                at.run()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=pair) for pair in sessions.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    for at, base_value in sessions.values():
        assert not at.exception
        final = base_value + 1.5
        assert at.session_state["_levers"]["sme_campaign"] == (final,) * 3
        expected = presets[session.DEFAULT_PRESET].with_levers(sme_campaign=final)
        assert scorecard_text(at) == expected_scorecard(model, expected)
    assert scorecard_text(sessions["low"][0]) != scorecard_text(sessions["high"][0])


# --------------------------------------------------------------------------------------------
# Uncertainty switch, "what would it take", sensitivity

def probabilities(scn: scenario.Scenario):
    return uncertainty.run(scn, n=analyses.UNCERTAINTY_N, seed=analyses.UNCERTAINTY_SEED).probabilities()


def test_uncertainty_switch_adds_probabilities_and_bands(app, model, presets):
    base = presets[session.DEFAULT_PRESET]
    assert i18n.ui("col_probability", "zh") not in scorecard_text(app)  # off by default
    app.toggle(key="w_uncertainty").set_value(True)
    rerun(app)
    card = goals.scorecard(model.run(base))
    assert scorecard_text(app) == (scorecards.SCORECARD_CSS + scorecards.scorecard_html(
        card, "zh", probs=probabilities(base))).strip()
    assert i18n.ui("col_probability", "zh") in scorecard_text(app)
    c = uncertainty.run(base, n=analyses.UNCERTAINTY_N, seed=analyses.UNCERTAINTY_SEED).conditioning
    assert i18n.ui("uncertainty_kept", "zh", kept=f"{c.kept:,}", drawn=f"{c.drawn:,}",
                 cut=f"{c.cut:g}") in [x.value for x in app.caption]
    chart = app.get("vega_lite_chart")[0].proto.spec
    assert '"area"' in chart and "datum.layer == 'band'" in chart
    # recomputed live on a slider move
    app.slider(key="w_sme_campaign").set_value(20.0)
    rerun(app)
    moved = base.with_levers(sme_campaign=20.0)
    assert scorecard_text(app) == (scorecards.SCORECARD_CSS + scorecards.scorecard_html(
        goals.scorecard(model.run(moved)), "zh", probs=probabilities(moved))).strip()
    app.toggle(key="w_uncertainty").set_value(False)
    rerun(app)
    assert scorecard_text(app) == expected_scorecard(model, moved)
    assert '"area"' not in app.get("vega_lite_chart")[0].proto.spec


def test_first_page_compiles_the_uncertainty_ensemble_in_the_background(monkeypatch):
    """A new server process starts one background run of the uncertainty switch's ensemble (same
    n and seed, so the same kind of call) on the first page, and it succeeds."""
    import streamlit as st

    from simulator.sd.engine import _choose_backend
    if _choose_backend(None, "euler") != "xla":
        pytest.skip("numpy backend: there is nothing to compile")
    finished, calls = threading.Event(), []
    original = uncertainty.run

    def recording(*args, **kwargs):
        error = None
        try:
            return original(*args, **kwargs)
        except Exception as exc:
            error = repr(exc)
            raise
        finally:
            calls.append((threading.current_thread().name, kwargs.get("n"), kwargs.get("seed"),
                          error))
            finished.set()

    monkeypatch.setattr(uncertainty, "run", recording)
    st.cache_resource.clear()  # as in a fresh server process
    start()
    assert finished.wait(TIMEOUT)
    assert calls == [("ensemble-warm-up", analyses.UNCERTAINTY_N, analyses.UNCERTAINTY_SEED, None)]


def test_meeting_mode_has_no_uncertainty_switch_but_keeps_it_on(model, presets):
    at = start({"view": "meeting"})
    assert not [t for t in at.toggle if t.key == "w_uncertainty"]
    at = start()
    at.toggle(key="w_uncertainty").set_value(True)
    rerun(at)
    at.toggle(key="w_meeting").set_value(True)
    rerun(at)
    base = presets[session.DEFAULT_PRESET]
    assert not at.tabs and not [t for t in at.toggle if t.key == "w_uncertainty"]
    assert scorecard_text(at) == (scorecards.SCORECARD_CSS + scorecards.scorecard_html(
        goals.scorecard(model.run(base)), "zh", large=True, probs=probabilities(base))).strip()


def test_solver_panel_reaches_an_easy_target_and_applies_it(app, model, presets):
    base = presets[session.DEFAULT_PRESET]
    card = goals.scorecard(model.run(base))
    select_tab(app, "solve")
    assert app.multiselect(key="w_solve_targets").value == analyses.missed_targets(card)
    key = "high_tech_enterprises@2025"
    app.multiselect(key="w_solve_targets").set_value([key])
    rerun(app)
    app.button(key="w_solve_run").click()
    rerun(app)
    expected = solver.solve(base.with_levers(), [key], seed=analyses.SOLVE_SEED)
    assert expected.feasible
    ok, text = analyses.solve_summary(expected, "zh")
    assert [s.value for s in app.success] == [text]
    shown = app.dataframe[0].value
    assert shown.equals(analyses.solve_table(expected, "zh"))
    before = dict(app.session_state["_levers"])
    app.button(key="w_solve_apply").click()
    rerun(app)
    levers = app.session_state["_levers"]
    assert levers == analyses.solution_levers(expected, before) and levers != before
    assert app.slider(key="w_sme_campaign").value == levers["sme_campaign"][0]
    applied = base.with_levers(**levers)
    applied_card = goals.scorecard(model.run(applied))
    assert app.metric[0].value == f"{scorecards.summary(applied_card)['met']} / {len(applied_card)}"
    select_tab(app, "scorecard")
    assert scorecard_text(app) == expected_scorecard(model, applied)
    assert scorecard_text(app) != expected_scorecard(model, base)
    row = applied_card.set_index("key").loc[key]
    assert bool(row["met"])  # the rounded-up settings still reach the target


def test_solver_panel_says_when_targets_cannot_be_reached(app, presets):
    everything = [t.key for t in tables.targets() if t.year == 2025]
    expected = solver.solve(presets[session.DEFAULT_PRESET], everything, seed=analyses.SOLVE_SEED)
    assert not expected.feasible  # what the CLI reports for all 2025 targets
    select_tab(app, "solve")
    app.multiselect(key="w_solve_targets").set_value(everything)
    rerun(app)
    app.button(key="w_solve_run").click()
    rerun(app)
    errors = [e.value for e in app.error]
    assert errors == [analyses.solve_summary(expected, "zh")[1]]
    assert "无法达成" in errors[0] and analyses.target_label(expected.binding[0], "zh") in errors[0]
    assert len(app.dataframe[0].value) == len(LEVERS)


def test_solver_panel_in_english(app):
    app.radio(key="w_lang").set_value("en")
    rerun(app)
    select_tab(app, "solve")
    app.multiselect(key="w_solve_targets").set_value(["high_tech_enterprises@2025"])
    rerun(app)
    app.button(key="w_solve_run").click()
    rerun(app)
    assert app.success[0].value.startswith("Reachable")
    assert i18n.ui("col_lever", "en") in app.dataframe[0].value.columns


def test_sensitivity_tab_ranks_levers_and_constants(app, presets):
    select_tab(app, "sensitivity")
    target = app.selectbox(key="w_sens_target").value
    res = sensitivity.morris(presets[session.DEFAULT_PRESET], n=analyses.SENSITIVITY_TRAJECTORIES,
                             seed=analyses.SENSITIVITY_SEED)
    frame = analyses.sensitivity_frame(res.table, target, "zh")
    shown = app.dataframe[0].value
    assert shown.equals(analyses.sensitivity_display(frame, "zh"))
    assert list(frame["input"]) == list(res.ranking(target)["input"].head(analyses.SENSITIVITY_TOP))
    assert len(app.get("vega_lite_chart")) == 1
    other = tables.targets()[-1].key
    app.selectbox(key="w_sens_target").set_value(other)
    rerun(app)
    assert app.dataframe[0].value.equals(
        analyses.sensitivity_display(analyses.sensitivity_frame(res.table, other, "zh"), "zh"))


def test_rows_changed_by_a_move_are_highlighted(model, presets):
    """No highlight on arrival; after a move, exactly the targets whose value moved (computed
    here from two independent runs), until the next move; a rerun without a move keeps it."""
    at = start()
    assert highlighted(at) == set()
    base = presets[session.DEFAULT_PRESET]
    at.slider(key="w_hte_reward").set_value(60.0)
    rerun(at)
    moved = base.with_levers(hte_reward=60.0)
    before, after = goals.scorecard(model.run(base)), goals.scorecard(model.run(moved))
    expected = {k for k, a, b in zip(after["key"], after["value"], before["value"])
                if not (a == b or (a != a and b != b))}
    assert expected and expected != set(after["key"])           # some rows move, not all
    assert highlighted(at) == expected
    assert i18n.ui("changed_note", "zh", n=len(expected)) in [c.value for c in at.caption]
    at.radio(key="w_lang").set_value("en")                      # not a move: the highlight stays
    rerun(at)
    assert highlighted(at) == expected



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_pickers_say_so_in_the_page_language(lang):
    """Streamlit's own "Choose an option" would be English on the Chinese page."""
    at = start({"lang": lang})
    for tab, key in (("tab_solve", "w_solve_targets"), ("tab_milestones", "w_ms_goals")):
        at.session_state["w_tab"] = i18n.ui(tab, lang)
        rerun(at)
        assert at.multiselect(key=key).placeholder == i18n.ui("choose_targets", lang)


def test_switching_the_language_keeps_the_open_tab():
    at = start()
    at.session_state["w_tab"] = i18n.ui("tab_compare", "zh")
    rerun(at)
    at.radio(key="w_lang").set_value("en")
    rerun(at)
    assert at.session_state["w_tab"] == i18n.ui("tab_compare", "en")
    assert at.session_state["_lang"] == "en"
    assert at.title[0].value == i18n.ui("app_title", "en")


def test_lever_groups_follow_the_plan_s_sections(app):
    """三、四、五、六、七、八、九 in the sidebar, as in the plan (not the order of levers.csv)."""
    titles = [e.label for e in app.sidebar.expander if e.label != i18n.ui("assumptions", "zh")]
    assert titles == [g.title("zh") for g in i18n.action_groups()]
    assert [g.section[0] for g in i18n.action_groups()] == list("三四五六七八九")
