"""Hindcast: how well does the model forecast the years after a cutoff it was not fitted to?

:func:`hindcast` calibrates the model with the calibration data dated up to ``cutoff`` only
(:func:`simulator.analysis.calibration.calibrate` with ``cutoff``: the same code, candidates and
identifiability rules as ``models/calibration.yaml``), runs a scenario (default the plan as
enacted, ``scenarios/plan.yaml``) with those parameters, and scores every observation of a file
of actuals (:mod:`simulator.plan.actuals`) dated after the cutoff against three forecasts:

``model``
    The hindcast-calibrated model. From 2020 on: the scenario's run, linear between year ends
    for a mid-year observation. Before 2020 the model has no simulated history (it starts in
    2020 from the plan's 2020 baselines); its value there is the *implied history* the
    calibration fits (:func:`simulator.analysis.calibration.implied_history`): the 2020 value
    carried back at the model's average 2020–2025 growth with the policies of 2020 held
    (:func:`simulator.plan.scenario.default`), whatever the scenario.
``path``
    The planner's straight geometric path from the plan's 2020 value (``value_2020`` of
    ``models/indicators.csv``) to its 2025 level target (``models/targets.csv``):
    ``v2020 * (target / v2020) ** ((t - 2020) / 5)``, before 2020 carried back the same way.
    None for an indicator without both.
``trend``
    The trend of the actuals up to the cutoff carried forward: a geometric trend (least squares
    line through ``log(value)`` against the year, so exact through two points) of the
    indicator's *levels* dated at or before the cutoff. With fewer than two such levels (or a
    level at or below zero) there is no trend: the forecast is None and the reason is listed.

Scoring
    The error of a forecast ``f`` of a level ``y`` is the percentage error
    ``100 (f - y) / |y|``. A ``lower_bound`` ("突破2亿元") scores 0 when ``f >= y`` and otherwise
    the same percentage distance to the bound (negative); an ``upper_bound`` 0 when ``f <= y``,
    else positive. Per series (indicator) and pooled over every scored point, per method:
    ``MAPE = mean |e|`` and ``RMSPE = sqrt(mean e^2)`` (in %); ``common`` pools the points that
    every method forecasts, so the three are compared on the same points.

Observations at or before the cutoff are in sample: they are not scored or listed (they feed the
trend). Listed but not scored, with the reason: an observed value of 0 (no percentage error) and
observations dated 2020: the model's 2020 state *is* the plan's 2020 baseline, so at 2020 it
would be scored against its own initial values.
This is also what a cutoff before 2020 means for this model: the calibration withholds the
observations after the cutoff, but the model still starts from the 2020 levels — a hindcast
with cutoff 2018 tests the model's *momentum* (its growth carried back from 2020 into 2019), not
a forecast from 2018 levels (docs/hindcast.md).

Recalibration on new data (:func:`recalibrate`) is the other use of a file of actuals: fit the
constants to the project's data *plus* the actuals up to the latest of them (post-2020 ones
compared with the enacted scenario's run), for a projection with constants that know what
happened; ``run`` / ``goals --recalibrate-with FILE`` on the command line.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from simulator.base.inputs import InputError
from simulator.plan import tables
from simulator.plan.actuals import FIRST_YEAR, LAST_YEAR, Actual, Actuals

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = REPO / "scenarios" / "plan.yaml"  # = calibration.PLAN_SCENARIO
#: The year the model starts (its state there is the plan's 2020 baseline).
BASE_YEAR = 2020
#: The forecasts compared, with their Chinese and English names.
METHODS = ("model", "path", "trend")
METHOD_NAMES = {
    "model": ("模型回测", "model, calibrated to data ≤ cutoff"),
    "path": ("规划路径", "geometric path, 2020 value → 2025 target"),
    "trend": ("趋势外推", "trend of actuals ≤ cutoff, carried forward"),
}
#: Starts of the hindcast calibration's multi-start fit (as ``calibrate``'s default).
DEFAULT_STARTS = 16


class HindcastError(InputError):
    """A hindcast that cannot be made from the given input (one line, names the value)."""


@dataclass(frozen=True)
class Point:
    """One observation after the cutoff with each method's forecast and percentage error."""

    indicator: str
    year: float
    kind: str
    observed: float
    forecast: dict[str, float | None]
    error_pct: dict[str, float | None]
    scored: bool
    note: str = ""


