"""The model's metadata tables: levers, scenario assumptions, indicators and targets, and the
names of the model's variables and units in each language.

The tables live as CSV files in ``models/`` beside the Vensim model; they are the one place
where labels, units, ranges and plan clauses are written down. Everything that shows a lever,
an indicator or a target (command line, app, notebooks) reads them through this module.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from simulator.base.inputs import read_text
from simulator.sd.translate import python_name

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
MODEL_FILE = MODELS_DIR / "guangyuan_innovation.mdl"

#: The three plan periods a lever can be set for, as written in scenario files.
PERIODS: tuple[str, ...] = ("2021-2025", "2026-2030", "2031-2035")
#: Suffixes of the per-period Vensim constants, in the order of ``PERIODS``.
PERIOD_SUFFIXES: tuple[str, ...] = ("2021 2025", "2026 2030", "2031 2035")

COMPARISONS = (">=", ">", "<=", "<")
TARGET_KINDS = ("level", "cagr")
#: The languages a variable or unit is named in (``models/variable_names.csv``).
NAME_LANGS = ("zh", "en")


@dataclass(frozen=True)
class Lever:
    """A policy lever, settable separately for each plan period.

    Attributes are read from ``models/levers.csv``. ``default`` is the 2020 level, which is
    also the value of every period in a scenario that does not set the lever.
    """

    id: str
    vensim_name: str
    name_zh: str
    name_en: str
    unit: str
    unit_zh: str
    unit_en: str
    default: float
    min: float
    max: float
    step: float
    action_zh: str
    action_en: str
    plan_section: str
    plan_clause: str
    effect: str
    effect_zh: str
    default_source: str

    def period_param(self, period: str) -> str:
        """The PySD parameter name of this lever in ``period`` (one of ``PERIODS``)."""
        suffix = PERIOD_SUFFIXES[PERIODS.index(period)]
        return python_name(f"{self.vensim_name} {suffix}")

    @property
    def effective_variable(self) -> str:
        """The PySD name of the lever's value in effect (after the implementation delay)."""
        return python_name(self.vensim_name)

    def on_grid_above(self, value: float) -> float:
        """``value`` rounded up to the lever's grid (``min + k * step``, the app's slider
        positions), kept within ``[min, max]`` and without float noise (9 decimals): a
        setting a slider can show exactly."""
        k = math.ceil((value - self.min) / self.step - 1e-6)
        return float(round(min(max(self.min + k * self.step, self.min), self.max), 9))


@dataclass(frozen=True)
class Assumption:
    """A scenario assumption (external condition, not a policy lever), one value per scenario."""

    id: str
    vensim_name: str
    name_zh: str
    name_en: str
    unit: str
    unit_zh: str
    unit_en: str
    default: float
    min: float
    max: float
    step: float
    source: str

    @property
    def param(self) -> str:
        return python_name(self.vensim_name)


@dataclass(frozen=True)
class Indicator:
    """A plan indicator produced by the model, under its stable id."""

    id: str
    vensim_name: str
    name_zh: str
    name_en: str
    unit: str
    unit_zh: str
    unit_en: str
    value_2020: float | None
    defined_from: int
    decimals: int
    plan_clause: str
    definition: str

    @property
    def variable(self) -> str:
        return python_name(self.vensim_name)


