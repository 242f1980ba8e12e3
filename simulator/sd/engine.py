"""The ensemble engine: N parameter sets of a Vensim model run at once as numpy arrays.

Route: **numpy code generated from PySD's abstract model.** The ``.mdl`` is parsed by PySD's
public translator (``VensimFile(...).parse()`` → ``get_abstract_model()``), the same stage
PySD's own Python builder starts from. This module is a second builder: it walks the abstract
syntax of every equation and writes one Python function that integrates the whole model, either
on Python floats (one run, no per-call overhead) or on numpy arrays with a run dimension (N runs
in one pass). Nothing is copied by hand from the model: editing the ``.mdl`` changes the
engine's results with no code change.

Why not the other measured route (driving PySD's translated functions with array-valued constants,
design/pysd-facts.md)? It relies on PySD's private runtime (cache internals, ``float()`` calls that
must be patched around MIN/MAX) and was silently 40-140 % wrong when the constant cache was not
cleared. The abstract model is the documented interface between PySD's translators and builders,
and code generated from it has no caches to go stale.

Semantics follow PySD 3.14's Python builder and runtime exactly (Euler integration, time advanced
by adding TIME STEP, the state layout and update rules of DELAY/SMOOTH — DELAY N's delay time
per stage, DELAY FIXED's pipeline, TREND's state —, SMALL_VENSIM in ZIDZ/XIDZ/RAMP/PULSE, STEP's
half-step tolerance, lookups held at their end values, ACTIVE INITIAL, orders and control
variables read once at the initial time), so results equal a plain PySD run to rounding
(``tests/test_engine.py`` and ``tests/test_engine_corpus.py`` check rtol 1e-9). One exception,
where PySD is not Vensim: PySD keeps a SMOOTH initialised with an integer literal in an integer
array and truncates its first input; the engine does not. Anything else
raises :class:`EngineError` naming the construct and the variable; nothing is approximated:
subscripts, macros, data and external objects, FORECAST, SAMPLE IF TRUE, random functions,
non-negative INTEG, stateful functions nested in an expression, functions not in
``FUNCTIONS``, control variables that depend on Time, a DELAY N / SMOOTH N order that a run's
parameters would change (refused for that run), and uses whose PySD result depends on the order
PySD steps its states in (a DELAY FIXED reading a DELAY1/3 or another DELAY FIXED; a DELAY N with
a time-varying delay time feeding a stock). Ensembles of a model with a DELAY FIXED run on the
numpy backend only, and so do those of a model where INTEGER, MODULO, a comparison or an IF THEN
ELSE condition meets a value XLA may round differently in the last bit (:func:`_xla_inexact`):
``backend="xla"`` is refused by name for them (:attr:`Engine.numpy_only`).

Around the equations the engine follows PySD too: it saves at the steps PySD saves
(:func:`simulator.sd.schedule.schedule`, also for a SAVEPER off the TIME STEP grid and for
``SAVEPER = TIME STEP``), names every variable as PySD's namespace manager does (two Vensim
names with one Python name are an EngineError naming both), and refuses run settings and
constants that cannot give a run (:func:`simulator.base.inputs.check_run_settings`,
:func:`check_param`). :func:`engine_for` and :class:`simulator.model.Model` run a refused model
on PySD instead (:class:`PySDRunner`, with an :class:`EngineFallbackWarning`), so an edited
model always runs: they write the model's code once before any run, so a refusal found only
there (a DELAY N feeding a stock) falls back too, and ``Model`` runs a single run the engine
refuses for its parameters on PySD.

A second integrator, classic fourth-order Runge-Kutta (``method="rk4"``), is available for
integration-error checks; Euler is the default and the one equal to PySD.

Speed: N runs are arrays of N numbers, one numpy operation per model operation per step, and
the generated code does what keeps those passes cheap. Each measure below gives the same
operations and values (to rounding where said); what they gain on a given CPU is printed by
``benchmarks/ensemble.py``, not written here.

* Only what the derivatives need is computed every step; variables that only saved outputs
  need are computed at save times, and the rest not at all.
* A power ``b ** e`` with a time-varying base and an exponent fixed for the run is written
  ``exp(e * log(b))``, with ``log(b)`` computed once per step for every power of that base; a
  product of such powers becomes a single ``exp(e1 * log(b1) + e2 * log(b2))``. This changes
  results by rounding only, and only where it is the same number: a step where some base is not
  positive and finite, an exponent is not finite, or a term ``e * log(b)`` could reach 700 in
  magnitude (a power over- or underflowing) uses the plain powers. A model where such a power
  meets INTEGER, MODULO, a comparison or an IF THEN ELSE condition computes every power plainly,
  as PySD does (:func:`_rewritten_powers_step`): there a last-bit difference would be a whole
  step.
* A leading run of step-invariant operands in a chain (``a * b * x``) is computed once before the
  loop, as whole step-invariant sub-expressions are: the same operations in the same order.
* Every value computed in the loop is deleted right after its last use in the step, so the
  allocator reuses its memory while it is still in cache, and glibc is asked, once per process,
  to keep freed memory rather than return it to the system after every step
  (:func:`_keep_freed_memory`).
* Not used, because they measured no faster where they were tried: threads over slices of the
  runs, numexpr, and blocking the runs into cache-sized slices (``benchmarks/ensemble.py`` is
  the yardstick for trying again).

The rest comes from compiling: ``target="xla"`` writes the same step as functions that
:mod:`simulator.sd.xla` traces with JAX into one XLA program, which fuses each step's operations,
keeps intermediate values in registers and has vectorised exp/log, equal to PySD to rtol 1e-9
like the numpy code. Which of the two is faster depends on the CPU (numpy's own exp/log are SIMD
loops only with AVX-512) and on the use (XLA compiles once per process and kind of call), so
``"auto"`` picks the one measured faster on the machine it runs on (:mod:`simulator.sd.backends`;
``backend=`` and :func:`set_default_backend` choose explicitly). One run is always the scalar
code.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import math
import platform
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.base.inputs import CONTROL, InputError, check_run_settings, excerpt, one_line
from simulator.sd import translate
from simulator.sd.schedule import SMALL_VENSIM, schedule

_STATEFUL = ("stock", "trend", "smooth", "delay", "fixed")  # node kinds that hold state
_TIME_FUNCTIONS = {"step", "ramp", "pulse", "pulse_train", "Xpulse", "Xpulse_train", "Xramp"}


class EngineError(ValueError):
    """The model uses something the engine cannot compute exactly (names it and the variable)."""


class EngineFallbackWarning(UserWarning):
    """The engine refused a model, and PySD runs it instead (the message says why)."""


# --------------------------------------------------------------------------------------------
# Abstract model → nodes

@dataclass
class _Node:
    name: str                      # Python name (as PySD names it)
    kind: str                      # constant | aux | initial | stock | smooth | delay | fixed |
                                   # trend | lookup
    ast: Any = None                # aux/initial expression; stock flow; smooth/delay input
    init: Any = None               # stock/smooth/delay initial value
    time: Any = None               # smooth/delay time
    order: int = 1
    value: float | None = None     # constant value
    xs: tuple = ()                 # lookup table
    ys: tuple = ()
    limits: tuple | None = None    # (min, max) from the Vensim units field, if given
    lower: float | None = None     # the min of the Vensim units field, if given (``[0,?]``)
    units: str = ""                # the units the Vensim units field declares
    deps: set = field(default_factory=set)        # references needed by ast (dynamic part)
    init_deps: set = field(default_factory=set)   # references needed at initialisation
    # set for a DELAY N / SMOOTH N order or a control variable written as an expression: the
    # expression, evaluated once at the initial time (as PySD does), and the Vensim name
    formula: Any = None
    vname: str = ""
    construct: str = ""            # the Vensim function an aux stands for (TREND: not a parameter)
    staged: bool = False           # DELAY N: a delay time per stage where it varies (DelayN)


_ACTIVE_INITIAL = "active_initial"
_VENSIM_NAMES = {"DelayStructure": "DELAY1/DELAY3", "DelayNStructure": "DELAY N",
                 "SmoothStructure": "SMOOTH/SMOOTH3", "SmoothNStructure": "SMOOTH N"}


def _refs(ast: Any, out: set, owner: str, lookups: set, initial: bool = False) -> set:
    """Collect variable references of an expression (function names excluded). With
    ``initial``, what the expression needs at initialisation (ACTIVE INITIAL's initial value,
    not its active expression)."""
    from pysd.translators.structures import abstract_expressions as ae
    if ast is None or isinstance(ast, (int, float)):
        return out
    if isinstance(ast, ae.ReferenceStructure):
        if ast.subscripts is not None:
            raise EngineError(f"subscripts ({ast.reference}[...]) in variable {owner!r} are not supported")
        out.add(ast.reference)
    elif isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure)):
        for arg in ast.arguments:
            _refs(arg, out, owner, lookups, initial)
    elif isinstance(ast, ae.CallStructure):
        fname = ast.function.reference
        if fname in lookups:
            out.add(fname)
        args = ast.arguments
        if fname == _ACTIVE_INITIAL:
            # the active value is computed every step (the variable is never step-invariant:
            # its value at initialisation differs), the initial one only at initialisation
            if len(args) != 2:
                raise EngineError(f"ACTIVE INITIAL in variable {owner!r} takes 2 arguments, "
                                  f"got {len(args)}")
            args = args[1:] if initial else args
            if not initial:
                out.add("time")
        if fname in _TIME_FUNCTIONS:  # they read the clock without naming Time
            out.add("time")
        for arg in args:
            _refs(arg, out, owner, lookups, initial)
    elif isinstance(ast, ae.InlineLookupsStructure):
        _refs(ast.argument, out, owner, lookups, initial)
    else:
        # stateful structures nested inside expressions are not supported (PySD would create an
        # anonymous stateful object; our models write them as their own variables)
        name = type(ast).__name__.replace("Structure", "")
        raise EngineError(f"{name} nested in an expression of variable {owner!r} "
                          "is not supported; give it its own variable")
    return out


def _namespace(section) -> dict[str, str]:
    """The Python name of every element of ``section``, by Vensim name, exactly as PySD's builder
    makes them (:func:`simulator.sd.translate.python_name`); every reference in the elements'
    equations is rewritten to the same names.

    Two Vensim names with the same Python name (``a b`` and ``"a b"``, or ``input`` and
    ``input 1``) are an :class:`EngineError` naming both: PySD would call the second ``..._1``,
    a name nobody wrote, and the engine refuses to guess which one a scenario or a table means.
    """
    from pysd.translators.structures import abstract_expressions as ae
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for element in section.elements:
        ident = translate.python_name(element.name)
        if ident in owner and owner[ident] != element.name:
            raise EngineError(f"Vensim names {owner[ident]!r} and {element.name!r} both become "
                              f"the Python name {ident!r}; rename one of them")
        owner[ident] = element.name
        names[element.name] = ident
    clean = translate.reference_names(names)  # as PySD spells references in equations
    lookups = {names[e.name] for e in section.elements
               if len(e.components) == 1 and isinstance(e.components[0].ast, ae.LookupsStructure)}

    def rename(node):
        if isinstance(node, (list, tuple)):
            for item in node:
                rename(item)
            return
        if not hasattr(node, "__dataclass_fields__"):
            return
        if isinstance(node, ae.CallStructure):
            # a call names a function, or a lookup table of the model
            target = clean.get(node.function.reference)
            if target in lookups:
                node.function.reference = target
            rename(node.arguments)
            return
        if isinstance(node, ae.ReferenceStructure):
            node.reference = clean.get(node.reference, node.reference)
            return
        for fname in node.__dataclass_fields__:
            rename(getattr(node, fname))

    for element in section.elements:
        for comp in element.components:
            rename(comp.ast)
    return names


def _value_at_start(nodes: Mapping[str, _Node], ast: Any, owner: str,
                    values: Mapping[str, Any] | None = None) -> Any:
    """The value of ``ast`` at the initial time, as PySD evaluates a DELAY N order or a control
    variable written as an expression: from constants (``values`` overrides them), auxiliaries
    and lookups. Anything else is refused, naming ``owner``."""
    import re
    lookups = {n for n, v in nodes.items() if v.kind == "lookup"}
    values = values or {}
    env: dict[str, Any] = {}

    def value(name: str, path: tuple) -> Any:
        if name in env:
            return env[name]
        if name in path:
            raise EngineError(f"variable {owner!r}: circular definition through {name!r}")
        node = nodes.get(name)
        if name == "time":
            result = value("initial_time", path + (name,))
        elif node is None:
            raise EngineError(f"variable {owner!r} refers to undefined {name!r}")
        elif name in values:
            result = values[name]
        elif node.kind == "constant":
            result = node.value if node.formula is None else evaluate(node.formula, path + (name,))
        elif node.kind == "aux":
            result = evaluate(node.ast, path + (name,))
        else:
            raise EngineError(f"variable {owner!r}: {name!r} ({node.kind}) has no value before "
                              "the model is initialised; the engine needs a value from "
                              "constants and auxiliaries here")
        env[name] = result
        return result

    def evaluate(expr: Any, path: tuple) -> Any:
        em = _Emitter(nodes, vector=False)
        em.initialising = True
        text = em.expr(expr, owner)
        scope = dict(_GLOBALS)
        for ref in _refs(expr, set(), owner, lookups):
            if ref in lookups:
                scope[f"LX_{ref}"] = np.array(nodes[ref].xs)
                scope[f"LY_{ref}"] = np.array(nodes[ref].ys)
            elif ref != "time":
                scope[em.var(ref)] = value(ref, path)
        if re.search(r"\bt\b", text):
            scope["t"] = value("time", path)
        if re.search(r"\bdt\b", text):
            scope["dt"] = value("time_step", path)
        with np.errstate(all="ignore"):
            return eval(text, scope)  # noqa: S307 (code generated from the model's equations)

    return evaluate(ast, ())


def _nodes_from_mdl(mdl_file: Path) -> dict[str, _Node]:
    model = translate.abstract_model(mdl_file)
    from pysd.translators.structures import abstract_expressions as ae
    if len(model.sections) != 1:
        names = [s.name for s in model.sections if s.name != "__main__"]
        raise EngineError(f"macros are not supported (found {', '.join(names)})")
    section = model.sections[0]
    if section.subscripts:
        raise EngineError("subscripted models are not supported (found subscript ranges "
                          f"{', '.join(s.name for s in section.subscripts)})")

    identifiers = _namespace(section)
    elements = {}
    limits: dict[str, tuple[float, float]] = {}
    lower: dict[str, float] = {}
    units: dict[str, str] = {}
    for element in section.elements:
        name = identifiers[element.name]
        units[name] = (element.units or "").strip()
        lim = element.limits or ()
        if len(lim) >= 2 and lim[0] is not None and lim[1] is not None:
            limits[name] = (float(lim[0]), float(lim[1]))
        if len(lim) >= 1 and lim[0] is not None:
            lower[name] = float(lim[0])
        if len(element.components) != 1:
            raise EngineError(f"variable {element.name!r} has {len(element.components)} "
                              "equations (subscripted definitions are not supported)")
        comp = element.components[0]
        if comp.subscripts and (comp.subscripts[0] or comp.subscripts[1]):
            raise EngineError(f"subscripts in variable {element.name!r} are not supported")
        elements[name] = (element.name, comp.ast)
    lookups = {n for n, (_, ast) in elements.items() if isinstance(ast, ae.LookupsStructure)}

    nodes: dict[str, _Node] = {}
    orders: list[tuple[_Node, Any]] = []
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
            node = _Node(name, kind, ast=ast.input, init=ast.initial, time=delay, vname=vname,
                         construct=_VENSIM_NAMES[type(ast).__name__])
            node.deps = _refs(ast.input, set(), vname, lookups) | _refs(delay, set(), vname, lookups)
            node.init_deps = _refs(ast.initial, set(), vname, lookups) | \
                _refs(delay, set(), vname, lookups)
            if isinstance(ast.order, (int, float)):
                node.order = _order_value(node, ast.order)
            else:  # PySD evaluates the order once, at initialisation
                node.formula = ast.order
                node.init_deps |= _refs(ast.order, set(), vname, lookups)
                orders.append((node, ast.order))
            # DELAY N keeps one delay time per stage (PySD's DelayN); DELAY1/3 one for all
            node.staged = isinstance(ast, ae.DelayNStructure)
            nodes[name] = node
        elif isinstance(ast, ae.DelayFixedStructure):
            node = _Node(name, "fixed", ast=ast.input, init=ast.initial, time=ast.delay_time,
                         vname=vname)
            node.deps = _refs(ast.input, set(), vname, lookups)
            node.init_deps = _refs(ast.initial, set(), vname, lookups) | \
                _refs(ast.delay_time, set(), vname, lookups)
            nodes[name] = node
        elif isinstance(ast, ae.TrendStructure):
            # PySD's Trend: a state S with dS/dt = (input - S) / average time, S(0) = input /
            # (1 + initial trend * average time), and the value ZIDZ(input - S, average time *
            # ABS(S)): a hidden stock and an auxiliary, written as those expressions
            state = f"_trend_{name}"
            ref = ae.ReferenceStructure(state)
            inp, avg = ast.input, ast.average_time
            flow = ae.ArithmeticStructure(["/"], (ae.ArithmeticStructure(["-"], (inp, ref)), avg))
            init = ae.ArithmeticStructure(["/"], (inp, ae.ArithmeticStructure(
                ["+"], (1, ae.ArithmeticStructure(["*"], (ast.initial_trend, avg))))))
            out = ae.CallStructure(ae.ReferenceStructure("zidz"), (
                ae.ArithmeticStructure(["-"], (inp, ref)),
                ae.ArithmeticStructure(["*"], (avg, ae.CallStructure(
                    ae.ReferenceStructure("abs"), (ref,))))))
            hidden = _Node(state, "trend", ast=flow, init=init, vname=vname)
            hidden.deps = _refs(flow, set(), vname, lookups)
            hidden.init_deps = _refs(init, set(), vname, lookups)
            nodes[state] = hidden
            node = _Node(name, "aux", ast=out, vname=vname, construct="TREND")
            node.deps = _refs(out, set(), vname, lookups)
            node.init_deps = set(node.deps)
            nodes[name] = node
        elif isinstance(ast, ae.InitialStructure):
            node = _Node(name, "initial", ast=ast.initial)
            node.init_deps = _refs(ast.initial, set(), vname, lookups)
            nodes[name] = node
        elif isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure, ae.ReferenceStructure,
                              ae.CallStructure, ae.InlineLookupsStructure)):
            node = _Node(name, "aux", ast=ast, vname=vname)
            node.deps = _refs(ast, set(), vname, lookups)
            node.init_deps = _refs(ast, set(), vname, lookups, initial=True)
            if node.deps != node.init_deps:
                node.construct = "ACTIVE INITIAL"
            nodes[name] = node
        else:
            raise EngineError(f"{type(ast).__name__.replace('Structure', '')} in variable "
                              f"{vname!r} is not supported by the engine")
    if len(nodes) != len(elements) + sum(n.kind == "trend" for n in nodes.values()):
        raise EngineError("a hidden TREND state collides with a model variable named "
                          + ", ".join(sorted(n for n in nodes if n.startswith("_trend_"))))
    known = set(nodes) | {"time"}
    for node in nodes.values():
        missing = (node.deps | node.init_deps) - known
        if missing:
            raise EngineError(f"variable {node.name!r} refers to undefined {sorted(missing)}")
    for node in nodes.values():
        if node.kind == "fixed":
            _check_fixed_input(nodes, node)
    # control variables written as expressions of constants (SAVEPER = TIME STEP): constants
    # whose value is the expression's, recomputed by Engine.run from the run's settings
    for ctl in CONTROL:
        node = nodes.get(ctl)
        if node is None:
            raise EngineError(f"control variable {ctl!r} is missing")
        if node.kind == "aux" and not node.construct:
            seen, todo = set(), list(node.deps)
            while todo:  # PySD reads control variables again every step: constants only
                ref = todo.pop()
                if ref == "time":
                    raise EngineError(f"control variable {ctl!r} depends on Time; it must be "
                                      "a number or an expression of constants")
                if ref not in seen and ref in nodes and nodes[ref].kind == "aux":
                    seen.add(ref)
                    todo.extend(nodes[ref].deps)
            nodes[ctl] = _Node(ctl, "constant", formula=node.ast, deps=node.deps,
                               vname=elements[ctl][0])
        elif node.kind != "constant":
            raise EngineError(f"control variable {ctl!r} must be a number or an expression of "
                              "constants")
    for ctl in CONTROL:
        node = nodes[ctl]
        if node.formula is not None:
            value = _value_at_start(nodes, node.formula, node.vname)
            if np.ndim(value) or not isinstance(value, (int, float, np.floating)):
                raise EngineError(f"control variable {ctl!r} must be a number")
            node.value = float(value)
    for node, order in orders:
        node.order = _order_value(node, _value_at_start(nodes, order, node.vname))
    for name, lim in limits.items():
        nodes[name].limits = lim
    for name, low in lower.items():
        nodes[name].lower = low
    for name, unit in units.items():
        nodes[name].units = unit
        nodes[name].vname = elements[name][0]
    return nodes


def _check_fixed_input(nodes: Mapping[str, _Node], node: _Node) -> None:
    """Refuse a DELAY FIXED whose input reads (through auxiliaries) a DELAY1/DELAY3 or another
    DELAY FIXED. PySD writes the input into the pipeline while it updates its states one object
    after the other, in the order of their names: such an input may be read after those states
    have already moved to the next step (or before), depending on what it cached."""
    seen, todo = set(), list(node.deps)
    while todo:
        name = todo.pop()
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        other = nodes[name]
        if (other.kind == "delay" and other.construct == "DELAY1/DELAY3") or \
                (other.kind == "fixed" and name != node.name):
            raise EngineError(f"DELAY FIXED in variable {node.vname!r} reads {other.vname!r} "
                              f"({'DELAY FIXED' if other.kind == 'fixed' else 'DELAY1/DELAY3'}): "
                              "not supported, PySD's result there depends on the order in which "
                              "it updates its states")
        if other.kind == "aux":
            todo.extend(other.deps)


def _order_value(node: _Node, value: Any) -> int:
    """The number of stages of a DELAY N / SMOOTH N whose order evaluated to ``value``: PySD
    truncates a delay's order to an integer and uses a smooth's as it is (refused unless
    whole)."""
    if np.ndim(value):
        raise EngineError(f"the order of {node.construct} in variable {node.vname!r} must be "
                          "the same for all runs")
    value = float(value)
    if node.kind == "delay":
        order = int(value) if math.isfinite(value) else 0
    elif math.isfinite(value) and value == int(value):
        order = int(value)
    else:
        order = 0
    if order < 1:
        raise EngineError(f"order {value:g} of {node.construct} in variable {node.vname!r} is "
                          "not supported")
    return order


def _control_values(nodes: Mapping[str, _Node], P: dict, given: set) -> None:
    """Recompute, in ``P``, the control variables the model writes as expressions (SAVEPER =
    TIME STEP) and the run did not set, from the run's values (as PySD's control functions
    do: ``run(time_step=...)`` moves such a SAVEPER too)."""
    for ctl in CONTROL:
        node = nodes[ctl]
        if node.formula is not None and ctl not in given:
            values = {k: v for k, v in P.items() if not (
                k in CONTROL and nodes[k].formula is not None and k not in given)}
            try:
                value = _value_at_start(nodes, node.formula, node.vname, values)
                P[ctl] = float(value) if np.ndim(value) == 0 else value
            except EngineError:
                raise
            except (TypeError, ValueError):  # from a setting that is not a number: the run's
                continue                     # check of its settings names that one


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
    # PySD's pulse(): 1 in [start - SMALL_VENSIM, start + width), a train repeating it every
    # interval (a width measured from t - start + SMALL_VENSIM) from start until end
    "pulse": (2, "np.where((({0}) - 1e-06 <= t) & (t < ({0}) + ({1})), 1.0, 0.0)",
              "(1.0 if ({0}) - 1e-06 <= t < ({0}) + ({1}) else 0.0)"),
    "pulse_train": (4, "np.where(({1}) == 0, np.where((({0}) - 1e-06 <= t) & (t < ({0}) + ({2})), "
                       "1.0, 0.0), np.where((({0}) <= t) & (t < ({3})) & "
                       "(np.remainder(t - ({0}) + 1e-06, {1}) < ({2})), 1.0, 0.0))",
                    "_spulse_train(t, {0}, {1}, {2}, {3})"),
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
        # code for simulator.sd.xla to trace: a choice between a power through a shared logarithm
        # and the plain power is made by lax.cond on the whole array, not by Python's if
        self.xla = xla
        self.static: set[str] | None = None
        self.hoisted: dict[str, str] = {}
        # inside the time loop: statements that must run before the expression being written
        # (shared bases, logarithms and powers), and what they computed, by expression text
        self.pre: list[str] | None = None
        self.cse: dict[tuple, str] = {}
        self._tmp = 0
        # writing the initialisation: ACTIVE INITIAL takes its initial value
        self.initialising = False
        # plain ``b ** e`` everywhere (as PySD computes), set where a power's last bit could
        # become a whole step (:func:`_rewritten_powers_step`)
        self.plain_powers = False

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
        return (not self.plain_powers
                and isinstance(ast, ae.ArithmeticStructure) and list(ast.operators) == ["^"]
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
            value = float(ast)
            if math.isnan(value):  # :NA: (PySD's np.nan)
                return "np.nan"
            if math.isinf(value):
                return "np.inf" if value > 0 else "(-np.inf)"
            return repr(value)
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
            if fname == _ACTIVE_INITIAL:  # PySD: the initial value while initialising
                return self.expr(ast.arguments[1 if self.initialising else 0], owner)
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
    """Source of ``simulate(P, n, t0, t_final, dt, save_at)``, which returns the values of
    ``save_names`` at the steps ``k`` where ``save_at[k]`` is true, as lists (see
    :func:`schedule`).

    With ``target="xla"`` (vector Euler code only) the source instead defines ``prepare`` (the
    same code up to the time loop, run by numpy) and the three parts of one step as functions of
    a dict of values — ``stage`` (what the step computes from the states), ``save`` (the saved
    variables) and ``advance`` (the Euler update) — for :class:`simulator.sd.xla.Program` to trace
    into one compiled loop."""
    if target not in ("numpy", "xla"):
        raise ValueError(f"target must be 'numpy' or 'xla', got {target!r}")
    if target == "xla" and not (vector and method == "euler"):
        raise ValueError("the XLA target compiles vector Euler code only")
    em = _Emitter(nodes, vector, xla=target == "xla")
    em.plain_powers = _rewritten_powers_step(nodes) is not None
    statefuls = [n for n in nodes.values() if n.kind in _STATEFUL]
    for node in statefuls:
        if node.kind == "fixed" and target == "xla":
            raise EngineError(f"DELAY FIXED in variable {node.vname!r} runs on the numpy backend "
                              "only (its pipeline's length is known only when the run starts)")
        if node.kind == "fixed" and method != "euler":
            raise EngineError(f"DELAY FIXED in variable {node.vname!r} is integrated with Euler "
                              f"only, not {method!r}")
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
    lookups = {n.name for n in nodes.values() if n.kind == "lookup"}
    staged = set()  # DELAY N keeps a delay time per stage (only where it varies, else the same)
    # DELAY1/3 with a time-varying delay time: the value (last stage / delay time now) is
    # computed with the auxiliaries, after the delay time, not right after the Euler update
    late: dict[str, set] = {}
    for node in statefuls:
        times = _refs(node.time, set(), node.name, lookups) if node.kind == "delay" else set()
        if times & (dynamic | stateful_names | {"time"}):
            if node.staged:
                staged.add(node.name)
            else:
                late[node.name] = times
        if node.name in staged and method != "euler":
            raise EngineError(f"DELAY N with a time-varying delay time in variable "
                              f"{node.vname!r} is integrated with Euler only, not {method!r}")

    lines = ["def simulate(P, n, t0, t_final, dt, save_at):"]
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
        if node.kind in _STATEFUL or node.kind in ("initial", "aux"):
            return node.init_deps
        return set()

    init_set = set(stateful_names) | initials | static
    frontier = list(init_set)
    while frontier:
        n = frontier.pop()
        for d in init_deps(n):
            if d in nodes and (nodes[d].kind in _STATEFUL or nodes[d].kind in ("aux", "initial")) \
                    and d not in init_set:
                init_set.add(d)
                frontier.append(d)
    em.initialising = True
    for name in _toposort(init_set, init_deps):
        node = nodes[name]
        if node.formula is not None and node.kind in ("smooth", "delay"):
            # the order was evaluated when the model was read; a run may not change it
            value = f"_np.asarray({em.expr(node.formula, name)})"
            value = f"_np.trunc({value})" if node.kind == "delay" else value
            w(f"if _np.any({value} != {node.order}):")
            w(f"    raise EngineError('the order of {node.construct} in variable ' + "
              f"{repr(node.vname)!r} + ' changes with these parameters; the engine keeps the "
              f"model\\'s order, {node.order}')")
        if node.kind in ("stock", "trend"):
            w(f"s_{name} = {zero}{em.expr(node.init, name)}")
            w(f"v_{name} = s_{name}")
        elif node.kind == "fixed":
            # PySD's DelayFixed: a pipeline of round(max(delay / TIME STEP, 1)) values, fixed
            # at initialisation, filled with the initial value; each step writes the input at
            # the pointer, advances it and reads the value there
            w(f"_dt_{name} = {em.expr(node.time, name)}")
            w(f"if _np.ndim(_dt_{name}) > 0:")
            w(f"    raise EngineError('DELAY FIXED in variable ' + {repr(node.vname)!r} + ': the delay "
              "time must be the same for all runs')")
            w(f"_n_{name} = round(max(float(_dt_{name}) / dt, 1) + {SMALL_VENSIM!r})")
            w(f"p_{name} = [{em.expr(node.init, name)}] * _n_{name}")
            w(f"k_{name} = 0")
            w(f"v_{name} = p_{name}[0]")
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
                if name in staged:  # PySD's DelayN: the delay time each stage was entered with
                    w(f"tau_{name}_{i} = _dt_{name}")
            w(f"v_{name} = s_{name}_{node.order - 1} / _dt_{name}")
        else:  # aux or initial
            src = node.ast
            w(f"v_{name} = {em.expr(src, name)}")
    em.initialising = False

    def aux_deps(name: str) -> set:
        return late[name] if name in late else nodes[name].deps

    dynamic |= set(late)
    dyn_order = _toposort(dynamic, aux_deps)
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
                todo.extend(d for d in aux_deps(n) if d in dynamic)
        return seen

    every_step = closure(set().union(*(n.deps for n in statefuls)) if statefuls else set())
    for node in statefuls:
        readers = [n.name for n in statefuls if node.name in n.deps] + \
            [a for a in every_step if node.name in nodes[a].deps]
        if node.name in staged and readers:
            raise EngineError(
                f"DELAY N with a time-varying delay time in variable {node.vname!r} feeds the "
                f"derivative of a state (through {sorted(readers)[0]!r}): not supported, PySD's "
                "result there depends on the order in which it updates its states")
    step_order = [n for n in dyn_order if n in every_step]
    save_order = [n for n in dyn_order if n in closure(save_names) - every_step]

    def aux_statement(name: str, prefix: str) -> list[str]:
        node = nodes[name]
        if name not in late:
            return em.statement(f"v_{name}", node.ast, name, prefix)
        return em.statement("_dtm", node.time, name, prefix) + \
            [f"{prefix}v_{name} = s_{name}_{node.order - 1} / _dtm"]

    def stage_aux(out: list[str]):
        em.cse = {}  # states and time have moved: nothing computed before is valid
        for name in step_order:
            out.extend(aux_statement(name, ""))

    def save_aux(out: list[str], prefix: str):
        outer = dict(em.cse)  # what is computed here exists only at save times
        for name in save_order:
            out.extend(aux_statement(name, prefix))
        em.cse = outer

    def stateful_outputs(out: list[str], suffix=""):
        em.cse = {}
        for node in statefuls:
            if node.kind in ("stock", "trend"):
                out.append(f"v_{node.name} = s_{node.name}{suffix}")
            elif node.kind == "fixed":
                out.append(f"v_{node.name} = p_{node.name}[k_{node.name}]")
            elif node.name in staged:  # PySD's DelayN divides by the newest stage's delay time
                out.append(f"v_{node.name} = s_{node.name}_{node.order - 1}{suffix} / "
                           f"tau_{node.name}_0")
            elif node.kind == "smooth":
                out.append(f"v_{node.name} = s_{node.name}_{node.order - 1}{suffix}")
            elif node.name not in late:
                out.extend(em.statement("_dtm", node.time, node.name))
                out.append(f"v_{node.name} = s_{node.name}_{node.order - 1}{suffix} / _dtm")

    def derivatives(out: list[str], tag: str):
        for node in statefuls:
            nm = node.name
            if node.kind in ("stock", "trend"):
                out.extend(em.statement(f"d{tag}_{nm}", node.ast, nm))
            elif node.kind == "fixed":  # the input at this step, written after the update
                out.extend(em.statement(f"_fin_{nm}", node.ast, nm))
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
                if nm in staged:  # PySD's DelayN: shift the stages' delay times, newest first
                    for i in range(node.order - 1, 0, -1):
                        out.append(f"tau_{nm}_{i} = tau_{nm}_{i - 1}")
                    out.append(f"tau_{nm}_0 = _dtm")
                for i in range(node.order):
                    divisor = f"tau_{nm}_{i}" if nm in staged else "_dtm"
                    out.append(f"_q{i} = s_{nm}_{i} / {divisor}")
                    out.append(f"d{tag}_{nm}_{i} = ({prev} - _q{i}) * {node.order}")
                    prev = f"_q{i}"

    def state_names():
        for node in statefuls:
            if node.kind in ("stock", "trend"):
                yield f"s_{node.name}"
            elif node.kind != "fixed":
                for i in range(node.order):
                    yield f"s_{node.name}_{i}"

    def euler_step(out: list[str]):
        derivatives(out, "")
        for s in state_names():
            out.append(f"{s} = {s} + d_{s[2:]} * dt")
        for node in statefuls:
            if node.kind == "fixed":
                nm = node.name
                out.append(f"p_{nm}[k_{nm}] = _fin_{nm}")
                out.append(f"k_{nm} = (k_{nm} + 1) % _n_{nm}")
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
    w("_k = 0")
    w("while True:")
    loop: list[str] = []
    stage_aux(loop)
    loop.append("if save_at[_k]:")
    save_aux(loop, "    ")
    for i, name in enumerate(save_names):
        loop.append(f"    _o{i}.append(v_{name})")
    if not save_names:
        loop.append("    pass")
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
    loop.append("_k += 1")
    body.extend("    " + line for line in loop)
    w("return {" + ", ".join(f"{name!r}: _o{i}" for i, name in enumerate(save_names)) + "}")
    at = body.index("_HOIST_")
    body[at:at + 1] = [f"{name} = {text}" for text, name in em.hoisted.items()]
    return _free_dead_values("\n".join(lines + [ind + b for b in body]) + "\n")


#: Held around every ``ast.parse`` (Python AST objects built from source). CPython 3.11 keeps the
#: recursion counter of that conversion per interpreter, not per thread, so two threads parsing
#: at once can fail with "AST constructor recursion depth mismatch" (python/cpython#106905): the
#: app generates engine code in a background thread while Streamlit parses ``app.py``, so the app
#: makes Streamlit's script compile hold this lock too
#: (``simulator.app.hooks.serialise_script_compiles``).
AST_LOCK = threading.RLock()


def _parse(src: str):
    """``ast.parse(src)`` under :data:`AST_LOCK`."""
    import ast
    with AST_LOCK:
        return ast.parse(src)


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
    tree = _parse("\n".join(lines + ([f"_ = {result}"] if result else [])) or "pass")
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

    tree = _parse(src)
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
    free there, and taken back on the next allocation, page by page: a page fault for every page
    of every step's arrays (``benchmarks/ensemble.py`` shows what that costs). Raising the trim
    threshold (and the size above which blocks are mapped on their own, which setting the first
    one would otherwise freeze at 128 KiB) removes them. Done once per process; memory use is
    unchanged except that up to the threshold of freed memory stays with the process. Nothing
    happens elsewhere than on glibc."""
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


