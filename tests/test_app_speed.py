"""The caches that make a slider move cheap show what a fresh computation shows: the trajectory
charts drawn from a cached spec per layout (``trajectory_layout_spec`` in ``app.py``) are what
``st.altair_chart`` draws from a fresh model run, and they follow every move, the language and
the view (AppTest)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from simulator import Model
from simulator.analysis import uncertainty
from simulator.app import analyses, charts, i18n, session
from simulator.plan import actuals

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
TIMEOUT = 60

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")


def _chart(at: AppTest, index: int = 0):
    """The proto of the page's ``index``-th Vega-Lite chart."""
    return at.get("vega_lite_chart")[index].proto


def _datasets(proto) -> dict[str, list[dict]]:
    """A chart's datasets by name, as rows (decoded from the Arrow bytes the page receives)."""
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist()
            for d in proto.datasets}


def _series_labels(proto) -> list[str]:
    """The series of a trajectory chart, in drawing order (its colour scale's domain)."""
    layers = json.loads(proto.spec)["spec"]["layer"]
    lines = [la for la in layers if "color" in la.get("encoding", {})]
    assert len(lines) == 1
    return lines[0]["encoding"]["color"]["scale"]["domain"]


def _fresh_chart(series: dict, kwargs: dict, width: str):
    """The proto ``st.altair_chart`` sends for ``charts.trajectory_chart(series, **kwargs)``."""
    def script(series, kwargs, width):
        import streamlit as st

        from simulator.app import charts
        st.altair_chart(charts.trajectory_chart(series, **kwargs), width=width)

    at = AppTest.from_function(script, args=(series, kwargs, width), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at.get("vega_lite_chart")[0].proto


def _current(at: AppTest):
    presets = session.load_presets(REPO / "scenarios")
    base = presets[at.session_state["_preset"]]
    current = session.build_scenario(at.session_state["_levers"], at.session_state["_assumptions"],
                                     base)
    return current, presets[session.REFERENCE_PRESET]


@pytest.fixture()
def app():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def test_key_chart_is_what_altair_chart_draws_from_a_fresh_run(app):
    """After a move to settings no session used, and in English, the scorecard's key-indicator
    chart is, element for element, the one ``st.altair_chart`` sends for a fresh run."""
    model = Model()
    for lang, value in (("zh", 17.5), ("en", 17.5), ("en", 2.5)):
        if lang != app.session_state["_lang"]:
            app.radio(key="w_lang").set_value(lang)
        app.slider(key="w_sme_campaign").set_value(value)
        app.run()
        assert not app.exception
        current, reference = _current(app)
        assert current.levers["sme_campaign"] == (value,) * 3
        shown = _chart(app)
        labels = _series_labels(shown)
        assert len(labels) == 2 and i18n.ui("current", lang) in labels[0]
        expected = _fresh_chart(
            {labels[0]: model.run(current), labels[1]: model.run(reference)},
            dict(lang=lang, indicator_ids=charts.key_indicator_ids(),
                 colors=[charts.CURRENT_COLOR, charts.REFERENCE_COLOR], dashed=[labels[1]]),
            "content")
        assert shown.spec == expected.spec
        assert _datasets(shown) == _datasets(expected)


def test_charts_follow_moves_and_come_back_with_the_settings(app):
    """A move changes the chart's data, the language its titles; moving back (a cached spec)
    draws exactly the chart first drawn for those settings."""
    first = _chart(app)
    app.slider(key="w_sme_campaign").set_value(19.0).run()
    moved = _chart(app)
    assert _datasets(moved) != _datasets(first)
    app.radio(key="w_lang").set_value("en").run()
    english = _chart(app)
    assert english.spec != moved.spec and _datasets(english) != _datasets(moved)
    app.radio(key="w_lang").set_value("zh").run()
    preset = session.load_presets(REPO / "scenarios")[app.session_state["_preset"]]
    app.slider(key="w_sme_campaign").set_value(float(preset.levers["sme_campaign"][0])).run()
    back = _chart(app)
    assert not app.exception
    assert back.spec == first.spec and _datasets(back) == _datasets(first)


@pytest.mark.parametrize("view", ["trajectories", "meeting"], ids=["trajectories-tab", "meeting"])
def test_other_views_draw_their_own_chart(view):
    """The trajectories tab (every indicator) and meeting mode (large, stretched) are cached apart
    from the scorecard's key chart: each is the chart of its own view."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if view == "meeting":
        at.query_params["view"] = "meeting"
    at.run()
    if view == "trajectories":
        at.session_state["w_tab"] = i18n.ui("tab_trajectories", "zh")
        at.run()
    assert not at.exception
    current, reference = _current(at)
    shown = _chart(at)
    labels = _series_labels(shown)
    series = {labels[0]: Model().run(current), labels[1]: Model().run(reference)}
    kwargs = dict(lang="zh", colors=[charts.CURRENT_COLOR, charts.REFERENCE_COLOR],
                  dashed=[labels[1]])
    if view == "meeting":
        kwargs.update(indicator_ids=charts.key_indicator_ids(), columns=3, large=True)
    expected = _fresh_chart(series, kwargs, "stretch" if view == "meeting" else "content")
    assert shown.spec == expected.spec and _datasets(shown) == _datasets(expected)


#: Generated actuals (not real figures): levels, bounds and a year before 2020 (widens the axis).
ACTUALS = ("indicator,year,value,kind,source,note\n"
           "tech_smes,2023,300,level,generated,\n"
           "tech_contract_turnover,2023,2,lower_bound,generated,\n"
           "science_literacy,2023,11,upper_bound,generated,\n"
           "innovation_platforms,2018,60,level,generated,\n").encode()


def test_key_chart_with_bands_and_actuals_is_altair_chart_s(app):
    """With the uncertainty switch on (bands) and actuals loaded (points, an earlier axis), the
    key chart is still the one ``st.altair_chart`` sends for fresh results, bands and actuals."""
    app.toggle(key="w_uncertainty").set_value(True)
    app.file_uploader(key="w_actuals").upload("actuals.csv", ACTUALS, "text/csv")
    app.slider(key="w_sme_campaign").set_value(16.5)
    app.run()
    assert not app.exception
    current, reference = _current(app)
    bands = uncertainty.run(current, n=analyses.UNCERTAINTY_N, seed=analyses.UNCERTAINTY_SEED,
                            spec=uncertainty.load_spec()).bands()
    shown = _chart(app)
    labels = _series_labels(shown)
    expected = _fresh_chart(
        {labels[0]: Model().run(current), labels[1]: Model().run(reference)},
        dict(lang="zh", indicator_ids=charts.key_indicator_ids(),
             colors=[charts.CURRENT_COLOR, charts.REFERENCE_COLOR], dashed=[labels[1]],
             bands=bands, observed=actuals.loads(ACTUALS, source="actuals.csv")),
        "content")
    assert '"area"' in shown.spec and "datum.layer == 'actual'" in shown.spec
    assert shown.spec == expected.spec
    assert _datasets(shown) == _datasets(expected)
