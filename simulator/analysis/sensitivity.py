"""Global sensitivity of the plan's targets to the levers and the uncertain constants.

Two SALib methods, both on the ensemble engine (every sample evaluated in one vectorised pass):

* **Sobol** (Saltelli's sampling scheme, ``SALib.sample.sobol`` → ``SALib.analyze.sobol``):
  first-order ``S1`` and total ``ST`` indices with bootstrap confidence intervals; ``n`` base
  samples cost ``n × (D + 2)`` runs (``n × (2D + 2)`` with second-order indices).
* **Morris** elementary effects (``SALib.sample.morris`` → ``SALib.analyze.morris``): ``mu_star``
  (mean absolute effect, in the target's unit) with its confidence interval and ``sigma``;
  ``n`` trajectories cost ``n × (D + 1)`` runs — a cheap screen over many inputs.

The inputs: a lever varies over its ``[min, max]`` from ``models/levers.csv`` with one value for
all three plan periods (2021–2035); an uncertain constant varies uniformly over its ``[min, max]``
in the uncertainty file (a global analysis explores the whole range; the triangular shape is for
:mod:`simulator.analysis.uncertainty`). Everything else stays at the scenario's values. The
output of each target is its measured value (level, or growth in % per year for ``cagr``
targets).

Seeds: any int including 0 or None. SALib's Sobol analysis ignores a seed of 0 (``if seed:``), so
the bootstrap seed handed to SALib is derived from ours and never 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from simulator.analysis import uncertainty as unc
from simulator.plan import tables
from simulator.plan.scenario import Scenario
from simulator.plan.tables import Target

METHODS = ("sobol", "morris")
INPUT_SETS = ("levers", "constants", "all")


@dataclass(frozen=True)
class Input:
    """One input factor: a lever (id) or an uncertain constant (engine name), and its range."""

    name: str
    kind: str  # "lever" or "constant"
    min: float
    max: float
    label: str

    def params(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Engine params that set this input to ``values``."""
        if self.kind == "lever":
            lev = tables.lever(self.name)
            return {lev.period_param(p): values for p in tables.PERIODS}
        return {self.name: values}


def inputs_for(which: str | Sequence[str] = "all", spec: unc.UncertaintySpec | None = None
               ) -> list[Input]:
    """The inputs of an analysis.

    Parameters
    ----------
    which : "levers", "constants", "all", or a sequence of lever ids and constant names
        A comma-separated string of names is split; default ``"all"``.
    spec : UncertaintySpec, optional
        Ranges of the uncertain constants (default ``models/uncertainty.yaml``); its fixed
        constants are not inputs.

    Returns
    -------
    list of Input
        Each with its kind (lever or constant) and its ``[min, max]`` range, in its unit.

    Raises
    ------
    ValueError
        An unknown name, a name given twice, or none at all.
    """
    spec = spec or unc.load_spec()
    levers = {lev.id: Input(lev.id, "lever", lev.min, lev.max, f"{lev.name_zh} {lev.name_en}")
              for lev in tables.levers()}
    consts = {d.constant: Input(d.constant, "constant", d.min, d.max, d.constant)
              for d in spec.varied}
    if isinstance(which, str):
        if which == "levers":
            return list(levers.values())
        if which == "constants":
            return list(consts.values())
        if which == "all":
            return list(levers.values()) + list(consts.values())
        which = [w.strip() for w in which.split(",") if w.strip()]
    out = []
    for name in which:
        if name in levers:
            out.append(levers[name])
        elif name in consts:
            out.append(consts[name])
        else:
            raise ValueError(f"inputs: value {name!r} is not a lever or a varied uncertain "
                             f"constant; allowed {', '.join(INPUT_SETS)}, or lever ids "
                             f"({', '.join(levers)}) and constants of {spec.source or spec.name}")
    if len(set(i.name for i in out)) < len(out):
        raise ValueError(f"inputs: {list(which)} names an input twice")
    if not out:
        raise ValueError("inputs: none given; allowed levers, constants, all or a list of names")
    return out


