"""The target scorecard on hand-made tidy results, and the target table against the plan.

No model run: every results table here is built by hand, so each expected value is known exactly.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.plan import goals, tables
from simulator.plan.tables import Target

REPO = Path(__file__).resolve().parents[1]
TARGETS_CSV = REPO / "models" / "targets.csv"
PLAN_TEXT = (Path(__file__).resolve().parents[2] / "shared" / "plan"
             / "guangyuan-sti-ip-plan-2021-2025.zh.txt")

YEARS = list(range(2020, 2036))


def target(indicator: str = "x", year: int = 2025, comparison: str = ">=", value: float = 10.0,
           kind: str = "level") -> Target:
    """A target with placeholder labels."""
    return Target(indicator=indicator, year=year, comparison=comparison, target=value, kind=kind,
                  unit="u", unit_en="u", name_zh="指标", name_en="indicator", doubling=False,
                  plan_clause="test", plan_wording="test")


def results(series: dict[str, dict[str, dict[int, float]]]) -> pd.DataFrame:
    """Tidy results from {scenario: {variable: {year: value}}}."""
    rows = [{"scenario": scen, "time": float(year), "variable": var, "value": value, "unit": "u"}
            for scen, variables in series.items()
            for var, values in variables.items()
            for year, value in values.items()]
    return pd.DataFrame(rows, columns=["scenario", "time", "variable", "value", "unit"])


def ramp(start: float, step: float) -> dict[int, float]:
    """Values start, start + step, ... for 2020..2035."""
    return {y: start + step * (y - 2020) for y in YEARS}


def one_row(series: dict[int, float], tgt: Target) -> pd.Series:
    card = goals.scorecard(results({"s": {tgt.indicator: series}}), [tgt])
    assert len(card) == 1
    return card.iloc[0]


# --------------------------------------------------------------------------------------------
# Level targets: met, missed, exactly equal; margin
# --------------------------------------------------------------------------------------------

LEVEL_CASES = [
    # id, comparison, target, value in the target year, met, margin
    ("ge-above", ">=", 1.05, 1.2, True, 0.15),
    ("ge-below", ">=", 1.05, 0.9, False, -0.15),
    ("ge-equal-is-met", ">=", 1.05, 1.05, True, 0.0),
    ("gt-above", ">", 15.0, 16.5, True, 1.5),
    ("gt-below", ">", 15.0, 14.0, False, -1.0),
    ("gt-equal-is-missed", ">", 15.0, 15.0, False, 0.0),
    ("le-below-is-met", "<=", 10.0, 8.0, True, 2.0),
    ("le-above-is-missed", "<=", 10.0, 12.5, False, -2.5),
    ("le-equal-is-met", "<=", 10.0, 10.0, True, 0.0),
    ("lt-equal-is-missed", "<", 10.0, 10.0, False, 0.0),
    ("lt-below-is-met", "<", 10.0, 9.0, True, 1.0),
]


@pytest.mark.parametrize("comparison, threshold, value, met, margin",
                         [c[1:] for c in LEVEL_CASES], ids=[c[0] for c in LEVEL_CASES])
def test_level_target_met_and_margin(comparison, threshold, value, met, margin):
    series = {y: 0.5 * value for y in YEARS} | {2025: value}
    row = one_row(series, target(year=2025, comparison=comparison, value=threshold))
    assert (row["value"], bool(row["met"])) == (value, met)
    assert row["margin"] == pytest.approx(margin, abs=1e-12)


def test_margin_is_in_the_targets_unit():
    row = one_row(ramp(100.0, 10.0), target(year=2025, value=120.0))
    assert (row["value"], row["margin"]) == (150.0, 30.0)


def test_scorecard_has_the_documented_columns_and_target_fields():
    tgt = target(indicator="rd", year=2030, comparison=">", value=2.0)
    card = goals.scorecard(results({"s": {"rd": ramp(1.0, 0.1)}}), [tgt])
    assert list(card.columns) == goals.SCORECARD_COLUMNS
    row = card.iloc[0]
    assert (row["scenario"], row["key"], row["indicator"], row["year"], row["kind"],
            row["comparison"], row["target"]) == ("s", "rd@2030", "rd", 2030, "level", ">", 2.0)


# --------------------------------------------------------------------------------------------
# first_year_met
# --------------------------------------------------------------------------------------------

FIRST_YEAR_CASES = [
    # id, series, comparison, target, first year met (None: never)
    ("crosses-in-2023", ramp(0.0, 1.0), ">=", 3.0, 2023),
    ("equal-counts-for-ge", {y: 5.0 for y in YEARS} | {2022: 10.0}, ">=", 10.0, 2022),
    ("equal-does-not-count-for-gt", {y: 5.0 for y in YEARS} | {2022: 10.0, 2027: 10.1}, ">",
     10.0, 2027),
    ("met-in-2020-does-not-count", {y: 0.0 for y in YEARS} | {2020: 50.0, 2024: 50.0}, ">=",
     10.0, 2024),
    ("after-the-target-year", ramp(0.0, 1.0), ">=", 8.0, 2028),
    ("never", ramp(0.0, 1.0), ">=", 100.0, None),
    ("met-from-2021", ramp(20.0, 1.0), ">=", 10.0, 2021),
    ("falling-below", ramp(20.0, -2.0), "<", 10.0, 2026),
]


@pytest.mark.parametrize("series, comparison, threshold, first",
                         [c[1:] for c in FIRST_YEAR_CASES], ids=[c[0] for c in FIRST_YEAR_CASES])
def test_first_year_met(series, comparison, threshold, first):
    row = one_row(series, target(year=2025, comparison=comparison, value=threshold))
    if first is None:
        assert pd.isna(row["first_year_met"])
    else:
        assert row["first_year_met"] == first


def test_first_year_met_is_an_integer_year_column():
    card = goals.scorecard(results({"s": {"x": ramp(0.0, 1.0)}}),
                           [target(value=3.0), target(value=100.0, year=2030)])
    assert str(card["first_year_met"].dtype) == "Int64"
    assert card["first_year_met"].tolist()[0] == 2023 and pd.isna(card["first_year_met"][1])


def test_first_year_met_does_not_need_sorted_results():
    """Results need not be sorted by time."""
    series = ramp(0.0, 1.0)
    frame = results({"s": {"x": series}}).iloc[::-1].reset_index(drop=True)
    card = goals.scorecard(frame, [target(value=3.0)])
    assert card["first_year_met"].iloc[0] == 2023


# --------------------------------------------------------------------------------------------
# Growth (cagr) targets
# --------------------------------------------------------------------------------------------

def test_cagr_of_100_to_161051_over_five_years_is_ten_percent():
    series = pd.Series({2020.0: 100.0, 2025.0: 161.051})
    assert goals.cagr(series, 2025) == pytest.approx(10.0, rel=1e-12)


def test_cagr_target_value_is_growth_since_2020():
    series = {y: 100.0 * 1.1 ** (y - 2020) for y in YEARS}
    row = one_row(series, target(year=2025, comparison=">=", value=9.5, kind="cagr"))
    assert row["value"] == pytest.approx(10.0, rel=1e-12)
    assert bool(row["met"]) and row["margin"] == pytest.approx(0.5, rel=1e-9)
    assert row["key"] == "x:cagr@2025"


def test_cagr_target_missed():
    series = {y: 100.0 * 1.05 ** (y - 2020) for y in YEARS}
    row = one_row(series, target(year=2025, comparison=">=", value=5.5, kind="cagr"))
    assert row["value"] == pytest.approx(5.0, rel=1e-12)
    assert not row["met"] and row["margin"] == pytest.approx(-0.5, rel=1e-9)


def test_cagr_first_year_met_uses_growth_from_2020_to_that_year():
    # 2020: 100, 2021: 102 (2 %/yr), 2022: 110.25 (5 %/yr), 2023: 133.1 (10 %/yr since 2020)
    series = {y: 100.0 for y in YEARS} | {2020: 100.0, 2021: 102.0, 2022: 110.25, 2023: 133.1}
    row = one_row(series, target(year=2025, comparison=">=", value=4.9, kind="cagr"))
    assert row["first_year_met"] == 2022
    assert row["value"] == pytest.approx(0.0, abs=1e-12) and not row["met"]


def test_cagr_is_missing_when_the_base_value_is_not_positive():
    series = {y: float(y - 2020) for y in YEARS}  # 0 in 2020
    row = one_row(series, target(year=2025, value=1.0, kind="cagr"))
    assert math.isnan(row["value"]) and not row["met"] and pd.isna(row["first_year_met"])


# --------------------------------------------------------------------------------------------
# Missing values
# --------------------------------------------------------------------------------------------

MISSING_CASES = [
    ("nan-ge", ">=", "level", {y: 100.0 for y in YEARS} | {2025: math.nan}),
    ("nan-gt", ">", "level", {y: 100.0 for y in YEARS} | {2025: math.nan}),
    ("nan-le", "<=", "level", {y: -100.0 for y in YEARS} | {2025: math.nan}),
    ("nan-lt", "<", "level", {y: -100.0 for y in YEARS} | {2025: math.nan}),
    ("year-absent-ge", ">=", "level", {y: 100.0 for y in range(2020, 2025)}),
    ("year-absent-le", "<=", "level", {y: -100.0 for y in range(2020, 2025)}),
    ("cagr-base-nan", ">=", "cagr", {y: 100.0 * 2 ** (y - 2020) for y in YEARS} | {2020: math.nan}),
    ("cagr-base-absent", ">=", "cagr", {y: 100.0 * 2 ** (y - 2020) for y in range(2021, 2036)}),
]


@pytest.mark.parametrize("comparison, kind, series", [c[1:] for c in MISSING_CASES],
                         ids=[c[0] for c in MISSING_CASES])
def test_missing_value_never_meets(comparison, kind, series):
    row = one_row(series, target(year=2025, comparison=comparison, value=0.0, kind=kind))
    assert math.isnan(row["value"]) and not row["met"]
    assert math.isnan(row["margin"])


def test_missing_indicator_raises_naming_it():
    with pytest.raises(KeyError, match="rd_intensity"):
        goals.scorecard(results({"s": {"x": ramp(0.0, 1.0)}}), [target(indicator="rd_intensity")])


def test_is_met_on_nan_is_false_for_every_comparison():
    assert [goals.is_met(math.nan, target(comparison=c)) for c in tables.COMPARISONS] == [
        False] * len(tables.COMPARISONS)


# --------------------------------------------------------------------------------------------
# Several scenarios; compare
# --------------------------------------------------------------------------------------------

TWO_TARGETS = [target(indicator="x", year=2025, value=5.0), target(indicator="y", year=2030,
                                                                     comparison="<", value=3.0)]
TWO_SCENARIOS = results({
    "zeta": {"x": ramp(0.0, 2.0), "y": ramp(10.0, -1.0)},   # x 2025 = 10 (met); y 2030 = 0 (met)
    "alpha": {"x": ramp(0.0, 0.5), "y": ramp(10.0, 0.0)},   # x 2025 = 2.5 (missed); y = 10 (missed)
})


def test_several_scenarios_give_one_block_each_in_order():
    card = goals.scorecard(TWO_SCENARIOS, TWO_TARGETS)
    assert card[["scenario", "key", "value", "met"]].values.tolist() == [
        ["zeta", "x@2025", 10.0, True], ["zeta", "y@2030", 0.0, True],
        ["alpha", "x@2025", 2.5, False], ["alpha", "y@2030", 10.0, False],
    ]


def test_compare_puts_value_and_met_columns_per_scenario():
    table = goals.compare(TWO_SCENARIOS, TWO_TARGETS)
    assert table["key"].tolist() == ["x@2025", "y@2030"]
    assert {c for c in table.columns if ":" in c} == {
        f"{s}:{c}" for s in ("zeta", "alpha") for c in ("value", "met", "first_year_met")}
    assert table[["zeta:value", "zeta:met", "alpha:value", "alpha:met"]].values.tolist() == [
        [10.0, True, 2.5, False], [0.0, True, 10.0, False]]


def test_compare_keeps_the_target_columns():
    table = goals.compare(TWO_SCENARIOS, TWO_TARGETS)
    assert table[["indicator", "year", "comparison", "target"]].values.tolist() == [
        ["x", 2025, ">=", 5.0], ["y", 2030, "<", 3.0]]


def test_compare_from_scorecard_equals_compare():
    card = goals.scorecard(TWO_SCENARIOS, TWO_TARGETS)
    pd.testing.assert_frame_equal(goals.compare_from_scorecard(card),
                                  goals.compare(TWO_SCENARIOS, TWO_TARGETS))


def test_default_targets_are_those_of_targets_csv():
    variables = {t.indicator for t in tables.targets()}
    frame = results({"s": {v: ramp(1.0, 1.0) for v in sorted(variables)}})
    card = goals.scorecard(frame)
    assert card["key"].tolist() == [t.key for t in tables.targets()]


# --------------------------------------------------------------------------------------------
# targets.csv against the plan
# --------------------------------------------------------------------------------------------

#: The plan's Table 1 (2025) and its text goals for 2025 and 2035:
#: (indicator, year, comparison, target, kind, doubling).
PLAN_TARGETS = [
    ("rd_intensity", 2025, ">=", 1.05, "level", False),
    ("rd_spending_growth", 2025, ">", 15.0, "level", False),
    ("high_value_invention_patents", 2025, ">=", 108.0, "level", True),
    ("valid_trademarks", 2025, ">=", 1.5, "level", False),
    ("innovation_platforms", 2025, ">=", 100.0, "level", False),
    ("tech_smes", 2025, ">=", 500.0, "level", True),
    ("high_tech_enterprises", 2025, ">=", 60.0, "level", False),
    ("high_tech_revenue", 2025, ">=", 450.0, "level", True),
    ("high_tech_share", 2025, ">", 25.0, "level", False),
    ("tech_contract_turnover", 2025, ">=", 1.5, "level", True),
    ("science_literacy", 2025, ">=", 12.0, "level", False),
    ("conversion_output", 2025, ">=", 300.0, "level", False),
    ("valid_invention_patents", 2025, ">=", 5.5, "cagr", False),
    ("tech_contract_turnover", 2025, ">=", 15.0, "cagr", False),
    ("rd_intensity", 2035, ">=", 2.5, "level", False),
    ("innovation_index", 2035, ">=", 70.0, "level", False),
]


def _target_rows() -> list[dict[str, str]]:
    with open(TARGETS_CSV, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _as_tuple(row: dict[str, str]) -> tuple:
    return (row["indicator"], int(row["year"]), row["comparison"], float(row["target"]),
            row["kind"], row["doubling"].strip().lower() == "true")


def _key(t: tuple) -> str:
    return f"{t[0]}{'' if t[4] == 'level' else ':' + t[4]}@{t[1]}"


@pytest.mark.parametrize("expected", PLAN_TARGETS, ids=[_key(t) for t in PLAN_TARGETS])
def test_targets_csv_has_the_plans_target(expected):
    rows = {_key(_as_tuple(r)): _as_tuple(r) for r in _target_rows()}
    assert rows.get(_key(expected)) == expected


def test_targets_csv_has_no_other_targets():
    assert sorted(_key(_as_tuple(r)) for r in _target_rows()) == sorted(
        _key(t) for t in PLAN_TARGETS)


def test_tables_targets_read_targets_csv():
    assert [(t.indicator, t.year, t.comparison, t.target, t.kind, t.doubling)
            for t in tables.targets()] == [_as_tuple(r) for r in _target_rows()]


def test_exactly_four_doubling_indicators():
    assert sorted(t.indicator for t in tables.targets() if t.doubling) == [
        "high_tech_revenue", "high_value_invention_patents", "tech_contract_turnover", "tech_smes"]


def test_table1_has_eleven_items_numbered_one_to_eleven():
    items = sorted(int(r["plan_clause"].split("第")[1].split("项")[0])
                   for r in _target_rows() if r["plan_clause"].startswith("表1"))
    assert items == list(range(1, 12))


def test_every_target_indicator_is_a_model_indicator():
    known = {i.id for i in tables.indicators()}
    assert sorted({t.indicator for t in tables.targets()} - known) == []


TABLE1 = [r for r in _target_rows() if r["plan_clause"].startswith("表1")]


@pytest.fixture(scope="module")
def plan_text() -> str:
    if not PLAN_TEXT.is_file():
        pytest.skip(f"plan text not found at {PLAN_TEXT} (shared/ is expected beside the repo)")
    return PLAN_TEXT.read_text(encoding="utf-8")


@pytest.mark.parametrize("row", TABLE1, ids=[r["indicator"] for r in TABLE1])
def test_plan_text_contains_table1_name(plan_text, row):
    assert row["name_zh"].rstrip("*") in plan_text


def test_cagr_function_handles_unsorted_float_index():
    series = pd.Series([161.051, 100.0], index=np.array([2025.0, 2020.0]))
    assert goals.cagr(series, 2025.0) == pytest.approx(10.0, rel=1e-12)