@dataclass(frozen=True)
class Target:
    """One goal of the plan: ``indicator`` compared with ``target`` in ``year``.

    ``kind`` is ``"level"`` (the indicator's value) or ``"cagr"`` (its average annual growth
    from 2020 to ``year``, in % per year).
    """

    indicator: str
    year: int
    comparison: str
    target: float
    kind: str
    unit: str
    unit_en: str
    name_zh: str
    name_en: str
    doubling: bool
    plan_clause: str
    plan_wording: str

    @property
    def key(self) -> str:
        """A unique name of the target: ``tech_contract_turnover@2025``, ``…:cagr@2025``."""
        kind = "" if self.kind == "level" else f":{self.kind}"
        return f"{self.indicator}{kind}@{self.year}"


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV table of the project, read through the input layer's bounded reader.

    Parameters
    ----------
    path : str or Path
        A regular file of at most :data:`simulator.base.inputs.MAX_FILE_BYTES`, UTF-8, with a
        header row.

    Returns
    -------
    list of dict of str to str
        One mapping per row, header → cell text (nothing converted).

    Raises
    ------
    simulator.base.inputs.InputError
        When the file is missing, too large, not a regular file or not UTF-8.
    """
    return list(csv.DictReader(io.StringIO(read_text(path, what="CSV table"), newline="")))


def _rows(name: str) -> list[dict[str, str]]:
    return read_csv(MODELS_DIR / name)


def _float_or_none(text: str) -> float | None:
    return float(text) if text.strip() else None


@lru_cache(maxsize=None)
def levers() -> tuple[Lever, ...]:
    """All policy levers, in table order.

    Returns
    -------
    tuple of Lever
        The rows of ``models/levers.csv`` (read once per process): id, Vensim name, labels,
        unit, default, range and slider step, plan clause.
    """
    return tuple(
        Lever(
            id=r["id"], vensim_name=r["vensim_name"], name_zh=r["name_zh"], name_en=r["name_en"],
            unit=r["unit"], unit_zh=r["unit_zh"], unit_en=r["unit_en"],
            default=float(r["default"]), min=float(r["min"]), max=float(r["max"]),
            step=float(r["step"]), action_zh=r["action_zh"], action_en=r["action_en"],
            plan_section=r["plan_section"], plan_clause=r["plan_clause"], effect=r["effect"],
            effect_zh=r["effect_zh"], default_source=r["default_source"],
        )
        for r in _rows("levers.csv")
    )


@lru_cache(maxsize=None)
def assumptions() -> tuple[Assumption, ...]:
    """All scenario assumptions, in table order.

    Returns
    -------
    tuple of Assumption
        The rows of ``models/assumptions.csv`` (read once per process): id, Vensim name,
        labels, unit, default, range and step, source.
    """
    return tuple(
        Assumption(
            id=r["id"], vensim_name=r["vensim_name"], name_zh=r["name_zh"], name_en=r["name_en"],
            unit=r["unit"], unit_zh=r["unit_zh"], unit_en=r["unit_en"],
            default=float(r["default"]), min=float(r["min"]), max=float(r["max"]),
            step=float(r["step"]), source=r["source"],
        )
        for r in _rows("assumptions.csv")
    )


@lru_cache(maxsize=None)
def indicators() -> tuple[Indicator, ...]:
    """All indicators, in table order (Table 1 first).

    Returns
    -------
    tuple of Indicator
        The rows of ``models/indicators.csv`` (read once per process): id, Vensim name,
        labels, unit, 2020 value, first year defined, decimals, plan clause.
    """
    return tuple(
        Indicator(
            id=r["id"], vensim_name=r["vensim_name"], name_zh=r["name_zh"], name_en=r["name_en"],
            unit=r["unit"], unit_zh=r["unit_zh"], unit_en=r["unit_en"],
            value_2020=_float_or_none(r["value_2020"]), defined_from=int(r["defined_from"]),
            decimals=int(r["decimals"]), plan_clause=r["plan_clause"], definition=r["definition"],
        )
        for r in _rows("indicators.csv")
    )


@lru_cache(maxsize=None)
def targets() -> tuple[Target, ...]:
    """All targets of the plan (Table 1 for 2025, the 2035 goals and quantified text goals).

    Returns
    -------
    tuple of Target
        The rows of ``models/targets.csv`` (read once per process).

    Raises
    ------
    ValueError
        For a row whose comparison is not one of :data:`COMPARISONS` or whose kind is not one
        of :data:`TARGET_KINDS`.
    """
    out = []
    for r in _rows("targets.csv"):
        if r["comparison"] not in COMPARISONS or r["kind"] not in TARGET_KINDS:
            raise ValueError(f"models/targets.csv: bad comparison or kind in row {r}")
        out.append(Target(
            indicator=r["indicator"], year=int(r["year"]), comparison=r["comparison"],
            target=float(r["target"]), kind=r["kind"], unit=r["unit"], unit_en=r["unit_en"],
            name_zh=r["name_zh"],
            name_en=r["name_en"], doubling=r["doubling"].strip().lower() == "true",
            plan_clause=r["plan_clause"], plan_wording=r["plan_wording"],
        ))
    return tuple(out)


def lever(lever_id: str) -> Lever:
    """The lever with id ``lever_id``.

    Parameters
    ----------
    lever_id : str
        An id of ``models/levers.csv``.

    Returns
    -------
    Lever

    Raises
    ------
    KeyError
        Naming the known ids, if there is no such lever.
    """
    for item in levers():
        if item.id == lever_id:
            return item
    raise KeyError(f"unknown lever {lever_id!r}; known: {', '.join(x.id for x in levers())}")


def indicator(indicator_id: str) -> Indicator:
    """The indicator with id ``indicator_id``.

    Parameters
    ----------
    indicator_id : str
        An id of ``models/indicators.csv``.

    Returns
    -------
    Indicator

    Raises
    ------
    KeyError
        Naming the known ids, if there is no such indicator.
    """
    for item in indicators():
        if item.id == indicator_id:
            return item
    raise KeyError(f"unknown indicator {indicator_id!r}; known: {', '.join(x.id for x in indicators())}")




def _names_table(file_name: str, key: str, columns: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The rows of a names table by ``key``, every cell of ``columns`` filled, no key twice."""
    rows = _rows(file_name)
    if not rows:
        raise ValueError(f"models/{file_name}: no rows; expected a header and one row a name")
    missing = [c for c in (key,) + columns if c not in rows[0]]
    if missing:
        raise ValueError(f"models/{file_name}: expected the columns {key}, "
                         f"{', '.join(columns)}; missing {', '.join(missing)}")
    out: dict[str, dict[str, str]] = {}
    for line, r in enumerate(rows, start=2):
        empty = [c for c in (key,) + columns if not (r.get(c) or "").strip()]
        if empty:
            raise ValueError(f"models/{file_name}, line {line}: empty {', '.join(empty)}")
        if r[key] in out:
            raise ValueError(f"models/{file_name}, line {line}: {key} {r[key]!r} named twice")
        out[r[key]] = r
    return out


