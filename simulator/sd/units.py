"""Dimensional consistency of every equation of a Vensim model.

PySD keeps a variable's units only as the text of its units field. This module parses those
texts into `pint <https://pint.readthedocs.io>`_ units, infers the units of every equation's
right-hand side from its abstract syntax (PySD's public translator: ``VensimFile(...).parse()``
→ ``get_abstract_model()``, as :mod:`simulator.sd.engine` reads the model) and the declared units
of the variables it refers to, and reports each place where they do not agree::

    python -m simulator.sd.units model.mdl      # list the problems; exit status 1 if any

    from simulator.sd import units
    units.check("model.mdl")          # -> list[UnitProblem], empty when the model is consistent
    units.checked_count("model.mdl")  # -> number of equations checked (every element)
    units.run("model.mdl")            # -> UnitReport(problems, checked, unit_names)

Units
-----
Each name in a units field is a unit. Names with a known relation are defined from
:data:`KNOWN_UNITS` (``Dmnl``, ``%``, the time units, ``CNY10k`` and ``CNY100m`` from ``CNY``,
``10k persons`` from ``persons``, ``TM10k`` from ``trademarks``); every other name (``firms``,
``patents``, ``platforms``, ``projects``, ``incubators``, ``widgets`` …) becomes a base unit of its
own, as in Vensim. Names are matched ignoring case, runs of spaces and a plural ``s``
(``firm`` = ``firms``, ``Years`` = ``Year``). A units field is a product of names and numbers
with ``*``, ``/``, ``^`` and parentheses (``CNY100m/Year/(10k persons)``, ``1/Year``).

The model's time unit is the declared unit of TIME STEP; ``Time`` has it, and INITIAL TIME,
FINAL TIME, TIME STEP and SAVEPER must all be declared in it.

``%`` and ``Dmnl``
------------------
Both are dimensionless, but they are *not* the same unit: ``%`` is ``0.01`` (pint's
``percent``), ``Dmnl`` is ``1``. A share stored as ``18.3 %`` has the value 18.3; a fraction
stored as ``Dmnl`` has the value 0.183. The checker therefore tracks the scale of units as well
as their dimension, and a ``%`` used where a fraction is meant (``GDP * growth`` with growth in
``%/Year`` declared ``CNY100m/Year/Year``) is reported as a scale mismatch of 0.01.

Numbers written in equations
----------------------------
Vensim's convention: a bare number is dimensionless.

* In ``+``, ``-``, MIN, MAX, comparisons, IF THEN ELSE branches and other places where operands
  must have the same units, a number takes the units of the other operands (``MAX(0, x)``,
  ``1 - share`` are fine). An expression made only of numbers is folded to one number.
* In a product or quotient a number is dimensionless, but it may be a **unit-conversion
  factor**: a factor ``k`` in a product may account for a scale difference of exactly ``k`` between
  the units of the product and the units expected (declared, or those of the other terms of a
  sum). So in ``GDP * nominal gdp growth / 100`` the literal ``100`` is the constant
  ``100 % = 1``: ``CNY100m/Year * %/Year / 100`` is ``CNY100m/Year/Year``. Likewise
  ``rd spending / GDP * 100`` declared ``%`` (``100`` is ``1 = 100 %``) and
  ``GDP / Population * 10000`` declared ``CNY/person/Year`` (``CNY100m/(10k persons)`` is
  ``10,000 CNY/person``). A number may also be a plain number (``(a + b) / 2``). Only the exact
  factor is accepted, so a forgotten or doubled ``/ 100`` is still reported. The number never
  carries a dimension: ``2 * x`` cannot turn ``Dmnl`` into ``firms``.

Rules
-----
* ``+``, ``-``, MIN, MAX, ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, IF THEN ELSE branches,
  MODULO, XIDZ's fallback: operands must have the same units (dimension and scale).
* ``*``, ``/``, ZIDZ, XIDZ combine units; ABS and INTEGER keep them; SQRT halves them.
* ``a ^ b`` and POWER(a, b): ``b`` must be dimensionless; unless ``b`` is an integer number, ``a``
  must be dimensionless too, with scale 1 (``%`` to a power is reported).
* EXP, LN, LOG, SIN, COS, TAN: dimensionless arguments of scale 1; the result is ``Dmnl``.
* INTEG(flow, init): ``flow`` in stock units per time unit, ``init`` in stock units.
* SMOOTH*/DELAY* (also DELAY FIXED, FORECAST): the time arguments in the time unit, the
  initial value and the result in the input's units; an order must be dimensionless. TREND:
  the averaging time in the time unit, the initial trend and the result per time unit.
* INITIAL, ACTIVE INITIAL, SAMPLE IF TRUE keep the units of their value.
* STEP(height, time), RAMP(slope, start[, end]), PULSE(start, width), PULSE TRAIN: times in the
  time unit; STEP has the height's units, RAMP slope × time, PULSE ``Dmnl``.
* Lookups: a call ``f(x)`` has the declared units of the lookup ``f``; the argument's units are
  not checked (Vensim declares only one units field per lookup). WITH LOOKUP has the units of
  its variable.
* The value of an IF THEN ELSE condition and of the operands of ``:AND:``/``:OR:``/``:NOT:``
  may have any units (any number is a truth value in Vensim), but comparisons inside them are
  checked; a comparison is ``Dmnl``.

Anything else — data, external (GET XLS …) objects, subscripts, macros, ALLOCATE, unknown
functions, elements without a units field — is reported as a :class:`UnitProblem`, never
silently passed. After a problem in a sub-expression the rest of that equation is not judged,
so one mistake gives one problem.
"""
from __future__ import annotations