def problem(inputs: Sequence[Input]) -> dict:
    """The SALib problem dict of ``inputs``."""
    return {"num_vars": len(inputs), "names": [i.name for i in inputs],
            "bounds": [[i.min, i.max] for i in inputs]}


def evaluate_targets(scenario: Scenario, inputs: Sequence[Input], X: np.ndarray,
                     targets: Sequence[Target], spec: unc.UncertaintySpec | None = None, *,
                     chunk: int = unc.CHUNK, progress: bool = False,
                     dask: str | bool | None = None) -> np.ndarray:
    """Measured value of every target for every row of the sample ``X`` (shape (N, D)).

    Returns an array of shape (N, len(targets)).
    """
    spec = spec or unc.load_spec()
    base = dict(scenario.params())
    base.update({d.constant: d.min for d in spec.distributions if not d.varies})
    cols: dict[str, np.ndarray] = {}
    for j, inp in enumerate(inputs):
        cols.update(inp.params(np.ascontiguousarray(X[:, j], dtype=float)))
    draws = pd.DataFrame(cols)
    variables = list(dict.fromkeys(t.indicator for t in targets))
    times, data = unc.evaluate(base, draws, variables, chunk=chunk, progress=progress, dask=dask,
                               desc="sensitivity")
    return np.column_stack([unc.target_values(data, times, t) for t in targets])


def _salib_seed(seed: int | None) -> int | None:
    """A non-zero seed derived from ``seed`` (SALib's Sobol analysis ignores 0)."""
    if seed is None:
        return None
    return int(np.random.default_rng(seed).integers(1, 2**31 - 1))


@dataclass(frozen=True)
class SensitivityResult:
    """Indices of every input for every target.

    Attributes
    ----------
    method : "sobol" or "morris"
    inputs : tuple of Input
    table : DataFrame
        One row per target and input: ``target, input, kind, label`` and the method's indices
        (Sobol: ``S1, S1_conf, ST, ST_conf``; Morris: ``mu_star, mu_star_conf, sigma, mu``),
        and ``rank`` (1 = most influential by ``ST`` or ``mu_star``).
    runs : int
        Model runs used.
    seed : int or None
    """

    method: str
    inputs: tuple[Input, ...]
    table: pd.DataFrame
    runs: int
    seed: int | None

    @property
    def measure(self) -> str:
        """The column that ranks inputs (``ST`` or ``mu_star``)."""
        return "ST" if self.method == "sobol" else "mu_star"

    def ranking(self, target: str) -> pd.DataFrame:
        """Inputs ranked for one target key, most influential first.

        Parameters
        ----------
        target : str
            A target key of the analysis (``tech_smes@2025``).

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`table` for that target, sorted by ``rank``.

        Raises
        ------
        KeyError
            For a target the analysis did not measure, naming the known ones.
        """
        part = self.table[self.table["target"] == target]
        if part.empty:
            raise KeyError(f"target {target!r} is not in the analysis; known: "
                           f"{', '.join(dict.fromkeys(self.table['target']))}")
        return part.sort_values("rank").reset_index(drop=True)

    def top(self, k: int = 5) -> pd.DataFrame:
        """The ``k`` most influential inputs of every target.

        Parameters
        ----------
        k : int, default 5
            Inputs kept per target.

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`table` with ``rank <= k``, targets in analysis order.
        """
        part = self.table[self.table["rank"] <= k]
        order = {key: i for i, key in enumerate(dict.fromkeys(self.table["target"]))}
        return part.sort_values(["target", "rank"], key=lambda c: c.map(order) if c.name ==
                                "target" else c, kind="stable").reset_index(drop=True)

    def overall(self) -> pd.Series:
        """Inputs ranked across targets by their largest normalised index (index / the largest
        index of that target), most influential first — a screen for a smaller Sobol analysis."""
        t = self.table.copy()
        peak = t.groupby("target")[self.measure].transform("max").replace(0, np.nan)
        t["norm"] = (t[self.measure] / peak).fillna(0.0)
        return t.groupby("input", sort=False)["norm"].max().sort_values(ascending=False,
                                                                          kind="stable")