def _spulse_train(t, start, interval, width, end):
    """PySD's ``pulse(time, start, repeat_time=interval, width=width, end=end)`` on floats."""
    if interval == 0:
        return 1.0 if start - SMALL_VENSIM <= t < start + width else 0.0
    if start <= t < end:
        return 1.0 if (t - start + SMALL_VENSIM) % interval < width else 0.0
    return 0.0


def _cond(pred, fast, plain):
    return fast() if pred else plain()


_GLOBALS = {
    "np": np, "_np": np, "EngineError": EngineError, "_cond": _cond, "_zidz": _zidz,
    "_szidz": _szidz, "_xidz": _xidz, "_sxidz": _sxidz, "_modulo": _modulo, "_where": _where,
    "_exp": _sexp, "_log": _slog, "_sqrt": _ssqrt, "_logpos": _logpos, "_slogpos": _slogpos,
    "_finite": _finite, "_absmax": _absmax, "_spulse_train": _spulse_train,
}


# --------------------------------------------------------------------------------------------
# Time: run settings and the steps that are saved

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


# --------------------------------------------------------------------------------------------
# On-disk cache of what an Engine keeps (a new process then needs no PySD import)

#: Bump when what the cache holds changes meaning; the engine's own source is hashed too.
ENGINE_CACHE_VERSION = 1
_CACHE_FORMAT = "guangyuan-engine-cache"
_CACHE_SOURCES = 64  # generated sources kept per model (the oldest are dropped)


