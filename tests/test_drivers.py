"""What moves a target (simulator.analysis.drivers and the app's drivers panel): each lever's effect equals a
separate run of the scenario with that lever moved, the ranking and the direction are right, the
cost is the cost table's, and the app's buttons apply the move."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from simulator import Model, load_scenario
from simulator.analysis import drivers, solver
from simulator.app import analyses, i18n, session, untrusted
from simulator.plan import goals, tables

from helpers import open_all

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
PLAN = load_scenario(REPO / "scenarios" / "plan.yaml")
TARGETS = {t.key: t for t in tables.targets()}

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")


@pytest.mark.parametrize("values,expected", [
    ((30.0, 30.0, 30.0), (35.0, 35.0, 35.0)),      # 33 rounded up to the slider's step of 5
    ((40.0, 50.0, 60.0), (45.0, 55.0, 70.0)),      # 44, 55 (on the grid: kept), 66
    ((0.0, 10.0, 95.0), (10.0, 15.0, 100.0)),      # 0: +10 % of the range; capped at the maximum
    ((32.0, 32.0, 32.0), (40.0, 40.0, 40.0)),      # off the grid (an uploaded value): 35.2 → 40
], ids=["plain", "on-grid", "zero-and-cap", "off-grid"])
def test_move_by_hand(values, expected):
    lev = tables.lever("hte_reward")                 # range 0-100, step 5
    mv = drivers.move(lev, values)
    assert mv.after == expected                      # exactly: slider positions, no float noise
    assert not mv.at_maximum
    assert drivers.move(lev, (100.0, 100.0, 100.0)).at_maximum


@pytest.mark.parametrize("lever_id,value,expected", [
    ("tech_loans", 5.0 * 1.1, 5.5),                  # 5.500000000000001 is on the grid: 5.5
    ("tech_loans", 5.51, 6.0),
    ("hte_reward", -3.0, 0.0),                       # below the range: its minimum
    ("hte_reward", 1000.0, 100.0),                   # above: its maximum
], ids=["float-noise", "up", "below", "above"])
def test_on_grid_above_by_hand(lever_id, value, expected):
    lev = tables.lever(lever_id)
    assert lev.on_grid_above(value) == expected


@pytest.fixture(scope="module")
def effects():
    return {key: drivers.lever_effects(PLAN, TARGETS[key])
            for key in ("high_tech_enterprises@2025", "valid_invention_patents:cagr@2025",
                        "innovation_index@2035")}


def _measure(scenario, target) -> float:
    card = goals.scorecard(Model().run(scenario), [target]).iloc[0]
    return float(card["value"])


@pytest.mark.parametrize("key", ["high_tech_enterprises@2025", "valid_invention_patents:cagr@2025",
                                 "innovation_index@2035"], ids=str)
def test_effects_equal_separate_runs(effects, key):
    frame = effects[key]
    target = TARGETS[key]
    base = _measure(PLAN, target)
    assert frame["value"].iloc[0] == pytest.approx(base, rel=1e-9)
    for row in frame.head(3).itertuples():
        moved = _measure(PLAN.with_levers(**{row.lever: row.after}), target)
        assert row.moved_value == pytest.approx(moved, rel=1e-9, abs=1e-12)
        assert row.effect == pytest.approx(moved - base, rel=1e-6, abs=1e-12)


def test_ranked_by_size_with_direction_and_cost(effects):
    frame = effects["high_tech_enterprises@2025"]
    assert len(frame) == len(tables.levers())
    sizes = frame["effect"].abs().to_numpy()
    assert (np.diff(sizes) <= 1e-15).all()
    assert (frame["helps"] == (frame["effect"] > 0)).all()      # a "≥" target: up helps
    costs = solver.lever_costs()
    for row in frame.itertuples():
        assert row.cost_per_year == pytest.approx(
            costs[row.lever].cost_per_unit * np.mean(np.subtract(row.after, row.before)))
    # certification answers its own reward first (model 2.0: not the registration campaign)
    assert frame["lever"].iloc[0] == "hte_reward"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_table_and_sentence_in_the_page_language(effects, lang):
    target = TARGETS["high_tech_enterprises@2025"]
    frame = effects["high_tech_enterprises@2025"]
    shown = analyses.drivers_frame(frame, target, lang)
    assert list(shown.columns) == [i18n.ui(k, lang) for k in (
        "drivers_lever", "drivers_move", "drivers_effect", "drivers_direction", "drivers_cost")]
    assert shown.iloc[0, 0] == i18n.label(tables.lever("hte_reward"), lang)
    assert shown.iloc[0, 1].startswith("30 → 35 ")
    row = frame.iloc[0].to_dict()
    sentence = analyses.driver_sentence(row, target, lang)
    assert i18n.label(target, lang) in sentence and "2025" in sentence
    assert analyses.driver_effect_text(row["effect"], target, lang) in sentence
    assert analyses.driver_effect_text(0.0, target, lang) == i18n.ui("drivers_none", lang)
    unit = i18n.target_unit(target, lang)
    assert analyses.driver_effect_text(0.98, target, lang) == f"+0.980 {unit}"
    assert analyses.driver_effect_text(-0.00123, target, lang) == f"-0.00123 {unit}"
    assert analyses.driver_effect_text(3e-6, target, lang) == f"+0.000003 {unit}"
    # below the sixth decimal: said so, with its sign, not a signed zero ("+0.000000")
    assert analyses.driver_effect_text(4e-9, target, lang) == f"+<0.000001 {unit}"
    assert analyses.driver_effect_text(-4e-9, target, lang) == f"-<0.000001 {unit}"


def test_app_panel_is_drawn_only_while_open():
    """Closed (the default), the panel computes and draws nothing; opened, it shows the
    ranking for the first missed target."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert [e.label for e in at.main.expander] == [i18n.ui("drivers", "zh")]
    assert not [b for b in at.button if (b.key or "").startswith("w_drive_")]
    with pytest.raises(KeyError):
        at.selectbox(key="w_driver_target")
    at.session_state["_open"] = at.session_state["_open"] | {"w_drivers"}  # a click on it
    at.run()
    assert not at.exception
    assert at.selectbox(key="w_driver_target").value
    assert [b for b in at.button if (b.key or "").startswith("w_drive_")]