def _targets(targets: Iterable[Target] | None) -> tuple[Target, ...]:
    return tuple(tables.targets() if targets is None else targets)


def _rank(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    table["rank"] = (table.groupby("target", sort=False)[measure]
                     .rank(ascending=False, method="first").astype("Int64"))
    return table


def _setup(inputs, spec: unc.UncertaintySpec | None):
    """The uncertainty spec (default file), the inputs and the SALib problem of an analysis."""
    spec = spec or unc.load_spec()
    inps = tuple(inputs) if inputs and isinstance(inputs[0], Input) else tuple(inputs_for(inputs, spec))
    return spec, inps, problem(inps)


def sobol(scenario: Scenario, inputs: str | Sequence[str] | Sequence[Input] = "all",
          n: int = 512, seed: int | None = None, spec: unc.UncertaintySpec | None = None, *,
          targets: Iterable[Target] | None = None, second_order: bool = False,
          num_resamples: int = 100, conf_level: float = 0.95, progress: bool = False,
          dask: str | bool | None = None) -> SensitivityResult:
    """Sobol indices (Saltelli sampling) of every target.

    Parameters
    ----------
    scenario : Scenario
        Levers and assumptions not among the inputs keep the scenario's values.
    inputs : "levers", "constants", "all", a list of names, or a list of :class:`Input`
        What varies (default ``"all"``: every lever and every uncertain constant); D inputs.
    n : int, default 512
        Base sample size, a power of 2; the analysis costs ``n × (D + 2)`` runs
        (``n × (2D + 2)`` with ``second_order``).
    seed : int or None, optional
        Seeds the scrambled Sobol sequence and the bootstrap (0 included); None: fresh entropy.
    spec : UncertaintySpec, optional
        The uncertain constants and their ranges; default ``models/uncertainty.yaml``.
    targets : iterable of Target, optional
        Default every target of ``models/targets.csv``.
    second_order : bool, default False
        Also sample for second-order indices (their runs; the table keeps S1 and ST).
    num_resamples : int, default 100
        Bootstrap resamples of the confidence intervals.
    conf_level : float, default 0.95
        Confidence level of the intervals.
    progress : bool, default False
        Show a tqdm progress bar on standard error.
    dask : None, True or str, optional
        Where the runs are evaluated (:func:`simulator.analysis.uncertainty.evaluate`): locally
        (None), on a fresh local Dask cluster (True) or on the scheduler at this address.

    Returns
    -------
    SensitivityResult
        ``table``: one row per target and input with ``S1, S1_conf, ST, ST_conf`` (shares of
        the output's variance, 0 to 1) and ``rank`` by ``ST``; ``runs``: model runs used.

    Raises
    ------
    ValueError
        An ``n`` that is not a power of 2, or unknown input names.

    Examples
    --------
    >>> from simulator import load_scenario, sensitivity
    >>> res = sensitivity.sobol(load_scenario("scenarios/plan.yaml"), "levers", n=256,
    ...                         seed=0)                                   # doctest: +SKIP
    >>> res.top(5)                                                        # doctest: +SKIP
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample
    if not isinstance(n, (int, np.integer)) or n < 2 or n & (n - 1):
        raise ValueError(f"n: value {n!r} is not allowed; allowed a power of 2 such as 256, 512, "
                         "1024 (Sobol sequences are balanced only at powers of 2)")
    spec, inps, prob = _setup(inputs, spec)
    X = sobol_sample.sample(prob, n, calc_second_order=second_order, seed=seed)
    tgts = _targets(targets)
    Y = evaluate_targets(scenario, inps, X, tgts, spec, progress=progress, dask=dask)
    rows = []
    for j, t in enumerate(tgts):
        y = Y[:, j]
        finite = y[np.isfinite(y)]
        if finite.size == 0 or np.ptp(finite) == 0:  # a constant output: no variance to share
            res = {"S1": np.zeros(len(inps)), "S1_conf": np.zeros(len(inps)),
                   "ST": np.zeros(len(inps)), "ST_conf": np.zeros(len(inps))}
        else:
            res = sobol_analyze.analyze(prob, y, calc_second_order=second_order,
                                        num_resamples=num_resamples, conf_level=conf_level,
                                        seed=_salib_seed(seed))
        for i, inp in enumerate(inps):
            rows.append({"target": t.key, "input": inp.name, "kind": inp.kind, "label": inp.label,
                         "S1": float(res["S1"][i]), "S1_conf": float(res["S1_conf"][i]),
                         "ST": float(res["ST"][i]), "ST_conf": float(res["ST_conf"][i])})
    table = _rank(pd.DataFrame(rows), "ST")
    return SensitivityResult("sobol", inps, table, runs=len(X), seed=seed)


def morris(scenario: Scenario, inputs: str | Sequence[str] | Sequence[Input] = "all",
           n: int = 20, seed: int | None = None, spec: unc.UncertaintySpec | None = None, *,
           targets: Iterable[Target] | None = None, num_levels: int = 4,
           num_resamples: int = 100, conf_level: float = 0.95, progress: bool = False,
           dask: str | bool | None = None) -> SensitivityResult:
    """Morris elementary effects of every target: ``n`` trajectories, ``n × (D + 1)`` runs.

    ``mu_star`` is in the target's unit per full range of the input (SALib scales each input to
    [0, 1]); its confidence interval is a bootstrap over trajectories.

    Parameters
    ----------
    scenario : Scenario
        Levers and assumptions not among the inputs keep the scenario's values.
    inputs : "levers", "constants", "all", a list of names, or a list of :class:`Input`
        What varies (default ``"all"``); D inputs.
    n : int, default 20
        Number of trajectories, >= 2.
    seed : int or None, optional
        Seeds the trajectories and the bootstrap (0 included); None: fresh entropy.
    num_levels : int, default 4
        Grid levels of each input's range.
    spec, targets, num_resamples, conf_level, progress, dask : optional
        As in :func:`sobol` (same defaults).

    Returns
    -------
    SensitivityResult
        ``table``: one row per target and input with ``mu_star, mu_star_conf, sigma, mu`` (in
        the target's unit) and ``rank`` by ``mu_star``; ``runs``: model runs used.

    Raises
    ------
    ValueError
        An ``n`` below 2, or unknown input names.

    Examples
    --------
    >>> from simulator import load_scenario, sensitivity
    >>> plan = load_scenario("scenarios/plan.yaml")              # doctest: +SKIP
    >>> res = sensitivity.morris(plan, n=20, seed=0)              # doctest: +SKIP
    >>> res.ranking("tech_smes@2025")                             # doctest: +SKIP
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: value {n!r} is not allowed; allowed a whole number of "
                         "trajectories >= 2")
    spec, inps, prob = _setup(inputs, spec)
    X = morris_sample.sample(prob, n, num_levels=num_levels, seed=seed)
    tgts = _targets(targets)
    Y = evaluate_targets(scenario, inps, X, tgts, spec, progress=progress, dask=dask)
    rows = []
    for j, t in enumerate(tgts):
        res = morris_analyze.analyze(prob, X, np.ascontiguousarray(Y[:, j]),
                                     num_resamples=num_resamples, conf_level=conf_level,
                                     num_levels=num_levels, seed=_salib_seed(seed))
        for i, inp in enumerate(inps):
            rows.append({"target": t.key, "input": inp.name, "kind": inp.kind, "label": inp.label,
                         "mu_star": float(res["mu_star"][i]),
                         "mu_star_conf": float(res["mu_star_conf"][i]),
                         "sigma": float(res["sigma"][i]), "mu": float(res["mu"][i])})
    table = _rank(pd.DataFrame(rows), "mu_star")
    return SensitivityResult("morris", inps, table, runs=len(X), seed=seed)


