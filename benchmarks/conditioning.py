"""Cost of conditioning the uncertainty ensemble on 2015–2020, and what it changes.

    python benchmarks/conditioning.py [--n 1000] [--backend numpy|xla] [--no-figures]

Measures, in one process, an uncertainty ensemble of ``n`` draws of ``scenarios/plan.yaml`` with
the probabilities of its targets, once from the prior (``conditioned=False``) and once
conditioned on 2015–2020 (the default: history matching, :mod:`simulator.analysis.conditioning`), and
prints the ratio. Each is run twice: first as this process's first call of its kind (engine
code generation and, on XLA, compilation, reported in brackets), then warm; the ratio and the
RESULT line use the warm figures. The XLA compilation cache is a fresh, empty one.

Then (unless ``--no-figures``) the acceptance and the probability of every target, prior against
conditioned, for the default cut and discrepancy and for a few others (same seed, same ``n``):
the figures ``docs/calibration.md`` quotes. Last line: ``RESULT prior_s=... conditioned_s=...
ratio=... acceptance=...``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["GUANGYUAN_XLA_CACHE"] = tempfile.mkdtemp(prefix="xla-cache-")  # compile for real

from benchmarks.uncertainty import timed  # noqa: E402  (first call, then warm)
from simulator import load_scenario
from simulator.analysis import conditioning, uncertainty  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: (label, keyword arguments of conditioning.condition) of the figures' variants.
VARIANTS = [
    ("default: fit facts, cut 3, discrepancy 0.10", {}),
    ("discrepancy 0.05", {"discrepancy": 0.05}),
    ("no discrepancy", {"discrepancy": 0.0}),
    ("cut 2, no discrepancy", {"cut": 2.0, "discrepancy": 0.0}),
    ("fit and check facts (cap 20 n)", {"roles": ("fit", "check")}),
]


def figures(plan, spec, n: int) -> None:
    """Acceptance and P(target) of the prior and of each variant (seed 0)."""
    prior = uncertainty.run(plan, n=n, seed=0, spec=spec, conditioned=False)
    table = prior.probabilities().set_index("key")[["probability"]].rename(
        columns={"probability": "prior"})
    print(f"\nP(target), scenarios/plan.yaml, n = {n:,}, seed 0")
    notes = []
    for k, (label, kwargs) in enumerate(VARIANTS, start=1):
        try:
            got = conditioning.condition(spec, n, 0, **kwargs)
        except conditioning.ConditioningError as exc:
            notes.append(f"  [{k}] {label}: {exc}")
            continue
        notes.append(f"  [{k}] {label}: {got.summary()}")
        # the same scenario on the kept draws (evaluate the ensemble as run() does)
        times, data = uncertainty.evaluate({**plan.params(), **spec.fixed}, got.draws,
                                           [t.indicator for t in prior.targets])
        table[f"[{k}]"] = [float(uncertainty.met(uncertainty.target_values(data, times, t),
                                                 t).mean()) for t in prior.targets]
    print(table.round(3).to_string())
    print("\n".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="draws kept (default 1000)")
    parser.add_argument("--backend", choices=["auto", "numpy", "xla"], default=None,
                        help="the engine's backend (default: the engine's default)")
    parser.add_argument("--no-figures", action="store_true",
                        help="only the timings, not the probabilities of the variants")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from simulator.sd.engine import _choose_backend, set_default_backend
    set_default_backend(args.backend)
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    spec = uncertainty.load_spec()
    n = args.n
    print(f"engine backend: {_choose_backend(None, 'euler')}; {os.cpu_count()} CPUs")
    _, t_prior = timed(f"prior ensemble: {n:,} draws + probabilities",
                       lambda: uncertainty.run(plan, n=n, seed=0, spec=spec,
                                               conditioned=False).probabilities())
    got, t_cond_only = timed(f"conditioning alone: {n:,} consistent draws",
                             lambda: conditioning.condition(spec, n, 0))
    _, t_cond = timed(f"conditioned ensemble: {n:,} kept draws + probabilities",
                      lambda: uncertainty.run(plan, n=n, seed=0, spec=spec).probabilities())
    print(f"conditioned / prior: {t_cond / t_prior:.2f}; {got.summary()}")
    if not args.no_figures:
        figures(plan, spec, n)
    print(f"RESULT prior_s={t_prior:.3f} conditioned_s={t_cond:.3f} "
          f"conditioning_s={t_cond_only:.3f} ratio={t_cond / t_prior:.2f} "
          f"acceptance={got.acceptance:.4f} drawn={got.drawn} kept={got.kept}")


if __name__ == "__main__":
    main()
