"""The analyses as the page shows them: uncertainty, "what would it take" (the solver),
sensitivity, the 2030 milestones, the budget beside the sliders and what moves a target.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import html
import math
from typing import Any, Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from simulator.app.charts import CURRENT_COLOR
from simulator.app.i18n import (clean_value, constant_name, label, plain_number, target_unit, ui,
                                unit)
from simulator.app.scorecards import _SYMBOL, format_probability
from simulator.base import inputs
from simulator.base.text import format_number
from simulator.plan import tables

#: Runs of the live uncertainty ensemble and its seed (fixed: the same draws on every move).
UNCERTAINTY_N = 1000
UNCERTAINTY_SEED = 0
#: Draws of the uncertain constants when the solver must reach targets with a probability.
SOLVE_N = 100
SOLVE_SEED = 0
#: The probability requirement of the solver: slider range and default.
SOLVE_P_RANGE = (0.5, 0.95, 0.05)
SOLVE_P_DEFAULT = 0.8
#: Morris screen of the sensitivity view: trajectories, seed, inputs shown.
SENSITIVITY_TRAJECTORIES = 20
SENSITIVITY_SEED = 0
SENSITIVITY_TOP = 15
#: The year whose missed targets the solver panel proposes by default.
SOLVE_DEFAULT_YEAR = 2025


def target_by_key(key: str) -> tables.Target:
    """The target with this key (``tech_smes@2025``)."""
    for tgt in tables.targets():
        if tgt.key == key:
            return tgt
    raise KeyError(f"unknown target {key!r}")


def target_label(key: str, lang: str) -> str:
    """A target's name and year for pickers and messages: ``备案科技型中小企业数 · 2025``."""
    tgt = target_by_key(key)
    return f"{label(tgt, lang)} · {tgt.year}"


def missed_targets(card: pd.DataFrame, year: int = SOLVE_DEFAULT_YEAR) -> list[str]:
    """Keys of the targets of ``year`` that a scorecard misses, in table order."""
    part = card[(card["year"] == year) & ~card["met"].astype(bool)]
    return [str(k) for k in part["key"]]


def solution_levers(result: Any, levers: Mapping[str, Sequence[float]]
                    ) -> dict[str, tuple[float, ...]]:
    """The lever settings that apply a solver answer to the sliders.

    The periods the solver set (``result.periods``) take its level rounded up to the slider's
    step; the other periods keep ``levers`` (the session's current settings).
    """
    out = {}
    for lev in tables.levers():
        values = list(levers[lev.id])
        for p in result.periods:
            values[tables.PERIODS.index(p)] = lev.on_grid_above(result.levers[lev.id])
        out[lev.id] = tuple(values)
    return out


def periods_text(periods: Sequence[str]) -> str:
    """Plan periods as one span: ``("2021-2025", "2026-2030")`` → ``2021–2030``."""
    return f"{periods[0][:4]}–{periods[-1][-4:]}"


def solve_table(result: Any, lang: str) -> pd.DataFrame:
    """A solver answer as a display table: lever, 2020 level, proposed value, unit, cost.

    One row per lever (table order); the cost is 万元 a year above the 2020 level
    (``models/lever_costs.csv``). The proposed value is the solver's, with 4 significant digits.
    """
    from simulator.analysis.solver import lever_costs
    costs = lever_costs()
    rows = []
    for lev in tables.levers():
        value = float(result.levers[lev.id])
        cost = costs[lev.id].cost_per_unit * (value - lev.default)
        rows.append({
            ui("col_lever", lang): label(lev, lang),
            ui("col_level_2020", lang): plain_number(lev.default),
            ui("col_proposed", lang, periods=periods_text(result.periods)): f"{value:.4g}",
            ui("col_unit", lang): unit(lev, lang),
            ui("col_cost", lang): f"{cost:,.0f}",
        })
    return pd.DataFrame(rows)


