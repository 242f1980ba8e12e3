"""The ensemble engine: N parameter sets of a Vensim model run at once as numpy arrays.

Route: **numpy code generated from PySD's abstract model.** The ``.mdl`` is parsed by PySD's
public translator (``VensimFile(...).parse()`` → ``get_abstract_model()``), the same stage PySD's own
Python builder starts from. This module is a second builder: it walks the abstract syntax of every
equation and writes one Python function that integrates the whole model, either on Python floats
(one run, no per-call overhead) or on numpy arrays with a run dimension (N runs in one pass).
Nothing is copied by hand from the model: editing the ``.mdl`` changes the engine's results with no
code change.

Why not the other measured route (driving PySD's translated functions with array-valued constants,
design/pysd-facts.md)? It relies on PySD's private runtime (cache internals, ``float()`` calls that
must be patched around MIN/MAX) and was silently 40-140 % wrong when the constant cache was not
cleared. The abstract model is the documented interface between PySD's translators and builders,
and code generated from it has no caches to go stale.

Semantics follow PySD 3.14's Python builder and runtime exactly (Euler integration, time advanced
by adding TIME STEP, DELAY/SMOOTH state layout and update rules, SMALL_VENSIM in ZIDZ/XIDZ/RAMP,
STEP's half-step tolerance, linear lookups held at their end values), so results equal a plain
PySD run to rounding (``tests/test_engine.py`` checks rtol 1e-9). Anything the engine does not
support — subscripts, macros, data and external objects, DELAY FIXED, TREND, FORECAST, SAMPLE IF
TRUE, PULSE, random functions, any function not listed in ``FUNCTIONS`` — raises
:class:`EngineError` naming the construct and the variable; nothing is approximated.

A second integrator, classic fourth-order Runge-Kutta (``method="rk4"``), is available for
integration-error checks; Euler is the default and the one equal to PySD.

Speed (N runs as arrays of N numbers, one numpy operation per model operation per step). What
was measured on the 2-core reference machine at N = 10,000 and TIME STEP 1/16, and what follows:

* Each step did ~400 array operations; about half the time went to ~30 exp/log/pow calls
  (numpy has no SIMD exp/log/pow for float64 without AVX-512, so ~6-9 ns an element, a general
  ``pow`` 17-23 ns), the rest to ~360 cheap operations running at twice their in-cache cost.
* Only what the derivatives need is computed every step; variables that only saved outputs
  need are computed at save times, and the rest not at all (``rd_spending_growth``'s power, the
  innovation-index chain). Same operations, same values.
* A power ``b ** e`` with a time-varying base and an exponent fixed for the run is written
  ``exp(e * log(b))``, with ``log(b)`` computed once per step for every power of that base and
  every power once however often it occurs; a product of such powers becomes a single
  ``exp(e1 * log(b1) + e2 * log(b2))``. This changes results by rounding only (~1e-14 relative
  after 240 steps), and only where it is the same number: a step where some base is not
  positive and finite, an exponent is not finite, or (for products) a term ``e * log(b)``
  could reach 700 in magnitude (a single power over- or underflowing, so that the plain product
  would be inf, 0 or nan) uses the plain powers instead.
* A leading run of step-invariant operands in a chain (``a * b * x``) is computed once before the
  loop, as whole step-invariant sub-expressions already were: the same operations in the same
  order.
* Every value computed in the loop is deleted right after its last use in the step, so the
  allocator hands its memory to the next array while it is still in cache (before, each step
  wrote a few hundred fresh arrays, tens of MB); and glibc is asked, once per process, to keep
  freed memory rather than return it to the system after every step and fault it back in page
  by page (~50,000 page faults a run; see :func:`_keep_freed_memory`).
* Not used, because measured no faster here: threads over slices of the runs (numpy releases the
  GIL, but two busy vCPUs of this machine deliver ~1.1x one), numexpr (its per-call cost and
  interpreter are slower than numpy's loops at 10,000 elements, and its exp/log/pow are the same
  libm calls), and blocking the runs into cache-sized slices (the per-operation Python cost
  grows faster than the cache gain).

Each step still makes several hundred passes over arrays of N numbers, ~30 of them exp/log.
The hand-written numpy floor of design/pysd-facts.md was measured on a 54-equation model with 9
stocks; this one has ~330 variables and 30 stocks. The rest can come from compiling:
``target="xla"`` writes the same step as functions that :mod:`simulator.xla` traces with JAX into
one XLA program, which fuses each step's operations into a few loops over the runs, keeps
intermediate values in registers and has vectorised exp/log, equal to PySD to rtol 1e-9 like the
numpy code. Which of the two is faster depends on the CPU (numpy's own exp/log are SIMD loops
with AVX-512) and on the use (XLA compiles once per process and kind of call), so ``"auto"``
picks the one measured faster on the machine it runs on (:mod:`simulator.backends`;
``backend=`` and :func:`set_default_backend` choose explicitly; figures in
``benchmarks/ensemble.py``). One run is always the scalar code.
"""
from __future__ import annotations

import ctypes
import hashlib
import math
import platform
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import tables

SMALL_VENSIM = 1e-6  # PySD's zero for ZIDZ, XIDZ and RAMP
_CONTROL = ("initial_time", "final_time", "time_step", "saveper")
_TIME_FUNCTIONS = {"step", "ramp", "pulse", "pulse_train", "Xpulse", "Xpulse_train", "Xramp"}


class EngineError(ValueError):
    """The model uses something the engine cannot compute exactly (names it and the variable)."""


# --------------------------------------------------------------------------------------------
# Abstract model → nodes

@dataclass
class _Node:
    name: str                      # Python name (as PySD names it)
    kind: str                      # constant | aux | initial | stock | smooth | delay | lookup
    ast: Any = None                # aux/initial expression; stock flow; smooth/delay input
    init: Any = None               # stock/smooth/delay initial value
    time: Any = None               # smooth/delay time
    order: int = 1
    value: float | None = None     # constant value
    xs: tuple = ()                 # lookup table
    ys: tuple = ()
    limits: tuple | None = None    # (min, max) from the Vensim units field, if given
    units: str = ""                # the units the Vensim units field declares
    deps: set = field(default_factory=set)        # references needed by ast (dynamic part)
    init_deps: set = field(default_factory=set)   # references needed at initialisation


