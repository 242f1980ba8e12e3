"""Time of the solver (``python -m simulator solve``; the app's 怎样才能达成 tab), measured in one
process.

    python benchmarks/solver.py [--repeats 3] [--case NAME ...]

Cases: the app's default request for the plan scenario (``scenarios/plan.yaml``): its missed
2025 targets (``simulator.app.analyses.missed_targets`` of its scorecard), solved as the app
solves them (``analyses.SOLVE_N`` draws, ``analyses.SOLVE_SEED``, the uncertainty spec of
``models/uncertainty.yaml``) deterministically, with probability 0.8 and the central run (the
app's default), and with probability 0.8 alone; and a reachable request under probability 0.8
with the central run. For scale the same run measures one deterministic model run
(``Model().run``) and one ensemble of ``SOLVE_N`` draws (``uncertainty.run``), so that figures
compare across machines. Each case is warmed up once (the engine's code generated, XLA
compiled) before its timed repeats.

Prints a table of medians with the issue's target (issue 14 item 6: probability solver
≤ 10 s on the reference 2-core machine) beside each, the answer's feasibility, cost a year and
model runs (lanes), and as its last line ``RESULT solver_p08_s=<median s of the app's default>
…``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import Model, load_scenario  # noqa: E402
from simulator.analysis import solver, uncertainty  # noqa: E402
from simulator.app import analyses  # noqa: E402
from simulator.plan import goals  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: A reachable request under probability 0.8 (with the central run) from the plan scenario.
REACHABLE = ("high_tech_enterprises@2025", "rd_spending_growth@2025")
#: Issue 14 item 6: the probability solver within this many seconds.
TARGET_S = 10.0
MAX_REPEATS = 20


def timed(fn, repeats: int) -> tuple[list[float], object]:
    out, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - start)
    return out, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help=f"timed repeats of each case (1 to {MAX_REPEATS})")
    parser.add_argument("--case", action="append", default=None,
                        choices=("deterministic", "p08-central", "p08-alone", "reachable"),
                        help="run only these cases (default: all)")
    args = parser.parse_args()
    if not 1 <= args.repeats <= MAX_REPEATS:
        parser.error(f"--repeats: value {args.repeats} is not allowed; allowed 1 to {MAX_REPEATS}")
    warnings.simplefilter("ignore")
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    spec = uncertainty.load_spec()
    model = Model()
    missed = analyses.missed_targets(goals.scorecard(model.run(plan)))

    model.run(plan)  # warm-up
    single, _ = timed(lambda: model.run(plan), 10)
    ens = lambda: uncertainty.run(plan, n=analyses.SOLVE_N, seed=analyses.SOLVE_SEED,  # noqa: E731
                                  spec=spec)
    ens()  # warm-up
    ensemble, _ = timed(ens, 5)

    def request(targets, probability, central):
        return lambda: solver.solve(plan, list(targets), probability=probability,
                                    n=analyses.SOLVE_N, seed=analyses.SOLVE_SEED, spec=spec,
                                    central=central)

    cases = {
        "deterministic": ("missed targets, deterministic", request(missed, None, True), None),
        "p08-central": ("missed targets, p = 0.8 + central run (app default)",
                        request(missed, 0.8, True), TARGET_S),
        "p08-alone": ("missed targets, p = 0.8 alone", request(missed, 0.8, False), TARGET_S),
        "reachable": (f"{' + '.join(REACHABLE)}, p = 0.8 + central run",
                      request(REACHABLE, 0.8, True), TARGET_S),
    }
    chosen = args.case or list(cases)
    print(f"plan scenario, missed 2025 targets: {', '.join(missed)}")
    print(f"draws {analyses.SOLVE_N}, seed {analyses.SOLVE_SEED}; medians of {args.repeats}")
    print(f"{'reference: one model run (Model().run)':58s} {statistics.median(single) * 1e3:8.1f} ms")
    print(f"{f'reference: one ensemble of {analyses.SOLVE_N} draws (uncertainty.run)':58s} "
          f"{statistics.median(ensemble) * 1e3:8.1f} ms")
    print(f"{'case':58s} {'median':>8s} {'target':>7s} {'feasible':>8s} {'cost/yr 万元':>13s} "
          f"{'runs':>9s}")
    medians = {}
    for name in chosen:
        label, fn, target = cases[name]
        fn()  # warm-up
        times, res = timed(fn, args.repeats)
        medians[name] = statistics.median(times)
        print(f"{label:58s} {medians[name]:7.2f}s {f'≤{target:g}s' if target else '—':>7s} "
              f"{str(res.feasible):>8s} {res.cost_per_year:13,.0f} {res.runs:9,d}")
    result = " ".join(f"solver_{k.replace('-', '_')}_s={v:.2f}" for k, v in medians.items())
    print(f"RESULT {result} model_run_ms={statistics.median(single) * 1e3:.2f} "
          f"ensemble_{analyses.SOLVE_N}_ms={statistics.median(ensemble) * 1e3:.1f}")


if __name__ == "__main__":
    main()
