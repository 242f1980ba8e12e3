"""Calibration: fit the model's uncertain constants to what was known before the plan was written.

The data (``data/``)
    ``observed_2015_2020.csv`` holds reported values with their source address and the quoted
    sentence; ``plan_13th_fyp.csv`` the plan's own statements on the 13th Five-Year Plan (section
    一(一)). ``calibration_targets.csv`` says, for **every** row of those two files, how it is used
    (``role``): ``fit`` (a residual of the fit), ``check`` (compared and reported, not fitted, with
    the reason), ``anchor`` (a 2020 value the model starts from, so it is met by construction) or
    ``excluded`` (with the reason: a conflicting duplicate, a partial-year figure, another region,
    a target rather than an outcome...). Nothing dated after 2020 is used.

What the model is compared with
    The model starts in 2020 from the plan's baselines, so it has no simulated history. What its
    constants decide is its *momentum*: how fast each quantity moves when the policies of 2020
    are held. The calibration run is :func:`simulator.plan.scenario.default` (every lever at its
    2020 level, default assumptions) over 2020-2025, and the model-implied value of a quantity
    in a year ``t <= 2020`` is its 2020 value carried back at the model's average growth over
    those five years: ``v(2020) * (v(2025) / v(2020)) ** ((t - 2020) / 5)``. Fitting asks that
    the model, left to itself, continue the average pace of the five years before the plan. Five
    years (not one) so that delays and smoothing (patent examination, policy adjustment) play
    out as they did in the five-year statements the data come from.

Derived observations (``derivation``)
    A statement about growth over the 13th FYP becomes an observed 2015 level relative to the
    model's 2020 value: ``increase_over_period`` (+42.6 %: ``v(2020) / 1.426``),
    ``points_over_period`` (+3 percentage points: ``v(2020) - 3``), ``ratio_of_period_totals``
    (totals doubled: at constant growth the ratio of five-year totals equals growth over five years,
    ``v(2020) / 2``), ``growth_lower_bound`` ("above 20 %/yr": the 2015 level is at most
    ``v(2020) / 1.2 ** 5``, comparison ``le``), ``minus_period_total`` (42 built: at most
    ``v(2020) - 42``, comparison ``le``).

The fit
    Residuals are relative errors divided by each observation's ``sigma`` (its assumed relative
    uncertainty, documented per row); a bound (``le``/``ge``) adds a residual only when violated.
    ``scipy.optimize.least_squares`` (trust-region reflective, bounded by the ranges written in the
    ``.mdl``) runs from a seeded Latin hypercube of starts (``scipy.stats.qmc``), in coordinates
    scaled to each parameter's range; the Jacobian is one vectorised engine run of p + 1 lanes.

Identifiability
    With about ten observations the data cannot pin down every candidate. At the documented values
    the Jacobian of the weighted residuals (in scaled coordinates) ranks the candidates by
    sensitivity, and a forward selection (Brun, Reichert & Kunsch 2001, Water Resources Research
    37(4)) keeps a candidate only if the data depend on it (sensitivity at least 5 % of the
    largest) and its effect is not nearly a combination of those already kept (collinearity index
    at most 10); the others keep their documented values, with the reason recorded. After the
    multi-start fit of the kept set, a parameter whose linearised 95 % confidence half-width still
    exceeds half its documented range is fixed as well, and the rest refitted.

Statistics
    Per series (one model variable) and pooled: MAPE, RMSPE and Theil's inequality coefficient
    with its split into bias (U_M), unequal variation (U_S) and unequal covariation (U_C)
    (Sterman 1984). Confidence intervals are Wald intervals from ``s^2 (J'J)^-1`` in scaled
    coordinates, with ``s^2`` the reduced chi-square when it exceeds 1 (the data fit worse than
    their sigmas allow) and 1 otherwise.

Recalibration on new data (:func:`actual_targets`, ``calibrate(actuals=...)``)
    A user's actuals (:mod:`simulator.plan.actuals`) join the project's targets: a ``level`` as an
    ``eq`` target, a ``lower_bound`` as ``ge``, an ``upper_bound`` as ``le``, each with the
    relative sigma of its indicator (:data:`ACTUAL_SIGMA`). An actual dated after 2020 is
    compared with the run of a *scenario* (default the plan as enacted, ``scenarios/plan.yaml``),
    linear between year ends for a mid-year date; one dated before 2020 with the carry-back
    above, like the project's data. Not fitted (kept as ``check`` rows, with the reason): an
    actual dated 2020 (the model starts from the plan's 2020 baseline), one for a variable and
    year the project's data already hold (not counted twice), and the growth rate
    ``rd_spending_growth`` (:data:`ACTUAL_NOT_FITTED`). The same candidates, identifiability
    selection and seeded multi-start are used; the provenance gains the actuals' hash, the
    scenario and the cutoff. The default calibration is unchanged by all this.

The result, ``models/calibration.yaml``, records provenance (date, SHA-256 of the model and of
every data file, method, seed, engine backend, library versions, CPU and SIMD level) and the fit
statistics. Scenarios use its parameters by default
(:meth:`simulator.plan.scenario.Scenario.params`). ``python -m simulator calibrate`` writes it.

Reproducibility
    The same seed gives the same *results* — fitted values, confidence intervals, statistics,
    model values, which constants are fixed and why — on any machine and either engine backend,
    to :data:`RESULT_RTOL` plus the rounding of the digits written; ``--check`` verifies this
    (:func:`differences`). How the optimiser got there (each start's evaluation count and
    status) depends on the CPU's floating-point paths and the backend, and is recorded as
    provenance with the machine, the backend and the library versions, not compared.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import yaml

from simulator.base.inputs import read_text
from simulator.plan import tables

# The committed parameter file is read where scenarios read it; its readers are part of this
# module's interface too (calibration.read(), calibration.parameters()).
from simulator.plan.calibrated import (  # noqa: F401
    CALIBRATION_FILE, CalibrationError, parameters, read)

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "data"
OBSERVED_FILE = DATA_DIR / "observed_2015_2020.csv"
PLAN_FILE = DATA_DIR / "plan_13th_fyp.csv"
TARGETS_FILE = DATA_DIR / "calibration_targets.csv"
PARAMETERS_FILE = DATA_DIR / "calibration_parameters.csv"
#: The scenario a recalibration compares post-2020 actuals with by default: the plan as enacted.
PLAN_SCENARIO = REPO / "scenarios" / "plan.yaml"

BASE_YEAR = 2020
HORIZON = 5                      # years of the calibration run that set the model's momentum
ROLES = ("fit", "check", "anchor", "excluded")
DERIVATIONS = ("level", "increase_over_period", "points_over_period", "ratio_of_period_totals",
               "growth_lower_bound", "minus_period_total")
COMPARISONS = ("eq", "le", "ge")
CI_LIMIT = 0.5                   # a 95 % CI half-width above half the range: not identified
SENSITIVITY_MIN = 0.05           # sensitivity below 5 % of the largest: not identified
COLLINEARITY_MAX = 10.0          # Brun et al. (2001) suggest 10-15
SIGNIFICANT = 6                  # digits written to the parameter file
STAT_DIGITS = 4                  # digits of the fit statistics, singular values and errors (%)
CORR_DIGITS = 3                  # digits of correlations and sensitivities
#: Relative tolerance of ``--check`` on each result, beyond one unit in the last digit written.
#: Set from measurement across backends and SIMD levels (NPY_DISABLE_CPU_FEATURES,
#: XLA_FLAGS=--xla_cpu_max_isa; the figures: docs/calibration.md, "The parameter file and its
#: use"): they differ in a few last bits through the Euler steps and an optimiser
#: stopping at xtol 1e-8, while the evaluation counts differ. 1e-6 leaves a wide margin for
#: other CPUs and libraries and is no coarser than the sixth significant digit the file keeps,
#: so any change a reader of the file could see fails the check.
RESULT_RTOL = 1e-6
#: Relative sigma of a user's actual (recalibration), by indicator id; others
#: :data:`ACTUAL_SIGMA_DEFAULT`. 0.05 is the sigma of the project's own fitted levels from
#: government releases (data/calibration_targets.csv: enterprises, SMEs, revenue, contract
#: turnover, conversion output); 0.10 that of its noisier series (trademark registrations) and
#: here of the two survey- and assessment-based figures, whose sampling and method changes move
#: them by several percent from one release to the next.
ACTUAL_SIGMA_DEFAULT = 0.05
ACTUAL_SIGMA = {"science_literacy": 0.10, "innovation_index": 0.10}
#: Indicators of a file of actuals that are compared but never fitted, and why.
ACTUAL_NOT_FITTED = {
    "rd_spending_growth": "a growth rate since 2020 can be near zero, so its relative error is "
                          "no measure of fit; R&D intensity carries the same information",
}
#: ``kind`` of an actual → ``comparison`` of its target.
ACTUAL_COMPARISON = {"level": "eq", "lower_bound": "ge", "upper_bound": "le"}


# --------------------------------------------------------------------------------------------
# Data

@dataclass(frozen=True)
class Fact:
    """One reported value: a row of ``observed_2015_2020.csv`` or ``plan_13th_fyp.csv``."""
    key: str            # observed:<indicator>:<year>:<value> or plan:<id>
    value: float | None
    unit: str
    quote: str
    source: str         # address, or the plan section


@dataclass(frozen=True)
class CalTarget:
    """How one fact is used; see the module docstring for roles and derivations."""
    id: str
    source: str
    role: str
    variable: str
    year: int | float | None    # a user's actual may be dated mid-year (2022.5)
    derivation: str
    comparison: str
    sigma: float | None
    treatment: str
    fact: Fact

    def observed(self, v2020: float | np.ndarray) -> float | np.ndarray:
        """The observed (or derived) level in ``year``; ``v2020`` is the model's 2020 value."""
        x = self.fact.value
        if self.derivation == "level":
            return x
        if self.derivation == "increase_over_period":
            return v2020 / (1 + x / 100)
        if self.derivation == "points_over_period":
            return v2020 - x
        if self.derivation == "ratio_of_period_totals":
            return v2020 / x
        if self.derivation == "growth_lower_bound":
            return v2020 / (1 + x / 100) ** (BASE_YEAR - self.year)
        if self.derivation == "minus_period_total":
            return v2020 - x
        raise AssertionError(self.derivation)