def _refs(ast: Any, out: set, owner: str, lookups: set) -> set:
    """Collect variable references of an expression (function names excluded)."""
    from pysd.translators.structures import abstract_expressions as ae
    if ast is None or isinstance(ast, (int, float)):
        return out
    if isinstance(ast, ae.ReferenceStructure):
        if ast.subscripts is not None:
            raise EngineError(f"subscripts ({ast.reference}[...]) in variable {owner!r} are not supported")
        out.add(ast.reference)
    elif isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure)):
        for arg in ast.arguments:
            _refs(arg, out, owner, lookups)
    elif isinstance(ast, ae.CallStructure):
        fname = ast.function.reference
        if fname in lookups:
            out.add(fname)
        if fname in _TIME_FUNCTIONS:  # they read the clock without naming Time
            out.add("time")
        for arg in ast.arguments:
            _refs(arg, out, owner, lookups)
    elif isinstance(ast, ae.InlineLookupsStructure):
        _refs(ast.argument, out, owner, lookups)
    else:
        # stateful structures nested inside expressions are not supported (PySD would create an
        # anonymous stateful object; our models write them as their own variables)
        raise EngineError(f"{type(ast).__name__} nested in an expression of variable {owner!r} "
                          "is not supported; give it its own variable")
    return out


def _nodes_from_mdl(mdl_file: Path) -> dict[str, _Node]:
    model = tables.abstract_model(mdl_file)
    from pysd.translators.structures import abstract_expressions as ae
    if len(model.sections) != 1:
        names = [s.name for s in model.sections if s.name != "__main__"]
        raise EngineError(f"macros are not supported (found {', '.join(names)})")
    section = model.sections[0]
    if section.subscripts:
        raise EngineError("subscripted models are not supported (found subscript ranges "
                          f"{', '.join(s.name for s in section.subscripts)})")

    elements = {}
    limits: dict[str, tuple[float, float]] = {}
    units: dict[str, str] = {}
    for element in section.elements:
        name = tables.python_name(element.name)
        units[name] = (element.units or "").strip()
        lim = element.limits or ()
        if len(lim) >= 2 and lim[0] is not None and lim[1] is not None:
            limits[name] = (float(lim[0]), float(lim[1]))
        if len(element.components) != 1:
            raise EngineError(f"variable {element.name!r} has {len(element.components)} "
                              "equations (subscripted definitions are not supported)")
        comp = element.components[0]
        if comp.subscripts and (comp.subscripts[0] or comp.subscripts[1]):
            raise EngineError(f"subscripts in variable {element.name!r} are not supported")
        elements[name] = (element.name, comp.ast)
    lookups = {n for n, (_, ast) in elements.items() if isinstance(ast, ae.LookupsStructure)}

    nodes: dict[str, _Node] = {}
    for name, (vname, ast) in elements.items():
        if isinstance(ast, (int, float)):
            nodes[name] = _Node(name, "constant", value=float(ast))
        elif isinstance(ast, ae.LookupsStructure):
            if ast.type != "interpolate":
                raise EngineError(f"lookup type {ast.type!r} of variable {vname!r} is not "
                                  "supported (only interpolating lookups)")
            nodes[name] = _Node(name, "lookup", xs=tuple(map(float, ast.x)),
                                ys=tuple(map(float, ast.y)))
        elif isinstance(ast, ae.IntegStructure):
            if ast.non_negative:
                raise EngineError(f"non-negative INTEG in variable {vname!r} is not supported")
            node = _Node(name, "stock", ast=ast.flow, init=ast.initial)
            node.deps = _refs(ast.flow, set(), vname, lookups)
            node.init_deps = _refs(ast.initial, set(), vname, lookups)
            nodes[name] = node
        elif isinstance(ast, (ae.SmoothStructure, ae.DelayStructure, ae.SmoothNStructure,
                              ae.DelayNStructure)):
            kind = "smooth" if isinstance(ast, (ae.SmoothStructure, ae.SmoothNStructure)) else "delay"
            delay = ast.smooth_time if kind == "smooth" else ast.delay_time
            order = ast.order
            if not isinstance(order, (int, float)):
                if isinstance(order, ae.ReferenceStructure) and \
                        isinstance(elements.get(order.reference, (None, None))[1], (int, float)):
                    order = elements[order.reference][1]
                else:
                    raise EngineError(f"a non-constant order in {type(ast).__name__} of variable "
                                      f"{vname!r} is not supported")
            if order != int(order) or order < 1:
                raise EngineError(f"order {order} of variable {vname!r} is not supported")
            node = _Node(name, kind, ast=ast.input, init=ast.initial, time=delay,
                         order=int(order))
            node.deps = _refs(ast.input, set(), vname, lookups) | _refs(delay, set(), vname, lookups)
            node.init_deps = _refs(ast.initial, set(), vname, lookups) | \
                _refs(delay, set(), vname, lookups)
            nodes[name] = node
        elif isinstance(ast, ae.InitialStructure):
            node = _Node(name, "initial", ast=ast.initial)
            node.init_deps = _refs(ast.initial, set(), vname, lookups)
            nodes[name] = node
        elif isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure, ae.ReferenceStructure,
                              ae.CallStructure, ae.InlineLookupsStructure)):
            node = _Node(name, "aux", ast=ast)
            node.deps = _refs(ast, set(), vname, lookups)
            node.init_deps = set(node.deps)
            nodes[name] = node
        else:
            raise EngineError(f"{type(ast).__name__.replace('Structure', '')} in variable "
                              f"{vname!r} is not supported by the engine")
    for ctl in _CONTROL:
        if ctl not in nodes or nodes[ctl].kind != "constant":
            raise EngineError(f"control variable {ctl!r} must be a number")
    known = set(nodes) | {"time"}
    for node in nodes.values():
        missing = (node.deps | node.init_deps) - known
        if missing:
            raise EngineError(f"variable {node.name!r} refers to undefined {sorted(missing)}")
    for name, lim in limits.items():
        nodes[name].limits = lim
    for name, unit in units.items():
        nodes[name].units = unit
    return nodes


# --------------------------------------------------------------------------------------------
# Expressions → Python source

_ARITH = {"^": "**", "*": "*", "/": "/", "+": "+", "-": "-", "=": "==", "<>": "!=", ">=": ">=",
          ">": ">", "<=": "<=", "<": "<"}

#: Functions the engine supports: name → (number of arguments, vector form, scalar form).
FUNCTIONS: dict[str, tuple[int, str, str]] = {
    "min": (2, "np.minimum({0}, {1})", "min({0}, {1})"),
    "max": (2, "np.maximum({0}, {1})", "max({0}, {1})"),
    "abs": (1, "np.abs({0})", "abs({0})"),
    "exp": (1, "np.exp({0})", "_exp({0})"),
    "ln": (1, "np.log({0})", "_log({0})"),
    "log": (2, "(np.log({0})/np.log({1}))", "(_log({0})/_log({1}))"),
    "sqrt": (1, "np.sqrt({0})", "_sqrt({0})"),
    "sin": (1, "np.sin({0})", "_np.sin({0})"),
    "cos": (1, "np.cos({0})", "_np.cos({0})"),
    "tan": (1, "np.tan({0})", "_np.tan({0})"),
    "power": (2, "np.power({0}, {1})", "_np.power({0}, {1})"),
    "if_then_else": (3, "_where({0}, {1}, {2})", "(({1}) if ({0}) else ({2}))"),
    "zidz": (2, "_zidz({0}, {1})", "_szidz({0}, {1})"),
    "xidz": (3, "_xidz({0}, {1}, {2})", "_sxidz({0}, {1}, {2})"),
    "integer": (1, "np.trunc({0})", "float(int({0}))"),
    "modulo": (2, "_modulo({0}, {1})", "_modulo({0}, {1})"),
    "step": (2, "(({0}) * (t + dt/2 > ({1})))", "(({0}) * (t + dt/2 > ({1})))"),
    "ramp": (3, "((t + 1e-06 > ({1})) * ({0}) * (np.minimum({2}, t) - ({1})))",
             "((t + 1e-06 > ({1})) * ({0}) * (min({2}, t) - ({1})))"),
    "Xramp": (2, "((t + 1e-06 > ({1})) * ({0}) * (t - ({1})))",
              "((t + 1e-06 > ({1})) * ({0}) * (t - ({1})))"),
}