@dataclass(frozen=True)
class Score:
    """MAPE and RMSPE (in %) of one method over one series, ``pooled`` or ``common``."""

    method: str
    series: str
    n: int
    mape: float | None
    rmspe: float | None


@dataclass
class Hindcast:
    """Everything :func:`hindcast` found."""

    cutoff: int
    scenario: str
    observed: str
    points: list[Point]
    scores: list[Score]
    parameters: dict[str, float]          # fitted to data <= cutoff
    fixed: dict[str, float]               # not identified by those data: documented values
    calibration: dict[str, Any]           # fit summary: targets used, pooled statistics
    notes: list[str] = field(default_factory=list)

    def score(self, method: str, series: str = "pooled") -> Score:
        """The :class:`Score` of ``method`` over ``series``."""
        return next(s for s in self.scores if s.method == method and s.series == series)

    def points_frame(self):
        """The points as a table, one row per point and method.

        Returns
        -------
        pandas.DataFrame
            Columns ``indicator, year, kind, observed, method, forecast, error_pct, scored,
            note`` (values in the indicator's unit, ``error_pct`` in %).
        """
        import pandas as pd
        rows = [{"indicator": p.indicator, "year": p.year, "kind": p.kind,
                 "observed": p.observed, "method": m, "forecast": p.forecast[m],
                 "error_pct": p.error_pct[m], "scored": p.scored, "note": p.note}
                for p in self.points for m in METHODS]
        return pd.DataFrame(rows)

    def scores_frame(self):
        """The scores as a table, one row per method and series.

        Returns
        -------
        pandas.DataFrame
            Columns ``method, series, n, mape, rmspe`` (MAPE and RMSPE in %).
        """
        import pandas as pd
        return pd.DataFrame([s.__dict__ for s in self.scores],
                            columns=["method", "series", "n", "mape", "rmspe"])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        return {
            "cutoff": self.cutoff, "scenario": self.scenario, "observed": self.observed,
            "methods": {m: {"zh": zh, "en": en} for m, (zh, en) in METHOD_NAMES.items()},
            "points": [p.__dict__ for p in self.points],
            "scores": [s.__dict__ for s in self.scores],
            "calibration": {"parameters": self.parameters, "fixed": self.fixed,
                            **self.calibration},
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)

    def to_csv(self) -> str:
        """One long table: a row per point and method (``record`` = point), then a row per
        method and series (``record`` = series, pooled or common) with n, MAPE, RMSPE."""
        import pandas as pd

        from simulator.base.inputs import to_csv
        points = self.points_frame()
        points.insert(0, "record", "point")
        scores = self.scores_frame()
        scores.insert(0, "record", scores["series"].map(
            lambda s: s if s in ("pooled", "common") else "series"))
        scores = scores.rename(columns={"series": "indicator"})
        scores.loc[scores["record"] != "series", "indicator"] = ""
        columns = ["record", "indicator", "year", "kind", "observed", "method", "forecast",
                   "error_pct", "scored", "n", "mape", "rmspe", "note"]
        return to_csv(pd.concat([points, scores], ignore_index=True).reindex(columns=columns))


# --------------------------------------------------------------------------------------------
# Errors and statistics

def percentage_error(forecast: float, observed: float, kind: str = "level") -> float:
    """``100 (forecast - observed) / |observed|``; a satisfied bound scores 0 (module docstring)."""
    if observed == 0:
        raise ValueError("percentage error of an observed 0 is undefined")
    if kind == "lower_bound" and forecast >= observed:
        return 0.0
    if kind == "upper_bound" and forecast <= observed:
        return 0.0
    return 100.0 * (forecast - observed) / abs(observed)


def mape(errors: Sequence[float]) -> float:
    """Mean absolute percentage error of percentage ``errors``."""
    return float(np.mean(np.abs(errors)))


def rmspe(errors: Sequence[float]) -> float:
    """Root mean square percentage error of percentage ``errors``."""
    return float(np.sqrt(np.mean(np.square(errors))))


