"""Timings of uncertainty, sensitivity and the solver, measured in one process.

    python benchmarks/uncertainty.py [--backend numpy|xla]

Prints one line per measure and, last, ``RESULT uncertainty_10k_s=... sobol_16_s=...
solve_s=... solve_p_s=...``. Targets on the reference machine: 10,000-run uncertainty with
probabilities under 2 s, a Sobol analysis of 16 inputs (~36,000 runs) under 10 s, a solve
under 30 s. Each measure runs twice: first as this process's first call of its kind (which
includes generating the engine's code and, on the XLA backend, compiling it — reported on its
own line), then timed warm, as every later call in a long-lived process (the app, a notebook)
runs; the RESULT line has the warm figures. The XLA compilation cache is a fresh, empty one.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["GUANGYUAN_XLA_CACHE"] = tempfile.mkdtemp(prefix="xla-cache-")  # compile for real

from simulator import load_scenario
from simulator.analysis import sensitivity, solver, uncertainty  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def timed(label: str, fn):
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    start = time.perf_counter()
    out = fn()
    sec = time.perf_counter() - start
    print(f"{label:70s} {sec:7.2f} s   (first call {first:.2f} s)")
    return out, sec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["auto", "numpy", "xla"], default=None,
                        help="the engine's backend (default: the engine's default)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from simulator.sd.engine import set_default_backend
    set_default_backend(args.backend)
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    spec = uncertainty.load_spec()
    from simulator.sd.engine import _choose_backend
    print(f"engine backend: {_choose_backend(None, 'euler')}")
    res, t_unc = timed("uncertainty: 10,000 LHS runs + probabilities of 16 targets",
                       lambda: uncertainty.run(plan, n=10_000, seed=0, spec=spec).probabilities())
    _, t_bands = timed("uncertainty: 10,000 runs + probabilities + bands of every indicator",
                       lambda: (lambda r: (r.probabilities(), r.bands()))(
                           uncertainty.run(plan, n=10_000, seed=0, spec=spec)))
    screen, t_morris = timed("morris screen: 77 inputs, 20 trajectories (1,560 runs)",
                             lambda: sensitivity.morris(plan, "all", n=20, seed=0, spec=spec))
    top16 = list(screen.overall().index[:16])
    sobol, t_sobol = timed("sobol: 16 screened inputs, n=2048 (36,864 runs), S1 and ST",
                           lambda: sensitivity.sobol(plan, top16, n=2048, seed=0, spec=spec))
    ans, t_solve = timed("solve: the 2025 targets, deterministic",
                         lambda: solver.solve(plan, ["2025"]))
    ans2, t_solve2 = timed("solve: tech_smes + HTE 2025 targets",
                           lambda: solver.solve(plan, ["tech_smes@2025",
                                                       "high_tech_enterprises@2025"]))
    ans3, t_solve_p = timed("solve: tech_smes + HTE 2025 targets, probability >= 0.8 (n=100)",
                            lambda: solver.solve(plan, ["tech_smes@2025",
                                                        "high_tech_enterprises@2025"],
                                                 probability=0.8, spec=spec))
    print(f"  {ans.message}\n  {ans2.message}\n  {ans3.message}")
    print(f"RESULT uncertainty_10k_s={t_unc:.2f} uncertainty_10k_bands_s={t_bands:.2f} "
          f"morris_s={t_morris:.2f} sobol_16_s={t_sobol:.2f} sobol_runs={sobol.runs} "
          f"solve_s={t_solve:.2f} solve_two_s={t_solve2:.2f} solve_p_s={t_solve_p:.2f}")


if __name__ == "__main__":
    main()
