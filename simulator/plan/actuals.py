"""Actuals: observed values of the plan's indicators that a user brings (the statistics bureau's
own numbers), as data.

File format
-----------
A UTF-8 CSV file (standard quoting: a field holding a comma, quote or line break is enclosed in
double quotes, a quote inside doubled), header row first, columns in any order::

    indicator,year,value,kind,source,note
    high_tech_enterprises,2019,44,level,cngy.gov.cn 2020-01-13,目前全市国家高新技术企业达44家
    high_tech_revenue,2022.5,300,level,,a mid-year level (end of June 2022)
    tech_contract_turnover,2023,2,lower_bound,,"突破2亿元"

- ``indicator`` (required): an id of ``models/indicators.csv`` (``tech_smes``,
  ``rd_intensity``...);
- ``year`` (required): 2015 to 2035, a decimal number; mid-year values are allowed (``2022.5``
  is the middle of 2022; ``2022`` is the value *at* 2022, the model's yearly grid);
- ``value`` (required): a plain decimal number in the indicator's unit of
  ``models/indicators.csv`` (``亿元`` for amounts, ``万件`` for trademarks, ``%`` for shares
  written as percent, counts as counts);
- ``kind`` (optional, default ``level``): ``level``, ``lower_bound`` ("突破2亿元": at least 2) or
  ``upper_bound``;
- ``source``, ``note`` (optional): text, one line each.

Validation is strict, like scenario files: every problem is an :class:`ActualsError` whose one
line names the file, the row (spreadsheet numbering: the header is row 1), the field, the value
and what is allowed; a file is accepted whole or not at all. Refused: unknown or missing columns,
unknown indicator ids, non-numbers (also ``inf``, ``nan`` and ``1,000``; ``1e3`` is a number), years
outside 2015–2035, duplicates of (indicator, year, kind), negative values, shares above 100 %,
the average growth ``rd_spending_growth`` before 2021 (it is growth since 2020), and values off
the **plausibility band** of the indicator — the wrong-unit-scale check.

Plausibility band (wrong unit scale)
------------------------------------
A unit mix-up moves a value by a large round factor: a count written in 万 (÷10,000), an amount
in 万元 or 元 instead of 亿元 (×10,000, ×100,000,000), a share written as a fraction instead of
percent (÷100), trademarks as a count instead of 万件 (×10,000). Each indicator with a known level
around 2020 (its ``value_2020`` in ``models/indicators.csv``, else the model's initial value in
:data:`REFERENCE_2020`) gets a band ``[reference / F, reference × F]``:

- ``F = 9`` for shares in percent (rd_intensity, high_tech_share, science_literacy), capped at
  100 %: the mix-up is ×100, and a band 81 wide in ratio guarantees that a value moved by ×100
  from *any* value inside the band lands outside it; 2015–2035 values stay within ×9 of 2020
  (R&D intensity 0.67 % in 2020, goal 2.5 % in 2035);
- ``F = 50`` for amounts, counts and the trademark stock: the mix-ups are ×10,000 or more, the
  band is 2,500 wide in ratio, so any such error leaves it, and it still allows the plan's
  steepest paths (the "four doublings", tech SMEs ×5 in five years) to go on to 2035.

``innovation_index`` (points 0–100) has no published 2020 level: its band is 1 to 100 (a value
below 1 is the score written as a fraction). ``rd_spending_growth`` is a rate that can be near
zero, so no scale check is possible: it is only checked against −100 to 1,000 %/yr.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from simulator.base.inputs import (
    InputError,
    check_text,
    csv_reader,
    excerpt,
    read_text,
    source_label,
)
from simulator.plan import tables

#: Years an actual may fall in (the data the project knows start in 2015; the outlook ends 2035).
FIRST_YEAR, LAST_YEAR = 2015, 2035
#: Kinds of observation.
KINDS = ("level", "lower_bound", "upper_bound")
#: Columns: required, then optional.
REQUIRED_COLUMNS = ("indicator", "year", "value")
OPTIONAL_COLUMNS = ("kind", "source", "note")
#: Most rows in one file (a file of actuals holds a few hundred at most).
MAX_ROWS = 10_000
#: Longest ``source`` or ``note`` text, in characters.
MAX_TEXT_CHARS = 1_000
#: 2020 reference levels of indicators without a ``value_2020`` in models/indicators.csv: the
#: model's initial values (``conversion output 2020``, ``valid invention patents 2020`` in the
#: .mdl).
REFERENCE_2020 = {"conversion_output": 200.0, "valid_invention_patents": 360.0}
#: Band factor for shares in percent and for everything else (see the module docstring).
SHARE_FACTOR, LEVEL_FACTOR = 9.0, 50.0
#: Fixed bands of the indicators without a reference level.
FIXED_BANDS = {"innovation_index": (1.0, 100.0), "rd_spending_growth": (-100.0, 1000.0)}
#: Units of shares in percent (bounded above by 100).
_SHARE_UNITS = frozenset({"%"})

_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


class ActualsError(InputError):
    """A file of actuals refused; the message is one line naming file, row, field, value and
    what is allowed."""


@dataclass(frozen=True)
class Actual:
    """One observation: ``value`` of ``indicator`` at ``year`` (in the indicator's unit)."""

    indicator: str
    year: float
    value: float
    kind: str = "level"
    source: str = ""
    note: str = ""

    def satisfied_by(self, value: float) -> bool:
        """Whether ``value`` meets a bound (for a level: equals it)."""
        if self.kind == "lower_bound":
            return value >= self.value
        if self.kind == "upper_bound":
            return value <= self.value
        return value == self.value


@dataclass(frozen=True)
class Actuals:
    """A validated set of actuals (rows in file order)."""

    rows: tuple[Actual, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def latest(self, indicator: str, up_to: float | None = None) -> Actual | None:
        """The latest *level* of ``indicator`` (at or before ``up_to`` if given), or None.
        Bounds are not levels and are skipped."""
        found = [a for a in self.rows if a.indicator == indicator and a.kind == "level"
                 and (up_to is None or a.year <= up_to)]
        return max(found, key=lambda a: a.year) if found else None

    def up_to(self, year: float) -> "Actuals":
        """The rows with ``year <= year``."""
        return Actuals(tuple(a for a in self.rows if a.year <= year), self.source)

    def after(self, year: float) -> "Actuals":
        """The rows with ``year > year``."""
        return Actuals(tuple(a for a in self.rows if a.year > year), self.source)

    def indicators(self) -> tuple[str, ...]:
        """The indicator ids present, in order of first appearance."""
        return tuple(dict.fromkeys(a.indicator for a in self.rows))

    def to_frame(self):
        """The rows as a DataFrame (columns indicator, year, value, kind, source, note)."""
        import pandas as pd
        return pd.DataFrame([a.__dict__ for a in self.rows],
                            columns=["indicator", "year", "value", "kind", "source", "note"])


def band(indicator_id: str) -> tuple[float, float]:
    """The plausibility band ``(low, high)`` of values of ``indicator_id`` (module docstring)."""
    if indicator_id in FIXED_BANDS:
        return FIXED_BANDS[indicator_id]
    ind = tables.indicator(indicator_id)
    reference = ind.value_2020 if ind.value_2020 is not None else REFERENCE_2020[indicator_id]
    factor = SHARE_FACTOR if ind.unit in _SHARE_UNITS else LEVEL_FACTOR
    low, high = reference / factor, reference * factor
    if ind.unit in _SHARE_UNITS:
        high = min(high, 100.0)
    return low, high


def _scale_hint(value: float, low: float, high: float, share: bool) -> str:
    """A hint at the unit mix-up that would explain ``value`` off its band, or ""."""
    if value <= 0:
        return ""
    mix_ups = (((1e2, "a share written as a fraction, or a fraction as percent?"),) if share else
               ((1e8, "元 instead of 亿元?"), (1e4, "万 mixed up?")))
    for factor, what in mix_ups:
        for ratio, word in ((factor, "large"), (1 / factor, "small")):
            if low <= value / ratio <= high:
                return f"; looks {factor:,.0f} times too {word} ({what})"
    return ""


def _number(text: str, where: str, fieldname: str, allowed: str) -> float:
    raw = text.strip()
    if not _NUMBER.fullmatch(raw):
        raise ActualsError(f"{where}: field '{fieldname}': value {excerpt(text)} is not a "
                           f"number; allowed {allowed}")
    value = float(raw)
    if not math.isfinite(value):
        raise ActualsError(f"{where}: field '{fieldname}': value {excerpt(text)} is not a finite "
                           f"number; allowed {allowed}")
    return value


def loads(text: str | bytes, source: str = "<actuals>") -> Actuals:
    """Parse and validate the CSV ``text`` of a file of actuals (format: the module docstring).

    Parameters
    ----------
    text : str or bytes
        The CSV text, UTF-8 when bytes.
    source : str, default "<actuals>"
        Names the text in error messages and in the result.

    Returns
    -------
    Actuals
        Every row, validated; values in the units of ``models/indicators.csv``, years as
        decimal years.

    Raises
    ------
    ActualsError
        One line naming ``source``, the row, the field, the value and what is allowed; the
        file is accepted whole or not at all.
    """
    name = source_label(source)
    reader = csv_reader(text, name, f"a header row {','.join(REQUIRED_COLUMNS)} and at least one "
                        "row", error=ActualsError)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ActualsError(f"{name}: row 1: not valid CSV ({exc})") from None
    header = [h.strip() for h in header]
    allowed_columns = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for position, column in enumerate(header, start=1):
        if column not in allowed_columns:
            raise ActualsError(f"{name}: row 1: column {position} {excerpt(column)} is not known; "
                               f"allowed columns {', '.join(allowed_columns)}")
    for column in set(header):
        if header.count(column) > 1:
            raise ActualsError(f"{name}: row 1: column {excerpt(column)} appears "
                               f"{header.count(column)} times; each column at most once")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ActualsError(f"{name}: row 1: missing column(s) {', '.join(missing)}; required "
                           f"{', '.join(REQUIRED_COLUMNS)} (optional {', '.join(OPTIONAL_COLUMNS)})")
    known = {ind.id: ind for ind in tables.indicators()}
    rows: list[Actual] = []
    seen: dict[tuple[str, float, str], int] = {}
    row_number = 1
    try:
        for cells in reader:
            row_number += 1
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(rows) >= MAX_ROWS:
                raise ActualsError(f"{name}: row {row_number}: more than {MAX_ROWS:,} rows; at "
                                   f"most {MAX_ROWS:,} allowed")
            where = f"{name}: row {row_number}"
            if len(cells) != len(header):
                raise ActualsError(f"{where}: has {len(cells)} fields; the header has "
                                   f"{len(header)} ({','.join(header)})")
            record = dict(zip(header, cells))
            for column, value in record.items():
                check_text(value, where, column, max_chars=MAX_TEXT_CHARS, error=ActualsError)
            rows.append(_row(record, where, known))
            key = (rows[-1].indicator, rows[-1].year, rows[-1].kind)
            if key in seen:
                raise ActualsError(
                    f"{where}: field 'year': value {excerpt(record['year'])} repeats "
                    f"{key[0]} {key[2]} of row {seen[key]}; allowed one value per indicator, "
                    "year and kind")
            seen[key] = row_number
    except csv.Error as exc:
        raise ActualsError(f"{name}: row {row_number}: not valid CSV ({exc})") from None
    if not rows:
        raise ActualsError(f"{name}: no rows after the header; expected at least one "
                           "observation")
    return Actuals(tuple(rows), name)


def _row(record: dict[str, str], where: str, known: dict) -> Actual:
    """One validated row."""
    indicator_id = record["indicator"].strip()
    if indicator_id not in known:
        raise ActualsError(f"{where}: field 'indicator': value {excerpt(record['indicator'])} "
                           f"is not an indicator id; allowed {', '.join(known)}")
    ind = known[indicator_id]
    year = _number(record["year"], where, "year",
                   f"a year from {FIRST_YEAR} to {LAST_YEAR} (mid-year allowed, e.g. 2022.5)")
    first = FIRST_YEAR
    if indicator_id == "rd_spending_growth":
        first = 2021  # average growth since 2020: undefined before 2021
    if not first <= year <= LAST_YEAR:
        why = " (average growth since 2020)" if first != FIRST_YEAR else ""
        raise ActualsError(f"{where}: field 'year': value {excerpt(record['year'])} is outside "
                           f"the years allowed for {indicator_id}{why}; allowed {first} to "
                           f"{LAST_YEAR}")
    kind = record.get("kind", "").strip() or "level"
    if kind not in KINDS:
        raise ActualsError(f"{where}: field 'kind': value {excerpt(record['kind'])} is not "
                           f"known; allowed {', '.join(KINDS)} (empty means level)")
    unit = f"{ind.unit_zh} ({ind.unit_en})"
    low, high = band(indicator_id)
    allowed = f"{low:g} to {high:g} {unit}"
    value = _number(record["value"], where, "value", f"a number in {unit}, {allowed}")
    if not low <= value <= high:
        hint = _scale_hint(value, low, high, ind.unit in _SHARE_UNITS)
        raise ActualsError(f"{where}: field 'value': value {excerpt(record['value'])} is "
                           f"outside the plausible band of {indicator_id}{hint}; allowed "
                           f"{allowed}")
    return Actual(indicator=indicator_id, year=year, value=value, kind=kind,
                  source=record.get("source", "").strip(), note=record.get("note", "").strip())


def load(path: str | Path) -> Actuals:
    """Read and validate the file of actuals at ``path``; see :func:`loads`.

    Parameters
    ----------
    path : str or Path
        A CSV file (format: the module docstring), read through the bounded reader
        (:func:`simulator.base.inputs.read_text`).

    Returns
    -------
    Actuals

    Raises
    ------
    ActualsError
        For a file that cannot be read within bounds, or any invalid row (as :func:`loads`).

    Examples
    --------
    >>> from simulator import actuals
    >>> observed = actuals.load("data/examples/actuals_2015_2020.csv")   # doctest: +SKIP
    """
    return loads(read_text(path, what="CSV file of actuals", error=ActualsError), str(path))


__all__ = ["Actual", "Actuals", "ActualsError", "load", "loads", "band", "KINDS",
           "FIRST_YEAR", "LAST_YEAR"]
