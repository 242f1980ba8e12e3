"""Tests of the package simulator.app: the app's pure helpers (labels, link, scorecard, charts,
exports).

Simulated values are never written here: expectations come from ``Model().run`` or from
relations that must hold whatever the model's numbers are.
"""
from __future__ import annotations

import io
import math
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import Model
from simulator.app import analyses, charts, exports, i18n, links, scorecards, session
from simulator.base import text as textfmt
from simulator.plan import goals, scenario, tables
from simulator.plan.scenario import ScenarioError
from simulator.present import terminal

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
LEVERS = tables.levers()
ASSUMPTIONS = tables.assumptions()


# ``model`` (one loaded Model per session) comes from tests/conftest.py.

@pytest.fixture(scope="module")
def presets() -> dict[str, scenario.Scenario]:
    return session.load_presets(SCENARIOS)


@pytest.fixture(scope="module")
def runs(model, presets) -> dict[str, pd.DataFrame]:
    return {name: model.run(scn) for name, scn in presets.items()}


# --------------------------------------------------------------------------------------------
# Labels and chrome

@pytest.mark.parametrize("key", sorted(i18n.UI_STRINGS), ids=sorted(i18n.UI_STRINGS))
def test_every_ui_string_has_both_languages(key):
    entry = i18n.UI_STRINGS[key]
    assert set(entry) == set(i18n.LANGS)
    assert entry["en"], f"{key}: English text missing"
    if key != "help_effect":  # the effect column of levers.csv is English only
        assert entry["zh"], f"{key}: Chinese text missing"


def test_ui_formats_and_falls_back_to_chinese():
    assert i18n.ui("saved_ok", "en", name="A") == "Saved 'A'."
    assert i18n.ui("tab_scorecard", "xx") == i18n.UI_STRINGS["tab_scorecard"]["zh"]


def test_action_groups_hold_every_lever_once_in_the_plan_s_order():
    """Groups in the order of the plan's sections (三 … 九、十), levers within a group in the order
    of models/levers.csv."""
    groups = i18n.action_groups()
    flat = [lev.id for g in groups for lev in g.levers]
    assert sorted(flat) == sorted(lev.id for lev in LEVERS) and len(flat) == len(set(flat))
    assert [g.section for g in groups] == ["三", "四", "五", "六", "七", "八", "九、十"]
    table_order = [lev.id for lev in LEVERS]
    for g in groups:
        ids = [lev.id for lev in g.levers]
        assert ids == sorted(ids, key=table_order.index)
    assert len(groups) == len({lev.action_zh for lev in LEVERS}) == 7
    for g in groups:
        assert {lev.action_zh for lev in g.levers} == {g.name_zh}
        assert g.title("zh").endswith(g.name_zh) and g.name_en in g.title("en")


@pytest.mark.parametrize("text, expected", [("三", "3"), ("九、十", "9, 10"), ("七", "7")],
                         ids=["single", "two", "seven"])
def test_arabic_sections(text, expected):
    assert i18n.arabic_sections(text) == expected


@pytest.mark.parametrize("lever", LEVERS, ids=[lev.id for lev in LEVERS])
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_lever_help_cites_the_plan_clause_and_unit(lever, lang):
    text = i18n.lever_help(lever, lang)
    assert lever.plan_clause in text
    assert i18n.unit(lever, lang) in text
    assert (lever.effect in text) == (lang == "en")


@pytest.mark.parametrize("lever", LEVERS, ids=[lev.id for lev in LEVERS])
def test_slider_format_shows_default_and_step_exactly(lever):
    fmt = i18n.slider_format(lever)
    for x in (lever.default, lever.step, lever.min, lever.max):
        assert float(fmt % x) == pytest.approx(x, abs=1e-12)


def test_slider_format_widens_for_off_grid_values():
    lev = tables.lever("hte_reward")
    assert i18n.slider_format(lev, [12.345]) == "%.3f"


@pytest.mark.parametrize("raw, clean", [(0.30000000000000004, 0.3), (255.99999999999997, 256.0),
                                        (-0.7000000000000002, -0.7), (0.05, 0.05)],
                         ids=["tenth", "integer", "negative", "exact"])
def test_clean_value_removes_float_noise(raw, clean):
    assert i18n.clean_value(raw) == clean


@pytest.mark.parametrize("target", tables.targets(), ids=[t.key for t in tables.targets()])
def test_target_units_in_both_languages(target):
    assert i18n.target_unit(target, "zh") == target.unit
    en = i18n.target_unit(target, "en")
    assert en and not any("\u4e00" <= c <= "\u9fff" for c in en)


@pytest.mark.parametrize("text, width", [("高新技术产业营业收入占规模以上工业比重", 26),
                                         ("high-tech share of above-scale industrial revenue", 30),
                                         ("研发经费投入强度", 30)],
                         ids=["long-zh", "long-en", "short-zh"])
def test_wrap_keeps_text_and_width(text, width):
    lines = charts.wrap(text, width)
    joiner = " " if text.isascii() else ""
    assert joiner.join(lines) == text
    assert all(textfmt.display_width(line) <= width for line in lines)


# --------------------------------------------------------------------------------------------
# Presets and scenarios

