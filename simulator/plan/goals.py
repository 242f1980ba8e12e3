"""Evaluate the plan's targets on results: the scorecard, and scorecards side by side.

A target compares a value with a threshold in a year: the indicator's level, or (``kind`` =
``"cagr"``) its average annual growth from 2020 to that year,
``((v(year) / v(2020)) ** (1 / (year - 2020)) - 1) * 100`` in % per year.
"""
from __future__ import annotations

import math
import operator
from typing import Iterable

import numpy as np
import pandas as pd

from simulator.plan import tables
from simulator.plan.tables import Target

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
BASE_YEAR = 2020

#: Columns of a scorecard.
SCORECARD_COLUMNS = [
    "scenario", "key", "indicator", "year", "kind", "comparison", "target", "value", "met",
    "margin", "first_year_met", "unit", "name_zh", "name_en", "doubling", "plan_clause",
]


def cagr(series: pd.Series, year: float, base_year: float = BASE_YEAR) -> float:
    """Average annual growth of ``series`` from ``base_year`` to ``year``.

    Parameters
    ----------
    series : pandas.Series
        Values indexed by year (float year ends; matched with ``np.isclose``).
    year : float
        End year.
    base_year : float, default 2020
        Start year.

    Returns
    -------
    float
        ``((v(year) / v(base_year)) ** (1 / (year - base_year)) - 1) * 100``, in % per year;
        NaN when either year is missing, the start is not positive, the end is negative or
        ``year`` is not after ``base_year``.
    """
    start = _at(series, base_year)
    end = _at(series, year)
    if not (start > 0 and end >= 0) or year <= base_year:
        return math.nan
    return ((end / start) ** (1.0 / (year - base_year)) - 1.0) * 100.0


def _at(series: pd.Series, year: float) -> float:
    hits = series[np.isclose(series.index.to_numpy(dtype=float), year)]
    return float(hits.iloc[0]) if len(hits) else math.nan


def is_met(value: float, target: Target) -> bool:
    """Whether ``value`` meets ``target`` (a missing value never does)."""
    return bool(not math.isnan(value) and _OPS[target.comparison](value, target.target))


def margin(value: float, target: Target) -> float:
    """How far ``value`` is on the right side of the target, in the target's unit.

    Negative when the target is missed."""
    if target.comparison in (">=", ">"):
        return value - target.target
    return target.target - value


def scorecard(results: pd.DataFrame, targets: Iterable[Target] | None = None) -> pd.DataFrame:
    """The target scorecard of tidy ``results`` (one or several scenarios).

    Parameters
    ----------
    results : DataFrame
        Tidy results with columns ``scenario, time, variable, value`` (see ``Model.run``).
    targets : iterable of Target, optional
        Default: every target of ``models/targets.csv``.

    Returns
    -------
    DataFrame
        One row per scenario and target with ``SCORECARD_COLUMNS``: ``value`` is the simulated
        level or growth, ``met`` whether it meets the target, ``margin`` its distance from the
        target (positive: met with room), ``first_year_met`` the first year from 2021 on in which
        the same test passes (missing if never within the results). Units are the target's
        (``unit``: the indicator's unit, or % per year for a ``cagr`` target).

    Raises
    ------
    KeyError
        When the results lack an indicator a target needs.

    Examples
    --------
    >>> from simulator import Model, load_scenario, scorecard
    >>> card = scorecard(Model().run(load_scenario("scenarios/plan.yaml")))   # doctest: +SKIP
    >>> card[["key", "value", "met"]]                                          # doctest: +SKIP
    """
    targets = list(tables.targets() if targets is None else targets)
    rows = []
    for scen, frame in results.groupby("scenario", sort=False):
        table = frame.pivot(index="time", columns="variable", values="value").sort_index()
        years = table.index.to_numpy(dtype=float)
        base = np.isclose(years, BASE_YEAR)
        later = years > BASE_YEAR + 0.5
        for tgt in targets:
            if tgt.indicator not in table.columns:
                raise KeyError(f"results of scenario {scen!r} have no indicator {tgt.indicator!r}")
            series = table[tgt.indicator].to_numpy(dtype=float)
            if tgt.kind == "cagr":  # the growth from 2020 to every year, as in cagr()
                start = series[base][0] if base.any() else math.nan
                with np.errstate(all="ignore"):
                    measure = np.where((start > 0) & (series >= 0) & later,
                                       ((series / start) ** (1.0 / (years - BASE_YEAR)) - 1.0)
                                       * 100.0, np.nan)
            else:
                measure = series
            at_year = np.isclose(years, tgt.year)
            value = float(measure[at_year][0]) if at_year.any() else math.nan
            ok = _OPS[tgt.comparison](measure, tgt.target) & ~np.isnan(measure) & later
            first = int(round(years[ok][0])) if ok.any() else None
            rows.append({
                "scenario": scen, "key": tgt.key, "indicator": tgt.indicator, "year": tgt.year,
                "kind": tgt.kind, "comparison": tgt.comparison, "target": tgt.target,
                "value": value, "met": is_met(value, tgt), "margin": margin(value, tgt),
                "first_year_met": first, "unit": tgt.unit, "name_zh": tgt.name_zh,
                "name_en": tgt.name_en, "doubling": tgt.doubling, "plan_clause": tgt.plan_clause,
            })
    card = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    card["first_year_met"] = card["first_year_met"].astype("Int64")
    return card


def compare(results: pd.DataFrame, targets: Iterable[Target] | None = None) -> pd.DataFrame:
    """Scorecards side by side: one row per target, ``value`` and ``met`` columns per scenario.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy results of one or more scenarios (:meth:`simulator.model.Model.run`).
    targets : iterable of Target, optional
        Default every target of ``models/targets.csv``.

    Returns
    -------
    pandas.DataFrame
        The target's description (``key, indicator, year, kind, comparison, target, unit,
        name_zh, name_en, doubling``), then ``<scenario>:value``, ``<scenario>:met`` and
        ``<scenario>:first_year_met`` for each scenario in order of appearance.

    Examples
    --------
    >>> from simulator import Model, compare, load_scenario       # doctest: +SKIP
    >>> model = Model()                                            # doctest: +SKIP
    >>> runs = model.run_many([load_scenario("scenarios/plan.yaml"),
    ...                        load_scenario("scenarios/baseline.yaml")])   # doctest: +SKIP
    >>> table = compare(runs)                                      # doctest: +SKIP
    """
    return compare_from_scorecard(scorecard(results, targets))


def compare_from_scorecard(card: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare` from an already computed scorecard of several scenarios."""
    scenarios = list(dict.fromkeys(card["scenario"]))
    base_cols = ["key", "indicator", "year", "kind", "comparison", "target", "unit", "name_zh",
                 "name_en", "doubling"]
    out = card[card["scenario"] == scenarios[0]][base_cols].reset_index(drop=True)
    for scen in scenarios:
        part = card[card["scenario"] == scen].reset_index(drop=True)
        out[f"{scen}:value"] = part["value"]
        out[f"{scen}:met"] = part["met"]
        out[f"{scen}:first_year_met"] = part["first_year_met"]
    return out
