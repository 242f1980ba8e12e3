"""The model's budget section against the lever cost table and hand calculations.

The solver prices settings with ``models/lever_costs.csv``; the model charges the same unit costs
to the fiscal S&T budget (or to a named other source). These tests keep the two in step and check
the budget's arithmetic on a run.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.analysis import solver
from simulator.model import engine_for
from simulator.plan import scenario, tables

REPO = Path(__file__).resolve().parent.parent
PLAN = REPO / "scenarios" / "plan.yaml"

# Lever ids by where the model charges their outlay.
ST_BUDGET = ("hte_reward", "sme_campaign", "incubators", "platform_construction",
             "industry_rd_programme", "university_cooperation", "regional_cooperation",
             "tech_brokers", "demonstration_projects", "talent_introduction",
             "tech_commissioners", "tech_loans", "science_popularisation")
IP_BUDGET = ("hv_patent_cultivation", "ip_protection", "brand_building", "ip_pledge_financing")
TAX = ("super_deduction",)
BUDGET_ITSELF = ("fiscal_st_growth",)

LEVERS = {lev.id: lev for lev in tables.levers()}


def test_every_lever_has_one_source():
    charged = ST_BUDGET + IP_BUDGET + TAX + BUDGET_ITSELF
    assert sorted(charged) == sorted(LEVERS)


@pytest.mark.parametrize("lever_id", ST_BUDGET + IP_BUDGET + TAX)
def test_model_unit_cost_equals_the_cost_table(lever_id):
    name = tables.python_name(f"cost {LEVERS[lever_id].vensim_name}")
    assert engine_for().constants[name] == solver.lever_costs()[lever_id].cost_per_unit


@pytest.fixture(scope="module")
def plan_run():
    e = engine_for()
    variables = (["fiscal_st_spending", "requested_st_outlays", "funded_st_outlays",
                  "other_st_spending", "budget_shortfall", "budget_residual",
                  "programme_funding_fraction", "ip_administration_outlays", "tax_expenditure",
                  "public_cost_of_levers", "min_other_st_share"]
                 + [tables.python_name(LEVERS[i].vensim_name) for i in ST_BUDGET + IP_BUDGET + TAX])
    return e.run(scenario.load(PLAN).params(), variables=variables)


def test_requested_outlays_are_unit_cost_times_lever_in_effect(plan_run):
    costs = solver.lever_costs()
    expected = sum(costs[i].cost_per_unit * np.asarray(plan_run[tables.python_name(
        LEVERS[i].vensim_name)]) for i in ST_BUDGET) / 10_000     # 万元 -> 亿元
    np.testing.assert_allclose(plan_run["requested_st_outlays"], expected, rtol=1e-12)
    ip = sum(costs[i].cost_per_unit * np.asarray(plan_run[tables.python_name(
        LEVERS[i].vensim_name)]) for i in IP_BUDGET) / 10_000
    np.testing.assert_allclose(plan_run["ip_administration_outlays"], ip, rtol=1e-12)


def test_2020_outlays_by_hand(plan_run):
    # 2020 lever levels x unit costs (万元): 150 + 50 + 200 + 400 + 2000 + 680 + 480 + 10 + 200
    # + 1000 + 512 + 600 + 462 = 6744 万元 = 0.6744 亿元 of a 2.25 亿元 S&T budget
    assert np.asarray(plan_run["requested_st_outlays"])[0] == pytest.approx(0.6744, rel=1e-12)
    assert np.asarray(plan_run["fiscal_st_spending"])[0] == pytest.approx(2.25, rel=1e-12)
    assert np.asarray(plan_run["other_st_spending"])[0] == pytest.approx(2.25 - 0.6744, rel=1e-12)


def test_identity_and_shortfall_hold_every_step(plan_run):
    budget = np.asarray(plan_run["fiscal_st_spending"])
    np.testing.assert_allclose(budget, np.asarray(plan_run["funded_st_outlays"])
                               + np.asarray(plan_run["other_st_spending"]), rtol=1e-12)
    assert np.max(np.abs(plan_run["budget_residual"])) <= 1e-12 * np.max(budget)
    np.testing.assert_allclose(plan_run["budget_shortfall"],
                               np.asarray(plan_run["requested_st_outlays"])
                               - np.asarray(plan_run["funded_st_outlays"]), atol=1e-12)
    np.testing.assert_allclose(plan_run["public_cost_of_levers"],
                               np.asarray(plan_run["requested_st_outlays"])
                               + np.asarray(plan_run["ip_administration_outlays"])
                               + np.asarray(plan_run["tax_expenditure"]), rtol=1e-12)


def test_a_budget_that_stops_growing_binds():
    """The plan's programmes with a frozen S&T budget: funded below 100 %, a shortfall, and the
    funded fraction equal to (1 - protected share) x budget / requests."""
    plan = scenario.load(PLAN).with_levers(fiscal_st_growth=0.0,
                                           industry_rd_programme=3.0, talent_introduction=60)
    e = engine_for()
    r = e.run(plan.params(), variables=["programme_funding_fraction", "budget_shortfall",
                                         "fiscal_st_spending", "requested_st_outlays",
                                         "min_other_st_share"])
    f = np.asarray(r["programme_funding_fraction"])
    expected = np.minimum(1, (1 - np.asarray(r["min_other_st_share"]))
                          * np.asarray(r["fiscal_st_spending"]) / np.asarray(r["requested_st_outlays"]))
    np.testing.assert_allclose(f, expected, rtol=1e-12)
    assert f[-1] < 0.6
    assert np.asarray(r["budget_shortfall"])[-1] > 1.0
