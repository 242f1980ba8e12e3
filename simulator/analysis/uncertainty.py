"""Parameter uncertainty: distributions of the model's uncertain constants, Latin-hypercube
ensembles, 5–95 % bands of every indicator and the probability of meeting each target.

Vocabulary (after the EMA Workbench): *levers* are the policy settings of a scenario;
*assumptions* are the scenario's external conditions; the *uncertain constants* are every other
constant of the ``.mdl`` whose units field gives a ``[min, max]`` range (the documented plausible
range: literature, observation or assumption). An uncertainty file gives each uncertain constant a
distribution; a scenario's levers and assumptions stay fixed (shared by every run).

An uncertainty file (``models/uncertainty.yaml``) looks like::

    name: model-ranges                       # required
    description: ...                         # optional
    distributions:                           # uncertain constant (Python name) → distribution
      knowledge_depreciation_rate: {dist: triangular, min: 0.1, mode: 0.15, max: 0.3}
      firm_exit_rate: {dist: uniform, min: 0.06, max: 0.09}
      patent_grant_lag: {dist: fixed, value: 3}

A constant not listed keeps the model's value. ``min``/``max`` must lie within the range written
in the ``.mdl`` (nothing is clipped); ``mode`` (and ``value``) within ``[min, max]``. Every mistake
raises :class:`UncertaintyError` (a :class:`~simulator.plan.scenario.ScenarioError`) whose one-line
message names the file, the field, the value and what is allowed.

Sampling is a Latin hypercube (``scipy.stats.qmc.LatinHypercube``) in the unit cube mapped through
each distribution's inverse CDF; ``seed`` (any int including 0, or None for fresh entropy) makes
it reproducible. The draws are made once for the whole ensemble and then evaluated in chunks, so
a chunked, parallel or Dask evaluation gives results identical to one local pass.

The ensembles of :func:`run` (and of the solver and milestones under a probability) keep by
default only draws consistent with the 2015–2020 observations: history matching with an
implausibility cut, :mod:`simulator.analysis.conditioning`. ``conditioned=False`` gives the
prior's draws.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.analysis import conditioning
from simulator.analysis.conditioning import Conditioned
from simulator.base.inputs import CONTROL, check_text, read_bytes
from simulator.plan import goals, tables
from simulator.plan import scenario as scenario_mod
from simulator.plan.scenario import Scenario, ScenarioError
from simulator.plan.tables import Target

#: The default uncertainty file.
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "models" / "uncertainty.yaml"
#: Distribution kinds and their fields.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "triangular": ("min", "mode", "max"),
    "uniform": ("min", "max"),
    "fixed": ("value",),
}
_TOP_FIELDS = ("name", "description", "distributions")
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
#: Quantiles reported for bands and targets.
QUANTILES = (0.05, 0.5, 0.95)
#: Default chunk size (runs per engine call).
CHUNK = 10_000


class UncertaintyError(ScenarioError):
    """An uncertainty file is invalid (one line naming file, field, value and what is allowed)."""


# --------------------------------------------------------------------------------------------
# Distributions

@dataclass(frozen=True)
class Distribution:
    """The distribution of one uncertain constant.

    Attributes
    ----------
    constant : str
        The constant's Python name (as in the engine).
    dist : {"triangular", "uniform", "fixed"}
    min, mode, max : float
        Support and mode (for ``uniform`` the mode is the midpoint; for ``fixed`` all three are
        the value). In the constant's own unit (the ``.mdl``'s).
    """

    constant: str
    dist: str
    min: float
    mode: float
    max: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u`` in [0, 1]."""
        u = np.asarray(u, dtype=float)
        a, c, b = self.min, self.mode, self.max
        if self.dist == "fixed" or b == a:
            return np.full_like(u, a)
        if self.dist == "uniform":
            return a + u * (b - a)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    @property
    def varies(self) -> bool:
        return self.dist != "fixed" and self.max > self.min


