"""Recalibration on new data (``calibrate(actuals=...)``, :func:`simulator.analysis.hindcast.recalibrate`,
``run``/``goals --recalibrate-with``).

The project ships no figure from after 2020, so the actuals here are **generated**: the plan's run
with one constant perturbed (``registration_fraction_2020`` = 0.04 instead of the calibrated
≈0.021) gives "observed" tech SMEs and high-tech enterprises for 2021-2023. A recalibration must
move that constant toward 0.04 and fit the generated points better than the default calibration.

The fit is the slow part: it runs once per test process with **2 starts** (the module fixture;
:func:`recalibrate` keeps it for the process, and the command-line tests pass ``--starts 2`` with
the same figures, so they reuse it).
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path

import numpy as np
import pytest

from simulator import cli
from simulator.analysis import calibration, hindcast
from simulator.analysis.hindcast import HindcastError
from simulator.model import Model
from simulator.plan import actuals, scenario

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"
STARTS = 2
CONSTANT, PERTURBED = "registration_fraction_2020", 0.04
YEARS = (2021, 2022, 2023)
INDICATORS = ("tech_smes", "high_tech_enterprises")
PRINTED = 1e-6  # generated values are written to 10 significant digits


def _generated_text() -> str:
    """Actuals from the plan's run with CONSTANT perturbed (other constants calibrated), plus a
    satisfied lower bound and a 2020 level (compared, not fitted): clearly made-up figures."""
    plan = scenario.load(PLAN)
    run = Model().run_wide(plan, params={**calibration.parameters(), CONSTANT: PERTURBED})
    rows = ["indicator,year,value,kind,note"]
    rows += [f"{ind},{y},{run.loc[float(y), ind]:.10g},level,generated"
             for y in YEARS for ind in INDICATORS]
    rows += ["tech_smes,2022,50,lower_bound,generated: met by any run near the plan",
             "tech_smes,2020,103,level,generated: the 2020 baseline"]
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def generated_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recalibrate") / "generated.csv"
    path.write_text(_generated_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def default_file_bytes() -> bytes:
    return calibration.CALIBRATION_FILE.read_bytes()


@pytest.fixture(scope="module")
def rec(generated_file, default_file_bytes) -> hindcast.Recalibration:
    return hindcast.recalibrate(actuals.load(generated_file), starts=STARTS)


def _rmspe(results, observed: actuals.Actuals) -> float:
    """RMSPE (%) of tidy ``results`` at the generated levels."""
    errors = []
    for a in observed:
        if a.kind == "level" and a.year > 2020:
            r = results[(results["variable"] == a.indicator) & (results["time"] == a.year)]
            errors.append(100 * (float(r["value"].iloc[0]) - a.value) / a.value)
    return math.sqrt(np.mean(np.square(errors)))


# --------------------------------------------------------------------------------------------
# Actuals as targets (no fit)

MIXED = """indicator,year,value,kind
tech_smes,2022.5,200,level
tech_contract_turnover,2023,2,lower_bound
innovation_platforms,2021,90,upper_bound
science_literacy,2022,10,level
high_tech_enterprises,2019,44,level
valid_invention_patents,2018,300,level
high_tech_share,2020,18.3,level
rd_spending_growth,2022,10,level
"""


@pytest.fixture(scope="module")
def mixed_targets() -> list[calibration.CalTarget]:
    return calibration.actual_targets(actuals.loads(MIXED, "mixed.csv"),
                                      calibration.load_targets())


@pytest.mark.parametrize("tid,role,comparison,sigma", [
    ("actual_tech_smes_2022.5", "fit", "eq", 0.05),
    ("actual_tech_contract_turnover_2023_min", "fit", "ge", 0.05),
    ("actual_innovation_platforms_2021_max", "fit", "le", 0.05),
    ("actual_science_literacy_2022", "fit", "eq", 0.10),
    ("actual_high_tech_enterprises_2019", "check", "eq", 0.05),   # the project's hte_2019
    ("actual_valid_invention_patents_2018", "fit", "eq", 0.05),  # before 2020, not in the data
    ("actual_high_tech_share_2020", "check", "eq", 0.05),        # the 2020 baseline
    ("actual_rd_spending_growth_2022", "check", "eq", 0.05),     # a growth rate
], ids=["mid-year", "lower-bound", "upper-bound", "survey-sigma", "project-duplicate",
        "pre-2020", "2020", "growth-rate"])
def test_actual_targets_roles_comparisons_and_sigmas(mixed_targets, tid, role, comparison,
                                                     sigma):
    t = next(t for t in mixed_targets if t.id == tid)
    assert (t.role, t.comparison, t.sigma, t.derivation) == (role, comparison, sigma, "level")
    assert t.treatment.strip()


def test_duplicate_of_project_data_names_the_project_row(mixed_targets):
    t = next(t for t in mixed_targets if t.id == "actual_high_tech_enterprises_2019")
    assert "hte_2019" in t.treatment and "not counted twice" in t.treatment


def test_post_2020_values_come_from_the_scenario_run_linear_between_year_ends(mixed_targets):
    """The model value of an actual dated after 2020 is the chosen scenario's run (linear between
    year ends for 2022.5); one dated before 2020 is the momentum run's carry-back."""
    plan = scenario.load(PLAN)
    candidates = calibration.load_candidates()
    problem = calibration.Problem(mixed_targets, candidates, forward_scenario=plan)
    documented = {c.name: c.default for c in candidates}
    model, obs = problem.model_values(documented)
    run = Model().run_wide(plan, params=documented)
    # Model.run_wide starts from calibration.yaml; every candidate is overridden, so both runs
    # are the plan with the documented constants.
    k = next(i for i, t in enumerate(problem.targets) if t.id == "actual_tech_smes_2022.5")
    expected = 0.5 * (run.loc[2022.0, "tech_smes"] + run.loc[2023.0, "tech_smes"])
    assert model[k, 0] == pytest.approx(expected, rel=1e-9)
    assert obs[k, 0] == 200
    k = next(i for i, t in enumerate(problem.targets)
             if t.id == "actual_tech_contract_turnover_2023_min")
    assert model[k, 0] == pytest.approx(run.loc[2023.0, "tech_contract_turnover"], rel=1e-9)
    history = Model().run_wide(scenario.default("h"), params=documented)
    k = next(i for i, t in enumerate(problem.targets)
             if t.id == "actual_valid_invention_patents_2018")
    v0, v1 = (history.loc[y, "valid_invention_patents"] for y in (2020.0, 2025.0))
    assert model[k, 0] == pytest.approx(v0 * (v1 / v0) ** (-2 / 5), rel=1e-9)