def solve_summary(result: Any, lang: str) -> tuple[bool, str]:
    """Whether a solver answer is reachable, and the message saying so (with the binding
    target) in ``lang``."""
    how = (ui("solve_how_det", lang) if result.probability is None
           else ui("solve_how_p", lang, p=format_probability(result.probability)))
    names = "、".join if lang == "zh" else "; ".join
    binding = names(target_label(k, lang) for k in result.binding) or "—"
    if result.feasible:
        text = ui("solve_reachable", lang, n=len(result.margins), how=how)
    else:
        missed = [k for k, m in zip(result.margins["key"], result.margins["margin"]) if m < 0]
        tol = getattr(result, "tolerance", None)  # None: the proposal is the best point itself
        text = (ui("solve_unreachable", lang, how=how,
                   missed=names(target_label(k, lang) for k in missed) or "—") if tol is None
                else ui("solve_unreachable_closest", lang, how=how, tol=format_probability(tol),
                        missed=names(target_label(k, lang) for k in missed) or "—"))
    return bool(result.feasible), f"{text} {ui('solve_binding', lang, names=binding)}"


def solve_notes(result: Any, lang: str) -> list[str]:
    """Plain-language notes under a solver answer, in ``lang``: whether the central run (the
    scorecard's) meets the targets and, where it does not while the probability is reached,
    why (its place in the ensemble); for unreachable targets what binds (the shortfall at the
    best reachable point, the levers at their maximum there) and what the proposal costs."""
    names = "、".join if lang == "zh" else "; ".join
    m = result.margins
    notes = []
    if result.probability is not None and "central_met" in m:
        if getattr(result, "central", False) and m["central_met"].all():
            notes.append(ui("solve_note_central_ok", lang))
        for _, r in m[~m["central_met"].astype(bool)].iterrows():
            notes.append(ui("solve_note_central_miss", lang, target=target_label(r["key"], lang),
                            margin=f"{r['central_margin'] * 100:+.1f}%",
                            p=format_probability(r["probability"]),
                            below=format_probability(r["central_quantile"]),
                            above=format_probability(1 - r["central_quantile"])))
    if not result.feasible and "best_margin" in m:
        for _, r in m[m["best_margin"] < 0].iterrows():
            notes.append(ui("solve_note_short", lang, target=target_label(r["key"], lang),
                            short=format_probability(-r["best_margin"])))
        bound = [label(tables.lever(k), lang) for k in result.bound_levers]
        notes.append(ui("solve_note_bound", lang, names=names(bound)) if bound
                     else ui("solve_note_bound_none", lang))
        notes.append(ui("solve_note_cost", lang, annual=f"{result.cost_per_year:,.0f}",
                        best=f"{result.best_cost_per_year:,.0f}"))
    return notes


def solve_checks(result: Any, lang: str) -> pd.DataFrame:
    """Per chosen target, as a display table in ``lang``: the margin the solver held it to
    (at the required quantile under a probability), the central run's margin (the
    scorecard's), and under a probability the share of draws meeting it and below the central
    run; for unreachable targets the margin at the best reachable point. Margins are shares of
    the target (``+1.0%``: 1 % above it)."""
    m = result.margins

    def pct(v: float) -> str:
        return f"{v * 100:+.1f}%"

    out = {ui("col_target", lang): [target_label(k, lang) for k in m["key"]]}
    if result.probability is not None:
        out[ui("col_required_margin", lang)] = [pct(v) for v in m["margin"]]
        out[ui("col_probability", lang)] = [format_probability(v) for v in m["probability"]]
    out[ui("col_central_margin", lang)] = [pct(v) for v in m["central_margin"]]
    if result.probability is not None:
        out[ui("col_central_quantile", lang)] = [format_probability(v)
                                                 for v in m["central_quantile"]]
    if not result.feasible:
        out[ui("col_best_margin", lang)] = [pct(v) for v in m["best_margin"]]
    return pd.DataFrame(out)


def solve_cost_text(result: Any, lang: str) -> str:
    return ui("solve_cost", lang, annual=f"{result.cost_per_year:,.0f}", years=result.years,
              total=f"{result.cost_total:,.0f}")


