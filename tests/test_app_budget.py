"""The budget beside the sliders: the per-period summary equals the model's own budget variables
averaged by hand, over-budget settings are said plainly in the page's language, and the app shows
it next to the levers (AppTest)."""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from simulator import Model
from simulator.analysis import budget
from simulator.app import analyses, i18n, session
from simulator.plan import scenario, tables

from helpers import open_all

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
PLAN = REPO / "scenarios" / "plan.yaml"
TIMEOUT = 60

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")

#: The plan's programmes with a budget that stops growing: the S&T budget cannot pay them.
UNAFFORDABLE = {"fiscal_st_growth": 0.0, "industry_rd_programme": 3.0, "talent_introduction": 60.0}


@pytest.fixture(scope="module")
def plan_wide():
    return Model().run_wide(scenario.load(PLAN), variables=list(budget.VARIABLES))


def test_period_averages_by_hand(plan_wide):
    periods = budget.summarise(plan_wide)
    assert [p.period for p in periods] == list(tables.PERIODS)
    for p, (first, last) in zip(periods, [(2021, 2025), (2026, 2030), (2031, 2035)]):
        years = plan_wide.loc[float(first):float(last)]
        assert len(years) == 5
        assert p.budget == pytest.approx(years["fiscal_st_spending"].sum() / 5, rel=1e-12)
        assert p.requested == pytest.approx(years["requested_st_outlays"].sum() / 5, rel=1e-12)
        assert p.funded == pytest.approx(years["funded_st_outlays"].sum()
                                         / years["requested_st_outlays"].sum(), rel=1e-12)
        assert p.public_cost == pytest.approx(p.requested + p.ip_outlays + p.tax_forgone,
                                              rel=1e-12)
        assert not p.over_budget           # the plan raises its S&T budget enough


def test_unaffordable_settings_are_over_budget():
    scen = scenario.load(PLAN).with_levers(**UNAFFORDABLE)
    wide = Model().run_wide(scen, variables=list(budget.VARIABLES))
    periods = budget.summarise(wide)
    assert all(p.over_budget for p in periods)
    late = wide.loc[2026.0:]
    expected = np.minimum(1, (1 - 0.3) * late["fiscal_st_spending"] / late["requested_st_outlays"])
    np.testing.assert_allclose(late["programme_funding_fraction"], expected, rtol=1e-12)
    assert periods[-1].funded < 0.6 and periods[-1].shortfall > 1.0


def test_summary_refuses_a_run_without_the_budget_variables(plan_wide):
    with pytest.raises(KeyError, match="budget_shortfall"):
        budget.summarise(plan_wide.drop(columns=["budget_shortfall"]))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_table_and_message_in_the_page_language(plan_wide, lang):
    periods = budget.summarise(plan_wide)
    frame = analyses.budget_frame(periods, lang)
    assert list(frame.columns) == [i18n.ui(k, lang) for k in ("budget_period", "budget_budget",
                                                             "budget_requested", "budget_funded",
                                                             "budget_other")]
    assert list(frame.iloc[:, 0]) == ["2021–2025", "2026–2030", "2031–2035"]
    assert frame.iloc[0, 1] == f"{periods[0].budget:.2f}"
    assert analyses.budget_message(periods, lang) == ("ok", i18n.ui("budget_ok", lang))
    over = budget.summarise(Model().run_wide(scenario.load(PLAN).with_levers(**UNAFFORDABLE),
                                             variables=list(budget.VARIABLES)))
    kind, text = analyses.budget_message(over, lang)
    assert kind == "error"
    short = [p for p in over if p.over_budget]
    assert short and all(p.period.replace("-", "–") in text for p in short)
    gap = sum(p.shortfall for p in short) / len(short)
    assert f"{gap:.2f}" in text and f"{100 * min(p.funded for p in short):.0f}%" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_budget_html_holds_the_frame_cell_by_cell(plan_wide, lang):
    """The sidebar's HTML table: the header and every cell of ``budget_frame``, in order,
    escaped."""
    periods = budget.summarise(plan_wide)
    frame = analyses.budget_frame(periods, lang)
    text = analyses.budget_html(periods, lang)
    cells = re.findall(r"<t[hd]>([^<]*)</t[hd]>", text)
    expected = [html.escape(str(c)) for c in frame.columns]
    expected += [html.escape(str(v)) for row in frame.itertuples(index=False) for v in row]
    assert cells == expected
    assert text.count("<tr>") == 1 + len(frame) == 4
    assert 'class="gy-budget"' in text and "<script" not in text


