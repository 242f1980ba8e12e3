"""The solver tab (怎样才能达成 / What would it take) through AppTest: the central-run option and
why the central run can differ from the ensemble, the binding constraint of unreachable
targets in words, and the floors option (issue 14 item 8).

What the page shows is compared with the helpers of ``simulator.app.analyses`` applied to the
answer the page holds, and that answer's claims with ``Model().run`` of its settings. The
solver runs with fewer draws and candidates than the app's (its search is tested in
tests/test_solver.py); the page's wiring does not depend on them.
"""
from __future__ import annotations

import functools
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from simulator import Model, scorecard
from simulator.analysis import solver
from simulator.app import analyses, i18n, session
from simulator.plan import tables
from test_app import rerun, select_tab

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
TIMEOUT = 600
HTE = "high_tech_enterprises@2025"


@pytest.fixture
def small(monkeypatch):
    """A smaller search for the page's solver: 20 draws, 200 candidates."""
    monkeypatch.setattr(analyses, "SOLVE_N", 20)
    monkeypatch.setattr(solver, "solve", functools.partial(solver.solve, candidates=200))


def start(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    return rerun(at)


def set_lang(at: AppTest, lang: str) -> AppTest:
    at.radio(key="w_lang").set_value(lang)
    return rerun(at)


def shown_markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def toggle_keys(at: AppTest) -> list[str]:
    return [t.key for t in at.toggle]


def test_probability_alone_explains_the_central_run(small):
    """Baseline, certified HTEs with probability 0.5 and the central option off: the central
    run (the scorecard's) misses the target, and the page says why in zh and en."""
    at = select_tab(start({"preset": "baseline"}), "solve")
    assert "w_solve_central" not in toggle_keys(at)  # no probability: nothing to choose
    assert at.toggle(key="w_solve_floors").value is False  # floors: default off
    at.multiselect(key="w_solve_targets").set_value([HTE])
    rerun(at)
    at.toggle(key="w_solve_prob").set_value(True)
    rerun(at)
    assert at.toggle(key="w_solve_central").value is True  # default on
    at.slider(key="w_solve_p").set_value(0.5)
    at.toggle(key="w_solve_central").set_value(False)
    rerun(at)
    at.button(key="w_solve_run").click()
    rerun(at)
    result = at.session_state["_solve"][1]
    assert result.probability == 0.5 and not result.central and result.feasible
    row = scorecard(Model().run(result.scenario)).set_index("key").loc[HTE]
    assert not row["met"]  # what the scorecard shows after applying it
    for lang in ("zh", "en"):
        if lang == "en":
            set_lang(at, "en")
        notes = analyses.solve_notes(result, lang)
        assert notes and all(note in shown_markdown(at) for note in notes)
        assert at.dataframe[1].value.equals(analyses.solve_checks(result, lang))
    assert any("中心运行只是集合中的一个点" in n for n in analyses.solve_notes(result, "zh"))
    assert any("The central run is one point of the ensemble" in n
               for n in analyses.solve_notes(result, "en"))


def test_central_option_on_meets_the_scorecard(small):
    """The same with the central option on (its default): the scorecard of the answer meets
    the target and the page says so."""
    at = select_tab(start({"preset": "baseline"}), "solve")
    at.multiselect(key="w_solve_targets").set_value([HTE])
    at.toggle(key="w_solve_prob").set_value(True)
    rerun(at)
    at.slider(key="w_solve_p").set_value(0.5)
    rerun(at)
    at.button(key="w_solve_run").click()
    rerun(at)
    result = at.session_state["_solve"][1]
    assert result.central and result.feasible
    assert scorecard(Model().run(result.scenario)).set_index("key").loc[HTE, "met"]
    assert i18n.ui("solve_note_central_ok", "zh") in shown_markdown(at)


def test_unreachable_targets_with_floors(small):
    """Every 2025 target from the plan with floors on: the page names the binding targets and
    levers in en and zh, proposes the closest affordable settings, and cuts no enacted
    measure."""
    plan = session.load_presets(REPO / "scenarios")["plan"]
    everything = [t.key for t in tables.targets() if t.year == 2025]
    at = set_lang(select_tab(start(), "solve"), "en")
    at.multiselect(key="w_solve_targets").set_value(everything)
    at.toggle(key="w_solve_floors").set_value(True)
    rerun(at)
    at.button(key="w_solve_run").click()
    rerun(at)
    result = at.session_state["_solve"][1]
    assert not result.feasible and result.floors
    for lev in tables.levers():
        assert result.levers[lev.id] >= plan.levers[lev.id][0] - 1e-9, lev.id
    assert [e.value for e in at.error] == [analyses.solve_summary(result, "en")[1]]
    assert "closest affordable settings" in at.error[0].value
    for lang, words in (("en", "Binding: even at the best reachable point"),
                        ("zh", "约束：即使在最佳可达点")):
        if lang == "zh":
            set_lang(at, "zh")
        notes = analyses.solve_notes(result, lang)
        assert all(note in shown_markdown(at) for note in notes)
        assert any(note.startswith(words) for note in notes)
        assert i18n.ui("solve_note_cost", lang, annual=f"{result.cost_per_year:,.0f}",
                       best=f"{result.best_cost_per_year:,.0f}") in notes
    assert result.cost_per_year < result.best_cost_per_year