class _Emitter:
    """Writes Python for expressions. With ``static`` set, sub-expressions that depend only on
    constants and initial values are computed once before the time loop (``hoisted``) and
    reused; the operations and their order are unchanged, so results are bit-identical. With
    ``pre`` set (inside the loop), powers with exponents fixed for the run go through shared
    logarithms (:meth:`_power`, :meth:`_powers_product`): equal up to rounding."""

    def __init__(self, nodes: dict[str, _Node], vector: bool, xla: bool = False):
        self.nodes = nodes
        self.vector = vector
        # code for simulator.xla to trace: a choice between a power through a shared logarithm
        # and the plain power is made by lax.cond on the whole array, not by Python's if
        self.xla = xla
        self.static: set[str] | None = None
        self.hoisted: dict[str, str] = {}
        # inside the time loop: statements that must run before the expression being written
        # (shared bases, logarithms and powers), and what they computed, by expression text
        self.pre: list[str] | None = None
        self.cse: dict[tuple, str] = {}
        self._tmp = 0

    def _temp(self, prefix: str) -> str:
        self._tmp += 1
        return f"{prefix}{self._tmp}"

    def statement(self, lhs: str, ast: Any, owner: str, prefix: str = "") -> list[str]:
        """``lhs = <ast>`` preceded by the shared sub-expressions it needs first."""
        self.pre = []
        text = self.expr(ast, owner)
        out = [prefix + line for line in self.pre] + [f"{prefix}{lhs} = {text}"]
        self.pre = None
        return out

    def _log_of(self, base: str) -> tuple[str, str, str]:
        """Names of ``base``, of its logarithm (None unless every element is positive and
        finite) and of the largest magnitude of that logarithm, computed once per step."""
        if ("log", base) not in self.cse:
            b, lg, m = self._temp("_b"), self._temp("_lg"), self._temp("_m")
            self.pre.append(f"{b} = {base}")
            self.pre.append(f"{lg}, {m} = {'_logpos' if self.vector else '_slogpos'}({b})")
            self.cse[("log", base)] = (b, lg, m)
        return self.cse[("log", base)]

    def _power(self, base: str, expo: str) -> str:
        """``base ** expo`` for a time-varying base and an exponent fixed for the run.

        Written as ``exp(expo * log(base))`` with ``log(base)`` computed once per step for every
        power of the same base, and each power computed once per step however often it occurs.
        Where that is not the same number up to rounding — some base not positive and finite
        this step, or an exponent not finite — the plain power is used."""
        key = ("pow", base, expo)
        if key not in self.cse:
            b, lg, m = self._log_of(base)
            fin = self.hoisted.setdefault(f"_finite({expo})", f"_h{len(self.hoisted)}")
            name = self._temp("_pw")
            exp = "np.exp" if self.vector else "_exp"
            ok = (f"{fin} & np.isfinite({m})" if self.xla else f"{fin} and {lg} is not None")
            chosen = self._choose(ok, f"{exp}({expo} * {lg})", f"({b} ** {expo})")
            self.pre.append(f"{name} = {chosen}")
            self.cse[key] = name
        return self.cse[key]

    def _powers_product(self, pairs: list[tuple[str, str]]) -> str:
        """``b1 ** e1 * b2 ** e2 * ...`` as one ``exp(e1 * log(b1) + e2 * log(b2) + ...)``.

        Used when every base is positive and finite and every term ``e * log(b)`` is below 700
        in magnitude this step, so that no single power would overflow to inf or underflow to 0
        (where the product of the powers could be nan or 0 and the single exp would not);
        otherwise the plain product of powers."""
        key = ("prod", tuple(pairs))
        if key not in self.cse:
            logs = [self._log_of(base) for base, _ in pairs]
            bounds = [self.hoisted.setdefault(f"_absmax({expo})", f"_h{len(self.hoisted)}")
                      for _, expo in pairs]
            ok = " + ".join(f"{bound} * {m}" for bound, (_, _, m) in zip(bounds, logs)) + " < 700.0"
            if not self.xla:  # (traced, an inf or nan bound makes the comparison false)
                ok = " and ".join(f"{lg} is not None" for _, lg, _ in logs) + " and " + ok
            total = " + ".join(f"{expo} * {lg}" for (_, expo), (_, lg, _) in zip(pairs, logs))
            plain = " * ".join(f"({b} ** {expo})" for (_, expo), (b, _, _) in zip(pairs, logs))
            name = self._temp("_pp")
            exp = "np.exp" if self.vector else "_exp"
            self.pre.append(f"{name} = {self._choose(ok, f'{exp}({total})', f'({plain})')}")
            self.cse[key] = name
        return self.cse[key]

    def _choose(self, cond: str, fast: str, plain: str) -> str:
        """``fast`` where ``cond`` holds for the whole array this step, else ``plain``."""
        if self.xla:
            return f"_cond({cond}, lambda: {fast}, lambda: {plain})"
        return f"{fast} if {cond} else {plain}"

    def _is_power(self, ast: Any) -> bool:
        """A power that :meth:`_power` writes: time-varying, exponent fixed and not a number."""
        from pysd.translators.structures import abstract_expressions as ae
        return (isinstance(ast, ae.ArithmeticStructure) and list(ast.operators) == ["^"]
                and not self._is_static(ast) and self._is_static(ast.arguments[1])
                and not isinstance(ast.arguments[1], (int, float)))

    def _product(self, ast: Any, owner: str) -> str | None:
        """A product with two or more such powers as factors: the powers become one exp."""
        ops = list(ast.operators)
        powers = [j for j, arg in enumerate(ast.arguments)
                  if self._is_power(arg) and (j == 0 or ops[j - 1] == "*")]
        if len(powers) < 2:
            return None
        others = [("*" if j == 0 else ops[j - 1], self.expr(arg, owner))
                  for j, arg in enumerate(ast.arguments) if j not in powers]
        pairs = [(self.expr(ast.arguments[j].arguments[0], owner),
                  self.expr(ast.arguments[j].arguments[1], owner)) for j in powers]
        prod = self._powers_product(pairs)
        if not others:
            return prod
        if others[0][0] == "*":
            return "(" + others[0][1] + "".join(f" {_ARITH[op]} {arg}" for op, arg in others[1:]) \
                + f" * {prod})"
        return "(" + prod + "".join(f" {_ARITH[op]} {arg}" for op, arg in others) + ")"

    def _is_static(self, ast: Any) -> bool:
        if self.static is None:
            return False
        try:
            refs = _refs(ast, set(), "", {n for n, v in self.nodes.items() if v.kind == "lookup"})
        except EngineError:
            return False
        return refs <= self.static

    def expr(self, ast: Any, owner: str) -> str:
        from pysd.translators.structures import abstract_expressions as ae
        text = self._expr(ast, owner)
        if (self.static is not None and not isinstance(ast, (int, float, bool, ae.ReferenceStructure))
                and self._is_static(ast)):
            if text not in self.hoisted:
                self.hoisted[text] = f"_h{len(self.hoisted)}"
            return self.hoisted[text]
        return text

    def var(self, ref: str) -> str:
        return "t" if ref == "time" else f"v_{ref}"

    def _expr(self, ast: Any, owner: str) -> str:
        from pysd.translators.structures import abstract_expressions as ae
        if isinstance(ast, bool):
            return "1.0" if ast else "0.0"
        if isinstance(ast, (int, float)):
            return repr(float(ast))
        if isinstance(ast, ae.ReferenceStructure):
            return self.var(ast.reference)
        if isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure)):
            ops = list(ast.operators)
            if (self.pre is not None and set(ops) <= {"*", "/"} and len(ops) > 1
                    and not self._is_static(ast)):
                product = self._product(ast, owner)
                if product is not None:
                    return product
            args = [self.expr(a, owner) for a in ast.arguments]
            if len(args) == 1:
                if ops[0] == "negative":
                    return f"(-{args[0]})"
                if ops[0] == ":NOT:":
                    return f"np.logical_not({args[0]})" if self.vector else f"(not {args[0]})"
                raise EngineError(f"operator {ops[0]!r} in variable {owner!r} is not supported")
            if any(op in (":AND:", ":OR:") for op in ops):
                if len(set(ops)) != 1:
                    raise EngineError(f"mixed :AND:/:OR: in variable {owner!r} is not supported")
                fn = "np.logical_and" if ops[0] == ":AND:" else "np.logical_or"
                out = args[0]
                for arg in args[1:]:
                    out = f"{fn}({out}, {arg})"
                return out
            if self.pre is not None and self._is_power(ast):
                return self._power(args[0], args[1])
            for op in ops:
                if op not in _ARITH:
                    raise EngineError(f"operator {op!r} in variable {owner!r} is not supported")
            text, rest = args[0], 0
            if self.static is not None and (set(ops) <= {"+", "-"} or set(ops) <= {"*", "/"}):
                # a leading run of step-invariant operands in a left-to-right chain is itself a
                # sub-expression ((a * b) * x is what a * b * x computes): compute it once
                while rest < len(ops) and self._is_static(ast.arguments[rest + 1]) \
                        and self._is_static(ast.arguments[0]):
                    rest += 1
                if 0 < rest < len(ops):
                    head = "(" + args[0] + "".join(f" {_ARITH[op]} {arg}" for op, arg in
                                                  zip(ops[:rest], args[1:rest + 1])) + ")"
                    text = self.hoisted.setdefault(head, f"_h{len(self.hoisted)}")
                else:
                    rest = 0
            for op, arg in zip(ops[rest:], args[rest + 1:]):
                text += f" {_ARITH[op]} {arg}"
            return f"({text})"
        if isinstance(ast, ae.CallStructure):
            fname = ast.function.reference
            args = [self.expr(a, owner) for a in ast.arguments]
            if fname in self.nodes and self.nodes[fname].kind == "lookup":
                if len(args) != 1:
                    raise EngineError(f"lookup {fname!r} called with {len(args)} arguments "
                                      f"in variable {owner!r}")
                return f"np.interp({args[0]}, LX_{fname}, LY_{fname})"
            if fname == "ramp" and len(args) == 2:
                fname = "Xramp"
            if fname not in FUNCTIONS:
                raise EngineError(f"function {fname.upper()} in variable {owner!r} is not "
                                  "supported by the engine")
            nargs, vform, sform = FUNCTIONS[fname]
            if len(args) != nargs:
                raise EngineError(f"function {fname.upper()} in variable {owner!r} takes "
                                  f"{nargs} arguments, got {len(args)}")
            return (vform if self.vector else sform).format(*args)
        if isinstance(ast, ae.InlineLookupsStructure):
            lk = ast.lookups
            if lk.type != "interpolate":
                raise EngineError(f"lookup type {lk.type!r} in variable {owner!r} is not supported")
            xs = f"np.array({tuple(map(float, lk.x))!r})"
            ys = f"np.array({tuple(map(float, lk.y))!r})"
            if self.static is not None:  # in the time loop: built once, before it
                xs = self.hoisted.setdefault(xs, f"_h{len(self.hoisted)}")
                ys = self.hoisted.setdefault(ys, f"_h{len(self.hoisted)}")
            return f"np.interp({self.expr(ast.argument, owner)}, {xs}, {ys})"
        raise EngineError(f"{type(ast).__name__} in variable {owner!r} is not supported")


