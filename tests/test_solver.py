"""Solver: lowest-cost lever settings for chosen targets; infeasible targets; CLI."""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from simulator import load_scenario
from simulator.analysis import solver
from simulator.plan import tables

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"


def target(key: str):
    return next(t for t in tables.targets() if t.key == key)


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.fixture(scope="module")
def easy(plan):
    return solver.solve(plan, ["high_tech_enterprises@2025"], candidates=300)


def test_lever_costs_cover_every_lever():
    with open(REPO / "models" / "lever_costs.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["lever"] for r in rows] == [lev.id for lev in tables.levers()]
    assert all(float(r["cost_per_unit"]) > 0 and r["basis"] and r["source"] for r in rows)


def test_easy_target_feasible_and_cheap(easy):
    assert easy.feasible
    card = easy.scorecard.set_index("key")
    assert card.loc["high_tech_enterprises@2025", "met"]
    assert easy.binding == ("high_tech_enterprises@2025",)
    # certification answers its own incentive (model 2.0: the register is not the HTEs' pool);
    # the certification reward is the cheap lever and the answer leans on it
    assert easy.levers["hte_reward"] > tables.lever("hte_reward").default
    assert easy.cost_per_year == pytest.approx(sum(
        solver.lever_costs()[lev.id].cost_per_unit * (easy.levers[lev.id] - lev.default)
        for lev in tables.levers()))
    assert easy.cost_total == pytest.approx(5 * easy.cost_per_year)


def test_answer_is_near_the_cheapest(plan, easy):
    """Spending 10 % less on the reward alone misses the target."""
    less = easy.levers["hte_reward"] * 0.9 + 0.1 * tables.lever("hte_reward").default
    scen = easy.scenario.with_levers(hte_reward=(less,) + easy.scenario.levers["hte_reward"][1:])
    from simulator import Model, scorecard
    card = scorecard(Model().run(scen)).set_index("key")
    assert not card.loc["high_tech_enterprises@2025", "met"]


def test_impossible_target_reported(plan):
    impossible = dataclasses.replace(target("tech_smes@2025"), target=5000.0)
    res = solver.solve(plan, [impossible, target("high_tech_enterprises@2025")], candidates=200)
    assert not res.feasible
    assert res.binding == ("tech_smes@2025",)
    assert "cannot be reached" in res.message and "tech_smes@2025" in res.message
    # the closest achievable meets what can be met
    assert res.margins.set_index("key").loc["high_tech_enterprises@2025", "margin"] >= 0


def test_a_higher_probability_costs_at_least_as_much(plan):
    """With the same draws, every setting that meets a target in 90 % of them meets it in 50 %."""
    key = "high_tech_enterprises@2025"
    half, most = (solver.solve(plan, [key], probability=p, n=40, seed=0, candidates=300)
                  for p in (0.5, 0.9))
    assert half.feasible and most.feasible
    assert most.probabilities.set_index("key").loc[key, "probability"] >= 0.9
    assert half.probabilities.set_index("key").loc[key, "probability"] >= 0.5
    assert most.cost_per_year >= half.cost_per_year > 0


@pytest.mark.parametrize("spec,expected", [
    (["2035"], ["rd_intensity@2035", "innovation_index@2035"]),
    (["tech_contract_turnover"], ["tech_contract_turnover@2025", "tech_contract_turnover:cagr@2025"]),
    (["tech_smes@2025", "tech_smes"], ["tech_smes@2025"]),
], ids=["year", "indicator", "dedupe"])
def test_select_targets(spec, expected):
    assert [t.key for t in solver.select_targets(spec)] == expected


def test_select_targets_unknown():
    with pytest.raises(ValueError, match="'2030' names no target"):
        solver.select_targets(["2030"])




def test_cli_solve(tmp_path):
    out = cli("solve", PLAN, "--targets", "high_tech_enterprises@2025", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("✓ reached 1 target(s)")
    assert "成本 cost:" in out.stdout and "确定性记分卡" in out.stdout


def test_cli_infeasible(tmp_path):
    out = cli("solve", PLAN, "--targets", "2035", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("✗ cannot be reached within the lever bounds")
    assert "binding:" in out.stdout


@pytest.mark.parametrize("args,needle", [
    (["--targets", "2030"], "--targets: value '2030' names no target"),
    (["--probability", "1.5"], "--probability: value 1.5"),
], ids=["bad-target", "bad-probability"])
def test_cli_errors(tmp_path, args, needle):
    out = cli("solve", PLAN, *args, cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("error: ") and needle in out.stderr
