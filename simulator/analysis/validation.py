"""Validation: the structure and behaviour tests of system-dynamics practice, run on the model.

    python -m simulator validate [--out docs/validation] [--n 10000] [--seed 0]

runs every test below, writes a Markdown report with figures to ``--out`` and exits with status 1
if any test fails (0 if all pass). Following Barlas (1996, System Dynamics Review 12(3)),
structure tests come before behaviour tests:

1. **Dimensional consistency** of every equation (:mod:`simulator.sd.units`, pint).
2. **Extreme conditions** (:data:`EXTREME`): the model is driven where the real system's answer is
   known — no R&D, no patent grants, unlimited rewards, no eligible firms, runaway premium or
   fiscal growth, no renewals — and each test asserts what must then happen (knowledge decays,
   certification stays within the pool, shares stay below their ceilings, ...), besides every
   stock staying finite and non-negative.
3. **Integration error**: halving TIME STEP (1/16 → 1/32 year) and switching to fourth-order
   Runge-Kutta change no indicator by more than :data:`INTEGRATION_TOL` of its value (Euler at the
   model's step is what PySD computes).
4. **Behaviour reproduction** against the data (:mod:`simulator.analysis.calibration`): every fitted
   observation within :data:`REPRODUCTION_TOL` (10 %, the usual acceptance limit of Chinese SD
   practice for historical fit), every 2020 indicator equal to Table 1, and the parameter file
   reproducible from its data (hashes of the model and data match). Observations the model is not
   expected to reproduce (role ``check`` in ``data/calibration_targets.csv``) are reported with the
   reason, not judged.
5. **Bounds under random policies**: ``n`` random settings of every lever in every plan period,
   every scenario assumption and every uncertain constant (uniform on their ranges, seeded), run
   at once by the ensemble engine; every stock stays non-negative and every share within its
   bounds (``%`` in [0, 100], fractions in [0, 1]) in every year of every run, and every
   **plausibility bound** of ``models/plausibility.csv`` holds
   (:mod:`simulator.analysis.plausibility`: R&D/GDP at most the top of Chinese cities,
   industrial revenue / GDP within its band, year-on-year R&D growth, the budget identity) — one
   check per bound, failed if any draw breaks it, naming the worst draw and the inputs that
   drive the breach.

6. **Loop knock-out** (:mod:`simulator.analysis.loops`): every loop of ``models/loops.csv`` cut
   in turn (and all together) in the plan scenario, the effect on every indicator in 2025 and
   2035; one test per loop that the README's loop table calls a driver fails if cutting it moves
   no indicator by :data:`simulator.analysis.loops.DRIVER_THRESHOLD` (1 %), and one fails if the
   README's table lists other loops than ``models/loops.csv``.

With ``--observed FILE`` (a file of actuals, :mod:`simulator.plan.actuals`) the report gains a
section 6, **hindcast** (the loop knock-out becomes section 7): the model calibrated with the
data up to ``--cutoff`` (default 2020) scored on the actuals after it, next to the two naive
forecasts (:mod:`simulator.analysis.hindcast`). It reports accuracy; it is not a pass/fail test
and does not change the exit status.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from simulator.analysis import calibration
from simulator.base.outputs import save_figure, write_atomic
from simulator.plan import tables

REPO = tables.MODELS_DIR.parent
DEFAULT_OUT = REPO / "docs" / "validation"
INTEGRATION_TOL = 0.01           # relative change of any indicator when the step is halved / RK4
REPRODUCTION_TOL = 10.0          # % error allowed on a fitted observation
BOUND_SLACK = 1e-9               # rounding allowance on bounds
WORST_DRAWS = "plausibility_worst_draws.csv"  # report file: the worst draw of each bound


@dataclass
class Check:
    """One validation test and its outcome."""
    group: str                   # structure | extreme | integration | behaviour | bounds | loops
    name: str
    passed: bool
    detail: str
    figure: str | None = None    # file name of a figure in the report directory
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Helpers

def _engine():
    from simulator.model import engine_for
    return engine_for()


def _base() -> dict[str, float]:
    from simulator.plan import scenario
    return scenario.default("validation").params()


def stocks(engine=None) -> list[str]:
    """Python names of the model's stocks (INTEG)."""
    engine = engine or _engine()
    return sorted(n for n, node in engine.nodes.items() if node.kind == "stock")


def declared_units(mdl_file: Path = tables.MODEL_FILE) -> dict[str, str]:
    """Declared units text of every model element, by Python name (as the engine read them)."""
    from simulator.model import engine_for
    return dict(engine_for(mdl_file).units)


def share_bounds(engine=None) -> dict[str, tuple[float, float]]:
    """Variables that are shares, with their bounds: ``%`` variables named share, intensity or
    literacy → [0, 100]; dimensionless variables named share, fraction or success → [0, 1]
    (a ``%`` rate such as the super-deduction rate is not a share). Constants are left out
    (their ranges are checked where they are set)."""
    engine = engine or _engine()
    out = {}
    for name, unit in declared_units(engine.mdl_file).items():
        node = engine.nodes.get(name)
        if node is None or node.kind in ("constant", "lookup"):
            continue
        if unit == "%" and any(w in name for w in ("share", "intensity", "literacy")):
            out[name] = (0.0, 100.0)
        elif unit in ("Dmnl", "") and any(w in name for w in ("share", "fraction", "success")):
            out[name] = (0.0, 1.0)
    return out


def _run(params: dict[str, float], variables: Sequence[str], **kw):
    engine = _engine()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Replacing a variable by a constant value.")
        return engine.run({**_base(), **params}, variables=list(variables), **kw)


# --------------------------------------------------------------------------------------------
# 1. Dimensional consistency

