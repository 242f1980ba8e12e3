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
separately (the per-target probability that ``python -m simulator uncertainty`` reports), and
with ``central`` (the default) in the central run too. A margin is normalised by the target's
size, ``(value − target) / |target|``.

Probability and the central run: the central run (the model's own, calibrated constants) is
what the scorecard shows, and it is one point of the ensemble, not its median: for a target
where it lies near the bottom of the ensemble, settings that meet the target in 80 % of the
draws can miss it in the central run (and cost less than the deterministic answer). With
``central`` the answer meets both, so it never costs less than the deterministic one; without,
the result reports for each target where the central run lies in the ensemble
(``central_quantile``) and whether it meets the target.

Method
------
1. Screen: one vectorised engine run of a seeded Latin hypercube of candidate lever vectors, the
   line from the 2020 levels to every lever at its maximum, and that corner itself. Under
   uncertainty the candidates are the line from the cheapest deterministic candidate to the
   maximum corner and the 20 screened candidates with the largest deterministic margins,
   evaluated over the draws.
2. If no candidate meets the targets, they cannot be reached within the bounds. The best
   reachable point is the candidate with the smallest total normalised shortfall (the
   all-maximum corner is one); the levers that bind are those at their maximum there whose
   raise would help a missed target (a positive forward difference). The proposal is not that
   point but the **closest affordable settings**: the cheapest that meet the targets the best
   point meets and come within ``tolerance`` (default 1 %) of each missed target of the best
   point's margin on it — found as in step 3 with the constraints shifted accordingly.
3. Polish the cheapest candidate meeting the constraints with SLSQP (linear cost,
   margins ≥ 0). Every evaluation is one vectorised engine run: the margins at a point are
   one run of its lanes (the n draws and the central run, under uncertainty); their
   derivatives, asked for at SLSQP's iterates only, one more run by forward differences (D
   lanes; under uncertainty those of each quantile's **active draw**, the draw whose
   margin is the quantile at the point, and of the central run: D × (at most m + 1) lanes,
   the quantile's derivative wherever that draw alone has its margin). The answer is
   re-checked: the cheapest of the start, SLSQP's last point (if it ends slightly
   infeasible, the feasible point nearest to it on the segment to the start) and the best
   iterate that met the constraints. The search for the best reachable point (step 2) stops
   once it has stalled (:data:`STALL_ITERATIONS`). Binding targets are those with the smallest
   margins at the answer (unreachable: the missed ones). Under the probability alone
   (``central=False``) the search with the central run is polished too and the cheaper answer
   kept: the probability alone is the looser problem, and SLSQP on a quantile (kinked in the
   levers) can stop at a dearer point.
The reported margins, probabilities and central values are re-runs of the answer's scenario,
not values carried over from the search.

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
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.analysis import uncertainty as unc
from simulator.plan import goals, tables
from simulator.plan.scenario import Scenario
from simulator.plan.tables import Target