def _budget_table(at: AppTest) -> str:
    """The budget table the sidebar shows (its HTML)."""
    assert at.sidebar.subheader[0].value == i18n.ui("budget", "zh")
    tables_shown = [m.value for m in at.sidebar.markdown if 'class="gy-budget"' in m.value]
    assert len(tables_shown) == 1
    assert not at.sidebar.dataframe                 # no data grid in the sidebar
    return tables_shown[0]


def test_app_shows_the_budget_beside_the_sliders_and_follows_a_move():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    open_all(at)  # the sliders of every lever group
    at.run()
    assert not at.exception
    shown = _budget_table(at)
    preset = session.load_presets(REPO / "scenarios")[at.session_state["_preset"]]
    expected = analyses.budget_html(budget.of_scenario(preset), "zh")
    assert shown == expected
    assert not at.sidebar.error
    for lever_id, value in UNAFFORDABLE.items():
        at.slider(key=f"w_{lever_id}").set_value(value)
        at.run()
    assert not at.exception
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and errors[0].startswith("超出科技预算")
    assert _budget_table(at) != expected


def test_one_run_saves_indicators_and_budget_as_two_runs_do():
    """``run_wide(extra=...)``, the app's single run, gives the indicators of ``Model.run`` and
    the budget of a run of the budget variables alone (same numbers, to rounding)."""
    model = Model()
    scen = scenario.load(PLAN).with_levers(sme_campaign=7.5, **UNAFFORDABLE)
    wide = model.run_wide(scen, extra=budget.VARIABLES)
    indicators = model.run_wide(scen)
    assert list(wide.columns) == [*indicators.columns, *budget.VARIABLES]
    np.testing.assert_allclose(wide[indicators.columns], indicators, rtol=1e-12, atol=0)
    for one, two in zip(budget.summarise(wide), budget.of_scenario(scen, model)):
        assert one.period == two.period
        for field in ("budget", "requested", "funded", "shortfall", "worst_shortfall",
                      "ip_outlays", "tax_forgone", "public_cost"):
            assert getattr(one, field) == pytest.approx(getattr(two, field), rel=1e-12, abs=0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"extra": ["no_such_variable"]}, KeyError, "no_such_variable"),
    ({"extra": ["rd_intensity"]}, ValueError, "rd_intensity"),
    ({"extra": ["budget_shortfall"], "variables": ["tech_smes"]}, ValueError, "not both"),
], ids=["unknown", "an-indicator", "with-variables"])
def test_extra_variables_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        Model().run_wide(scenario.load(PLAN), **kwargs)


def test_budget_shown_after_a_move_is_that_of_a_fresh_run():
    """The budget beside the sliders comes from the page's own (cached) model run: after a move
    to settings no session used, and after moving back to cached ones, it equals the summary
    of a fresh run of the settings shown."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    open_all(at)  # the sliders of every lever group
    at.run()
    preset = session.load_presets(REPO / "scenarios")[at.session_state["_preset"]]
    for value in (13.5, float(preset.levers["tech_loans"][0])):
        at.slider(key="w_tech_loans").set_value(value)
        at.run()
        assert not at.exception
        moved = preset.with_levers(tech_loans=value)
        expected = analyses.budget_html(budget.of_scenario(moved, Model()), "zh")
        assert _budget_table(at) == expected