def _engine_version() -> str:
    """Hash of what the cached metadata and sources depend on: :data:`ENGINE_CACHE_VERSION`,
    the source of this module, :mod:`simulator.sd.xla`, :mod:`simulator.sd.schedule` and
    :mod:`simulator.sd.translate` (which reads the model), and the installed PySD's version
    (:func:`simulator.sd.translate.pysd_version_bytes`)."""
    h = hashlib.sha256(f"{_CACHE_FORMAT}/{ENGINE_CACHE_VERSION}".encode())
    here = Path(__file__).resolve().parent
    for name in ("engine.py", "xla.py", "schedule.py", "translate.py"):
        h.update((here / name).read_bytes())
    h.update(translate.pysd_version_bytes())
    return h.hexdigest()


def _cache_path(sha: str) -> Path:
    """The cache file of a model whose bytes hash to ``sha`` (in ``$GUANGYUAN_CACHE``, the
    directory of :func:`simulator.sd.backends.cache_file`)."""
    from simulator.sd.backends import cache_file
    return cache_file().parent / f"engine-{sha[:32]}.json"


def _source_key(key: tuple) -> str:
    vector, method, overridden, save, target = key
    return json.dumps([bool(vector), method, sorted(overridden), list(save), target])


def _checksum(meta: Any, sources: Any) -> str:
    text = json.dumps([meta, sources], sort_keys=True, ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _is_names(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) for s in x)


