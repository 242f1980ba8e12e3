"""How long a one-run command takes from a new process: ``python benchmarks/cli_startup.py``.

Times, as wall-clock medians of ``--repeat`` new processes each (default 7):

* ``python -c "import pandas"`` — the reference every figure is divided by, measured in the
  same run so that the ratios do not depend on the machine or its load;
* ``python -m simulator --help``;
* ``python -m simulator goals scenarios/plan.yaml`` and ``run scenarios/plan.yaml --out FILE``
  with a warm engine cache (``$GUANGYUAN_CACHE``: the model's metadata, its generated code and
  PySD's names, see :mod:`simulator.sd.engine`);
* the same ``goals`` with a cold cache (an empty cache directory for every process: PySD parses
  the ``.mdl`` and the engine generates its code).

The commands run in a temporary cache directory, never the user's own. Targets (issue 15):
warm ``goals`` and ``run`` at most 1.5x the reference, ``--help`` at most 1x.

Not a pass/fail test: it prints figures.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAN = str(REPO / "scenarios" / "plan.yaml")


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds one process takes, from start to exit (its output discarded); a failing
    command stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="processes per command (median)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="gy-startup-") as tmp:
        warm = Path(tmp) / "warm"
        out = Path(tmp) / "plan.csv"  # (removed before each run: run refuses to overwrite)
        env = dict(os.environ, GUANGYUAN_CACHE=str(warm))
        cases = {
            "import pandas": [py, "-c", "import pandas"],
            "--help": [py, "-m", "simulator", "--help"],
            "goals (warm cache)": [py, "-m", "simulator", "goals", PLAN],
            "run --out (warm cache)": [py, "-m", "simulator", "run", PLAN, "--out", str(out)],
        }
        # fill the cache (and Python's bytecode caches) once before timing
        for cmd in cases.values():
            out.unlink(missing_ok=True)
            wall(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        times["goals (cold cache)"] = []
        for i in range(args.repeat):  # interleaved, so that a burst of load hits all alike
            for name, cmd in cases.items():
                out.unlink(missing_ok=True)
                times[name].append(wall(cmd, env))
            cold = Path(tmp) / f"cold-{i}"
            times["goals (cold cache)"].append(
                wall(cases["goals (warm cache)"], dict(env, GUANGYUAN_CACHE=str(cold))))
            shutil.rmtree(cold, ignore_errors=True)
    ref = statistics.median(times["import pandas"])
    targets = {"--help": 1.0, "goals (warm cache)": 1.5, "run --out (warm cache)": 1.5}
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, median of {args.repeat} "
          "new processes each")
    print(f"{'command':<24} {'median s':>9} {'× import pandas':>16}  target")
    for name, values in times.items():
        med = statistics.median(values)
        target = targets.get(name)
        verdict = "" if target is None else \
            f"≤ {target:g}× {'met' if med / ref <= target else 'MISSED'}"
        print(f"{name:<24} {med:9.3f} {med / ref:16.2f}  {verdict}")


if __name__ == "__main__":
    main()
