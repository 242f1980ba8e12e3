"""The 15th FYP: 2030 milestones that keep the 2035 goals within reach.

Starting from a scenario as enacted for 2021–2025 (those levels are the past and stay as the
scenario sets them), :func:`milestones` finds the lowest-cost lever path for 2026–2030 and
2031–2035 that meets the 2035 goals (``models/targets.csv``: R&D/GDP ≥ 2.5 %, innovation index
≥ 70) — in the central run, or with probability ≥ p over the uncertainty ensemble — and reads off
the 2030 value of every indicator on that path: a draft target table for 2030.

The search is :func:`simulator.analysis.solver.solve` with one level per lever and period
(``per_period``), the periods 2026–2030 and 2031–2035 decided, and by default the scenario's own
2026–2035 levels as floors (``floors``: the plan's measures are kept at least; ``floors=False``
lets a lever fall back to its 2020 level). "Lowest cost" is the solver's: the sum over the ten
years of ``cost_per_unit × (level − 2020 level)`` from ``models/lever_costs.csv``, undiscounted.

Milestones are the values of the path's central (deterministic) run in 2030, also in the
probability mode (the path is chosen so that at least ``ceil(p × n)`` of ``n`` draws meet each goal
separately; the milestone is where the central run of that path stands in 2030). The 2025 value is
the simulated one, or the latest observed level at or before 2025 from a file of actuals
(:mod:`simulator.plan.actuals`), marked ``actual``; the required growth is the average annual growth
from that value (and its year) to the 2030 milestone, in % per year. The model is not restarted
from the actuals: the path and the milestones are the model's, from its own 2025 state.

When the goals cannot be met even with every lever at its maximum from 2026, the result is
``feasible = False`` with a message naming the binding goal and what the maxima reach, and no
milestones (an all-maximum path is not a plan).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from simulator.analysis import solver
from simulator.analysis import uncertainty as unc
from simulator.plan import tables
from simulator.plan.scenario import Scenario
from simulator.plan.tables import Target

if TYPE_CHECKING:  # only for the annotation
    from simulator.plan.actuals import Actuals

#: The periods decided; 2021–2025 keeps the scenario's levels (the past).
DECIDED: tuple[str, ...] = ("2026-2030", "2031-2035")
START_YEAR = 2025
MILESTONE_YEAR = 2030
GOAL_YEAR = 2035

_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}

#: Columns of :attr:`Milestones.table`.
TABLE_COLUMNS = [
    "indicator", "name_zh", "name_en", "unit", "base_year", "base_value", "base_source",
    "simulated_2025", "milestone_2030", "goal_comparison", "goal_2035", "path_2035",
    "required_growth_pct_per_year",
]
#: Columns of :attr:`Milestones.levers` (one row per lever and period changed from the scenario).
LEVER_COLUMNS = [
    "lever", "name_zh", "name_en", "unit", "period", "scenario_value", "path_value",
    "extra_cost_per_year_wan_yuan",
]


def select_goals(spec: Sequence[str] | None = None) -> tuple[Target, ...]:
    """The 2035 goals to plan for.

    Parameters
    ----------
    spec : sequence of str, optional
        Items ``KEY`` (a 2035 target key of ``models/targets.csv``, e.g. ``innovation_index@2035``)
        or ``KEY=VALUE`` (the same goal with another threshold, in its unit). Default: every 2035
        target.

    Returns
    -------
    tuple of Target
        In the order given (with thresholds replaced where ``KEY=VALUE``).

    Raises
    ------
    ValueError
        Naming the item and what is allowed.
    """
    known = {t.key: t for t in tables.targets() if t.year == GOAL_YEAR}
    if spec is None:
        return tuple(known.values())
    chosen: dict[str, Target] = {}
    for item in spec:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if key not in known:
            raise ValueError(f"value {item!r} names no 2035 goal; allowed {', '.join(known)}, "
                             "each optionally with =VALUE")
        goal = known[key]
        if sep:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number) or number <= 0:
                raise ValueError(f"value {item!r}: {value.strip()!r} is not allowed; allowed a "
                                 f"positive number in {goal.unit}")
            goal = dataclasses.replace(goal, target=number)
        if key in chosen:
            raise ValueError(f"value {item!r}: goal {key} is given twice; allowed once")
        chosen[key] = goal
    return tuple(chosen.values())


@dataclass(frozen=True)
class Milestones:
    """The answer of :func:`milestones`.

    Attributes
    ----------
    feasible : bool
        Whether a lever path meets every goal (with the probability asked).
    message : str
        One line in English (the command line's): what was reached and at what cost, or which
        goal is out of reach and what the maxima reach. Its facts are data here too, for
        a rendering in another language: ``goals``, ``probability``, ``n``,
        :attr:`cost_per_year` (met); ``scenario``, :attr:`binding` and ``reach`` (out of
        reach).
    table : DataFrame
        ``TABLE_COLUMNS``, one row per indicator of ``models/indicators.csv`` (empty when out
        of reach).
    levers : DataFrame
        ``LEVER_COLUMNS``: the lever-periods the path changes from the scenario, costliest first.
    cost_by_period, scenario_cost_by_period : dict period → float
        万元 a year above the 2020 levels on the path and in the scenario as given.
    reach : DataFrame
        Per goal: ``key, comparison, target, unit, max_value`` (the central run with every lever
        at its maximum in 2026–2035), ``max_probability`` (probability mode), ``met``.
    path : Scenario or None
        The scenario with the path's levels (None when out of reach).
    solved : SolveResult
        The solver's answer the path rests on.
    """

    feasible: bool
    message: str
    scenario: Scenario
    path: Scenario | None
    goals: tuple
    probability: float | None
    n: int | None
    seed: int | None
    floors: bool
    table: pd.DataFrame
    levers: pd.DataFrame
    cost_by_period: dict
    scenario_cost_by_period: dict
    reach: pd.DataFrame
    solved: solver.SolveResult
    observed: str = ""

    @property
    def binding(self) -> str | None:
        """Out of reach: the key of the binding goal the message names (:func:`binding_goal`);
        None when the goals are met."""
        return None if self.feasible else binding_goal(self.reach)

    @property
    def cost_per_year(self) -> float:
        """万元 a year above the 2020 levels, averaged over 2026–2035, on the path (the
        message's figure; NaN when out of reach)."""
        return self.solved.cost_per_year if self.feasible else math.nan

    def to_dict(self) -> dict:
        """Plain data for strict JSON (a missing number is None, never NaN)."""
        def plain(mapping):
            return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in mapping.items()}

        def records(frame):
            return [plain(row) for row in frame.to_dict(orient="records")]
        return {
            "feasible": self.feasible, "message": self.message, "scenario": self.scenario.name,
            "goals": [{"key": g.key, "comparison": g.comparison, "target": g.target,
                       "unit": g.unit} for g in self.goals],
            "probability": self.probability, "n": self.n if self.probability else None,
            "seed": self.seed, "floors": self.floors, "observed": self.observed or None,
            "fixed_period": "2021-2025", "decided_periods": list(DECIDED),
            "cost_per_year_wan_yuan": plain(self.cost_by_period),
            "scenario_cost_per_year_wan_yuan": plain(self.scenario_cost_by_period),
            "milestones": records(self.table), "lever_path": records(self.levers),
            "reach_at_maximum": records(self.reach),
        }


def _cost_by_period(scen: Scenario) -> dict[str, float]:
    costs = solver.lever_costs()
    return {p: float(sum(costs[lev.id].cost_per_unit
                         * (scen.levers[lev.id][tables.PERIODS.index(p)] - lev.default)
                         for lev in tables.levers())) for p in DECIDED}


def _wide(scen: Scenario) -> pd.DataFrame:
    from simulator.model import Model
    res = Model().run(scen)
    return res.pivot(index="time", columns="variable", values="value").sort_index()


def _at(table: pd.DataFrame, column: str, year: float) -> float:
    hit = np.isclose(table.index.to_numpy(dtype=float), year)
    return float(table.loc[hit, column].iloc[0]) if hit.any() else math.nan


def _is_rate(ind: tables.Indicator) -> bool:
    """An indicator that is itself a growth rate (its growth is not a meaningful figure)."""
    return ind.unit.startswith("%/")


def required_growth(start: float, start_year: float, end: float,
                    end_year: float = MILESTONE_YEAR) -> float:
    """Average annual growth from ``start`` (in ``start_year``) to ``end`` in ``end_year``, in %
    per year; NaN when it is undefined (a non-positive start, a negative end, no years)."""
    if not (start > 0 and end >= 0) or end_year <= start_year:
        return math.nan
    return ((end / start) ** (1.0 / (end_year - start_year)) - 1.0) * 100.0


def _reach(scenario: Scenario, goals: Sequence[Target], probability: float | None,
           draws: pd.DataFrame | None, fixed: dict) -> pd.DataFrame:
    """What every lever at its maximum in 2026–2035 reaches for each goal."""
    top = {lev.id: (scenario.levers[lev.id][0],) + (lev.max,) * len(DECIDED)
           for lev in tables.levers()}
    corner = scenario.with_levers(name=f"{scenario.name}-maximum", **top)
    wide = _wide(corner)
    rows = []
    for g in goals:
        value = _at(wide, g.indicator, g.year)
        row = {"key": g.key, "comparison": g.comparison, "target": g.target, "unit": g.unit,
               "max_value": value, "max_probability": math.nan,
               "met": bool(unc.met(np.array([value]), g)[0])}
        rows.append(row)
    if probability is not None and draws is not None:
        times, data = unc.evaluate({**corner.params(), **fixed}, draws,
                                   list(dict.fromkeys(g.indicator for g in goals)))
        for row, g in zip(rows, goals):
            share = float(unc.met(unc.target_values(data, times, g), g).mean())
            row["max_probability"] = share
            row["met"] = share >= probability - 1e-12
    return pd.DataFrame(rows, columns=["key", "comparison", "target", "unit", "max_value",
                                       "max_probability", "met"])


def binding_goal(reach: pd.DataFrame) -> str:
    """The key of the binding goal of an out-of-reach answer: of the goals the maxima miss (all
    goals when they miss none), the one they fall shortest of, relative to its target."""
    missed = reach[~reach["met"]].copy()
    if missed.empty:  # the maxima meet every goal but the solver found nothing cheaper
        missed = reach.copy()
    missed["short"] = [(r.target - r.max_value) / abs(r.target) * (1 if r.comparison in (">=", ">")
                       else -1) for r in missed.itertuples()]
    return str(missed.sort_values("short", ascending=False, kind="stable").iloc[0]["key"])


def _out_of_reach_message(scenario: Scenario, reach: pd.DataFrame,
                          probability: float | None) -> str:
    b = reach.set_index("key", drop=False).loc[binding_goal(reach)]
    unit = "" if b["unit"] in ("分", "件", "家") else f" {b['unit']}"
    text = (f"2035 goals out of reach from scenario {scenario.name!r} (2021–2025 as enacted): "
            f"binding goal {b['key']} {_SYMBOL[b['comparison']]} {b['target']:g}{unit}; every lever at "
            f"its maximum in 2026–2035 reaches {b['max_value']:.3g}{unit}")
    if probability is not None:
        text += (f" in the central run and meets it in {b['max_probability'] * 100:.0f} % of draws "
                 f"(needed {probability * 100:g} %)")
    others = [f"{r['key']} {r['max_value']:.3g}" + (" ✓" if r["met"] else " ✗")
              for _, r in reach.iterrows() if r["key"] != b["key"]]
    if others:
        text += "; other goals at the maxima: " + ", ".join(others)
    return text


def milestones(scenario: Scenario, goals: Sequence[Target] | Sequence[str] | None = None, *,
               probability: float | None = None, n: int = 100, seed: int | None = 0,
               spec: unc.UncertaintySpec | None = None, floors: bool = True,
               observed: Actuals | None = None, candidates: int = 2000, maxiter: int = 60,
               progress: bool = False, conditioned: bool = True) -> Milestones:
    """The 2030 milestones on the lowest-cost lever path that meets the 2035 goals.

    Parameters
    ----------
    scenario : Scenario
        Its 2021–2025 levers (kept as they are), assumptions, and 2026–2035 levers (floors of
        the path when ``floors``).
    goals : iterable of Target, or items for :func:`select_goals`, optional
        Default: every 2035 goal of ``models/targets.csv``; none may fall in 2021–2025.
    probability : float in (0, 1), optional
        Meet each goal in at least this share of ``n`` draws of the uncertain constants;
        None (default): in the central run.
    n : int, default 100
        Draws under uncertainty.
    seed : int or None, default 0
        Seed of the draws and of the solver's screen (0 included); None: fresh entropy.
    spec : UncertaintySpec, optional
        The uncertain constants under ``probability``; default ``models/uncertainty.yaml``.
    floors : bool, default True
        Keep the scenario's 2026–2035 levels as lower bounds; False: the 2020 levels.
    observed : simulator.plan.actuals.Actuals, optional
        Observed values: the latest level at or before 2025 replaces the simulated 2025 value.
    candidates, maxiter, progress, conditioned : optional
        Passed to :func:`simulator.analysis.solver.solve` (``conditioned``: draws consistent
        with 2015–2020, the default, or the prior's).

    Returns
    -------
    Milestones
        ``feasible``, a one-line ``message``, the draft 2030 ``table`` (one row per indicator,
        in its unit), the lever-periods the path changes, the cost in 万元 a year per period,
        and what the maxima reach per goal.

    Raises
    ------
    ValueError
        No goals, a goal in the enacted period, or invalid solver arguments
        (:func:`simulator.analysis.solver.solve`).

    Examples
    --------
    >>> from simulator import load_scenario, milestones
    >>> res = milestones.milestones(load_scenario("scenarios/plan.yaml"))   # doctest: +SKIP
    >>> print(res.message)                                                  # doctest: +SKIP
    """
    if goals is None or (goals and isinstance(next(iter(goals)), str)):
        goals = select_goals(goals)
    goals = tuple(goals)
    if not goals:
        raise ValueError("goals: none chosen")
    late = [g.key for g in goals if g.year <= START_YEAR]
    if late:
        raise ValueError(f"goals: {', '.join(late)} fall in the enacted period; allowed goals "
                         f"after {START_YEAR}")
    res = solver.solve(scenario, goals, probability=probability, spec=spec, n=n, seed=seed,
                       candidates=candidates, maxiter=maxiter, progress=progress,
                       periods=DECIDED, per_period=True, floors=floors,
                       conditioned=conditioned)
    draws = fixed = None
    if probability is not None:
        spec = spec or unc.load_spec()
        draws = unc.ensemble_draws(spec, n, seed, conditioned=conditioned)[0]
        fixed = {d.constant: d.min for d in spec.distributions if not d.varies}
    source = getattr(observed, "source", "") if observed is not None else ""
    common = dict(scenario=scenario, goals=goals, probability=probability, n=n, seed=seed,
                  floors=floors, scenario_cost_by_period=_cost_by_period(scenario),
                  solved=res, observed=source)
    if not res.feasible:
        reach = _reach(scenario, goals, probability, draws, fixed or {})
        return Milestones(feasible=False,
                          message=_out_of_reach_message(scenario, reach, probability),
                          path=None, table=pd.DataFrame(columns=TABLE_COLUMNS),
                          levers=pd.DataFrame(columns=LEVER_COLUMNS),
                          cost_by_period={p: math.nan for p in DECIDED}, reach=reach, **common)
    path = res.scenario.with_levers(name=f"{scenario.name}-milestones")
    wide = _wide(path)
    return Milestones(feasible=True, message=_feasible_message(res, goals, probability, n),
                      path=path, table=_table(wide, goals, observed),
                      levers=_lever_rows(scenario, path), cost_by_period=_cost_by_period(path),
                      reach=pd.DataFrame(columns=["key", "comparison", "target", "unit",
                                                  "max_value", "max_probability", "met"]),
                      **common)


def _feasible_message(res: solver.SolveResult, goals, probability, n) -> str:
    what = (f"each with probability ≥ {probability:g} over {n} draws" if probability is not None
            else "in the central run")
    keys = ", ".join(f"{g.key} {_SYMBOL[g.comparison]} {g.target:g}" for g in goals)
    return (f"2035 goals met ({keys}) {what}; lowest-cost path 2026–2035 at "
            f"{res.cost_per_year:,.0f} 万元 a year above the 2020 levels on average")


def _table(wide: pd.DataFrame, goals: Sequence[Target], observed) -> pd.DataFrame:
    by_indicator = {g.indicator: g for g in goals}
    rows = []
    for ind in tables.indicators():
        sim25 = _at(wide, ind.id, START_YEAR)
        base_year, base, source = float(START_YEAR), sim25, "simulated"
        actual = observed.latest(ind.id, up_to=START_YEAR) if observed is not None else None
        if actual is not None:
            base_year, base, source = float(actual.year), float(actual.value), "actual"
        m30 = _at(wide, ind.id, MILESTONE_YEAR)
        goal = by_indicator.get(ind.id)
        rows.append({
            "indicator": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en,
            "unit": ind.unit_zh, "base_year": base_year, "base_value": base,
            "base_source": source, "simulated_2025": sim25, "milestone_2030": m30,
            "goal_comparison": goal.comparison if goal else "",
            "goal_2035": goal.target if goal else math.nan,
            "path_2035": _at(wide, ind.id, GOAL_YEAR),
            "required_growth_pct_per_year": (math.nan if _is_rate(ind)
                                             else required_growth(base, base_year, m30)),
        })
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _lever_rows(scenario: Scenario, path: Scenario) -> pd.DataFrame:
    costs = solver.lever_costs()
    rows = []
    for lev in tables.levers():
        tol = 1e-9 * max(lev.max - lev.min, 1.0)
        for p in DECIDED:
            k = tables.PERIODS.index(p)
            old, new = scenario.levers[lev.id][k], path.levers[lev.id][k]
            if abs(new - old) > tol:
                rows.append({"lever": lev.id, "name_zh": lev.name_zh, "name_en": lev.name_en,
                             "unit": lev.unit_zh, "period": p, "scenario_value": old,
                             "path_value": new, "extra_cost_per_year_wan_yuan":
                             costs[lev.id].cost_per_unit * (new - old)})
    frame = pd.DataFrame(rows, columns=LEVER_COLUMNS)
    return frame.sort_values("extra_cost_per_year_wan_yuan", ascending=False,
                             kind="stable").reset_index(drop=True)


def to_frame(res: Milestones) -> pd.DataFrame:
    """One frame for CSV: the milestone rows (``row = indicator``), then the lever path
    (``row = lever``), then, when out of reach, the goals at the maxima (``row = reach``)."""
    parts = [res.table.assign(row="indicator"),
             res.levers.rename(columns={"lever": "indicator"}).assign(row="lever"),
             res.reach.rename(columns={"key": "indicator"}).assign(row="reach")]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["row", *TABLE_COLUMNS])
    frame = pd.concat(parts, ignore_index=True)
    cols = ["row", "indicator"] + [c for c in frame.columns if c not in ("row", "indicator")]
    return frame[cols]