def dimensional() -> list[Check]:
    from simulator.sd import units
    report = units.run(tables.MODEL_FILE)
    detail = (f"{report.checked} equations checked with pint, {len(report.problems)} "
              f"problem(s)" + "".join(f"\n- {p}" for p in report.problems))
    return [Check("structure", "dimensional consistency of every equation",
                  not report.problems, detail,
                  data={"checked": report.checked, "problems": [str(p) for p in report.problems]})]


# --------------------------------------------------------------------------------------------
# 2. Extreme conditions

@dataclass(frozen=True)
class Extreme:
    """An extreme-condition test: parameters to impose and what must follow."""
    name: str
    setting: dict[str, float]
    expectation: str
    variables: tuple[str, ...]
    holds: Callable[[dict[str, np.ndarray], dict[str, float]], tuple[bool, str]]


def _falls(x: np.ndarray) -> bool:
    return bool(np.all(np.diff(x) <= 1e-9 * np.maximum(1, abs(x[:-1]))))


def _peaks_below(share: str, ceiling: str, label: str, digits: int, slack: float):
    """The check that ``share`` never exceeds the constant ``ceiling`` (+ ``slack``), reporting
    its peak with ``digits`` decimals."""
    return lambda r, p: (bool(np.all(r[share] <= p[ceiling] + slack)),
                         f"{label} peaks at {np.max(r[share]):.{digits}f} % "
                         f"(ceiling {p[ceiling]:g} %)")


def _lever_params(lever_id: str, value: float) -> dict[str, float]:
    lev = tables.lever(lever_id)
    return {lev.period_param(p): value for p in tables.PERIODS}