@dataclass(frozen=True)
class UncertaintySpec:
    """A validated uncertainty file: distributions of uncertain constants (in file order)."""

    name: str
    distributions: tuple[Distribution, ...]
    description: str = ""
    source: str = ""

    @property
    def varied(self) -> tuple[Distribution, ...]:
        """The distributions that are not fixed (the dimensions of the hypercube)."""
        return tuple(d for d in self.distributions if d.varies)

    @property
    def fixed(self) -> dict[str, float]:
        """The fixed constants and their values (shared by every run)."""
        return {d.constant: d.min for d in self.distributions if not d.varies}

    def sample(self, n: int, seed: int | np.random.SeedSequence | None = None) -> pd.DataFrame:
        """``n`` Latin-hypercube draws (:func:`sample`)."""
        return sample(self, n, seed)

    def problem(self) -> dict[str, Any]:
        """The varied constants as a SALib problem (uniform over each ``[min, max]``)."""
        return {"num_vars": len(self.varied), "names": [d.constant for d in self.varied],
                "bounds": [[d.min, d.max] for d in self.varied]}


def uncertain_constants(engine=None) -> dict[str, tuple[float, float]]:
    """Every uncertain constant of the model with its ``[min, max]`` range from the ``.mdl``.

    Those are the constants with a range that are none of: a lever's per-period constant, a
    lever's 2020 level, a scenario assumption or a control variable.
    """
    from simulator.model import engine_for
    engine = engine or engine_for()
    excluded = set(CONTROL)
    for lev in tables.levers():
        excluded.add(tables.python_name(f"{lev.vensim_name} 2020"))
        excluded.update(lev.period_param(p) for p in tables.PERIODS)
    excluded.update(a.param for a in tables.assumptions())
    return {k: v for k, v in engine.limits.items() if k not in excluded}


def _fmt(x: float) -> str:
    return f"{x:g}"


def _number(source: str, fieldname: str, value: Any, lo: float, hi: float, what: str) -> float:
    allowed = f"a number from {_fmt(lo)} to {_fmt(hi)} ({what})"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UncertaintyError(f"{source}: field '{fieldname}': value {value!r} is not a number; "
                               f"allowed {allowed}")
    try:
        value = float(value)
    except OverflowError:
        value = math.inf if value > 0 else -math.inf
    if not math.isfinite(value) or not lo <= value <= hi:
        raise UncertaintyError(f"{source}: field '{fieldname}': value {value:g} is out of range; "
                               f"allowed {allowed}")
    return value