import math
import re
import sys
import warnings
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

from simulator.sd.translate import python_name

#: Units with a known relation, by normalised name (lower case, single spaces, plural ``s``
#: dropped): a pint base dimension ``"[name]"``, or ``(factor, other name or None)`` meaning
#: ``factor × other`` (``None``: a dimensionless number). Every other name is a base unit.
KNOWN_UNITS: dict[str, Any] = {
    "dmnl": (1.0, None),
    "dimensionless": (1.0, None),
    "fraction": (1.0, None),
    "%": (0.01, None),
    "percent": (0.01, None),
    "year": "[time]",
    "quarter": (0.25, "year"),
    "month": (1 / 12, "year"),
    "day": (1 / 365, "year"),
    "week": (7.0, "day"),
    "hour": (1 / 24, "day"),
    "minute": (1 / 60, "hour"),
    "second": (1 / 60, "minute"),
    "cny": "[currency]",
    "yuan": (1.0, "cny"),
    "cny10k": (1e4, "cny"),
    "cny100m": (1e8, "cny"),
    "person": "[person]",
    "10k person": (1e4, "person"),
    "trademark": "[trademark]",
    "tm10k": (1e4, "trademark"),
}

_RTOL = 1e-9
_CONTROL_NAMES = ("initial_time", "final_time", "time_step", "saveper")
_SAME_UNIT_FUNCTIONS = {"min", "max"}
_DMNL_FUNCTIONS = {"exp", "ln", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "log"}


# --------------------------------------------------------------------------------------------
# Public API

@dataclass(frozen=True)
class UnitProblem:
    """One dimensional inconsistency (or unsupported construct) in one equation."""

    variable: str      #: Vensim name of the variable whose equation has the problem
    equation: str      #: the equation as written (``name = expression``)
    expression: str    #: the offending sub-expression (the whole right-hand side if it is that)
    declared: str      #: the variable's declared units (units field)
    inferred: str      #: units inferred for ``expression`` ("" when not applicable)
    message: str       #: one-line description

    def __str__(self) -> str:
        detail = f" — in `{self.expression}`" if self.expression else ""
        inferred = f"; inferred {self.inferred}" if self.inferred else ""
        return f"{self.variable} [{self.declared}]: {self.message}{detail}{inferred}"


@dataclass
class UnitReport:
    """The result of :func:`run`."""

    problems: list[UnitProblem]
    checked: int                     #: number of equations checked
    unit_names: list[str] = field(default_factory=list)  #: distinct unit names of the model


def run(mdl_file: str | Path) -> UnitReport:
    """Check every equation of ``mdl_file``; problems, number of equations, unit names."""
    return _Checker(Path(mdl_file)).run()


def check(mdl_file: str | Path) -> list[UnitProblem]:
    """Every dimensional problem of the model's equations (empty when consistent)."""
    return run(mdl_file).problems


