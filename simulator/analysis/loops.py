"""Loop knock-out: how much each named feedback loop of the model moves the indicators.

A *loop* is a row of ``models/loops.csv``: an id, its type (reinforcing or balancing), its name
and causal path in Chinese and English, and a *cut* — one or more ``constant=value`` assignments
(Python names of ``.mdl`` constants) that break one link of the loop, e.g. a switch constant
``loop_switch_fiscal=0``. The loops are data: this module knows no loop by name.

:func:`knockout` runs a scenario once with every loop intact, once with each loop cut, and once
with every loop cut together — all in one vectorised engine call (``n = 1 + loops + 1``) on the
scenario's parameters (the calibrated constants of ``models/calibration.yaml`` included, as
every scenario run uses them). The effect of cutting a loop on an indicator in a year is

* ``100 (cut − full) / |full|`` (% of the full-model value) for a level, and
* ``cut − full`` in percentage points for an indicator whose unit is a growth rate (``%/Year``,
  e.g. ``rd_spending_growth``; :attr:`Measure.growth`),

and undefined (NaN, shown as "—") where a level's full value is 0. A loop is a **driver** when
its largest absolute effect over the years analysed (default 2025 and 2035) on some indicator is
at least :data:`DRIVER_THRESHOLD` (1 %, or 1 percentage point for a growth rate); the README
presents only drivers as such (:func:`markdown`).

Reading ``models/loops.csv`` is strict (:func:`load`): an unknown column, an empty or duplicate
id, a type other than reinforcing/balancing, an empty name, path or cut, an assignment naming no
constant of the model, a value that is not a plain number, lies outside the constant's
documented ``[min, max]`` range or equals the model's own value (no cut), a constant set twice
in a row, or two loops setting one constant to different values (they could not be cut together)
each raise :class:`LoopError`: one line naming the file, the line, the field, the value and what
is allowed.
"""
from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.base import inputs
from simulator.base.inputs import CONTROL, InputError, excerpt
from simulator.plan import tables
from simulator.plan.scenario import Scenario

#: The project's loop table.
DEFAULT_FILE = tables.MODELS_DIR / "loops.csv"
#: Columns of a loop table, in order.
COLUMNS = ("id", "type", "name_zh", "name_en", "path_zh", "path_en", "cut")
#: Allowed loop types.
TYPES = ("reinforcing", "balancing")
#: Smallest largest-absolute-effect (% of the level, or percentage points of a growth rate) that
#: makes a loop a driver.
DRIVER_THRESHOLD = 1.0
#: Id of the row where every loop is cut together (reserved: no loop may use it).
ALL_CUT = "all"
#: Years of the knock-out table by default.
DEFAULT_YEARS = (2025, 2035)
#: Markers of the README's loop table (:func:`replace_block`).
README_START = "<!-- loops:start -->"
README_END = "<!-- loops:end -->"
_ID = re.compile(r"[A-Za-z0-9_\-]{1,40}")
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_CONTROL = frozenset(CONTROL)


class LoopError(InputError):
    """A loop table is invalid (one line naming file, line, field, value and what is allowed)."""


@dataclass(frozen=True)
class Loop:
    """One named feedback loop and the constants that cut it.

    Attributes
    ----------
    id : str
        Short id (``R1``, ``fiscal``); unique in its table.
    type : {"reinforcing", "balancing"}
    name_zh, name_en : str
    path_zh, path_en : str
        The causal path in words.
    cut : tuple of (str, float)
        ``(constant, value)`` assignments, by Python name, that break one link of the loop.
    """

    id: str
    type: str
    name_zh: str
    name_en: str
    path_zh: str
    path_en: str
    cut: tuple[tuple[str, float], ...]

    @property
    def label(self) -> str:
        """``id name_zh name_en``, as the tables show a loop."""
        return f"{self.id} {self.name_zh} {self.name_en}"


@dataclass(frozen=True)
class Measure:
    """An indicator the knock-out measures.

    Attributes
    ----------
    id : str
        Indicator id (column of the tables).
    variable : str
        The model variable (Python name).
    growth : bool
        True for a growth rate (effect in percentage points), False for a level (effect in %).
    name_en : str
    defined_from : float
        First year the indicator is defined (earlier years are not measured).
    """

    id: str
    variable: str
    growth: bool
    name_en: str
    defined_from: float = -math.inf

    @property
    def effect_unit(self) -> str:
        return "pp" if self.growth else "%"