def spec_from_dict(data: Any, source: str = "<uncertainty>", engine=None) -> UncertaintySpec:
    """Validate plain data (as loaded from YAML) into an :class:`UncertaintySpec`."""
    if data is None:
        raise UncertaintyError(f"{source}: the file is empty; an uncertainty file needs 'name' "
                               "and 'distributions'")
    if not isinstance(data, dict):
        raise UncertaintyError(f"{source}: field '(top level)': value {data!r} is not a mapping; "
                               f"allowed a mapping with fields {', '.join(_TOP_FIELDS)}")
    for key in data:
        if key not in _TOP_FIELDS:
            raise UncertaintyError(f"{source}: field {key!r}: unknown field; allowed "
                                   + ", ".join(_TOP_FIELDS))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UncertaintyError(f"{source}: field 'name': value {name!r} is not allowed; allowed "
                               "a non-empty string")
    check_text(name, source, "name", max_chars=200, error=UncertaintyError)
    description = check_text(data.get("description") or "", source, "description",
                             multiline=True, error=UncertaintyError)
    dists_in = data.get("distributions")
    if not isinstance(dists_in, dict):
        raise UncertaintyError(f"{source}: field 'distributions': value {dists_in!r} is not a "
                               "mapping; allowed a mapping of uncertain constants to distributions")
    known = uncertain_constants(engine)
    out = []
    for const, spec in dists_in.items():
        field = f"distributions.{const}"
        if const not in known:
            raise UncertaintyError(f"{source}: field {field!r}: unknown uncertain constant; "
                                   f"allowed {', '.join(known)}")
        lo, hi = known[const]
        if not isinstance(spec, dict):
            raise UncertaintyError(f"{source}: field {field!r}: value {spec!r} is not a mapping; "
                                   "allowed {dist: triangular|uniform|fixed, min, mode, max}")
        dist = spec.get("dist")
        if dist not in DISTRIBUTIONS:
            raise UncertaintyError(f"{source}: field '{field}.dist': value {dist!r} is not a "
                                   f"distribution; allowed {', '.join(DISTRIBUTIONS)}")
        fields = DISTRIBUTIONS[dist]
        extra = [k for k in spec if k != "dist" and k not in fields]
        missing = [k for k in fields if k not in spec]
        if extra or missing:
            bad = extra[0] if extra else missing[0]
            raise UncertaintyError(f"{source}: field '{field}.{bad}': "
                                   f"{'unknown field' if extra else 'missing'} for a {dist} "
                                   f"distribution; allowed fields dist, {', '.join(fields)}")
        mdl = f"the .mdl range of {const}"
        if dist == "fixed":
            v = _number(source, f"{field}.value", spec["value"], lo, hi, mdl)
            out.append(Distribution(const, dist, v, v, v))
            continue
        a = _number(source, f"{field}.min", spec["min"], lo, hi, mdl)
        b = _number(source, f"{field}.max", spec["max"], lo, hi, mdl)
        if a > b:
            raise UncertaintyError(f"{source}: field '{field}.min': value {a:g} is greater than "
                                   f"max {b:g}; allowed min <= max")
        if dist == "triangular":
            c = _number(source, f"{field}.mode", spec["mode"], a, b, f"from min to max of {const}")
        else:
            c = (a + b) / 2
        out.append(Distribution(const, dist, a, c, b))
    return UncertaintySpec(name=name.strip(), distributions=tuple(out), description=description,
                           source=source)


def loads_spec(text: str | bytes, source: str = "<uncertainty>", engine=None) -> UncertaintySpec:
    """Validate an uncertainty file given as YAML text (``source`` names it in errors).

    Parameters and errors as :func:`load_spec`, with the YAML ``text`` (str or bytes) in place
    of a path."""
    data = scenario_mod.parse_yaml(text, source, error=UncertaintyError)
    return spec_from_dict(data, source=source, engine=engine)


def load_spec(path: str | Path = DEFAULT_FILE, engine=None) -> UncertaintySpec:
    """Read and validate an uncertainty file.

    Parameters
    ----------
    path : str or Path, default ``models/uncertainty.yaml``
        The YAML file of distributions of the uncertain constants.
    engine : Engine, optional
        Whose constants and documented ranges the file is checked against; default
        :func:`simulator.model.engine_for` ``()``.

    Returns
    -------
    UncertaintySpec
        Every uncertain constant with its distribution (or its fixed value).

    Raises
    ------
    UncertaintyError
        A file that cannot be read within bounds, invalid YAML, or an invalid entry (unknown
        constant, distribution or field, a range outside the documented one), in one line.
    """
    raw = read_bytes(path, what="uncertainty YAML file", error=UncertaintyError)
    return loads_spec(raw, source=str(path), engine=engine)


# --------------------------------------------------------------------------------------------
# Sampling