def test_presets_are_the_valid_scenario_files_in_display_order(presets):
    found = session.find_presets(SCENARIOS)
    assert found.invalid == ()
    assert found.scenarios == presets
    assert list(presets)[:3] == list(session.PRESET_ORDER)
    for scn in presets.values():
        assert scn == scenario.load(scn.source)
    names = {scenario.load(SCENARIOS / f"{n}.yaml").name for n in session.PRESET_ORDER}
    assert names <= set(presets)
    assert session.DEFAULT_PRESET in presets and session.REFERENCE_PRESET in presets


def test_find_presets_sorts_files_by_kind(tmp_path):
    (tmp_path / "a.yaml").write_text("name: zeta\nlevers: {hte_reward: 20}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: plan\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("name: dist\ndistributions: {x: 1}\n", encoding="utf-8")
    (tmp_path / "d.yaml").write_text("name: bad\nlevers: {hte_reward: 999}\n", encoding="utf-8")
    (tmp_path / "e.yaml").write_text("name: zeta\n", encoding="utf-8")
    (tmp_path / "f.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    found = session.find_presets(tmp_path)
    assert list(found.scenarios) == ["plan", "zeta"]  # PRESET_ORDER first, then by name
    assert found.other == ("c.yaml",)
    assert len(found.invalid) == 3
    assert "hte_reward" in found.invalid[0] and "zeta" in found.invalid[1]
    assert "malformed YAML" in found.invalid[2]
    with pytest.raises(ScenarioError, match="hte_reward"):
        session.load_presets(tmp_path)


@pytest.mark.parametrize("lang, expected", [("zh", "规划情景"), ("en", "Plan")], ids=["zh", "en"])
def test_short_title_drops_the_explanation(presets, lang, expected):
    assert session.short_title(presets["plan"], lang) == expected
    assert session.short_title(scenario.default("x"), lang) == "x"


def test_build_scenario_keeps_the_preset_when_unchanged(presets):
    base = presets["ambitious"]
    built = session.build_scenario(base.levers, base.assumptions, base)
    assert built == base
    assert not session.is_modified(base.levers, base.assumptions, base)


def test_build_scenario_names_a_changed_scenario(presets):
    base = presets["plan"]
    levers = {**base.levers, "sme_campaign": (1.0, 2.0, 3.0)}
    built = session.build_scenario(levers, base.assumptions, base)
    assert built.name == "plan-adjusted"
    assert built.levers["sme_campaign"] == (1.0, 2.0, 3.0)
    assert "plan" in built.description
    assert session.is_modified(levers, base.assumptions, base)


def test_build_scenario_validates(presets):
    base = presets["plan"]
    with pytest.raises(ScenarioError, match="sme_campaign"):
        session.build_scenario({**base.levers, "sme_campaign": (99.0,) * 3}, base.assumptions, base)


@pytest.mark.parametrize("name", ["baseline", "plan", "ambitious"])
def test_exported_yaml_loads_again_to_the_same_scenario(presets, name):
    base = presets[name]
    levers = {**base.levers, "tech_loans": (1.5, 2.5, 3.5)}
    built = session.build_scenario(levers, {**base.assumptions, "gdp_growth": 5.5}, base)
    again = scenario.loads(built.to_yaml(), source="export.yaml")
    assert again == built


def test_scenario_key_round_trip_and_order_independence(presets):
    scn = presets["ambitious"]
    key = session.scenario_key(scn)
    assert hash(key) == hash(session.scenario_key(scn))
    back = session.scenario_from_key(key)
    assert back.levers == scn.levers and back.assumptions == scn.assumptions
    assert session.scenario_key(scn, name="other")[1:] == key[1:]


@pytest.mark.parametrize("name, ok", [("方案A", True), ("a,b", False), ("", False),
                                      ("x" * 65, False), ('say "hi"', False)],
                         ids=["chinese", "comma", "empty", "too-long", "quotes"])
def test_validate_label(name, ok):
    if ok:
        assert session.validate_label(name) == name
    else:
        with pytest.raises(ScenarioError):
            session.validate_label(name)


# --------------------------------------------------------------------------------------------
# The link

@pytest.mark.parametrize("name", ["baseline", "plan", "ambitious"])
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_a_preset_encodes_to_its_name_only(presets, name, lang):
    scn = presets[name]
    query = links.encode_query(scn.levers, scn.assumptions, preset=name, presets=presets, lang=lang)
    expected = {} if name == session.DEFAULT_PRESET else {"preset": name}
    if lang != i18n.DEFAULT_LANG:
        expected["lang"] = lang
    assert query == expected


def test_only_changed_values_are_encoded(presets):
    base = presets["plan"]
    levers = {**base.levers, "hte_reward": (40.0,) * 3, "sme_campaign": (6.0, 8.0, 8.5)}
    query = links.encode_query(levers, {**base.assumptions, "inflation": 3.0}, preset="plan",
                            presets=presets, meeting=True, advanced=True)
    assert query == {"hte_reward": "40", "sme_campaign": "6,8,8.5", "inflation": "3",
                     "view": "meeting", "mode": "advanced"}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("preset", ["baseline", "plan", "ambitious"])
def test_query_round_trip_of_random_settings(presets, preset, seed):
    rng = np.random.default_rng(seed)
    levers = {}
    for lev in LEVERS:
        steps = int(round((lev.max - lev.min) / lev.step))
        values = lev.min + lev.step * rng.integers(0, steps + 1, size=3)
        levers[lev.id] = tuple(i18n.clean_value(v) for v in
                               (values if rng.random() < 0.5 else [values[0]] * 3))
    assumptions = {a.id: i18n.clean_value(a.min + a.step * rng.integers(
        0, int(round((a.max - a.min) / a.step)) + 1)) for a in ASSUMPTIONS}
    query = links.encode_query(levers, assumptions, preset=preset, presets=presets, lang="en")
    state = links.decode_query(query, presets)
    assert state.errors == ()
    assert state.preset == preset and state.lang == "en"
    assert state.levers == levers
    assert state.assumptions == assumptions


def test_uploaded_preset_encodes_relative_to_the_default(presets):
    uploaded = presets["ambitious"].with_levers(name="mine", tech_loans=1)
    query = links.encode_query(uploaded.levers, uploaded.assumptions, preset="upload:mine",
                            presets=presets)  # the shipped presets: what a link can name
    assert "preset" not in query
    state = links.decode_query(query, presets)
    assert state.levers == dict(uploaded.levers) and state.errors == ()


@pytest.mark.parametrize("params, bad_key", [
    ({"hte_reward": "abc"}, "hte_reward"),
    ({"hte_reward": "1000"}, "hte_reward"),
    ({"hte_reward": "nan"}, "hte_reward"),
    ({"hte_reward": "inf"}, "hte_reward"),
    ({"hte_reward": "1,2"}, "hte_reward"),
    ({"gdp_growth": "1,2,3"}, "gdp_growth"),
    ({"gdp_growth": "-5"}, "gdp_growth"),
    ({"no_such_lever": "1"}, "no_such_lever"),
    ({"preset": "nope"}, "preset"),
    ({"lang": "fr"}, "lang"),
    ({"view": "slides"}, "view"),
    ({"mode": "expert"}, "mode"),
    ({"hte_reward": ""}, "hte_reward"),
], ids=["not-a-number", "out-of-range", "nan", "inf", "two-values", "assumption-periods",
        "assumption-range", "unknown-key", "unknown-preset", "unknown-lang", "unknown-view",
        "unknown-mode", "empty"])
def test_invalid_link_values_are_reported_and_ignored(presets, params, bad_key):
    good = {"sme_campaign": "7"}
    state = links.decode_query({**params, **good}, presets)
    assert len(state.errors) == 1 and bad_key in state.errors[0]
    assert state.errors[0].startswith(links.LINK_SOURCE)
    base = presets[session.DEFAULT_PRESET]
    assert state.levers["sme_campaign"] == (7.0,) * 3  # the valid part still applies
    assert state.levers["hte_reward"] == base.levers["hte_reward"]
    assert state.assumptions == dict(base.assumptions)
    assert state.preset == session.DEFAULT_PRESET and state.lang == i18n.DEFAULT_LANG


def test_repeated_key_counts_with_its_last_value(presets):
    state = links.decode_query({"hte_reward": ["20", "40"]}, presets)
    assert state.levers["hte_reward"] == (40.0,) * 3 and state.errors == ()


def test_reserved_keys_are_no_lever_or_assumption_ids():
    ids = {lev.id for lev in LEVERS} | {a.id for a in ASSUMPTIONS}
    assert not ids & set(links.RESERVED_QUERY_KEYS)
    assert len(ids) == len(LEVERS) + len(ASSUMPTIONS)


# --------------------------------------------------------------------------------------------
# Scorecards

@pytest.mark.parametrize("margin, decimals, text", [
    (-0.004, 2, "−0.004"), (0.004, 2, "+0.004"), (0.0, 2, "+0.00"), (-12.3, 0, "−12"),
    (3.25, 1, "+3.2"), (-0.0000001, 2, "−0.0000001"), (math.nan, 1, "—"),
], ids=["small-miss", "small-meet", "zero", "integer", "round", "tiny", "nan"])
def test_format_margin_never_prints_a_nonzero_margin_as_zero(margin, decimals, text):
    assert scorecards.format_margin(margin, decimals) == text


def _with_value(results: pd.DataFrame, indicator: str, year: float, value: float) -> pd.DataFrame:
    out = results.copy()
    mask = (out["variable"] == indicator) & np.isclose(out["time"], year)
    out.loc[mask, "value"] = value
    return out


@pytest.mark.parametrize("indicator, value", [
    ("tech_contract_turnover", 1.4999), ("tech_contract_turnover", 1.496),
    ("rd_intensity", 1.0499999), ("tech_smes", 499.6), ("high_tech_revenue", 449.96),
], ids=["turnover-4dp", "turnover-3dp", "rd-7dp", "smes", "revenue"])
def test_a_missed_target_never_prints_equal_to_its_target(runs, indicator, value):
    card = goals.scorecard(_with_value(runs["plan"], indicator, 2025.0, value))
    disp = scorecards.scorecard_display(card, "zh")
    row_card = card[card["key"] == f"{indicator}@2025"].iloc[0]
    row = disp[disp["key"] == f"{indicator}@2025"].iloc[0]
    assert not row_card["met"]
    assert row["status"] == i18n.ui("missed", "zh")
    target_text = row["target"].split(" ", 1)[1]
    assert row["value"] != target_text
    assert float(row["value"].replace(",", "")) < row_card["target"]
    assert float(row["margin"][1:]) != 0 and row["margin"].startswith("−")


def test_strict_target_met_exactly_is_shown_missed(runs):
    card = goals.scorecard(_with_value(runs["plan"], "high_tech_share", 2025.0, 25.0))
    row = scorecards.scorecard_display(card, "en").set_index("key").loc["high_tech_share@2025"]
    assert row["status"] == i18n.ui("missed", "en") and row["target"].startswith(">")


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("name", ["baseline", "plan", "ambitious"])
def test_scorecard_display_agrees_with_the_scorecard(runs, name, lang):
    card = goals.scorecard(runs[name])
    disp = scorecards.scorecard_display(card, lang)
    assert list(disp["key"]) == [t.key for t in tables.targets()]
    assert list(disp["met"]) == list(card["met"])
    for (_, d), (_, c) in zip(disp.iterrows(), card.iterrows()):
        assert d["status"] == i18n.ui("met" if c["met"] else "missed", lang)
        shown = float(d["value"].replace(",", ""))
        assert shown == pytest.approx(c["value"], abs=0.5 * 10 ** -(len(d["value"].split(".")[1])
                                                                      if "." in d["value"] else 0)
                                      + 1e-9)
        if pd.isna(c["first_year_met"]):
            assert d["first_met"] == "—"
        else:
            assert int(d["first_met"]) == c["first_year_met"]
        assert d["margin"].startswith("+") == (c["margin"] >= 0)


def test_summary_counts(runs):
    card = goals.scorecard(runs["plan"])
    s = scorecards.summary(card)
    assert s["met"] == int(card["met"].sum()) and s["total"] == len(tables.targets())
    assert s["doubling_total"] == sum(t.doubling for t in tables.targets()) == 4
    assert s["late_year"] == 2035
    assert s["late_total"] == sum(t.year == 2035 for t in tables.targets())
    met = card.set_index("key")["met"]  # the counts of met targets, one target at a time
    assert s["doubling_met"] == sum(bool(met[t.key]) for t in tables.targets() if t.doubling)
    assert s["late_met"] == sum(bool(met[t.key]) for t in tables.targets() if t.year == 2035)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_scorecard_html_rows_marks_and_names(runs, lang):
    card = goals.scorecard(runs["plan"])
    text = scorecards.scorecard_html(card, lang)
    assert text.count("<tr class=") == len(tables.targets())
    assert text.count("★") == sum(t.doubling for t in tables.targets())
    assert text.count(i18n.ui("met", lang)) == int(card["met"].sum())
    assert text.count(i18n.ui("missed", lang)) == int((~card["met"]).sum())
    for tgt in tables.targets():
        assert i18n.label(tgt, lang).replace("&", "&amp;") in text
    assert 'class="gy-card large"' in scorecards.scorecard_html(card, lang, large=True)


def test_scorecard_html_escapes_text(runs, monkeypatch):
    card = goals.scorecard(runs["plan"])
    monkeypatch.setitem(i18n.UI_STRINGS, "col_unit", {"zh": "<b>x</b>", "en": "<b>x</b>"})
    assert "<b>x</b>" not in scorecards.scorecard_html(card, "zh")
    assert "&lt;b&gt;x&lt;/b&gt;" in scorecards.scorecard_html(card, "zh")


def test_compare_html_one_column_per_scenario(runs):
    cards = {name: goals.scorecard(res) for name, res in runs.items()}
    text = scorecards.compare_html(cards, "zh")
    for name, card in cards.items():
        assert f">{name}</th>" in text
        s = scorecards.summary(card)
        assert f"<b>{s['met']}/{s['total']}</b>" in text
    assert text.count("✓") == sum(int(c["met"].sum()) for c in cards.values())


# --------------------------------------------------------------------------------------------
# Charts

def test_key_indicators_come_from_the_targets_table():
    ids = charts.key_indicator_ids()
    doubling = {t.indicator for t in tables.targets() if t.doubling}
    assert doubling <= set(ids)
    assert {"rd_intensity", "innovation_index"} <= set(ids)
    assert ids == [i.id for i in tables.indicators() if i.id in ids]


def test_target_levels_match_the_scorecard_for_growth_targets(runs):
    """A growth target drawn as a level is met exactly when the level is reached."""
    for name, res in runs.items():
        levels = charts.target_levels(res).set_index(["indicator", "year"])
        card = goals.scorecard(res).set_index("key")
        for tgt in tables.targets():
            row = card.loc[tgt.key]
            level = levels.loc[(tgt.indicator, tgt.year), "level"]
            if isinstance(level, pd.Series):  # an indicator with a level and a growth target
                level = level[[t.key == tgt.key for t in levels.loc[(tgt.indicator, tgt.year),
                                                                    "target"]]].iloc[0]
            value = res[(res["variable"] == tgt.indicator)
                        & np.isclose(res["time"], tgt.year)]["value"].iloc[0]
            if tgt.kind == "level":
                assert level == tgt.target
            else:
                assert (value >= level - 1e-9) == bool(row["met"]), (name, tgt.key)


def test_chart_frame_rows(runs):
    series = {"a": runs["plan"], "b": runs["baseline"]}
    frame = charts.chart_frame(series, "zh")
    lines = frame[frame["layer"] == "line"]
    for name, res in series.items():
        assert (lines["series"] == name).sum() == res["value"].notna().sum()
    assert (frame["layer"] == "target").sum() == len(tables.targets())
    assert frame["panel"].nunique() == len(tables.indicators())
    one = charts.chart_frame(series, "en", ["tech_smes"])
    assert one["panel"].nunique() == 1 and "firms" in one["panel"].iloc[0]


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("subset", ["all", "key"])
def test_trajectory_chart_spec_is_valid(runs, lang, large, subset):
    ids = None if subset == "all" else charts.key_indicator_ids()
    chart = charts.trajectory_chart({"cur": runs["plan"], "ref": runs["baseline"]}, lang,
                                indicator_ids=ids, large=large, dashed=["ref"])
    spec = charts.validate_spec(chart)
    assert spec["facet"]["field"] == "panel" and spec["resolve"]["scale"]["y"] == "independent"
    assert len(spec["facet"]["sort"]) == (len(tables.indicators()) if ids is None else len(ids))


@pytest.mark.parametrize("ind", tables.indicators(), ids=[i.id for i in tables.indicators()])
def test_detail_chart_spec_is_valid_and_titled_with_unit(runs, ind):
    chart = charts.detail_chart({"cur": runs["plan"], "ref": runs["baseline"]}, ind.id, "zh")
    spec = charts.validate_spec(chart)
    assert spec["title"]["text"] == ind.name_zh
    assert ind.unit_zh in spec["layer"][0]["encoding"]["y"]["title"]


def test_chart_templates_are_never_mutated(runs):
    a = charts.trajectory_chart({"cur": runs["plan"], "ref": runs["baseline"]}, "zh")
    b = charts.trajectory_chart({"cur": runs["ambitious"], "ref": runs["baseline"]}, "zh")
    assert a.data is not b.data
    assert charts._trajectory_template.cache_info().hits >= 1  # both built from one template
    assert a.data["value"].tolist() != b.data["value"].tolist()
    spec_a, spec_b = a.to_dict(), b.to_dict()
    assert spec_a["datasets"] != spec_b["datasets"]  # each chart carries its own data
    assert spec_a["facet"] == spec_b["facet"]


# --------------------------------------------------------------------------------------------
# Exports

def test_results_csv_round_trip(runs):
    series = {"a": runs["plan"], "b": runs["baseline"]}
    data = exports.results_csv(series)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Chinese units
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    expected = pd.concat(list(series.values()), ignore_index=True)
    assert list(back.columns) == list(expected.columns)
    np.testing.assert_allclose(back["value"], expected["value"], rtol=1e-9)
    assert list(back["unit"]) == list(expected["unit"])


def test_scorecard_csv_round_trip(runs):
    cards = [goals.scorecard(runs["plan"]), goals.scorecard(runs["baseline"])]
    back = pd.read_csv(io.BytesIO(exports.scorecard_csv(cards)), encoding="utf-8-sig")
    assert len(back) == 2 * len(tables.targets())
    assert list(back["met"]) == list(pd.concat(cards)["met"])


def test_results_excel_has_every_sheet(runs, presets):
    openpyxl = pytest.importorskip("openpyxl")
    series = {"当前": runs["plan"], "ref": runs["baseline"]}
    cards = {k: goals.scorecard(v) for k, v in series.items()}
    data = exports.results_excel({"当前": presets["plan"], "ref": presets["baseline"]}, series, cards)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[:2] == ["scorecard", "results"]
    assert {"by year 当前", "by year ref", "settings 当前", "settings ref"} <= set(book.sheetnames)
    settings = pd.read_excel(io.BytesIO(data), sheet_name="settings 当前", engine="openpyxl")
    row = settings.set_index("id").loc["hte_reward"]
    assert tuple(row[list(tables.PERIODS)]) == presets["plan"].levers["hte_reward"]
    wide = pd.read_excel(io.BytesIO(data), sheet_name="by year ref", index_col=0,
                         engine="openpyxl")
    assert list(wide.index) == list(range(2020, 2036))


@pytest.mark.parametrize("lang", i18n.LANGS, ids=list(i18n.LANGS))
def test_results_excel_headers_are_labels_and_the_ids_sheet_maps_them_back(runs, presets, lang):
    series = {"cur": runs["ambitious"], "ref": runs["baseline"]}
    cards = {k: goals.scorecard(v) for k, v in series.items()}
    data = exports.results_excel({"cur": presets["ambitious"], "ref": presets["baseline"]},
                                 series, cards, lang=lang)
    book = pd.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl")
    ids = book.pop("ids")
    assert set(ids["sheet"]) == set(book)  # every data sheet is mapped
    code_ids = {*cards["cur"].columns, *runs["plan"].columns, "id", "name_zh", "kind",
                *(i.id for i in tables.indicators())}
    for sheet, frame in book.items():
        mapping = ids[ids["sheet"] == sheet]
        headers = [*([frame.columns[0]] if sheet.startswith("by year") else []),
                   *frame.columns[1 if sheet.startswith("by year") else 0:]]
        assert list(mapping["column"]) == [str(h) for h in headers], sheet
        assert not (set(map(str, frame.columns)) & code_ids), sheet  # no code id as a header
    # the data are the same as in the machine workbook, under readable headers
    mine = ids[ids["sheet"] == "scorecard"]
    card = book["scorecard"].rename(columns=dict(zip(mine["column"], mine["id"])))
    expected = pd.concat([c.assign(scenario=k) for k, c in cards.items()], ignore_index=True)
    np.testing.assert_allclose(card["value"], expected["value"], rtol=1e-12)
    assert list(card["key"]) == list(expected["key"])
    unit_header = exports.excel_header("unit", lang)
    wide = book["by year cur"]
    ind = tables.indicator("rd_intensity")
    assert f"{i18n.label(ind, lang)} [{i18n.unit(ind, lang)}]" in wide.columns  # with its unit
    assert unit_header in book["results"].columns


def test_excel_headers_exist_in_both_languages_for_every_exported_column(runs, presets):
    """A column the workbook writes without a label would show its code id."""
    from simulator.app import monitoring
    columns = {*goals.scorecard(runs["plan"]).columns, *monitoring.PROGRESS_COLUMNS,
               *runs["plan"].columns, "scenario",
               *(c for c in exports.settings_table(presets["plan"]).columns
                 if c not in tables.PERIODS)}
    for lang in i18n.LANGS:
        unlabelled = [c for c in columns if exports.excel_header(c, lang) == c]
        assert not unlabelled, lang


def test_settings_table_lists_levers_and_assumptions(presets):
    table = exports.settings_table(presets["ambitious"])
    assert len(table) == len(LEVERS) + len(ASSUMPTIONS)
    assert set(table["id"]) == {lev.id for lev in LEVERS} | {a.id for a in ASSUMPTIONS}


def _pack_names(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture(scope="module")
def pack_inputs(runs):
    series = {"当前设置": runs["plan"], "参照情景": runs["baseline"]}
    return series, goals.scorecard(runs["plan"])


def test_figure_pack_in_chinese(pack_inputs):
    """PNG and PDF; pytest turns matplotlib's 'Glyph missing' warning into a failure."""
    if exports.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian package fonts-noto-cjk)")
    series, card = pack_inputs
    files = _pack_names(exports.figure_pack(series, card, "zh", title="规划情景", dashed=["参照情景"]))
    pngs = [n for n in files if n.endswith(".png")]
    assert "1-scorecard.png" in pngs and "2-key-indicators.png" in pngs
    assert len([n for n in pngs if n.startswith("3-all-indicators")]) == math.ceil(
        len(tables.indicators()) / 6)
    assert all(files[n].startswith(b"\x89PNG") for n in pngs)
    assert files["figures.pdf"].startswith(b"%PDF")
    assert files["figures.pdf"].count(b"/Type /Page") - files["figures.pdf"].count(
        b"/Type /Pages") == len(pngs)  # one PDF page per figure
    assert b"CJK" not in files["README.txt"]


def test_figure_pack_slides_name_their_settings(pack_inputs, presets, monkeypatch):
    """Every figure of the pack (each PNG and its page of figures.pdf) gets the footer: the
    scenario and its settings away from the 2020 level."""
    series, card = pack_inputs
    scn = presets["plan"]
    drawn = []
    real = exports.draw_footer

    def spy(fig, text, **kwargs):
        drawn.append((id(fig), text))
        real(fig, text, **kwargs)

    monkeypatch.setattr(exports, "draw_footer", spy)
    files = _pack_names(exports.figure_pack(series, card, "zh", title="规划情景",
                                            dashed=["参照情景"], scenario=scn))
    footer = exports.settings_footer(scn, "zh" if exports.cjk_font() else "en")
    assert [text for _, text in drawn] == [footer] * len([n for n in files if n.endswith(".png")])
    assert len({fig for fig, _ in drawn}) == len(drawn)  # one per figure
    drawn.clear()
    exports.figure_pack(series, card, "zh", title="规划情景", dashed=["参照情景"])
    assert not drawn  # without a scenario, no footer


@pytest.mark.parametrize("lang", i18n.LANGS, ids=list(i18n.LANGS))
def test_settings_footer_names_the_scenario_and_cuts_long_lists(presets, lang):
    scn = presets["ambitious"]
    changed = exports.changed_settings(scn)
    assert [item.id for item, _ in changed] == [
        lev.id for lev in LEVERS if set(scn.levers[lev.id]) != {lev.default}] + [
        a.id for a in ASSUMPTIONS if scn.assumptions[a.id] != a.default]
    full = exports.settings_footer(scn, lang, width=10_000)
    assert exports.scenario_title(scn, lang) in full
    for item, values in changed:
        assert exports.setting_text(item, values, lang) in full
    for width in (160, 240):  # at least one setting, more while they fit in ``width``
        short = exports.settings_footer(scn, lang, width=width)
        shown = short.count("；" if lang == "zh" else "; ") + 1
        assert shown == 1 or textfmt.display_width(short) <= width
        assert shown < len(changed)
        assert short.endswith(i18n.ui("settings_more", lang, n=len(changed) - shown))
    assert exports.settings_footer(scenario.default("d"), lang).endswith(
        i18n.ui("settings_none", lang))


def test_figure_pack_falls_back_to_english_without_a_cjk_font(pack_inputs, monkeypatch):
    monkeypatch.setattr(exports, "cjk_font", lambda: None)
    series, card = pack_inputs
    files = _pack_names(exports.figure_pack(
        series, card, "zh", title="规划情景", dashed=["参照情景"],
        fallback_labels={"当前设置": "Current", "参照情景": "Reference", "规划情景": "Plan"}))
    assert b"No CJK font" in files["README.txt"]
    assert files["1-scorecard.png"].startswith(b"\x89PNG")


def test_deferred_computes_once():
    calls = []

    def make(x: int) -> bytes:
        calls.append(x)
        return bytes([x])

    fn = exports.deferred(make, 7)
    assert fn() == b"\x07" and fn() == b"\x07" and calls == [7]


# --------------------------------------------------------------------------------------------
# Sessions share no model state

def test_concurrent_runs_equal_serial_runs(model, presets):
    """Two runs with different scenarios at the same moment give the serial results."""
    scens = [presets["baseline"], presets["ambitious"],
             presets["plan"].with_levers(name="p2", sme_campaign=(2, 12, 20)),
             presets["plan"].with_assumptions(name="p3", gdp_growth=3.0)]
    serial = {s.name: model.run(s) for s in scens}
    barrier = threading.Barrier(len(scens))
    out: dict[str, list[pd.DataFrame]] = {s.name: [] for s in scens}
    errors: list[BaseException] = []

    def work(s):
        try:
            barrier.wait(timeout=30)
            for _ in range(5):
                out[s.name].append(model.run(s))
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in scens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for name, frames in out.items():
        assert len(frames) == 5
        for frame in frames:
            pd.testing.assert_frame_equal(frame, serial[name], rtol=1e-12)
    assert not serial["baseline"]["value"].equals(serial["ambitious"]["value"])


# --------------------------------------------------------------------------------------------
# Uncertainty, solver and sensitivity helpers

@pytest.fixture(scope="module")
def ensemble(presets):
    from simulator.analysis import uncertainty
    return uncertainty.run(presets["plan"], n=50, seed=0)


def test_format_probability_and_range():
    assert scorecards.format_probability(0.136) == "13.6%"
    assert scorecards.format_probability(1.0) == "100.0%" and scorecards.format_probability(math.nan) == "—"
    assert scorecards.format_range(211.2, 552.4, 0) == "211–552"
    assert scorecards.format_range(math.nan, 1.0, 1) == "—"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_scorecard_with_probabilities(runs, ensemble, lang):
    card = goals.scorecard(runs["plan"])
    probs = ensemble.probabilities()
    disp = scorecards.scorecard_display(card, lang, probs)
    by_key = probs.set_index("key")
    for _, r in disp.iterrows():
        p = by_key.loc[r["key"]]
        assert r["probability"] == scorecards.format_probability(p["probability"])
        assert r["range"].startswith(textfmt.format_number(p["p05"], terminal._decimals(
            card.set_index("key").loc[r["key"]].to_dict() | {"key": r["key"]})))
    html_text = scorecards.scorecard_html(card, lang, probs=probs)
    assert html_text.count('class="num prob"') == len(card)
    assert i18n.ui("col_probability", lang) in html_text and i18n.ui("col_range", lang) in html_text
    plain = scorecards.scorecard_html(card, lang)
    assert "prob" not in plain and i18n.ui("col_probability", lang) not in plain


def test_band_rows_and_chart_specs(runs, ensemble):
    bands = ensemble.bands()
    series = {"cur": runs["plan"], "ref": runs["baseline"]}
    frame = charts.chart_frame(series, "zh", bands=bands)
    band = frame[frame["layer"] == "band"]
    defined = bands["variable"].map({i.id: i.defined_from for i in tables.indicators()})
    assert len(band) == (np.isfinite(bands["p05"]) & (bands["time"] >= defined)).sum()
    lines = frame[(frame["layer"] == "line") & (frame["series"] == "cur")]
    assert set(zip(band["panel"], band["time"])) == set(zip(lines["panel"], lines["time"]))
    assert (band["lo"] <= band["hi"]).all() and frame[frame["layer"] != "band"]["lo"].isna().all()
    assert band["panel"].nunique() == len(tables.indicators())
    for large in (False, True):
        spec = charts.validate_spec(charts.trajectory_chart(series, "zh", bands=bands, large=large,
                                                    indicator_ids=charts.key_indicator_ids()))
        assert spec["spec"]["layer"][0]["mark"]["type"] == "area"
    spec = charts.validate_spec(charts.detail_chart(series, "tech_smes", "en", bands=bands))
    assert spec["layer"][0]["mark"]["type"] == "area"
    assert i18n.ui("band_label", "en") in charts.chart_frame(series, "en", ["tech_smes"],
                                                       bands=bands)["series"].tolist()


def test_missed_targets_and_labels(runs):
    card = goals.scorecard(runs["plan"])
    missed = analyses.missed_targets(card)
    assert missed == [r["key"] for _, r in card.iterrows() if r["year"] == 2025 and not r["met"]]
    for tgt in tables.targets():
        assert analyses.target_label(tgt.key, "zh").startswith(tgt.name_zh)
        assert str(tgt.year) in analyses.target_label(tgt.key, "en")


class _FakeResult:
    """What the solver helpers read from a SolveResult."""

    def __init__(self, levers, feasible=True, binding=(), probability=None):
        self.levers = levers
        self.periods = ("2021-2025",)
        self.feasible = feasible
        self.binding = binding
        self.probability = probability
        keys = list(binding) or ["tech_smes@2025"]
        self.margins = pd.DataFrame({"key": keys, "margin": [-0.1 if not feasible else 0.0]
                                     * len(keys)})
        self.cost_per_year, self.cost_total, self.years = 1234.4, 6172.0, 5


def test_solution_levers_round_up_to_the_slider_step(presets):
    plan = presets["plan"]
    raw = {lev.id: lev.default + 0.37 * lev.step for lev in LEVERS}
    raw["sme_campaign"] = tables.lever("sme_campaign").max + 1  # clipped to the range
    out = analyses.solution_levers(_FakeResult(raw), plan.levers)
    for lev in LEVERS:
        first, *later = out[lev.id]
        assert later == list(plan.levers[lev.id][1:])  # later periods unchanged
        assert lev.min <= first <= lev.max
        assert first >= min(raw[lev.id], lev.max) - 1e-9
        assert math.isclose(((first - lev.min) / lev.step) % 1, 0, abs_tol=1e-6) or \
            math.isclose(((first - lev.min) / lev.step) % 1, 1, abs_tol=1e-6) or first == lev.max
    scenario.from_dict({"name": "x", "levers": {k: list(v) for k, v in out.items()}})


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_solve_table_and_summary(lang):
    from simulator.analysis.solver import lever_costs
    raw = {lev.id: lev.default for lev in LEVERS} | {"sme_campaign": 11.0}
    table = analyses.solve_table(_FakeResult(raw), lang)
    assert len(table) == len(LEVERS)
    assert list(table.columns) == [i18n.ui("col_lever", lang), i18n.ui("col_level_2020", lang),
                                   i18n.ui("col_proposed", lang, periods="2021–2025"),
                                   i18n.ui("col_unit", lang), i18n.ui("col_cost", lang)]
    row = table.iloc[[lev.id for lev in LEVERS].index("sme_campaign")]
    lev = tables.lever("sme_campaign")
    assert row.iloc[0] == i18n.label(lev, lang)
    assert row.iloc[4] == f"{lever_costs()['sme_campaign'].cost_per_unit * (11 - lev.default):,.0f}"
    ok, text = analyses.solve_summary(_FakeResult(raw), lang)
    assert ok and text.startswith(i18n.ui("solve_reachable", lang, n=1, how=i18n.ui(
        "solve_how_det", lang)))
    ok, text = analyses.solve_summary(_FakeResult(raw, feasible=False,
                                            binding=("high_tech_revenue@2025",)), lang)
    assert not ok and analyses.target_label("high_tech_revenue@2025", lang) in text
    assert analyses.solve_cost_text(_FakeResult(raw), lang).count("1,234") == 1


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_sensitivity_frame_labels_and_chart(presets, lang):
    from simulator.analysis import sensitivity
    tgt = tables.targets()[0]
    res = sensitivity.morris(presets["plan"], n=4, seed=0, targets=[tgt])
    frame = analyses.sensitivity_frame(res.table, tgt.key, lang, k=8)
    ranking = res.ranking(tgt.key).head(8)
    assert list(frame["input"]) == list(ranking["input"])
    for _, r in frame.iterrows():
        if r["input"] in {lev.id for lev in LEVERS}:
            assert r["label"] == i18n.label(tables.lever(r["input"]), lang)
            assert r["kind"] == i18n.ui("kind_lever", lang)
        else:
            assert r["label"] == i18n.constant_name(r["input"], lang) != r["input"]
            assert r["kind"] == i18n.ui("kind_constant", lang)
    assert (frame["lo"] >= 0).all() and (frame["hi"] >= frame["mu_star"]).all()
    spec = charts.validate_spec(analyses.sensitivity_chart(frame, lang, "t"))
    assert spec["layer"][0]["encoding"]["y"]["sort"] == list(frame["label"])
    disp = analyses.sensitivity_display(frame, lang)
    assert list(disp[i18n.ui("col_input", lang)]) == list(frame["label"])
    with pytest.raises(KeyError):
        analyses.sensitivity_frame(res.table, "nothing@2025", lang)


def test_changed_targets_by_hand():
    card = pd.DataFrame({"key": ["a@2025", "b@2025", "c@2025", "d@2035"],
                         "value": [1.0, 2.0, float("nan"), 5.0]})
    assert scorecards.changed_targets(None, card) == set()
    same = {"a@2025": 1.0, "b@2025": 2.0, "c@2025": float("nan"), "d@2035": 5.0}
    assert scorecards.changed_targets(same, card) == set()
    before = {"a@2025": 1.0 + 1e-12, "b@2025": 2.1, "c@2025": 3.0}   # d@2035 new
    assert scorecards.changed_targets(before, card) == {"b@2025", "c@2025", "d@2035"}
    html_text = scorecards.scorecard_html(goals.scorecard(Model().run(scenario.default())), "en",
                                  changed={"tech_smes@2025"})
    assert html_text.count(' changed"') == 1
    assert 'data-key="tech_smes@2025" title="changed with the last move"' in html_text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_column_menu_script_carries_the_pages_words(lang):
    """The column menu's translator: the page's words (none on the English page, so a switch
    back to English stops it), applied only inside the table menus' popovers; the browser test
    opens a real menu (tests/e2e/test_browser.py)."""
    import json
    import re
    text = i18n.streamlit_menu_js(lang)
    assert text.startswith("<script>") and text.rstrip().endswith("</script>")
    words = json.loads(re.search(r"window\.__gyMenuWords = (\{.*?\});", text, re.S).group(1))
    assert words == (i18n.COLUMN_MENU_ZH if lang == "zh" else {})
    assert "stDataFrameColumnMenu" in text and "stDataFrameStatisticsContent" in text
    assert all(re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[A-Za-z]", zh)
               for zh in i18n.COLUMN_MENU_ZH.values())