def _toposort(names: set[str], deps_of) -> list[str]:
    """Names in an order where every name comes after its dependencies within ``names``."""
    order, state = [], {}

    def visit(n, path):
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cycle = path[path.index(n):] + [n]
            raise EngineError("simultaneous equations (a loop without a stock): "
                              + " -> ".join(cycle))
        state[n] = 1
        for d in sorted(deps_of(n) & names):
            visit(d, path + [n])
        state[n] = 2
        order.append(n)

    for n in sorted(names):
        visit(n, [])
    return order


def _generate(nodes: dict[str, _Node], vector: bool, method: str,
              save_names: Sequence[str] = (), target: str = "numpy") -> str:
    """Source of ``simulate(P, n, t0, t_final, dt, save_times)``, which returns the values of
    ``save_names`` at ``save_times`` as lists.

    With ``target="xla"`` (vector Euler code only) the source instead defines ``prepare`` (the
    same code up to the time loop, run by numpy) and the three parts of one step as functions of
    a dict of values — ``stage`` (what the step computes from the states), ``save`` (the saved
    variables) and ``advance`` (the Euler update) — for :class:`simulator.xla.Program` to trace
    into one compiled loop."""
    if target not in ("numpy", "xla"):
        raise ValueError(f"target must be 'numpy' or 'xla', got {target!r}")
    if target == "xla" and not (vector and method == "euler"):
        raise ValueError("the XLA target compiles vector Euler code only")
    em = _Emitter(nodes, vector, xla=target == "xla")
    statefuls = [n for n in nodes.values() if n.kind in ("stock", "smooth", "delay")]
    consts = [n for n in nodes.values() if n.kind == "constant"]
    auxes = {n.name for n in nodes.values() if n.kind == "aux"}
    initials = {n.name for n in nodes.values() if n.kind == "initial"}

    # Which aux depend on time or on a stateful (directly or through other aux)?
    dynamic: set[str] = set()
    stateful_names = {n.name for n in statefuls}
    changed = True
    while changed:
        changed = False
        for a in auxes - dynamic:
            d = nodes[a].deps
            if "time" in d or d & stateful_names or d & dynamic:
                dynamic.add(a)
                changed = True
    static = auxes - dynamic

    lines = ["def simulate(P, n, t0, t_final, dt, save_times):"]
    ind = "    "
    body: list[str] = []
    w = body.append
    w("t = t0")
    for lk in (n for n in nodes.values() if n.kind == "lookup"):
        w(f"LX_{lk.name} = np.array({lk.xs!r})")
        w(f"LY_{lk.name} = np.array({lk.ys!r})")
    for c in consts:
        w(f"v_{c.name} = P[{c.name!r}]")
    # States stay shared scalars until something per-run flows into them (results are widened
    # to (n,) when saved), so parameters common to all runs cost one scalar operation.
    zero = ""

    # Initialisation: evaluate what stock initial values need, in dependency order, with
    # stateful nodes standing for their initial values (PySD initialises lazily the same way).
    def init_deps(name):
        node = nodes[name]
        if node.kind in ("stock", "smooth", "delay", "initial"):
            return node.init_deps
        if node.kind == "aux":
            return node.deps
        return set()

    init_set = set(stateful_names) | initials | static
    frontier = list(init_set)
    while frontier:
        n = frontier.pop()
        for d in init_deps(n):
            if d in nodes and nodes[d].kind in ("aux", "initial", "stock", "smooth", "delay") \
                    and d not in init_set:
                init_set.add(d)
                frontier.append(d)
    for name in _toposort(init_set, init_deps):
        node = nodes[name]
        if node.kind == "stock":
            w(f"s_{name} = {zero}{em.expr(node.init, name)}")
            w(f"v_{name} = s_{name}")
        elif node.kind == "smooth":
            w(f"_init = {zero}{em.expr(node.init, name)}")
            for i in range(node.order):
                w(f"s_{name}_{i} = _init")
            w(f"v_{name} = s_{name}_{node.order - 1}")
        elif node.kind == "delay":
            w(f"_dt_{name} = {em.expr(node.time, name)}")
            w(f"if _np.any(_np.asarray({node.order} * dt) > _dt_{name}):")
            w(f"    raise EngineError('DELAY of variable {name}: delay time shorter than order "
              f"x TIME STEP; PySD would lower the order, the engine does not')")
            w(f"_init = {zero}{em.expr(node.init, name)} * _dt_{name}")
            for i in range(node.order):
                w(f"s_{name}_{i} = _init")
            w(f"v_{name} = s_{name}_{node.order - 1} / _dt_{name}")
        else:  # aux or initial
            src = node.ast
            w(f"v_{name} = {em.expr(src, name)}")

    dyn_order = _toposort(dynamic, lambda a: nodes[a].deps)
    # from here on, code runs inside the time loop: hoist what depends on constants only
    em.static = {n.name for n in nodes.values() if n.kind in ("constant", "initial", "lookup")} | static

    # Only what the derivatives need is computed every step; what only saved variables need is
    # computed at save times, and the rest not at all (every value is the same as before).
    def closure(names) -> set[str]:
        todo, seen = [n for n in names if n in dynamic], set()
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(d for d in nodes[n].deps if d in dynamic)
        return seen

    every_step = closure(set().union(*(n.deps for n in statefuls)) if statefuls else set())
    step_order = [n for n in dyn_order if n in every_step]
    save_order = [n for n in dyn_order if n in closure(save_names) - every_step]

    def stage_aux(out: list[str]):
        em.cse = {}  # states and time have moved: nothing computed before is valid
        for name in step_order:
            out.extend(em.statement(f"v_{name}", nodes[name].ast, name))

    def save_aux(out: list[str], prefix: str):
        outer = dict(em.cse)  # what is computed here exists only at save times
        for name in save_order:
            out.extend(em.statement(f"v_{name}", nodes[name].ast, name, prefix))
        em.cse = outer

    def stateful_outputs(out: list[str], suffix=""):
        em.cse = {}
        for node in statefuls:
            if node.kind == "stock":
                out.append(f"v_{node.name} = s_{node.name}{suffix}")
            elif node.kind == "smooth":
                out.append(f"v_{node.name} = s_{node.name}_{node.order - 1}{suffix}")
            else:
                out.extend(em.statement("_dtm", node.time, node.name))
                out.append(f"v_{node.name} = s_{node.name}_{node.order - 1}{suffix} / _dtm")

    def derivatives(out: list[str], tag: str):
        for node in statefuls:
            nm = node.name
            if node.kind == "stock":
                out.extend(em.statement(f"d{tag}_{nm}", node.ast, nm))
            elif node.kind == "smooth":
                out.extend(em.statement("_st", node.time, nm))
                out.extend(em.statement("_in", node.ast, nm))
                prev = "_in"
                # x * 1 is x exactly, so order 1 leaves the factor out
                factor = "" if node.order == 1 else f" * {node.order}"
                for i in range(node.order):
                    out.append(f"d{tag}_{nm}_{i} = ({prev} - s_{nm}_{i}){factor} / _st")
                    prev = f"s_{nm}_{i}"
            else:
                out.extend(em.statement("_dtm", node.time, nm))
                out.extend(em.statement("_in", node.ast, nm))
                prev = "_in"
                for i in range(node.order):
                    out.append(f"_q{i} = s_{nm}_{i} / _dtm")
                    out.append(f"d{tag}_{nm}_{i} = ({prev} - _q{i}) * {node.order}")
                    prev = f"_q{i}"

    def state_names():
        for node in statefuls:
            if node.kind == "stock":
                yield f"s_{node.name}"
            else:
                for i in range(node.order):
                    yield f"s_{node.name}_{i}"

    def euler_step(out: list[str]):
        derivatives(out, "")
        for s in state_names():
            out.append(f"{s} = {s} + d_{s[2:]} * dt")
        stateful_outputs(out)

    if target == "xla":
        stage: list[str] = []
        stage_aux(stage)
        save: list[str] = []
        save_aux(save, "")
        advance: list[str] = []
        euler_step(advance)
        hoist = [f"{name} = {text}" for text, name in em.hoisted.items()]
        outputs = "(" + "".join(f"v_{name}, " for name in save_names) + ")"
        return "\n".join(
            lines + [ind + b for b in body + hoist + ["return locals()"]] + [""]
            + _step_function("stage", stage, "") + _step_function("save", save, outputs)
            + _step_function("advance", advance, "")) + "\n"

    # outputs
    w("_HOIST_")
    for i, name in enumerate(save_names):
        w(f"_o{i} = []")
    w("_save = list(save_times)")
    w("_next = 0")
    w("_prec = dt * 1e-5")
    w("while True:")
    loop: list[str] = []
    stage_aux(loop)
    loop.append("if _next < len(_save) and abs(t - _save[_next]) <= max(_prec, 1e-12):")
    save_aux(loop, "    ")
    for i, name in enumerate(save_names):
        loop.append(f"    _o{i}.append(v_{name})")
    loop.append("    _next += 1")
    loop.append("if not (t + dt * 1e-5 < t_final):")
    loop.append("    break")
    if method == "euler":
        euler_step(loop)
    elif method == "rk4":
        states = list(state_names())
        for s in states:
            loop.append(f"_k0_{s} = {s}")
        # k1 at (t, y)
        derivatives(loop, "1")
        for stage, (frac, prev) in enumerate([(0.5, "1"), (0.5, "2"), (1.0, "3")], start=2):
            for s in states:
                loop.append(f"{s} = _k0_{s} + d{prev}_{s[2:]} * dt * {frac}")
            loop.append(f"t = _tk + dt * {frac}")
            stateful_outputs(loop)
            stage_aux(loop)
            derivatives(loop, str(stage))
        for s in states:
            loop.append(f"{s} = _k0_{s} + dt / 6 * (d1_{s[2:]} + 2 * d2_{s[2:]} + 2 * d3_{s[2:]}"
                        f" + d4_{s[2:]})")
        loop.append("t = _tk")
        stateful_outputs(loop)
        loop.insert(0, "_tk = t")
    else:
        raise ValueError(f"method must be 'euler' or 'rk4', got {method!r}")
    loop.append("t = t + dt")
    body.extend("    " + line for line in loop)
    w("return {" + ", ".join(f"{name!r}: _o{i}" for i, name in enumerate(save_names)) + "}")
    at = body.index("_HOIST_")
    body[at:at + 1] = [f"{name} = {text}" for text, name in em.hoisted.items()]
    return _free_dead_values("\n".join(lines + [ind + b for b in body]) + "\n")