EXTREME: tuple[Extreme, ...] = (
    Extreme("no R&D at all", {"rd_spending": 0.0},
            "the knowledge stock only depreciates (joint research still adds a little), so it "
            "falls every year; potential invention grants follow it down, and grants fall every "
            "year once the examination lag has passed",
            ("knowledge_stock", "potential_invention_grants", "invention_grants"),
            lambda r, p: (_falls(r["knowledge_stock"]) and _falls(r["potential_invention_grants"])
                          and _falls(r["invention_grants"][int(p["patent_grant_lag"]):])
                          and r["invention_grants"][-1] < r["invention_grants"][0],
                          f"knowledge stock {r['knowledge_stock'][0]:.1f} → "
                          f"{r['knowledge_stock'][-1]:.2f} 亿元; grants "
                          f"{r['invention_grants'][0]:.0f} → {r['invention_grants'][-1]:.1f}/yr")),
    Extreme("no invention patents granted", {"invention_grants_2020": 0.0},
            "valid invention patents only lapse: they fall every year",
            ("valid_invention_patents", "high_value_invention_patents"),
            lambda r, p: (_falls(r["valid_invention_patents"]),
                          f"valid invention patents {r['valid_invention_patents'][0]:.0f} → "
                          f"{r['valid_invention_patents'][-1]:.0f}")),
    Extreme("unlimited HTE certification rewards", _lever_params("hte_reward", 1e6),
            "certification is bounded by the pool: new certificates never exceed the maximum "
            "certification fraction of the candidates, and HTEs stay finite",
            ("new_hte_certifications", "certification_candidates", "high_tech_enterprises"),
            lambda r, p: (bool(np.all(r["new_hte_certifications"] <= p["max_certification_fraction"]
                                      * r["certification_candidates"] * (1 + 1e-9) + 1e-9)
                               and np.all(np.isfinite(r["high_tech_enterprises"]))),
                          f"HTEs {r['high_tech_enterprises'][0]:.0f} → "
                          f"{r['high_tech_enterprises'][-1]:.0f}; certifications at most "
                          f"{np.max(r['new_hte_certifications'] / np.maximum(r['certification_candidates'], 1e-12)):.2f} "
                          f"of candidates (max {p['max_certification_fraction']:g})")),
    Extreme("no eligible firms and no firm formation",
            {"eligible_unregistered_firms_2020": 0.0, "base_firm_formation": 0.0,
             "firms_per_incubator": 0.0},
            "with nobody left to register, registered tech SMEs only lapse and exit: they fall "
            "every year, to under a fifth by 2035",
            ("tech_smes", "sme_registrations"),
            lambda r, p: (_falls(r["tech_smes"]) and r["tech_smes"][-1] < 0.2 * r["tech_smes"][0],
                          f"tech SMEs {r['tech_smes'][0]:.0f} → {r['tech_smes'][-1]:.1f}")),
    Extreme("no certification and no renewal",
            {"certification_fraction_2020": 0.0, "renewal_success_2020": 0.0},
            "certificates last three years: with none granted or renewed, HTEs fall every year and "
            "are below half the 2020 count three years on",
            ("high_tech_enterprises",),
            lambda r, p: (_falls(r["high_tech_enterprises"])
                          and r["high_tech_enterprises"][3] < 0.5 * r["high_tech_enterprises"][0],
                          f"HTEs 2020 {r['high_tech_enterprises'][0]:.0f}, 2023 "
                          f"{r['high_tech_enterprises'][3]:.1f}, 2035 "
                          f"{r['high_tech_enterprises'][-1]:.2f}")),
    Extreme("runaway innovation premium",
            {"high_tech_premium_2020": 1.0, "max_innovation_premium": 1.0},
            "high-tech revenue cannot outgrow industry beyond the ceiling share",
            ("high_tech_share",),
            _peaks_below("high_tech_share", "max_high_tech_share", "high-tech share", 1, 1e-6)),
    Extreme("fiscal S&T spending growing 100 %/yr", _lever_params("fiscal_st_growth", 100.0),
            "the S&T share of fiscal spending stays at or below its ceiling",
            ("fiscal_st_share",),
            _peaks_below("fiscal_st_share", "max_fiscal_st_share", "fiscal S&T share", 2, 1e-9)),
    Extreme("conversion growth of 100 %/yr", {"base_conversion_growth": 1.0},
            "conversion output cannot exceed its ceiling share of industrial revenue",
            ("conversion_share",),
            _peaks_below("conversion_share", "max_conversion_share", "conversion share", 1, 1e-6)),
    Extreme("science literacy growing 5/yr intrinsically", {"literacy_growth_rate_2020": 5.0},
            "logistic growth: literacy approaches its ceiling and never passes it",
            ("science_literacy",),
            lambda r, p: (bool(np.all(r["science_literacy"] <= p["literacy_ceiling"] + 1e-9)
                               and r["science_literacy"][-1] > 0.9 * p["literacy_ceiling"]),
                          f"literacy {r['science_literacy'][0]:.1f} → "
                          f"{r['science_literacy'][-1]:.2f} % (ceiling {p['literacy_ceiling']:g} %)")),
    Extreme("no R&D: output loses the return on it",
            {"rd_spending": 0.0},
            "GDP grows at its trend less the return on the 2020 R&D intensity it no longer has "
            "(rho x 0.67 % a year), so it ends below the trend by about that much compounded, "
            "and never above it",
            ("gdp", "trend_gdp"),
            lambda r, p: (bool(np.all(r["gdp"] <= r["trend_gdp"] * (1 + 1e-12))
                               and abs(r["gdp"][-1] / r["trend_gdp"][-1]
                                       - np.exp(-p["rd_rate_of_return"] * 0.0067 * 15)) < 2e-3),
                          f"GDP / trend 2035 {r['gdp'][-1] / r['trend_gdp'][-1]:.4f} against "
                          f"exp(-{p['rd_rate_of_return']:g} x 0.0067 x 15) = "
                          f"{np.exp(-p['rd_rate_of_return'] * 0.0067 * 15):.4f}")),
    Extreme("programmes at ten times the S&T budget, budget frozen",
            {**_lever_params("fiscal_st_growth", 0.0), **_lever_params("industry_rd_programme", 30.0),
             **_lever_params("talent_introduction", 600.0)},
            "the budget binds: programmes are funded at a fraction under one, the unfunded rest "
            "is a shortfall, other S&T spending keeps its protected share, and the budget "
            "identity holds at every step",
            ("programme_funding_fraction", "budget_shortfall", "budget_residual",
             "fiscal_st_spending", "other_st_spending"),
            lambda r, p: (bool(r["programme_funding_fraction"][-1] < 0.2
                               and np.all(r["budget_shortfall"][2:] > 0)
                               and np.all(r["other_st_spending"] >= p["min_other_st_share"]
                                          * r["fiscal_st_spending"] * (1 - 1e-12))
                               and np.max(np.abs(r["budget_residual"]))
                               <= 1e-12 * np.max(r["fiscal_st_spending"])),
                          f"funded fraction 2035 {r['programme_funding_fraction'][-1]:.3f}, "
                          f"shortfall 2035 {r['budget_shortfall'][-1]:.1f} 亿元, largest "
                          f"|residual| {np.max(np.abs(r['budget_residual'])):.1e} 亿元")),
    Extreme("an R&D workforce that cannot grow, with demand raised by a 200 % super-deduction",
            {"max_hiring_rate": 0.0, **_lever_params("super_deduction", 200.0)},
            "hiring only replaces leavers, so the workforce stays at its 2020 size; R&D spending "
            "never exceeds what it can carry and ends below what funders mean to spend",
            ("rd_personnel", "rd_spending", "rd_capacity", "desired_rd_spending"),
            lambda r, p: (bool(np.all(np.abs(r["rd_personnel"] / r["rd_personnel"][0] - 1) < 1e-9)
                               and np.all(r["rd_spending"] <= r["rd_capacity"] * (1 + 1e-12))
                               and r["rd_spending"][-1] < 0.95 * r["desired_rd_spending"][-1]),
                          f"R&D personnel {r['rd_personnel'][0]:.0f} → {r['rd_personnel'][-1]:.0f}"
                          f" FTE; R&D spending 2035 {r['rd_spending'][-1]:.2f} of "
                          f"{r['desired_rd_spending'][-1]:.2f} 亿元 desired")),
    Extreme("no technology brokers trained", _lever_params("tech_brokers", 0.0),
            "transfer capacity only erodes, so it falls every year, and contract turnover ends "
            "below where the 2020 policy would take it",
            ("tech_transfer_capacity", "tech_contract_turnover"),
            lambda r, p: (_falls(r["tech_transfer_capacity"])
                          and r["tech_contract_turnover"][-1] < p["_baseline_turnover_2035"],
                          f"transfer capacity {r['tech_transfer_capacity'][0]:.0f} → "
                          f"{r['tech_transfer_capacity'][-1]:.1f}; turnover 2035 "
                          f"{r['tech_contract_turnover'][-1]:.2f} vs "
                          f"{p['_baseline_turnover_2035']:.2f} 亿元 at 2020 policy")),
)


def extreme_conditions() -> list[Check]:
    engine = _engine()
    all_stocks = stocks(engine)
    base = _base()
    turnover = _run({}, ["tech_contract_turnover"])["tech_contract_turnover"][-1]
    checks = []
    for ex in EXTREME:
        run = _run(ex.setting, list(dict.fromkeys([*ex.variables, *all_stocks])))
        data = {k: np.asarray(v, dtype=float) for k, v in run.data.items()}
        consts = {**engine.constants, **base, **ex.setting,
                  "_baseline_turnover_2035": float(turnover)}
        ok, observed = ex.holds(data, consts)
        bad = [s for s in all_stocks if not np.all(np.isfinite(data[s]))
               or np.min(data[s]) < -BOUND_SLACK]
        if bad:
            ok = False
            observed += f"; stocks negative or not finite: {', '.join(bad)}"
        setting = ", ".join(f"{k} = {v:g}" for k, v in ex.setting.items())
        checks.append(Check("extreme", ex.name, bool(ok),
                            f"Setting {setting}. Expected: {ex.expectation}. Observed: {observed}.",
                            data={"series": {k: data[k].tolist() for k in ex.variables},
                                  "times": run.times.tolist()}))
    return checks