@pytest.mark.parametrize("comparison,model,expected", [
    ("ge", 2.2, 0.0), ("ge", 1.8, -0.1 / 0.05), ("le", 1.8, 0.0), ("le", 2.2, 0.1 / 0.05),
    ("eq", 2.2, 0.1 / 0.05),
], ids=["lower-met", "lower-missed", "upper-met", "upper-missed", "level"])
def test_a_bound_counts_only_when_violated(mixed_targets, comparison, model, expected):
    target = next(t for t in mixed_targets if t.comparison == comparison and t.role == "fit"
                  and t.sigma == 0.05)
    problem = calibration.Problem([target], calibration.load_candidates(),
                                  forward_scenario=scenario.load(PLAN))
    res = problem.residuals(np.array([[model]]), np.array([[2.0]]))
    assert res[0, 0] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_the_default_comparison_is_unchanged():
    """Without actuals the problem has no forward run, and its model values at the committed
    parameters are those models/calibration.yaml records (to its digits)."""
    data = calibration.read()
    problem = calibration.Problem(calibration.load_targets(), calibration.load_candidates())
    assert problem.forward == [] and problem.forward_base == {}
    values = {**{k: v["value"] for k, v in data["fixed"].items()},
              **{k: v["value"] for k, v in data["parameters"].items()}}
    model, _ = problem.model_values(values)
    recorded = {t["id"]: t["model"] for t in data["targets"]}
    for k, t in enumerate(problem.targets):
        assert model[k, 0] == pytest.approx(recorded[t.id], rel=10 ** (1 - calibration.SIGNIFICANT))


# --------------------------------------------------------------------------------------------
# The recalibration