@lru_cache(maxsize=None)
def variable_names() -> dict[str, tuple[str, str]]:
    """The Chinese and English name of every model variable, by PySD Python name.

    Returns
    -------
    dict of str to (str, str)
        ``(name_zh, name_en)`` of each row of ``models/variable_names.csv`` (read once per
        process), keyed by the Python name of its ``variable`` (the Vensim name).

    Raises
    ------
    ValueError
        For a table without its columns, with an empty cell or a variable named twice.
    """
    rows = _names_table("variable_names.csv", "variable", ("name_zh", "name_en"))
    out: dict[str, tuple[str, str]] = {}
    for vensim, r in rows.items():
        py = python_name(vensim)
        if py in out:
            raise ValueError(f"models/variable_names.csv: variable {vensim!r} named twice "
                             f"(as another spelling of {py!r})")
        out[py] = (r["name_zh"].strip(), r["name_en"].strip())
    return out


def _lang_index(lang: str) -> int:
    if lang not in NAME_LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(NAME_LANGS)}")
    return NAME_LANGS.index(lang)


def variable_name(vensim_name: str, lang: str) -> str:
    """A model variable's name in ``lang`` (``models/variable_names.csv``).

    Parameters
    ----------
    vensim_name : str
        The variable's name as the ``.mdl`` writes it (any spelling with the same Python name).
    lang : str
        One of :data:`NAME_LANGS`.

    Raises
    ------
    KeyError
        Naming the variable, if the table does not name it.
    ValueError
        For an unknown language.
    """
    index = _lang_index(lang)
    names = variable_names().get(python_name(vensim_name))
    if names is None:
        raise KeyError(f"models/variable_names.csv does not name the variable {vensim_name!r}")
    return names[index]


@lru_cache(maxsize=None)
def unit_names() -> dict[str, str]:
    """The Chinese name of every unit atom the model's units are written with, by atom.

    Returns
    -------
    dict of str to str
        ``atom → name_zh`` from ``models/unit_names.csv`` (read once per process), such as
        ``CNY100m → 亿元``, ``Year → 年``.
    """
    return {atom: r["name_zh"].strip()
            for atom, r in _names_table("unit_names.csv", "atom", ("name_zh",)).items()}



@lru_cache(maxsize=None)
def sector_names() -> dict[str, str]:
    """The Chinese name of each sector of the model (a ``.mdl`` group), by group.

    Returns
    -------
    dict of str to str
        ``group → name_zh`` from ``models/sector_names.csv`` (read once per process).
    """
    return {group: r["name_zh"].strip()
            for group, r in _names_table("sector_names.csv", "group", ("name_zh",)).items()}

_UNIT_SEPARATORS = re.compile(r"([/()])")


def unit_label(unit: str, lang: str) -> str:
    """A Vensim unit string as the page in ``lang`` shows it.

    English shows the unit as the model writes it; Chinese names each atom by
    :func:`unit_names` and keeps ``/`` and parentheses: ``CNY100m/Year/(10k persons)`` →
    ``亿元/年/(万人)``.

    Raises
    ------
    ValueError
        Naming the unit and the atom, if an atom has no Chinese name (a unit of the model
        written with an atom the table does not know), or for an unknown language.
    """
    _lang_index(lang)
    if lang == "en":
        return unit
    names = unit_names()
    out = []
    for part in _UNIT_SEPARATORS.split(unit):
        atom = part.strip()
        if atom in ("/", "(", ")", ""):
            out.append(atom)
        elif atom in names:
            out.append(names[atom])
        else:
            raise ValueError(f"unit {unit!r}: no Chinese name for {atom!r} in "
                             f"models/unit_names.csv (known: {', '.join(names)})")
    return "".join(out)