# --------------------------------------------------------------------------------------------
# 3. Integration error

def integration_error() -> list[Check]:
    engine = _engine()
    names = [i.variable for i in tables.indicators()]
    base = _run({}, names)
    dt = engine.time_step
    out = []
    for label, kw in ((f"halving TIME STEP ({dt:g} → {dt / 2:g} year)", {"time_step": dt / 2}),
                      ("fourth-order Runge-Kutta instead of Euler", {"method": "rk4"})):
        other = _run({}, names, **kw)
        worst, where = 0.0, ""
        for name in names:
            a, b = base[name], other[name]
            rel = np.abs(b - a) / np.maximum(np.abs(a), 1e-12)
            k = int(np.nanargmax(rel))
            if rel[k] > worst:
                worst, where = float(rel[k]), f"{name} in {base.times[k]:.0f}"
        out.append(Check("integration", label, worst <= INTEGRATION_TOL,
                         f"largest relative change of any indicator in any year: "
                         f"{worst * 100:.3f} % ({where}); limit {INTEGRATION_TOL * 100:g} %",
                         data={"max_relative_change": worst}))
    return out


# --------------------------------------------------------------------------------------------
# 4. Behaviour reproduction

def behaviour(result: calibration.Result | None = None) -> list[Check]:
    """Fitted observations within tolerance, 2020 baselines exact, parameter file current."""
    from simulator.model import Model
    from simulator.plan import scenario
    checks = []
    cal_file = calibration.read()
    rows = (result.targets if result is not None else cal_file["targets"])
    fitted = [t for t in rows if t["role"] == "fit"]
    worst = max(fitted, key=lambda t: abs(t["error_pct"]))
    detail = "; ".join(f"{t['id']} {t['error_pct']:+.1f} %" for t in fitted)
    checks.append(Check("behaviour", f"every fitted observation within {REPRODUCTION_TOL:g} %",
                        abs(worst["error_pct"]) <= REPRODUCTION_TOL,
                        f"{len(fitted)} observations; largest error {worst['id']} "
                        f"{worst['error_pct']:+.1f} %. {detail}.", data={"targets": rows}))
    # 2020 = Table 1 in every shipped scenario
    model = Model()
    bad = []
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        wide = model.run_wide(scenario.load(path))
        for ind in tables.indicators():
            if ind.value_2020 is not None and not math.isclose(
                    wide.loc[2020.0, ind.id], ind.value_2020, rel_tol=1e-9):
                bad.append(f"{path.stem}: {ind.id} = {wide.loc[2020.0, ind.id]:g}")
    checks.append(Check("behaviour", "2020 indicators equal the plan's Table 1", not bad,
                        "every scenario starts from the plan's 2020 baselines" if not bad
                        else "; ".join(bad)))
    # the parameter file belongs to this model and these data
    prov = cal_file["provenance"]
    current = calibration.provenance(prov["seed"], prov["starts"])
    stale = [k for k in ("model", "data") if prov[k] != current[k]]
    checks.append(Check("behaviour", "calibration file matches the model and data it was fitted to",
                        not stale, "SHA-256 of the .mdl and of every data file equal those in "
                        "models/calibration.yaml" if not stale else
                        f"changed since calibration: {', '.join(stale)} — rerun python -m "
                        "simulator calibrate"))
    return checks


# --------------------------------------------------------------------------------------------
# 5. Bounds under random policies

def random_bounds(n: int = 10_000, seed: int = 0, bounds=None) -> list[Check]:
    """The bounds under ``n`` random policy settings (seeded), from one ensemble run.

    Every stock non-negative, every share within its bounds, and every plausibility bound of
    ``bounds`` (default ``models/plausibility.csv``, :mod:`simulator.analysis.plausibility`) —
    one check each, failed if any draw breaks it, naming the worst draw and what drives it."""
    from simulator.analysis import plausibility
    from simulator.model import random_draws
    engine = _engine()
    if bounds is None:
        bounds = plausibility.load(engine=engine)
    all_stocks = stocks(engine)
    shares = share_bounds(engine)
    draws = random_draws(n, seed=seed, engine=engine)
    needed = (name for b in bounds for name in b.names)
    saved = list(dict.fromkeys([*all_stocks, *sorted(shares), *needed]))
    run = engine.run({**_base(), **draws}, n=n, variables=saved)
    neg = {s: float(np.min(run[s])) for s in all_stocks if np.min(run[s]) < -BOUND_SLACK
           or not np.all(np.isfinite(run[s]))}
    out_of = {s: (float(np.min(run[s])), float(np.max(run[s]))) for s, (lo, hi) in shares.items()
              if np.min(run[s]) < lo - BOUND_SLACK or np.max(run[s]) > hi * (1 + BOUND_SLACK)
              or not np.all(np.isfinite(run[s]))}
    minima = {s: float(np.min(run[s])) for s in all_stocks}
    ranges = {s: (float(np.min(run[s])), float(np.max(run[s]))) for s in shares}
    checks = [
        Check("bounds", f"every stock non-negative in {n:,} random policy settings", not neg,
              f"{len(all_stocks)} stocks × {len(run.times)} years × {n:,} runs (seed {seed}); "
              + ("lowest value of any stock " + f"{min(minima.values()):.4g}" if not neg else
                 "negative: " + ", ".join(f"{k} {v:.4g}" for k, v in neg.items())),
              data={"minima": minima}),
        Check("bounds", f"every share within its bounds in {n:,} random policy settings",
              not out_of, f"{len(shares)} shares (% in [0, 100], fractions in [0, 1]): "
              + ", ".join(f"{k} [{lo:.3g}, {hi:.3g}]" for k, (lo, hi) in ranges.items())
              + ("" if not out_of else "; OUT OF BOUNDS: " + ", ".join(out_of)),
              data={"ranges": ranges}),
    ]
    for o in plausibility.evaluate(bounds, run.times, run.data, draws):
        checks.append(Check(
            "bounds", f"{o.bound.describe()} in every random draw", o.passed,
            plausibility.summary(o),
            data={"id": o.bound.id, "bound": o.bound.describe(), "source": o.bound.source,
                  "broken": o.broken, "n": o.n, "lowest": o.lowest,
                  "highest": o.highest, "worst_draw": o.worst_draw, "worst_time": o.worst_time,
                  "worst_value": o.worst_value, "worst_excess": o.worst_excess,
                  "worst_settings": o.settings,
                  "drivers": [list(d) for d in o.drivers]}))
    return checks