def checked_count(mdl_file: str | Path) -> int:
    """How many equations :func:`check` examines (one per model element)."""
    return run(mdl_file).checked


# --------------------------------------------------------------------------------------------
# Units fields → pint

class _UnitsSyntaxError(ValueError):
    pass


def _normalise(name: str) -> str:
    key = " ".join(name.lower().split())
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        key = key[:-1]
    return key


def _tokens(text: str) -> list[str]:
    return [t.strip() for t in re.split(r"([*/^()])", text) if t.strip()]


def _names_in(text: str) -> list[str]:
    return [t for t in _tokens(text) if t not in "*/^()" and not _is_number(t)]


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class _Units:
    """A pint registry holding the units of one model."""

    def __init__(self, names: list[str]):
        import pint
        self.ureg = pint.UnitRegistry(None, on_redefinition="raise", cache_folder=None)
        self.ident: dict[str, str] = {}    # normalised name -> pint identifier
        self.display: dict[str, str] = {}  # pint identifier -> name as first written
        for name in names:
            self._define(_normalise(name), name)
        self.dmnl = self.ureg.Quantity(1.0, "dimensionless")

    def _define(self, key: str, shown: str | None = None) -> str:
        if key in self.ident:
            if shown is not None and self.display[self.ident[key]] == key:
                self.display[self.ident[key]] = shown   # first defined as another's base
            return self.ident[key]
        ident = "u_" + re.sub(r"\W", "_", key).strip("_") + f"_{len(self.ident)}"
        spec = KNOWN_UNITS.get(key, f"[{ident}]")
        if isinstance(spec, tuple):
            factor, other = spec
            definition = repr(factor) if other is None else f"{factor!r} * {self._define(other)}"
        else:
            definition = spec
        self.ureg.define(f"{ident} = {definition}")
        self.ident[key] = ident
        self.display[ident] = shown if shown is not None else key
        return ident

    def parse(self, text: str):
        """The units text of a units field as a pint Quantity of magnitude 1 (with scale)."""
        toks = _tokens(text)
        if not toks:
            raise _UnitsSyntaxError("no units declared")
        pos = 0

        def expr():
            nonlocal pos
            value = term()
            while pos < len(toks) and toks[pos] in "*/":
                op = toks[pos]
                pos += 1
                rhs = term()
                value = value * rhs if op == "*" else value / rhs
            return value

        def term():
            nonlocal pos
            value = atom()
            while pos < len(toks) and toks[pos] == "^":
                pos += 1
                if pos < len(toks) and toks[pos] == "(":
                    pos += 1
                    exp = toks[pos] if pos < len(toks) else ""
                    pos += 1
                    if pos >= len(toks) or toks[pos] != ")":
                        raise _UnitsSyntaxError(f"bad exponent in {text!r}")
                    pos += 1
                else:
                    exp = toks[pos] if pos < len(toks) else ""
                    pos += 1
                if not _is_number(exp):
                    raise _UnitsSyntaxError(f"bad exponent {exp!r} in {text!r}")
                value = value ** float(exp)
            return value

        def atom():
            nonlocal pos
            if pos >= len(toks):
                raise _UnitsSyntaxError(f"incomplete units {text!r}")
            tok = toks[pos]
            pos += 1
            if tok == "(":
                value = expr()
                if pos >= len(toks) or toks[pos] != ")":
                    raise _UnitsSyntaxError(f"unbalanced parentheses in {text!r}")
                pos += 1
                return value
            if tok in "*/^)":
                raise _UnitsSyntaxError(f"unexpected {tok!r} in {text!r}")
            if _is_number(tok):
                if float(tok) != 1.0:
                    raise _UnitsSyntaxError(f"a number other than 1 in units {text!r}")
                return self.dmnl
            key = _normalise(tok)
            if KNOWN_UNITS.get(key) == (1.0, None):   # Dmnl and its synonyms: a plain 1
                return self.dmnl
            return self.ureg.Quantity(1.0, self.ident[key])

        value = expr()
        if pos != len(toks):
            raise _UnitsSyntaxError(f"cannot parse units {text!r}")
        return value

    def text(self, q) -> str:
        """A unit (Quantity) in the model's own notation, e.g. ``CNY100m*%/Year^2``."""
        num, den = [], []
        for ident, exp in q.unit_items():
            name = self.display.get(ident, ident)
            name = f"({name})" if " " in name else name
            power = abs(exp)
            part = name if power == 1 else f"{name}^{power:g}"
            (num if exp > 0 else den).append(part)
        out = "*".join(num) or ("Dmnl" if not den else "1")
        if den:
            out += "/" + "/".join(den)
        mag = float(q.magnitude)
        if not math.isclose(mag, 1.0, rel_tol=_RTOL):
            out = f"{mag:g} {out}"
        return out