@dataclass(frozen=True)
class Candidate:
    """A constant the calibration may fit, with its documented value and range from the .mdl."""
    name: str
    default: float
    lo: float
    hi: float
    reason: str

    @property
    def span(self) -> float:
        return self.hi - self.lo


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_csv(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    path = Path(path)
    # bounded, regular files only, like every other input (simulator/base/inputs.py)
    reader = csv.DictReader(io.StringIO(read_text(path, what="data file", error=CalibrationError),
                                        newline=""))
    header = reader.fieldnames or []
    rows = list(reader)
    missing = [c for c in columns if c not in header]
    if missing:
        raise CalibrationError(f"{path}: missing columns {missing}; expected {list(columns)}")
    return rows


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def facts(observed_file: Path = OBSERVED_FILE, plan_file: Path = PLAN_FILE) -> dict[str, Fact]:
    """Every reported value, by key (``observed:<indicator>:<year>:<value>`` or ``plan:<id>``)."""
    out: dict[str, Fact] = {}
    for row in _read_csv(observed_file, ("indicator", "year", "value", "unit", "source_url", "quote")):
        key = f"observed:{row['indicator']}:{row['year']}:{row['value']}"
        out[key] = Fact(key, _float(row["value"]), row["unit"], row["quote"], row["source_url"])
    for row in _read_csv(plan_file, ("id", "value", "unit", "plan_section", "quote")):
        key = f"plan:{row['id']}"
        out[key] = Fact(key, _float(row["value"]), row["unit"], row["quote"],
                        f"plan {row['plan_section']}")
    return out


def load_targets(path: Path = TARGETS_FILE, engine=None, known: Mapping[str, Fact] | None = None
                 ) -> list[CalTarget]:
    """Read and validate ``calibration_targets.csv``; every fact must have exactly one row."""
    from simulator.model import engine_for
    engine = engine or engine_for()
    known = facts() if known is None else known
    rows = _read_csv(path, ("id", "source", "role", "variable", "year", "derivation", "comparison",
                            "sigma", "treatment"))
    out: list[CalTarget] = []
    seen_ids: set[str] = set()
    seen_sources: set[str] = set()
    for n, row in enumerate(rows, start=2):
        where = f"{path}: row {n} (id {row['id']!r})"

        def bad(fieldname: str, allowed: str) -> CalibrationError:
            return CalibrationError(f"{where}: field {fieldname!r}: value {row[fieldname]!r} is "
                                    f"not allowed; allowed {allowed}")
        if not row["id"] or row["id"] in seen_ids:
            raise bad("id", "a unique, non-empty id")
        seen_ids.add(row["id"])
        if row["source"] not in known:
            raise bad("source", "a row of data/observed_2015_2020.csv as "
                      "observed:<indicator>:<year>:<value>, or plan:<id> of data/plan_13th_fyp.csv")
        if row["source"] in seen_sources:
            raise bad("source", "each fact once (its treatment decided in one row)")
        seen_sources.add(row["source"])
        if row["role"] not in ROLES:
            raise bad("role", "|".join(ROLES))
        if not row["treatment"].strip():
            raise bad("treatment", "a sentence saying why the fact is used this way")
        if row["role"] == "excluded":
            out.append(CalTarget(row["id"], row["source"], "excluded", "", None, "", "", None,
                                 row["treatment"], known[row["source"]]))
            continue
        if row["variable"] not in engine.variables:
            raise bad("variable", "a Python name of a model variable")
        year = _float(row["year"])
        if year is None or year != int(year) or not 2010 <= year <= BASE_YEAR:
            raise bad("year", f"a whole year from 2010 to {BASE_YEAR} (nothing after 2020 is used)")
        if row["derivation"] not in DERIVATIONS:
            raise bad("derivation", "|".join(DERIVATIONS))
        if row["comparison"] not in COMPARISONS:
            raise bad("comparison", "|".join(COMPARISONS))
        sigma = _float(row["sigma"])
        if sigma is None or not 0 < sigma <= 1:
            raise bad("sigma", "a relative uncertainty in (0, 1]")
        if known[row["source"]].value is None:
            raise bad("source", "a fact with a numeric value")
        out.append(CalTarget(row["id"], row["source"], row["role"], row["variable"], int(year),
                             row["derivation"], row["comparison"], sigma, row["treatment"],
                             known[row["source"]]))
    untreated = sorted(set(known) - seen_sources)
    if untreated:
        raise CalibrationError(f"{path}: facts without a treatment row: {untreated}")
    return out


def load_candidates(path: Path = PARAMETERS_FILE, engine=None) -> list[Candidate]:
    """Read ``calibration_parameters.csv``: constants with a documented range in the .mdl."""
    from simulator.model import engine_for
    engine = engine or engine_for()
    out = []
    for n, row in enumerate(_read_csv(path, ("constant", "reason")), start=2):
        name = row["constant"]
        if name not in engine.limits:
            allowed = ", ".join(sorted(engine.limits)[:6])
            raise CalibrationError(f"{path}: row {n}: field 'constant': value {name!r} is not a "
                                   f"constant with a [min, max] range in the .mdl; allowed e.g. "
                                   f"{allowed}, ...")
        lo, hi = engine.limits[name]
        out.append(Candidate(name, float(engine.constants[name]), float(lo), float(hi),
                             row["reason"]))
    if len({c.name for c in out}) != len(out):
        raise CalibrationError(f"{path}: a constant is listed twice")
    return out


def actuals_digest(observed) -> str:
    """SHA-256 of the figures of a set of actuals (indicator, year, value, kind of every row, in
    file order): what a recalibration depends on, whatever the file's column order, quoting,
    ``source`` or ``note`` text. The cache key of
    :func:`simulator.analysis.hindcast.recalibrate`."""
    text = "\n".join(f"{a.indicator},{a.year!r},{a.value!r},{a.kind}" for a in observed)
    return hashlib.sha256(text.encode()).hexdigest()


def actual_targets(observed, targets: Sequence[CalTarget] = (), engine=None) -> list[CalTarget]:
    """A user's actuals (:class:`simulator.plan.actuals.Actuals`) as calibration targets.

    A ``level`` becomes an ``eq`` target, a ``lower_bound`` ``ge`` and an ``upper_bound`` ``le``,
    with the sigma of :data:`ACTUAL_SIGMA`. Role ``check`` (compared, not fitted), with the
    reason in ``treatment``: an actual dated 2020 (the model's 2020 state is the plan's baseline),
    one for a variable and year that ``targets`` (the project's data) already fit, check or
    anchor (the project's row decides, the figure is not counted twice), and the indicators of
    :data:`ACTUAL_NOT_FITTED`. Every other actual is ``fit``.
    """
    from simulator.model import engine_for
    engine = engine or engine_for()
    variables = {i.id: i.variable for i in tables.indicators()}
    units = {i.id: i.unit for i in tables.indicators()}
    held = {(t.variable, float(t.year)): t.id for t in targets if t.role != "excluded"}
    out = []
    for a in observed:
        variable = variables[a.indicator]
        if variable not in engine.variables:  # a model version without this indicator
            allowed = ", ".join(i for i, v in variables.items() if v in engine.variables)
            raise CalibrationError(f"{observed.source}: indicator {a.indicator!r} is not a "
                                   f"variable of {engine.mdl_file.name}; allowed {allowed}")
        suffix = {"level": "", "lower_bound": "_min", "upper_bound": "_max"}[a.kind]
        key = f"actuals:{a.indicator}:{a.year:g}:{a.kind}"
        role, why = "fit", f"a user's actual ({observed.source}), sigma by indicator"
        if a.year == BASE_YEAR:
            role, why = "check", "dated 2020: the model starts from the plan's 2020 baseline"
        elif (variable, float(a.year)) in held:
            role = "check"
            why = (f"the project's data already hold {variable} {a.year:g} "
                   f"({held[(variable, float(a.year))]}): compared, not counted twice")
        elif a.indicator in ACTUAL_NOT_FITTED:
            role, why = "check", ACTUAL_NOT_FITTED[a.indicator]
        fact = Fact(key, float(a.value), units[a.indicator], a.note, a.source)
        out.append(CalTarget(f"actual_{a.indicator}_{a.year:g}{suffix}", key, role, variable,
                             int(a.year) if a.year == int(a.year) else float(a.year), "level",
                             ACTUAL_COMPARISON[a.kind],
                             ACTUAL_SIGMA.get(a.indicator, ACTUAL_SIGMA_DEFAULT), why, fact))
    return out


# --------------------------------------------------------------------------------------------
# The problem

def implied_history(v2020: np.ndarray, v_end: np.ndarray, year: float,
                    horizon: int = HORIZON) -> np.ndarray:
    """The model-implied value in ``year`` (<= 2020): the 2020 value carried back at the model's
    average growth over ``horizon`` years. A quantity at zero stays at zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v2020 > 0, v_end / v2020, 1.0)
        return v2020 * np.power(np.maximum(ratio, 1e-12), (year - BASE_YEAR) / horizon)


class Problem:
    """Model-implied values and weighted residuals for parameter sets of ``candidates``.

    Parameters are passed as rows of an array in *scaled* coordinates: 0 at the lower end of a
    candidate's documented range, 1 at its upper end. ``fixed`` maps other constants to values.

    Targets dated up to 2020 are compared with the implied history of the momentum run
    (``scenario``, default :func:`simulator.plan.scenario.default`); targets dated after 2020 (a
    user's actuals) with the run of ``forward_scenario``, linear between year ends.
    """

    def __init__(self, targets: Sequence[CalTarget], candidates: Sequence[Candidate],
                 engine=None, scenario=None, backend: str | None = None,
                 forward_scenario=None):
        from simulator.model import engine_for
        from simulator.plan import scenario as _scenario
        self.engine = engine or engine_for()
        self.backend = backend  # of the engine's vector runs (None: the engine's default)
        self.candidates = list(candidates)
        self.targets = [t for t in targets if t.role != "excluded"]
        self.fit_mask = np.array([t.role == "fit" for t in self.targets])
        self.variables = sorted({t.variable for t in self.targets})
        self.by = {c.name: c for c in self.candidates}
        scen = scenario or _scenario.default("calibration")
        self.base = scen.params(calibrated=False)
        self.base["final_time"] = float(BASE_YEAR + HORIZON)
        self.forward = [k for k, t in enumerate(self.targets) if t.year > BASE_YEAR]
        self.history = [k for k, t in enumerate(self.targets) if t.year <= BASE_YEAR]
        self.forward_base: dict[str, float] = {}
        if self.forward:
            if forward_scenario is None:
                raise ValueError("targets dated after 2020 need a forward_scenario to run")
            self.forward_base = forward_scenario.params(calibrated=False)
            self.forward_base["final_time"] = float(max(
                BASE_YEAR + 1, math.ceil(max(self.targets[k].year for k in self.forward))))
        self.evaluations = 0

    def physical(self, z: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        z = np.atleast_2d(z)
        return {nm: self.by[nm].lo + z[:, j] * self.by[nm].span for j, nm in enumerate(names)}

    def model_values(self, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(model-implied values, observed values), each of shape (targets, runs). The 2020 values
        they were derived from are kept in ``self.v2020``."""
        values = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        n = max([v.size for v in values.values()] + [1])
        model = np.empty((len(self.targets), n))
        obs = np.empty((len(self.targets), n))
        self.v2020 = np.empty((len(self.targets), n))
        if self.history:
            run, t, i0 = self._run(self.base, self.history, values, n)
            i1 = int(np.argmin(abs(t - BASE_YEAR - HORIZON)))
            for k in self.history:
                tg = self.targets[k]
                series = run[tg.variable]
                v0, v1 = series[i0], series[i1]
                model[k] = implied_history(v0, v1, tg.year)
                obs[k] = tg.observed(v0)
                self.v2020[k] = v0
        if self.forward:
            run, t, i0 = self._run(self.forward_base, self.forward, values, n)
            for k in self.forward:
                tg = self.targets[k]
                series = run[tg.variable]
                # year ends bracketing the date; linear between them for a mid-year date
                j1 = int(min(np.searchsorted(t, tg.year - 1e-9), len(t) - 1))
                j0 = max(j1 - 1, 0)
                w = 0.0 if t[j1] == t[j0] else (tg.year - t[j0]) / (t[j1] - t[j0])
                model[k] = series[j0] + w * (series[j1] - series[j0])
                obs[k] = tg.observed(series[i0])
                self.v2020[k] = series[i0]
        return model, obs

    def _run(self, base: Mapping[str, Any], ks: Sequence[int], values: Mapping[str, np.ndarray],
             n: int):
        """(result, saved times, index of 2020) of ``n`` runs from ``base`` with ``values``,
        saving the variables of targets ``ks``."""
        run = self.engine.run({**base, **values}, n=n, backend=self.backend,
                              variables=sorted({self.targets[k].variable for k in ks}))
        self.evaluations += n
        return run, run.times, int(np.argmin(abs(run.times - BASE_YEAR)))

    def residuals(self, model: np.ndarray, obs: np.ndarray, mask: np.ndarray | None = None
                  ) -> np.ndarray:
        """Weighted relative residuals (targets × runs); bounds count only when violated."""
        mask = self.fit_mask if mask is None else mask
        rows = []
        for k, tg in enumerate(self.targets):
            if not mask[k]:
                continue
            r = (model[k] - obs[k]) / np.abs(obs[k])
            if tg.comparison == "le":
                r = np.maximum(r, 0.0)
            elif tg.comparison == "ge":
                r = np.minimum(r, 0.0)
            rows.append(r / tg.sigma)
        return np.array(rows)


# --------------------------------------------------------------------------------------------
# Fitting

@dataclass
class Fit:
    names: list[str]
    z: np.ndarray               # scaled best parameters
    cost: float                 # 0.5 * sum of squared weighted residuals
    residuals: np.ndarray
    jac: np.ndarray             # d residuals / d z at the optimum
    starts: list[dict] = field(default_factory=list)


def _fit(problem: Problem, names: Sequence[str], z0s: np.ndarray,
         fixed: Mapping[str, float], progress: Callable[[], None] | None = None) -> Fit:
    """Multi-start bounded least squares in scaled coordinates; the best of all starts."""
    from scipy.optimize import least_squares
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def evaluate(z):
        key = np.asarray(z, dtype=float).tobytes()
        if key not in cache:           # least_squares asks for f and J at the same point
            cache.clear()
            cache[key] = jacobian(problem, names, z, fixed)
        return cache[key]

    best: Fit | None = None
    starts = []
    for i, z0 in enumerate(z0s):
        sol = least_squares(lambda z: evaluate(z)[0], z0, jac=lambda z: evaluate(z)[1],
                            bounds=(0.0, 1.0), method="trf", xtol=1e-8, ftol=1e-8, gtol=1e-8,
                            max_nfev=100)
        starts.append({"start": i, "cost": float(sol.cost), "nfev": int(sol.nfev),
                       "status": int(sol.status)})
        if best is None or sol.cost < best.cost - 1e-12:
            res, jac = evaluate(sol.x)
            best = Fit(list(names), sol.x.copy(), float(sol.cost), res, jac)
        if progress:
            progress()
    best.starts = starts
    return best


def _lhs(n: int, d: int, seed: int) -> np.ndarray:
    from scipy.stats import qmc
    return qmc.LatinHypercube(d=d, seed=seed).random(n)


def covariance(jac: np.ndarray, residuals: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Scaled-coordinate covariance ``s^2 (J'J)^-1``, the factor ``s^2`` and the degrees of
    freedom. ``s^2`` is the reduced chi-square if above 1 (and there are spare observations)."""
    m, p = jac.shape
    dof = m - p
    chi2 = float(residuals @ residuals)
    s2 = max(1.0, chi2 / dof) if dof > 0 else 1.0
    cov = s2 * np.linalg.pinv(jac.T @ jac)
    return cov, s2, dof


def jacobian(problem: Problem, names: Sequence[str], z: np.ndarray,
             fixed: Mapping[str, float] | None = None, h: float = 1e-6
             ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted residuals at scaled point ``z`` and their Jacobian (one engine run of p+1 lanes)."""
    p = len(names)
    z = np.asarray(z, dtype=float)
    eye = np.eye(p)
    back = z + h > 1                       # step backwards at the upper bound
    lanes = np.vstack([z, z + h * np.where(back[:, None], -eye, eye)])
    model, obs = problem.model_values({**(fixed or {}), **problem.physical(lanes, names)})
    res = problem.residuals(model, obs)
    jac = (res[:, 1:] - res[:, :1]) / (h * np.where(back, -1.0, 1.0))
    return res[:, 0], jac


def select_identifiable(jac: np.ndarray, names: Sequence[str]) -> tuple[list[str], list[dict]]:
    """Forward selection of an identifiable subset (Brun, Reichert & Kunsch 2001).

    Parameters are taken in decreasing order of sensitivity ``delta_j = |J_j| / sqrt(m)``; one is
    added only if its sensitivity is at least ``SENSITIVITY_MIN`` of the largest and the
    collinearity index of the enlarged set, ``1 / sqrt(min eig(S'S))`` with ``S`` the columns of
    ``J`` scaled to unit length, stays at most ``COLLINEARITY_MAX``; at most m - 1 are taken, so
    that the fit keeps a degree of freedom. Returns the selected names and, for the others, why.
    """
    m = jac.shape[0]
    norms = np.linalg.norm(jac, axis=0)
    delta = norms / math.sqrt(m)
    order = list(np.argsort(-delta, kind="stable"))
    top = float(delta.max()) if delta.size and delta.max() > 0 else 1.0
    unit = jac / np.where(norms > 0, norms, 1.0)
    chosen: list[int] = []
    why: list[dict] = []
    for j in order:
        name = names[j]
        if delta[j] < SENSITIVITY_MIN * top:
            why.append({"constant": name, "sensitivity": _round(float(delta[j]), CORR_DIGITS),
                        "reason": f"sensitivity {delta[j]:.3g} is below {SENSITIVITY_MIN:.0%} of "
                                  f"the largest ({top:.3g}): the data hardly depend on it"})
            continue
        if len(chosen) >= m - 1:
            why.append({"constant": name, "sensitivity": _round(float(delta[j]), CORR_DIGITS),
                        "reason": f"no degree of freedom left ({m} fitted observations)"})
            continue
        trial = unit[:, chosen + [j]]
        gamma = 1 / math.sqrt(max(float(np.linalg.eigvalsh(trial.T @ trial).min()), 1e-300))
        if gamma > COLLINEARITY_MAX:
            shown = f"{gamma:.3g}" if gamma < 1e6 else "infinite"
            cos = unit[:, chosen].T @ unit[:, j]
            i = int(np.argmax(abs(cos)))
            why.append({"constant": name, "sensitivity": _round(float(delta[j]), CORR_DIGITS),
                        "reason": f"collinearity index {shown} > {COLLINEARITY_MAX:g} with "
                                  f"the parameters already chosen: its effect on the data is "
                                  f"nearly that of {names[chosen[i]]} (cosine {cos[i]:+.2f})"})
            continue
        chosen.append(j)
    return [names[j] for j in sorted(chosen)], why


def _widest(fit: Fit) -> tuple[int, str] | None:
    """The parameter whose 95 % confidence half-width exceeds ``CI_LIMIT`` the most, if any."""
    if not fit.names:
        return None
    cov, _, _ = covariance(fit.jac, fit.residuals)
    half = 1.96 * np.sqrt(np.maximum(np.diag(cov), 0))
    j = int(np.argmax(half))
    if half[j] <= CI_LIMIT:
        return None
    return j, (f"after fitting, its 95 % confidence half-width is {half[j]:.2f} of its documented "
               f"range (limit {CI_LIMIT})")


# --------------------------------------------------------------------------------------------
# Statistics

def fit_statistics(model: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    """MAPE and RMSPE (%), Theil's U and its bias / variance / covariance split (Sterman 1984)."""
    model = np.asarray(model, dtype=float)
    observed = np.asarray(observed, dtype=float)
    rel = (model - observed) / np.abs(observed)
    mse = float(np.mean((model - observed) ** 2))
    out = {"n": int(model.size), "mape": float(np.mean(abs(rel)) * 100),
           "rmspe": float(np.sqrt(np.mean(rel ** 2)) * 100)}
    denom = math.sqrt(np.mean(model ** 2)) + math.sqrt(np.mean(observed ** 2))
    out["theil_u"] = math.sqrt(mse) / denom if denom > 0 else float("nan")
    if mse > 0:
        sm, so = float(np.std(model)), float(np.std(observed))
        r = float(np.corrcoef(model, observed)[0, 1]) if sm > 0 and so > 0 else 0.0
        out["theil_um"] = (float(np.mean(model)) - float(np.mean(observed))) ** 2 / mse
        out["theil_us"] = (sm - so) ** 2 / mse
        out["theil_uc"] = 2 * (1 - r) * sm * so / mse
    else:
        out["theil_um"] = out["theil_us"] = out["theil_uc"] = float("nan")
    return out


# --------------------------------------------------------------------------------------------
# Calibration

@dataclass
class Result:
    """Everything :func:`calibrate` found; :func:`to_yaml` writes it."""
    seed: int
    n_starts: int
    parameters: dict[str, dict[str, Any]]      # identified: value, ci95, default, range, reason
    fixed: dict[str, dict[str, Any]]           # not identified: value (documented), why
    targets: list[dict[str, Any]]              # per fit/check/anchor target: observed, model, error
    series: dict[str, dict[str, float]]        # statistics per fitted variable
    pooled: dict[str, float]                   # statistics over every fitted point
    correlation: dict[str, dict[str, float]]
    singular_values: list[float]
    chi2: float
    dof: int
    s2: float
    starts: list[dict]
    elimination: list[dict]
    evaluations: int
    provenance: dict[str, Any]

    def values(self) -> dict[str, float]:
        """The identified parameters' fitted values, by Python name."""
        return {k: v["value"] for k, v in self.parameters.items()}


def _round(x: float, digits: int = SIGNIFICANT) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def conflict_alternatives(targets: Sequence[CalTarget] | None = None) -> list[CalTarget]:
    """The targets with every fitted observation that has an excluded conflicting figure (same
    indicator and year in ``observed_2015_2020.csv``) replaced by that figure: the calibration's
    sensitivity to the choice between conflicting sources."""
    import dataclasses
    targets = list(load_targets() if targets is None else targets)

    def key(t: CalTarget) -> tuple[str, str] | None:
        parts = t.source.split(":", 3)
        return (parts[1], parts[2]) if parts[0] == "observed" else None
    excluded = {key(t): t for t in targets if t.role == "excluded" and key(t)}
    out = []
    for t in targets:
        alt = excluded.get(key(t)) if t.role == "fit" else None
        if alt is not None and alt.fact.value is not None:
            t = dataclasses.replace(t, source=alt.source, fact=alt.fact,
                                    treatment=f"conflicting figure instead of {t.fact.value:g}")
        out.append(t)
    return out


def up_to(targets: Sequence[CalTarget], cutoff: float | None) -> list[CalTarget]:
    """``targets`` without those dated after ``cutoff`` (all of them if ``cutoff`` is None).

    A target is dated by its ``year``: the year of the observation, or for a statement about
    the 13th FYP the year of the level it implies (2015). Excluded rows have no year and are
    kept (they take no part in the fit). The model still starts in 2020 from the plan's 2020
    baselines, so a cutoff before 2020 withholds the observations after it, not the 2020 levels
    the model is initialised with (docs/hindcast.md).
    """
    if cutoff is None:
        return list(targets)
    return [t for t in targets if t.role == "excluded" or t.year <= cutoff]


def calibrate(seed: int = 0, starts: int = 16, *, targets_file: Path = TARGETS_FILE,
              parameters_file: Path = PARAMETERS_FILE, engine=None,
              progress: bool = False, targets: Sequence[CalTarget] | None = None,
              backend: str | None = None, cutoff: float | None = None,
              actuals=None, scenario=None) -> Result:
    """Fit, find what the data identify, refit, and gather statistics.

    Deterministic for a seed and engine backend.

    Parameters
    ----------
    seed : int, default 0
        Seed of the Latin hypercube of starting points.
    starts : int, default 16
        Number of starting points of each multi-start fit.
    targets_file : Path, optional
        The calibration targets; default ``data/calibration_targets.csv``.
    parameters_file : Path, optional
        The candidate parameters and their ranges; default
        ``data/calibration_parameters.csv``.
    engine : Engine, optional
        Default :func:`simulator.model.engine_for` ``()``.
    progress : bool, default False
        Show a progress bar (tqdm) on standard error.
    targets : sequence of CalTarget, optional
        Use these instead of reading ``targets_file`` (e.g. :func:`conflict_alternatives`).
    backend : {"auto", "numpy", "xla"}, optional
        The engine's backend for the runs (see :meth:`simulator.sd.engine.Engine.run`);
        recorded in the provenance. The two differ in the last bits and so in the optimiser's
        path (its evaluation counts), not in the results beyond :data:`RESULT_RTOL`.
    cutoff : float, optional
        Fit with the data dated up to this year only (:func:`up_to`; used by the hindcast,
        :mod:`simulator.analysis.hindcast`); recorded in the provenance. None (the default):
        all data, as in ``models/calibration.yaml``. With ``actuals``, it applies to them too.
    actuals : simulator.plan.actuals.Actuals, optional
        A user's actuals, added as targets (:func:`actual_targets`; recalibration on new data,
        :func:`simulator.analysis.hindcast.recalibrate`). Their hash, the scenario and the
        cutoff are recorded in the provenance.
    scenario : Scenario, optional
        With ``actuals``: the scenario whose run the actuals dated after 2020 are compared with;
        default the plan as enacted (:data:`PLAN_SCENARIO`).

    Returns
    -------
    Result
        The identified parameters with 95 % intervals, the fixed ones and why, the fit per
        target and series, correlations, the elimination steps and the provenance;
        :func:`to_yaml` writes it as ``models/calibration.yaml``.

    Raises
    ------
    CalibrationError
        A cutoff that leaves nothing to fit, or ``actuals`` of which nothing can be fitted
        (one line, naming what is allowed).
    """
    from simulator.model import engine_for
    from simulator.sd.engine import _choose_backend
    engine = engine or engine_for()
    backend = _choose_backend(backend, "euler")
    targets = load_targets(targets_file, engine) if targets is None else list(targets)
    if cutoff is not None:
        earliest = min((t.year for t in targets if t.role == "fit"), default=None)
        targets = up_to(targets, cutoff)
        if not any(t.role == "fit" for t in targets):
            raise CalibrationError(f"cutoff {cutoff:g}: no calibration data to fit up to that "
                                   f"year; allowed a cutoff from {earliest}, the earliest year "
                                   "of a fitted observation")
    forward = None
    if actuals is not None:
        from simulator.plan import scenario as _scenario
        used = actuals if cutoff is None else actuals.up_to(cutoff)
        extra = actual_targets(used, targets, engine)
        if not any(t.role == "fit" for t in extra):
            raise CalibrationError(
                f"{actuals.source}: no actual to fit"
                + ("" if cutoff is None else f" up to {cutoff:g}")
                + f" ({len(extra)} compared only: dated 2020, already in the project's data, "
                  "or rd_spending_growth); allowed a level or bound of another year or indicator")
        targets = list(targets) + extra
        forward = scenario if scenario is not None else _scenario.load(PLAN_SCENARIO)
    candidates = load_candidates(parameters_file, engine)
    problem = Problem(targets, candidates, engine, backend=backend, forward_scenario=forward)
    by = problem.by
    names = [c.name for c in candidates]
    z_default = {c.name: (c.default - c.lo) / c.span for c in candidates}

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=starts, desc="calibrate", unit="start", leave=False)
    tick = bar.update if bar else None

    # 1. which candidates the data can identify, judged at their documented values
    z_doc = np.array([z_default[nm] for nm in names])
    _, jac0 = jacobian(problem, names, z_doc)
    chosen, elimination = select_identifiable(jac0, names)
    fixed = {e["constant"]: by[e["constant"]].default for e in elimination}
    # 2. multi-start fit of the identified set from a seeded Latin hypercube
    fit = _fit(problem, chosen, _lhs(starts, len(chosen), seed), fixed, tick)
    multistart = fit.starts
    # 3. a parameter the fit still leaves loose is fixed too, and the rest refitted from there
    while (widest := _widest(fit)) is not None:
        j, why = widest
        name = fit.names[j]
        fixed[name] = by[name].default
        elimination.append({"constant": name, "sensitivity": None, "reason": why})
        keep = [k for k in range(len(fit.names)) if k != j]
        fit = _fit(problem, [fit.names[k] for k in keep], fit.z[keep][None, :], fixed)
    if bar:
        bar.close()

    cov, s2, dof = covariance(fit.jac, fit.residuals)
    sd = np.sqrt(np.maximum(np.diag(cov), 0))
    params: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(fit.names):
        c = by[name]
        value = c.lo + fit.z[j] * c.span
        half = 1.96 * sd[j] * c.span
        params[name] = {"value": _round(value), "ci95": [_round(value - half), _round(value + half)],
                        "documented": c.default, "range": [c.lo, c.hi], "reason": c.reason}
    fixed_out = {name: {"value": by[name].default, "range": [by[name].lo, by[name].hi],
                        "why_not_fitted": next(e["reason"] for e in elimination
                                               if e["constant"] == name)}
                 for name in fixed}
    corr = cov / np.outer(np.maximum(sd, 1e-300), np.maximum(sd, 1e-300))
    correlation = {a: {b: _round(float(corr[i, j]), CORR_DIGITS)
                       for j, b in enumerate(fit.names)}
                   for i, a in enumerate(fit.names)}
    svals = np.linalg.svd(fit.jac, compute_uv=False) if fit.names else np.array([])

    # statistics at the rounded values actually written and used
    final = {**fixed, **{k: v["value"] for k, v in params.items()}}
    model, obs = problem.model_values(final)
    model, obs = model[:, 0], obs[:, 0]
    res = problem.residuals(model[:, None], obs[:, None])[:, 0]
    rows = []
    for k, tg in enumerate(problem.targets):
        err = (model[k] - obs[k]) / abs(obs[k]) * 100
        met = {"eq": None, "le": bool(model[k] <= obs[k] * (1 + 1e-9)),
               "ge": bool(model[k] >= obs[k] * (1 - 1e-9))}[tg.comparison]
        rows.append({"id": tg.id, "role": tg.role, "variable": tg.variable, "year": tg.year,
                     "comparison": tg.comparison, "observed": _round(float(obs[k])),
                     "model": _round(float(model[k])),
                     "error_pct": _round(float(err), STAT_DIGITS),
                     "bound_met": met, "sigma": tg.sigma, "source": tg.source})
    fitted = [k for k, tg in enumerate(problem.targets) if tg.role == "fit"]
    series = {}
    for var in sorted({problem.targets[k].variable for k in fitted}):
        ks = [k for k in fitted if problem.targets[k].variable == var]
        series[var] = {k: v if k == "n" else _round(v, STAT_DIGITS)
                       for k, v in fit_statistics(model[ks], obs[ks]).items()}
    # pooled over every fitted point, each scaled by its variable's 2020 value (so that series of
    # different units can be pooled while a point's distance from 2020 still counts)
    scale = np.array([max(abs(float(problem.v2020[k, 0])), 1e-12) for k in fitted])
    pooled = {k: v if k == "n" else _round(v, STAT_DIGITS) for k, v in
              fit_statistics(model[fitted] / scale, obs[fitted] / scale).items()}

    result = Result(
        seed=seed, n_starts=starts, parameters=params, fixed=fixed_out, targets=rows,
        series=series, pooled=pooled, correlation=correlation,
        singular_values=[_round(float(s), STAT_DIGITS) for s in svals],
        chi2=_round(float(res @ res)), dof=int(dof), s2=_round(float(s2)),
        starts=[{**s, "cost": _round(s["cost"], 6)} for s in multistart],
        elimination=elimination, evaluations=problem.evaluations,
        provenance=provenance(seed, starts, targets_file, parameters_file, engine, backend))
    if cutoff is not None:
        result.provenance["cutoff"] = cutoff
    if actuals is not None:
        result.provenance.update(actuals_provenance(used, forward))
        result.provenance["command"] = (f"recalibration on new data: calibrate(seed={seed}, "
                                        f"starts={starts}, cutoff={cutoff!r}, actuals=..., "
                                        f"scenario={forward.name!r})")
    return result


def actuals_provenance(actuals, scenario) -> dict[str, Any]:
    """What a recalibration adds to the provenance: the actuals used (source, number of rows,
    the hash of their figures, :func:`actuals_digest`, and the SHA-256 of the whole file when the
    source names one) and the scenario their post-2020 values were compared with (name, source,
    hash of its YAML text)."""
    entry: dict[str, Any] = {"source": actuals.source, "rows": len(actuals),
                             "sha256": actuals_digest(actuals)}
    path = Path(actuals.source)
    try:
        if path.is_file():
            entry["file_sha256"] = _sha256(path)
    except OSError:  # a label that is not a readable file (an upload's name)
        pass
    text = scenario.to_yaml()
    return {"actuals": entry,
            "scenario": {"name": scenario.name, "source": scenario.source,
                         "sha256": hashlib.sha256(text.encode()).hexdigest()}}


def provenance(seed: int, starts: int, targets_file: Path = TARGETS_FILE,
               parameters_file: Path = PARAMETERS_FILE, engine=None,
               backend: str = "numpy") -> dict[str, Any]:
    """What a calibration depends on: model and data hashes, method, seed; and where it was made:
    engine backend, library versions, CPU (:func:`simulator.sd.backends.machine`)."""
    from simulator.model import engine_for
    from simulator.sd.backends import machine
    engine = engine or engine_for()
    return {
        "created": _dt.date.today().isoformat(),
        "command": f"python -m simulator calibrate --seed {seed} --starts {starts}",
        "method": ("scipy.optimize.least_squares (trf, bounded by the .mdl ranges, residuals = "
                   "relative error / sigma), multi-start from a Latin hypercube "
                   "(scipy.stats.qmc.LatinHypercube), then one-at-a-time fixing of parameters "
                   "the data do not identify, then a fresh multi-start; momentum comparison over "
                   f"{BASE_YEAR}-{BASE_YEAR + HORIZON} of the default scenario (2020 policies held)"),
        "seed": seed, "starts": starts, "engine_backend": backend,
        "model": {"file": str(engine.mdl_file.relative_to(REPO)) if engine.mdl_file.is_relative_to(REPO)
                  else str(engine.mdl_file), "sha256": _sha256(engine.mdl_file)},
        "data": {str(Path(p).relative_to(REPO)) if Path(p).resolve().is_relative_to(REPO)
                 else str(p): _sha256(p)
                 for p in (OBSERVED_FILE, PLAN_FILE, targets_file, parameters_file)},
        "versions": _versions(backend),
        "machine": {k: v for k, v in machine().items() if k in ("cpu", "arch", "simd",
                                                                  "numpy_simd")},
    }


def _versions(backend: str) -> dict[str, str]:
    import scipy
    out = {"numpy": np.__version__, "scipy": scipy.__version__}
    if backend == "xla":
        import jax
        import jaxlib
        out.update(jax=jax.__version__, jaxlib=jaxlib.__version__)
    return out


HEADER = """\
# Calibrated parameters of models/guangyuan_innovation.mdl, with provenance and fit statistics.
# Generated by `{command}`; do not edit by hand.
# The same seed reproduces every result here on any machine and engine backend to the tolerance
# `python -m simulator calibrate --check` states; `created`, `provenance.versions`, `.machine`,
# `.engine_backend` and `starts` record how and where it was made and are not compared.
# Scenarios use `parameters` by default (Scenario.params); `fixed` lists candidates the data could
# not identify, which keep their documented .mdl values. Method: simulator/analysis/calibration.py.
"""


def to_yaml(result: Result) -> str:
    """The parameter file's text."""
    doc = {
        "created": result.provenance["created"],
        "provenance": {k: v for k, v in result.provenance.items() if k != "created"},
        "parameters": result.parameters,
        "fixed": result.fixed,
        "fit": {"chi2": result.chi2, "dof": result.dof, "s2": result.s2,
                "pooled": result.pooled, "series": result.series,
                "singular_values": result.singular_values,
                "correlation": result.correlation},
        "targets": result.targets,
        "identification": result.elimination,
        "starts": result.starts,
    }
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(command=result.provenance["command"]) + body


# --------------------------------------------------------------------------------------------
# --check: results compared to a tolerance, provenance recorded

#: Where and how a file was made, recorded but not compared: dates, library versions, the CPU,
#: the engine backend and each start's optimiser diagnostics (evaluation count, status, cost)
#: all vary with the machine while the results do not.
PROVENANCE_ONLY = (("created",), ("provenance", "versions"), ("provenance", "machine"),
                   ("provenance", "engine_backend"), ("starts",))
_PERCENT = ("mape", "rmspe")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _result_rule(path: tuple, doc: Mapping[str, Any]) -> tuple[int, float] | None:
    """(significant digits written, natural scale) of the computed number at ``path``; None for
    an input, compared exactly. The scale keeps a value near zero from being compared to a
    relative tolerance of itself: a parameter's documented range, 100 for a percentage, 1 for
    a dimensionless statistic."""
    head, last = path[0], path[-1]
    if head == "parameters" and len(path) >= 3 and path[2] in ("value", "ci95"):
        try:
            lo, hi = doc["parameters"][path[1]]["range"]
            return SIGNIFICANT, abs(float(hi) - float(lo))
        except (KeyError, TypeError, ValueError):  # a damaged range: relative to the value
            return SIGNIFICANT, 0.0
    if head == "fit" and path[1] in ("chi2", "s2"):
        return SIGNIFICANT, 1.0
    if head == "fit" and path[1] in ("pooled", "series") and last != "n":
        return STAT_DIGITS, 100.0 if last in _PERCENT else 1.0
    if head == "fit" and path[1] == "singular_values":
        return STAT_DIGITS, 1.0
    if head == "fit" and path[1] == "correlation":
        return CORR_DIGITS, 1.0
    if head == "targets" and last in ("observed", "model"):
        return SIGNIFICANT, 0.0
    if head == "targets" and last == "error_pct":
        return STAT_DIGITS, 100.0
    if head == "identification" and last == "sensitivity":
        return CORR_DIGITS, 1.0
    return None


def _unit(x: float, digits: int) -> float:
    """One unit in the last of ``digits`` significant digits of ``x``."""
    return 10.0 ** (math.floor(math.log10(abs(x))) - digits + 1) if x else 0.0


def _printed_unit(token: str) -> float:
    """One unit in the last digit of a number as printed in a sentence (``1.51`` → 0.01)."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _tolerance(a: float, b: float, unit: float, scale: float = 0.0) -> float:
    """How far ``a`` and ``b`` may differ: :data:`RESULT_RTOL` relative to the larger of them and
    ``scale``, plus ``unit`` (the rounding of the digits written)."""
    return RESULT_RTOL * max(abs(a), abs(b), scale) + unit


def differences(committed: Any, fresh: Any, _path: tuple = (), _doc: Any = None) -> list[str]:
    """What ``--check`` finds: one line per field of a fresh calibration (``fresh``, the data of
    :func:`to_yaml`) that is not the ``committed`` file's. Results (fitted values, intervals,
    statistics, model values) may differ by :data:`RESULT_RTOL` relative to the larger of them
    and their natural scale, plus one unit in the last digit written; numbers in the sentences
    that say why a constant is fixed, by one unit in their last printed digit; everything else
    (inputs, names, hashes, seed) must be equal. :data:`PROVENANCE_ONLY` is not compared."""
    doc = committed if _doc is None else _doc
    name = ".".join(map(str, _path)) or "(file)"
    if isinstance(committed, dict) and isinstance(fresh, dict):
        keys = [[k for k in d if (*_path, k) not in PROVENANCE_ONLY] for d in (committed, fresh)]
        if keys[0] != keys[1]:
            return [f"field {name!r}: committed has {keys[0]}, fresh {keys[1]}"]
        return [line for k in keys[0]
                for line in differences(committed[k], fresh[k], (*_path, k), doc)]
    if isinstance(committed, list) and isinstance(fresh, list):
        if len(committed) != len(fresh):
            return [f"field {name!r}: committed has {len(committed)} items, fresh {len(fresh)}"]
        return [line for i, (a, b) in enumerate(zip(committed, fresh))
                for line in differences(a, b, (*_path, i), doc)]
    number = (int, float)
    rule = _result_rule(_path, doc) if _path else None
    if rule and all(isinstance(x, number) and not isinstance(x, bool) and math.isfinite(x)
                    for x in (committed, fresh)):
        digits, scale = rule
        tol = _tolerance(committed, fresh, _unit(max(abs(committed), abs(fresh)), digits), scale)
        if abs(committed - fresh) <= tol:
            return []
        return [f"field {name!r}: committed {committed!r}, fresh {fresh!r}: differ by "
                f"{abs(committed - fresh):.3g}, more than the tolerance {tol:.3g} "
                f"({RESULT_RTOL:g} relative + one unit in the last of {digits} significant "
                "digits written)"]
    if isinstance(committed, str) and isinstance(fresh, str) and _path[0] in ("fixed",
                                                                               "identification"):
        words = [_NUMBER.split(x) for x in (committed, fresh)]
        numbers = [_NUMBER.findall(x) for x in (committed, fresh)]
        if words[0] == words[1] and all(
                abs(float(a) - float(b)) <= _tolerance(float(a), float(b),
                                                       max(_printed_unit(a), _printed_unit(b)))
                for a, b in zip(*numbers)):
            return []
        return [f"field {name!r}: committed {committed!r}, fresh {fresh!r} (the same words "
                f"needed, numbers to {RESULT_RTOL:g} relative + one unit in their last printed "
                "digit)"]
    if type(committed) is type(fresh) and (committed == fresh or committed != committed
                                           and fresh != fresh):  # nan is nan here
        return []
    return [f"field {name!r}: committed {committed!r}, fresh {fresh!r} (must be equal)"]


def report(result: Result) -> str:
    """A plain-text summary: fitted and fixed parameters, every compared observation, statistics."""
    from simulator.base.text import format_table
    lines = [f"Calibration (seed {result.seed}, {result.n_starts} starts, "
             f"{result.evaluations:,} model runs): chi2 {result.chi2:.4g}, dof {result.dof}", ""]
    rows = [[k, f"{v['documented']:.4g}", f"{v['value']:.4g}",
             f"[{v['ci95'][0]:.4g}, {v['ci95'][1]:.4g}]",
             f"[{v['range'][0]:.4g}, {v['range'][1]:.4g}]"] for k, v in result.parameters.items()]
    lines.append(format_table(["fitted parameter", "documented", "fitted", "95 % CI", "range"],
                              rows, right=[False, True, True, False, False]))
    lines.append("")
    rows = [[e["constant"], e["reason"]] for e in result.elimination]
    lines.append(format_table(["kept at documented value", "why the data do not identify it"],
                              rows, fold=[1]))
    lines.append("")
    rows = [[t["id"], t["role"], str(t["year"]), f"{t['observed']:.4g}", f"{t['model']:.4g}",
             f"{t['error_pct']:+.1f} %" + ("" if t["bound_met"] is None else
                                          " (bound met)" if t["bound_met"] else " (bound missed)")]
            for t in result.targets if t["role"] != "anchor"]
    lines.append(format_table(["observation", "role", "year", "observed", "model", "error"], rows,
                              right=[False, False, True, True, True, True]))
    lines.append("")
    rows = [[var, str(st["n"]), f"{st['mape']:.2f}", f"{st['rmspe']:.2f}", f"{st['theil_u']:.4f}",
             f"{st['theil_um']:.2f}", f"{st['theil_us']:.2f}", f"{st['theil_uc']:.2f}"]
            for var, st in [*result.series.items(), ("pooled (fitted points)", result.pooled)]]
    lines.append(format_table(["series", "n", "MAPE %", "RMSPE %", "Theil U", "U_M", "U_S", "U_C"],
                              rows, right=[False] + [True] * 7))
    return "\n".join(lines) + "\n"