# --------------------------------------------------------------------------------------------
# The naive forecasts

def path_forecast(indicator_id: str, year: float) -> float | None:
    """The geometric path from the plan's 2020 value to the 2025 level target at ``year``."""
    start = tables.indicator(indicator_id).value_2020
    target = next((t.target for t in tables.targets() if t.indicator == indicator_id
                   and t.year == 2025 and t.kind == "level"), None)
    if start is None or target is None or start <= 0 or target <= 0:
        return None
    return start * (target / start) ** ((year - BASE_YEAR) / 5)


def trend_fit(levels: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """``(a, b)`` of ``log(value) = a + b (year - 2020)`` by least squares through the
    ``(year, value)`` levels, or None with fewer than two distinct years or a value <= 0."""
    years = np.array([y for y, _ in levels], dtype=float)
    values = np.array([v for _, v in levels], dtype=float)
    if len(set(years.tolist())) < 2 or (values <= 0).any():
        return None
    b, a = np.polyfit(years - BASE_YEAR, np.log(values), 1)
    return float(a), float(b)


def trend_forecast(levels: Sequence[tuple[float, float]], year: float) -> float | None:
    """The geometric trend through ``levels`` at ``year`` (None without a trend)."""
    fit = trend_fit(levels)
    return None if fit is None else math.exp(fit[0] + fit[1] * (year - BASE_YEAR))


# --------------------------------------------------------------------------------------------
# The hindcast calibration and the model's forecasts

_calibrations: dict[tuple, Any] = {}


def calibrate_up_to(cutoff: int, seed: int = 0, starts: int = DEFAULT_STARTS,
                    backend: str | None = None):
    """:func:`simulator.analysis.calibration.calibrate` with the data dated up to ``cutoff``.

    The result is kept for the rest of the process (keyed by cutoff, seed, starts and backend),
    so a notebook or a test that hindcasts twice calibrates once."""
    from simulator.analysis import calibration
    key = (int(cutoff), int(seed), int(starts), backend)
    if key not in _calibrations:
        try:
            _calibrations[key] = calibration.calibrate(seed=seed, starts=starts, cutoff=cutoff,
                                                       backend=backend)
        except calibration.CalibrationError as exc:
            raise HindcastError(str(exc)) from None
    return _calibrations[key]


def hindcast_parameters(result) -> dict[str, float]:
    """Every calibration candidate's value in a calibration ``result``: the fitted ones and the
    ones held at their documented values (so nothing falls back to models/calibration.yaml)."""
    out = {name: float(entry["value"]) for name, entry in result.fixed.items()}
    out.update(result.values())
    return out


def model_forecasts(points: Sequence[Actual], params: Mapping[str, float], scen) -> list[float]:
    """The model's value at each point's year, with ``params`` over the scenario ``scen``."""
    from simulator.analysis.calibration import HORIZON, implied_history
    from simulator.model import Model
    from simulator.plan import scenario as _scenario
    model = Model()
    run = model.run_wide(scen, params=dict(params))
    history = None
    out = []
    for p in points:
        if p.year >= BASE_YEAR:
            series = run[p.indicator]
            out.append(float(np.interp(p.year, series.index.to_numpy(), series.to_numpy())))
            continue
        if history is None:  # the calibration's implied history: 2020 policies held
            history = model.run_wide(_scenario.default("hindcast-history"), params=dict(params))
        v0 = np.array(history.loc[float(BASE_YEAR), p.indicator])
        v1 = np.array(history.loc[float(BASE_YEAR + HORIZON), p.indicator])
        out.append(float(implied_history(v0, v1, p.year)))
    bad = [f"{p.indicator} {p.year:g}" for p, v in zip(points, out) if not math.isfinite(v)]
    if bad:  # a model fault, never scored as a number
        raise RuntimeError(f"the model's value is not finite at {', '.join(bad)}")
    return out


# --------------------------------------------------------------------------------------------
# The hindcast

def check_cutoff(cutoff: Any) -> int:
    """``cutoff`` as a whole year from 2015 to 2034, else :class:`HindcastError`."""
    try:
        value = float(cutoff)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and value == int(value) and FIRST_YEAR <= value < LAST_YEAR):
        from simulator.base.inputs import excerpt
        raise HindcastError(f"--cutoff: value {excerpt(cutoff)} is not allowed; allowed a whole "
                            f"year from {FIRST_YEAR} to {LAST_YEAR - 1}")
    return int(value)