#: Relative step of the forward differences, in units of each lever's range.
FD_STEP = 1e-3
#: Unreachable targets: the closest affordable settings may fall short of the best reachable
#: margin by at most this share of each missed target (0.01: 1 % of the target).
CLOSEST_TOLERANCE = 0.01


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
    central: bool = False            # under uncertainty, also require the central run
    _base: dict | None = None        # the scenario's parameters (:meth:`base`)
    _drawn: tuple = ()               # constants' names, values per draw, central values

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

    def uncertain(self, draws: pd.DataFrame, fixed: Mapping[str, float], need: int,
                  central: bool) -> None:
        """Solve under uncertainty: ``need`` of the ``draws`` (rows: runs, columns: constants,
        with the constants ``fixed`` at one value) must meet each target, and with ``central``
        the central run too."""
        self.draws, self.fixed, self.need, self.central = draws, dict(fixed), need, central
        names = list(draws.columns) + [c for c in self.fixed if c not in draws.columns]
        drawn = np.empty((len(draws), len(names)))
        drawn[:, :len(draws.columns)] = draws.to_numpy(dtype=float)
        drawn[:, len(draws.columns):] = [float(self.fixed[c]) for c in names[len(draws.columns):]]
        # central lanes take the values the central run has: the scenario's (calibrated)
        # constants, else the model's own
        from simulator.model import engine_for
        own = engine_for().constants
        base = self.base()
        self._drawn = (names, drawn, np.array([float(base.get(c, own[c])) for c in names]))

    def base(self) -> dict[str, float]:
        """The scenario's parameters (shared by every lane; a lane's columns override them)."""
        if self._base is None:
            self._base = dict(self.scenario.params())
        return self._base

    def lane_margins(self, X: np.ndarray, lanes: Sequence[tuple[int, int]]) -> np.ndarray:
        """Normalised margins (L, m) of the L lanes ``(k, r)``: lever vector ``X[k]`` (X: (K, D))
        in draw ``r`` of ``draws`` (with ``fixed``), or with ``r = -1`` in the central run (the
        model's own constants). One vectorised engine call for every lane (up to
        ``uncertainty.CHUNK`` lanes a call)."""
        if len(lanes) > unc.CHUNK:
            parts = np.array_split(np.arange(len(lanes)), -(-len(lanes) // unc.CHUNK))
            return np.vstack([self.lane_margins(X, [lanes[i] for i in part]) for part in parts])
        from simulator.model import engine_for
        ks = np.fromiter((k for k, _ in lanes), dtype=int, count=len(lanes))
        rs = np.fromiter((r for _, r in lanes), dtype=int, count=len(lanes))
        levers = tables.levers()
        params: dict[str, object] = dict(self.base())
        for j, (i, periods) in enumerate(self.slots):
            for p in periods:
                params[levers[i].period_param(p)] = X[ks, j]
        if (rs >= 0).any():
            names, drawn, central = self._drawn
            values = drawn[np.maximum(rs, 0)]
            values[rs < 0] = central
            params.update(zip(names, values.T))
        variables = list(dict.fromkeys(t.indicator for t in self.targets))
        res = engine_for().run(params, n=len(lanes), variables=variables)
        times = np.asarray(res.times)
        data = {v: np.asarray(res.data[v]).reshape(len(times), len(lanes)) for v in variables}
        self.evaluations += len(lanes)
        out = np.empty((len(lanes), len(self.targets)))
        for i, t in enumerate(self.targets):
            out[:, i] = _margin(unc.target_values(data, times, t), t)
        return out

    def _rows(self) -> list[int]:
        """The runs a lever vector is evaluated in: every draw (under uncertainty), then the
        central run (-1) if it is required or there are no draws."""
        if self.draws is None:
            return [-1]
        return list(range(len(self.draws))) + ([-1] if self.central else [])

    def _held(self, M: np.ndarray) -> np.ndarray:
        """Constraint margins (K, m or 2m) from the margins (K, rows, m) in :meth:`_rows`."""
        if self.draws is None:
            return M[:, 0]
        reps = len(self.draws)
        q = np.sort(M[:, :reps], axis=1)[:, reps - self.need, :]
        return np.hstack([q, M[:, reps]]) if self.central else q

    def margins(self, Z: np.ndarray) -> np.ndarray:
        """Constraint margins of candidates Z (K, D) in the unit cube: (K, m) normalised
        margins, ≥ 0 ⇔ met. Under uncertainty the ``need``-th largest margin over the draws
        (≥ 0 ⇔ met in at least ``need`` draws), followed with ``central`` by the m margins of
        the central run: (K, 2m)."""
        X = self.x(np.atleast_2d(Z))
        rows = self._rows()
        M = self.lane_margins(X, [(k, r) for k in range(len(X)) for r in rows])
        return self._held(M.reshape(len(X), len(rows), -1))

    def point(self, z: np.ndarray) -> np.ndarray:
        """The margins (rows, m) of ``z`` in every run of :meth:`_rows` (one engine call):
        what :meth:`held` and :meth:`jacobian` start from."""
        rows = self._rows()
        return self.lane_margins(self.x(np.atleast_2d(z)), [(0, r) for r in rows])

    def held(self, M0: np.ndarray) -> np.ndarray:
        """The constraint margins (as :meth:`margins`) of a :meth:`point`."""
        return self._held(M0[None])[0]

    def jacobian(self, z: np.ndarray, M0: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """The Jacobian (constraints × decision variables) of the constraint margins at ``z``
        (whose :meth:`point` is ``M0``) by forward differences of ``steps``, one engine call.

        Under uncertainty a quantile's difference is its **active draw**'s: the draw whose
        margin is the ``need``-th largest at ``z`` (the quantile's derivative wherever that
        draw alone has its margin; a step that changes the order gives the one-sided slope of
        the active piece). So the differences run only the active draws (at most one per
        target) and the central run: D × (≤ m + 1) lanes instead of D × (n + 1)."""
        z = np.asarray(z, dtype=float)
        X = self.x(np.vstack([z, z + np.diag(steps)]))
        d, m = len(z), len(self.targets)
        if self.draws is None:
            M = self.lane_margins(X, [(k, -1) for k in range(1, d + 1)])
            return ((M - M0[0]) / steps[:, None]).T
        reps = len(self.draws)
        active = np.argsort(M0[:reps], axis=0, kind="stable")[reps - self.need]  # per target
        runs = list(dict.fromkeys(int(r) for r in active)) + ([-1] if self.central else [])
        MP = self.lane_margins(X, [(k, r) for k in range(1, d + 1) for r in runs])
        MP = MP.reshape(d, len(runs), m)
        where = np.array([runs.index(int(r)) for r in active])
        cols = np.arange(m)
        jac = ((MP[:, where, cols] - M0[active, cols]) / steps[:, None]).T
        if not self.central:
            return jac
        return np.vstack([jac, ((MP[:, -1, :] - M0[reps]) / steps[:, None]).T])


class _Local:
    """The constraint margins of a :class:`_Problem` at the last point asked, and their
    Jacobian only when asked for: SLSQP asks for the margins at every trial point of its line
    searches and for the Jacobian at its iterates only. ``fd(z)`` gives both."""

    def __init__(self, prob: _Problem):
        self.prob = prob
        self.key: bytes | None = None

    def _at(self, z: np.ndarray) -> None:
        z = np.asarray(z, dtype=float)
        key = z.tobytes() + bytes([self.prob.central])
        if key != self.key:
            self.z = np.clip(z, 0.0, 1.0)
            self.point = self.prob.point(self.z)
            self.margins = self.prob.held(self.point)
            self.J: np.ndarray | None = None
            self.key = key

    def value(self, z: np.ndarray) -> np.ndarray:
        """Constraint margins at ``z`` (one engine call, shared with :meth:`jac`)."""
        self._at(z)
        return self.margins

    def jac(self, z: np.ndarray) -> np.ndarray:
        """Their Jacobian (constraints × decision variables) by forward differences of
        :data:`FD_STEP` (backwards at the upper bound), one more engine call."""
        self._at(z)
        if self.J is None:
            steps = np.where(self.z + FD_STEP <= 1.0, FD_STEP, -FD_STEP)
            self.J = self.prob.jacobian(self.z, self.point, steps)
        return self.J

    def __call__(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.value(z), self.jac(z)


def _margin(v: np.ndarray, t: Target) -> np.ndarray:
    """Normalised margin ``(value − target) / |target|`` signed so that ≥ 0 meets ``t`` (a
    strict comparison is not met by equality; a NaN value misses by 100 %)."""
    m = goals.margin(np.asarray(v, dtype=float), t) / abs(t.target)
    if t.comparison in (">", "<"):
        m = np.where(m > 0, m, np.minimum(m, -1e-12))  # equality does not meet
    return np.where(np.isnan(m), -1.0, m)


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
        Per target (in the order asked): ``margin``, the normalised margin ``(value − target)
        / |target|`` signed so that ≥ 0 meets it, at the answer (under ``probability`` the
        margin at the required quantile of the draws); ``central_value`` and
        ``central_margin``, ``central_met``: the central run of the answer (the scorecard's);
        under ``probability`` also ``probability`` (share of the draws meeting it) and
        ``central_quantile`` (share of the draws whose value lies below the central run's);
        unreachable: ``best_margin`` (at the best reachable point); ``binding``.
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
    central : bool
        Whether the central run was required as well as the probability.
    bound_levers : tuple of str
        Unreachable: the levers at their maximum at the best reachable point whose raise would
        help a missed target (they bind).
    best_levers : dict or None
        Unreachable: the lever levels of the best reachable point (as ``levers``).
    best_cost_per_year : float or None
        Unreachable: the cost a year of the best reachable point (the proposal is the cheapest
        within ``tolerance`` of it).
    tolerance : float or None
        Unreachable: the share of each missed target the proposal may fall short of the best
        reachable margin.
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
    central: bool = False
    bound_levers: tuple = ()
    best_cost_per_year: float | None = None
    tolerance: float | None = None
    best_levers: dict | None = None

    def to_dict(self) -> dict:
        return {
            "feasible": self.feasible, "message": self.message,
            "levers": {k: list(v) if isinstance(v, tuple) else v for k, v in self.levers.items()},
            "periods": list(self.periods), "cost_per_year_wan_yuan": self.cost_per_year,
            "cost_by_period_wan_yuan": self.cost_by_period, "floors": self.floors,
            "cost_total_wan_yuan": self.cost_total, "years": self.years,
            "probability": self.probability, "central": self.central,
            "binding": list(self.binding), "bound_levers": list(self.bound_levers),
            "best_cost_per_year_wan_yuan": self.best_cost_per_year,
            "best_levers": None if self.best_levers is None else {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.best_levers.items()},
            "tolerance": self.tolerance, "runs": self.runs,
            "margins": self.margins.to_dict(orient="records"),
        }


def solve(scenario: Scenario, targets: Iterable[Target] | Sequence[str] | str | None = None, *,
          probability: float | None = None, spec: unc.UncertaintySpec | None = None,
          n: int = 100, seed: int | None = 0, candidates: int = 2000, maxiter: int = 60,
          progress: bool = False, periods: Sequence[str] | None = None,
          per_period: bool = False, floors: bool = False, conditioned: bool = True,
          central: bool = True, tolerance: float = CLOSEST_TOLERANCE) -> SolveResult:
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
    central : bool, default True
        Under uncertainty, also require every target in the central run (the model's own
        constants, what the scorecard shows), so that the answer costs at least the
        deterministic one and the scorecard of the answer meets the targets; False: the
        probability alone (the central run may then miss a target, see
        ``SolveResult.margins["central_quantile"]``). Ignored without ``probability``.
    tolerance : float, default :data:`CLOSEST_TOLERANCE`
        Unreachable targets: how far (a share of each missed target) the closest affordable
        settings may fall short of the best reachable point's margin.

    Returns
    -------
    SolveResult
        ``feasible``; the lever levels found (the cheapest feasible, or the closest
        achievable); the cost in 万元 a year above the 2020 levels and in total; the margins
        per target and which targets bind; the scorecard of the resulting scenario.

    Raises
    ------
    ValueError
        No targets, unknown target names or periods, a ``probability`` not strictly
        between 0 and 1, or a ``tolerance`` outside [0, 1).

    Examples
    --------
    >>> from simulator import load_scenario, solver
    >>> answer = solver.solve(load_scenario("scenarios/plan.yaml"))   # doctest: +SKIP
    >>> answer.feasible, round(answer.cost_per_year)                  # doctest: +SKIP
    """
    from scipy.stats import qmc
    if targets is not None and not isinstance(targets, str):
        targets = tuple(targets)  # (an iterator is read once: its first item must stay)
    if targets is None or isinstance(targets, str) or (targets and isinstance(targets[0], str)):
        targets = select_targets(targets)
    targets = tuple(targets)
    if not targets:
        raise ValueError("targets: none chosen")
    if probability is not None:
        if not 0 < probability < 1:
            raise ValueError(f"probability: value {probability!r} is not allowed; allowed a number "
                             "between 0 and 1 (exclusive)")
        spec = spec or unc.load_spec()
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance: value {tolerance!r} is not allowed; allowed a number from 0 "
                         "(inclusive) to 1 (exclusive)")
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

    if probability is None:
        cands, MC = screen, M
    else:
        prob.uncertain(unc.ensemble_draws(spec, n, seed, conditioned=conditioned)[0],
                       {dd.constant: dd.min for dd in spec.distributions if not dd.varies},
                       max(1, math.ceil(probability * n - 1e-9)), central)
        # start from the cheapest deterministic answer, then walk towards the max corner
        if feasible.any():
            order = np.flatnonzero(feasible)
            zd = screen[order[np.argmin(prob.annual_cost(screen[order]))]]
        else:
            zd = np.zeros(d)
        cands = zd + np.linspace(0.0, 1.0, 21)[:, None] * (1.0 - zd)
        # plus the screen's candidates with the largest deterministic margins (levers can work
        # against each other, so the all-maximum corner is not always the most robust point)
        cands = np.vstack([cands, screen[np.argsort(-M.min(axis=1), kind="stable")[:20]]])
        MC = prob.margins(cands)

    fd = _Local(prob)

    ok = (MC >= 0).all(axis=1)
    best = None
    if ok.any():
        need = np.zeros(MC.shape[1])
    else:
        # unreachable: the best reachable point is the candidate with the smallest total
        # shortfall (the all-maximum corner is one); the answer is the cheapest point that comes
        # within ``tolerance`` of the target of that point's margin on every missed target
        # and meets the others
        short = np.clip(-MC, 0, None).sum(axis=1)
        ib = int(np.argmin(short + 1e-9 * prob.annual_cost(cands) / scale))
        zb, mb = _closest(prob, fd, cands[ib], MC[ib], maxiter)
        best = (zb, mb)
        need = np.where(mb < 0, mb - tolerance, 0.0)
        cands, MC = np.vstack([cands, zb]), np.vstack([MC, mb])
        ok = (MC >= need).all(axis=1)  # the best point itself is one
    if bar is not None:
        bar.update(1)

    def polish(ok, need):
        """SLSQP from the cheapest candidate meeting ``need``; the answer and its margins."""
        okz = cands[ok]
        z0 = okz[np.argmin(prob.annual_cost(okz))]
        z1, zs = _slsqp(lambda z: float(prob.annual_cost(z)[0]) / scale, z0,
                        lambda z: (prob.cost * prob.slot_years * (prob.hi - prob.lo)
                                   / (prob.years * scale)),
                        [{"type": "ineq", "fun": lambda z: fd.value(z) - need, "jac": fd.jac}],
                        maxiter, 1e-7,
                        lambda z: (float(prob.annual_cost(z)[0]) / scale
                                   if (fd.value(z) >= need).all() else None))
        seg = z1 + np.linspace(0.0, 1.0, 21)[:, None] * (z0 - z1)  # back to the start
        MS = prob.margins(seg)
        i = int(np.argmax((MS >= need).all(axis=1)))  # z0 (last row) meets them, so some row does
        found = [(z0, None), (seg[i], MS[i])] + ([(zs, None)] if zs is not None else [])
        # the cheapest of the start, the last point and the best iterate that met ``need``
        z, mz = min(found, key=lambda f: float(prob.annual_cost(f[0])[0]))
        return z, (prob.margins(z)[0] if mz is None else mz)

    z, m = polish(ok, need)
    if best is None and probability is not None and not central:
        # the probability alone is a relaxation of the probability with the central run: its
        # answer must not cost more. SLSQP on the quantile (a kinked function of the levers)
        # can stop at a dearer point than the one the central constraint leads it to, so that
        # search is run too and the cheaper answer kept (both meet the probability)
        prob.central = True
        MC2 = prob.margins(cands)
        ok2 = (MC2 >= 0).all(axis=1)
        if ok2.any():
            z2, _ = polish(ok2, np.zeros(MC2.shape[1]))
            prob.central = False
            if prob.annual_cost(z2)[0] < prob.annual_cost(z)[0]:
                z, m = z2, prob.margins(z2)[0]
        prob.central = False
    if best is None:
        return _result(prob, z, m, True, probability, bar)
    # which levers bind: at their maximum at the best point, where raising them would help a
    # missed target (a positive derivative of its margin, one-sided from the bound)
    mb, jac = fd(best[0])
    missed = mb < 0
    bound = [j for j in range(d) if best[0][j] >= 1.0 - 1e-9 and (jac[missed, j] > 0).any()]
    return _result(prob, z, m, False, probability, bar, best=(best[0], mb, bound),
                   tolerance=tolerance)


def _closest(prob: _Problem, fd: _Local, z0: np.ndarray, m0: np.ndarray, maxiter: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """The best reachable point from ``z0`` (constraint margins ``m0``, some < 0): SLSQP
    maximising the sum of the missed margins (each counted up to 0) while keeping the met
    ones ≥ 0; returns it with its margins, or ``z0`` if that is not better."""
    met = m0 >= 0

    def low(z):
        return (fd.value(z) < 0) & ~met

    def objective(z):
        return -float(fd.value(z)[low(z)].sum())

    z1, zs = _slsqp(objective, z0, lambda z: -fd.jac(z)[low(z)].sum(axis=0),
                    [{"type": "ineq", "fun": lambda z: fd.value(z)[met],
                      "jac": lambda z: fd.jac(z)[met]}] if met.any() else [],
                    maxiter, 1e-9,
                    lambda z: objective(z) if (fd.value(z)[met] >= 0).all() else None,
                    stall=True)
    out = (z0, m0)
    for z in (z1, zs) if zs is not z1 else (z1,):
        if z is None:
            continue
        m1 = prob.margins(z)[0]
        if (m1[met] >= 0).all() and np.clip(-m1, 0, None).sum() < np.clip(-out[1], 0, None).sum():
            out = (z, m1)
    return out


#: The search for the best reachable point (unreachable targets) wanders for many iterations
#: near its answer (its objective, a sum of shortfalls, has kinks; under uncertainty so have
#: the quantiles): it stops once its best iterate meeting the met targets has not reduced the
#: total shortfall by more than :data:`STALL_TOL` (a share of a target) for
#: :data:`STALL_ITERATIONS` iterations in a row. The cost polish is not stopped early (it can
#: find a much cheaper point after a plateau).
STALL_ITERATIONS = 10
STALL_TOL = 1e-6


class _Stalled(Exception):
    """Raised from SLSQP's callback to stop it (see :data:`STALL_ITERATIONS`)."""


def _slsqp(fun, z0: np.ndarray, jac, constraints: list, maxiter: int, ftol: float, score,
           stall: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """SLSQP minimising ``fun`` over the unit cube from ``z0`` (with ``stall``, stopped early
    once stalled, see :data:`STALL_ITERATIONS`).

    ``score(z)`` is the objective at an iterate that meets the constraints, None at one that
    does not. Returns SLSQP's last point (which may miss the constraints slightly; the
    callers re-check it) and the best iterate that met them (None if none did)."""
    from scipy.optimize import minimize
    track: dict = {"score": None, "z": None, "since": 0}

    def callback(zk):
        z = np.clip(np.asarray(zk, dtype=float), 0.0, 1.0)
        got = score(z)
        if got is not None and (track["score"] is None or got < track["score"] - STALL_TOL):
            track.update(score=got, z=z.copy(), since=0)
        else:
            track["since"] += 1
        if stall and track["z"] is not None and track["since"] >= STALL_ITERATIONS:
            raise _Stalled

    try:
        res = minimize(fun, z0, jac=jac, method="SLSQP", bounds=[(0.0, 1.0)] * len(z0),
                       constraints=constraints, callback=callback,
                       options={"maxiter": maxiter, "ftol": ftol})
        last = np.clip(res.x, 0.0, 1.0)
    except _Stalled:
        last = track["z"]
    return last, track["z"]


def _floor(scenario: Scenario, lever: tables.Lever, periods: Sequence[str]) -> float:
    """The scenario's highest level of ``lever`` over ``periods``: its floor there."""
    return max(scenario.levers[lever.id][tables.PERIODS.index(p)] for p in periods)


def _settings(prob: _Problem, z: np.ndarray) -> tuple[dict, dict, dict]:
    """Lever levels at ``z``: every period's (lever id → tuple), the decided ones (as
    ``SolveResult.levers``) and the cost a year per decided period."""
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
    return changes, settings, by_period


def _result(prob: _Problem, z: np.ndarray, m: np.ndarray, feasible: bool,
            probability: float | None, bar, best: tuple | None = None,
            tolerance: float = CLOSEST_TOLERANCE) -> SolveResult:
    """The answer at ``z`` (constraint margins ``m``); ``best``: unreachable targets, the best
    reachable point, its constraint margins and the indices of the levers that bind there."""
    from simulator.model import Model
    levers = tables.levers()
    changes, settings, by_period = _settings(prob, z)
    scen = prob.scenario.with_levers(name=f"{prob.scenario.name}-solved", **changes)
    card = goals.scorecard(Model().run(scen))
    nt = len(prob.targets)
    variables = list(dict.fromkeys(t.indicator for t in prob.targets))
    # the central run of the answer: the scorecard's own values (a run of the answer, not taken
    # from the search), so that "central run met" and the scorecard cannot disagree
    central = card.set_index("key").loc[[t.key for t in prob.targets], "value"].to_numpy(float)
    margins = pd.DataFrame({
        "key": [t.key for t in prob.targets], "margin": m[:nt], "central_value": central,
        "central_margin": [float(_margin(v, t)) for v, t in zip(central, prob.targets)]})
    margins["central_met"] = margins["central_margin"] >= 0
    probs = None
    if prob.draws is not None:
        times, data = unc.evaluate({**scen.params(), **prob.fixed}, prob.draws, variables)
        shares, below = [], []
        for t, c in zip(prob.targets, central):
            vals = unc.target_values(data, times, t)
            shares.append(float(unc.met(vals, t).mean()))
            below.append(float((vals < c).mean()))
        probs = pd.DataFrame({"key": margins["key"], "probability": shares})
        margins["probability"] = shares
        margins["central_quantile"] = below  # share of the draws below the central run
    # the margin each target is held to: the required quantile's, and the central run's if
    # that is required too
    held = np.minimum(m[:nt], m[nt:]) if len(m) > nt else m
    if feasible:
        margins["binding"] = held <= held.min() + 1e-3
    else:
        margins["binding"] = held < 0
        mb = best[1]
        margins["best_margin"] = np.minimum(mb[:nt], mb[nt:]) if len(mb) > nt else mb
    binding = tuple(margins.assign(held=held).sort_values("held", kind="stable").loc[
        lambda f: f["binding"], "key"])
    annual = float(prob.annual_cost(z)[0])
    period_text = f"{prob.periods[0][:4]}–{prob.periods[-1][-4:]}"
    how = ""
    if probability is not None:
        how = f" with probability ≥ {probability:g} ({prob.need} of {len(prob.draws)} draws)"
        if prob.central:
            how += " and in the central run"
    bound, best_cost = (), None
    if feasible:
        message = (f"reached {nt} target(s) {'each' + how if how else 'in the deterministic run'}"
                   f" at {annual:,.0f} 万元 a year above the 2020 levels over {period_text}")
    else:
        bound = tuple(dict.fromkeys(levers[prob.slots[j][0]].id for j in best[2]))
        best_cost = float(prob.annual_cost(best[0])[0])
        shorts = "; ".join(
            f"{k} short by {-b * 100:.1f} % of its target at best"
            + (f" ({-a * 100:.1f} % in the proposal)" if a < b - 1e-9 else "")
            for k, a, b in zip(margins["key"], held, margins["best_margin"]) if b < 0)
        message = (f"cannot be reached within the lever bounds{how}: {shorts or '—'}"
                   f" (binding: {binding[0] if binding else '—'}); levers at their maximum that "
                   f"bind: {', '.join(bound) or 'none'}; closest affordable settings (the "
                   f"cheapest within {tolerance * 100:g} % of each target of the best reachable "
                   f"point): {annual:,.0f} 万元 a year over {period_text}, against "
                   f"{best_cost:,.0f} at the best point")
    if bar is not None:
        bar.update(bar.total - bar.n)
        bar.close()
    return SolveResult(feasible=feasible, levers=settings, cost_per_year=annual,
                       cost_total=annual * prob.years, years=prob.years, periods=prob.periods,
                       scenario=scen, margins=margins, scorecard=card, probabilities=probs,
                       probability=probability, binding=binding, message=message,
                       runs=prob.evaluations, cost_by_period=by_period,
                       floors=prob.floors, central=prob.central, bound_levers=bound,
                       best_cost_per_year=best_cost,
                       best_levers=None if feasible else _settings(prob, best[0])[1],
                       tolerance=None if feasible else tolerance)