def _loads(node) -> set[str]:
    """Names a statement reads."""
    import ast
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


def _assigns(stmt) -> set[str]:
    """Names a statement assigns unconditionally: the targets of a plain assignment (tuple
    targets included), nothing for an ``if`` whose branch may not run."""
    import ast
    if not isinstance(stmt, ast.Assign):
        return set()
    return {n.id for target in stmt.targets for n in ast.walk(target) if isinstance(n, ast.Name)}


def _step_function(name: str, lines: list[str], result: str) -> list[str]:
    """``def name(E, t)``: reads from the dict ``E`` every value the lines use before assigning
    it, runs them, and returns ``result`` or else a dict of every value they assigned."""
    import ast

    tree = ast.parse("\n".join(lines + ([f"_ = {result}"] if result else [])) or "pass")
    stored: set[str] = set()
    carried: set[str] = set()
    for stmt in tree.body:
        carried |= _loads(stmt) - stored
        stored |= _assigns(stmt)
    carried -= set(_GLOBALS) | {"t"}
    stored.discard("_")
    out = [f"def {name}(E, t):"]
    out += [f"    {v} = E[{v!r}]" for v in sorted(carried)]
    out += [f"    {line}" for line in lines]
    everything = "{" + ", ".join(f"{v!r}: {v}" for v in sorted(stored)) + "}"
    out.append(f"    return {result or everything}")
    out.append(f"{name}.inputs = {tuple(sorted(carried))!r}")
    out.append(f"{name}.outputs = {tuple(sorted(stored))!r}")
    return out + [""]


