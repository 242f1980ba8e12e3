"""Hindcast (simulator/analysis/hindcast.py, ``python -m simulator hindcast``): out-of-sample scores.

The slow part is the calibration to the data up to the cutoff. It runs once per test process
with **4 starts** instead of the command's default 16 (:func:`simulator.analysis.hindcast.calibrate_up_to`
keeps it for the process; the command-line tests in this process pass ``--starts 4`` and reuse
it). At cutoff 2018 the data identify one constant, which 4 starts find as 16 do.

Hand calculations use the forecasts the hindcast prints (its per-point table), so they check the
scoring, not the model; the model's own values are checked against a separate run. Generated
actuals (round, clearly made-up numbers) test what the 2015–2020 data cannot: post-2020 and
mid-year points, bounds and the trend forecast.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis import calibration, hindcast
from simulator.analysis.hindcast import HindcastError
from simulator.base import text as textfmt
from simulator.plan import actuals, scenario, tables

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "examples" / "actuals_2015_2020.csv"
PLAN = REPO / "scenarios" / "plan.yaml"
STARTS = 4
CUTOFF = 2018
REL = 1e-9  # arithmetic on the same numbers: only rounding differs
PRINTED = 1e-6  # percentage points: errors recomputed from forecasts printed to 10 digits

# Generated actuals (not real figures): a 2015-2018 series for the trend, post-2020 levels
# (one mid-year), and bounds.
GENERATED = """indicator,year,value,kind,note
tech_smes,2015,50,level,generated
tech_smes,2016,60,level,generated
tech_smes,2017,72,level,generated
tech_smes,2018,86.4,level,generated
tech_smes,2021,150,level,generated
high_tech_revenue,2022.5,300,level,generated (mid-year)
tech_contract_turnover,2023,0.1,lower_bound,generated: satisfied by any forecast above 0.1
tech_contract_turnover,2024,0.2,upper_bound,generated: violated by any forecast above 0.2
innovation_platforms,2021,1000,lower_bound,generated: violated
"""


@pytest.fixture(scope="module")
def example() -> hindcast.Hindcast:
    return hindcast.hindcast(actuals.load(EXAMPLE), CUTOFF, starts=STARTS)


@pytest.fixture(scope="module")
def generated() -> hindcast.Hindcast:
    return hindcast.hindcast(actuals.loads(GENERATED, "generated.csv"), CUTOFF, starts=STARTS)


def _point(h: hindcast.Hindcast, indicator: str, year: float, kind: str = "level"):
    return next(p for p in h.points if (p.indicator, p.year, p.kind) == (indicator, year, kind))


# --------------------------------------------------------------------------------------------
# Formulas on a tiny fixed example

def test_mape_and_rmspe_on_a_fixed_example():
    errors = [10.0, -20.0, 0.0, 30.0]
    assert hindcast.mape(errors) == pytest.approx((10 + 20 + 0 + 30) / 4, rel=REL)
    assert hindcast.rmspe(errors) == pytest.approx(math.sqrt((100 + 400 + 0 + 900) / 4), rel=REL)


@pytest.mark.parametrize("forecast,observed,kind,expected", [
    (110, 100, "level", 10.0), (90, 100, "level", -10.0), (-5, -10, "level", 50.0),
    (2.5, 2, "lower_bound", 0.0), (2, 2, "lower_bound", 0.0), (1.8, 2, "lower_bound", -10.0),
    (1.5, 2, "upper_bound", 0.0), (2, 2, "upper_bound", 0.0), (2.2, 2, "upper_bound", 10.0),
], ids=lambda v: str(v))
def test_percentage_error_and_bounds(forecast, observed, kind, expected):
    assert hindcast.percentage_error(forecast, observed, kind) == pytest.approx(expected, rel=REL)


def test_path_forecast_by_hand():
    # tech SMEs: 103 in 2020, 500 by 2025; 2019 is a fifth of the way back
    assert hindcast.path_forecast("tech_smes", 2019) == pytest.approx(103 * (500 / 103) ** -0.2,
                                                                      rel=REL)
    assert hindcast.path_forecast("tech_smes", 2022.5) == pytest.approx(
        103 * (500 / 103) ** 0.5, rel=REL)
    assert hindcast.path_forecast("conversion_output", 2022) is None  # no published 2020 value
    assert hindcast.path_forecast("rd_spending_growth", 2022) is None  # no 2020 value


def test_trend_forecast_by_hand():
    exact = [(2015, 100.0), (2016, 110.0), (2017, 121.0)]          # +10 %/yr
    assert hindcast.trend_forecast(exact, 2019) == pytest.approx(146.41, rel=1e-12)
    two = [(2016, 50.0), (2018, 72.0)]                               # +20 %/yr through two
    assert hindcast.trend_forecast(two, 2019) == pytest.approx(86.4, rel=1e-12)
    # least squares in logs: through (2015, 1), (2016, e^2), (2017, e) the slope is 0.5 a year
    # and the line passes the mean point (2016, e^1): at 2019, e^(1 + 1.5)
    noisy = [(2015, 1.0), (2016, math.e ** 2), (2017, math.e)]
    assert hindcast.trend_forecast(noisy, 2019) == pytest.approx(math.e ** 2.5, rel=1e-12)
    assert hindcast.trend_forecast([(2018, 5.0)], 2019) is None      # one point: no trend
    assert hindcast.trend_forecast([(2018, 5.0), (2018, 6.0)], 2019) is None  # one year
    assert hindcast.trend_forecast([(2017, 0.0), (2018, 6.0)], 2019) is None  # no log of 0


# --------------------------------------------------------------------------------------------
# The 2015-2020 example, cutoff 2018 (fit <= 2018, test 2019-2020)

def test_the_calibration_uses_only_data_up_to_the_cutoff(example):
    used = {t.id: t for t in calibration.load_targets()}
    fitted = example.calibration["fitted_targets"]
    assert fitted and all(used[i].year <= CUTOFF for i in fitted)
    dropped = [t.id for t in calibration.load_targets() if t.role == "fit" and t.year > CUTOFF]
    assert "hte_2019" in dropped and not set(dropped) & set(fitted)
    # every candidate gets a value: fitted, or held at its documented value
    names = {c.name for c in calibration.load_candidates()}
    assert set(example.parameters) | set(example.fixed) == names


def test_up_to_keeps_the_default_and_drops_later_rows():
    targets = calibration.load_targets()
    assert calibration.up_to(targets, None) == targets
    kept = calibration.up_to(targets, 2018)
    assert [t for t in targets if t not in kept] == \
        [t for t in targets if t.role != "excluded" and t.year > 2018]


def test_scored_points_are_those_after_the_cutoff_except_2020(example):
    observed = actuals.load(EXAMPLE)
    assert [(p.indicator, p.year) for p in example.points] == \
        [(a.indicator, a.year) for a in observed.after(CUTOFF)]
    scored = [(p.indicator, p.year) for p in example.points if p.scored]
    assert scored == [("high_tech_enterprises", 2019), ("tech_smes", 2019),
                      ("tech_contract_turnover", 2019), ("high_tech_revenue", 2019),
                      ("conversion_output", 2019)]
    for p in example.points:
        if p.year == 2020:  # the model's initial values, equal to the plan's baselines
            assert not p.scored and "2020 baseline" in p.note
            assert p.forecast["model"] == pytest.approx(p.observed, rel=1e-6)


def test_hand_calculation_of_errors_and_statistics(example):
    """Errors and statistics recomputed from the printed forecasts (CSV output, 10 significant
    digits: a forecast near 100 is printed to 1e-7, which moves its error by about 1e-7 %)."""
    rows = list(csv.DictReader(io.StringIO(example.to_csv())))
    printed = {(r["indicator"], float(r["year"]), r["method"]): float(r["forecast"])
               for r in rows if r["record"] == "point" and r["forecast"]}
    observed = {"high_tech_enterprises": 44, "tech_smes": 105, "tech_contract_turnover": 0.67661,
                "high_tech_revenue": 208, "conversion_output": 190}
    hand = {ind: 100 * (printed[(ind, 2019.0, "model")] - y) / y for ind, y in observed.items()}
    for ind, e in hand.items():
        assert _point(example, ind, 2019).error_pct["model"] == pytest.approx(e, abs=PRINTED)
        series = example.score("model", ind)
        assert (series.n, series.mape, series.rmspe) == (1, pytest.approx(abs(e), abs=PRINTED),
                                                         pytest.approx(abs(e), abs=PRINTED))
    pooled = example.score("model")
    assert pooled.n == 5
    assert pooled.mape == pytest.approx(sum(abs(e) for e in hand.values()) / 5, abs=PRINTED)
    assert pooled.rmspe == pytest.approx(math.sqrt(sum(e * e for e in hand.values()) / 5),
                                         abs=PRINTED)
    # the path: four of the five (conversion output has no published 2020 value)
    path = {ind: 100 * (printed[(ind, 2019.0, "path")] - y) / y
            for ind, y in observed.items() if ind != "conversion_output"}
    assert ("conversion_output", 2019.0, "path") not in printed
    assert example.score("path").n == 4
    assert example.score("path").mape == pytest.approx(
        sum(abs(e) for e in path.values()) / 4, abs=PRINTED)
    # tech SMEs by hand from the plan's numbers: 103 * (500/103)^(-1/5) = 75.09
    assert printed[("tech_smes", 2019.0, "path")] == pytest.approx(75.0949, abs=1e-4)
    # the trend: no indicator has two levels up to 2018 in these data, so none, and said so
    assert example.score("trend").n == 0 and example.score("trend").mape is None
    assert example.notes == [
        "no trend forecast for high_tech_enterprises (0), tech_smes (0), tech_contract_turnover "
        "(0), high_tech_revenue (1), conversion_output (0): a trend needs levels above 0 in two "
        "years at or before 2018 (levels found in brackets)"]


def test_the_model_values_before_2020_are_the_calibrations_implied_history(example):
    from simulator.model import Model
    params = hindcast.hindcast_parameters(hindcast.calibrate_up_to(CUTOFF, starts=STARTS))
    run = Model().run_wide(scenario.default("check"), params=params)
    for ind in ("tech_smes", "high_tech_revenue"):
        v0, v1 = run.loc[2020.0, ind], run.loc[2025.0, ind]
        assert _point(example, ind, 2019).forecast["model"] == pytest.approx(
            v0 * (v1 / v0) ** (-1 / 5), rel=1e-9)


# --------------------------------------------------------------------------------------------
# Generated actuals: post-2020 points, mid-year, bounds, the trend

def test_post_2020_and_mid_year_points_use_the_scenario_run(generated):
    from simulator.model import Model
    params = hindcast.hindcast_parameters(hindcast.calibrate_up_to(CUTOFF, starts=STARTS))
    run = Model().run_wide(scenario.load(PLAN), params=params)
    assert _point(generated, "tech_smes", 2021).forecast["model"] == pytest.approx(
        run.loc[2021.0, "tech_smes"], rel=1e-12)
    mid = (run.loc[2022.0, "high_tech_revenue"] + run.loc[2023.0, "high_tech_revenue"]) / 2
    assert _point(generated, "high_tech_revenue", 2022.5).forecast["model"] == pytest.approx(
        mid, rel=1e-12)


def test_bounds_score_zero_when_met_and_the_distance_otherwise(generated):
    met = _point(generated, "tech_contract_turnover", 2023, "lower_bound")
    assert met.forecast["model"] > 0.1 and met.error_pct["model"] == 0.0
    assert met.error_pct["path"] == 0.0
    over = _point(generated, "tech_contract_turnover", 2024, "upper_bound")
    assert over.error_pct["model"] == pytest.approx(
        100 * (over.forecast["model"] - 0.2) / 0.2, rel=1e-12)
    under = _point(generated, "innovation_platforms", 2021, "lower_bound")
    assert under.error_pct["model"] == pytest.approx(
        100 * (under.forecast["model"] - 1000) / 1000, rel=1e-12) and under.error_pct["model"] < 0
    # a met bound counts as a zero in the statistics
    series = generated.score("model", "tech_contract_turnover")
    assert series.n == 2
    assert series.mape == pytest.approx(abs(over.error_pct["model"]) / 2, rel=1e-12)
    assert series.rmspe == pytest.approx(abs(over.error_pct["model"]) / math.sqrt(2), rel=1e-12)


def test_trend_of_the_actuals_up_to_the_cutoff(generated):
    # 50, 60, 72, 86.4 in 2015-2018: +20 %/yr exactly; 2021 is three years on
    p = _point(generated, "tech_smes", 2021)
    assert p.forecast["trend"] == pytest.approx(86.4 * 1.2 ** 3, rel=1e-9)
    assert p.error_pct["trend"] == pytest.approx(100 * (86.4 * 1.2 ** 3 - 150) / 150, rel=1e-9)
    # the common pool holds only the points all three methods forecast: tech SMEs in 2021
    common = generated.score("trend", "common")
    assert common.n == 1 and generated.score("model", "common").n == 1


# --------------------------------------------------------------------------------------------
# Refusals

def test_no_observation_after_the_cutoff():
    observed = actuals.loads("indicator,year,value\ntech_smes,2019,105\n", "one.csv")
    with pytest.raises(HindcastError, match=r"^one\.csv: no observation after the cutoff 2019 "
                                            r"\(the latest is dated 2019\); allowed a cutoff "
                                            r"before 2019$"):
        hindcast.hindcast(observed, 2019)


@pytest.mark.parametrize("cutoff", ["2014", "2035", "2018.5", "x", "nan"], ids=str)
def test_cutoff_outside_the_years(cutoff):
    with pytest.raises(HindcastError, match="allowed a whole year from 2015 to 2034"):
        hindcast.check_cutoff(cutoff)


def test_a_cutoff_before_any_fitted_data_is_refused():
    # 2015 is the earliest fitted year; the calibration refuses a cutoff with nothing to fit
    targets = [t for t in calibration.load_targets() if not (t.role == "fit" and t.year <= 2015)]
    with pytest.raises(calibration.CalibrationError, match="cutoff 2015: no calibration data"):
        calibration.calibrate(targets=targets, cutoff=2015)


# --------------------------------------------------------------------------------------------
# The command line

@pytest.fixture(scope="module")
def cli_json(tmp_path_factory):
    from helpers import cli
    cwd = tmp_path_factory.mktemp("hindcast-json")
    return cli("hindcast", "--observed", EXAMPLE, "--cutoff", CUTOFF, "--format", "json",
               "--starts", STARTS, cwd=cwd)


def test_cli_json_in_a_fresh_process(cli_json, example):
    assert (cli_json.returncode, cli_json.stderr) == (0, ""), cli_json.stderr
    data = json.loads(cli_json.stdout)
    assert data["cutoff"] == CUTOFF and data["scenario"] == "plan"
    pooled = next(s for s in data["scores"] if (s["method"], s["series"]) == ("model", "pooled"))
    assert pooled["n"] == 5
    assert pooled["mape"] == pytest.approx(example.score("model").mape, rel=1e-6)


def test_cli_table_and_csv(tmp_path, capsys, example):
    from simulator import cli
    argv = ["hindcast", "--observed", str(EXAMPLE), "--cutoff", str(CUTOFF), "--starts",
            str(STARTS)]
    assert cli.main(argv) == 0
    table = capsys.readouterr().out
    assert "回测 hindcast: calibrated with data ≤ 2018, scenario 'plan'" in table
    assert "合计 pooled" in table and "备案科技型中小企业数" in table
    assert max(textfmt.display_width(line) for line in table.splitlines()) <= 100
    assert cli.main(argv + ["--wide"]) == 0  # every column, names in full (issue 15)
    table = capsys.readouterr().out
    assert "合计 pooled" in table and "备案科技型中小企业数 tech_smes" in table
    assert "not scored: the model starts from the plan's 2020 baseline" in table
    out = tmp_path / "h.csv"
    assert cli.main(argv + ["--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    pooled = next(r for r in rows if (r["record"], r["method"]) == ("pooled", "model"))
    assert float(pooled["rmspe"]) == pytest.approx(example.score("model").rmspe, rel=1e-9)
    assert {r["record"] for r in rows} == {"point", "series", "pooled", "common"}
    # an existing --out needs --force; nothing is run or changed before that is checked
    before = out.read_bytes()
    assert cli.main(argv + ["--format", "csv", "--out", str(out)]) == 2
    assert "file exists; add --force" in capsys.readouterr().err
    assert out.read_bytes() == before


@pytest.mark.parametrize("argv,needle", [
    (["--cutoff", "2020"], "no observation after the cutoff 2020"),
    (["--cutoff", "1999"], "--cutoff: value '1999' is not allowed"),
    (["--cutoff", "2018", "--scenario", "/nonexistent.yaml"], "/nonexistent.yaml"),
    (["--cutoff", "2018", "--starts", "0"], "starts"),
], ids=["no-points", "cutoff", "scenario", "starts"])
def test_cli_refusals_are_one_line_exit_2(tmp_path, capsys, argv, needle):
    from simulator import cli
    out = tmp_path / "out.json"
    code = cli.main(["hindcast", "--observed", str(EXAMPLE), "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and needle in err, err
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# The validation report's hindcast section (validate --observed FILE [--cutoff YEAR])

def test_the_validation_report_section(example):
    from simulator.analysis import validation
    lines = validation.hindcast_section(example)
    text = "\n".join(lines)
    assert "## 6. Hindcast against actuals (cutoff 2018)" in text
    pooled = example.score("model")
    assert f"| pooled | 5 | {pooled.mape:.2f} | {pooled.rmspe:.2f} | 4 |" in text
    assert text.count("| high_tech_enterprises | 2019 | level | 44 |") == 1
    assert "not scored: the model starts from the plan's 2020 baseline" in text


@pytest.mark.parametrize("argv,needle", [
    (["--observed", "BAD"], "field 'indicator'"),
    (["--observed", str(EXAMPLE)], "no observation after the cutoff 2020"),
    (["--observed", str(EXAMPLE), "--cutoff", "2035"], "--cutoff: value '2035' is not allowed"),
], ids=["bad-file", "no-points", "cutoff"])
def test_validate_refuses_bad_actuals_before_running(tmp_path, capsys, argv, needle):
    from simulator import cli
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,year,value\nnope,2019,1\n", encoding="utf-8")
    report = tmp_path / "report"
    argv = [str(bad) if a == "BAD" else a for a in argv]
    code = cli.main(["validate", "--n", "10", "--out", str(report), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and needle in err, err
    assert not report.exists()


def test_cli_never_writes_over_its_file_of_actuals(tmp_path, capsys):
    from simulator import cli
    observed = tmp_path / "actuals.csv"
    observed.write_bytes(EXAMPLE.read_bytes())
    code = cli.main(["hindcast", "--observed", str(observed), "--cutoff", "2018", "--out",
                     str(observed), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and "is the input file" in err and err.count("\n") == 1, err
    assert observed.read_bytes() == EXAMPLE.read_bytes()