def sensitivity_frame(table: pd.DataFrame, target_key: str, lang: str,
                      k: int = SENSITIVITY_TOP) -> pd.DataFrame:
    """The ``k`` most influential inputs of one target from a Morris table
    (``SensitivityResult.table``), most influential first.

    Columns: ``rank, input`` (lever id or constant), ``label`` (a lever's or constant's name in
    ``lang``, :func:`simulator.app.i18n.constant_name`), ``kind`` (display text),
    ``mu_star, conf, lo, hi`` (the 95 % interval, clipped at 0).
    """
    part = table[table["target"] == target_key].sort_values("rank").head(k)
    if part.empty:
        raise KeyError(f"target {target_key!r} is not in the table")
    lever_ids = {lev.id for lev in tables.levers()}
    labels = [label(tables.lever(i), lang) if kind == "lever" and i in lever_ids
              else constant_name(i, lang) for i, kind in zip(part["input"], part["kind"])]
    mu, conf = part["mu_star"].astype(float).to_numpy(), part["mu_star_conf"].astype(float).to_numpy()
    return pd.DataFrame({
        "rank": part["rank"].astype(int).to_numpy(), "input": part["input"].to_numpy(),
        "label": labels,
        "kind": [ui("kind_lever" if kind == "lever" else "kind_constant", lang)
                 for kind in part["kind"]],
        "mu_star": mu, "conf": conf, "lo": np.clip(mu - conf, 0, None), "hi": mu + conf})


def sensitivity_display(frame: pd.DataFrame, lang: str, decimals: int = 3) -> pd.DataFrame:
    """:func:`sensitivity_frame` as a display table with headings in ``lang``."""
    return pd.DataFrame({
        ui("col_rank", lang): frame["rank"].to_numpy(),
        ui("col_input", lang): frame["label"].to_numpy(),
        ui("col_kind", lang): frame["kind"].to_numpy(),
        ui("col_mu_star", lang): [f"{v:.{decimals}g}" for v in frame["mu_star"]],
        ui("col_conf", lang): [f"{v:.{decimals}g}" for v in frame["conf"]]})


def sensitivity_chart(frame: pd.DataFrame, lang: str, title: str = "") -> alt.LayerChart:
    """Horizontal bars of μ* with 95 % confidence intervals, most influential on top, coloured
    by kind (policy lever or uncertain constant)."""
    order = list(frame["label"])
    y = alt.Y(field="label", type="nominal", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=13, labelOverlap=False))
    kinds = [ui("kind_lever", lang), ui("kind_constant", lang)]
    color = alt.Color(field="kind", type="nominal",
                      scale=alt.Scale(domain=kinds, range=["#e07b00", CURRENT_COLOR]),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=13))
    tooltip = [alt.Tooltip(field="label", type="nominal", title=ui("col_input", lang)),
               alt.Tooltip(field="kind", type="nominal", title=ui("col_kind", lang)),
               alt.Tooltip(field="mu_star", type="quantitative", title="μ*", format=".3g"),
               alt.Tooltip(field="conf", type="quantitative", title=ui("col_conf", lang),
                           format=".3g")]
    bars = alt.Chart(mark=alt.MarkDef(type="bar", opacity=0.85),
                     encoding=alt.FacetedEncoding(
                         y=y, x=alt.X(field="mu_star", type="quantitative",
                                      title=ui("col_mu_star", lang)),
                         color=color, tooltip=tooltip))
    errors = alt.Chart(mark=alt.MarkDef(type="rule", color="#222", strokeWidth=1.5),
                       encoding=alt.FacetedEncoding(
                           y=y, x=alt.X(field="lo", type="quantitative"),
                           x2=alt.X2(field="hi")))
    return alt.LayerChart(layer=[bars, errors], data=frame, height=alt.Step(step=26),
                          title=alt.TitleParams(text=title, anchor="start") if title else
                          alt.Undefined)