def _free_dead_values(src: str) -> str:
    """Delete each value computed in the time loop right after its last use in the step.

    Without this every array of a step stays alive until the next step replaces it, so each
    step writes a few hundred fresh arrays of N numbers (tens of MB at N = 10,000) that are no
    longer in the processor's caches. Freed at once, their memory is reused by the next
    allocation while still cached. Only names are deleted: no value changes."""
    import ast

    tree = ast.parse(src)
    loop = next(s for s in tree.body[0].body if isinstance(s, ast.While))

    stored: set[str] = set()   # assigned unconditionally earlier in the step
    carried: set[str] = set()  # read before being assigned: values from the previous step
    last_use: dict[str, int] = {}
    for i, stmt in enumerate(loop.body):
        used = _loads(stmt)
        carried |= used - stored
        for name in used | _assigns(stmt):
            last_use[name] = i
        stored |= _assigns(stmt)
    dead: dict[int, list[str]] = {}
    for name in sorted(stored - carried):
        dead.setdefault(last_use[name], []).append(name)
    body = []
    for i, stmt in enumerate(loop.body):
        body.append(stmt)
        if i in dead:
            body.append(ast.Delete(targets=[ast.Name(n, ast.Del()) for n in dead[i]]))
    loop.body = body
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


# --------------------------------------------------------------------------------------------
# Helpers available to the generated code

def _logpos(x):
    """``(log(x), max |log(x)|)`` if every element of ``x`` is positive and finite (then
    ``exp(e * log(x))`` is ``x ** e`` up to rounding for a finite ``e``), else ``(None, inf)``."""
    lg = np.log(x)
    lo, hi = np.min(lg), np.max(lg)  # -inf, inf or nan show in one of them
    if math.isfinite(lo) and math.isfinite(hi):
        return lg, max(-lo, hi)
    return None, math.inf


def _slogpos(x):
    if 0.0 < x < math.inf:
        lg = math.log(x)
        return lg, abs(lg)
    return None, math.inf


def _absmax(x) -> float:
    return float(np.max(np.abs(x)))


def _finite(x) -> bool:
    return bool(np.all(np.isfinite(x)))


def _zidz(a, b):
    b = np.asarray(b, dtype=float)
    small = np.abs(b) < SMALL_VENSIM
    return np.where(small, 0.0, np.divide(a, np.where(small, 1.0, b)))


def _where(cond, a, b):
    """IF THEN ELSE on arrays; a scalar condition picks a branch without copying."""
    if np.ndim(cond) == 0:
        return a if cond else b
    return np.where(cond, a, b)


def _szidz(a, b):
    return 0.0 if abs(b) < SMALL_VENSIM else a / b


def _xidz(a, b, x):
    b = np.asarray(b, dtype=float)
    small = np.abs(b) < SMALL_VENSIM
    return np.where(small, x, np.divide(a, np.where(small, 1.0, b)))