def _same(a, b) -> bool:
    """Equal dimension and scale."""
    if a.dimensionality != b.dimensionality:
        return False
    return math.isclose(float(a.to_base_units().magnitude), float(b.to_base_units().magnitude),
                        rel_tol=_RTOL)


def _ratio(a, b) -> float | None:
    """a / b as a number when the dimensions agree."""
    if a.dimensionality != b.dimensionality:
        return None
    return float(a.to_base_units().magnitude) / float(b.to_base_units().magnitude)


# --------------------------------------------------------------------------------------------
# Inferred units of expressions

@dataclass
class _Val:
    """The inferred units of an expression.

    ``cands`` are the possible units (pint Quantities of magnitude = scale), the first one
    reading every number as a plain number, the others reading some as conversion factors.
    ``number`` is set for an expression made only of numbers (it takes any units).
    """

    cands: tuple = ()
    number: float | None = None

    @property
    def is_number(self) -> bool:
        return self.number is not None


def _dedupe(cands) -> tuple:
    out: list = []
    for c in cands:
        if not any(_same(c, o) for o in out):
            out.append(c)
    return tuple(out)


class _Problem(Exception):
    """Raised inside an equation; turned into a UnitProblem by the checker."""

    def __init__(self, ast, message: str, inferred: str = ""):
        super().__init__(message)
        self.ast = ast
        self.message = message
        self.inferred = inferred