def _number_or_dash(value: Any, decimals: int) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    return format_number(value, decimals)


def milestones_display(res: Any, lang: str) -> pd.DataFrame:
    """The draft 2030 target table of a :class:`simulator.analysis.milestones.Milestones` as display
    strings with headers in ``lang``: indicator, unit, 2025 value and its source, 2030
    milestone, 2035 goal, the path's 2035 value, required average growth (1 decimal)."""
    rows = []
    for _, r in res.table.iterrows():
        ind = tables.indicator(r["indicator"])
        dec = ind.decimals
        source = (ui("ms_src_actual", lang, year=plain_number(r["base_year"]))
                  if r["base_source"] == "actual" else ui("ms_src_simulated", lang))
        goal = ("—" if not r["goal_comparison"] else
                f"{_SYMBOL[r['goal_comparison']]} {format_number(r['goal_2035'], dec)}")
        growth = r["required_growth_pct_per_year"]
        rows.append({
            ui("col_indicator", lang): label(ind, lang), ui("col_unit", lang): unit(ind, lang),
            ui("ms_col_2025", lang): _number_or_dash(r["base_value"], dec),
            ui("ms_col_source", lang): source,
            ui("ms_col_2030", lang): _number_or_dash(r["milestone_2030"], dec),
            ui("ms_col_2035", lang): goal,
            ui("ms_col_path_2035", lang): _number_or_dash(r["path_2035"], dec),
            ui("ms_col_growth", lang): _number_or_dash(growth, 1),
        })
    return pd.DataFrame(rows)


def _goal_unit(target: tables.Target, lang: str) -> str:
    """A goal's unit after its number: Chinese close up (``2.5%``, ``70分``), English after a
    space (``2.5 %``)."""
    text = target_unit(target, lang)
    return text if lang == "zh" else f" {text}"


def milestones_message(res: Any, lang: str, name: str | None = None) -> str:
    """The one line of a :class:`simulator.analysis.milestones.Milestones` in ``lang``, built
    from the result's data (not from its English ``message``): the goals met and the path's
    cost, or the binding goal, what the maxima reach and the other goals at the maxima. Numbers
    are formatted as in ``message`` (targets ``:g``, values ``.3g``, shares ``.0f``, cost
    ``,.0f``); goals by name; the scenario as ``name`` (default: its own name). Plain text: pass
    it through ``untrusted.md_text`` (it holds the scenario's name)."""
    sep = "、" if lang == "zh" else ", "
    if res.feasible:
        goals = sep.join(f"{label(g, lang)} {_SYMBOL[g.comparison]} {g.target:g}"
                         f"{_goal_unit(g, lang)}" for g in res.goals)
        how = (ui("ms_how_central", lang) if res.probability is None
               else ui("ms_how_p", lang, n=res.n, p=f"{res.probability:g}"))
        return ui("ms_met", lang, goals=goals, how=how, cost=f"{res.cost_per_year:,.0f}")
    by_key = {g.key: g for g in res.goals}
    reach = res.reach.set_index("key", drop=False)
    b = reach.loc[res.binding]
    goal = by_key[b["key"]]
    how = ("" if res.probability is None else
           ui("ms_out_p", lang, share=f"{b['max_probability'] * 100:.0f}",
              needed=f"{res.probability * 100:g}"))
    text = ui("ms_out", lang, name=res.scenario.name if name is None else name,
              goal=label(goal, lang), symbol=_SYMBOL[b["comparison"]], target=f"{b['target']:g}",
              unit=_goal_unit(goal, lang), value=f"{b['max_value']:.3g}", how=how)
    others = [f"{label(by_key[r['key']], lang)} {r['max_value']:.3g}"
              + (" ✓" if r["met"] else " ✗") for _, r in reach.iterrows() if r["key"] != b["key"]]
    if others:
        text += (" " if lang == "en" else "") + ui("ms_out_others", lang, others=sep.join(others))
    return text