# --------------------------------------------------------------------------------------------
# 6. Loop knock-out

def loop_checks(readme_text: str | None = None, knockout=None) -> list[Check]:
    """The README's loop table against the model's loop knock-out (:mod:`simulator.analysis.loops`).

    Parameters
    ----------
    readme_text : str, optional
        The README (default the project's ``README.md``).
    knockout : simulator.analysis.loops.KnockOut, optional
        Default :func:`simulator.analysis.loops.knockout` of the plan scenario and
        ``models/loops.csv``.

    Returns
    -------
    list of Check
        One check that the README's loop table lists the loops of ``models/loops.csv``, then one
        per loop the README calls a driver: it fails if cutting the loop moves no indicator by
        the driver threshold. Every check carries the knock-out in ``data["knockout"]``.
    """
    from simulator.analysis import loops
    if readme_text is None:
        readme_text = (REPO / "README.md").read_text(encoding="utf-8")
    ko = knockout if knockout is not None else loops.knockout()
    data = {"knockout": ko}
    try:
        claimed = loops.readme_drivers(readme_text)
    except ValueError as exc:
        return [Check("loops", "README loop table lists the model's loops", False, str(exc),
                      data=data)]
    ids = [lp.id for lp in ko.loops]
    same = list(claimed) == ids
    checks = [Check("loops", "README loop table lists the model's loops", same,
                    f"README lists {', '.join(claimed) or 'no loop'}; models/loops.csv has "
                    f"{', '.join(ids)}" + ("" if same else " (regenerate it: python -m simulator "
                                           "loops --write-readme)"), data=data)]
    for loop_id, driver in claimed.items():
        if not driver:
            continue
        if loop_id not in ids:
            checks.append(Check("loops", f"README driver {loop_id} moves an indicator by "
                                f"{ko.threshold:g} %", False, f"the README calls loop "
                                f"{loop_id} a driver but models/loops.csv has no such loop",
                                data=data))
            continue
        row = ko.summary[ko.summary["loop"] == loop_id].iloc[0]
        largest = ko.largest(loop_id)
        checks.append(Check(
            "loops", f"README driver {loop_id} moves an indicator by {ko.threshold:g} %",
            ko.driver(loop_id),
            f"cutting {loop_id} ({row['name_en']}) moves {row['indicator'] or 'no indicator'} "
            f"by {largest:.2f} {row['effect_unit']} in {row['year']} (largest effect over "
            f"{', '.join(map(str, ko.years))}); a driver needs {ko.threshold:g} or more (% of a "
            "level, pp of a growth rate)",
            data=data))
    return checks


def loop_section(checks: list[Check], number: int) -> list[str]:
    """Markdown lines of the report's loop knock-out section (empty without loop checks)."""
    from simulator.analysis import loops
    mine = [c for c in checks if c.group == "loops"]
    if not mine:
        return []
    ko = mine[0].data["knockout"]
    lines = ["", f"## {number}. Loop knock-out", "",
             f"Each loop of `models/loops.csv` is cut (its `cut` constants set, e.g. a switch to "
             f"0) in the `{ko.scenario}` scenario with the calibrated constants; effect = 100 "
             "(cut − full) / |full| for a level, cut − full in percentage points (pp) for a "
             f"growth rate. A loop is a driver if some effect reaches {ko.threshold:g} (% or pp) "
             f"in {' or '.join(map(str, ko.years))}. Command: `python -m simulator loops` "
             "(`--format csv` for every value); the README's loop table is its `--markdown` "
             "output. Method: `docs/model.md`, \"Loop knock-out\".", ""]
    for c in mine:
        lines.append(f"- **{c.name}** — {'pass' if c.passed else 'FAIL'}: {c.detail}")
    lines += ["", loops.markdown(ko).rstrip("\n"), "",
              f"Every effect ({' / '.join(map(str, ko.years))}):", "",
              loops.matrix_markdown(ko).rstrip("\n")]
    return lines


# --------------------------------------------------------------------------------------------
# All, and the report