def _is_map(x: Any, ok) -> bool:
    return isinstance(x, dict) and all(isinstance(k, str) and ok(v) for k, v in x.items())


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_pair(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and all(_is_number(v) for v in x)


#: Each field of the cached metadata and the check its JSON value must pass.
_META_CHECKS = {
    "constants": lambda x: _is_map(x, _is_number),
    "variables": _is_names,
    "limits": lambda x: _is_map(x, _is_pair),
    "units": lambda x: _is_map(x, lambda v: isinstance(v, str)),
    "overridable": _is_names,
    "lower_limits": lambda x: _is_map(x, _is_number),
    "xla_inexact": lambda x: x is None or (_is_names(x) and len(x) == 2),
    "numpy_only": lambda x: x is None or isinstance(x, str),
    "auxes": _is_names,
    "control_formulas": _is_names,
}


def _read_cache(path: Path, sha: str, version: str) -> tuple[dict, dict] | None:
    """``(meta, sources)`` from the cache file, or None if it is missing, from another model or
    engine version, or anything but what :meth:`Engine._save_cache` writes (truncated, edited,
    wrong types): such a file is never trusted, the engine is built again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT \
            or data.get("model_sha256") != sha or data.get("engine_version") != version:
        return None
    meta, sources = data.get("meta"), data.get("sources")
    if not isinstance(meta, dict) or set(meta) != set(_META_CHECKS) \
            or not all(check(meta[k]) for k, check in _META_CHECKS.items()) \
            or not set(CONTROL) <= set(meta["constants"]) \
            or not _is_map(sources, lambda v: isinstance(v, str)) \
            or data.get("checksum") != _checksum(meta, sources):
        return None
    return meta, sources


class Engine:
    """A Vensim model compiled to numpy code; runs one or N parameter sets at once.

    Usually obtained through :func:`engine_for`, which keeps one per model and process and
    falls back to PySD for a model the engine refuses.

    Parameters
    ----------
    mdl_file : str or Path
        The Vensim model.
    default_variables : sequence of str, optional
        Python names a run saves when it is not told; default every variable.

    Notes
    -----
    What the engine keeps of the model (constants, names, units, limits, the backends it may
    run on) and the code it generates are cached on disk (``engine-*.json`` in
    ``$GUANGYUAN_CACHE``, see :func:`_read_cache`), keyed by the model file's SHA-256 and the
    engine's version (:func:`_engine_version`): a new process then runs the model without
    importing PySD, and :attr:`nodes` is read from PySD's abstract model only when something
    needs it (code not generated before, :mod:`simulator.analysis.validation`). A stale, damaged
    or unreadable file is never trusted: the model is read again and the file rewritten.

    Examples
    --------
    >>> eng = Engine("model.mdl")                                     # doctest: +SKIP
    >>> res = eng.run({"knowledge_depreciation_rate": np.linspace(0.1, 0.3, 1000)},
    ...               variables=["rd_intensity"])            # doctest: +SKIP
    >>> res["rd_intensity"].shape          # (saved times, runs)    # doctest: +SKIP
    (16, 1000)
    """

    def __init__(self, mdl_file: str | Path, default_variables: Sequence[str] | None = None):
        self.mdl_file = Path(mdl_file).resolve()
        #: What a run saves when it is not told (:func:`_saved_variables`).
        self.default_variables = None if default_variables is None else tuple(default_variables)
        self._sha = hashlib.sha256(self.mdl_file.read_bytes()).hexdigest()
        self.digest = self._sha[:16]
        self._code: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self._nodes_lock = threading.Lock()
        self._nodes: dict[str, _Node] | None = None
        #: Generated sources by key (:func:`_source_key`), kept in the on-disk cache.
        self._sources: dict[str, str] = {}
        #: Whether this engine may write the on-disk cache: a model read from it, or one
        #: :func:`engine_for` checked (:func:`_check_translatable`); never a refused model.
        self._cacheable = False
        self._version = _engine_version()
        cached = _read_cache(_cache_path(self._sha), self._sha, self._version)
        if cached is not None:
            meta, self._sources = cached
            self._cacheable = True
        else:
            meta = self._metadata(self.nodes)
        self.constants: dict[str, float] = {k: float(v) for k, v in meta["constants"].items()}
        # (a TREND's state is the engine's own, not a model variable)
        self.variables = frozenset(meta["variables"])
        #: Ranges ``[min, max]`` written in the model's units fields, by constant.
        self.limits: dict[str, tuple[float, float]] = {
            k: (float(v[0]), float(v[1])) for k, v in meta["limits"].items()}
        #: Declared units of every model element, by Python name.
        self.units: dict[str, str] = dict(meta["units"])
        self._overridable = set(meta["overridable"])
        #: Lower limits written in the model's units fields (``[0, ...]``), by variable.
        self.lower_limits: dict[str, float] = {
            k: float(v) for k, v in meta["lower_limits"].items()}
        #: The first (what, variable) XLA could compute a whole unit wrong (None if none).
        self._xla_inexact = tuple(meta["xla_inexact"]) if meta["xla_inexact"] else None
        #: Why the model's ensembles run on the numpy backend only (None if XLA can run them).
        self.numpy_only: str | None = meta["numpy_only"]
        self._auxes = frozenset(meta["auxes"])
        self._control_formulas = tuple(meta["control_formulas"])
        self._meta = meta

    @staticmethod
    def _metadata(nodes: dict[str, _Node]) -> dict[str, Any]:
        """What the engine keeps of the model's nodes, as JSON values (see :func:`_read_cache`)."""
        xla_inexact = _xla_inexact(nodes)
        numpy_only = next(
            (f"DELAY FIXED in variable {n.vname!r} runs on the numpy backend only (its "
             "pipeline's length is known only when the run starts)"
             for n in nodes.values() if n.kind == "fixed"), None)
        if numpy_only is None and xla_inexact:
            what, variable = xla_inexact
            numpy_only = (f"the xla backend cannot compute {what} in variable {variable!r} "
                          "exactly (XLA rounds some operations differently in the last "
                          "bit, which it would turn into a whole step)")
        variables = [n for n, node in nodes.items() if node.kind != "trend"]
        return {
            "constants": {n.name: float(n.value) for n in nodes.values()
                          if n.kind == "constant"},
            "variables": variables,
            "limits": {n.name: [float(v) for v in n.limits] for n in nodes.values()
                       if n.kind == "constant" and n.limits},
            "units": {n.name: n.units for n in nodes.values() if n.kind != "trend"},
            "overridable": [n.name for n in nodes.values() if n.kind == "constant"
                            or (n.kind == "aux" and n.construct != "TREND")],
            "lower_limits": {n.name: float(n.lower) for n in nodes.values()
                             if n.lower is not None},
            "xla_inexact": list(xla_inexact) if xla_inexact else None,
            "numpy_only": numpy_only,
            "auxes": [n.name for n in nodes.values() if n.kind == "aux"],
            "control_formulas": [c for c in CONTROL if nodes[c].formula is not None],
        }

    @property
    def nodes(self) -> dict[str, _Node]:
        """The model's nodes, read from PySD's abstract model (on first use only when the
        engine came from the on-disk cache)."""
        with self._nodes_lock:
            if self._nodes is None:
                sha = hashlib.sha256(self.mdl_file.read_bytes()).hexdigest()
                if sha != self._sha:
                    raise EngineError(f"{self.mdl_file.name} changed on disk since the engine "
                                      "read it; load it again")
                self._nodes = _nodes_from_mdl(self.mdl_file)
            return self._nodes

    def _save_cache(self) -> None:
        """Write the metadata and generated sources to the cache file, atomically; a cache
        directory that cannot be written is skipped (the cache only saves time)."""
        if not self._cacheable:
            return
        from simulator.base.outputs import write_atomic
        sources = dict(list(self._sources.items())[-_CACHE_SOURCES:])
        data = {"format": _CACHE_FORMAT, "model_sha256": self._sha,
                "engine_version": self._version, "meta": self._meta, "sources": sources,
                "checksum": _checksum(self._meta, sources)}
        path = _cache_path(self._sha)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(data, ensure_ascii=False, allow_nan=True))
        except OSError:
            pass

    @property
    def time_step(self) -> float:
        return self.constants["time_step"]

    def source(self, vector: bool = True, method: str = "euler",
               save_names: Sequence[str] = (), target: str = "numpy") -> str:
        """The generated Python source (for reading and debugging); ``target="xla"`` gives the
        functions :mod:`simulator.sd.xla` traces."""
        return _generate(self.nodes, vector, method, save_names, target)

    def _compiled(self, vector: bool, method: str, overridden: frozenset, save: tuple,
                  target: str = "numpy"):
        key = (vector, method, overridden, save, target)
        with self._lock:
            return self._compile(key)

    def _compile(self, key):
        vector, method, overridden, save, target = key
        if key not in self._code:
            skey = _source_key(key)
            src = self._sources.get(skey)
            if src is None:
                nodes = self.nodes
                if overridden:
                    nodes = dict(nodes)
                    for name in overridden:  # an overridden aux becomes a constant (as in PySD)
                        nodes[name] = _Node(name, "constant", value=math.nan)
                src = _generate(nodes, vector, method, save, target)
                self._sources[skey] = src
                self._save_cache()
            filename = f"<engine {self.mdl_file.name} {self.digest} {target}>"
            if target == "xla":
                from simulator.sd import xla
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
            every param is a number (the result then has 1-d arrays).
        variables : sequence of str, optional
            Python names to save; default the ``default_variables`` of :func:`engine_for` that
            the model has (for the Guangyuan model, :func:`simulator.model.engine_for`: every
            indicator of ``models/indicators.csv``), else every variable.
        time_step : float, optional
            Integration step, in the model's time unit; default the model's TIME STEP.
        method : {"euler", "rk4"}, default "euler"
            Euler equals PySD; RK4 is for integration-error checks.
        backend : {"auto", "numpy", "xla"}, optional
            How N runs are computed (one run is always the scalar code). ``"numpy"`` runs the
            generated array code with numpy; ``"xla"`` compiles the same code with JAX
            (:mod:`simulator.sd.xla`, compiled once per process and kind of call); ``"auto"``
            uses the one measured faster on this machine for Euler runs
            (:mod:`simulator.sd.backends`), numpy for RK4 or without JAX. Default: the process
            default (:func:`set_default_backend`), else ``$GUANGYUAN_ENGINE_BACKEND``, else
            ``"auto"``. A model with a DELAY FIXED, or whose INTEGER, MODULO, comparison or
            IF THEN ELSE condition XLA could round into a different step
            (:attr:`numpy_only` says which), runs on numpy under ``"auto"`` and is refused
            under ``"xla"`` (an EngineError saying why).

        Returns
        -------
        EnsembleResult
            The saved variables at the steps PySD saves (:func:`schedule`): ``times`` and, by
            Python name, arrays of shape (T,) for one run or (T, N) for N runs;
            ``result.run(i)`` is run ``i`` as a wide table.

        Raises
        ------
        KeyError
            An unknown variable, or one that is not a parameter.
        simulator.base.inputs.InputError
            (a ValueError) Run settings that cannot give a run, an ``n`` that is not a whole
            number >= 1, or a parameter that is not a finite number or is negative where the
            model declares a lower limit of 0 or more
            (:func:`simulator.base.inputs.check_run_settings`, :func:`check_param`).
        ValueError
            Array parameters of different lengths (or not of length ``n``), or a control
            variable (TIME STEP, SAVEPER, ...) that differs between runs.
        EngineError
            Something the engine cannot compute exactly, named with its variable. What does
            not depend on the run is found before any run, by :func:`engine_for`, which runs
            PySD instead; what does (an order these parameters change, ``backend="xla"`` for
            a model in :attr:`numpy_only`) is raised here, and :class:`simulator.model.Model`
            runs such a single run on PySD.
        """
        params = dict(params or {})
        unknown = sorted(set(params) - self.variables)
        if unknown:
            raise KeyError(f"unknown model variables {unknown}")
        not_overridable = sorted(set(params) - self._overridable)
        if not_overridable:
            raise KeyError(f"cannot set {not_overridable}: stocks, delays, smooths, INITIALs and "
                           "lookups are not parameters")
        _check_runs(n)
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
            P["time_step"] = time_step
        for k, v in params.items():
            arr = check_param(k, v, self.lower_limits.get(k))
            # an array of one repeated value is a shared scalar: one operation instead of n
            if arr.ndim == 0:
                P[k] = float(arr)
            elif np.ptp(arr) == 0:
                P[k] = float(arr[0])
            else:
                P[k] = arr
        # control variables written as expressions (SAVEPER = TIME STEP) follow this run's values
        if self._control_formulas:  # (else _control_values has nothing to do)
            _control_values(self.nodes, P, set(params) | ({"time_step"} if time_step is not None
                                                          else set()))
        for ctl in CONTROL:
            if np.ndim(P[ctl]) > 0:
                raise ValueError(f"{ctl} must be the same for all runs")
        t0, t1, dt, saveper = (P[c] for c in ("initial_time", "final_time", "time_step", "saveper"))
        check_run_settings(t0, t1, dt, saveper, n or 1)
        t0, t1, dt, saveper = float(t0), float(t1), float(dt), float(saveper)
        P.update(initial_time=t0, final_time=t1, time_step=dt, saveper=saveper)
        if vector:  # numpy scalars divide by zero as numpy does (inf, nan), like array lanes
            P = {k: np.float64(v) if np.ndim(v) == 0 else v for k, v in P.items()}
        variables = _saved_variables(variables, self.variables, self.default_variables)
        overridden = frozenset(k for k in params if k in self._auxes)
        if overridden:  # as PySD does, say that an equation was replaced
            warnings.warn("Replacing a variable by a constant value.", UserWarning, stacklevel=2)
        plan = schedule(t0, t1, dt, saveper)
        if vector and _choose_backend(backend, method, self.numpy_only) == "xla":
            program = self._compiled(vector, method, overridden, tuple(variables), "xla")
            from simulator.sd.xla import padded_runs
            size = padded_runs(n)  # one compiled program serves calls of similar size
            padded = {k: np.pad(v, (0, size - n), mode="edge") if np.ndim(v) else v
                      for k, v in P.items()}
            with np.errstate(all="ignore"):
                saved = program.run(padded, size, np.float64(t0), t1, dt, plan)
            data = {k: v[:, :n] for k, v in zip(variables, saved)}
            return EnsembleResult(times=plan.times, data=data, n=n)
        fn = self._compiled(vector, method, overridden, tuple(variables))
        if vector:
            _keep_freed_memory()
        with np.errstate(all="ignore"):
            raw = fn(P, n, np.float64(t0) if vector else t0, t1, dt, plan.save_at)
        data = {}
        for k, vals in raw.items():
            if vector:  # a value can be a shared scalar in one year and per run in another
                data[k] = np.stack([np.broadcast_to(np.asarray(v, dtype=float), (n,))
                                    for v in vals])
            else:
                data[k] = np.asarray(vals, dtype=float)
        return EnsembleResult(times=plan.times, data=data, n=n)


def _check_runs(n: Any) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise InputError(one_line(f"n: value {excerpt(n)} is not allowed; allowed a whole number "
                                  "of runs >= 1"))


def _saved_variables(variables: Sequence[str] | None, known: frozenset,
                     default: Sequence[str] | None = None) -> list[str]:
    """The variables a run saves: those asked for (KeyError naming unknown ones), else the
    engine's ``default_variables`` the model has, else every variable of the model."""
    if variables is None:
        if default is None:
            return sorted(known)
        return [v for v in default if v in known]
    missing = sorted(set(variables) - known)
    if missing:
        raise KeyError(f"unknown model variables {missing}")
    return list(variables)