def observations_after(observed: Actuals, cutoff: int) -> Actuals:
    """The actuals dated after ``cutoff``; :class:`HindcastError` if there are none."""
    after = observed.after(cutoff)
    if not len(after):
        latest = max(a.year for a in observed)
        raise HindcastError(f"{observed.source}: no observation after the cutoff {cutoff} "
                            f"(the latest is dated {latest:g}); allowed a cutoff before "
                            f"{math.ceil(latest)}")
    return after


def hindcast(observed: Actuals, cutoff: int, scenario=None, *, seed: int = 0,
             starts: int = DEFAULT_STARTS, backend: str | None = None,
             calibration_result=None) -> Hindcast:
    """Calibrate with data up to ``cutoff``, run ``scenario`` and score the actuals after it.

    Parameters
    ----------
    observed : Actuals
        Validated actuals (:func:`simulator.plan.actuals.load`).
    cutoff : int
        Last year of the data used: the calibration's and the trend's.
    scenario : Scenario, optional
        Default the plan as enacted (``scenarios/plan.yaml``).
    seed, starts, backend : optional
        Of the calibration (:func:`simulator.analysis.calibration.calibrate`; default seed 0,
        :data:`DEFAULT_STARTS` starts, the engine's default backend); fewer starts are faster
        and may find a worse optimum of the multi-start fit.
    calibration_result : simulator.analysis.calibration.Result, optional
        A calibration already made with this ``cutoff`` (skips the fit).

    Returns
    -------
    Hindcast
        Per actual after the cutoff, the forecasts of the three methods (``model``, ``path``,
        ``trend``) and their percentage errors; MAPE and RMSPE (in %) per series, pooled and
        common; the constants fitted up to the cutoff. ``.points_frame()``,
        ``.scores_frame()``, ``.to_json()`` and ``.to_csv()`` give it as tables.

    Raises
    ------
    HindcastError
        A cutoff outside 2015–2034, no observation after the cutoff, or no calibration data up
        to it (one line, naming the value and what is allowed).

    Examples
    --------
    >>> from simulator import actuals, hindcast
    >>> observed = actuals.load("data/examples/actuals_2015_2020.csv")   # doctest: +SKIP
    >>> hindcast.hindcast(observed, cutoff=2018).scores_frame()          # doctest: +SKIP
    """
    from simulator.plan import scenario as _scenario
    cutoff = check_cutoff(cutoff)
    scen = scenario if scenario is not None else _scenario.load(DEFAULT_SCENARIO)
    after = observations_after(observed, cutoff)
    result = calibration_result or calibrate_up_to(cutoff, seed, starts, backend)
    if result.provenance.get("cutoff") != cutoff:
        raise HindcastError(f"calibration_result: made with cutoff "
                            f"{result.provenance.get('cutoff')}; allowed one made with {cutoff}")
    params = hindcast_parameters(result)
    model_values = model_forecasts(after.rows, params, scen)
    trends = {ind: [(a.year, a.value) for a in observed.up_to(cutoff)
                    if a.indicator == ind and a.kind == "level"]
              for ind in after.indicators()}
    missing = [f"{ind} ({len(levels)})" for ind, levels in trends.items()
               if trend_fit(levels) is None
               and any(a.indicator == ind and a.year != BASE_YEAR for a in after)]
    notes = [f"no trend forecast for {', '.join(missing)}: a trend needs levels above 0 in two "
             f"years at or before {cutoff} (levels found in brackets)"] if missing else []
    points = []
    for actual, model_value in zip(after.rows, model_values):
        forecast = {"model": model_value,
                    "path": path_forecast(actual.indicator, actual.year),
                    "trend": trend_forecast(trends[actual.indicator], actual.year)}
        note = ""
        if actual.year == BASE_YEAR:
            note = "not scored: the model starts from the plan's 2020 baseline"
        elif actual.value == 0:
            note = "not scored: observed 0 has no percentage error"
        scored = not note
        errors = {m: (percentage_error(f, actual.value, actual.kind)
                      if scored and f is not None else None) for m, f in forecast.items()}
        points.append(Point(actual.indicator, actual.year, actual.kind, actual.value, forecast,
                            errors, scored, note))
    scores = _scores(points)
    calibration = {"cutoff": cutoff, "seed": result.seed, "starts": result.n_starts,
                   "fitted_targets": [t["id"] for t in result.targets if t["role"] == "fit"],
                   "fit_pooled": result.pooled}
    return Hindcast(cutoff, scen.name, observed.source, points, scores, result.values(),
                    {k: v["value"] for k, v in result.fixed.items()}, calibration, notes)


