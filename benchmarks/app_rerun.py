"""How long a slider move takes on the server: ``python benchmarks/app_rerun.py``.

Drives ``app.py`` with Streamlit's AppTest (the real script runner, no browser) and prints, for
each view, the median and 90th percentile of

* **server** — the script run itself, as the app measures it (``_render_ms`` in session state):
  reading the widgets, building the Scenario, the cached or uncached model run and scorecard,
  and building every element and chart;
* **AppTest** — the whole ``AppTest.run()`` round trip, which adds AppTest's own bookkeeping
  (an upper bound of what a real server adds for serialising the page).

"uncached" moves a slider to a value no session has used yet, so the model really runs;
"cached" moves it back to a value already seen (``st.cache_data`` hit). The "uncertainty on"
cases turn the sidebar's uncertainty switch on first: every uncached move then also runs the
1,000-draw ensemble (probabilities in the scorecard, 5–95 % bands on the charts). The first run of the
process (model load, imports) is reported separately. Also prints the parts on their own:
model run, scorecard, and the trajectory chart as Streamlit converts it.

Not a pass/fail test: it prints figures for the README and the issue.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamlit.testing.v1 import AppTest  # noqa: E402

from simulator import Model
from simulator.app import charts, i18n, session
from simulator.plan import goals, tables  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def line(label: str, server: list[float], wall: list[float]) -> str:
    return (f"{label:<46} server median {statistics.median(server):6.0f} ms  p90 "
            f"{pct(server, 90):6.0f} ms   AppTest median {statistics.median(wall):6.0f} ms  "
            f"p90 {pct(wall, 90):6.0f} ms   (n={len(server)})")


def timed_run(at: AppTest) -> tuple[float, float]:
    start = time.perf_counter()
    at.run()
    wall = (time.perf_counter() - start) * 1000
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return at.session_state["_render_ms"], wall


def bench_view(query: dict[str, str], tab: str | None, n: int, seed: int,
               uncertainty: bool = False) -> list[str]:
    rng = np.random.default_rng(seed)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    # fresh values: the link sets another lever (in a closed group: no slider on the page) to
    # an unusual value, so no earlier run is cached
    salt = float(rng.choice(np.arange(0.5, 20.0, 0.5)))
    at.query_params.update({**query, "tech_loans": i18n.plain_number(salt)})
    at.run()
    if uncertainty:
        at.toggle(key="w_uncertainty").set_value(True)
        at.run()
    if tab:
        at.session_state["w_tab"] = i18n.ui(f"tab_{tab}", "zh")
        at.run()
    lever = tables.lever("sme_campaign")
    grid = lever.min + lever.step * np.arange(int(round((lever.max - lever.min) / lever.step)) + 1)
    timed_run(at)
    seen: list[float] = []
    uncached_s, uncached_w, cached_s, cached_w = [], [], [], []
    values = rng.permutation(grid)[:n]
    for value in values:
        at.slider(key="w_sme_campaign").set_value(float(value))
        s, w = timed_run(at)
        uncached_s.append(s)
        uncached_w.append(w)
        seen.append(float(value))
    for value in seen:
        at.slider(key="w_sme_campaign").set_value(value)
        s, w = timed_run(at)
        cached_s.append(s)
        cached_w.append(w)
    name = (tab or query.get("view", "")) + (" + uncertainty on" if uncertainty else "")
    return [line(f"{name}: slider move, uncached", uncached_s, uncached_w),
            line(f"{name}: slider move, cached", cached_s, cached_w)]


def parts(n: int) -> list[str]:
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as convert

    presets = session.load_presets()
    model = Model()
    plan, base = presets["plan"], presets["baseline"]
    ref = model.run(base)
    run_ms, card_ms, chart_ms, key_ms = [], [], [], []
    for k in range(n):
        scn = plan.with_levers(sme_campaign=float(k % 20))
        t0 = time.perf_counter()
        res = model.run(scn)
        t1 = time.perf_counter()
        goals.scorecard(res)
        t2 = time.perf_counter()
        convert(charts.trajectory_chart({"a": res, "b": ref}, "zh", dashed=["b"]))
        t3 = time.perf_counter()
        convert(charts.trajectory_chart({"a": res, "b": ref}, "zh", dashed=["b"],
                                    indicator_ids=charts.key_indicator_ids()))
        t4 = time.perf_counter()
        run_ms.append((t1 - t0) * 1000)
        card_ms.append((t2 - t1) * 1000)
        chart_ms.append((t3 - t2) * 1000)
        key_ms.append((t4 - t3) * 1000)
    return [f"{'parts (median of ' + str(n) + ')':<38} model run {statistics.median(run_ms):.0f} ms,"
            f" goals.scorecard {statistics.median(card_ms):.0f} ms, all-indicator chart "
            f"{statistics.median(chart_ms):.0f} ms, key-indicator chart "
            f"{statistics.median(key_ms):.0f} ms (built and converted as st.altair_chart does)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="slider moves per view (default 15)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    first = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    first.run()
    first_ms = (time.perf_counter() - t0) * 1000
    import os

    print(f"app rerun benchmark — {os.cpu_count()} CPUs, Model backend "
          f"{Model().backend!r}, {args.n} moves per view")
    print(f"{'first run of the process (model load)':<38} {first_ms:6.0f} ms (AppTest)")
    out = []
    out += bench_view({}, "scorecard", args.n, seed=1)
    out += bench_view({}, "trajectories", args.n, seed=2)
    out += bench_view({}, "compare", args.n, seed=3)
    out += bench_view({"view": "meeting"}, None, args.n, seed=4)
    out += bench_view({}, "scorecard", args.n, seed=5, uncertainty=True)
    out += bench_view({}, "trajectories", args.n, seed=6, uncertainty=True)
    out += parts(args.n)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
