"""Plausibility bounds: what the model's answers must respect under any setting of its inputs.

Validation runs the model for ``n`` random settings of every lever, assumption and uncertain
constant (:func:`simulator.analysis.validation.random_bounds`); every bound of
``models/plausibility.csv`` must then hold at every saved time of every draw. A bound that one
draw breaks fails the check, and the check names that draw, its settings and the inputs that
drive the breach.

File format
-----------
A UTF-8 CSV file, header row first, columns in any order, every column present::

    id,kind,variable,denominator,lower,upper,unit,source
    rd_intensity_max,level,rd intensity,,0,6,%,"Beijing 6.44 % (2020), ..."
    industry_to_gdp,ratio,above scale industrial revenue,GDP,0.5,2.5,Dmnl,"assumption: ..."
    rd_growth_max,yoy_growth,rd spending,,,40,%/Year,"assumption of issue 12"
    budget_identity,identity,budget residual,fiscal st budget,,1e-9,Dmnl,"definition"

- ``id``: lower-case letters, digits and ``_``, unique;
- ``kind``: one of :data:`KINDS`:

  - ``level``: ``variable`` within [``lower``, ``upper``] at every saved time;
  - ``ratio``: ``variable / denominator`` within [``lower``, ``upper``] at every saved time
    (both in the same declared units, so the ratio is ``Dmnl``);
  - ``yoy_growth``: year-on-year growth ``100 (x(t) / x(t - 1) - 1)`` in ``%/Year`` between
    consecutive year-end values (saved times one year apart) within [``lower``, ``upper``];
  - ``identity``: ``|variable| <= upper × |denominator|`` at every saved time — a budget
    identity written as a residual (``budget residual`` = sources − uses) that must vanish to
    the relative tolerance ``upper``; ``lower`` stays empty;

- ``variable``, ``denominator``: model variables, written as in the ``.mdl`` (``rd intensity``)
  or as their Python names (``rd_intensity``); ``denominator`` is required for ``ratio`` and
  ``identity`` and must be empty otherwise;
- ``lower``, ``upper``: plain decimal numbers (``1e-9`` allowed) or empty for "no bound on that
  side"; at least one of them; ``lower <= upper``;
- ``unit``: the unit of the bounded quantity, checked against the model: the variable's declared
  unit for ``level``, ``Dmnl`` for ``ratio`` and ``identity``, ``%/Year`` for ``yoy_growth``
  (so a percentage bound on a fraction, or a bound in 亿元 on a 万元 variable, is refused);
- ``source``: where the numbers come from (a statistical bulletin and its figure, or
  "assumption: ..."), required.

Every problem is a :class:`PlausibilityError` whose one line names the file, the row
(spreadsheet numbering: the header is row 1), the field, the value and what is allowed — for a
variable the model does not have, the closest names it does have. A file is accepted whole or not
at all.

A value that is not finite (a ratio over a zero denominator, growth from zero) breaks every
bound: the model has no plausible answer there.
"""
from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Mapping

import numpy as np

from simulator.base.inputs import (
    InputError,
    check_text,
    csv_reader,
    excerpt,
    read_text,
    source_label,
)
from simulator.plan import tables

#: The bounds validation checks.
FILE = tables.MODELS_DIR / "plausibility.csv"
#: Kinds of bound (module docstring).
KINDS = ("level", "ratio", "yoy_growth", "identity")
#: Columns, all required.
COLUMNS = ("id", "kind", "variable", "denominator", "lower", "upper", "unit", "source")
#: Unit of the bounded quantity for the kinds whose unit does not come from the variable.
KIND_UNITS = {"ratio": "Dmnl", "identity": "Dmnl", "yoy_growth": "%/Year"}
#: Most rows in the file.
MAX_ROWS = 1_000
#: Longest ``source`` text, in characters.
MAX_SOURCE_CHARS = 2_000
#: Inputs listed as drivers of a breach (largest rank correlation with it).
N_DRIVERS = 5

_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_ID = re.compile(r"[a-z][a-z0-9_]*")