def _scores(points: Sequence[Point]) -> list[Score]:
    """Per series, pooled (each method's own points) and common (points every method has)."""
    scored = [p for p in points if p.scored]
    common = [p for p in scored if all(p.error_pct[m] is not None for m in METHODS)]
    groups = [(ind, [p for p in scored if p.indicator == ind])
              for ind in dict.fromkeys(p.indicator for p in scored)]
    groups += [("pooled", scored), ("common", common)]
    out = []
    for name, group in groups:
        for m in METHODS:
            errors = [p.error_pct[m] for p in group if p.error_pct[m] is not None]
            out.append(Score(m, name, len(errors), mape(errors) if errors else None,
                             rmspe(errors) if errors else None))
    return out


# --------------------------------------------------------------------------------------------
# Recalibration on new data

@dataclass(frozen=True)
class Recalibration:
    """The model's constants fitted to the project's data plus a user's actuals up to ``up_to``
    (:func:`recalibrate`).

    ``parameters`` holds every calibration candidate (the fitted ones and those the data do not
    identify, at their documented values): pass it as ``Model.run(scenario, params=...)`` to
    run a scenario with them instead of ``models/calibration.yaml``'s.
    """

    up_to: float
    scenario: str                      # the run the post-2020 actuals were compared with
    parameters: dict[str, float]       # every candidate: fitted or documented
    fitted: dict[str, float]           # identified by the data, fitted values
    fixed: dict[str, float]            # not identified: documented values
    actuals_sha256: str                # calibration.actuals_digest of the actuals
    result: Any                        # calibration.Result: targets, statistics, provenance

    def summary(self) -> str:
        """One line: what was fitted to what, and how the constants moved from the default
        calibration (``models/calibration.yaml``)."""
        from simulator.plan.calibrated import parameters
        before = parameters()
        moved = ", ".join(f"{k} = {v:.4g}" + (f" (was {before[k]:.4g})" if k in before else "")
                          for k, v in self.fitted.items()) or "no constant identified"
        n = sum(1 for t in self.result.targets if t["role"] == "fit"
                and t["source"].startswith("actuals:"))
        return (f"recalibrated to the project's data and {n} actuals up to {self.up_to:g} "
                f"(scenario {self.scenario!r}): {moved}")


_recalibrations: dict[tuple, Recalibration] = {}
#: Recalibrations kept per process (the oldest is dropped first): an app serving many uploads
#: keeps a bounded amount of memory.
MAX_KEPT = 32


def check_up_to(up_to: Any) -> float:
    """``up_to`` as a year from 2015 to 2035 (mid-year allowed), else :class:`HindcastError`."""
    try:
        value = float(up_to)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and FIRST_YEAR <= value <= LAST_YEAR):
        from simulator.base.inputs import excerpt
        raise HindcastError(f"up_to: value {excerpt(up_to)} is not allowed; allowed a year from "
                            f"{FIRST_YEAR} to {LAST_YEAR}")
    return value