def sample(spec: UncertaintySpec, n: int, seed: int | np.random.SeedSequence | None = None
           ) -> pd.DataFrame:
    """``n`` Latin-hypercube draws of the varied constants of ``spec``.

    Parameters
    ----------
    spec : UncertaintySpec
        The distributions (:func:`load_spec`); each column is its distribution's inverse CDF of
        the hypercube's uniform coordinates.
    n : int
        Number of draws, >= 1.
    seed : int, numpy.random.SeedSequence or None, optional
        Seed of ``np.random.default_rng``; 0 is a seed like any other, None fresh entropy.

    Returns
    -------
    DataFrame
        The experiments table: one row per run (index ``run``), one column per varied constant,
        values in the constant's unit. Same ``seed`` (0 included), same table.

    Raises
    ------
    ValueError
        An ``n`` that is not a whole number >= 1.
    """
    from scipy.stats import qmc
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: value {n!r} is not allowed; allowed a whole number >= 1")
    varied = spec.varied
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    if varied:
        unit = qmc.LatinHypercube(d=len(varied), rng=rng).random(n)
        for j, d in enumerate(varied):
            cols[d.constant] = d.ppf(unit[:, j])
    return pd.DataFrame(cols, index=pd.RangeIndex(n, name="run"))


# --------------------------------------------------------------------------------------------
# Target measures on ensembles

def target_values(data: Mapping[str, np.ndarray], times: np.ndarray, target: Target) -> np.ndarray:
    """The measured value of ``target`` in every run: the indicator's level in the target's year,
    or its average annual growth from 2020 (``kind`` = ``"cagr"``, % per year, NaN where the
    2020 value is not positive), as :func:`simulator.plan.goals.cagr` computes it for one run."""
    series = np.asarray(data[target.indicator])
    hit = np.flatnonzero(np.isclose(times, target.year))
    if not len(hit):
        return np.full(series.shape[1:], np.nan)
    end = series[hit[0]]
    if target.kind == "level":
        return end.astype(float)
    base = np.flatnonzero(np.isclose(times, goals.BASE_YEAR))
    if not len(base) or target.year <= goals.BASE_YEAR:
        return np.full(series.shape[1:], np.nan)
    start = series[base[0]]
    with np.errstate(all="ignore"):
        ok = (start > 0) & (end >= 0)
        out = ((end / np.where(ok, start, 1.0)) ** (1.0 / (target.year - goals.BASE_YEAR)) - 1.0) * 100
    return np.where(ok, out, np.nan)


def met(values: np.ndarray, target: Target) -> np.ndarray:
    """Boolean array: whether each value meets ``target`` (NaN never does)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & _OPS[target.comparison](values, target.target)


# --------------------------------------------------------------------------------------------
# Evaluation (local chunks, or Dask)

def _run_chunk(base: Mapping[str, float], draws: Mapping[str, np.ndarray], variables: Sequence[str],
               backend: str | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run one chunk of draws with shared scalar ``base`` params (module-level: picklable).
    ``backend`` is chosen by the caller, so that a Dask worker computes as the client would."""
    from simulator.model import engine_for
    params = dict(base)
    params.update(draws)
    n = len(next(iter(draws.values()))) if draws else 1
    res = engine_for().run(params, n=n, variables=list(variables), backend=backend)
    return res.times, res.data


