"""How long the one-page brief takes to build: ``python benchmarks/brief.py [--n 7]``.

Builds, in one process and alternating so that the machine's load falls on both alike, the
brief's PDF (``simulator.app.brief.brief_pdf``), its Word file (``brief_docx``) and the figure
pack (``simulator.app.exports.figure_pack``, the download beside them) for the ambitious
scenario against the baseline, as the app's export tab does, and prints the median of ``n``
builds of each (after one warm-up build that loads fonts) and the brief's ratio to the pack.
The model runs, scorecard and budget are computed once beforehand: in the app they are cached.

The issue asks for the PDF in under 3 s. Not a pass/fail test: it prints figures.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulator import Model  # noqa: E402
from simulator.analysis import budget  # noqa: E402
from simulator.app import brief, exports, session  # noqa: E402
from simulator.plan import goals  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=7, help="builds of each (default 7)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}")

    model = Model()
    presets = session.load_presets()
    current, reference = presets["ambitious"], presets["baseline"]
    results, ref_results = model.run(current), model.run(reference)
    card = goals.scorecard(results)
    periods = budget.of_scenario(current, model)
    kwargs = {"reference": reference, "ref_results": ref_results}
    builds = {
        "brief PDF": lambda: brief.brief_pdf(current, results, card, periods, args.lang,
                                             **kwargs),
        "brief Word": lambda: brief.brief_docx(current, results, card, periods, args.lang,
                                               **kwargs),
        "figure pack": lambda: exports.figure_pack(
            {"current": results, "reference": ref_results}, card, args.lang,
            title=current.title_zh, dashed=["reference"], scenario=current),
    }
    font = exports.cjk_font()
    print(f"CJK font: {font or 'none (the brief falls back to English)'}; language {args.lang}; "
          f"{args.n} builds of each after one warm-up")
    times: dict[str, list[float]] = {name: [] for name in builds}
    sizes: dict[str, int] = {}
    for name, build in builds.items():  # warm-up: font files, matplotlib's caches
        sizes[name] = len(build())
    for _ in range(args.n):
        for name, build in builds.items():
            start = time.perf_counter()
            build()
            times[name].append(time.perf_counter() - start)
    pack = statistics.median(times["figure pack"])
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<12} median {med:6.2f} s  min {min(values):6.2f} s  max {max(values):6.2f} s"
              f"  {sizes[name] / 1024:7.0f} KiB  ({med / pack:4.2f} × the figure pack)")


if __name__ == "__main__":
    main()