def check_param(name: str, value: Any, lower: float | None = None) -> np.ndarray:
    """``value`` as a float array (0-d or 1-d), or an :class:`simulator.base.inputs.InputError` (a
    ValueError) naming ``params[name]``: every value must be a finite number, and not negative
    where the model declares a lower limit of 0 or more (``[0, ...]`` in the Vensim units
    field)."""
    label = f"params[{excerpt(name)}]"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InputError(one_line(f"{label}: value {excerpt(value)} is not a number or an "
                                  "array of numbers")) from None
    if arr.ndim > 1:
        raise InputError(f"{label}: an array of shape {arr.shape} is not allowed; allowed a "
                         "number or a 1-d array (one value per run)")
    bad = ~np.isfinite(arr)
    if bad.any():
        where = f" (run {int(np.flatnonzero(bad)[0])})" if arr.ndim else ""
        raise InputError(f"{label}: value {float(arr[bad].flat[0])}{where} is not allowed; "
                         "allowed a finite number")
    if lower is not None and lower >= 0 and (arr < 0).any():
        where = f" (run {int(np.flatnonzero(arr < 0)[0])})" if arr.ndim else ""
        raise InputError(f"{label}: value {float(arr[arr < 0].flat[0]):g}{where} is negative; "
                         f"the model declares it at least {lower:g}")
    return arr


