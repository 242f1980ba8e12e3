"""The public cost of a scenario against the fiscal S&T budget, per plan period.

The model charges every lever's outlay to the fiscal S&T budget, to the IP administration budget
or to tax forgone (section *Budget* of ``models/guangyuan_innovation.mdl``); when the S&T
programmes ask for more than the budget allows they are scaled down together and the unfunded
rest is the budget shortfall. This module reads those variables from a run and summarises them
per plan period for the app and the command line: yearly averages over the period's year ends.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.plan import tables
from simulator.plan.scenario import Scenario

#: The model variables a budget summary needs (CNY100m/Year unless noted).
VARIABLES = ("fiscal_st_spending", "requested_st_outlays", "funded_st_outlays",
             "budget_shortfall", "programme_funding_fraction", "ip_administration_outlays",
             "tax_expenditure", "public_cost_of_levers")

#: A shortfall below this (亿元 a year) is rounding, not a shortfall.
SHORTFALL_TOLERANCE = 1e-9


@dataclass(frozen=True)
class PeriodBudget:
    """Yearly averages of one plan period (亿元 a year; ``funded`` a fraction)."""
    period: str
    budget: float
    requested: float
    funded: float
    shortfall: float
    worst_shortfall: float
    ip_outlays: float
    tax_forgone: float
    public_cost: float

    @property
    def over_budget(self) -> bool:
        return self.worst_shortfall > SHORTFALL_TOLERANCE


def period_years(period: str) -> list[float]:
    """The year ends of a plan period ``'2021-2025'``: 2021.0 … 2025.0."""
    first, last = (int(y) for y in period.split("-"))
    return [float(y) for y in range(first, last + 1)]


def summarise(wide: pd.DataFrame) -> list[PeriodBudget]:
    """Per plan period, the yearly averages of a run's budget variables.

    Parameters
    ----------
    wide : pandas.DataFrame
        One row per year end (index ``time``), the columns of :data:`VARIABLES`.

    Returns
    -------
    list of PeriodBudget
        One per period of ``tables.PERIODS``, in order: yearly averages in 亿元 a year (the
        funded share a fraction of 1), and the worst year's shortfall.

    Raises
    ------
    KeyError
        When ``wide`` lacks a variable of :data:`VARIABLES`.
    """
    missing = [v for v in VARIABLES if v not in wide.columns]
    if missing:
        raise KeyError(f"budget summary needs the model variables {missing}")
    out = []
    for period in tables.PERIODS:
        rows = wide.loc[wide.index.isin(period_years(period))]
        mean = rows.mean()
        requested = float(mean["requested_st_outlays"])
        out.append(PeriodBudget(
            period=period, budget=float(mean["fiscal_st_spending"]), requested=requested,
            funded=float(rows["funded_st_outlays"].sum() / rows["requested_st_outlays"].sum())
            if rows["requested_st_outlays"].sum() > 0 else 1.0,
            shortfall=float(mean["budget_shortfall"]),
            worst_shortfall=float(np.max(rows["budget_shortfall"])),
            ip_outlays=float(mean["ip_administration_outlays"]),
            tax_forgone=float(mean["tax_expenditure"]),
            public_cost=float(mean["public_cost_of_levers"])))
    return out


def of_scenario(scenario: Scenario, model=None) -> list[PeriodBudget]:
    """:func:`summarise` of a run of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    model : simulator.model.Model, optional
        Default a fresh ``Model()``.

    Returns
    -------
    list of PeriodBudget
        As :func:`summarise`.
    """
    from simulator.model import Model
    model = model or Model()
    return summarise(model.run_wide(scenario, variables=list(VARIABLES)))