def _chunks(n: int, size: int) -> list[slice]:
    """``n`` runs in the fewest chunks of at most ``size``, of equal sizes (±1): one compiled
    XLA program serves them all, where 10,000 + 10,000 + 10,000 + 6,864 would need two."""
    count = -(-n // size)
    bounds = [n * k // count for k in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def evaluate(base: Mapping[str, float], draws: pd.DataFrame, variables: Sequence[str], *,
             chunk: int = CHUNK, progress: bool = False, dask: str | bool | None = None,
             desc: str = "runs") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run the model for every row of ``draws`` on top of the shared ``base`` params.

    Parameters
    ----------
    base : mapping of engine name → number
        Shared values (the scenario's levers and assumptions).
    draws : DataFrame
        One row per run, one column per varied engine name.
    variables : sequence of str
        Variables to save.
    chunk : int
        Most runs per engine call (the runs are split into equal chunks).
    progress : bool
        Show a tqdm progress bar on standard error.
    dask : None, True, or str
        None/False: evaluate locally. True: on a fresh ``dask.distributed.LocalCluster``;
        a string: the address of a running Dask scheduler. Results are identical either way.

    Returns
    -------
    times : ndarray (T,), data : dict name → ndarray (T, N)
    """
    n = len(draws)
    cols = {c: draws[c].to_numpy(dtype=float) for c in draws.columns}
    if not cols:  # nothing varies: one scalar run broadcast to n
        times, data = _run_chunk(base, {}, variables)
        return times, {k: np.repeat(np.asarray(v, dtype=float)[:, None], n, axis=1)
                       for k, v in data.items()}
    slices = _chunks(n, max(1, int(chunk)))
    from simulator.sd.engine import _choose_backend
    backend = _choose_backend(None, "euler")  # this process's choice, also on Dask workers
    pieces: list[tuple[np.ndarray, dict]] = []
    if dask:
        pieces = _evaluate_dask(base, cols, variables, slices, dask, progress, desc, backend)
    else:
        bar = _bar(n, progress, desc)
        for s in slices:
            pieces.append(_run_chunk(base, {k: v[s] for k, v in cols.items()}, variables,
                                     backend))
            if bar is not None:
                bar.update(s.stop - s.start)
        if bar is not None:
            bar.close()
    times = pieces[0][0]
    data = {v: np.concatenate([p[1][v] for p in pieces], axis=1) for v in variables}
    return times, data


def _bar(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    import sys

    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, leave=False)


def _evaluate_dask(base, cols, variables, slices, address, progress, desc, backend):
    from dask.distributed import Client, LocalCluster, as_completed
    cluster = None
    if address is True:
        cluster = LocalCluster(processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        futures = [client.submit(_run_chunk, dict(base), {k: v[s] for k, v in cols.items()},
                                 tuple(variables), backend, pure=False) for s in slices]
        bar = _bar(sum(s.stop - s.start for s in slices), progress, desc)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list = [None] * len(futures)
        for fut in as_completed(futures):
            i = index[fut.key]
            out[i] = fut.result()
            if bar is not None:
                bar.update(slices[i].stop - slices[i].start)
        if bar is not None:
            bar.close()
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------------------
# The ensemble result

@dataclass(frozen=True)
class UncertaintyResult:
    """An uncertainty ensemble of one or more scenarios on the same draws.

    Attributes
    ----------
    scenarios : tuple of str
        Scenario names.
    draws : DataFrame
        The experiments table (one row per run, one column per varied constant).
    times : ndarray (T,)
        Year ends.
    data : dict scenario → dict variable → ndarray (T, N)
    deterministic : dict scenario → dict variable → ndarray (T,)
        The run with every constant at the model's value.
    seed : int or None
    targets : tuple of Target
    conditioning : simulator.analysis.conditioning.Conditioned or None
        How the draws were conditioned on 2015–2020 (None: the prior ensemble).
    """

    scenarios: tuple[str, ...]
    draws: pd.DataFrame
    times: np.ndarray
    data: Mapping[str, Mapping[str, np.ndarray]]
    deterministic: Mapping[str, Mapping[str, np.ndarray]]
    seed: int | None
    targets: tuple[Target, ...]
    conditioning: Conditioned | None = None

    @property
    def n(self) -> int:
        return len(self.draws)

    @property
    def conditioned(self) -> bool:
        """Whether the draws were conditioned on the 2015–2020 observations."""
        return self.conditioning is not None

    def summary(self) -> str:
        """One line on the draws: how many were drawn and kept, or that they are the prior's."""
        if self.conditioning is not None:
            return self.conditioning.summary()
        return f"{self.n:,} draws of the prior distributions, not conditioned on 2015–2020"

    def bands(self, quantiles: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """Quantile bands of every saved indicator over the runs, year by year.

        Parameters
        ----------
        quantiles : sequence of float, default :data:`QUANTILES` (0.05, 0.5, 0.95)
            Quantiles in [0, 1].

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario, time, variable, p05, p50, p95, deterministic`` (one ``pXX``
            column per quantile), values in the variable's unit; NaN runs are left out.
        """
        names = [f"p{round(q * 100):02d}" for q in quantiles]
        frames = []
        for scen in self.scenarios:
            for var, arr in self.data[scen].items():
                qs = np.nanquantile(arr, quantiles, axis=1)
                frame = pd.DataFrame({"scenario": scen, "time": self.times, "variable": var})
                for name, row in zip(names, qs):
                    frame[name] = row
                frame["deterministic"] = self.deterministic[scen][var]
                frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def target_values(self, scenario: str | None = None) -> pd.DataFrame:
        """Measured value of every target in every run.

        Parameters
        ----------
        scenario : str, optional
            The scenario's name; default the first.

        Returns
        -------
        pandas.DataFrame
            Rows: runs (the index of ``draws``); columns: target keys; values the target's
            measure (level, or % per year for a ``cagr`` target).
        """
        scen = scenario or self.scenarios[0]
        return pd.DataFrame({t.key: target_values(self.data[scen], self.times, t)
                             for t in self.targets}, index=self.draws.index)

    def probabilities(self, quantiles: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """The probability of meeting each target, per scenario.

        Parameters
        ----------
        quantiles : sequence of float, default :data:`QUANTILES` (0.05, 0.5, 0.95)
            Quantiles of the measured value to report.

        Returns
        -------
        pandas.DataFrame
            One row per scenario and target: ``probability`` (share of runs meeting it, 0 to
            1), quantiles of the measured value (``p05, p50, p95``), the ``deterministic``
            value, and the target's description and unit.
        """
        names = [f"p{round(q * 100):02d}" for q in quantiles]
        rows = []
        for scen in self.scenarios:
            for t in self.targets:
                vals = target_values(self.data[scen], self.times, t)
                det = float(target_values({k: v[:, None] for k, v in
                                           self.deterministic[scen].items()}, self.times, t)[0])
                qs = (np.nanquantile(vals, quantiles) if np.isfinite(vals).any()
                      else [math.nan] * len(quantiles))
                row = {"scenario": scen, "key": t.key, "indicator": t.indicator, "year": t.year,
                       "kind": t.kind, "comparison": t.comparison, "target": t.target,
                       "probability": float(met(vals, t).mean())}
                row.update(dict(zip(names, map(float, qs))))
                row.update({"deterministic": det, "unit": t.unit, "name_zh": t.name_zh,
                            "name_en": t.name_en})
                rows.append(row)
        return pd.DataFrame(rows)


def ensemble_draws(spec: UncertaintySpec, n: int, seed: int | None = None, *,
                   conditioned: bool = True) -> tuple[pd.DataFrame, Conditioned | None]:
    """The ensemble's draws: ``n`` draws consistent with the 2015–2020 observations
    (:func:`simulator.analysis.conditioning.condition`, the default), or with
    ``conditioned=False`` the prior's ``sample(spec, n, seed)``. Returns the experiments table
    and the conditioning (None for the prior). Raises
    :class:`~simulator.analysis.conditioning.ConditioningError` when too few draws are
    consistent."""
    if not conditioned:
        return sample(spec, n, seed), None
    got = conditioning.condition(spec, n, seed)
    return got.draws, got


def run(scenarios: Scenario | Sequence[Scenario], n: int = 1000, seed: int | None = None,
        spec: UncertaintySpec | None = None, *, targets: Iterable[Target] | None = None,
        variables: Sequence[str] | None = None, chunk: int = CHUNK, progress: bool = False,
        dask: str | bool | None = None, conditioned: bool = True) -> UncertaintyResult:
    """Run an uncertainty ensemble: ``n`` draws of the uncertain constants for each scenario.

    Each scenario's levers and assumptions are shared by every run, and every scenario gets the
    same draws (common random numbers, so differences are the scenarios').

    By default the draws are the first ``n`` Latin-hypercube draws consistent with the 2015–2020
    observations (:mod:`simulator.analysis.conditioning`; the result's ``conditioning`` says
    how many were drawn and kept); ``conditioned=False`` uses ``n`` draws of the prior
    distributions.

    Parameters
    ----------
    scenarios : Scenario or sequence of Scenario
        Scenarios with distinct names.
    n : int, default 1000
        Number of draws (runs per scenario).
    seed : int or None, optional
        Seed of the Latin hypercube (0 is a seed like any other; None, the default: fresh
        entropy).
    spec : UncertaintySpec, optional
        Default ``models/uncertainty.yaml``.
    targets : iterable of Target, optional
        Default every target of ``models/targets.csv``.
    variables : sequence of str, optional
        Variables to save; default every indicator.
    chunk, progress, dask : optional
        See :func:`evaluate`.
    conditioned : bool, default True
        Condition the draws on 2015–2020 or use the prior's.

    Returns
    -------
    UncertaintyResult
        The draws, every saved variable of every run (arrays (T, N) by scenario), the
        deterministic run of each scenario; ``.bands()`` and ``.probabilities()`` summarise.

    Raises
    ------
    ValueError
        Scenario names that are not unique, or an ``n`` out of range.
    simulator.analysis.conditioning.ConditioningError
        When too few draws are consistent with 2015–2020.

    Examples
    --------
    >>> from simulator import load_scenario, uncertainty
    >>> res = uncertainty.run(load_scenario("scenarios/plan.yaml"), n=200, seed=0)  # doctest: +SKIP
    >>> res.probabilities()[["key", "probability"]]                                 # doctest: +SKIP
    """
    from simulator.model import engine_for
    if isinstance(scenarios, Scenario):
        scenarios = [scenarios]
    scenarios = list(scenarios)
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        raise ValueError(f"scenarios: names {names} are not unique")
    spec = spec or load_spec()
    targets = tuple(tables.targets() if targets is None else targets)
    engine = engine_for()
    if variables is None:
        variables = [i.variable for i in tables.indicators() if i.variable in engine.variables]
    variables = list(dict.fromkeys(list(variables) + [t.indicator for t in targets]))
    table, cond = ensemble_draws(spec, n, seed, conditioned=conditioned)
    fixed = spec.fixed
    data, det = {}, {}
    times = None
    for scen in scenarios:
        base = {**scen.params(), **fixed}
        times, data[scen.name] = evaluate(base, table, variables, chunk=chunk, progress=progress,
                                          dask=dask, desc=scen.name)
        single = engine.run(scen.params(), variables=variables)
        det[scen.name] = {k: np.asarray(v, dtype=float) for k, v in single.data.items()}
    return UncertaintyResult(scenarios=tuple(names), draws=table, times=times, data=data,
                             deterministic=det, seed=seed, targets=targets, conditioning=cond)


def probability_of_targets(scenario: Scenario, n: int = 1000, seed: int | None = None,
                           spec: UncertaintySpec | None = None, **kwargs) -> pd.DataFrame:
    """The probability of meeting each target under uncertainty, for one scenario.

    A shortcut for ``run(scenario, n, seed, spec, **kwargs).probabilities()`` (conditioned on
    2015–2020 unless ``conditioned=False``).

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    n : int, default 1000
        Number of draws.
    seed : int or None, optional
        Seed (0 included); None: fresh entropy.
    spec : UncertaintySpec, optional
        Default ``models/uncertainty.yaml``.
    **kwargs
        Passed to :func:`run` (``targets``, ``conditioned``, ``chunk``, ``progress``, ``dask``).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``probability`` (share of runs meeting it, 0 to 1), quantiles of
        the measured value (``p05, p50, p95``) and the ``deterministic`` value, in the target's
        unit (:meth:`UncertaintyResult.probabilities`).
    """
    return run(scenario, n, seed, spec, **kwargs).probabilities()