def _xla_inexact(nodes: dict[str, _Node]) -> tuple[str, str] | None:
    """The first (what, variable) whose result XLA could get wrong by a whole unit, or None.

    XLA's results differ from numpy's (and PySD's) in the last bit. Where a result is continuous
    that is rounding; INTEGER, MODULO, a comparison or an IF THEN ELSE condition turn it into a
    step. That matters where numpy's value is exact and XLA's is not: XLA divides through a
    reciprocal and fuses the product with the next addition, so ``-10 + Time/10`` is -4 in numpy
    at Time 60 and -3.9999999999999996 on XLA (INTEGER gives -3, ``<= -4`` is false); its
    exp, log and powers are its own, and a lookup divides. So such an operation is flagged when
    an operand is computed in the loop, through auxiliaries, with a division, a power, a
    transcendental function or a lookup (:func:`_first_step`). A model with one runs on numpy."""
    return _first_step(nodes, {"/", "^"}, _XLA_ROUNDED, lookups_round=True)


def _rewritten_powers_step(nodes: dict[str, _Node]) -> tuple[str, str] | None:
    """The first (what, variable) where a power the engine would compute through a logarithm
    (``exp(e * log(b))``, rounding only) meets INTEGER, MODULO, a comparison or an IF THEN ELSE
    condition, or None. ``INTEGER((Time/10) ^ k)`` with k = 2 is 16 in PySD at Time 40 and
    would be 15 through the logarithm; such a model's code computes every power plainly."""
    return _first_step(nodes, {"^"}, set(), lookups_round=False)


