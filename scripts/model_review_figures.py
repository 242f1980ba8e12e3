"""The "after" figures of docs/model-review.md, computed from the committed model.

Run ``python scripts/model_review_figures.py``; every number the review page quotes for model 2.0
is printed here with what it measures. The loop knock-out comes from ``python -m simulator loops``,
the plausibility bounds from ``python -m simulator validate`` and the conditioned ensemble from
``python benchmarks/conditioning.py``.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator import Model
from simulator.analysis import uncertainty
from simulator.plan import scenario, tables  # noqa: E402

PLAN = REPO / "scenarios" / "plan.yaml"
AMBITIOUS = REPO / "scenarios" / "ambitious.yaml"


def run(scen, variables):
    """Year-end values of ``variables`` in a run of ``scen``: variable → {year: value}."""
    return Model().run_wide(scen, variables=variables).to_dict()


def main() -> int:
    plan = scenario.load(PLAN)
    amb = scenario.load(AMBITIOUS)
    base = scenario.default()

    print("1. Where the 2020-2025 rise of high-tech revenue comes from (plan scenario)")
    r = run(plan, ["high_tech_revenue", "trend_gdp", "gdp", "industry_revenue_ratio", "high_tech_share"])
    total = math.log(r["high_tech_revenue"][2025.0] / r["high_tech_revenue"][2020.0])
    parts = {
        "trend GDP (the exogenous driver)": math.log(r["trend_gdp"][2025.0] / r["trend_gdp"][2020.0]),
        "innovation-driven GDP above trend": math.log(r["gdp"][2025.0] / r["trend_gdp"][2025.0]),
        "industry ratio to GDP (driver: industrial growth gap)": math.log(
            r["industry_revenue_ratio"][2025.0] / r["industry_revenue_ratio"][2020.0]),
        "high-tech share (premium, new HTEs)": math.log(
            r["high_tech_share"][2025.0] / r["high_tech_share"][2020.0]),
    }
    for k, v in parts.items():
        print(f"   {k:55s} {100 * v / total:6.1f} % of the log rise")

    print("2. Economy")
    for name, s in (("plan", plan), ("ambitious", amb)):
        r = run(s, ["gdp", "trend_gdp"])
        print(f"   {name}: GDP above its trend in 2025 {100 * (r['gdp'][2025.0] / r['trend_gdp'][2025.0] - 1):.2f} %,"
              f" in 2035 {100 * (r['gdp'][2035.0] / r['trend_gdp'][2035.0] - 1):.2f} %")

    print("3. HTEs from the registration campaign (plan: sme_campaign 6 against 1)")
    with_campaign = run(plan, ["high_tech_enterprises"])["high_tech_enterprises"][2025.0]
    no_campaign = run(plan.with_levers(sme_campaign=1.0), ["high_tech_enterprises"])["high_tech_enterprises"][2025.0]
    print(f"   HTEs 2025: {with_campaign:.1f} with the campaign, {no_campaign:.1f} at the 2020 effort:"
          f" {with_campaign - no_campaign:.1f} come from the campaign")

    print("4. Budget")
    names = ["fiscal_st_spending", "requested_st_outlays", "budget_shortfall",
             "programme_funding_fraction", "ip_administration_outlays", "tax_expenditure", "rd_spending"]
    allmax = scenario.from_dict({"name": "all-max", "levers": {l.id: l.max for l in tables.levers()}})
    for name, s in (("baseline", base), ("plan", plan), ("ambitious", amb), ("all levers at maximum", allmax)):
        r = run(s, names)
        extra = np.mean([r["requested_st_outlays"][y] - r["requested_st_outlays"][2020.0] for y in (2021.0, 2022.0, 2023.0, 2024.0, 2025.0)])
        print(f"   {name}: S&T budget 2025 {r['fiscal_st_spending'][2025.0]:.2f} 亿, requested outlays"
              f" {r['requested_st_outlays'][2025.0]:.2f} 亿 (extra over 2020, mean 2021-25: {extra:.2f} 亿/yr),"
              f" funded fraction 2025 {r['programme_funding_fraction'][2025.0]:.2f}, shortfall 2025"
              f" {r['budget_shortfall'][2025.0]:.2f} 亿; R&D growth 2021"
              f" {100 * (r['rd_spending'][2021.0] / r['rd_spending'][2020.0] - 1):.1f} %")

    print("5. Uncertain constants")
    consts = uncertainty.uncertain_constants()
    print(f"   {len(consts)} constants with a documented range, all in models/uncertainty.yaml")

    print("6. 2035 innovation index (plan)")
    r = run(plan, ["innovation_index", "innovation_index_excluding_development", "development_score",
                   "weight_development"])
    for k in ("innovation_index", "innovation_index_excluding_development"):
        print(f"   {k}: 2020 {r[k][2020.0]:.1f}, 2035 {r[k][2035.0]:.1f}")
    rise = r["innovation_index"][2035.0] - r["innovation_index"][2020.0]
    dev = 0.2 * (r["development_score"][2035.0] - r["development_score"][2020.0])
    print(f"   of the {rise:.1f}-point rise, {dev:.1f} come from the development block (GDP per capita)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