def test_the_perturbed_constant_moves_toward_its_generating_value(rec):
    before = calibration.parameters()[CONSTANT]
    assert CONSTANT in rec.fitted
    # the generated points pull it most of the way; the project's 2019 SMEs pull it back a little
    assert abs(rec.fitted[CONSTANT] - PERTURBED) < 0.2 * abs(before - PERTURBED)
    assert rec.parameters[CONSTANT] == rec.fitted[CONSTANT]
    assert set(rec.parameters) == {c.name for c in calibration.load_candidates()}


def test_the_recalibrated_run_fits_the_generated_points_better(rec, generated_file):
    observed = actuals.load(generated_file)
    plan = scenario.load(PLAN)
    default = _rmspe(Model().run(plan), observed)
    recalibrated = _rmspe(Model().run(plan, params=rec.parameters), observed)
    assert default > 10          # the perturbation is visible
    assert recalibrated < 0.2 * default and recalibrated < 3


def test_the_fit_lists_the_actuals_with_their_roles(rec):
    rows = {t["id"]: t for t in rec.result.targets}
    for y in YEARS:
        for ind in INDICATORS:
            assert rows[f"actual_{ind}_{y}"]["role"] == "fit"
    assert rows["actual_tech_smes_2022_min"]["bound_met"] is True
    assert rows["actual_tech_smes_2020"]["role"] == "check"
    assert "hte_2019" in rows  # the project's data are still fitted


def test_provenance_records_actuals_scenario_and_cutoff(rec, generated_file):
    prov = rec.result.provenance
    observed = actuals.load(generated_file)
    assert prov["actuals"]["sha256"] == calibration.actuals_digest(observed) == rec.actuals_sha256
    assert prov["actuals"]["file_sha256"] == hashlib.sha256(generated_file.read_bytes()).hexdigest()
    assert prov["actuals"]["rows"] == len(observed)
    plan = scenario.load(PLAN)
    assert prov["scenario"] == {"name": "plan", "source": plan.source,
                                "sha256": hashlib.sha256(plan.to_yaml().encode()).hexdigest()}
    assert prov["cutoff"] == rec.up_to == 2023
    assert prov["seed"] == 0 and prov["starts"] == STARTS


def test_up_to_leaves_out_later_actuals(rec, generated_file):
    observed = actuals.load(generated_file)
    earlier = hindcast.recalibrate(observed, up_to=2022, starts=STARTS)
    assert earlier is not rec and earlier.up_to == 2022
    used = observed.up_to(2022)
    prov = earlier.result.provenance
    assert prov["cutoff"] == 2022 and prov["actuals"]["rows"] == len(used) == len(observed) - 2
    assert prov["actuals"]["sha256"] == calibration.actuals_digest(used) == earlier.actuals_sha256
    assert not [t for t in earlier.result.targets if t["year"] > 2022]


def test_post_2020_actuals_are_compared_with_the_enacted_scenario(generated_file):
    """With another enacted scenario, the model values of the fit are that scenario's run
    with the fitted constants."""
    other = scenario.load(REPO / "scenarios" / "ambitious.yaml")
    rec_other = hindcast.recalibrate(actuals.load(generated_file), other, starts=STARTS)
    assert rec_other.scenario == "ambitious"
    assert rec_other.result.provenance["scenario"]["name"] == "ambitious"
    run = Model().run_wide(other, params=rec_other.parameters)
    row = next(t for t in rec_other.result.targets if t["id"] == "actual_tech_smes_2021")
    assert row["model"] == pytest.approx(run.loc[2021.0, "tech_smes"],
                                         rel=10 ** (1 - calibration.SIGNIFICANT))


def test_cached_by_the_figures_not_the_file(rec, generated_file):
    text = generated_file.read_text(encoding="utf-8")
    again = actuals.loads(text.replace("generated", "same figures and another note"), "upload.csv")
    assert hindcast.recalibrate(again, starts=STARTS) is rec