def _first_step(nodes: dict[str, _Node], operators: set[str], functions: set[str],
                lookups_round: bool) -> tuple[str, str] | None:
    """The first (what, variable) where INTEGER, MODULO, a comparison or an IF THEN ELSE
    condition has an operand computed in the time loop, through auxiliaries, with one of
    ``operators``, ``functions`` or (``lookups_round``) a lookup; None if there is none.

    Stocks, smooths and delays stop the search: an Euler sum that one backend computes exactly
    (exact products) the other computes exactly too, so their values differ only where they are
    rounded already, and an exact tie there is a coincidence, not the rule it is on the time
    grid. Constants and what is computed from them alone are computed once, before the loop."""
    from pysd.translators.structures import abstract_expressions as ae
    lookups = {n for n, node in nodes.items() if node.kind == "lookup"}
    fixed = {n for n, node in nodes.items() if node.kind in ("constant", "initial")}
    changed = True
    while changed:  # step-invariant auxiliaries: computed by numpy before the loop
        changed = False
        for name, node in nodes.items():
            if node.kind == "aux" and name not in fixed and node.deps <= fixed:
                fixed.add(name)
                changed = True
    rounding: dict[str, bool] = {}

    def rounds(ast) -> bool:
        """Whether ``ast``, followed through the auxiliaries computed in the loop, uses one of
        the operations asked about."""
        if isinstance(ast, (list, tuple)):
            return any(rounds(item) for item in ast)
        if isinstance(ast, ae.ReferenceStructure):
            name = ast.reference
            if name in fixed or name not in nodes or nodes[name].kind != "aux":
                return False  # a constant, Time, or a stateful value
            if name not in rounding:
                rounding[name] = False  # (no cycles among auxiliaries; guards recursion)
                rounding[name] = rounds(nodes[name].ast)
            return rounding[name]
        if isinstance(ast, ae.InlineLookupsStructure) and lookups_round:
            return True
        if isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure)) and \
                set(ast.operators) & operators:
            return True
        if isinstance(ast, ae.CallStructure) and (
                ast.function.reference in functions
                or lookups_round and ast.function.reference in lookups):
            return True
        if hasattr(ast, "__dataclass_fields__"):
            return rounds([getattr(ast, f) for f in ast.__dataclass_fields__])
        return False

    def first(ast):
        """The first discontinuous operation in ``ast`` with such an operand."""
        if isinstance(ast, (list, tuple)):
            for item in ast:
                found = first(item)
                if found:
                    return found
            return None
        if not hasattr(ast, "__dataclass_fields__"):
            return None
        if isinstance(ast, (ae.ArithmeticStructure, ae.LogicStructure)):
            ops = [op for op in ast.operators if op in _COMPARISONS]
            if ops and rounds(ast.arguments):
                return f"a comparison ({ops[0]})"
        if isinstance(ast, ae.CallStructure):
            fname = ast.function.reference
            if fname in ("integer", "modulo") and rounds(ast.arguments):
                return fname.upper()
            if fname == "if_then_else" and ast.arguments and \
                    not isinstance(ast.arguments[0], (ae.ArithmeticStructure, ae.LogicStructure)) \
                    and rounds(ast.arguments[0]):
                return "an IF THEN ELSE condition"
        return first([getattr(ast, f) for f in ast.__dataclass_fields__])

    for node in nodes.values():
        if node.kind in ("constant", "lookup", "initial") or node.name in fixed:
            continue  # computed once, by numpy
        found = first([node.ast, node.time])
        if found:
            return found, node.name
    return None


#: Functions XLA may compute differently from numpy where numpy's result is exact.
_XLA_ROUNDED = {"exp", "ln", "log", "sqrt", "sin", "cos", "tan", "power", "zidz", "xidz",
                "modulo"}
_COMPARISONS = {"=", "<>", ">", ">=", "<", "<="}


BACKENDS = ("auto", "numpy", "xla")
_process_backend: str | None = None
_process_use: tuple[int, int] | None = None


def set_default_backend(backend: str | None, use: tuple[int, int] | None = None) -> None:
    """The backend of this process's vector runs that name none (None: back to
    ``$GUANGYUAN_ENGINE_BACKEND``, else ``"auto"``). ``use``, ``(calls, runs per call)``, says
    that this is a one-off process (a command), so that ``"auto"`` weighs XLA's one-off compile
    against what it saves (:func:`simulator.sd.backends.choose`); None: a long-lived process."""
    global _process_backend, _process_use
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    _process_backend, _process_use = backend, use


