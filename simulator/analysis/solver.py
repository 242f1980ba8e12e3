"""What would it take: the lowest-cost lever settings that reach chosen targets.

Problem
-------
Decision: one level per lever (every lever of ``models/levers.csv``), held over the plan periods
up to the last chosen target year (2025 → 2021–2025; 2030 or 2035 → every period up to it);
later periods keep the scenario's levels, and so do its assumptions. Bounds: from the lever's
2020 level (cutting below it saves nothing under the cost model) to its maximum in
``models/levers.csv``.

Cost: ``models/lever_costs.csv`` gives 万元 per lever unit per year; a setting costs
``Σ cost_per_unit × (level − 2020 level)`` per year, and that times the years it is held in
total.

Constraints: every chosen target met — in the deterministic run, or (``probability=p``) in at
least ``ceil(p × n)`` of ``n`` Latin-hypercube draws of the uncertain constants, for each target
separately (the per-target probability that ``python -m simulator uncertainty`` reports). A
margin is normalised by the target's size, ``(value − target) / |target|``.

Method
------
1. Screen: one vectorised engine run of a seeded Latin hypercube of candidate lever vectors, the
   line from the 2020 levels to every lever at its maximum, and that corner itself.
2. If no candidate meets the targets (the all-maximum corner included), they cannot be reached
   within the bounds: report the candidate with the smallest total normalised shortfall ("closest
   achievable") and the targets it misses, the largest shortfall first (the binding target).
3. Otherwise polish the cheapest feasible candidate with SLSQP (linear cost, margins ≥ 0),
   derivatives by forward differences computed in one vectorised run of D + 1 lanes (× n draws
   under uncertainty). The answer is re-checked; if SLSQP ends slightly infeasible, the feasible
   point nearest to it on the segment to the start is taken. Binding targets are those with the
   smallest margins at the answer.
Under uncertainty the start is the cheapest point meeting the probability constraints among the
line from the deterministic answer to the maximum corner and the 20 screened candidates with the
largest deterministic margins.

Variants
--------
Keyword arguments of :func:`solve`, used by :mod:`simulator.analysis.milestones`. ``periods``
chooses the periods the solver decides (the others keep the scenario's levels, e.g. 2021–2025
as enacted); ``per_period`` gives every lever one level per decided period instead of one level
held over all of them (decision: levers × periods); ``floors`` makes the scenario's own
levels the lower bounds (its measures are kept at least; a level held over several periods is
bounded by the highest of them). The cost is then ``Σ cost_per_unit × (level − 2020 level) × 5``
over the decided lever-periods (undiscounted 万元), still measured from the 2020 levels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from simulator.analysis import uncertainty as unc
from simulator.plan import goals, tables
from simulator.plan.scenario import Scenario
from simulator.plan.tables import Target

#: Relative step of the forward differences, in units of each lever's range.
FD_STEP = 1e-3


@dataclass(frozen=True)
class LeverCost:
    lever: str
    cost_per_unit: float   # 万元 per lever unit per year above the 2020 level
    cost_unit: str
    basis: str
    source: str


@lru_cache(maxsize=None)
def lever_costs() -> dict[str, LeverCost]:
    """``models/lever_costs.csv`` by lever id (every lever must have a row)."""
    rows = tables.read_csv(tables.MODELS_DIR / "lever_costs.csv")
    out = {r["lever"]: LeverCost(r["lever"], float(r["cost_per_unit"]), r["cost_unit"],
                                 r["basis"], r["source"]) for r in rows}
    missing = [lev.id for lev in tables.levers() if lev.id not in out]
    unknown = [k for k in out if k not in {lev.id for lev in tables.levers()}]
    if missing or unknown:
        raise ValueError(f"models/lever_costs.csv: missing levers {missing}, unknown {unknown}")
    return out


def select_targets(spec: Sequence[str] | str | None = None) -> tuple[Target, ...]:
    """Targets chosen by year, target key or indicator id.

    Parameters
    ----------
    spec : str or sequence of str, optional
        Items: a year (``"2025"``, ``"2035"``), a target key (``tech_smes@2025``) or an
        indicator id (all of its targets). Default: the 2025 targets.

    Returns
    -------
    tuple of Target
        In the order asked, each once.

    Raises
    ------
    ValueError
        An item that names no target, naming what is allowed.
    """
    if spec is None:
        spec = ["2025"]
    if isinstance(spec, str):
        spec = [spec]
    all_t = tables.targets()
    chosen: list[Target] = []
    for item in spec:
        item = str(item).strip()
        hits = [t for t in all_t if str(t.year) == item or t.key == item or t.indicator == item]
        if not hits:
            raise ValueError(f"value {item!r} names no target; allowed a year "
                             f"({', '.join(sorted({str(t.year) for t in all_t}))}), a target key "
                             f"({', '.join(t.key for t in all_t)}) or an indicator id")
        chosen += [t for t in hits if t not in chosen]
    return tuple(chosen)


def _periods(targets: Sequence[Target]) -> tuple[str, ...]:
    last = max(t.year for t in targets)
    return tuple(p for p in tables.PERIODS if int(p[:4]) <= last)


def _sign(t: Target) -> float:
    return 1.0 if t.comparison in (">=", ">") else -1.0


@dataclass
class _Problem:
    scenario: Scenario
    targets: tuple[Target, ...]
    periods: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    cost: np.ndarray                 # 万元/yr per unit
    draws: pd.DataFrame | None       # uncertainty draws (None: deterministic)
    need: int                        # draws that must meet each target
    fixed: dict = field(default_factory=dict)
    evaluations: int = 0
    # decision variable j sets lever slots[j][0] (index into tables.levers()) in periods
    # slots[j][1]; default: one variable per lever over every period of ``periods``
    slots: tuple = ()
    ref: np.ndarray | None = None    # the level cost is measured from (default ``lo``)
    floors: bool = False             # whether ``lo`` holds the scenario's levels

    def __post_init__(self):
        if not self.slots:
            self.slots = tuple((j, self.periods) for j in range(len(self.lo)))
        if self.ref is None:
            self.ref = self.lo.copy()
        self.slot_years = np.array([5.0 * len(ps) for _, ps in self.slots])

    @property
    def years(self) -> int:
        return 5 * len(self.periods)

    def x(self, z: np.ndarray) -> np.ndarray:
        return self.lo + np.clip(z, 0.0, 1.0) * (self.hi - self.lo)

    def annual_cost(self, z: np.ndarray) -> np.ndarray:
        """Cost a year averaged over the decided periods (万元 above the 2020 levels)."""
        return (self.x(np.atleast_2d(z)) - self.ref) @ (self.cost * self.slot_years) / self.years

    def margins(self, Z: np.ndarray) -> np.ndarray:
        """Normalised margins (K, m) of candidates Z (K, D) in the unit cube; under uncertainty
        the ``need``-th largest margin over the draws (≥ 0 ⇔ met in at least ``need`` draws)."""
        Z = np.atleast_2d(Z)
        X = self.x(Z)
        k = len(X)
        levers = tables.levers()
        base = dict(self.scenario.params())
        base.update(self.fixed)
        cols: dict[str, np.ndarray] = {}
        reps = 1 if self.draws is None else len(self.draws)
        for j, (i, periods) in enumerate(self.slots):
            col = np.repeat(X[:, j], reps)
            for p in periods:
                cols[levers[i].period_param(p)] = col
        if self.draws is not None:
            for c in self.draws.columns:
                cols[c] = np.tile(self.draws[c].to_numpy(dtype=float), k)
        variables = list(dict.fromkeys(t.indicator for t in self.targets))
        times, data = unc.evaluate(base, pd.DataFrame(cols), variables)
        self.evaluations += k * reps
        out = np.empty((k, len(self.targets)))
        for i, t in enumerate(self.targets):
            v = unc.target_values(data, times, t).reshape(k, reps)
            m = _sign(t) * (v - t.target) / abs(t.target)
            if t.comparison in (">", "<"):
                m = np.where(m > 0, m, np.minimum(m, -1e-12))  # equality does not meet
            m = np.where(np.isnan(m), -1.0, m)
            if reps == 1:
                out[:, i] = m[:, 0]
            else:
                out[:, i] = np.sort(m, axis=1)[:, reps - self.need]
        return out


@dataclass(frozen=True)
class SolveResult:
    """The answer of :func:`solve`.

    Attributes
    ----------
    feasible : bool
        Whether the settings reach every chosen target (with the probability asked).
    levers : dict lever id → level
        The settings found (the cheapest feasible, or the closest achievable); with
        ``per_period``, lever id → tuple of levels, one per period of ``periods``.
    cost_per_year : float
        万元 a year above the 2020 levels (averaged over ``periods``).
    cost_total : float
        ``cost_per_year × years``.
    years : int
        Years the settings are held (2021 to the end of the last period chosen).
    scenario : Scenario
        The input scenario with the settings applied.
    margins : DataFrame
        Per target: normalised margin at the answer (≥ 0: met), ``binding`` flag.
    scorecard : DataFrame
        The deterministic scorecard of ``scenario`` (every target).
    probabilities : DataFrame or None
        Under uncertainty: ``simulator.analysis.uncertainty`` probabilities on the solver's draws.
    binding : tuple of str
        Target keys that bind: the missed ones (infeasible), or those with the smallest margin.
    message : str
    cost_by_period : dict period → float
        万元 a year above the 2020 levels in each decided period.
    floors : bool
        Whether the scenario's levels were lower bounds.
    """

    feasible: bool
    levers: dict
    cost_per_year: float
    cost_total: float
    years: int
    periods: tuple
    scenario: Scenario
    margins: pd.DataFrame
    scorecard: pd.DataFrame
    probabilities: pd.DataFrame | None
    probability: float | None
    binding: tuple
    message: str
    runs: int
    cost_by_period: dict = field(default_factory=dict)
    floors: bool = False

    def to_dict(self) -> dict:
        return {
            "feasible": self.feasible, "message": self.message,
            "levers": {k: list(v) if isinstance(v, tuple) else v for k, v in self.levers.items()},
            "periods": list(self.periods), "cost_per_year_wan_yuan": self.cost_per_year,
            "cost_by_period_wan_yuan": self.cost_by_period, "floors": self.floors,
            "cost_total_wan_yuan": self.cost_total, "years": self.years,
            "probability": self.probability, "binding": list(self.binding), "runs": self.runs,
            "margins": self.margins.to_dict(orient="records"),
        }


def solve(scenario: Scenario, targets: Iterable[Target] | Sequence[str] | str | None = None, *,
          probability: float | None = None, spec: unc.UncertaintySpec | None = None,
          n: int = 100, seed: int | None = 0, candidates: int = 2000, maxiter: int = 60,
          progress: bool = False, periods: Sequence[str] | None = None,
          per_period: bool = False, floors: bool = False, conditioned: bool = True
          ) -> SolveResult:
    """The lowest-cost lever settings that reach ``targets`` (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
        Supplies the assumptions and the levers of periods after the last target year.
    targets : iterable of Target, or names for :func:`select_targets`, optional
        The targets to reach; default the 2025 targets.
    probability : float in (0, 1), optional
        Reach each target in at least this share of ``n`` draws of the uncertain constants;
        None (default): the deterministic run.
    spec : UncertaintySpec, optional
        The uncertain constants under ``probability``; default ``models/uncertainty.yaml``.
    n : int, default 100
        Draws under uncertainty.
    seed : int or None, default 0
        Seeds the draws and the candidate screen (0 included); None: fresh entropy.
    candidates : int, default 2000
        Size of the Latin-hypercube screen.
    maxiter : int, default 60
        Most iterations of the SLSQP polish.
    progress : bool, default False
        Show a tqdm progress bar on standard error.
    periods : sequence of period names, optional
        The periods decided (of ``tables.PERIODS``); the others keep the scenario's levels.
        Default: every period up to the last target year.
    per_period : bool, default False
        One level per lever and decided period (default: one level held over all of them).
    floors : bool, default False
        The scenario's levels are lower bounds (default: the 2020 levels are).
    conditioned : bool, default True
        Under uncertainty, draw only constants consistent with the 2015–2020 observations
        (:mod:`simulator.analysis.conditioning`); False: the prior's draws.

    Returns
    -------
    SolveResult
        ``feasible``; the lever levels found (the cheapest feasible, or the closest
        achievable); the cost in 万元 a year above the 2020 levels and in total; the margins
        per target and which targets bind; the scorecard of the resulting scenario.

    Raises
    ------
    ValueError
        No targets, unknown target names or periods, or a ``probability`` not strictly
        between 0 and 1.

    Examples
    --------
    >>> from simulator import load_scenario, solver
    >>> answer = solver.solve(load_scenario("scenarios/plan.yaml"))   # doctest: +SKIP
    >>> answer.feasible, round(answer.cost_per_year)                  # doctest: +SKIP
    """
    from scipy.optimize import minimize
    from scipy.stats import qmc
    if targets is None or isinstance(targets, str) or (targets and isinstance(
            next(iter(targets)), str)):
        targets = select_targets(targets)
    targets = tuple(targets)
    if not targets:
        raise ValueError("targets: none chosen")
    levers = tables.levers()
    costs = lever_costs()
    if periods is None:
        periods = _periods(targets)
    periods = tuple(periods)
    unknown = [p for p in periods if p not in tables.PERIODS]
    if unknown or not periods or len(set(periods)) < len(periods):
        raise ValueError(f"periods: value {list(periods)!r} is not allowed; allowed distinct "
                         f"periods of {', '.join(tables.PERIODS)}")
    periods = tuple(p for p in tables.PERIODS if p in periods)
    groups = [(p,) for p in periods] if per_period else [periods]
    slots = tuple((i, g) for g in groups for i in range(len(levers)))
    lo, hi, ref, cost = (np.array(v, dtype=float) for v in zip(*(
        (_floor(scenario, levers[i], g) if floors else levers[i].default, levers[i].max,
         levers[i].default, costs[levers[i].id].cost_per_unit) for i, g in slots)))
    prob = _Problem(scenario, targets, periods, lo, hi, cost, None, 1, slots=slots, ref=ref,
                    floors=floors)
    d = len(slots)
    scale = max(float(prob.annual_cost(np.ones(d))[0] - prob.annual_cost(np.zeros(d))[0]),
                1e-9)  # cost of everything at max: objective scale

    rng = np.random.default_rng(seed)
    line = np.linspace(0.0, 1.0, 41)[:, None] * np.ones(d)
    screen = np.vstack([line, qmc.LatinHypercube(d=d, rng=rng).random(candidates)])
    bar = unc._bar(3, progress, "solve")
    M = prob.margins(screen)
    if bar is not None:
        bar.update(1)
    feasible = (M >= 0).all(axis=1)

    if probability is not None:
        if not 0 < probability < 1:
            raise ValueError(f"probability: value {probability!r} is not allowed; allowed a number "
                             "between 0 and 1 (exclusive)")
        spec = spec or unc.load_spec()
        prob.draws = unc.ensemble_draws(spec, n, seed, conditioned=conditioned)[0]
        prob.fixed = {dd.constant: dd.min for dd in spec.distributions if not dd.varies}
        prob.need = max(1, math.ceil(probability * n - 1e-9))

    def closest(Z, MZ):
        short = np.clip(-MZ, 0, None).sum(axis=1)
        i = int(np.argmin(short + 1e-9 * prob.annual_cost(Z) / scale))
        return Z[i], MZ[i]

    if probability is None:
        if not feasible.any():
            z, m = closest(screen, M)
            return _result(prob, z, m, False, probability, bar)
        order = np.flatnonzero(feasible)
        z0 = screen[order[np.argmin(prob.annual_cost(screen[order]))]]
    else:
        # start from the cheapest deterministic answer, then walk towards the max corner
        if feasible.any():
            order = np.flatnonzero(feasible)
            zd = screen[order[np.argmin(prob.annual_cost(screen[order]))]]
        else:
            zd = np.zeros(d)
        seg = zd + np.linspace(0.0, 1.0, 21)[:, None] * (1.0 - zd)
        # plus the screen's candidates with the largest deterministic margins (levers can work
        # against each other, so the all-maximum corner is not always the most robust point)
        seg = np.vstack([seg, screen[np.argsort(-M.min(axis=1), kind="stable")[:20]]])
        MS = prob.margins(seg)
        ok = (MS >= 0).all(axis=1)
        if not ok.any():
            z, m = closest(seg, MS)
            return _result(prob, z, m, False, probability, bar)
        okz = seg[ok]
        z0 = okz[np.argmin(prob.annual_cost(okz))]
    if bar is not None:
        bar.update(1)

    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def fd(z):
        key = np.asarray(z, dtype=float).tobytes()
        if key not in cache:
            z = np.clip(np.asarray(z, dtype=float), 0.0, 1.0)
            steps = np.where(z + FD_STEP <= 1.0, FD_STEP, -FD_STEP)
            Z = np.vstack([z, z + np.diag(steps)])
            MZ = prob.margins(Z)
            cache.clear()
            cache[key] = (MZ[0], ((MZ[1:] - MZ[0]) / steps[:, None]).T)
        return cache[key]

    res = minimize(lambda z: float(prob.annual_cost(z)[0]) / scale, z0,
                   jac=lambda z: (prob.cost * prob.slot_years * (prob.hi - prob.lo)
                                  / (prob.years * scale)),
                   method="SLSQP", bounds=[(0.0, 1.0)] * d,
                   constraints=[{"type": "ineq", "fun": lambda z: fd(z)[0],
                                 "jac": lambda z: fd(z)[1]}],
                   options={"maxiter": maxiter, "ftol": 1e-7})
    z1 = np.clip(res.x, 0.0, 1.0)
    seg = z1 + np.linspace(0.0, 1.0, 21)[:, None] * (z0 - z1)  # from the answer back to the start
    MS = prob.margins(seg)
    ok = (MS >= 0).all(axis=1)
    i = int(np.argmax(ok))  # z0 (last row) is feasible, so some row is
    z, m = seg[i], MS[i]
    if prob.annual_cost(z)[0] > prob.annual_cost(z0)[0]:
        z, m = z0, prob.margins(z0)[0]
    return _result(prob, z, m, True, probability, bar)


def _floor(scenario: Scenario, lever: tables.Lever, periods: Sequence[str]) -> float:
    """The scenario's highest level of ``lever`` over ``periods``: its floor there."""
    return max(scenario.levers[lever.id][tables.PERIODS.index(p)] for p in periods)


def _result(prob: _Problem, z: np.ndarray, m: np.ndarray, feasible: bool,
            probability: float | None, bar) -> SolveResult:
    from simulator.model import Model
    x = prob.x(z)
    levers = tables.levers()
    changes = {lev.id: list(prob.scenario.levers[lev.id]) for lev in levers}
    by_period = {p: 0.0 for p in prob.periods}
    for (i, periods), v, c, r in zip(prob.slots, x, prob.cost, prob.ref):
        for p in periods:
            changes[levers[i].id][tables.PERIODS.index(p)] = min(max(float(v), levers[i].min),
                                                                 levers[i].max)
            by_period[p] += float(c * (v - r))
    changes = {k: tuple(v) for k, v in changes.items()}
    idx = [tables.PERIODS.index(p) for p in prob.periods]
    if len(prob.slots) == len(levers):  # one level per lever over every decided period
        settings = {lev.id: changes[lev.id][idx[0]] for lev in levers}
    else:
        settings = {lev.id: tuple(changes[lev.id][k] for k in idx) for lev in levers}
    scen = prob.scenario.with_levers(name=f"{prob.scenario.name}-solved", **changes)
    card = goals.scorecard(Model().run(scen))
    probs = None
    if prob.draws is not None:
        base = {**scen.params(), **prob.fixed}
        times, data = unc.evaluate(base, prob.draws, list(dict.fromkeys(
            t.indicator for t in prob.targets)))
        rows = []
        for t in prob.targets:
            vals = unc.target_values(data, times, t)
            rows.append({"key": t.key, "probability": float(unc.met(vals, t).mean())})
        probs = pd.DataFrame(rows)
    margins = pd.DataFrame({"key": [t.key for t in prob.targets], "margin": m})
    if feasible:
        low = margins["margin"].min()
        margins["binding"] = margins["margin"] <= low + 1e-3
    else:
        margins["binding"] = margins["margin"] < 0
    binding = tuple(margins.sort_values("margin", kind="stable").loc[
        lambda f: f["binding"], "key"])
    annual = float(prob.annual_cost(z)[0])
    period_text = f"{prob.periods[0][:4]}–{prob.periods[-1][-4:]}"
    if feasible:
        what = (f"each with probability ≥ {probability:g} ({prob.need} of {len(prob.draws)} draws)"
                if probability is not None else "in the deterministic run")
        message = (f"reached {len(prob.targets)} target(s) {what} at {annual:,.0f} 万元 a year "
                   f"above the 2020 levels over {period_text}")
    else:
        missed = ", ".join(binding)
        message = ("cannot be reached within the lever bounds"
                   + (f" with probability ≥ {probability:g}" if probability is not None else "")
                   + f"; closest achievable misses {missed} (binding: {binding[0] if binding else '—'})")
    if bar is not None:
        bar.update(bar.total - bar.n)
        bar.close()
    return SolveResult(feasible=feasible, levers=settings, cost_per_year=annual,
                       cost_total=annual * prob.years, years=prob.years, periods=prob.periods,
                       scenario=scen, margins=margins, scorecard=card, probabilities=probs,
                       probability=probability, binding=binding, message=message,
                       runs=prob.evaluations, cost_by_period=by_period,
                       floors=prob.floors)
