"""Terminal presentation shared by the command line and the analyses: CJK-aware widths, tables
that fit the terminal, and the scorecard and comparison tables (text and Markdown)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from simulator.base.text import format_against, format_number, format_table
from simulator.plan import tables

if TYPE_CHECKING:
    import pandas as pd

    from simulator.analysis.solver import SolveResult


_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def _decimals(row) -> int:
    if row["kind"] == "cagr":
        return 1
    return max(tables.indicator(row["indicator"]).decimals, _target_decimals(row["target"]))


def _target_decimals(value: float) -> int:
    text = f"{value:g}"
    return len(text.split(".")[1]) if "." in text else 0


def scorecard_table(card: pd.DataFrame) -> str:
    """A scorecard (one scenario) as a terminal table with Chinese and English names."""
    import pandas as pd
    header = ["", "指标 indicator", "年份", "目标 target", "模拟 value", "达成 met",
              "差距 margin", "首次达成 first met", "单位 unit"]
    rows = []
    for _, r in card.iterrows():
        dec = _decimals(r)
        rows.append([
            "*" if r["doubling"] else "",
            f"{r['name_zh']} {r['name_en']}",
            str(r["year"]),
            f"{_SYMBOL[r['comparison']]} {format_number(r['target'], dec)}",
            format_against(r["value"], r["target"], dec),
            "✓ 达成" if r["met"] else "✗ 未达成",
            ("+" if r["margin"] >= 0 else "") + format_against(r["margin"], 0.0, dec),
            "—" if pd.isna(r["first_year_met"]) else str(r["first_year_met"]),
            r["unit"],
        ])
    met = int(card["met"].sum())
    footer = (f"达成 {met}/{len(card)} 项目标 (met {met} of {len(card)} targets). "
              "* 四个倍增指标 (the four doubling indicators).")
    return format_table(header, rows, right=[False, False, False, True, True, False, True,
                                             False, False], shrink=[1], drop=[7, 6]) \
        + "\n" + footer


def compare_table(card: pd.DataFrame) -> str:
    """Several scenarios' scorecards side by side."""
    scenarios = list(dict.fromkeys(card["scenario"]))
    header = ["", "指标 indicator", "年份", "目标 target", *scenarios, "单位 unit"]
    rows = []
    first = card[card["scenario"] == scenarios[0]].reset_index(drop=True)
    parts = {s: card[card["scenario"] == s].reset_index(drop=True) for s in scenarios}
    for i, r in first.iterrows():
        dec = _decimals(r)
        cells = []
        for s in scenarios:
            p = parts[s].iloc[i]
            cells.append(f"{format_against(p['value'], p['target'], dec)} {'✓' if p['met'] else '✗'}")
        rows.append(["*" if r["doubling"] else "", f"{r['name_zh']} {r['name_en']}",
                     str(r["year"]), f"{_SYMBOL[r['comparison']]} {format_number(r['target'], dec)}",
                     *cells, r["unit"]])
    counts = ", ".join(f"{s}: {int(parts[s]['met'].sum())}/{len(parts[s])}" for s in scenarios)
    return (format_table(header, rows, right=[False, False, False, True]
                         + [True] * len(scenarios) + [False], shrink=[1],
                         drop=[len(header) - 1, 3])
            + f"\n达成目标数 targets met — {counts}. ✓ 达成 met, ✗ 未达成 missed, * 四个倍增指标.")


