"""What moves a target: the effect of a small move of each lever on one target of the plan.

For a scenario and a target (an indicator in a year, or its average growth since 2020), every
lever is moved up by :data:`STEP` (10 %) of its value in all three plan periods — by 10 % of its
range where its value is 0, rounded up to the lever's slider step (so that the move is one a
slider can show: 30 → 35 on a step of 5, not 33), never past its maximum — and the model is run once for all the moves
together (one ensemble lane per lever, plus the scenario itself). The effect is the change in the
target's measured value; the levers are ranked by its size, with the direction (does it help meet
the target?) and the yearly public cost of the move (``models/lever_costs.csv``).

This is a local, one-at-a-time reading of the model around the current settings: it says which
slider to move first, not how far (the solver answers that), and effects do not add up exactly
when several levers move at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.plan import tables
from simulator.plan.scenario import Scenario

#: The relative move of each lever (all three periods).
STEP = 0.10


@dataclass(frozen=True)
class Move:
    """One lever's move: its values per plan period before and after."""
    lever: tables.Lever
    before: tuple[float, ...]
    after: tuple[float, ...]

    @property
    def at_maximum(self) -> bool:
        return all(b >= self.lever.max for b in self.before)


def move(lever: tables.Lever, values: tuple[float, ...], step: float = STEP) -> Move:
    """``values`` moved up by ``step`` of themselves (of the lever's range where 0), rounded up
    to the lever's grid (its slider's step: the move a planner can make, and the one the
    drivers panel's button applies), capped at the lever's maximum."""
    after = tuple(lever.on_grid_above(v * (1 + step) if v > 0
                                      else v + step * (lever.max - lever.min))
                  for v in values)
    return Move(lever, tuple(values), after)


def lever_effects(scenario: Scenario, target: tables.Target, step: float = STEP) -> pd.DataFrame:
    """The effect on ``target`` of moving each lever by ``step``, largest first.

    Parameters
    ----------
    scenario : Scenario
        The settings to read around.
    target : simulator.plan.tables.Target
        One of ``tables.targets()``.
    step : float, default :data:`STEP` (0.10)
        Relative move (0.10: +10 % of the lever's value, or of its range where the value
        is 0), rounded up to the lever's step (:meth:`Lever.on_grid_above
        <simulator.plan.tables.Lever.on_grid_above>`), capped at the lever's maximum.

    Returns
    -------
    pandas.DataFrame
        One row per lever: ``lever, name_zh, name_en, unit, unit_zh, before, after`` (values per
        period), ``value`` (the target's measure in the scenario), ``moved_value``, ``effect``
        (moved − value, in the target's unit), ``helps`` (the effect goes toward meeting the
        target), ``at_maximum`` and ``cost_per_year`` (万元 a year, the move's average extra
        cost over the periods). Sorted by ``|effect|``, largest first.
    """
    from simulator.analysis.solver import lever_costs
    from simulator.analysis.uncertainty import target_values
    from simulator.model import engine_for
    levers = tables.levers()
    moves = [move(lev, tuple(scenario.levers[lev.id]), step) for lev in levers]
    params: dict = dict(scenario.params())
    n = len(moves) + 1
    for k, mv in enumerate(moves):
        for p, period in enumerate(tables.PERIODS):
            lane = np.full(n, mv.before[p], dtype=float)
            lane[k + 1] = mv.after[p]
            params[mv.lever.period_param(period)] = lane
    run = engine_for().run(params, n=n, variables=[target.indicator])
    values = target_values(run.data, run.times, target)
    base, moved = float(values[0]), values[1:].astype(float)
    costs = lever_costs()
    sign = 1.0 if target.comparison in (">=", ">") else -1.0
    rows = []
    for mv, after in zip(moves, moved):
        effect = float(after - base)
        rows.append({
            "lever": mv.lever.id, "name_zh": mv.lever.name_zh, "name_en": mv.lever.name_en,
            "unit": mv.lever.unit_en, "unit_zh": mv.lever.unit_zh,
            "before": mv.before, "after": mv.after, "value": base, "moved_value": float(after),
            "effect": effect, "helps": bool(sign * effect > 0), "at_maximum": mv.at_maximum,
            "cost_per_year": float(costs[mv.lever.id].cost_per_unit
                                   * np.mean(np.subtract(mv.after, mv.before))),
        })
    frame = pd.DataFrame(rows)
    order = frame["effect"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)
