"""Milestones toward 2035: the path meets the goals when re-run, 2021–2025 stays as enacted, the
scenario's measures are floors, monotone in p, required growth by hand, out of reach, CLI."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import Model, load_scenario
from simulator.analysis import milestones as ms
from simulator.analysis import uncertainty as unc
from simulator.base.text import display_width
from simulator.plan import goals, tables

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"
#: Reachable from the plan (central run: 0.96 % with the plan's measures, 1.45 % at the maxima).
GOALS = ["rd_intensity@2035=1.2", "innovation_index@2035"]
N = 20  # draws in the probability mode: small, the property tested does not depend on n


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.fixture(scope="module")
def central(plan):
    return ms.milestones(plan, GOALS, candidates=300)


@pytest.fixture(scope="module")
def by_p(plan):
    return {p: ms.milestones(plan, GOALS, probability=p, n=N, seed=0, candidates=300)
            for p in (0.5, 0.9)}


def wide(scenario):
    res = Model().run(scenario)
    return res, res.pivot(index="time", columns="variable", values="value")


def test_central_path_meets_the_goals_when_rerun(central):
    assert central.feasible
    results, table = wide(central.path)
    card = goals.scorecard(results, central.goals)
    assert card["met"].all(), card[["key", "value", "target"]]
    assert [g.target for g in central.goals] == [1.2, 70.0]
    # the milestones are that run's 2030 values, the 2035 column its 2035 values
    got = central.table.set_index("indicator")
    for ind in tables.indicators():
        assert got.loc[ind.id, "milestone_2030"] == pytest.approx(table.loc[2030.0, ind.id],
                                                                   rel=1e-9)
        assert got.loc[ind.id, "path_2035"] == pytest.approx(table.loc[2035.0, ind.id], rel=1e-9)


def test_plan_alone_misses_the_goal_so_the_path_does_something(plan, central):
    card = goals.scorecard(Model().run(plan), central.goals).set_index("key")
    assert not card.loc["rd_intensity@2035", "met"]
    assert len(central.levers) > 0
    assert sum(central.cost_by_period.values()) > sum(central.scenario_cost_by_period.values())


@pytest.mark.parametrize("which", ["central", "p=0.5", "p=0.9"])
def test_enacted_period_untouched_and_floors_kept(plan, central, by_p, which):
    res = central if which == "central" else by_p[float(which[2:])]
    for lev in tables.levers():
        enacted, path = plan.levers[lev.id], res.path.levers[lev.id]
        assert path[0] == enacted[0], lev.id                       # 2021–2025 as enacted
        assert path[1] >= enacted[1] and path[2] >= enacted[2], lev.id   # floors
        assert path[1] <= lev.max and path[2] <= lev.max, lev.id
    assert res.path.assumptions == plan.assumptions


def test_no_floors_may_cut_later_measures_but_not_the_past(plan):
    """Without floors the index goal alone (met by the plan's own measures) costs less than the
    plan's 2026–2035 measures: levers fall back towards their 2020 levels, never below."""
    res = ms.milestones(plan, ["innovation_index@2035"], floors=False, candidates=300)
    assert res.feasible and not res.floors
    assert goals.scorecard(Model().run(res.path), res.goals)["met"].all()
    for lev in tables.levers():
        assert res.path.levers[lev.id][0] == plan.levers[lev.id][0], lev.id
        assert min(res.path.levers[lev.id][1:]) >= lev.default, lev.id
    assert sum(res.cost_by_period.values()) < sum(res.scenario_cost_by_period.values())
    assert (res.levers["path_value"] < res.levers["scenario_value"]).any()


def test_lever_rows_and_costs_match_the_path(plan, central):
    costs = {c.lever: c.cost_per_unit for c in ms.solver.lever_costs().values()}
    for _, r in central.levers.iterrows():
        k = tables.PERIODS.index(r["period"])
        assert r["scenario_value"] == plan.levers[r["lever"]][k]
        assert r["path_value"] == central.path.levers[r["lever"]][k]
        assert r["extra_cost_per_year_wan_yuan"] == pytest.approx(
            costs[r["lever"]] * (r["path_value"] - r["scenario_value"]))
    for p in ms.DECIDED:
        k = tables.PERIODS.index(p)
        by_hand = sum(costs[lev.id] * (central.path.levers[lev.id][k] - lev.default)
                      for lev in tables.levers())
        assert central.cost_by_period[p] == pytest.approx(by_hand, rel=1e-9)
        extra = central.levers.loc[central.levers["period"] == p,
                                   "extra_cost_per_year_wan_yuan"].sum()
        assert central.cost_by_period[p] - central.scenario_cost_by_period[p] == pytest.approx(
            extra, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("p", [0.5, 0.9], ids=["p0.5", "p0.9"])
def test_probability_path_meets_the_goals_in_the_ensemble(by_p, p):
    """Re-run the path over the same draws, independently of the solver."""
    res = by_p[p]
    assert res.feasible
    spec = unc.load_spec()
    draws = unc.ensemble_draws(spec, N, 0)[0]  # the draws the solver uses (conditioned)
    fixed = {d.constant: d.min for d in spec.distributions if not d.varies}
    times, data = unc.evaluate({**res.path.params(), **fixed}, draws,
                               [g.indicator for g in res.goals])
    for g in res.goals:
        share = unc.met(unc.target_values(data, times, g), g).mean()
        assert share >= p, (g.key, share)


def test_monotone_in_probability(by_p):
    """The same draws: a path meeting the goals in 90 % of them meets them in 50 %, so the
    cheapest for 0.9 costs at least as much; its milestones are not lower (here: every
    indicator; the optimiser does not promise it for levers that work against each other)."""
    low, high = by_p[0.5], by_p[0.9]
    assert high.solved.cost_per_year >= low.solved.cost_per_year
    lo = low.table.set_index("indicator")["milestone_2030"]
    hi = high.table.set_index("indicator")["milestone_2030"]
    assert (hi >= lo * (1 - 1e-9)).all(), (hi - lo)[hi < lo]


def test_required_growth_by_hand(central):
    # 1.0 → 1.61051 in five years is exactly 10 %/yr; from 2023 (seven years) 1 → 2 is 2^(1/7)
    assert ms.required_growth(1.0, 2025, 1.61051) == pytest.approx(10.0, rel=1e-12)
    assert ms.required_growth(1.0, 2023, 2.0) == pytest.approx((2 ** (1 / 7) - 1) * 100)
    assert math.isnan(ms.required_growth(0.0, 2025, 1.0))
    row = central.table.set_index("indicator").loc["tech_smes"]
    assert row["base_source"] == "simulated" and row["base_year"] == 2025
    by_hand = ((row["milestone_2030"] / row["base_value"]) ** 0.2 - 1) * 100
    assert row["required_growth_pct_per_year"] == pytest.approx(by_hand, rel=1e-12)
    # a growth rate has no meaningful growth of its own
    assert math.isnan(central.table.set_index("indicator").loc[
        "rd_spending_growth", "required_growth_pct_per_year"])


@pytest.fixture(scope="module")
def top_rd_intensity(plan) -> float:
    """R&D/GDP in 2035 with every 2026–2035 lever at its maximum (2021–2025 as enacted)."""
    top = plan.with_levers(**{lev.id: (plan.levers[lev.id][0], lev.max, lev.max)
                              for lev in tables.levers()})
    _, table = wide(top)
    return float(table.loc[2035.0, "rd_intensity"])


@pytest.fixture(scope="module")
def out_of_reach(plan):
    """Every 2035 goal from the plan: R&D/GDP 2.5 % is out of reach."""
    return ms.milestones(plan, candidates=200)


@pytest.fixture(scope="module")
def out_of_reach_p(plan):
    """R&D/GDP 5 % with probability 0.8: out of reach, with the share of draws in the message."""
    return ms.milestones(plan, ["rd_intensity@2035=5", "innovation_index@2035"], probability=0.8,
                         n=N, seed=0, candidates=200)


def test_out_of_reach(out_of_reach, top_rd_intensity):
    """R&D/GDP 2.5 % in 2035 is out of reach from the plan even at the maxima (1.45 %)."""
    res = out_of_reach
    assert not res.feasible and res.path is None and res.table.empty
    assert "\n" not in res.message
    assert "out of reach" in res.message and "binding goal rd_intensity@2035" in res.message
    # what the maxima reach is what a run with every 2026–2035 lever at its maximum gives
    assert top_rd_intensity < 2.5
    reach = res.reach.set_index("key")
    assert reach.loc["rd_intensity@2035", "max_value"] == pytest.approx(top_rd_intensity, rel=1e-9)
    assert f"{top_rd_intensity:.3g} %" in res.message
    assert not reach.loc["rd_intensity@2035", "met"] and reach.loc["innovation_index@2035", "met"]


# ---------------------------------------------------------------------------------------------
# The message's facts, as data: the app words them in Chinese and English (item 7 of issue 14)

_YEARS = {"2020", "2021", "2025", "2026", "2030", "2035"}


def _numbers(text: str) -> list[str]:
    """The numbers a message states, years of the plan left out (``rd_intensity@2035`` and
    "2026–2035" name years, not results)."""
    return sorted(n for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text) if n not in _YEARS)


@pytest.mark.parametrize("which", ["central", "p=0.5", "out-of-reach", "out-of-reach-p"])
def test_app_message_states_the_message_numbers(central, by_p, out_of_reach, out_of_reach_p,
                                                which):
    """The app's rendering (simulator.app.analyses.milestones_message) is built from the
    result's data, and states exactly the numbers of the English ``message``: the Chinese one
    all of them and no other, the English one all of them (its units may hold digits)."""
    from simulator.app import analyses
    res = {"central": central, "p=0.5": by_p[0.5], "out-of-reach": out_of_reach,
           "out-of-reach-p": out_of_reach_p}[which]
    zh, en = (analyses.milestones_message(res, lang) for lang in ("zh", "en"))
    assert _numbers(zh) == _numbers(res.message), (zh, res.message)
    assert not set(_numbers(res.message)) - set(_numbers(en)), (en, res.message)
    assert not re.search(r"[A-Za-z]", zh.replace(res.scenario.name, "")), zh
    assert "\n" not in zh and "\n" not in en


def test_binding_goal_is_the_message_one(out_of_reach, out_of_reach_p, central):
    assert central.binding is None
    assert central.cost_per_year == central.solved.cost_per_year
    assert f"{central.cost_per_year:,.0f} 万元" in central.message
    for res in (out_of_reach, out_of_reach_p):
        assert res.binding == "rd_intensity@2035" and math.isnan(res.cost_per_year)
        assert f"binding goal {res.binding} " in res.message
    share = out_of_reach_p.reach.set_index("key").loc["rd_intensity@2035", "max_probability"]
    assert f"meets it in {share * 100:.0f} % of draws (needed 80 %)" in out_of_reach_p.message


def test_binding_goal_is_the_shortest_relative_to_its_target():
    """Of the goals the maxima miss, the one they fall shortest of relative to its target (a
    ≤ goal's shortfall counts upwards); all goals when none is missed."""
    reach = pd.DataFrame([
        {"key": "a", "comparison": ">=", "target": 10.0, "max_value": 9.0, "met": False},
        {"key": "b", "comparison": ">=", "target": 2.0, "max_value": 1.0, "met": False},
        {"key": "c", "comparison": "<=", "target": 1.0, "max_value": 1.6, "met": False},
        {"key": "d", "comparison": ">=", "target": 1.0, "max_value": 0.0, "met": True},
    ])
    assert ms.binding_goal(reach) == "c"      # 60 % over, against 50 % and 10 % short
    assert ms.binding_goal(reach.iloc[:2]) == "b"
    assert ms.binding_goal(reach.assign(met=True).iloc[:2]) == "b"


@pytest.mark.parametrize("spec,needle", [
    (["tech_smes@2025"], "names no 2035 goal"),
    (["rd_intensity@2035=abc"], "'abc' is not allowed"),
    (["rd_intensity@2035=-1"], "allowed a positive number"),
    (["rd_intensity@2035", "rd_intensity@2035=2"], "given twice"),
], ids=["not-2035", "not-a-number", "negative", "twice"])
def test_select_goals_errors(spec, needle):
    with pytest.raises(ValueError, match=needle):
        ms.select_goals(spec)


# ---------------------------------------------------------------------------------------------
# Command line

ACTUALS = """indicator,year,value,kind,source,note
rd_intensity,2025,0.9,level,generated for a test,
tech_smes,2024,250,level,generated for a test,
tech_smes,2025,260,lower_bound,generated for a test,a bound is not a level
high_tech_enterprises,2026,120,level,generated for a test,after 2025: not a 2025 value
"""


def test_cli_observed_uses_the_actual_2025_value(tmp_path):
    (tmp_path / "actuals.csv").write_text(ACTUALS, encoding="utf-8")
    out = cli("milestones", PLAN, "--goals", "innovation_index@2035", "--observed",
              "actuals.csv", "--format", "csv", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {r["indicator"]: r for r in csv.DictReader(io.StringIO(out.stdout))
            if r["row"] == "indicator"}
    rd = rows["rd_intensity"]
    assert (rd["base_source"], float(rd["base_value"]), float(rd["base_year"])) == (
        "actual", 0.9, 2025.0)
    # the CSV writes 10 significant digits: the milestone's rounding (5e-11 relative) moves a
    # growth in % by up to 0.2 x 5e-11 x 100 = 1e-9 points, whatever the growth's own size
    assert float(rd["required_growth_pct_per_year"]) == pytest.approx(
        ((float(rd["milestone_2030"]) / 0.9) ** 0.2 - 1) * 100, abs=1e-8)
    smes = rows["tech_smes"]  # the latest level ≤ 2025 is 2024's (the 2025 bound is no level)
    assert (smes["base_source"], float(smes["base_value"]), float(smes["base_year"])) == (
        "actual", 250.0, 2024.0)
    assert float(smes["required_growth_pct_per_year"]) == pytest.approx(
        ((float(smes["milestone_2030"]) / 250) ** (1 / 6) - 1) * 100, rel=1e-9)
    hte = rows["high_tech_enterprises"]
    assert hte["base_source"] == "simulated"
    assert float(hte["base_value"]) == pytest.approx(float(hte["simulated_2025"]))


def test_cli_table_fits_100_columns(tmp_path):
    out = cli("milestones", PLAN, "--goals", *GOALS, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("✓ 2035 goals met")
    assert "十五五 2030 目标测算" in out.stdout and "杠杆路径 lever path" in out.stdout
    wide_lines = [ln for ln in lines[1:] if display_width(ln) > 100]
    assert not wide_lines
    assert "研发经费投入强度" in out.stdout and "R&D intensity" in out.stdout


def test_cli_json(tmp_path):
    out = cli("milestones", PLAN, "--goals", "innovation_index@2035", "--format", "json",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout, parse_constant=_no_nan)
    assert data["feasible"] and data["floors"] and data["decided_periods"] == list(ms.DECIDED)
    assert len(data["milestones"]) == len(tables.indicators())
    # the plan's own measures already meet the index goal: the path is the plan itself
    assert data["lever_path"] == []
    assert data["cost_per_year_wan_yuan"] == data["scenario_cost_per_year_wan_yuan"]
    table = cli("milestones", PLAN, "--goals", "innovation_index@2035", cwd=tmp_path)
    assert "无 none: the scenario's own levels already meet the goals." in table.stdout


def test_cli_out_of_reach_one_line_exit_0(tmp_path, top_rd_intensity):
    out = cli("milestones", PLAN, "--goals", "rd_intensity@2035=5", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    # one message each, wrapped to 100 columns on continuation lines indented by two (--wide:
    # not wrapped)
    first, *rest = out.stdout.replace("\n  ", " ").splitlines()
    assert first.startswith("✗ 2035 goals out of reach from scenario 'plan'")
    assert "binding goal rd_intensity@2035 ≥ 5 %" in first and f"reaches {top_rd_intensity:.3g} %" in first
    assert rest and rest[0].startswith("No milestones")


def _no_nan(text):
    raise ValueError(f"not strict JSON: {text}")


def test_cli_out_of_reach_json_and_csv(tmp_path, top_rd_intensity):
    out = cli("milestones", PLAN, "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout, parse_constant=_no_nan)  # strict JSON: no NaN
    assert data["feasible"] is False and data["milestones"] == [] and data["lever_path"] == []
    assert data["cost_per_year_wan_yuan"] == {p: None for p in ms.DECIDED}
    reach = {r["key"]: r for r in data["reach_at_maximum"]}
    assert reach["rd_intensity@2035"]["met"] is False
    assert reach["rd_intensity@2035"]["max_value"] == pytest.approx(top_rd_intensity, abs=5e-4)
    out = cli("milestones", PLAN, "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["row"], r["indicator"], r["met"]) for r in rows] == [
        ("reach", "rd_intensity@2035", "False"), ("reach", "innovation_index@2035", "True")]


@pytest.mark.parametrize("args,needle", [
    (["--probability", "1.5"], "--probability: value 1.5 is not allowed"),
    (["--goals", "tech_smes@2025"], "--goals: value 'tech_smes@2025' names no 2035 goal"),
    (["--goals", "rd_intensity@2035=x"], "--goals: value 'rd_intensity@2035=x'"),
    (["--n", "5"], "--n: value 5 is not allowed"),
    (["--seed", "-1"], "--seed"),
    (["--format", "xml"], "--format"),
    (["--observed", "missing.csv"], "missing.csv"),
    (["--observed", "bad.csv"], "bad.csv"),
], ids=["probability", "goal", "goal-value", "n", "seed", "format", "observed-missing",
        "observed-bad"])
def test_cli_errors(tmp_path, args, needle):
    (tmp_path / "bad.csv").write_text("indicator,year,value\nno_such_indicator,2025,1\n",
                                      encoding="utf-8")
    out = cli("milestones", PLAN, *args, "--out", "result.txt", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == "" and not (tmp_path / "result.txt").exists()