class PlausibilityError(InputError):
    """A plausibility file refused; one line naming file, row, field, value and what is
    allowed."""


@dataclass(frozen=True)
class Bound:
    """One plausibility bound (a row of the file; module docstring).

    ``name`` and ``denominator_name`` are the Python names of ``variable`` and
    ``denominator``; ``lower`` or ``upper`` is None where that side is unbounded (for an
    ``identity``, ``upper`` is the relative tolerance).
    """

    id: str
    kind: str
    variable: str
    name: str
    lower: float | None
    upper: float | None
    unit: str
    source: str
    denominator: str = ""
    denominator_name: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Python names of the model variables the bound needs."""
        return (self.name, self.denominator_name) if self.denominator_name else (self.name,)

    def describe(self) -> str:
        """The bound in words, e.g. ``rd intensity ≤ 6 %``."""
        if self.kind == "identity":
            return f"|{self.variable}| ≤ {self.upper:g} × |{self.denominator}|"
        what = {"level": self.variable, "ratio": f"{self.variable} / {self.denominator}",
                "yoy_growth": f"year-on-year growth of {self.variable}"}[self.kind]
        unit = "" if self.unit == "Dmnl" else f" {self.unit}"
        if self.lower is None:
            return f"{what} ≤ {self.upper:g}{unit}"
        if self.upper is None:
            return f"{what} ≥ {self.lower:g}{unit}"
        return f"{what} in [{self.lower:g}, {self.upper:g}]{unit}"


# --------------------------------------------------------------------------------------------
# Reading the file

def _number(text: str, where: str, fieldname: str) -> float | None:
    raw = text.strip()
    if not raw:
        return None
    value = float(raw) if _NUMBER.fullmatch(raw) else math.nan
    if not math.isfinite(value):
        raise PlausibilityError(f"{where}: field '{fieldname}': value {excerpt(text)} is not a "
                                "finite number; allowed a plain decimal number (1e-9 allowed) "
                                "or empty for no bound on that side")
    return value


def _resolve(text: str, where: str, fieldname: str, variables: Collection[str],
             model: str) -> str:
    """The Python name of the model variable ``text`` names, or a PlausibilityError listing the
    closest names the model has."""
    name = text.strip()
    python = name if name in variables else tables.python_name(name) if name else ""
    if python not in variables:
        key = python or name
        close = difflib.get_close_matches(key, sorted(variables), n=4, cutoff=0.5)
        words = [w for w in key.split("_") if len(w) >= 4]  # names sharing a word come next
        close += [v for v in sorted(variables) if any(w in v.split("_") for w in words)
                  and v not in close][:6 - len(close)]
        hint = f"closest: {', '.join(close)}" if close else "none is close"
        raise PlausibilityError(f"{where}: field '{fieldname}': value {excerpt(text)} is not a "
                                f"variable of {model}; allowed one of its {len(variables)} "
                                f"variables ({hint})")
    return python


def _bound(record: dict[str, str], where: str, variables: Collection[str],
           units: Mapping[str, str], model: str) -> Bound:
    """One validated row."""
    ident = record["id"].strip()
    if not _ID.fullmatch(ident):
        raise PlausibilityError(f"{where}: field 'id': value {excerpt(record['id'])} is not an "
                                "id; allowed lower-case letters, digits and _, starting with a "
                                "letter")
    kind = record["kind"].strip()
    if kind not in KINDS:
        raise PlausibilityError(f"{where}: field 'kind': value {excerpt(record['kind'])} is not "
                                f"known; allowed {', '.join(KINDS)}")
    name = _resolve(record["variable"], where, "variable", variables, model)
    denominator, den_name = record["denominator"].strip(), ""
    if kind in ("ratio", "identity"):
        if not denominator:
            raise PlausibilityError(f"{where}: field 'denominator': value '' is empty; a {kind} "
                                    "bound needs a denominator variable")
        den_name = _resolve(denominator, where, "denominator", variables, model)
        if units.get(name, "") != units.get(den_name, ""):
            raise PlausibilityError(
                f"{where}: field 'denominator': value {excerpt(denominator)} is in "
                f"{excerpt(units.get(den_name, ''))}, {record['variable'].strip()} in "
                f"{excerpt(units.get(name, ''))}; allowed a denominator in the same units "
                f"(a {kind} bound is dimensionless)")
    elif denominator:
        raise PlausibilityError(f"{where}: field 'denominator': value {excerpt(denominator)} is "
                                f"not allowed for a {kind} bound; allowed empty")
    lower = _number(record["lower"], where, "lower")
    upper = _number(record["upper"], where, "upper")
    if kind == "identity":
        if lower is not None:
            raise PlausibilityError(f"{where}: field 'lower': value {excerpt(record['lower'])} "
                                    "is not allowed for an identity; allowed empty (the "
                                    "tolerance goes in 'upper')")
        if upper is None or upper < 0:
            raise PlausibilityError(f"{where}: field 'upper': value {excerpt(record['upper'])} "
                                    "is not a tolerance; allowed a number ≥ 0 (|variable| ≤ "
                                    "upper × |denominator|)")
    elif lower is None and upper is None:
        raise PlausibilityError(f"{where}: fields 'lower' and 'upper' are both empty; allowed a "
                                "number in at least one of them")
    elif lower is not None and upper is not None and lower > upper:
        raise PlausibilityError(f"{where}: field 'lower': value {excerpt(record['lower'])} is "
                                f"above upper {upper:g}; allowed lower ≤ upper")
    unit = record["unit"].strip()
    expected = KIND_UNITS.get(kind, units.get(name, ""))
    if unit != expected:
        why = (f"the declared unit of {record['variable'].strip()}" if kind == "level"
               else f"the unit of a {kind} bound")
        raise PlausibilityError(f"{where}: field 'unit': value {excerpt(record['unit'])} is not "
                                f"{why}; allowed {excerpt(expected)}")
    source = record["source"].strip()
    if not source:
        raise PlausibilityError(f"{where}: field 'source': value '' is empty; allowed the "
                                "figure's source (bulletin, quote) or 'assumption: ...'")
    return Bound(id=ident, kind=kind, variable=record["variable"].strip(), name=name,
                 lower=lower, upper=upper, unit=unit, source=source, denominator=denominator,
                 denominator_name=den_name)


def loads(text: str | bytes, source: str, variables: Collection[str],
          units: Mapping[str, str], model: str = "the model") -> tuple[Bound, ...]:
    """Parse and validate the CSV ``text`` of a plausibility file.

    Parameters
    ----------
    text : str or bytes
        The file's content (UTF-8).
    source : str
        The file's name, for messages.
    variables : collection of str
        Python names of the model's variables.
    units : mapping of str to str
        Declared units of the model's variables, by Python name.
    model : str
        The model's name, for messages.

    Returns
    -------
    tuple of Bound
        In file order.

    Raises
    ------
    PlausibilityError
        One line naming ``source``, the row, the field, the value and what is allowed.
    """
    name = source_label(source)
    reader = csv_reader(text, name, f"a header row {','.join(COLUMNS)} and at least one bound",
                        error=PlausibilityError)
    bounds: list[Bound] = []
    seen: dict[str, int] = {}
    row = 1
    try:
        header = [h.strip() for h in next(reader)]
        for column in header:
            if column not in COLUMNS or header.count(column) > 1:
                raise PlausibilityError(
                    f"{name}: row 1: column {excerpt(column)} is "
                    f"{'repeated' if column in COLUMNS else 'not known'}; allowed each of "
                    f"{', '.join(COLUMNS)} once")
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise PlausibilityError(f"{name}: row 1: missing column(s) {', '.join(missing)}; "
                                    f"required {', '.join(COLUMNS)}")
        for cells in reader:
            row += 1
            if not any(c.strip() for c in cells):
                continue  # blank line
            where = f"{name}: row {row}"
            if len(bounds) >= MAX_ROWS:
                raise PlausibilityError(f"{where}: more than {MAX_ROWS:,} bounds; at most "
                                        f"{MAX_ROWS:,} allowed")
            if len(cells) != len(header):
                raise PlausibilityError(f"{where}: has {len(cells)} fields; the header has "
                                        f"{len(header)} ({','.join(header)})")
            record = dict(zip(header, cells))
            for column, value in record.items():
                check_text(value, where, column, max_chars=MAX_SOURCE_CHARS,
                           error=PlausibilityError)
            bound = _bound(record, where, variables, units, model)
            if bound.id in seen:
                raise PlausibilityError(f"{where}: field 'id': value {excerpt(bound.id)} repeats "
                                        f"the id of row {seen[bound.id]}; allowed a unique id")
            seen[bound.id] = row
            bounds.append(bound)
    except csv.Error as exc:
        raise PlausibilityError(f"{name}: row {row}: not valid CSV ({exc})") from None
    if not bounds:
        raise PlausibilityError(f"{name}: no rows after the header; expected at least one bound")
    return tuple(bounds)


def load(path: str | Path | None = None, engine=None) -> tuple[Bound, ...]:
    """Read and validate a plausibility file through the bounded reader; see :func:`loads`.

    Parameters
    ----------
    path : str or Path, optional
        Default :data:`FILE` (``models/plausibility.csv``).
    engine : Engine, optional
        Whose variables and units the bounds are checked against; default
        :func:`simulator.model.engine_for` ``()``.

    Returns
    -------
    tuple of Bound
        In file order.

    Raises
    ------
    PlausibilityError
        A file that cannot be read within bounds or any invalid row, in one line naming the
        row, field and value.
    """
    path = FILE if path is None else path
    if engine is None:
        from simulator.model import engine_for
        engine = engine_for()
    text = read_text(path, what="plausibility table", error=PlausibilityError)
    return loads(text, str(path), engine.variables, engine.units, Path(engine.mdl_file).name)


# --------------------------------------------------------------------------------------------
# Evaluating runs

def yoy_growth(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Year-on-year growth between consecutive year-end values.

    Parameters
    ----------
    times : ndarray, shape (T,)
        Saved times in years.
    values : ndarray, shape (T,) or (T, N)
        The variable at those times (N runs).

    Returns
    -------
    (ndarray, ndarray)
        The years ``t`` whose value and the value at ``t - 1`` are both saved, and the growth
        ``100 (x(t) / x(t - 1) - 1)`` in %/Year at each of them (shape (K,) or (K, N); not
        finite where ``x(t - 1)`` is 0).
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    years = np.flatnonzero(np.isclose(times, np.round(times)))
    pairs = [(a, b) for a, b in zip(years[:-1], years[1:]) if np.isclose(times[b] - times[a], 1)]
    if not pairs:
        return np.empty(0), values[:0]
    before, after = (np.array(p) for p in zip(*pairs))
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = 100.0 * (values[after] / values[before] - 1.0)
    return times[after], growth


def quantity(bound: Bound, times: np.ndarray, data: Mapping[str, np.ndarray]
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(times, values)`` of what ``bound`` bounds in a run's saved ``data`` (Python name →
    array of shape (T,) or (T, N)): the level, the ratio, the year-on-year growth or, for an
    identity, ``|variable| / |denominator|`` (0 where both are 0)."""
    times = np.asarray(times, dtype=float)
    x = np.asarray(data[bound.name], dtype=float)
    if bound.kind == "level":
        return times, x
    if bound.kind == "yoy_growth":
        return yoy_growth(times, x)
    d = np.asarray(data[bound.denominator_name], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if bound.kind == "ratio":
            return times, x / d
        return times, np.where(x == 0, 0.0, np.abs(x) / np.abs(d))


def excess(bound: Bound, values: np.ndarray) -> np.ndarray:
    """How far ``values`` lie beyond ``bound``, in the bound's unit: positive where it is
    broken, ≤ 0 inside, +inf where a value is not finite."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, -np.inf)
    if bound.upper is not None:
        out = np.maximum(out, values - bound.upper)
    if bound.lower is not None:
        out = np.maximum(out, bound.lower - values)
    return np.where(np.isfinite(values), out, np.inf)


@dataclass(frozen=True)
class Outcome:
    """A bound checked over an ensemble of draws.

    Attributes
    ----------
    bound : Bound
    n : int
        Draws checked.
    broken : int
        Draws that break the bound at one saved time or more.
    lowest, highest : float
        Extremes of the bounded quantity over every draw and time (finite values only; nan if
        none is finite).
    worst_draw : int
        The draw furthest beyond the bound (the closest to it when none breaks it).
    worst_time : float
        The time at which it is furthest.
    worst_value, worst_excess : float
        The quantity then, and how far beyond the bound (≤ 0: inside).
    settings : dict
        The drawn inputs of the worst draw, by Python name.
    drivers : tuple of (str, float, float)
        The inputs that most set apart the draws that break the bound (or, if none does, the
        1 % that come closest) from the others: (name, z, mean percentile of those draws),
        strongest first (:func:`drivers`).
    """

    bound: Bound
    n: int
    broken: int
    lowest: float
    highest: float
    worst_draw: int
    worst_time: float
    worst_value: float
    worst_excess: float
    settings: dict[str, float] = field(default_factory=dict)
    drivers: tuple[tuple[str, float, float], ...] = ()

    @property
    def passed(self) -> bool:
        """Whether no draw breaks the bound."""
        return self.broken == 0


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..N-1 of each column of ``x`` (ties broken by position; drawn inputs are
    continuous)."""
    order = np.argsort(x, axis=0, kind="stable")
    ranks = np.empty_like(order, dtype=float)
    np.put_along_axis(ranks, order, np.arange(x.shape[0], dtype=float)[:, None], axis=0)
    return ranks


def drivers(inputs: Mapping[str, np.ndarray], group: np.ndarray,
            k: int = N_DRIVERS) -> tuple[tuple[str, float, float], ...]:
    """The ``k`` drawn inputs that most set the draws of ``group`` apart from the others.

    Each input's draws are ranked and scaled to percentiles in [0, 1]; an input that does not
    matter gives the group a mean percentile near 0.5, with standard error
    ``sqrt(1 / (12 m))`` for a group of ``m`` draws. The score is that mean's distance from 0.5
    in standard errors (z).

    Parameters
    ----------
    inputs : mapping of str to ndarray, shape (N,)
        Drawn inputs by Python name; those that do not vary are skipped.
    group : ndarray of bool, shape (N,)
        The draws to explain (those that break a bound, or come closest to it).

    Returns
    -------
    tuple of (str, float, float)
        (name, z, mean percentile of the group × 100), largest ``|z|`` first; empty when the
        group is empty or holds every draw.
    """
    group = np.asarray(group, dtype=bool)
    n, m = group.size, int(group.sum())
    names = [name for name, v in inputs.items() if np.ptp(v) > 0]
    if not names or m == 0 or m == n:
        return ()
    pct = _ranks(np.column_stack([inputs[name] for name in names])) / max(n - 1, 1)
    mean = pct[group].mean(axis=0)
    z = (mean - 0.5) / math.sqrt(1 / (12 * m))
    top = np.argsort(-np.abs(z), kind="stable")[:k]
    return tuple((names[i], float(z[i]), float(100 * mean[i])) for i in top)


def _closest(per_draw: np.ndarray) -> np.ndarray:
    """The draws to explain: those that break the bound, else the 1 % (at least 10) closest."""
    broken = per_draw > 0
    if broken.any():
        return broken
    m = min(max(10, per_draw.size // 100), per_draw.size)
    group = np.zeros(per_draw.size, dtype=bool)
    group[np.argsort(-per_draw, kind="stable")[:m]] = True
    return group


def evaluate(bounds: Collection[Bound], times: np.ndarray, data: Mapping[str, np.ndarray],
             inputs: Mapping[str, np.ndarray]) -> list[Outcome]:
    """Check every bound over an ensemble run.

    Parameters
    ----------
    bounds : collection of Bound
        The bounds to check (:func:`load`).
    times : ndarray, shape (T,)
        Saved times.
    data : mapping of str to ndarray, shape (T, N)
        Saved variables by Python name (at least every ``bound.names``).
    inputs : mapping of str to ndarray, shape (N,)
        The drawn inputs by Python name (reported for the worst draw; ranked as drivers).

    Returns
    -------
    list of Outcome
        One per bound, in order: how many draws break it, the observed range, the worst draw
        (its time, value, excess and settings) and the inputs that drive the breaches.
    """
    out = []
    for bound in bounds:
        t, q = quantity(bound, times, data)
        if q.ndim == 1:
            q = q[:, None]
        n = q.shape[1]
        over = excess(bound, q)
        per_draw = over.max(axis=0) if len(t) else np.full(n, -np.inf)
        worst = int(np.argmax(per_draw))
        when = int(np.argmax(over[:, worst])) if len(t) else 0
        finite = q[np.isfinite(q)]
        out.append(Outcome(
            bound=bound, n=n, broken=int(np.sum(per_draw > 0)),
            lowest=float(finite.min()) if finite.size else math.nan,
            highest=float(finite.max()) if finite.size else math.nan,
            worst_draw=worst, worst_time=float(t[when]) if len(t) else math.nan,
            worst_value=float(q[when, worst]) if len(t) else math.nan,
            worst_excess=float(per_draw[worst]),
            settings={k: float(np.asarray(v)[worst]) for k, v in inputs.items()},
            drivers=drivers(inputs, _closest(per_draw))))
    return out


def summary(o: Outcome) -> str:
    """One paragraph on an outcome for the validation report: the observed range, the draws
    that break the bound, the worst draw and the inputs that drive the breach."""
    b = o.bound
    unit = "" if b.unit == "Dmnl" else f" {b.unit}"
    text = (f"Bound `{b.id}`. Observed over {o.n:,} draws and every saved year: "
            f"{o.lowest:.4g} to {o.highest:.4g}{unit}; ")
    if o.passed:
        text += (f"no draw breaks it (closest: draw {o.worst_draw}, {o.worst_value:.4g}{unit} "
                 f"in {o.worst_time:g}).")
    else:
        text += (f"**{o.broken:,} of {o.n:,} draws ({100 * o.broken / o.n:.2f} %) break it**; "
                 f"worst: draw {o.worst_draw}, {o.worst_value:.4g}{unit} in {o.worst_time:g} "
                 f"({o.worst_excess:.4g} beyond the bound).")
    if o.drivers:
        which = "breaking draws" if o.broken else "closest 1 % of draws"
        text += (f" What sets the {which} apart (mean percentile of their draws of an input, "
                 "z against no effect; the worst draw's value): " + "; ".join(
                     f"{name} p{pct:.0f} (z {z:+.1f}), worst {o.settings[name]:.4g}"
                     for name, z, pct in o.drivers) + ".")
    return text


def worst_draws_csv(outcomes: Mapping[str, tuple[int, Mapping[str, float]]]) -> str:
    """CSV text of the worst draw of each bound: a column per bound id, a row ``draw`` (its
    number) then a row per drawn input (its value), so that a modeller can rerun it.

    Parameters
    ----------
    outcomes : mapping of str to (int, mapping of str to float)
        By bound id: the worst draw's number and its settings by Python name.
    """
    ids = list(outcomes)
    names = list(dict.fromkeys(k for _, settings in outcomes.values() for k in settings))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["input", *ids])
    writer.writerow(["draw", *(outcomes[i][0] for i in ids)])
    for name in names:
        writer.writerow([name, *(repr(outcomes[i][1].get(name, math.nan)) for i in ids)])
    return buf.getvalue()


__all__ = ["Bound", "Outcome", "PlausibilityError", "KINDS", "COLUMNS", "FILE", "load", "loads",
           "yoy_growth", "quantity", "excess", "drivers", "evaluate", "summary",
           "worst_draws_csv"]