def test_the_cache_is_bounded(rec, generated_file, monkeypatch):
    kept = {("old", i): None for i in range(3)}
    monkeypatch.setattr(hindcast, "_recalibrations", kept)
    monkeypatch.setattr(hindcast, "MAX_KEPT", 3)
    fresh = hindcast.recalibrate(actuals.load(generated_file), starts=STARTS)
    assert len(kept) == 3 and ("old", 0) not in kept and fresh in kept.values()
    assert fresh.fitted == rec.fitted  # the same seed refits to the same values


def test_default_calibration_and_scenarios_untouched(rec, default_file_bytes):
    assert calibration.CALIBRATION_FILE.read_bytes() == default_file_bytes
    committed = {k: v["value"] for k, v in calibration.read()["parameters"].items()}
    assert calibration.parameters() == committed
    params = scenario.load(PLAN).params()
    assert params[CONSTANT] == committed[CONSTANT] != rec.parameters[CONSTANT]


def test_summary_is_one_line(rec):
    line = rec.summary()
    assert "\n" not in line and f"{CONSTANT} = " in line and "up to 2023" in line


@pytest.mark.parametrize("text,up_to,needle", [
    ("indicator,year,value\ntech_smes,2020,103\n", None, "no actual to fit"),
    ("indicator,year,value\nhigh_tech_enterprises,2019,44\n", None, "no actual to fit"),
    ("indicator,year,value\ntech_smes,2023,300\n", 2021, "no actual to fit up to 2021"),
    ("indicator,year,value\ntech_smes,2023,300\n", 2040, "up_to: value 2040 is not allowed"),
], ids=["only-2020", "only-project-data", "nothing-up-to", "up-to-range"])
def test_nothing_to_fit_is_refused_in_one_line(text, up_to, needle):
    with pytest.raises(HindcastError) as err:
        hindcast.recalibrate(actuals.loads(text, "a.csv"), up_to=up_to, starts=1)
    assert needle in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------------------------
# Command line

def test_cli_run_recalibrated(rec, generated_file, tmp_path, capsys):
    out = tmp_path / "run.csv"
    code = cli.main(["run", str(PLAN), "--out", str(out), "--recalibrate-with",
                     str(generated_file), "--starts", str(STARTS)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err.strip() == rec.summary()
    import pandas as pd
    results = pd.read_csv(out)
    assert set(results["scenario"]) == {"plan-recalibrated"}
    expected = Model().run(scenario.load(PLAN), params=rec.parameters)
    merged = results.merge(expected, on=["time", "variable"], suffixes=("", "_expected"))
    assert len(merged) == len(expected)
    assert np.allclose(merged["value"], merged["value_expected"], rtol=PRINTED, equal_nan=True)


def test_cli_goals_recalibrated(rec, generated_file, capsys):
    code = cli.main(["goals", str(PLAN), "--recalibrate-with", str(generated_file),
                     "--starts", str(STARTS)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "重新校准 recalibrated" in captured.out and str(generated_file) in captured.out
    code = cli.main(["goals", str(PLAN), "--format", "csv", "--recalibrate-with",
                     str(generated_file), "--starts", str(STARTS)])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert code == 0 and rows and {r["scenario"] for r in rows} == {"plan-recalibrated"}


@pytest.mark.parametrize("argv,needle", [
    (["--starts", "2"], "--starts: allowed only with --recalibrate-with FILE"),
    (["--enacted", str(PLAN)], "--enacted: allowed only with --recalibrate-with FILE"),
    (["--recalibrate-with", "/nonexistent.csv"], "/nonexistent.csv"),
    (["--recalibrate-with", "GEN", "--starts", "0"], "--starts: value 0 is not allowed"),
    (["--recalibrate-with", "GEN", "--enacted", "/nonexistent.yaml"], "/nonexistent.yaml"),
    (["--recalibrate-with", "BAD"], "row 2"),
], ids=["starts-alone", "enacted-alone", "missing-file", "starts-0", "enacted-missing",
        "bad-actuals"])
def test_cli_refusals_are_one_line_exit_2(generated_file, tmp_path, capsys, argv, needle):
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,year,value\ntech_smes,2022,abc\n", encoding="utf-8")
    argv = [{"GEN": str(generated_file), "BAD": str(bad)}.get(a, a) for a in argv]
    out = tmp_path / "run.csv"
    code = cli.main(["run", str(PLAN), "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and needle in err, err
    assert not out.exists()