def analyse(method: str, scenario: Scenario, **kwargs) -> SensitivityResult:
    """:func:`sobol` or :func:`morris` by name."""
    if method not in METHODS:
        raise ValueError(f"method: value {method!r} is not allowed; allowed {', '.join(METHODS)}")
    return (sobol if method == "sobol" else morris)(scenario, **kwargs)


# --------------------------------------------------------------------------------------------
# One-at-a-time swings (for tornado charts)

def swings(scenario: Scenario, target: Target, inputs: str | Sequence[str] = "all",
           spec: unc.UncertaintySpec | None = None) -> pd.DataFrame:
    """One-at-a-time swings of ``target``: each input at its min and at its max.

    Everything else stays at the scenario's values (one vectorised run of 2 × D lanes).

    Parameters
    ----------
    scenario : Scenario
        The values every other input keeps.
    target : Target
        The target whose measured value swings.
    inputs : "levers", "constants", "all" or a list of names, default "all"
        What swings.
    spec : UncertaintySpec, optional
        The uncertain constants' ranges; default ``models/uncertainty.yaml``.

    Returns
    -------
    pandas.DataFrame
        Columns ``input, label, kind, low, high, base, swing`` (``low``/``high``: the target's
        value with the input at its min/max, in the target's unit), sorted by
        ``swing = |high - low|``, largest first.
    """
    spec = spec or unc.load_spec()
    inps = inputs_for(inputs, spec)
    d = len(inps)
    base_row = np.array([_base_value(scenario, i) for i in inps])
    X = np.tile(base_row, (2 * d + 1, 1))
    for j, inp in enumerate(inps):
        X[2 * j, j], X[2 * j + 1, j] = inp.min, inp.max
    values = evaluate_targets(scenario, inps, X, [target], spec)[:, 0]
    Y, base = values[:-1], float(values[-1])
    frame = pd.DataFrame({"input": [i.name for i in inps], "label": [i.label for i in inps],
                          "kind": [i.kind for i in inps], "low": Y[0::2], "high": Y[1::2],
                          "base": base})
    frame["swing"] = (frame["high"] - frame["low"]).abs()
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def _base_value(scenario: Scenario, inp: Input) -> float:
    if inp.kind == "lever":
        return float(scenario.levers[inp.name][0])
    from simulator.model import engine_for
    return float(engine_for().constants[inp.name])