def test_app_panel_picks_a_missed_target_and_applies_a_move():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["_open"] = {"w_group_0", "w_drivers"}  # the default group, the panel
    at.run()
    assert not at.exception
    current = session.build_scenario(at.session_state["_levers"], at.session_state["_assumptions"],
                                session.load_presets(REPO / "scenarios")[at.session_state["_preset"]])
    card = goals.scorecard(Model().run(current))
    assert at.selectbox(key="w_driver_target").value == analyses.missed_targets(card)[0]
    at.selectbox(key="w_driver_target").set_value("high_tech_enterprises@2025").run()
    assert not at.exception
    frame = drivers.lever_effects(current, TARGETS["high_tech_enterprises@2025"])
    groups = {lev.id: n for n, g in enumerate(i18n.action_groups()) for lev in g.levers}
    # the most effective helpful lever whose sidebar group is closed (not the first group)
    first = next(row for row in analyses.helpful_drivers(frame).to_dict("records")
                 if groups[row["lever"]] != 0)
    group = f"w_group_{groups[first['lever']]}"
    assert group not in at.session_state["_open"]
    before = at.session_state["_levers"][first["lever"]]
    at.button(key=f"w_drive_{first['lever']}").click().run()
    assert not at.exception
    after = at.session_state["_levers"][first["lever"]]
    assert tuple(after) == tuple(first["after"]) and tuple(after) != tuple(before)
    # the lever's group opened, its slider at the move, which is a position of the slider
    assert group in at.session_state["_open"]
    lev = tables.lever(first["lever"])
    assert at.slider(key=f"w_{first['lever']}").value == first["after"][0]
    steps = (first["after"][0] - lev.min) / lev.step
    assert steps == pytest.approx(round(steps), abs=1e-9)


def test_app_panel_follows_moves_and_the_language():
    """The panel (cached by settings, target and language) shows, after a move and after a
    language switch, the table and sentences of a fresh ``lever_effects`` of what is shown."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    open_all(at)
    at.run()
    key = "high_tech_enterprises@2025"
    at.selectbox(key="w_driver_target").set_value(key).run()
    for lang, value in (("zh", 14.5), ("en", 14.5), ("en", 3.5)):
        if lang != at.session_state["_lang"]:
            at.radio(key="w_lang").set_value(lang)
        at.slider(key="w_sme_campaign").set_value(value).run()
        assert not at.exception
        current = session.build_scenario(
            at.session_state["_levers"], at.session_state["_assumptions"],
            session.load_presets(REPO / "scenarios")[at.session_state["_preset"]])
        assert current.levers["sme_campaign"] == (value,) * 3
        frame = drivers.lever_effects(current, TARGETS[key])
        assert len(at.main.dataframe) == 1  # the scorecard tab's only table
        table = at.main.dataframe[0].value
        assert table.equals(analyses.drivers_frame(frame, TARGETS[key], lang))
        helpful = analyses.helpful_drivers(frame).to_dict("records")
        shown = [m.value for m in at.markdown]
        for row in helpful:
            assert untrusted.md_text(analyses.driver_sentence(row, TARGETS[key], lang)) in shown
            assert at.button(key=f"w_drive_{row['lever']}").label == i18n.ui(
                "drivers_apply", lang, lever=i18n.label(tables.lever(row["lever"]), lang))
