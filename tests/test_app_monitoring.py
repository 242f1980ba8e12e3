"""Monitoring in the app (issue 13): actuals uploaded into the session, actual points on the
trajectories, the latest actual and 完成进度 in the scorecard, the link without actuals, the
"十五五 目标测算" view.

Every file of actuals here is generated (the project ships no figure from after 2020); progress
figures are checked against hand calculations written out in the tests.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from simulator.analysis import hindcast
from simulator.app import analyses, charts, exports, i18n, monitoring, session, untrusted
from simulator.base.text import format_against
from simulator.plan import actuals, goals, tables
from simulator.present.terminal import _decimals

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
TIMEOUT = 120
TOL = 1e-9

#: Generated actuals (not real figures): a level, a level above its target, a level below its
#: 2020 value, a lower bound, an upper bound, a mid-year value and pre-2020 history.
GENERATED = (
    "indicator,year,value,kind,source,note\n"
    "tech_smes,2023,300,level,generated,test data\n"
    "high_tech_enterprises,2024,70,level,generated,\n"
    "high_tech_share,2022,17,level,generated,\n"
    "tech_contract_turnover,2023,2,lower_bound,generated,突破2亿元\n"
    "science_literacy,2023,11,upper_bound,generated,\n"
    "valid_invention_patents,2023,200,level,generated,\n"
    "rd_spending_growth,2023,12,level,generated,\n"
    "high_tech_revenue,2022.5,300,level,generated,mid-year\n"
    "innovation_platforms,2018,60,level,generated,\n"
).encode()


#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")


@pytest.fixture(scope="module")
def observed() -> actuals.Actuals:
    return actuals.loads(GENERATED, source="generated.csv")


def target(key: str) -> tables.Target:
    return analyses.target_by_key(key)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def start(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    return rerun(at)


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="w_actuals").upload(name, content, "text/csv")
    return rerun(at)


def scorecard_text(at: AppTest) -> str:
    found = [m.value for m in at.markdown if 'class="gy-card' in m.value
             and "data-key=" in m.value]
    assert len(found) == 1
    return found[0]


def row_cells(html_text: str, key: str) -> dict[str, str]:
    """The cells of the scorecard row of ``key`` by class (the three monitoring columns)."""
    row = re.search(rf'<tr class="[^"]*" data-key="{re.escape(key)}">(.*?)</tr>', html_text)
    assert row, key
    cells = re.findall(r'<td class="([^"]*)">(.*?)</td>', row.group(1))
    at = [c for c, _ in cells].index("num progress")
    assert cells[at - 1][0] == "num actual"
    return {"actual": cells[at - 1][1], "progress": cells[at][1], "time": cells[at + 1][1]}


# --------------------------------------------------------------------------------------------
# 完成进度 against hand calculations

PROGRESS_CASES = {
    # (target key, value, year, base) -> expected percent, by hand
    "level": ("tech_smes@2025", 300, 2023, 103, (300 - 103) / (500 - 103) * 100),  # 49.62 %
    "level-exceeded": ("high_tech_enterprises@2025", 70, 2024, 44, (70 - 44) / (60 - 44) * 100),
    "level-moved-away": ("high_tech_share@2025", 17, 2022, 18.3, (17 - 18.3) / (25 - 18.3) * 100),
    "growth-target": ("valid_invention_patents:cagr@2025", 200, 2023, 180,
                      ((200 / 180) ** (1 / 3) - 1) * 100 / 5.5 * 100),  # 3.57 %/yr of 5.5
    "rate-indicator": ("rd_spending_growth@2025", 12, 2023, math.nan, 12 / 15 * 100),
    "goal-2035": ("rd_intensity@2035", 1.2, 2024, 0.67, (1.2 - 0.67) / (2.5 - 0.67) * 100),
}


@pytest.mark.parametrize("case", list(PROGRESS_CASES), ids=list(PROGRESS_CASES))
def test_progress_matches_the_hand_calculation(case):
    key, value, year, base, expected = PROGRESS_CASES[case]
    assert monitoring.progress_pct(target(key), value, year, base) == pytest.approx(expected, rel=TOL)


def test_hand_figures_are_what_the_docs_say():
    """The worked examples of docs/app.md, to one decimal."""
    assert monitoring.format_progress(monitoring.progress_pct(target("tech_smes@2025"), 300, 2023, 103)) \
        == "49.6%"
    assert monitoring.format_progress(monitoring.progress_pct(target("high_tech_share@2025"), 17, 2022, 18.3)) \
        == "−19.4%"
    assert monitoring.format_progress(monitoring.progress_pct(
        target("valid_invention_patents:cagr@2025"), 200, 2023, 180)) == "65.0%"


UNDEFINED = {
    "base-equals-target": (dataclasses.replace(analyses.target_by_key("tech_smes@2025"), target=103.0),
                           300, 2023, 103),
    "growth-at-2020": (analyses.target_by_key("valid_invention_patents:cagr@2025"), 180, 2020, 180),
    "growth-before-2020": (analyses.target_by_key("valid_invention_patents:cagr@2025"), 150, 2018,
                           180),
    "growth-from-zero": (analyses.target_by_key("valid_invention_patents:cagr@2025"), 300, 2023, 0),
    "no-base": (analyses.target_by_key("innovation_index@2035"), 50, 2023, math.nan),
}


@pytest.mark.parametrize("case", list(UNDEFINED), ids=list(UNDEFINED))
def test_undefined_progress_is_nan_and_shown_as_a_dash(case):
    tgt, value, year, base = UNDEFINED[case]
    pct = monitoring.progress_pct(tgt, value, year, base)
    assert math.isnan(pct)
    assert monitoring.format_progress(pct) == "—"


def test_with_progress_picks_the_latest_observation_and_marks_bounds(model, observed):
    results = model.run(session.load_presets()["plan"])
    card = monitoring.with_progress(goals.scorecard(results), observed, results)
    by = card.set_index("key")
    assert list(card.columns[-len(monitoring.PROGRESS_COLUMNS):]) == monitoring.PROGRESS_COLUMNS
    r = by.loc["tech_smes@2025"]
    assert (r["actual_value"], r["actual_year"], r["actual_kind"]) == (300, 2023, "level")
    assert r["progress_pct"] == pytest.approx((300 - 103) / (500 - 103) * 100, rel=TOL)
    assert r["time_progress_pct"] == pytest.approx((2023 - 2020) / (2025 - 2020) * 100, rel=TOL)
    assert r["progress_relation"] == "="
    # a lower bound on a rising target: progress at least; an upper bound: at most
    r = by.loc["tech_contract_turnover@2025"]
    assert r["progress_relation"] == ">=" and r["actual_kind"] == "lower_bound"
    assert r["progress_pct"] == pytest.approx((2 - 0.7) / (1.5 - 0.7) * 100, rel=TOL)
    r = by.loc["tech_contract_turnover:cagr@2025"]
    assert r["progress_relation"] == ">="
    assert r["progress_pct"] == pytest.approx(((2 / 0.7) ** (1 / 3) - 1) * 100 / 15 * 100,
                                              rel=TOL)
    r = by.loc["science_literacy@2025"]
    assert r["progress_relation"] == "<="
    assert r["progress_pct"] == pytest.approx((11 - 8.6) / (12 - 8.6) * 100, rel=TOL)
    # the growth target of a stock without a 2020 value in indicators.csv: the model's 2020 value
    r = by.loc["valid_invention_patents:cagr@2025"]
    v2020 = float(results[(results["variable"] == "valid_invention_patents")
                          & (results["time"] == 2020)]["value"].iloc[0])
    assert r["base_2020"] == v2020
    assert r["progress_pct"] == pytest.approx(((200 / v2020) ** (1 / 3) - 1) * 100 / 5.5 * 100,
                                              rel=TOL)
    # a mid-year level; pre-2020 history (progress negative, time elapsed negative: not clipped)
    assert by.loc["high_tech_revenue@2025", "actual_year"] == 2022.5
    r = by.loc["innovation_platforms@2025"]
    assert r["progress_pct"] == pytest.approx((60 - 76) / (100 - 76) * 100, rel=TOL)
    assert r["time_progress_pct"] == pytest.approx((2018 - 2020) / 5 * 100, rel=TOL)
    # no observation: NaN, empty kind
    r = by.loc["innovation_index@2035"]
    assert math.isnan(r["actual_value"]) and math.isnan(r["progress_pct"])
    assert r["actual_kind"] == ""


def test_an_observation_after_the_target_year_is_not_used_for_it(model):
    obs = actuals.loads(b"indicator,year,value\nrd_intensity,2023,0.9\nrd_intensity,2030,1.8\n",
                        source="gen.csv")
    results = model.run(session.load_presets()["plan"])
    by = monitoring.with_progress(goals.scorecard(results), obs, results).set_index("key")
    assert by.loc["rd_intensity@2025", "actual_year"] == 2023
    assert by.loc["rd_intensity@2035", "actual_year"] == 2030
    assert by.loc["rd_intensity@2035", "progress_pct"] == pytest.approx(
        (1.8 - 0.67) / (2.5 - 0.67) * 100, rel=TOL)


def test_a_level_wins_over_a_bound_of_the_same_year():
    obs = actuals.loads(b"indicator,year,value,kind\ntech_smes,2023,250,lower_bound\n"
                        b"tech_smes,2023,280,level\ntech_smes,2022,260,level\n", source="g.csv")
    found = monitoring.latest_observation(obs, "tech_smes", 2025)
    assert (found.year, found.kind, found.value) == (2023, "level", 280)


FORMATS = {
    "level": ((49.62216, "="), "49.6%"),
    "lower-bound": ((162.5, ">="), "≥ 162.5%"),
    "upper-bound": ((70.588, "<="), "≤ 70.6%"),
    "negative": ((-19.403, "="), "−19.4%"),
    "undefined": ((math.nan, ""), "—"),
}


@pytest.mark.parametrize("case", list(FORMATS), ids=list(FORMATS))
def test_progress_format(case):
    args, expected = FORMATS[case]
    assert monitoring.format_progress(*args) == expected


def test_scorecard_exports_carry_the_new_columns(model, observed):
    results = model.run(session.load_presets()["plan"])
    card = monitoring.with_progress(goals.scorecard(results), observed, results)
    frame = pd.read_csv(io.BytesIO(exports.scorecard_csv([card])), encoding="utf-8-sig")
    for column in monitoring.PROGRESS_COLUMNS:
        assert column in frame.columns
    row = frame.set_index("key").loc["tech_smes@2025"]
    # (the CSV holds 10 significant digits)
    assert row["progress_pct"] == pytest.approx((300 - 103) / (500 - 103) * 100, rel=1e-9)
    book = pd.read_excel(io.BytesIO(exports.results_excel(
        {"plan": session.load_presets()["plan"]}, {"plan": results}, {"plan": card})),
        sheet_name="scorecard", engine="openpyxl")
    assert book.set_index("key").loc["tech_smes@2025", "actual_year"] == 2023


# --------------------------------------------------------------------------------------------
# Charts

def test_chart_frame_has_every_observation_of_a_drawn_indicator(model, observed):
    results = model.run(session.load_presets()["plan"])
    frame = charts.chart_frame({"plan": results}, "en", bands=None, observed=observed)
    points = frame[frame["layer"] == "actual"]
    assert len(points) == len(observed)
    kinds = dict(zip(zip(points["time"], points["value"]), points["observed"]))
    assert kinds[(2023.0, 300.0)] == i18n.ui("actual_level", "en")
    assert kinds[(2023.0, 2.0)] == i18n.ui("actual_lower_bound", "en")
    assert kinds[(2023.0, 11.0)] == i18n.ui("actual_upper_bound", "en")
    assert set(frame.loc[frame["layer"] != "actual", "observed"]) == {""}


@pytest.mark.parametrize("lang", i18n.LANGS, ids=list(i18n.LANGS))
def test_chart_spec_draws_levels_and_bounds_with_distinct_markers(model, observed, lang):
    results = model.run(session.load_presets()["plan"])
    chart = charts.trajectory_chart({"plan": results}, lang, observed=observed)
    spec = charts.validate_spec(chart)
    layer = [la for la in spec["spec"]["layer"]
             if la.get("transform", [{}])[0].get("filter") == "datum.layer == 'actual'"]
    assert len(layer) == 1
    shape = layer[0]["encoding"]["shape"]
    assert shape["scale"]["domain"] == [charts.actual_kind_label(k, lang) for k in monitoring.ACTUAL_SHAPES]
    assert shape["scale"]["range"] == ["circle", "triangle-up", "triangle-down"]
    # history before 2020 widens the time axis back to it
    x = layer[0]["encoding"]["x"]
    assert x["scale"]["domain"] == [2018, 2035]
    detail = charts.validate_spec(charts.detail_chart({"plan": results}, "tech_smes", lang,
                                              observed=observed))
    assert any(la.get("encoding", {}).get("shape") for la in detail["layer"])
    assert "(" in detail["layer"][0]["encoding"]["y"]["title"]  # the unit on the axis


def test_no_actual_layer_without_actuals(model):
    results = model.run(session.load_presets()["plan"])
    spec = json.dumps(charts.validate_spec(charts.trajectory_chart({"plan": results}, "zh")))
    assert "datum.layer == 'actual'" not in spec and "triangle" not in spec


# --------------------------------------------------------------------------------------------
# The app (AppTest)

def test_uploaded_actuals_show_in_the_scorecard_with_hand_checked_progress(observed):
    at = upload(start(), "generated.csv", GENERATED)
    assert at.session_state["_actuals"] == observed
    assert [s.value for s in at.sidebar.success] == [
        untrusted.md_text(monitoring.actuals_summary(observed, "zh"))]
    html_text = scorecard_text(at)
    cells = row_cells(html_text, "tech_smes@2025")
    assert cells == {"actual": "300 (2023)", "progress": "49.6%", "time": "60%"}  # 197/397
    cells = row_cells(html_text, "high_tech_enterprises@2025")
    assert cells == {"actual": "70 (2024)", "progress": "162.5%", "time": "80%"}  # 26/16
    cells = row_cells(html_text, "tech_contract_turnover@2025")
    assert cells == {"actual": "≥ 2.00 (2023)", "progress": "≥ 162.5%", "time": "60%"}  # 1.3/0.8
    cells = row_cells(html_text, "rd_spending_growth@2025")
    assert cells == {"actual": "12.0 (2023)", "progress": "80.0%", "time": "60%"}  # 12/15
    cells = row_cells(html_text, "innovation_index@2035")
    assert cells == {"actual": "—", "progress": "—", "time": "—"}
    assert untrusted.html_text(i18n.ui("progress_help", "zh")) in html_text  # the column's help
    assert i18n.ui("progress_help", "zh") in [c.value for c in at.caption]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_says_actuals_stay_out_of_the_link_in_its_language(lang):
    at = start({"lang": lang})
    notes = [c.value for c in at.sidebar.caption]
    other = "en" if lang == "zh" else "zh"
    assert i18n.UI_STRINGS["actuals_private"][lang] in notes
    assert not any(i18n.UI_STRINGS["actuals_private"][other] in n for n in notes)


def test_the_link_never_contains_actuals(observed):
    at = start()
    link_before = dict(at.query_params)
    at = upload(at, "generated.csv", GENERATED)
    assert dict(at.query_params) == link_before
    at.session_state["w_tab"] = i18n.ui("tab_export", "zh")
    at = rerun(at)
    link = at.code[0].value
    text = json.dumps(dict(at.query_params)) + link
    for a in observed:
        assert a.indicator not in text
    assert "generated" not in text and "300" not in text


BAD_ACTUALS = {
    "unknown-indicator": b"indicator,year,value\nwarp_drive,2023,1\n",
    "wrong-unit-scale": b"indicator,year,value\ntech_smes,2023,0.03\n",
    "year-outside": b"indicator,year,value\ntech_smes,2040,300\n",
    "not-a-number": b"indicator,year,value\ntech_smes,2023,three hundred\n",
    "duplicate": b"indicator,year,value\ntech_smes,2023,300\ntech_smes,2023,310\n",
    "not-utf8": "indicator,year,value,note\ntech_smes,2023,300,备案\n".encode("gbk"),
    "markdown": b"indicator,year,value\n[click](https://example.com),2023,1\n",
    "empty": b"",
}


@pytest.mark.parametrize("case", list(BAD_ACTUALS), ids=list(BAD_ACTUALS))
def test_a_bad_actuals_file_gets_one_message_and_nothing_else_changes(case, observed):
    at = start()
    card_before = scorecard_text(at)
    link_before = dict(at.query_params)
    at = upload(at, f"{case}.csv", BAD_ACTUALS[case])
    with pytest.raises(actuals.ActualsError) as exc:
        actuals.loads(BAD_ACTUALS[case], source=f"{case}.csv")
    errors = [e.value for e in at.sidebar.error]
    assert errors == [f"{i18n.ui('actuals_bad', 'zh')}\n\n"
                      f"{untrusted.md_text(i18n.detail(str(exc.value), 'zh'))}"]
    assert "https://" not in errors[0]  # escaped: no link can form
    assert at.session_state["_actuals"] is None
    assert scorecard_text(at) == card_before and dict(at.query_params) == link_before
    # the session keeps working: a good file is read next, without a reload
    at = upload(at, "generated.csv", GENERATED)
    assert at.session_state["_actuals"] == observed and not at.sidebar.error


def test_an_unexpected_failure_reading_actuals_is_logged_not_shown(monkeypatch, caplog):
    def broken(data, filename, lang):
        raise RuntimeError("/work/secret/path bug")
    monkeypatch.setattr(monitoring, "read_actuals_upload", broken)
    at = upload(start(), "generated.csv", GENERATED)
    assert [e.value for e in at.sidebar.error] == [
        f"{i18n.ui('actuals_bad', 'zh')}\n\n{untrusted.md_text(i18n.ui('upload_failed', 'zh'))}"]
    assert "secret" in caplog.text and at.session_state["_actuals"] is None


def test_an_oversized_actuals_file_gets_the_apps_own_message():
    content = b"indicator,year,value\n" + b"#" * 1_000_001
    at = upload(start({"lang": "en"}), "big.csv", content)
    expected = i18n.ui("upload_too_big", "en", source="big.csv", size=f"{len(content):,}",
                     limit="1,000,000")
    assert [e.value for e in at.sidebar.error] == [
        f"{i18n.ui('actuals_bad', 'en')}\n\n{untrusted.md_text(expected)}"]


def test_a_refused_file_keeps_the_actuals_loaded_before_and_they_can_be_removed(observed):
    at = upload(start(), "generated.csv", GENERATED)
    at = upload(at, "bad.csv", BAD_ACTUALS["wrong-unit-scale"])
    assert at.session_state["_actuals"] == observed
    assert len(at.sidebar.error) == 1 and len(at.sidebar.success) == 1
    # removing the file from the uploader (its ⊗) removes the actuals
    at.file_uploader(key="w_actuals").set_value(None)
    at = rerun(at)
    assert at.session_state["_actuals"] is None and not at.sidebar.success
    assert "num progress" not in scorecard_text(at)


def test_the_charts_of_the_page_draw_the_actual_points():
    at = upload(start({"lang": "en"}), "generated.csv", GENERATED)
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "datum.layer == 'actual'" in spec
    for kind in ("actual_level", "actual_lower_bound", "actual_upper_bound"):
        assert json.dumps(i18n.ui(kind, "en")) in spec  # the legend, in the page's language
    at.session_state["w_tab"] = i18n.ui("tab_trajectories", "en")
    at = rerun(at)
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert len(specs) == 2 and "datum.layer == 'actual'" in specs[0]
    # the detail chart: points of its own indicator only (R&D intensity, the first: none)
    assert "datum.layer == 'actual'" not in specs[1]
    at.selectbox(key="w_detail").set_value("tech_smes")
    at = rerun(at)
    assert "triangle" not in at.get("vega_lite_chart")[1].proto.spec  # levels only
    assert "datum.layer == 'actual'" in at.get("vega_lite_chart")[1].proto.spec


def test_meeting_mode_keeps_the_actuals_of_the_session():
    at = upload(start(), "generated.csv", GENERATED)
    at.toggle(key="w_meeting").set_value(True)
    at = rerun(at)
    assert not at.sidebar.get("file_uploader") or all(
        u.key != "w_actuals" for u in at.sidebar.get("file_uploader"))
    assert "num progress" in scorecard_text(at)
    assert "datum.layer == 'actual'" in at.get("vega_lite_chart")[0].proto.spec


def test_milestones_view_computes_the_draft_2030_table_on_demand(model, observed):
    at = upload(start({"lang": "en"}), "generated.csv", GENERATED)
    at.session_state["w_tab"] = i18n.ui("tab_milestones", "en")
    at = rerun(at)
    assert at.session_state["_ms"] is None and not at.main.dataframe  # nothing runs until asked
    at.multiselect(key="w_ms_goals").set_value(["innovation_index@2035"])
    at.button(key="w_ms_run").click()
    at = rerun(at)
    request, res = at.session_state["_ms"]
    assert request[1] == ("innovation_index@2035",) and request[2] == observed
    assert res.feasible
    assert [s.value for s in at.main.success] == [
        untrusted.md_text(analyses.milestones_message(res, "en"))]
    # the path it rests on meets the goal when run again
    run = model.run(res.path)
    index_2035 = run[(run["variable"] == "innovation_index") & (run["time"] == 2035)]["value"]
    assert float(index_2035.iloc[0]) >= 70
    shown = at.main.dataframe[0].value
    assert shown.equals(analyses.milestones_display(res, "en"))
    assert len(shown) == len(tables.indicators())
    # the 2025 value is the latest uploaded actual up to 2025 where there is one
    row = shown.set_index(i18n.ui("col_indicator", "en")).loc[
        i18n.label(tables.indicator("tech_smes"), "en")]
    assert row[i18n.ui("ms_col_2025", "en")] == "300"
    assert row[i18n.ui("ms_col_source", "en")] == i18n.ui("ms_src_actual", "en", year="2023")
    csv = pd.read_csv(io.BytesIO(analyses.milestones_csv(res)), encoding="utf-8-sig")
    assert set(csv["row"]) <= {"indicator", "lever"} and "milestone_2030" in csv.columns
    assert at.get("download_button")[0].proto.label == i18n.ui("ms_export", "en")
    # settings changed afterwards: the result stays, marked as for earlier settings
    at.session_state["_levers"] = {**at.session_state["_levers"],
                                   "sme_campaign": (0.0, 0.0, 0.0)}
    at = rerun(at)
    assert i18n.ui("ms_stale", "en") in [i.value for i in at.info]


def test_recalibrated_toggle_shows_both_projections_and_fits_once_per_file(model, observed):
    at = upload(start(), "generated.csv", GENERATED)
    assert "recal" not in scorecard_text(at)
    at.toggle(key="w_recal").set_value(True)
    at = rerun(at)
    # the same fit the command line makes (process-wide cache: the app's fit is this one)
    rec = hindcast.recalibrate(observed, starts=monitoring.RECAL_STARTS)
    fits = len(hindcast._recalibrations)
    plan = session.load_presets()["plan"]
    card = goals.scorecard(model.run(plan, params=rec.parameters)).set_index("key")
    html_text = scorecard_text(at)
    for key in ("tech_smes@2025", "rd_intensity@2035"):
        r = card.loc[key]
        mark = "✓" if r["met"] else "✗"
        expected = f"{format_against(r['value'], r['target'], _decimals(r))} {mark}"
        row = re.search(rf'data-key="{re.escape(key)}">(.*?)</tr>', html_text).group(1)
        assert re.search(r'<td class="num recal (ok|no)">(.*?)</td>', row).group(2) == expected
    assert row_cells(html_text, "tech_smes@2025")["progress"] == "49.6%"  # still the actuals'
    assert untrusted.md_text(analyses.recal_summary(rec, "zh", "规划情景")) in [c.value for c in at.caption]
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert monitoring.RECAL_COLOR in spec and charts.CURRENT_COLOR in spec  # two projections, two colours
    # off and on again, and a lever moved: no new fit
    at.toggle(key="w_recal").set_value(False)
    at = rerun(at)
    assert "recal" not in scorecard_text(at)
    at.toggle(key="w_recal").set_value(True)
    at.session_state["_levers"] = {**at.session_state["_levers"],
                                   "sme_campaign": (5.0, 5.0, 5.0)}
    at = rerun(at)
    assert "num recal" in scorecard_text(at)
    assert len(hindcast._recalibrations) == fits


def test_recalibration_refused_for_a_file_with_nothing_to_fit_keeps_the_page():
    content = b"indicator,year,value\nrd_spending_growth,2023,12\n"
    at = upload(start({"lang": "en"}), "growth-only.csv", content)
    at.toggle(key="w_recal").set_value(True)
    at = rerun(at)
    with pytest.raises(hindcast.HindcastError) as exc:
        hindcast.recalibrate(actuals.loads(content, source="growth-only.csv"),
                             starts=monitoring.RECAL_STARTS)
    assert [w.value for w in at.warning] == [
        f"{i18n.ui('recal_failed', 'en')}\n\n{untrusted.md_text(str(exc.value))}"]
    assert "num recal" not in scorecard_text(at) and "num progress" in scorecard_text(at)


def test_milestones_with_a_probability_use_the_ensemble():
    at = start({"lang": "en"})
    at.session_state["w_tab"] = i18n.ui("tab_milestones", "en")
    at = rerun(at)
    at.multiselect(key="w_ms_goals").set_value(["innovation_index@2035"])
    at.toggle(key="w_ms_prob").set_value(True)
    at = rerun(at)
    at.slider(key="w_ms_p").set_value(0.8)
    at.button(key="w_ms_run").click()
    at = rerun(at)
    request, res = at.session_state["_ms"]
    assert request[3] == 0.8 and request[2] is None  # no actuals in this session
    assert (res.probability, res.n, res.seed) == (0.8, analyses.SOLVE_N, analyses.SOLVE_SEED)
    assert res.feasible and [s.value for s in at.main.success] == [untrusted.md_text(
        analyses.milestones_message(res, "en"))]