def run_all(n: int = 10_000, seed: int = 0, progress: bool = False, bounds=None) -> list[Check]:
    """Run every validation check, in order.

    The groups: structure, extreme conditions, integration error, behaviour reproduction,
    bounds under random policies, loop knock-out.

    Parameters
    ----------
    n : int, default 10_000
        Random policy settings of the bounds check (:func:`random_bounds`).
    seed : int, default 0
        Seed of those settings (0 is a seed like any other).
    progress : bool, default False
        Show a tqdm progress bar (one step per group) on standard error.
    bounds : sequence of simulator.analysis.plausibility.Bound, optional
        As in :func:`random_bounds`; default ``models/plausibility.csv``.

    Returns
    -------
    list of Check
        One per test, in the order of the module docstring; ``passed`` says whether it held,
        ``detail`` why.

    Examples
    --------
    >>> from simulator import validation
    >>> checks = validation.run_all(n=1000, seed=0)        # doctest: +SKIP
    >>> all(c.passed for c in checks)                     # doctest: +SKIP
    """
    steps = [("dimensional consistency", dimensional), ("extreme conditions", extreme_conditions),
             ("integration error", integration_error), ("behaviour reproduction", behaviour),
             ("random policies", lambda: random_bounds(n, seed, bounds)),
             ("loop knock-out", loop_checks)]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(steps), desc="validate", unit="group", leave=False)
    checks: list[Check] = []
    for label, fn in steps:
        if bar:
            bar.set_postfix_str(label)
        checks.extend(fn())
        if bar:
            bar.update()
    if bar:
        bar.close()
    return checks