def recal_summary(rec: Any, lang: str, name: str | None = None) -> str:
    """The one line of a :class:`simulator.analysis.hindcast.Recalibration` in ``lang``: what
    was fitted to what and how the constants moved from the default calibration (the facts
    and number formats of its English ``summary()``; constants by name), the scenario called
    ``name`` (the title the page shows; default: the scenario's name). Plain text: pass it
    through ``untrusted.md_text``."""
    from simulator.plan.calibrated import parameters
    before = parameters()
    sep = "、" if lang == "zh" else ", "
    moved = sep.join(f"{constant_name(k, lang)} = {v:.4g}"
                     + (ui("recal_was", lang, value=f"{before[k]:.4g}") if k in before else "")
                     for k, v in rec.fitted.items()) or ui("recal_none", lang)
    n = sum(1 for t in rec.result.targets if t["role"] == "fit"
            and t["source"].startswith("actuals:"))
    return ui("recal_summary", lang, up_to=f"{rec.up_to:g}", n=n,
              scenario=rec.scenario if name is None else name, moved=moved)


def milestones_levers_display(res: Any, lang: str) -> pd.DataFrame:
    """The lever path of a :class:`simulator.analysis.milestones.Milestones`: lever, unit, period, the
    scenario's level, the path's level, the extra cost (万元 a year), headers in ``lang``."""
    rows = []
    for _, r in res.levers.iterrows():
        lev = next(v for v in tables.levers() if v.id == r["lever"])
        rows.append({
            ui("col_lever", lang): label(lev, lang), ui("col_unit", lang): unit(lev, lang),
            ui("ms_col_period", lang): r["period"].replace("-", "–"),
            ui("ms_col_scenario", lang): plain_number(r["scenario_value"]),
            ui("ms_col_path", lang): plain_number(r["path_value"]),
            ui("col_cost", lang): f"{r['extra_cost_per_year_wan_yuan']:,.0f}",
        })
    return pd.DataFrame(rows)


def milestones_csv(res: Any) -> bytes:
    """The milestones and the lever path (:func:`simulator.analysis.milestones.to_frame`) as CSV bytes
    (UTF-8 with BOM, formulas quoted), the same columns as ``milestones --format csv``."""
    from simulator.analysis import milestones as milestones_mod
    return inputs.to_csv(milestones_mod.to_frame(res)).encode("utf-8-sig")


def budget_frame(periods: Sequence[Any], lang: str) -> pd.DataFrame:
    """The per-period budget summary (:func:`simulator.analysis.budget.summarise`) as a small table in
    ``lang``: period, S&T budget, lever outlays, funded share, other sources (亿元 a year)."""
    return pd.DataFrame({
        ui("budget_period", lang): [p.period.replace("-", "–") for p in periods],
        ui("budget_budget", lang): [f"{p.budget:.2f}" for p in periods],
        ui("budget_requested", lang): [f"{p.requested:.2f}" for p in periods],
        ui("budget_funded", lang): [f"{100 * p.funded:.0f}%" for p in periods],
        ui("budget_other", lang): [f"{p.ip_outlays + p.tax_forgone:.2f}" for p in periods],
    })


#: The budget table beside the sliders: compact, to fit the sidebar without scrolling sideways.
BUDGET_CSS = """<style>
table.gy-budget {border-collapse: collapse; width: 100%; font-size: .8rem;
  font-variant-numeric: tabular-nums; margin-bottom: .3rem;}
table.gy-budget th {font-weight: 600; text-align: right; border-bottom: 1px solid #999;
  padding: .15em .3em; vertical-align: bottom; line-height: 1.25;}
table.gy-budget td {text-align: right; border-bottom: 1px solid #e3e3e3; padding: .15em .3em;
  white-space: nowrap;}
table.gy-budget th:first-child, table.gy-budget td:first-child {text-align: left;}
</style>"""


