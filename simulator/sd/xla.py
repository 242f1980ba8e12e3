"""The ensemble engine's compiled backend: the same generated array code, traced by JAX into one
XLA program.

:mod:`simulator.sd.engine` writes numpy code from PySD's abstract model and runs it one numpy
operation at a time: several hundred operations per step, each a pass over N numbers, some of
them scalar ``exp``/``log`` calls (numpy has no SIMD float64 versions without AVX-512). Here the same
generated code for one step — the equations as written, no copy by hand — is traced with
``jax.numpy`` standing in for ``numpy`` and compiled by XLA, which fuses each step's operations
into a few loops over the runs, keeps intermediate values in registers and uses vectorised
``exp``/``log``. The computation is the same array computation over the run dimension: one
program over arrays of N runs, not N runs in a loop.

What runs where:

* ``prepare`` — constants, initial values and every step-invariant sub-expression — is the
  numpy code unchanged (it runs once; its checks need concrete values).
* The time loop is one ``lax.scan`` over the steps. Which steps save, and the times themselves,
  come from the schedule the numpy loop follows (:func:`simulator.sd.schedule.schedule`, PySD's
  rule), so the same steps save. A saving step computes the save-only variables
  inside ``lax.cond``, so the other steps do not.
* A power with an exponent fixed for the run goes through a logarithm shared by every power
  of its base, as in the numpy code; where that would not be the same number (a base not
  positive and finite somewhere in the array this step, a product of powers that could over- or
  underflow), ``lax.cond`` takes the plain power for the whole array instead. XLA's own
  ``pow`` is a scalar C-library call, its ``exp`` vectorised (``benchmarks/ensemble.py`` times
  the backends).
* Results agree with the numpy code (and PySD) to rounding: XLA may contract ``a * b + c``
  into one fused multiply-add and its ``exp``/``log`` differ from the C library's in the last
  bit; ``tests/test_engine.py`` holds both backends to rtol 1e-9 against PySD. It may also
  divide through a reciprocal (``x / 10`` as ``x * 0.1``). INTEGER, MODULO, a comparison or an
  IF THEN ELSE condition would turn such a last bit into a whole step (``-10 + Time/10`` is
  -3.9999999999999996 at Time 60): a model where one of them meets an operand computed in the
  loop runs on numpy (``_xla_inexact`` in :mod:`simulator.sd.engine`). One difference
  is not rounding: XLA on CPU flushes subnormal numbers (below 2.2e-308 in magnitude) to zero,
  where numpy keeps them. No quantity of a system-dynamics model lives there, but an overflow
  corner can show it (``inf * 6.5e-312`` is ``inf`` in numpy, ``inf * 0`` is ``nan`` here); a
  test pins it.

Compiling is slow next to a warm call, and is paid once per process for each kind of call (which
parameters vary, which variables are saved, how many runs): run counts are rounded up to a few
sizes (:func:`padded_runs`) so that calls of similar size share one program, and XLA's
persistent cache (``~/.cache/guangyuan-sim/xla``, or ``$GUANGYUAN_XLA_CACHE``) keeps compiled
programs between processes. Whether that pays depends on the CPU and the use, so the backend
``auto`` is measured on the machine it runs on (:mod:`simulator.sd.backends`; figures in
``benchmarks/ensemble.py`` and the README).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)  # float64 throughout, as numpy and PySD compute
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

_cache_dir = Path(os.environ.get("GUANGYUAN_XLA_CACHE",
                                 Path.home() / ".cache" / "guangyuan-sim" / "xla"))
try:
    _cache_dir.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(_cache_dir))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
except OSError:  # a read-only home: compile in every process instead
    pass

# SMALL_VENSIM: PySD's zero for ZIDZ and XIDZ
from simulator.sd.schedule import SMALL_VENSIM, Schedule  # noqa: E402


def _where(cond, a, b):
    return jnp.where(cond, a, b)


def _zidz(a, b):
    small = jnp.abs(b) < SMALL_VENSIM
    return jnp.where(small, 0.0, a / jnp.where(small, 1.0, b))


def _xidz(a, b, x):
    small = jnp.abs(b) < SMALL_VENSIM
    return jnp.where(small, x, a / jnp.where(small, 1.0, b))


def _modulo(x, m):
    return x - jnp.where(jnp.asarray(m) > 0, m * jnp.trunc(x / m), x)


def _logpos(x):
    """``(log(x), max |log(x)|)``; the maximum is inf or nan unless every element of ``x`` is
    positive and finite, which the generated code tests before using the logarithm."""
    lg = jnp.log(x)
    return lg, jnp.max(jnp.abs(lg))


def _cond(pred, fast, plain):
    """``fast()`` if ``pred`` (a scalar) holds, else ``plain()``; only one is computed."""
    return lax.cond(pred, fast, plain)


#: What the generated step functions see: ``np`` is ``jax.numpy``.
GLOBALS = {"np": jnp, "_np": jnp, "_where": _where, "_zidz": _zidz, "_xidz": _xidz,
           "_modulo": _modulo, "_logpos": _logpos, "_cond": _cond}


def slots(plan: Schedule) -> tuple[np.ndarray, int, int]:
    """The save slot of every step of ``plan`` (-1 for none), the slot of the final time and
    the number of saves: :func:`simulator.sd.schedule.schedule`'s steps, so the same steps save as
    in the numpy loop."""
    index = np.cumsum(plan.save_at) - 1
    every = np.where(plan.save_at, index, -1).astype(np.int32)
    return every[:-1], int(every[-1]), int(plan.save_at.sum())


def padded_runs(n: int) -> int:
    """The run count a program is compiled for: powers of two up to 1,024, then multiples of
    1,024 (at most 2.4 % more runs above 1,024 and one program for calls of similar size)."""
    if n <= 1024:
        return 1 << max(0, math.ceil(math.log2(max(n, 1))))
    return -(-n // 1024) * 1024


class Program:
    """One generated model (a fixed set of saved variables), traced and compiled per shape."""

    def __init__(self, source: str, filename: str, numpy_globals: Mapping[str, Any],
                 n_saved: int):
        code = compile(source, filename, "exec")
        host = dict(numpy_globals)
        exec(code, host)
        self.prepare: Callable = host["simulate"]
        traced = dict(GLOBALS)
        exec(code, traced)
        stage, save, advance = traced["stage"], traced["save"], traced["advance"]
        inputs = set(stage.inputs) | set(save.inputs) | set(advance.inputs)
        self.carry = tuple(sorted(set(advance.outputs) & inputs))
        self.invariants = tuple(sorted(inputs - set(stage.outputs) - set(self.carry)))
        self.n_saved = n_saved
        carry_names = self.carry

        def write(out, k, values):
            return tuple(o.at[k].set(jnp.broadcast_to(jnp.asarray(v, o.dtype), o.shape[1:]))
                         for o, v in zip(out, values))

        def step(env, out, t, k):
            env.update(stage(env, t))
            return lax.cond(k >= 0, lambda o: write(o, k, save(env, t)), lambda o: o, out)

        def loop(E, C, times, slots, t_last, slot_last, out):
            def body(carry, x):
                C, out = carry
                t, k = x
                env = {**E, **C}
                out = step(env, out, t, k)
                new = advance(env, t)
                return ({c: jnp.broadcast_to(new[c], C[c].shape) for c in carry_names}, out), None

            (C, out), _ = lax.scan(body, (C, out), (times, slots))
            return step({**E, **C}, out, t_last, slot_last)

        self._loop = jax.jit(loop)

    def run(self, P: Mapping[str, Any], n: int, t0, t_final, dt, plan: Schedule
            ) -> list[np.ndarray]:
        """Every saved variable as an array (saves, n), computed for ``n`` runs over the steps
        of ``plan`` (:func:`simulator.sd.schedule.schedule`)."""
        env = self.prepare(P, n, t0, t_final, dt, plan.save_at)
        times, t_last = plan.steps, plan.last
        step_slots, slot_last, count = slots(plan)
        E = {k: np.asarray(env[k]) for k in self.invariants}
        C = {k: np.broadcast_to(np.asarray(env[k], dtype=float), (n,)) for k in self.carry}
        out = tuple(np.zeros((count, n)) for _ in range(self.n_saved))
        result = self._loop(E, C, times, step_slots, np.float64(t_last), np.int32(slot_last),
                            out)
        return [np.asarray(r) for r in result]