class _Checker:
    def __init__(self, mdl_file: Path):
        self.mdl_file = mdl_file

    # ---- reading the model

    def _load(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
            from pysd.translators.structures import abstract_expressions as ae
            from pysd.translators.vensim.vensim_file import VensimFile

            self.ae = ae
            vfile = VensimFile(str(self.mdl_file))
            vfile.parse()
            model = vfile.get_abstract_model()
        texts = {}
        for section in vfile.sections:
            for comp in section.elements or ():
                if getattr(comp, "expression", None) is not None and hasattr(comp, "name"):
                    texts.setdefault(comp.name, " ".join(str(comp.expression).split()))
        return model, texts

    def run(self) -> UnitReport:
        model, texts = self._load()
        ae = self.ae
        problems: list[UnitProblem] = []
        main = [s for s in model.sections if s.name == "__main__"] or model.sections[:1]
        for section in model.sections:
            if section not in main:
                problems.append(UnitProblem(section.name, "", "", "", "",
                                            "macros are not supported by the units check"))
        section = main[0]
        elements = list(section.elements)
        if section.subscripts:
            problems.append(UnitProblem(
                ", ".join(s.name for s in section.subscripts), "", "", "", "",
                "subscript ranges are not supported by the units check"))

        names = sorted({n for e in elements for n in _names_in(e.units or "")},
                       key=lambda n: (_normalise(n), n))
        self.u = _Units(names)
        self.vensim_name = {python_name(e.name): e.name for e in elements}
        self.declared: dict[str, Any] = {}
        self.declared_text: dict[str, str] = {}
        self.lookups: set[str] = set()
        bad_units: dict[str, str] = {}
        for e in elements:
            pname = python_name(e.name)
            self.declared_text[pname] = (e.units or "").strip()
            try:
                self.declared[pname] = self.u.parse(e.units or "")
            except _UnitsSyntaxError as exc:
                bad_units[pname] = str(exc)
            if e.components and isinstance(e.components[0].ast, ae.LookupsStructure):
                self.lookups.add(pname)
        self.time_unit = self.declared.get("time_step", self.declared.get("initial_time"))

        for e in elements:
            pname = python_name(e.name)
            equation = f"{e.name} = {texts.get(e.name, '')}".strip()
            declared = self.declared_text[pname]

            def report(expression: str, inferred: str, message: str):
                problems.append(UnitProblem(e.name, equation, expression, declared, inferred,
                                            message))

            if pname in bad_units:
                report("", "", bad_units[pname])
                continue
            if len(e.components) != 1:
                report("", "", f"{len(e.components)} equations (subscripted definitions are "
                       "not supported by the units check)")
                continue
            comp = e.components[0]
            if comp.subscripts and (comp.subscripts[0] or comp.subscripts[1]):
                report("", "", "subscripted variables are not supported by the units check")
                continue
            if pname in _CONTROL_NAMES and self.time_unit is not None and \
                    not _same(self.declared[pname], self.time_unit):
                report("", self.u.text(self.declared[pname]),
                       f"a control variable must be in the model's time unit "
                       f"({self.u.text(self.time_unit)})")
                continue
            try:
                self._element(pname, comp.ast)
            except _Problem as exc:
                report(self._text(exc.ast), exc.inferred, exc.message)
        return UnitReport(problems, len(elements), names)

    # ---- one element

    def _element(self, pname: str, ast) -> None:
        ae = self.ae
        declared = self.declared[pname]
        if isinstance(ast, ae.LookupsStructure):
            return
        if isinstance(ast, ae.InlineLookupsStructure):   # WITH LOOKUP: the declared units
            self.infer(ast.argument)
            return
        if isinstance(ast, ae.IntegStructure):
            if self.time_unit is None:
                raise _Problem(ast, "the model has no TIME STEP to give the time unit")
            flow = self.infer(ast.flow)
            self.expect(flow, declared / self.time_unit, ast.flow, "the flow of INTEG")
            self.expect(self.infer(ast.initial), declared, ast.initial,
                        "the initial value of INTEG", "declared")
            return
        val = self.infer(ast)
        self.expect(val, declared, ast, "the equation", "declared")

    def expect(self, val: _Val, unit, ast, what: str, label: str = "expected") -> None:
        """Check that ``val`` can have units ``unit`` (``label``: "expected" or "declared")."""
        if val.is_number:
            return
        if any(_same(c, unit) for c in val.cands):
            return
        got = val.cands[0]
        ratio = _ratio(got, unit)
        if ratio is None:
            msg = f"{what} has units {self.u.text(got)}, but {self.u.text(unit)} are {label}"
        else:
            hint = " (a % used as a fraction, or a missing / 100?)" if math.isclose(
                ratio, 0.01, rel_tol=1e-6) else (" (a fraction used as a %, or a missing "
                                                 "* 100?)" if math.isclose(ratio, 100,
                                                                          rel_tol=1e-6) else "")
            msg = (f"{what} is in {self.u.text(got)}, {ratio:g} × the {label} "
                   f"{self.u.text(unit)}{hint}")
        raise _Problem(ast, msg, self.u.text(got))

    # ---- expressions

    def number(self, x: float) -> _Val:
        return _Val(number=float(x))

    def unit(self, q) -> _Val:
        return _Val(cands=(q,))

    def infer(self, ast) -> _Val:
        ae = self.ae
        if isinstance(ast, bool):
            return self.number(float(ast))
        if isinstance(ast, (int, float)):
            return self.number(ast)
        if isinstance(ast, ae.ReferenceStructure):
            if ast.subscripts is not None:
                raise _Problem(ast, "subscripted references are not supported by the units "
                               "check")
            ref = ast.reference
            if ref == "time":
                if self.time_unit is None:
                    raise _Problem(ast, "the model has no TIME STEP to give Time a unit")
                return self.unit(self.time_unit)
            if ref in self.lookups:
                raise _Problem(ast, "a lookup used without an argument")
            if ref not in self.declared:
                raise _Problem(ast, f"reference to {ref!r}, which is not a model variable "
                               "or has unparsable units")
            return self.unit(self.declared[ref])
        if isinstance(ast, ae.ArithmeticStructure):
            return self.arithmetic(ast)
        if isinstance(ast, ae.LogicStructure):
            return self.logic(ast)
        if isinstance(ast, ae.CallStructure):
            return self.call(ast)
        if isinstance(ast, ae.InitialStructure):
            return self.infer(ast.initial)
        if isinstance(ast, ae.IntegStructure):
            if self.time_unit is None:
                raise _Problem(ast, "the model has no TIME STEP to give the time unit")
            flow = self.infer(ast.flow)
            if flow.is_number:
                return self.infer(ast.initial)
            out = self.mul(flow, self.unit(self.time_unit), ast)
            return self.same([out, self.infer(ast.initial)], [ast, ast.initial], ast,
                             "the flow × time and the initial value of INTEG")
        if isinstance(ast, (ae.SmoothStructure, ae.SmoothNStructure, ae.DelayStructure,
                            ae.DelayNStructure, ae.DelayFixedStructure)):
            dtime = ast.smooth_time if hasattr(ast, "smooth_time") else ast.delay_time
            self.time_arg(dtime, type(ast).__name__.replace("Structure", "").upper())
            order = getattr(ast, "order", None)
            if order is not None:
                self.dimensionless(self.infer(order), order, "the order")
            return self.same([self.infer(ast.input), self.infer(ast.initial)],
                             [ast.input, ast.initial], ast,
                             "the input and the initial value")
        if isinstance(ast, ae.TrendStructure):
            self.time_arg(ast.average_time, "TREND")
            self.infer(ast.input)
            per_time = self.unit(self.u.dmnl / self.time_unit)
            self.expect(self.infer(ast.initial_trend), per_time.cands[0], ast.initial_trend,
                        "the initial trend of TREND")
            return per_time
        if isinstance(ast, ae.ForecastStructure):
            self.time_arg(ast.average_time, "FORECAST")
            self.time_arg(ast.horizon, "FORECAST")
            return self.infer(ast.input)
        if isinstance(ast, ae.SampleIfTrueStructure):
            self.infer(ast.condition)
            return self.same([self.infer(ast.input), self.infer(ast.initial)],
                             [ast.input, ast.initial], ast, "the input and the initial value")
        if isinstance(ast, ae.InlineLookupsStructure):
            raise _Problem(ast, "WITH LOOKUP inside an expression is not supported by the "
                           "units check (give it its own variable)")
        name = type(ast).__name__.replace("Structure", "")
        raise _Problem(ast, f"{name} is not supported by the units check")

    def time_arg(self, ast, fname: str) -> None:
        if self.time_unit is None:
            raise _Problem(ast, "the model has no TIME STEP to give the time unit")
        val = self.infer(ast)
        self.expect(val, self.time_unit, ast, f"a time argument of {fname}")

    def dimensionless(self, val: _Val, ast, what: str) -> None:
        if val.is_number:
            return
        if any(_same(c, self.u.dmnl) for c in val.cands):
            return
        got = val.cands[0]
        raise _Problem(ast, f"{what} must be dimensionless (scale 1), not "
                       f"{self.u.text(got)}", self.u.text(got))

    def same(self, vals: list[_Val], asts: list, ast, what: str) -> _Val:
        """Operands that must share units; returns their common units."""
        dims = [v for v in vals if not v.is_number]
        if not dims:
            return vals[0] if len(vals) == 1 else self.number(vals[0].number)
        common = list(dims[0].cands)
        for v in dims[1:]:
            common = [c for c in common if any(_same(c, o) for o in v.cands)]
        if common:
            return _Val(cands=tuple(common))
        parts = []
        for v, a in zip(vals, asts):
            if not v.is_number:
                parts.append(f"`{self._text(a)}` in {self.u.text(v.cands[0])}")
        first = dims[0].cands[0]
        other = next((v.cands[0] for v in dims[1:] if not any(
            _same(c, o) for c in dims[0].cands for o in v.cands)), dims[-1].cands[0])
        ratio = _ratio(other, first)
        kind = "different units" if ratio is None else f"units differing by a factor {ratio:g}"
        raise _Problem(ast, f"{what} have {kind}: " + " vs ".join(parts),
                       " vs ".join(self.u.text(v.cands[0]) for v in dims))

    def mul(self, a: _Val, b: _Val, ast, invert: bool = False) -> _Val:
        if a.is_number and b.is_number:
            if invert:
                return self.number(a.number / b.number if b.number else math.nan)
            return self.number(a.number * b.number)
        if b.is_number or a.is_number:
            dim, num = (a, b) if b.is_number else (b, a)
            k = num.number
            if a.is_number and invert:   # k / x
                base = tuple(1 / c for c in dim.cands)
                factor = k
            else:                        # x * k, k * x, x / k
                base = dim.cands
                factor = (1 / k if k else 0.0) if invert else k
            extra = tuple(c / factor for c in base) if factor > 0 else ()
            return _Val(cands=_dedupe(base + extra))
        cands = [x / y if invert else x * y for x, y in product(a.cands, b.cands)]
        return _Val(cands=_dedupe(cands))

    def div(self, a: _Val, b: _Val, ast) -> _Val:
        return self.mul(a, b, ast, invert=True)

    def power(self, base: _Val, exp: _Val, ast, base_ast, exp_ast) -> _Val:
        self.dimensionless(exp, exp_ast, "an exponent")
        if exp.is_number:
            if base.is_number:
                try:
                    return self.number(base.number ** exp.number)
                except (OverflowError, ZeroDivisionError):
                    return self.number(math.nan)
            if float(exp.number).is_integer():
                return _Val(cands=_dedupe(c ** exp.number for c in base.cands))
        if base.is_number:
            return self.number(math.nan)
        self.dimensionless(base, base_ast, "the base of a non-integer power")
        return self.unit(self.u.dmnl)

    def arithmetic(self, ast) -> _Val:
        ops, args = list(ast.operators), list(ast.arguments)
        if len(args) == 1:
            val = self.infer(args[0])
            if ops[0] == "negative":
                return self.number(-val.number) if val.is_number else val
            if ops[0] == "positive":
                return val
            raise _Problem(ast, f"operator {ops[0]!r} is not supported by the units check")
        if set(ops) <= {"+", "-"}:
            vals = [self.infer(a) for a in args]
            if all(v.is_number for v in vals):
                total = vals[0].number
                for op, v in zip(ops, vals[1:]):
                    total = total + v.number if op == "+" else total - v.number
                return self.number(total)
            return self.same(vals, args, ast, "the terms of a sum")
        if set(ops) <= {"*", "/"}:
            acc = self.infer(args[0])
            for op, arg in zip(ops, args[1:]):
                acc = self.mul(acc, self.infer(arg), ast, invert=(op == "/"))
            return acc
        if set(ops) == {"^"}:
            acc = self.infer(args[0])
            base_ast = args[0]
            for arg in args[1:]:
                acc = self.power(acc, self.infer(arg), ast, base_ast, arg)
                base_ast = ast
            return acc
        raise _Problem(ast, f"operators {ops} are not supported by the units check")

    def logic(self, ast) -> _Val:
        ops, args = list(ast.operators), list(ast.arguments)
        if any(op in (":AND:", ":OR:", ":NOT:") for op in ops):
            for a in args:
                self.infer(a)
            return self.unit(self.u.dmnl)
        if len(ops) == 1 and ops[0] in ("=", "<>", "<", "<=", ">", ">="):
            vals = [self.infer(a) for a in args]
            self.same(vals, args, ast, "the two sides of a comparison")
            return self.unit(self.u.dmnl)
        raise _Problem(ast, f"operators {ops} are not supported by the units check")

    def call(self, ast) -> _Val:
        fname = ast.function.reference
        args = list(ast.arguments)
        if fname in self.lookups:
            if len(args) != 1:
                raise _Problem(ast, f"lookup called with {len(args)} arguments")
            self.infer(args[0])
            return self.unit(self.declared[fname])
        upper = fname.upper().replace("_", " ")

        def nargs(*allowed):
            if len(args) not in allowed:
                raise _Problem(ast, f"{upper} with {len(args)} arguments")

        vals = lambda: [self.infer(a) for a in args]  # noqa: E731
        if fname in _SAME_UNIT_FUNCTIONS:
            nargs(2)
            return self.same(vals(), args, ast, f"the arguments of {upper}")
        if fname in _DMNL_FUNCTIONS:
            nargs(1, 2) if fname == "log" else nargs(1)
            for v, a in zip(vals(), args):
                self.dimensionless(v, a, f"the argument of {upper}")
            return self.unit(self.u.dmnl)
        if fname in ("abs", "integer"):
            nargs(1)
            return self.infer(args[0])
        if fname == "sqrt":
            nargs(1)
            return self.power(self.infer(args[0]), self.number(0.5), ast, args[0], ast)
        if fname == "power":
            nargs(2)
            return self.power(self.infer(args[0]), self.infer(args[1]), ast, args[0], args[1])
        if fname == "if_then_else":
            nargs(3)
            self.infer(args[0])
            return self.same([self.infer(args[1]), self.infer(args[2])], args[1:], ast,
                             "the branches of IF THEN ELSE")
        if fname == "modulo":
            nargs(2)
            return self.same(vals(), args, ast, "the arguments of MODULO")
        if fname == "zidz":
            nargs(2)
            a, b = vals()
            return self.div(a, b, ast)
        if fname == "xidz":
            nargs(3)
            a, b, x = vals()
            return self.same([self.div(a, b, ast), x], [ast, args[2]], ast,
                             "a / b and the fallback value of XIDZ")
        if fname == "active_initial":
            nargs(2)
            return self.same(vals(), args, ast, "the two values of ACTIVE INITIAL")
        if fname == "step":
            nargs(2)
            self.time_arg(args[1], "STEP")
            return self.infer(args[0])
        if fname == "ramp":
            nargs(2, 3)
            for a in args[1:]:
                self.time_arg(a, "RAMP")
            return self.mul(self.infer(args[0]), self.unit(self.time_unit), ast)
        if fname in ("pulse", "pulse_train"):
            nargs(2) if fname == "pulse" else nargs(4)
            for a in args:
                self.time_arg(a, upper)
            return self.unit(self.u.dmnl)
        raise _Problem(ast, f"function {upper} is not supported by the units check")

    # ---- expressions → text

    _PREC = {":OR:": 1, ":AND:": 2, ":NOT:": 3, "=": 4, "<>": 4, "<": 4, "<=": 4, ">": 4,
             ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "negative": 7, "positive": 7, "^": 8}

    def _text(self, ast, parent: int = 0, first: bool = True) -> str:
        ae = self.ae
        if ast is None:
            return ""
        if isinstance(ast, bool):
            return "1" if ast else "0"
        if isinstance(ast, (int, float)):
            return f"{ast:g}"
        if isinstance(ast, ae.ReferenceStructure):
            return "Time" if ast.reference == "time" else \
                self.vensim_name.get(ast.reference, ast.reference)
        if isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure)):
            ops, args = list(ast.operators), list(ast.arguments)
            prec = self._PREC.get(ops[0], 9)
            if len(args) == 1:
                sym = {"negative": "-", "positive": "+", ":NOT:": ":NOT: "}.get(ops[0], ops[0])
                out = sym + self._text(args[0], prec, True)
            else:
                out = self._text(args[0], prec, True)
                for op, arg in zip(ops, args[1:]):
                    out += f" {op} " + self._text(arg, prec, False)
            if prec < parent or (prec == parent and not first):
                out = f"({out})"
            return out
        if isinstance(ast, ae.CallStructure):
            fname = ast.function.reference
            name = self.vensim_name.get(fname) or fname.upper().replace("_", " ")
            return f"{name}(" + ", ".join(self._text(a) for a in ast.arguments) + ")"
        if isinstance(ast, ae.InitialStructure):
            return f"INITIAL({self._text(ast.initial)})"
        if isinstance(ast, ae.IntegStructure):
            return f"INTEG({self._text(ast.flow)}, {self._text(ast.initial)})"
        fields = [f for f in ("input", "flow", "smooth_time", "delay_time", "average_time",
                              "initial") if hasattr(ast, f)]
        if fields:
            name = type(ast).__name__.replace("Structure", "").upper()
            return f"{name}(" + ", ".join(self._text(getattr(ast, f)) for f in fields) + ")"
        return type(ast).__name__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m simulator.sd.units MODEL.mdl", file=sys.stderr)
        return 2
    mdl = Path(args[0])
    report = run(mdl)
    for p in report.problems:
        print(p)
    print(f"{report.checked} equations checked, {len(report.problems)} problem(s); "
          f"units: {', '.join(report.unit_names)}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