def measures() -> tuple[Measure, ...]:
    """The project's indicators (``models/indicators.csv``) as knock-out measures; a unit that
    starts with ``%/`` (``%/Year``) is a growth rate."""
    return tuple(Measure(i.id, i.variable, i.unit.startswith("%/"), i.name_en,
                         float(i.defined_from)) for i in tables.indicators())


# --------------------------------------------------------------------------------------------
# Reading a loop table

def _engine(mdl_file: str | Path | None):
    from simulator.model import engine_for
    return engine_for(mdl_file or tables.MODEL_FILE)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _parse_cut(text: str, where: str, engine) -> tuple[tuple[str, float], ...]:
    """The assignments of a ``cut`` cell, each checked against the model's constants."""
    if not text.strip():
        raise LoopError(f"{where}, field 'cut': empty; allowed one or more constant=value "
                        "assignments separated by ';'")
    out: dict[str, float] = {}
    for part in text.split(";"):
        item = part.strip()
        name, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not name or not value:
            raise LoopError(f"{where}, field 'cut': value {excerpt(item)} is not an assignment; "
                            "allowed constant=value (a constant's Python name and a number), "
                            "several separated by ';'")
        if name not in engine.constants or name in _CONTROL:
            close = difflib.get_close_matches(name, sorted(set(engine.constants) - _CONTROL), 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise LoopError(f"{where}, field 'cut': value {excerpt(name)} is not a constant of "
                            f"{engine.mdl_file.name}{hint}; allowed the Python name of one of its "
                            "constants")
        if not _NUMBER.fullmatch(value):
            raise LoopError(f"{where}, field 'cut': value {excerpt(value)} for {name} is not a "
                            "number; allowed a plain decimal number such as 0 or 0.5")
        number = float(value)
        if not math.isfinite(number):
            raise LoopError(f"{where}, field 'cut': value {excerpt(value)} for {name} is not "
                            "finite; allowed a finite number")
        limits = engine.limits.get(name)
        if limits is not None and not limits[0] <= number <= limits[1]:
            raise LoopError(f"{where}, field 'cut': value {_fmt(number)} for {name} is outside "
                            f"its documented range; allowed [{_fmt(limits[0])}, "
                            f"{_fmt(limits[1])}]")
        lower = engine.lower_limits.get(name)
        if limits is None and lower is not None and number < lower:
            raise LoopError(f"{where}, field 'cut': value {_fmt(number)} for {name} is below "
                            f"its documented lower limit; allowed >= {_fmt(lower)}")
        if number == engine.constants[name]:
            raise LoopError(f"{where}, field 'cut': value {_fmt(number)} for {name} is the "
                            "model's own value, so it cuts nothing; allowed a value that breaks "
                            "the link (e.g. a switch at 0)")
        if name in out:
            raise LoopError(f"{where}, field 'cut': constant {name} is set twice; allowed each "
                            "constant once per loop")
        out[name] = number
    return tuple(out.items())


def loads(text: str, source: str = "<loops>", mdl_file: str | Path | None = None
          ) -> tuple[Loop, ...]:
    """The loops of a loop table given as CSV text, validated against the model.

    Parameters
    ----------
    text : str
        CSV with the header ``id,type,name_zh,name_en,path_zh,path_en,cut``.
    source : str
        Name used in error messages (the file).
    mdl_file : path, optional
        The model whose constants the cuts name; default the project's.

    Raises
    ------
    LoopError
        For any invalid row (see the module docstring).
    """
    engine = _engine(mdl_file)
    text = inputs.decode(text, source, error=LoopError)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise LoopError(f"{source}: line {reader.line_num}: not valid CSV ({exc})") from None
    if not rows:
        raise LoopError(f"{source}: empty file; allowed a header {','.join(COLUMNS)} and one "
                        "row per loop")
    header = [h.strip() for h in rows[0]]
    if tuple(header) != COLUMNS:
        raise LoopError(f"{source}: line 1: header {excerpt(','.join(header))} is not allowed; "
                        f"allowed exactly {','.join(COLUMNS)}")
    loops: list[Loop] = []
    seen: dict[str, int] = {}
    setters: dict[str, tuple[float, str]] = {}
    line = 1
    for cells in rows[1:]:
        line += 1
        if not any(c.strip() for c in cells):
            continue  # a blank line
        where = f"{source}: line {line}"
        if len(cells) != len(COLUMNS):
            raise LoopError(f"{where}: {len(cells)} fields; allowed {len(COLUMNS)} "
                            f"({','.join(COLUMNS)}; quote a value that holds a comma)")
        row = dict(zip(COLUMNS, (c.strip() for c in cells)))
        if not _ID.fullmatch(row["id"]) or row["id"] == ALL_CUT:
            raise LoopError(f"{where}, field 'id': value {excerpt(row['id'])} is not allowed; "
                            "allowed 1-40 letters, digits, '_' or '-', other than "
                            f"{ALL_CUT!r} (reserved for all loops cut together)")
        if row["id"] in seen:
            raise LoopError(f"{where}, field 'id': value {row['id']!r} is already used on line "
                            f"{seen[row['id']]}; allowed a different id for each loop")
        seen[row["id"]] = line
        where = f"{where} (loop {row['id']})"
        if row["type"] not in TYPES:
            raise LoopError(f"{where}, field 'type': value {excerpt(row['type'])} is not "
                            f"allowed; allowed {' or '.join(TYPES)}")
        for name in ("name_zh", "name_en", "path_zh", "path_en"):
            if not row[name]:
                raise LoopError(f"{where}, field {name!r}: empty; allowed a non-empty text")
            inputs.check_text(row[name], where, name, error=LoopError)
            if "|" in row[name]:
                raise LoopError(f"{where}, field {name!r}: value {excerpt(row[name])} holds "
                                "'|'; allowed text without '|' (it would split the README's "
                                "table)")
        cut = _parse_cut(row["cut"], where, engine)
        for name, value in cut:
            other = setters.get(name)
            if other is not None and other[0] != value:
                raise LoopError(f"{where}, field 'cut': {name}={_fmt(value)} conflicts with "
                                f"{name}={_fmt(other[0])} of loop {other[1]}, so the loops could "
                                "not be cut together; allowed the same value in both")
            setters[name] = (value, row["id"])
        loops.append(Loop(row["id"], row["type"], row["name_zh"], row["name_en"],
                          row["path_zh"], row["path_en"], cut))
    if not loops:
        raise LoopError(f"{source}: no loops; allowed one row per loop after the header")
    return tuple(loops)


def load(path: str | Path = DEFAULT_FILE, mdl_file: str | Path | None = None
         ) -> tuple[Loop, ...]:
    """The loops of a loop table file, validated against the model; see :func:`loads`.

    Parameters
    ----------
    path : str or Path, default ``models/loops.csv``
        The loop table, read through the bounded reader.
    mdl_file : str or Path, optional
        The model the loops' constants must exist in; default the project's model.

    Returns
    -------
    tuple of Loop
        In file order.

    Raises
    ------
    LoopError
        A file that cannot be read within bounds or any invalid row (as :func:`loads`), in
        one line.
    """
    text = inputs.read_text(path, what="CSV table", error=LoopError)
    return loads(text, str(path), mdl_file)


# --------------------------------------------------------------------------------------------
# The knock-out

@dataclass(frozen=True)
class KnockOut:
    """The result of :func:`knockout`.

    Attributes
    ----------
    scenario : str
        Name of the scenario run.
    loops : tuple of Loop
    years : tuple of int
    table : DataFrame
        Tidy: one row per loop (and :data:`ALL_CUT`), indicator and year; columns ``loop,
        indicator, year, full, cut, effect, effect_unit`` (``effect`` in % of ``full`` or in
        percentage points, see the module docstring).
    summary : DataFrame
        One row per loop and :data:`ALL_CUT`: ``loop, type, name_zh, name_en, path_zh,
        path_en, indicator, year, effect, effect_unit, driver`` — the indicator and year of
        the largest absolute effect, and whether it reaches ``threshold``.
    threshold : float
    """

    scenario: str
    loops: tuple[Loop, ...]
    years: tuple[int, ...]
    table: pd.DataFrame
    summary: pd.DataFrame
    threshold: float = DRIVER_THRESHOLD

    def driver(self, loop_id: str) -> bool:
        """Whether loop ``loop_id`` is a driver (KeyError for an unknown id)."""
        row = self.summary[self.summary["loop"] == loop_id]
        if row.empty:
            raise KeyError(f"no loop {loop_id!r} in the knock-out")
        return bool(row["driver"].iloc[0])

    def largest(self, loop_id: str) -> float:
        """Largest absolute effect of cutting ``loop_id`` (NaN if every effect is undefined)."""
        row = self.summary[self.summary["loop"] == loop_id]
        if row.empty:
            raise KeyError(f"no loop {loop_id!r} in the knock-out")
        return abs(float(row["effect"].iloc[0]))


def _effect(full: np.ndarray, cut: np.ndarray, growth: bool) -> np.ndarray:
    if growth:
        return cut - full
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (cut - full) / np.abs(full) * 100.0
    return np.where(full == 0, np.where(cut == 0, 0.0, np.nan), rel)


def knockout(scenario: Scenario | Mapping[str, float] | None = None,
             loops: Sequence[Loop] | None = None, years: Sequence[int] = DEFAULT_YEARS, *,
             mdl_file: str | Path | None = None, indicators: Sequence[Measure] | None = None,
             threshold: float = DRIVER_THRESHOLD) -> KnockOut:
    """Cut each loop, and all of them together, and measure the effect on every indicator.

    Parameters
    ----------
    scenario : Scenario, mapping or None
        The scenario to run (its :meth:`~simulator.plan.scenario.Scenario.params`, calibrated
        constants included), or engine parameters by Python name; default
        ``scenarios/plan.yaml``.
    loops : sequence of Loop, optional
        Default :func:`load` of ``models/loops.csv`` (against ``mdl_file``).
    years : sequence of int, default :data:`DEFAULT_YEARS` (2025, 2035)
        Years reported (each within the model's time span).
    mdl_file : path, optional
        The model; default the project's.
    indicators : sequence of Measure, optional
        What to measure; default :func:`measures` (the project's indicators).
    threshold : float, default :data:`DRIVER_THRESHOLD`
        Driver threshold, in % of the level (percentage points for a growth rate).

    Returns
    -------
    KnockOut
        ``table``: per loop (and every loop cut together), indicator and year, the full and
        the cut run and the effect (% of the full run's level, or percentage points);
        ``summary``: per loop, its largest absolute effect and whether it is a driver.

    Examples
    --------
    >>> from simulator import loops
    >>> ko = loops.knockout()          # the plan as enacted      # doctest: +SKIP
    >>> ko.summary[["loop", "effect", "driver"]]                 # doctest: +SKIP

    Raises
    ------
    ValueError
        A year outside the model's span or not saved, no loops, a duplicate loop id, or two
        loops setting one constant to different values (they could not be cut together).
    """
    from simulator.plan import scenario as scenario_mod
    engine = _engine(mdl_file)
    if scenario is None:
        scenario = scenario_mod.load(tables.MODELS_DIR.parent / "scenarios" / "plan.yaml")
    if isinstance(scenario, Scenario):
        name, base = scenario.name, dict(scenario.params())
    else:
        name, base = "custom", dict(scenario)
    loops = tuple(load(mdl_file=mdl_file) if loops is None else loops)
    if not loops:
        raise ValueError("loops: none given; allowed one or more loops")
    ids = [lp.id for lp in loops]
    if len(set(ids)) < len(ids) or ALL_CUT in ids:
        raise ValueError(f"loops: ids {ids} must be unique and not {ALL_CUT!r}")
    indicators = tuple(measures() if indicators is None else indicators)
    years = tuple(int(y) for y in years)
    t0, t1 = engine.constants["initial_time"], engine.constants["final_time"]
    bad = [y for y in years if not t0 <= y <= t1]
    if bad or not years:
        raise ValueError(f"years: {bad or 'none'} not allowed; allowed years from {t0:g} to "
                         f"{t1:g}")
    together: dict[str, tuple[float, str]] = {}
    for lp in loops:
        for c, value in lp.cut:
            if together.setdefault(c, (value, lp.id))[0] != value:
                raise ValueError(f"loops: {lp.id} sets {c}={value:g} but {together[c][1]} sets "
                                 f"{c}={together[c][0]:g}; they cannot be cut together")
    # run 0: every loop intact; run i: loop i cut; last run: every loop cut together
    n = len(loops) + 2
    params: dict[str, object] = dict(base)
    for const in dict.fromkeys(c for lp in loops for c, _ in lp.cut):
        column = np.full(n, float(base.get(const, engine.constants[const])))
        for i, lp in enumerate(loops, start=1):
            for c, value in lp.cut:
                if c == const:
                    column[i] = column[-1] = value
        params[const] = column
    res = engine.run(params, n=n, variables=list(dict.fromkeys(m.variable for m in indicators)))
    missing = [y for y in years if not np.isclose(res.times, y).any()]
    if missing:
        raise ValueError(f"years: {missing} are not saved by the model (SAVEPER); allowed "
                         f"{', '.join(f'{t:g}' for t in res.times)}")
    run_ids = [*ids, ALL_CUT]
    values = {}  # (indicator, year) -> value in every run
    for m in indicators:
        for y in years:
            hit = np.flatnonzero(np.isclose(res.times, y))
            values[m.id, y] = (res[m.variable][hit[0]] if y >= m.defined_from
                               else np.full(n, np.nan))
    rows = [(loop_id, m.id, y, float(v[0]), float(v[j]),
             float(_effect(v[:1], v[j:j + 1], m.growth)[0]), m.effect_unit)
            for j, loop_id in enumerate(run_ids, start=1) for m in indicators for y in years
            for v in [values[m.id, y]]]
    table = pd.DataFrame(rows, columns=["loop", "indicator", "year", "full", "cut", "effect",
                                        "effect_unit"])
    summary = _summary(table, loops, threshold)
    return KnockOut(name, loops, years, table, summary, threshold)


def _summary(table: pd.DataFrame, loops: Sequence[Loop], threshold: float) -> pd.DataFrame:
    info = {lp.id: (lp.type, lp.name_zh, lp.name_en, lp.path_zh, lp.path_en) for lp in loops}
    info[ALL_CUT] = ("", "全部回路同时切断", "all loops cut together", "", "")
    rows = []
    for loop_id in info:
        part = table[table["loop"] == loop_id]
        size = part["effect"].abs()
        if size.notna().any():
            best = part.loc[size.idxmax()]
            largest = (best["indicator"], int(best["year"]), float(best["effect"]),
                       best["effect_unit"])
            driver = bool(abs(largest[2]) >= threshold)
        else:
            largest, driver = ("", 0, math.nan, ""), False
        rows.append((loop_id, *info[loop_id], *largest, driver))
    return pd.DataFrame(rows, columns=["loop", "type", "name_zh", "name_en", "path_zh",
                                       "path_en", "indicator", "year", "effect", "effect_unit",
                                       "driver"])


# --------------------------------------------------------------------------------------------
# Presentation

def _names() -> dict[str, str]:
    try:
        return {i.id: i.name_en for i in tables.indicators()}
    except (OSError, InputError):  # pragma: no cover - the project's table is always there
        return {}


def format_effect(effect: float, unit: str) -> str:
    """``-3.2 %`` / ``+0.4 pp`` (one decimal, a real minus sign), or ``—`` when undefined."""
    if effect is None or not math.isfinite(effect):
        return "—"
    text = f"{effect:+.1f}".replace("-", "−")
    return f"{text} {unit}"


def _largest_text(row, names: Mapping[str, str]) -> str:
    if not row["indicator"]:
        return "— (undefined)"
    return (f"{names.get(row['indicator'], row['indicator'])} "
            f"{format_effect(row['effect'], row['effect_unit'])} ({row['year']})")


def markdown(ko: KnockOut, indicator_names: Mapping[str, str] | None = None) -> str:
    """The README's loop table: one row per loop (and all loops cut together) with its type,
    path, largest effect (indicator, % or pp, year) and whether it is a driver; a closing line
    names the loops that are not drivers."""
    names = dict(_names() if indicator_names is None else indicator_names)
    th = _fmt(ko.threshold)
    years = " and ".join(str(y) for y in ko.years)
    lines = [f"| 回路 loop | 类型 type | 路径 path | 切断后最大影响 largest effect of cutting it "
             f"({years}) | 主导 driver (≥ {th} %) |", "|---|---|---|---|---|"]
    for _, r in ko.summary.iterrows():
        label = (f"{r['name_zh']} {r['name_en']}" if r["loop"] == ALL_CUT
                 else f"{r['loop']} {r['name_zh']} {r['name_en']}")
        kind = r["type"] or "—"
        path = r["path_en"] or "every loop above cut at once"
        driver = "yes" if r["driver"] else "no"
        if r["loop"] == ALL_CUT:
            driver = "—"
        lines.append(f"| {label} | {kind} | {path} | {_largest_text(r, names)} | {driver} |")
    weak = [f"{r['loop']} {r['name_en']}" for _, r in ko.summary.iterrows()
            if r["loop"] != ALL_CUT and not r["driver"]]
    lines.append("")
    lines.append(f"Not drivers (cutting them moves no indicator by {th} % or more by "
                 f"{max(ko.years)}): {', '.join(weak)}." if weak else
                 f"Every loop moves some indicator by {th} % or more by {max(ko.years)}.")
    return "\n".join(lines) + "\n"


def matrix_markdown(ko: KnockOut) -> str:
    """Every effect as a Markdown matrix: one row per loop, one column per indicator, cells
    ``effect 2025 / effect 2035`` (the validation report's table)."""
    inds = list(dict.fromkeys(ko.table["indicator"]))
    head = "| loop | " + " | ".join(inds) + " |"
    lines = [head, "|---|" + "---|" * len(inds)]
    for loop_id in dict.fromkeys(ko.table["loop"]):
        part = ko.table[ko.table["loop"] == loop_id]
        cells = []
        for ind in inds:
            sub = part[part["indicator"] == ind]
            cells.append(" / ".join(format_effect(e, u).replace(" ", "\u00a0")
                                    for e, u in zip(sub["effect"], sub["effect_unit"])))
        lines.append(f"| {loop_id} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary_rows(ko: KnockOut) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the terminal summary table."""
    names = _names()
    header = ["回路 loop", "类型 type", "最大影响 largest effect", "主导 driver", "路径 path"]
    rows = [[f"{r['loop']} {r['name_zh']} {r['name_en']}", r["type"] or "—",
             _largest_text(r, names),
             "—" if r["loop"] == ALL_CUT else ("yes" if r["driver"] else "no"),
             r["path_en"] or "—"] for _, r in ko.summary.iterrows()]
    return header, rows


def detail_rows(ko: KnockOut) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the terminal detail table: one row per loop and indicator, full and
    cut values and the effect in each year."""
    header = ["回路 loop", "指标 indicator"]
    for y in ko.years:
        header += [f"完整 full_{y}", f"切断 cut_{y}", f"影响 effect_{y}"]
    rows = []
    for (loop_id, ind), part in ko.table.groupby(["loop", "indicator"], sort=False):
        row = [loop_id, ind]
        for _, r in part.iterrows():
            row += [f"{r['full']:.4g}", f"{r['cut']:.4g}",
                    format_effect(r["effect"], r["effect_unit"])]
        rows.append(row)
    return header, rows


# --------------------------------------------------------------------------------------------
# The README's block

def readme_block(text: str, source: str = "README.md") -> str:
    """The text between :data:`README_START` and :data:`README_END` (each on a line of its
    own); a ValueError naming ``source`` if the markers are missing or repeated."""
    match = re.search(rf"^{re.escape(README_START)}\n(.*?)^{re.escape(README_END)}$", text,
                      re.S | re.M)
    if match is None or text.count(README_START) != 1 or text.count(README_END) != 1:
        raise ValueError(f"{source}: needs exactly one {README_START} … {README_END} block")
    return match.group(1)


def replace_block(text: str, block: str, source: str = "README.md") -> str:
    """``text`` with its loop block replaced by ``block``."""
    old = readme_block(text, source)
    start = text.index(README_START) + len(README_START) + 1
    return text[:start] + block + text[start + len(old):]


def readme_drivers(text: str, source: str = "README.md") -> dict[str, bool]:
    """The loops the README's block lists, by id, and whether it calls each a driver (the last
    column says ``yes``). The row of all loops cut together is left out."""
    out = {}
    for line in readme_block(text, source).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not cells[0] or cells[0].startswith(("回路", "---")):
            continue
        if cells[-1] == "—":
            continue  # all loops cut together
        out[cells[0].split()[0]] = cells[-1] == "yes"
    return out
