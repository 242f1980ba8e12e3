"""Time of a full calibration (``python -m simulator calibrate``), measured in one process.

    python benchmarks/calibration.py [--repeats 3]

A full calibration = sensitivity and forward selection of the candidates, a 16-start Latin-hypercube
multi-start fit of the identified set, the confidence-interval check with refits, and the
statistics. For scale it also times one engine run of the calibration problem (the 2020-2025
default scenario with every candidate at its documented value), measured in the same run.
Last line: ``RESULT calibration_s=<median s> runs=<model runs> single_run_ms=<ms>
runs_per_s=<runs/s>``. Target on the reference 2-core machine: under 60 s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.analysis import calibration  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    problem = calibration.Problem(calibration.load_targets(), calibration.load_candidates())
    problem.model_values({})  # warm-up: compiles the engine code
    singles = []
    for _ in range(20):
        start = time.perf_counter()
        problem.model_values({})
        singles.append(time.perf_counter() - start)
    single = statistics.median(singles)
    calibration.calibrate(seed=0, starts=2)  # warm-up of the vector code paths
    times, runs = [], 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        res = calibration.calibrate(seed=0, starts=16)
        times.append(time.perf_counter() - start)
        runs = res.evaluations
    median = statistics.median(times)
    print(f"one model run of the calibration problem (2020-2025)  {single * 1e3:8.2f} ms")
    for i, t in enumerate(times):
        print(f"full calibration, repeat {i + 1} (16 starts, {runs:,} model runs)   {t:8.2f} s")
    print(f"RESULT calibration_s={median:.2f} runs={runs} single_run_ms={single * 1e3:.2f} "
          f"runs_per_s={runs / median:.0f}")


if __name__ == "__main__":
    main()