def recalibrate(observed: Actuals, scenario=None, up_to: float | None = None, *,
                seed: int = 0, starts: int = DEFAULT_STARTS,
                backend: str | None = None) -> Recalibration:
    """Recalibration on new data: fit the constants to the project's data plus ``observed``.

    The same calibration (:func:`simulator.analysis.calibration.calibrate` with ``actuals``:
    same candidates, identifiability selection and seeded multi-start) with the actuals up to
    ``up_to`` as extra targets (:func:`simulator.analysis.calibration.actual_targets`). The
    result is kept for the rest of the process (the latest :data:`MAX_KEPT`), keyed by the hash
    of the actuals' figures, the scenario's content, ``up_to``, ``seed``, ``starts`` and
    ``backend``: asking again (an app's toggle) does not refit.

    Parameters
    ----------
    observed : Actuals
        Validated actuals (:func:`simulator.plan.actuals.load` / ``loads``).
    scenario : Scenario, optional
        The scenario whose run the actuals dated after 2020 are compared with; default the plan
        as enacted (``scenarios/plan.yaml``).
    up_to : float, optional
        Latest date of the actuals used; default the latest in ``observed``.
    seed, starts, backend : optional
        Of the calibration's multi-start fit (default seed 0, :data:`DEFAULT_STARTS` starts,
        the engine's default backend).

    Returns
    -------
    Recalibration
        ``parameters`` (every calibration candidate, fitted or at its documented value: pass
        it as ``Model.run(scenario, params=...)``), the fitted and fixed ones apart, the hash
        of the actuals and the full calibration result.

    Raises
    ------
    HindcastError
        ``up_to`` outside 2015–2035, or no actual up to it that can be fitted (all dated 2020,
        already in the project's data, or ``rd_spending_growth``); one line.
    """
    import hashlib

    from simulator.analysis import calibration
    from simulator.plan import scenario as _scenario
    if not len(observed):
        raise HindcastError(f"{observed.source}: no actuals; allowed a file with at least one row")
    up_to = check_up_to(max(a.year for a in observed) if up_to is None else up_to)
    scen = scenario if scenario is not None else _scenario.load(DEFAULT_SCENARIO)
    digest = calibration.actuals_digest(observed.up_to(up_to))
    key = (digest, hashlib.sha256(scen.to_yaml().encode()).hexdigest(), up_to, int(seed),
           int(starts), backend)
    if key not in _recalibrations:
        try:
            result = calibration.calibrate(seed=seed, starts=starts, cutoff=up_to,
                                           actuals=observed, scenario=scen, backend=backend)
        except calibration.CalibrationError as exc:
            raise HindcastError(str(exc)) from None
        while len(_recalibrations) >= MAX_KEPT:
            del _recalibrations[next(iter(_recalibrations))]
        _recalibrations[key] = Recalibration(
            up_to, scen.name, hindcast_parameters(result), dict(result.values()),
            {k: v["value"] for k, v in result.fixed.items()}, digest, result)
    return _recalibrations[key]


# --------------------------------------------------------------------------------------------
# Rows of the terminal table (the command line aligns them: simulator.cli.format_table)

def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


_KIND = {"level": "", "lower_bound": "≥ ", "upper_bound": "≤ "}


def point_rows(h: Hindcast) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-point table: forecasts with their errors in %."""
    header = ["指标 indicator", "年份 year", "实际 actual", "单位 unit"]
    for m in METHODS:
        header += [f"{METHOD_NAMES[m][0]} {m}", "误差 error %"]
    header.append("备注 note")
    rows = []
    for p in h.points:
        ind = tables.indicator(p.indicator)
        digits = max(ind.decimals, 1)
        row = [f"{ind.name_zh} {p.indicator}", f"{p.year:g}",
               _KIND[p.kind] + _fmt(p.observed, digits), ind.unit_zh]
        for m in METHODS:
            row += [_fmt(p.forecast[m], digits), _fmt(p.error_pct[m], 1)]
        row.append(p.note)
        rows.append(row)
    return header, rows


def score_rows(h: Hindcast) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the score table: n, MAPE and RMSPE (%) per series and method."""
    header = ["序列 series"]
    for m in METHODS:
        header += [f"{m} n", f"{m} MAPE %", f"{m} RMSPE %"]
    rows = []
    for series in dict.fromkeys(s.series for s in h.scores):
        if series in ("pooled", "common"):
            label = {"pooled": "合计 pooled", "common": "共同点 common points"}[series]
        else:
            label = f"{tables.indicator(series).name_zh} {series}"
        row = [label]
        for m in METHODS:
            s = h.score(m, series)
            row += [str(s.n), _fmt(s.mape, 1), _fmt(s.rmspe, 1)]
        rows.append(row)
    return header, rows