def compare_markdown(card: pd.DataFrame) -> str:
    """Several scenarios' scorecards as a Markdown table (for reports and the README)."""
    scenarios = list(dict.fromkeys(card["scenario"]))
    parts = {s: card[card["scenario"] == s].reset_index(drop=True) for s in scenarios}
    first = parts[scenarios[0]]
    names = [re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", s) for s in scenarios]  # as text
    lines = ["| 指标 indicator | 年份 year | 目标 target | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(scenarios)]
    for i, r in first.iterrows():
        dec = _decimals(r)
        unit = "" if r["unit"] in ("件", "家", "分") else f" {r['unit']}"
        cells = [f"{format_against(parts[s].iloc[i]['value'], r['target'], dec)} "
                 f"{'✓' if parts[s].iloc[i]['met'] else '✗'}" for s in scenarios]
        star = "*" if r["doubling"] else ""
        lines.append(f"| {r['name_zh']}{star} {r['name_en']} | {r['year']} | "
                     f"{_SYMBOL[r['comparison']]} {format_number(r['target'], dec)}{unit} | "
                     + " | ".join(cells) + " |")
    counts = " | ".join(f"{int(parts[s]['met'].sum())}/{len(parts[s])}" for s in scenarios)
    lines.append(f"| 达成目标数 targets met | | | {counts} |")
    return "\n".join(lines) + "\n"


def solve_report(res: SolveResult) -> str:
    """The answer as terminal text: status, settings, cost, margins and the scorecard."""
    import numpy as np

    from simulator.analysis.solver import lever_costs
    lines = [("✓ " if res.feasible else "✗ ") + res.message, ""]
    costs = lever_costs()
    rows = []
    for lev in tables.levers():
        v = res.levers[lev.id]
        levels = v if isinstance(v, tuple) else (v,)  # per period, or one level held
        c = costs[lev.id].cost_per_unit * (float(np.mean(levels)) - lev.default)
        rows.append([f"{lev.name_zh} {lev.name_en}", f"{lev.default:g}",
                     " / ".join(f"{x:.4g}" for x in levels), f"{c:,.0f}", lev.unit_zh])
    lines.append(format_table(["杠杆 lever", "2020", f"设定 setting {res.periods[0][:4]}–"
                               f"{res.periods[-1][-4:]}", "成本 cost 万元/年", "单位 unit"],
                              rows, right=[False, True, True, True, False], shrink=[0]))
    lines.append(f"成本 cost: {res.cost_per_year:,.0f} 万元/年 × {res.years} 年 = "
                 f"{res.cost_total:,.0f} 万元 (models/lever_costs.csv; spending above the 2020 "
                 "levels)")
    lines.append("")
    under = res.probabilities is not None
    mrows = []
    for _, r in res.margins.iterrows():
        row = [r["key"], f"{r['margin'] * 100:+.1f} %"]
        if under:
            row += [f"{r['probability'] * 100:.0f} %", f"{r['central_margin'] * 100:+.1f} %",
                    f"{r['central_quantile'] * 100:.0f} %"]
        if not res.feasible:
            row.append(f"{r['best_margin'] * 100:+.1f} %")
        mrows.append(row + ["binding" if r["binding"] else ""])
    hdr = ["目标 target", "margin"]
    if under:
        hdr += ["probability", "central", "below central"]
    if not res.feasible:
        hdr.append("at best")
    said = ["margins in % of the target" + (" (at the required quantile of the draws)"
                                             if under else "")]
    if under:
        said += ["central: in the central run (the scorecard's)",
                 "below central: the share of the draws below the central run"]
    if not res.feasible:
        said.append("at best: at the best reachable point")
    lines.append("; ".join(said).capitalize() + ".")
    lines.append(format_table(hdr + [""], mrows, shrink=[0]))
    lines += _solve_notes(res)
    lines.append("")
    lines.append("确定性记分卡 deterministic scorecard of the settings:")
    lines.append(scorecard_table(res.scorecard))
    return "\n".join(lines) + "\n"


def _solve_notes(res: SolveResult) -> list[str]:
    """Plain-language notes under the solver's margins: why the central run differs from the
    ensemble, and what binds when the targets cannot be reached."""
    notes = []
    if res.probabilities is not None:
        if res.central:
            notes.append("The settings meet every target in the central run (the scorecard's) "
                         "as well as with the probability asked.")
        for _, r in res.margins.iterrows():
            if r["central_met"]:
                continue
            notes.append(
                f"{r['key']}: the central run (what the scorecard shows) misses it "
                f"({r['central_margin'] * 100:+.1f} %) although {r['probability'] * 100:.0f} % "
                f"of the draws meet it. The central run is one point of the ensemble: "
                f"{r['central_quantile'] * 100:.0f} % of the draws lie below it and "
                f"{(1 - r['central_quantile']) * 100:.0f} % above, so a probability counted "
                "over the draws can be reached while the central run falls short. Drop "
                "--no-central to require both.")
    if not res.feasible:
        missed = res.margins[res.margins["best_margin"] < 0]
        for _, r in missed.iterrows():
            notes.append(f"Binding: {r['key']} falls short by {-r['best_margin'] * 100:.1f} % of "
                         "its target even at the best reachable point.")
        names = [f"{tables.lever(k).name_zh} {tables.lever(k).name_en}" for k in res.bound_levers]
        notes.append("Levers at their maximum there that bind (raising them further would help): "
                     + ("; ".join(names) if names else "none (other targets or the lever "
                                                        "interplay limit the best point)") + ".")
        notes.append(f"Proposed: the closest affordable settings, the cheapest that meet what "
                     f"the best point meets and come within {res.tolerance * 100:g} % of each "
                     f"missed target of its margin there: {res.cost_per_year:,.0f} 万元/年, "
                     f"against {res.best_cost_per_year:,.0f} 万元/年 at the best point.")
    return notes