def _figures(checks: list[Check], out: Path) -> dict[str, str]:
    """Figures for the report; returns figure file names by purpose."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from simulator.plan import scenario
    files = {}
    # behaviour reproduction: observed points against the model-implied history and the run
    cal = calibration.read()
    rows = [t for t in cal["targets"] if t["role"] in ("fit", "check")]
    variables = list(dict.fromkeys(t["variable"] for t in rows))
    run = _run({}, variables)
    t = run.times
    cols = 4
    nrows = math.ceil(len(variables) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False)
    units = declared_units()
    for ax, var in zip(axes.flat, variables):
        v0, v5 = run[var][0], run[var][5]
        years = np.arange(2015, 2021)
        ax.plot(years, calibration.implied_history(v0, v5, years), "--", color="0.4",
                label="model-implied 2015–2020")
        ax.plot(t[t <= 2025], run[var][t <= 2025], "-", color="C0", label="model, 2020 policy")
        for r in rows:
            if r["variable"] == var:
                ax.plot(r["year"], r["observed"], "o" if r["role"] == "fit" else "x",
                        color="C3" if r["role"] == "fit" else "C1",
                        label="observed (fitted)" if r["role"] == "fit" else "observed (check)")
        ax.set_title(var, fontsize=9)
        ax.set_xlabel("year")
        ax.set_ylabel(units.get(var, ""))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), fontsize=6)
    for ax in list(axes.flat)[len(variables):]:
        ax.axis("off")
    fig.tight_layout()
    files["behaviour"] = "behaviour.png"
    save_figure(fig, out / files["behaviour"], dpi=110)
    plt.close(fig)
    # extreme conditions: the asserted series of each test
    ext = [c for c in checks if c.group == "extreme"]
    nrows = math.ceil(len(ext) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 2.8 * nrows), squeeze=False)
    for ax, c in zip(axes.flat, ext):
        times = c.data["times"]
        first_unit = units.get(next(iter(c.data["series"])), "")
        twin = None
        lines = []
        for k, (name, series) in enumerate(c.data["series"].items()):
            unit = units.get(name, "")
            if unit == first_unit:
                target = ax
            else:                      # a second unit gets the right-hand axis
                twin = twin or ax.twinx()
                twin.set_ylabel(unit, fontsize=7)
                target = twin
            lines += target.plot(times, series, color=f"C{k}", label=f"{name} [{unit}]")
        ax.set_title(("✓ " if c.passed else "✗ ") + c.name, fontsize=8)
        ax.set_xlabel("year")
        ax.set_ylabel(first_unit, fontsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.legend(lines, [ln.get_label() for ln in lines], fontsize=6)
    for ax in list(axes.flat)[len(ext):]:
        ax.axis("off")
    fig.tight_layout()
    files["extreme"] = "extreme.png"
    save_figure(fig, out / files["extreme"], dpi=110)
    plt.close(fig)
    # integration: two indicators at three integrations
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    plan = scenario.load(REPO / "scenarios" / "plan.yaml").params()
    engine = _engine()
    for ax, var in zip(axes, ("rd_intensity", "tech_smes")):
        for label, kw in (("Euler, dt 1/16", {}), ("Euler, dt 1/32",
                                                   {"time_step": engine.time_step / 2}),
                          ("RK4, dt 1/16", {"method": "rk4"})):
            r = engine.run(plan, variables=[var], **kw)
            ax.plot(r.times, r[var], label=label, lw=1)
        ax.set_title(f"{var} (plan scenario)", fontsize=9)
        ax.set_xlabel("year")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.set_ylabel(units.get(var, ""))
        ax.legend(fontsize=7)
    fig.tight_layout()
    files["integration"] = "integration.png"
    save_figure(fig, out / files["integration"], dpi=110)
    plt.close(fig)
    return files


def hindcast_section(h) -> list[str]:
    """Markdown lines of the report's hindcast section for a
    :class:`simulator.analysis.hindcast.Hindcast`."""
    from simulator.analysis.hindcast import METHOD_NAMES, METHODS

    def num(x, digits=2):
        return "—" if x is None else f"{x:.{digits}f}"
    fitted = ", ".join(f"{k} = {v:g}" for k, v in h.parameters.items()) or "none"
    lines = ["", f"## 6. Hindcast against actuals (cutoff {h.cutoff})", "",
             f"Actuals: `{h.observed}`. The model was calibrated with the data dated up to "
             f"{h.cutoff} only (fitted: {fitted}; {len(h.fixed)} constants not identified by "
             f"those data keep their documented values), scenario `{h.scenario}`, and scored on "
             "every observation after the cutoff. Error = 100 (forecast − actual) / |actual|; a "
             "satisfied bound scores 0. Method and what a cutoff before 2020 means for a model "
             "that starts in 2020: `docs/hindcast.md`. Not a pass/fail test.", "",
             "| method | " + " | ".join(f"{METHOD_NAMES[m][0]} {m}" for m in METHODS) + " |",
             "|---|" + "---|" * len(METHODS),
             "| what | " + " | ".join(METHOD_NAMES[m][1] for m in METHODS) + " |", "",
             "| series | " + " | ".join(f"{m} n | {m} MAPE % | {m} RMSPE %" for m in METHODS)
             + " |", "|---|" + "---|" * (3 * len(METHODS))]
    for series in dict.fromkeys(s.series for s in h.scores):
        cells = []
        for m in METHODS:
            sc = h.score(m, series)
            cells += [str(sc.n), num(sc.mape), num(sc.rmspe)]
        lines.append(f"| {series} | " + " | ".join(cells) + " |")
    lines += ["", "| indicator | year | kind | actual | " + " | ".join(
        f"{m} | {m} error %" for m in METHODS) + " | note |",
        "|---|---|---|---|" + "---|---|" * len(METHODS) + "---|"]
    for p in h.points:
        cells = []
        for m in METHODS:
            cells += [num(p.forecast[m], 4), num(p.error_pct[m])]
        lines.append(f"| {p.indicator} | {p.year:g} | {p.kind} | {p.observed:.4g} | "
                     + " | ".join(cells) + f" | {p.note} |")
    if h.notes:
        lines += [""] + [f"- {n}" for n in h.notes]
    return lines


def _cell(text: str) -> str:
    """``text`` for a Markdown table cell (``|x|`` would end the cell)."""
    return text.replace("|", "\\|")


def report(checks: list[Check], out: Path = DEFAULT_OUT, n: int = 10_000, seed: int = 0,
           hindcast=None) -> Path:
    """Write ``out/report.md`` and its figures.

    Parameters
    ----------
    checks : list of Check
        The outcomes of :func:`run_all`.
    out : Path, default ``docs/validation``
        The report directory, created if missing; the report is written atomically.
    n, seed : int, default 10_000 and 0
        The settings the checks were run with, quoted in the report.
    hindcast : simulator.analysis.hindcast.Hindcast, optional
        Reported as section 6 (the loop knock-out then becomes section 7).

    Returns
    -------
    Path
        The report's path, ``out/report.md``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs = _figures(checks, out)
    cal = calibration.read()
    passed = sum(c.passed for c in checks)
    engine = _engine()
    lines = [
        "# Validation report — Guangyuan S&T innovation and IP model",
        "",
        f"Generated by `python -m simulator validate --n {n} --seed {seed}` on "
        f"{_dt.date.today().isoformat()} for `models/guangyuan_innovation.mdl` (SHA-256 "
        f"`{calibration._sha256(engine.mdl_file)[:16]}…`) with the calibrated parameters of "
        f"`models/calibration.yaml`. Method: `simulator/analysis/validation.py`, following Barlas (1996) "
        "and Sterman (1984, 2000).",
        "",
        f"**{passed} of {len(checks)} tests pass.**",
        "",
        "| group | test | result |",
        "|---|---|---|",
    ]
    for c in checks:
        lines.append(f"| {c.group} | {c.name} | {'pass' if c.passed else '**FAIL**'} |")
    lines += ["", "## 1. Structure: dimensional consistency", ""]
    for c in checks:
        if c.group == "structure":
            lines += [c.detail, ""]
    lines += ["Units are parsed with pint from each variable's units field; `%` is 0.01 of a "
              "dimensionless unit, so a percentage used as a fraction without `/ 100` is caught "
              "(`simulator/sd/units.py`).", "", "## 2. Extreme conditions", "",
              f"![extreme-condition runs]({figs['extreme']})", ""]
    for c in checks:
        if c.group == "extreme":
            lines += [f"- **{c.name}** — {'pass' if c.passed else 'FAIL'}. {c.detail}"]
    lines += ["", "Every extreme run also checks that every stock stays finite and non-negative.",
              "", "## 3. Integration error", "", f"![integration]({figs['integration']})", ""]
    for c in checks:
        if c.group == "integration":
            lines += [f"- **{c.name}** — {'pass' if c.passed else 'FAIL'}: {c.detail}"]
    lines += ["", "## 4. Behaviour reproduction (calibration)", "",
              "The model starts in 2020 from the plan's baselines; its constants set how fast it "
              "moves from there. The calibration asks that the model, with 2020 policies held, "
              "carry on at the average pace of 2015–2020: the model-implied value in a past year "
              "is the 2020 value carried back at the model's 2020–2025 growth (dashed lines). "
              "Red dots are fitted observations, orange crosses observations reported but not "
              "fitted (reasons below). Data: `data/observed_2015_2020.csv` (sources and quotes), "
              "`data/plan_13th_fyp.csv`; treatment of every fact: `data/calibration_targets.csv`.",
              "", f"![behaviour reproduction]({figs['behaviour']})", ""]
    for c in checks:
        if c.group == "behaviour":
            lines += [f"- **{c.name}** — {'pass' if c.passed else 'FAIL'}: {c.detail}"]
    treatments = {t.id: t for t in calibration.load_targets()}
    lines += ["", "| observation | role | year | observed | model | error | source |",
              "|---|---|---|---|---|---|---|"]
    for t in cal["targets"]:
        if t["role"] == "anchor":
            continue
        lines.append(f"| {t['id']} | {t['role']} | {t['year']} | {t['observed']:.4g} | "
                     f"{t['model']:.4g} | {t['error_pct']:+.1f} % | {t['source']} |")
    lines += ["", "Not fitted, and why:", ""]
    for t in cal["targets"]:
        if t["role"] == "check":
            lines.append(f"- **{t['id']}**: {treatments[t['id']].treatment}")
    lines += ["", "### Fitted parameters", "",
              "| constant | documented | fitted | 95 % CI | range |", "|---|---|---|---|---|"]
    for k, v in cal["parameters"].items():
        lines.append(f"| {k} | {v['documented']:g} | {v['value']:g} | "
                     f"{v['ci95'][0]:.4g} – {v['ci95'][1]:.4g} | {v['range'][0]:g} – "
                     f"{v['range'][1]:g} |")
    lines += ["", "### Candidates the data do not identify (documented values kept)", ""]
    for e in cal["identification"]:
        lines.append(f"- **{e['constant']}**: {e['reason']}")
    fit = cal["fit"]
    lines += ["", "### Fit statistics (Sterman 1984)", "",
              "| series | n | MAPE % | RMSPE % | Theil U | U_M | U_S | U_C |",
              "|---|---|---|---|---|---|---|---|"]
    for name, st in [*fit["series"].items(), ("pooled, fitted points", fit["pooled"])]:
        lines.append(f"| {name} | {st['n']:g} | {st['mape']:.2f} | {st['rmspe']:.2f} | "
                     f"{st['theil_u']:.4f} | {st['theil_um']:.2f} | {st['theil_us']:.2f} | "
                     f"{st['theil_uc']:.2f} |")
    lines += ["", f"χ² = {fit['chi2']:g} on {fit['dof']} degrees of freedom. A series with one "
              "observation has all its error in bias (U_M = 1) by construction.", "",
              "## 5. Bounds under random policies", ""]
    for c in checks:
        if c.group == "bounds":
            lines += [f"- **{c.name}** — {'pass' if c.passed else 'FAIL'}: {c.detail}"]
    sourced = [c.data for c in checks if c.group == "bounds" and "source" in c.data]
    if sourced:
        from simulator.analysis.plausibility import worst_draws_csv
        write_atomic(out / WORST_DRAWS, worst_draws_csv(
            {d["id"]: (d["worst_draw"], d["worst_settings"]) for d in sourced}))
        lines += ["", "Plausibility bounds (`models/plausibility.csv`, `simulator/analysis/plausibility.py`)"
                  " and their sources. Draws are numbered from 0 in the order of "
                  f"`simulator.model.random_draws(n, seed={seed})`; every drawn input of each "
                  f"bound's worst draw is in [`{WORST_DRAWS}`]({WORST_DRAWS}).", "",
                  "| bound | test | source |", "|---|---|---|"]
        lines += [f"| {d['id']} | {_cell(d['bound'])} | {_cell(d['source'])} |" for d in sourced]
    if hindcast is not None:
        lines += hindcast_section(hindcast)
    lines += loop_section(checks, 6 if hindcast is None else 7)
    lines += ["", "## References", "",
              "- Barlas, Y. (1996). Formal aspects of model validity and validation in system "
              "dynamics. *System Dynamics Review* 12(3), 183–210.",
              "- Brun, R., Reichert, P. & Künsch, H. R. (2001). Practical identifiability analysis "
              "of large environmental simulation models. *Water Resources Research* 37(4), "
              "1015–1030.",
              "- Sterman, J. D. (1984). Appropriate summary statistics for evaluating the "
              "historical fit of system dynamics models. *Dynamica* 10(2), 51–66.",
              "- Sterman, J. D. (2000). *Business Dynamics*. McGraw-Hill, ch. 21.", ""]
    path = out / "report.md"
    write_atomic(path, "\n".join(lines))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator validate",
                                     description="run the validation tests and write a report")
    parser.add_argument("--out", default=None, help="report directory (default docs/validation)")
    parser.add_argument("--n", type=int, default=10_000, help="random policy settings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--observed", default=None, help="CSV file of actuals: adds a hindcast")
    parser.add_argument("--cutoff", default="2020", help="cutoff year of the hindcast")
    args = parser.parse_args(argv)
    return validate_cli(args)