def budget_html(periods: Sequence[Any], lang: str) -> str:
    """The table of :func:`budget_frame` as HTML (``table.gy-budget``, escaped): the sidebar
    shows it as a plain table, lighter on every rerun than an interactive data grid (and without
    the grid's English toolbar on the Chinese page)."""
    frame = budget_frame(periods, lang)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return (f'{BUDGET_CSS}<table class="gy-budget"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def budget_message(periods: Sequence[Any], lang: str) -> tuple[str, str]:
    """(``"error"`` or ``"ok"``, the sentence): over budget in which periods, by how much."""
    over = [p for p in periods if p.over_budget]
    if not over:
        return "ok", ui("budget_ok", lang)
    sep = "、" if lang == "zh" else ", "
    gap = sum(p.shortfall for p in over) / len(over)
    funded = min(p.funded for p in over)
    return "error", ui("budget_over", lang,
                       periods=sep.join(p.period.replace("-", "–") for p in over),
                       gap=f"{gap:.2f}", funded=f"{100 * funded:.0f}%")


def period_values(values: Sequence[float]) -> str:
    """A lever's values per plan period as text: one value when the periods agree, else all of
    them joined by " / " ("50 / 60 / 60"); :func:`plain_number`'s 12 digits drop float noise
    (33.000000000000004 → 33)."""
    vals = [plain_number(v) for v in values]
    return vals[0] if len(set(vals)) == 1 else " / ".join(vals)


def driver_effect_text(effect: float, target: tables.Target, lang: str) -> str:
    """A signed effect in the target's unit, with enough digits to be non-zero where it is (two
    decimals, or three significant digits for a smaller effect, at most six decimals); an effect smaller than the sixth decimal is
    shown as such ("+<0.000001"), never as a signed zero."""
    if effect == 0 or not np.isfinite(effect):
        return ui("drivers_none", lang)
    unit_text = target_unit(target, lang)
    if abs(effect) < 5e-7:
        return f"{'+' if effect > 0 else '-'}<0.000001 {unit_text}"
    digits = max(2, 2 - int(np.floor(np.log10(abs(effect)))))
    return f"{effect:+.{min(digits, 6)}f} {unit_text}"


def drivers_frame(frame: pd.DataFrame, target: tables.Target, lang: str) -> pd.DataFrame:
    """:func:`simulator.analysis.drivers.lever_effects` as the table the page shows, in ``lang``."""
    levers = {lev.id: lev for lev in tables.levers()}
    direction = []
    for r in frame.itertuples():
        if r.at_maximum:
            direction.append(ui("drivers_at_max", lang))
        elif r.effect == 0:
            direction.append(ui("drivers_none", lang))
        else:
            direction.append(ui("drivers_helps" if r.helps else "drivers_hurts", lang))
    return pd.DataFrame({
        ui("drivers_lever", lang): [label(levers[i], lang) for i in frame["lever"]],
        ui("drivers_move", lang): [f"{period_values(b)} → {period_values(a)} "
                                   f"{unit(levers[i], lang)}"
                                   for i, b, a in zip(frame["lever"], frame["before"],
                                                      frame["after"])],
        ui("drivers_effect", lang): [driver_effect_text(e, target, lang) for e in frame["effect"]],
        ui("drivers_direction", lang): direction,
        ui("drivers_cost", lang): [f"{c:+,.0f}" for c in frame["cost_per_year"]],
    })


def driver_sentence(row: Mapping[str, Any], target: tables.Target, lang: str) -> str:
    """"+10 % on this lever → +x on this indicator in 2025", for one row of the effects."""
    lev = tables.lever(row["lever"])
    return ui("drivers_sentence", lang, lever=label(lev, lang),
              before=period_values(row["before"]), after=period_values(row["after"]),
              unit=unit(lev, lang), indicator=label(target, lang), year=target.year,
              effect=driver_effect_text(row["effect"], target, lang))


def helpful_drivers(frame: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The ``top`` levers whose move helps the target most (not at their maximum)."""
    return frame[frame["helps"] & ~frame["at_maximum"]].head(top)