def _sxidz(a, b, x):
    return x if abs(b) < SMALL_VENSIM else a / b


def _modulo(x, m):
    quantum = np.where(np.asarray(m) > 0, m * np.trunc(np.divide(x, m)), x)
    return x - quantum


# Scalar code calls math's functions (fast on Python floats) and falls back to numpy, which
# returns inf or nan where math raises, so a single run behaves like an array lane.

def _sexp(x):
    return math.exp(x) if x < 709.0 else float(np.exp(x))


def _slog(x):
    return math.log(x) if x > 0.0 else float(np.log(x))


def _ssqrt(x):
    return math.sqrt(x) if x >= 0.0 else float(np.sqrt(x))


_malloc_tuned = False


def _keep_freed_memory() -> None:
    """Ask glibc's allocator to keep freed memory instead of handing it back to the system.

    Every step of a vector run allocates and frees a few hundred arrays of N numbers. With
    glibc's defaults the top of the heap is returned to the system whenever more than 128 KiB is
    free there, and taken back on the next allocation, page by page: about 50,000 page faults
    and a fifth of the run time at N = 10,000. Raising the trim threshold (and the size above
    which blocks are mapped on their own, which setting the first one would otherwise freeze at
    128 KiB) removes them. Done once per process; memory use is unchanged except that up to the
    threshold of freed memory stays with the process. Nothing happens elsewhere than on glibc."""
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 16 * 2**20)
    mallopt(m_trim_threshold, 128 * 2**20)


def _cond(pred, fast, plain):
    return fast() if pred else plain()


_GLOBALS = {
    "np": np, "_np": np, "EngineError": EngineError, "_cond": _cond, "_zidz": _zidz,
    "_szidz": _szidz, "_xidz": _xidz, "_sxidz": _sxidz, "_modulo": _modulo, "_where": _where,
    "_exp": _sexp, "_log": _slog, "_sqrt": _ssqrt, "_logpos": _logpos, "_slogpos": _slogpos,
    "_finite": _finite, "_absmax": _absmax,
}


# --------------------------------------------------------------------------------------------
# The engine

@dataclass(frozen=True)
class EnsembleResult:
    """Results of a batch of runs.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Saved times (year ends).
    data : dict[str, ndarray]
        Each saved variable by Python name, shape (T, N) — or (T,) for a scalar run.
    n : int or None
        Number of runs (None for a single scalar run).
    """

    times: np.ndarray
    data: dict[str, np.ndarray]
    n: int | None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def run(self, i: int = 0) -> pd.DataFrame:
        """One run as a wide table (index time, one column per saved variable)."""
        cols = {k: (v if v.ndim == 1 else v[:, i]) for k, v in self.data.items()}
        frame = pd.DataFrame(cols, index=pd.Index(self.times, name="time"))
        return frame


