"""Speed and memory of the ensemble engine against plain PySD, measured in one process.

    python benchmarks/ensemble.py [--repeats 3]

Prints a table and, as its last line,
``RESULT n=10000 ensemble_s=<s> single_run_ms=<ms> pysd_run_ms=<ms> speedup=<x>``
where speedup = pysd_run_ms × n / 1000 / ensemble_s, all measured in this run.

Every ensemble varies every lever in every plan period, every scenario assumption and every
uncertain constant (each constant with a [min, max] range in the .mdl) — the worst case for the
engine, which keeps parameters shared by all runs as scalars. Indicators are saved yearly.

Both vector backends are timed: numpy (the generated array code, one numpy call per operation)
and xla (the same code compiled by JAX). Each backend's first call — generating the code, and for
xla tracing and compiling it with an empty compilation cache made for this run — is reported
separately; the timed repeats reuse it, as every later call in a process does. Importing JAX in a
fresh interpreter, which a command pays once, is timed too. Which is faster depends on the CPU,
so the last lines say what ``auto`` picks here (:mod:`simulator.sd.backends`, its cached
measurement) for a long-lived process and for one-off commands; the RESULT line reports the
backend ``auto`` picks for a long-lived process.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# an empty XLA compilation cache, so that the first call below measures a real compile
os.environ["GUANGYUAN_XLA_CACHE"] = tempfile.mkdtemp(prefix="xla-cache-")

from simulator import Model, load_scenario
from simulator.model import engine_for
from simulator.model import random_draws as draws
from simulator.sd import backends  # noqa: E402
from simulator.sd.engine import _choose_backend  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each ensemble")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    engine = engine_for()
    dt = engine.time_step

    pysd_model = Model(backend="pysd")
    pysd_model.run_wide(plan)  # warm-up (translation cached)
    pysd_s = statistics.median(timed(lambda: pysd_model.run_wide(plan), 5))

    params = plan.params()
    engine.run(params)  # warm-up: compiles the scalar code
    single_s = statistics.median(timed(lambda: engine.run(params), 20))

    rows = [("plain PySD, one run (Model backend='pysd')", 1, pysd_s * 1e3, "ms"),
            ("engine, one run (scalar code)", 1, single_s * 1e3, "ms")]
    default = _choose_backend(None, "euler")
    ensemble_s = {}
    peak_mb = {}
    first_call_s = {}
    jax_import_s = backends._jax_import_seconds()
    for backend in ("numpy", "xla"):
        for n in (1000, 10_000):
            p = draws(n)
            start = time.perf_counter()
            engine.run(p, backend=backend)  # warm-up: generates (and for xla compiles) the code
            first_call_s[backend, n] = time.perf_counter() - start
            ensemble_s[backend, n] = statistics.median(
                timed(lambda: engine.run(p, backend=backend), args.repeats))
            if backend == "numpy":  # tracemalloc sees numpy's arrays, not XLA's buffers
                tracemalloc.start()
                engine.run(p, backend=backend)
                peak_mb[n] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            rows.append((f"engine {backend}, N = {n:,} runs", n, ensemble_s[backend, n], "s"))
        what = "compile" if backend == "xla" else "generate code"
        rows.append((f"engine {backend}, first call at N = 10,000 ({what})", 10_000,
                     first_call_s[backend, 10_000], "s"))
    rows.append(("import JAX in a fresh interpreter (once a command)", 1, jax_import_s * 1e3,
                 "ms"))

    print(f"Guangyuan model, 2020-2035 at TIME STEP {dt:g} year "
          f"({int(round(15 / dt))} Euler steps), indicators saved yearly")
    print(f"{'measure':46s} {'runs':>7s} {'time':>10s}   per run")
    for label, n, value, unit in rows:
        per_run = (value if unit == "ms" else value * 1e3) / n
        print(f"{label:48s} {n:7,d} {value:9.3f}{unit:>2s}   {per_run:8.3f} ms")
    for n, mb in peak_mb.items():
        label = f"numpy: peak memory allocated during N = {n:,} (tracemalloc)"
        print(f"{label:57s} {mb:9.1f} MB")
    print(f"{'process peak resident memory, all of the above (ru_maxrss)':57s} "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:9.1f} MB")
    n = 10_000
    ratio = ensemble_s["numpy", n] / ensemble_s["xla", n]
    print(f"xla is {ratio:.2f}x numpy at N = {n:,} (medians of {args.repeats})")
    timing = backends.timing(engine_for, draws)
    print(f"auto here ({backends.machine()['cpu']}, {backends.machine()['simd']}): long-lived "
          f"process {timing.faster(None)}; one-off command of 1 x 1,000 runs "
          f"{timing.faster((1, 1000))}, 1 x 10,000 runs {timing.faster((1, 10_000))}, "
          f"240 x 4 runs (calibrate) {timing.faster((240, 4))}")
    best = ensemble_s[default, n]
    speedup = pysd_s * 1e3 * n / 1000 / best
    print(f"RESULT n={n} ensemble_s={best:.3f} single_run_ms={single_s * 1e3:.2f} "
          f"pysd_run_ms={pysd_s * 1e3:.1f} speedup={speedup:.0f}")


if __name__ == "__main__":
    main()