def _choose_backend(backend: str | None, method: str, numpy_only: str | None = None) -> str:
    """``"xla"`` or ``"numpy"`` for a vector run (see :meth:`Engine.run`): the argument, else the
    process default (:func:`set_default_backend`), else ``$GUANGYUAN_ENGINE_BACKEND``, else
    ``"auto"``: numpy for RK4, else the backend measured faster on this machine
    (:mod:`simulator.sd.backends`). ``numpy_only`` (:attr:`Engine.numpy_only`) says why the
    model cannot run on XLA (a DELAY FIXED, or something XLA may compute a whole unit wrong):
    ``"auto"`` then takes numpy, and ``"xla"`` is refused with an EngineError saying why."""
    import os
    chosen = (backend or _process_backend or os.environ.get("GUANGYUAN_ENGINE_BACKEND")
              or "auto")
    if chosen not in BACKENDS:
        source = ("backend" if backend or _process_backend
                  else "$GUANGYUAN_ENGINE_BACKEND")
        raise ValueError(f"{source} must be one of {', '.join(BACKENDS)}; got {chosen!r}")
    if chosen == "auto":
        if method != "euler" or numpy_only:
            return "numpy"
        if _reference is None:  # nothing to measure on: numpy, the reference, is always exact
            return "numpy"
        from simulator.sd.backends import choose
        return choose(_process_use, *_reference)
    if chosen == "xla" and method != "euler":
        raise ValueError(f"the xla backend integrates with Euler only; method {method!r} "
                         "runs on the numpy backend")
    if chosen == "xla" and numpy_only:
        raise EngineError(f"backend 'xla' refused: {numpy_only}; use the numpy backend or auto")
    return chosen


#: The workload ``"auto"`` measures the two backends on (:func:`simulator.sd.backends.choose`):
#: a factory of the engine an application runs and ``draws(n, seed)`` giving n parameter sets.
_reference: tuple[Callable[[], Any], Callable[[int, int], Mapping[str, Any]]] | None = None


def set_reference_workload(engine_factory: Callable[[], Any],
                           draws: Callable[[int, int], Mapping[str, Any]]) -> None:
    """Register the model ``"auto"`` measures the backends on (an application's own model and
    parameter draws; until one is registered ``"auto"`` means numpy)."""
    global _reference
    _reference = (engine_factory, draws)


_engines: dict[tuple, Any] = {}
_engines_lock = threading.Lock()


def engine_for(mdl_file: str | Path, *, fallback: bool = True,
               default_variables: Sequence[str] | None = None):
    """The :class:`Engine` of ``mdl_file``, parsed once per process and per file content.

    Parameters
    ----------
    mdl_file : str or Path
        The Vensim model.
    fallback : bool, default True
        A model the engine refuses (:class:`EngineError`: subscripts, macros, a function it does
        not have, ...) runs on PySD instead: the result is a :class:`PySDRunner` with the same
        ``run`` and attributes, and an :class:`EngineFallbackWarning` says which construct in
        which variable and that an ensemble of N runs becomes N PySD runs.
    default_variables : sequence of str, optional
        Python names a run saves when it is not told; default every variable.

    Returns
    -------
    Engine or PySDRunner
        The same object for the same file content and ``default_variables``.

    Raises
    ------
    EngineError
        With ``fallback=False``, for a model the engine cannot run exactly.
    OSError
        When ``mdl_file`` cannot be read.

    Examples
    --------
    >>> engine = engine_for("models/guangyuan_innovation.mdl")   # doctest: +SKIP
    >>> table = engine.run(time_step=0.25).run()   # one run, every variable   # doctest: +SKIP
    """
    path = Path(mdl_file).resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    default = None if default_variables is None else tuple(default_variables)
    key = (path, digest, default)
    with _engines_lock:
        if key not in _engines:
            try:
                engine = Engine(path, default)
                if not engine._cacheable:  # (a cached model passed this check)
                    _check_translatable(engine.nodes)  # refuse an unsupported construct now
                    engine._cacheable = True
                    engine._save_cache()
            except EngineError as err:
                if not fallback:
                    raise
                engine = PySDRunner(path, err, default)
            _engines[key] = engine
        engine = _engines[key]
    if isinstance(engine, PySDRunner):
        if not fallback:
            raise engine.reason
        warnings.warn(fallback_notice(path, engine.reason), EngineFallbackWarning, stacklevel=2)
    return engine


def _check_translatable(nodes: dict[str, _Node]) -> None:
    """Raise now the EngineError a run would raise for any parameters: a function the engine
    does not have (in any variable, saved or not), a loop without a stock, or what writing the
    step refuses (a DELAY N with a time-varying delay time feeding a state)."""
    em = _Emitter(nodes, False)
    for node in nodes.values():
        for ast in (node.ast, node.init, node.time):
            if ast is not None:
                em.expr(ast, node.name)
    auxes = {n.name for n in nodes.values() if n.kind == "aux"}
    _toposort(auxes, lambda a: nodes[a].deps)
    _generate(nodes, vector=False, method="euler")


def fallback_notice(mdl_file: str | Path, err: Exception, what: str = "model") -> str:
    """The one-line notice of a run that PySD makes because the engine refused it (``what``:
    ``"model"``, or ``"model with these settings"`` for a refusal of one run)."""
    reason = " ".join(str(err).split())
    return (f"{Path(mdl_file).name}: the engine cannot run this {what} ({reason}); PySD runs it "
            "instead, an ensemble of N runs as N PySD runs one after another (slow but exact)")


class PySDRunner:
    """A model the engine refuses, run by PySD behind :meth:`Engine.run`'s interface.

    Each run is a fresh PySD run of the translated model
    (:func:`simulator.sd.translate.translated_file`); an ensemble of N runs is N of them in a
    loop. Euler only, as PySD integrates. ``reason`` is the engine's refusal."""

    def __init__(self, mdl_file: str | Path, reason: EngineError,
                 default_variables: Sequence[str] | None = None):
        from simulator.sd.translate import doc_limits, translated_file
        self.mdl_file = Path(mdl_file).resolve()
        self.default_variables = None if default_variables is None else tuple(default_variables)
        self.reason = reason
        self.py_file = translated_file(self.mdl_file)
        model = self._load()
        self.namespace: dict[str, str] = dict(model.namespace)
        self.variables = frozenset(self.namespace.values()) - {"time"}
        doc = model.doc
        self.units = {row["Py Name"]: str(row["Units"] or "") for _, row in doc.iterrows()}
        self.lower_limits, self.limits = doc_limits(doc)
        self.constants: dict[str, float] = {}
        for name, kind in zip(doc["Py Name"], doc["Type"]):
            if kind == "Constant" or name in CONTROL:
                try:
                    self.constants[name] = float(getattr(model.components, name)())
                except (TypeError, ValueError):  # a subscripted or otherwise non-scalar value
                    pass

    def _load(self):
        from simulator.sd.translate import load_translated
        return load_translated(self.py_file)

    @property
    def time_step(self) -> float:
        return self.constants["time_step"]

    def run(self, params: Mapping[str, Any] | None = None, *, n: int | None = None,
            variables: Sequence[str] | None = None, time_step: float | None = None,
            method: str = "euler", backend: str | None = None) -> EnsembleResult:
        """As :meth:`Engine.run`, one PySD run per parameter set (``backend`` is ignored)."""
        from simulator.sd.translate import _quiet_pysd
        if method != "euler":
            raise ValueError(f"method {method!r}: a model run by PySD integrates with Euler only")
        params = dict(params or {})
        unknown = sorted(set(params) - self.variables)
        if unknown:
            raise KeyError(f"unknown model variables {unknown}")
        _check_runs(n)
        arrays = {k: check_param(k, v, self.lower_limits.get(k)) for k, v in params.items()}
        sizes = {a.size for a in arrays.values() if a.ndim}
        if len(sizes) > 1 or (n is not None and sizes and sizes != {n}):
            raise ValueError(f"array params have lengths {sorted(sizes)}"
                             + (f", expected n={n}" if n is not None else ""))
        if n is None and sizes:
            n = sizes.pop()
        settings = {c: self.constants.get(c) for c in CONTROL}
        settings.update({c: float(arrays[c]) for c in CONTROL if c in arrays})
        if time_step is not None:
            settings["time_step"] = time_step
        check_run_settings(settings["initial_time"], settings["final_time"],
                           settings["time_step"], settings["saveper"], n or 1)
        variables = _saved_variables(variables, self.variables, self.default_variables)
        columns: dict[str, list] = {}
        times = None
        for i in range(n or 1):
            one = {k: float(a[i] if a.ndim else a) for k, a in arrays.items()}
            ctx = _quiet_pysd()
            try:
                out = self._load().run(params=one, return_columns=list(variables),
                                       time_step=time_step)
            finally:
                ctx.__exit__(None, None, None)
            out = out.rename(columns=self.namespace)
            times = out.index.to_numpy(dtype=float)
            for col in out.columns:
                columns.setdefault(col, []).append(out[col].to_numpy(dtype=float))
        data = {k: (np.stack(v, axis=1) if n is not None else v[0]) for k, v in columns.items()}
        return EnsembleResult(times=times, data=data, n=n)