class Engine:
    """A Vensim model compiled to numpy code; runs one or N parameter sets at once.

    Parameters
    ----------
    mdl_file : path, optional
        The Vensim model; default ``models/guangyuan_innovation.mdl``.

    Examples
    --------
    >>> eng = Engine()                                       # doctest: +SKIP
    >>> res = eng.run({"knowledge_depreciation_rate": np.linspace(0.1, 0.3, 1000)},
    ...               variables=["rd_intensity"])            # doctest: +SKIP
    >>> res["rd_intensity"].shape                            # (16 years, 1000 runs)
    """

    def __init__(self, mdl_file: str | Path = tables.MODEL_FILE):
        self.mdl_file = Path(mdl_file).resolve()
        self.digest = hashlib.sha256(self.mdl_file.read_bytes()).hexdigest()[:16]
        self.nodes = _nodes_from_mdl(self.mdl_file)
        self.constants: dict[str, float] = {
            n.name: n.value for n in self.nodes.values() if n.kind == "constant"}
        self.variables = frozenset(self.nodes)
        #: Ranges ``[min, max]`` written in the model's units fields, by constant.
        self.limits: dict[str, tuple[float, float]] = {
            n.name: n.limits for n in self.nodes.values() if n.kind == "constant" and n.limits}
        #: Declared units of every model element, by Python name.
        self.units: dict[str, str] = {n.name: n.units for n in self.nodes.values()}
        self._code: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self._overridable = {n.name for n in self.nodes.values() if n.kind in ("constant", "aux")}

    @property
    def time_step(self) -> float:
        return self.constants["time_step"]

    def source(self, vector: bool = True, method: str = "euler",
               save_names: Sequence[str] = (), target: str = "numpy") -> str:
        """The generated Python source (for reading and debugging); ``target="xla"`` gives the
        functions :mod:`simulator.xla` traces."""
        return _generate(self.nodes, vector, method, save_names, target)

    def _compiled(self, vector: bool, method: str, overridden: frozenset, save: tuple,
                  target: str = "numpy"):
        key = (vector, method, overridden, save, target)
        with self._lock:
            return self._compile(key)

    def _compile(self, key):
        vector, method, overridden, save, target = key
        if key not in self._code:
            nodes = self.nodes
            if overridden:
                nodes = dict(nodes)
                for name in overridden:  # an overridden aux becomes a constant (as in PySD)
                    nodes[name] = _Node(name, "constant", value=math.nan)
            src = _generate(nodes, vector, method, save, target)
            filename = f"<engine {self.mdl_file.name} {self.digest} {target}>"
            if target == "xla":
                from . import xla
                self._code[key] = xla.Program(src, filename, _GLOBALS, len(save))
            else:
                namespace = dict(_GLOBALS)
                exec(compile(src, filename, "exec"), namespace)
                self._code[key] = namespace["simulate"]
        return self._code[key]

    def run(self, params: Mapping[str, Any] | None = None, *, n: int | None = None,
            variables: Sequence[str] | None = None, time_step: float | None = None,
            method: str = "euler", backend: str | None = None) -> EnsembleResult:
        """Run the model for every parameter set at once.

        Parameters
        ----------
        params : mapping of Python name → number or array of shape (N,)
            Constants (and, as in PySD, auxiliaries replaced by constants). Arrays set one value
            per run; numbers are shared by all runs. Unset constants keep the model's values.
        n : int, optional
            Number of runs; default the length of the array params, or a single scalar run when
            every param is a number.
        variables : sequence of str, optional
            Python names to save; default every indicator of ``models/indicators.csv`` that the
            model has.
        time_step : float, optional
            Default the model's TIME STEP.
        method : {"euler", "rk4"}
            Euler equals PySD; RK4 is for integration-error checks.
        backend : {"auto", "numpy", "xla"}, optional
            How N runs are computed (one run is always the scalar code). ``"numpy"`` runs the
            generated array code with numpy; ``"xla"`` compiles the same code with JAX
            (:mod:`simulator.xla`, a few seconds to compile once per kind of call); ``"auto"``
            uses the one measured faster on this machine for Euler runs
            (:mod:`simulator.backends`), numpy for RK4 or without JAX. Default: the process
            default (:func:`set_default_backend`), else ``$GUANGYUAN_ENGINE_BACKEND``, else
            ``"auto"``.
        """
        params = dict(params or {})
        unknown = sorted(set(params) - self.variables)
        if unknown:
            raise KeyError(f"unknown model variables {unknown}")
        not_overridable = sorted(set(params) - self._overridable)
        if not_overridable:
            raise KeyError(f"cannot set {not_overridable}: stocks, delays, smooths, INITIALs and "
                           "lookups are not parameters")
        sizes = {np.size(v) for v in params.values() if np.ndim(v) > 0}
        if n is None and sizes:
            if len(sizes) > 1:
                raise ValueError(f"array params have different lengths {sorted(sizes)}")
            n = sizes.pop()
        elif sizes and sizes != {n}:
            raise ValueError(f"array params have lengths {sorted(sizes)}, expected n={n}")
        vector = n is not None
        P: dict[str, Any] = dict(self.constants)
        if time_step is not None:
            P["time_step"] = float(time_step)
        for k, v in params.items():
            arr = np.asarray(v, dtype=float)
            # an array of one repeated value is a shared scalar: one operation instead of n
            if arr.ndim == 0:
                P[k] = float(arr)
            elif np.ptp(arr) == 0:
                P[k] = float(arr[0])
            else:
                P[k] = arr
        if vector:  # numpy scalars divide by zero as numpy does (inf, nan), like array lanes
            P = {k: np.float64(v) if np.ndim(v) == 0 else v for k, v in P.items()}
        for ctl in _CONTROL:
            if np.ndim(P[ctl]) > 0:
                raise ValueError(f"{ctl} must be the same for all runs")
        if variables is None:
            variables = [i.variable for i in tables.indicators() if i.variable in self.variables]
        else:
            missing = sorted(set(variables) - self.variables)
            if missing:
                raise KeyError(f"unknown model variables {missing}")
        overridden = frozenset(k for k in params if self.nodes[k].kind == "aux")
        if overridden:  # as PySD does, say that an equation was replaced
            warnings.warn("Replacing a variable by a constant value.", UserWarning, stacklevel=2)
        t0, t1 = P["initial_time"], P["final_time"]
        dt, saveper = P["time_step"], P["saveper"]
        save_times = [t0 + k * saveper for k in range(int(round((t1 - t0) / saveper)) + 1)]
        if vector and _choose_backend(backend, method) == "xla":
            program = self._compiled(vector, method, overridden, tuple(variables), "xla")
            from .xla import padded_runs
            size = padded_runs(n)  # one compiled program serves calls of similar size
            padded = {k: np.pad(v, (0, size - n), mode="edge") if np.ndim(v) else v
                      for k, v in P.items()}
            with np.errstate(all="ignore"):
                saved = program.run(padded, size, np.float64(t0), t1, dt, save_times)
            data = {k: v[:, :n] for k, v in zip(variables, saved)}
            count = len(saved[0]) if saved else len(save_times)
            return EnsembleResult(times=np.asarray(save_times[:count], dtype=float), data=data,
                                  n=n)
        fn = self._compiled(vector, method, overridden, tuple(variables))
        if vector:
            _keep_freed_memory()
        with np.errstate(all="ignore"):
            raw = fn(P, n, np.float64(t0) if vector else t0, t1, dt, save_times)
        data = {}
        for k, vals in raw.items():
            if vector:  # a value can be a shared scalar in one year and per run in another
                data[k] = np.stack([np.broadcast_to(np.asarray(v, dtype=float), (n,))
                                    for v in vals])
            else:
                data[k] = np.asarray(vals, dtype=float)
        count = len(next(iter(raw.values()))) if raw else len(save_times)
        return EnsembleResult(times=np.asarray(save_times[:count], dtype=float), data=data, n=n)


BACKENDS = ("auto", "numpy", "xla")
_process_backend: str | None = None
_process_use: tuple[int, int] | None = None


def set_default_backend(backend: str | None, use: tuple[int, int] | None = None) -> None:
    """The backend of this process's vector runs that name none (None: back to
    ``$GUANGYUAN_ENGINE_BACKEND``, else ``"auto"``). ``use``, ``(calls, runs per call)``, says
    that this is a one-off process (a command), so that ``"auto"`` weighs XLA's one-off compile
    against what it saves (:func:`simulator.backends.choose`); None: a long-lived process."""
    global _process_backend, _process_use
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    _process_backend, _process_use = backend, use


def _choose_backend(backend: str | None, method: str) -> str:
    """``"xla"`` or ``"numpy"`` for a vector run (see :meth:`Engine.run`): the argument, else the
    process default (:func:`set_default_backend`), else ``$GUANGYUAN_ENGINE_BACKEND``, else
    ``"auto"``: numpy for RK4, else the backend measured faster on this machine
    (:mod:`simulator.backends`)."""
    import os
    chosen = (backend or _process_backend or os.environ.get("GUANGYUAN_ENGINE_BACKEND")
              or "auto")
    if chosen not in BACKENDS:
        source = ("backend" if backend or _process_backend
                  else "$GUANGYUAN_ENGINE_BACKEND")
        raise ValueError(f"{source} must be one of {', '.join(BACKENDS)}; got {chosen!r}")
    if chosen == "auto":
        if method != "euler":
            return "numpy"
        from .backends import choose
        return choose(_process_use, engine_for, random_draws)
    if chosen == "xla" and method != "euler":
        raise ValueError(f"the xla backend integrates with Euler only; method {method!r} "
                         "runs on the numpy backend")
    return chosen


_engines: dict[tuple[Path, str], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(mdl_file: str | Path = tables.MODEL_FILE) -> Engine:
    """The :class:`Engine` of ``mdl_file``, parsed once per process and per file content."""
    path = Path(mdl_file).resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    with _engines_lock:
        if (path, digest) not in _engines:
            _engines[(path, digest)] = Engine(path)
        return _engines[(path, digest)]


def random_draws(n: int, seed: int | None = None, engine: Engine | None = None
                 ) -> dict[str, np.ndarray]:
    """``n`` uniform random parameter sets over every range the model knows: each lever in each
    plan period, each scenario assumption and each uncertain constant (a constant with a
    [min, max] range in the .mdl). Seeded with ``np.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    engine = engine or engine_for()
    params = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in engine.limits.items()
              if k not in _CONTROL}
    for lev in tables.levers():
        for period in tables.PERIODS:
            params[lev.period_param(period)] = rng.uniform(lev.min, lev.max, n)
    for ass in tables.assumptions():
        params[ass.param] = rng.uniform(ass.min, ass.max, n)
    return params
