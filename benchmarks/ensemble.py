"""Speed and memory of the ensemble engine against plain PySD, measured in one process.

    python benchmarks/ensemble.py [--repeats 3]

Prints a table and, as its last line,
``RESULT n=10000 ensemble_s=<s> single_run_ms=<ms> pysd_run_ms=<ms> speedup=<x>``
where speedup = pysd_run_ms × n / 1000 / ensemble_s, all measured in this run.

Every ensemble varies every lever in every plan period, every scenario assumption and every
uncertain constant (each constant with a [min, max] range in the .mdl) — the worst case for the
engine, which keeps parameters shared by all runs as scalars. Indicators are saved yearly.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import Model, load_scenario  # noqa: E402
from simulator.engine import engine_for, random_draws as draws  # noqa: E402

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
    ensemble_s = {}
    peak_mb = {}
    for n in (1000, 10_000):
        p = draws(n)
        engine.run(p)  # warm-up: compiles the vector code
        ensemble_s[n] = statistics.median(timed(lambda: engine.run(p), args.repeats))
        tracemalloc.start()
        engine.run(p)
        peak_mb[n] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rows.append((f"engine, N = {n:,} runs", n, ensemble_s[n], "s"))

    print(f"Guangyuan model, 2020-2035 at TIME STEP {dt:g} year "
          f"({int(round(15 / dt))} Euler steps), indicators saved yearly")
    print(f"{'measure':46s} {'runs':>7s} {'time':>10s}   per run")
    for label, n, value, unit in rows:
        per_run = (value if unit == "ms" else value * 1e3) / n
        print(f"{label:46s} {n:7,d} {value:9.3f}{unit:>2s}   {per_run:8.3f} ms")
    for n, mb in peak_mb.items():
        print(f"{'peak memory allocated during N = ' + format(n, ',') + ' (tracemalloc)':55s}"
              f" {mb:9.1f} MB")
    print(f"{'process peak resident memory (ru_maxrss)':55s} "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:9.1f} MB")
    n = 10_000
    speedup = pysd_s * 1e3 * n / 1000 / ensemble_s[n]
    print(f"RESULT n={n} ensemble_s={ensemble_s[n]:.3f} single_run_ms={single_s * 1e3:.2f} "
          f"pysd_run_ms={pysd_s * 1e3:.1f} speedup={speedup:.0f}")


if __name__ == "__main__":
    main()