# --------------------------------------------------------------------------------------------
# Plots (matplotlib Figures; nothing is shown or saved here)

def plot_ranking(result: SensitivityResult, target: str, k: int = 10):
    """Horizontal bar chart of the ``k`` most influential inputs of ``target`` with confidence
    intervals (Sobol: ``ST`` and ``S1``; Morris: ``mu_star``). Returns a Figure."""
    import matplotlib.pyplot as plt
    rank = result.ranking(target).head(k).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rank) + 1.2))
    y = np.arange(len(rank))
    colors = ["tab:orange" if kind == "lever" else "tab:blue" for kind in rank["kind"]]
    if result.method == "sobol":
        ax.barh(y, rank["ST"], xerr=rank["ST_conf"], color=colors, alpha=0.85, label="ST (total)")
        ax.barh(y, rank["S1"], xerr=rank["S1_conf"], color="none", edgecolor="black",
                hatch="//", label="S1 (first order)")
        ax.set_xlabel("Sobol index")
    else:
        ax.barh(y, rank["mu_star"], xerr=rank["mu_star_conf"], color=colors, alpha=0.85,
                label="mu* (mean |elementary effect|)")
        ax.set_xlabel("Morris mu* (target unit per input range)")
    ax.set_yticks(y, rank["input"])
    ax.set_title(f"{target}: {result.method} ranking (orange: lever, blue: uncertain constant)",
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_tornado(swing_table: pd.DataFrame, target: str = "", k: int = 10):
    """Tornado chart of :func:`swings` output: bars from the value with each input at its min to
    the value at its max, around the base value. Returns a Figure."""
    import matplotlib.pyplot as plt
    part = swing_table.head(k).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(part) + 1.2))
    y = np.arange(len(part))
    base = float(part["base"].iloc[0]) if len(part) else 0.0
    ax.barh(y, part["high"] - base, left=base, color="tab:green", label="input at max")
    ax.barh(y, part["low"] - base, left=base, color="tab:red", label="input at min")
    ax.axvline(base, color="black", lw=0.8)
    ax.set_yticks(y, part["input"])
    ax.set_title(f"{target}: one-at-a-time swings".strip(": "), fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