def load_hindcast_input(args):
    """``(actuals, cutoff)`` of ``--observed`` and ``--cutoff``, validated (an
    :class:`simulator.base.inputs.InputError` for a bad file, a bad cutoff or no observation after
    it), or None without ``--observed``. Called before anything is run."""
    if not getattr(args, "observed", None):
        return None
    from simulator.analysis import hindcast
    from simulator.plan import actuals
    cutoff = hindcast.check_cutoff(getattr(args, "cutoff", 2020))
    observed = actuals.load(args.observed)
    hindcast.observations_after(observed, cutoff)
    return observed, cutoff


def validate_cli(args) -> int:
    from simulator.analysis import plausibility
    given = load_hindcast_input(args)
    bounds = plausibility.load()  # a bad row is refused before anything runs
    checks = run_all(args.n, args.seed, progress=args.progress, bounds=bounds)
    scored = None
    if given is not None:
        from simulator.analysis import hindcast
        scored = hindcast.hindcast(*given)
    path = report(checks, Path(args.out) if args.out else DEFAULT_OUT, args.n, args.seed,
                  hindcast=scored)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'pass' if c.passed else 'FAIL'}  {c.group:<11} {c.name:<{width}}")
    failed = [c for c in checks if not c.passed]
    for c in failed:
        print(f"\nFAIL {c.name}: {c.detail}", file=sys.stderr)
    if scored is not None:
        pooled = scored.score("model")
        print(f"hindcast (cutoff {scored.cutoff}): model MAPE "
              f"{'—' if pooled.mape is None else f'{pooled.mape:.1f} %'} on {pooled.n} points "
              "(report section 6)")
    print(f"\n{len(checks) - len(failed)} of {len(checks)} tests pass; report: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
