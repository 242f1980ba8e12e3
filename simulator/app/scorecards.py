"""Scorecards as the page shows them: display tables, HTML (escaped), the comparison of saved
scenarios, and which rows changed since the last move.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import html
import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from simulator.app.i18n import label, target_unit, ui
from simulator.app.monitoring import format_actual, format_progress
from simulator.app.untrusted import html_text
from simulator.base.text import format_against, format_number
from simulator.plan import tables
from simulator.present.terminal import _decimals

_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def format_margin(margin: float, decimals: int, max_extra: int = 6) -> str:
    """A signed margin; a non-zero margin never prints as ``0`` (more decimals if needed)."""
    if margin is None or (isinstance(margin, float) and math.isnan(margin)):
        return "—"
    places = decimals
    while (places < decimals + max_extra and margin != 0
           and float(format_number(abs(margin), places).replace(",", "")) == 0):
        places += 1
    return ("+" if margin >= 0 else "−") + format_number(abs(margin), places)


def _target_of(row: Mapping[str, Any]) -> tables.Target:
    for tgt in tables.targets():
        if tgt.key == row["key"]:
            return tgt
    raise KeyError(f"unknown target {row['key']!r}")


def format_probability(p: float) -> str:
    """A probability as a percentage with one decimal: ``0.136`` → ``13.6%`` (NaN → ``—``)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return f"{100 * float(p):.1f}%"


def format_range(lo: float, hi: float, decimals: int) -> str:
    """A 5–95 % range with the target's decimals: ``211–552``."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lo, hi)):
        return "—"
    return f"{format_number(lo, decimals)}–{format_number(hi, decimals)}"


def scorecard_display(card: pd.DataFrame, lang: str,
                      probs: pd.DataFrame | None = None,
                      recal: pd.DataFrame | None = None) -> pd.DataFrame:
    """A one-scenario scorecard as display strings, one row per target.

    Columns: ``key, doubling, indicator, year, target, value, status, margin, first_met, unit,
    met``. A missed value never prints equal to its target: it gets more decimals.

    With ``probs`` (``UncertaintyResult.probabilities()`` of the same settings) two more columns:
    ``probability`` (share of draws meeting the target) and ``range`` (its p05–p95). With
    ``recal`` (the scorecard of the same settings run with recalibrated parameters) the columns
    ``recal_value`` and ``recal_met``. When ``card`` has the columns of :func:`with_progress`,
    the columns ``actual`` (latest actual and its year), ``progress`` (完成进度) and
    ``time_progress``.
    """
    recal_by_key = {} if recal is None else {r["key"]: r for _, r in recal.iterrows()}
    by_key = {} if probs is None else {r["key"]: r for _, r in probs.iterrows()}
    rows = []
    for _, r in card.iterrows():
        tgt = _target_of(r)
        dec = _decimals(r)
        rows.append({
            "key": r["key"],
            "doubling": bool(r["doubling"]),
            "indicator": label(tgt, lang),
            "year": str(int(r["year"])),
            "target": f"{_SYMBOL[r['comparison']]} {format_number(r['target'], dec)}",
            "value": format_against(r["value"], r["target"], dec),
            "status": ui("met" if r["met"] else "missed", lang),
            "margin": format_margin(r["margin"], dec),
            "first_met": ui("never", lang) if pd.isna(r["first_year_met"])
            else str(int(r["first_year_met"])),
            "unit": target_unit(tgt, lang),
            "met": bool(r["met"]),
        })
        if probs is not None:
            p = by_key.get(r["key"])
            rows[-1]["probability"] = "—" if p is None else format_probability(p["probability"])
            rows[-1]["range"] = "—" if p is None else format_range(p["p05"], p["p95"], dec)
        if recal is not None:
            q = recal_by_key.get(r["key"])
            rows[-1]["recal_value"] = ("—" if q is None
                                       else format_against(q["value"], q["target"], dec))
            rows[-1]["recal_met"] = None if q is None else bool(q["met"])
        if "progress_pct" in card.columns:
            ind_dec = tables.indicator(tgt.indicator).decimals
            rows[-1]["actual"] = format_actual(r["actual_value"], r["actual_year"],
                                               r["actual_kind"], ind_dec)
            rows[-1]["progress"] = format_progress(r["progress_pct"], r["progress_relation"])
            rows[-1]["time_progress"] = ("—" if not math.isfinite(r["time_progress_pct"])
                                         else f"{r['time_progress_pct']:.0f}%")
    return pd.DataFrame(rows)


def summary(card: pd.DataFrame) -> dict[str, int]:
    """Counts of a one-scenario scorecard: targets met, doubling targets met, 2035 goals met."""
    met = card["met"].to_numpy(dtype=bool)          # (numpy: called on every rerun, twice)
    doubling = card["doubling"].to_numpy(dtype=bool)
    years = card["year"].to_numpy()
    late = years == years.max()
    return {"met": int(met.sum()), "total": len(card),
            "doubling_met": int((met & doubling).sum()), "doubling_total": int(doubling.sum()),
            "late_met": int((met & late).sum()), "late_total": int(late.sum()),
            "late_year": int(years.max())}


SCORECARD_CSS = """
<style>
table.gy-card {border-collapse: collapse; width: 100%; font-size: 1.02rem;
  font-variant-numeric: tabular-nums;}
table.gy-card th {text-align: left; border-bottom: 2px solid #444; padding: .35em .55em;
  background: #f3f4f6; white-space: nowrap;}
table.gy-card td {border-bottom: 1px solid #ddd; padding: .3em .55em; vertical-align: middle;}
table.gy-card td.num, table.gy-card th.num {text-align: right; white-space: nowrap;}
table.gy-card td.ok {color: #1e7b34; font-weight: 700; white-space: nowrap;}
table.gy-card td.no {color: #b3261e; font-weight: 700; white-space: nowrap;}
table.gy-card tr.no td.val {color: #b3261e; font-weight: 700;}
table.gy-card tr.ok td.val {color: #1e7b34; font-weight: 700;}
table.gy-card td.star {color: #b8860b; font-weight: 700; width: 1.2em; text-align: center;}
table.gy-card tr.sep td {border-top: 2px solid #444;}
table.gy-card tr.changed td {background: #fff3c4;}
table.gy-card tr.changed td.star::after {content: " ◆"; color: #8a6d00;}
table.gy-card.large {font-size: 1.3rem;}
table.gy-card.large td, table.gy-card.large th {padding: .28em .5em;}
/* a phone: the scorecard's rows as cards of "column: value" lines (the labels come from
   scorecard_labels_css), nothing wider than the screen */
@media (max-width: 640px) {
  .st-key-scorecard table.gy-card, .st-key-scorecard table.gy-card tbody {display: block;
    width: auto;}
  .st-key-scorecard table.gy-card {font-size: .95rem;}
  .st-key-scorecard table.gy-card thead {display: none;}
  .st-key-scorecard table.gy-card tr {display: flex; flex-wrap: wrap; align-items: baseline;
    gap: .05rem .9rem; border: 1px solid #ccc; border-radius: .4rem; margin: 0 0 .5rem 0;
    padding: .3rem .6rem;}
  .st-key-scorecard table.gy-card tr.sep {border-top: 3px solid #444;}
  .st-key-scorecard table.gy-card td {display: block; border: none !important; padding: 0;
    text-align: left !important; white-space: nowrap;}
  .st-key-scorecard table.gy-card td:nth-child(1) {width: auto; margin-right: -.6rem;}
  .st-key-scorecard table.gy-card td:nth-child(2) {flex: 1 1 80%; font-weight: 700;
    white-space: normal;}
  .st-key-scorecard table.gy-card td:empty {display: none;}
  .st-key-scorecard table.gy-card td::before {color: #555; font-weight: 400;}
  table.gy-card {display: block; overflow-x: auto;}
}
</style>
"""


def _scorecard_head(lang: str, probs: bool, recal: bool, progress: bool) -> list[tuple[str, str]]:
    """The header of :func:`scorecard_html`'s table: (text, CSS class) of each column."""
    head = [("", ""), (ui("col_indicator", lang), ""), (ui("col_year", lang), ""),
            (ui("col_target", lang), "num"), (ui("col_value", lang), "num"),
            (ui("col_status", lang), "")]
    if probs:
        head += [(ui("col_probability", lang), "num"), (ui("col_range", lang), "num")]
    if recal:
        head += [(ui("col_recal", lang), "num")]
    if progress:
        head += [(ui("col_actual", lang), "num actual"), (ui("col_progress", lang), "num progress"),
                 (ui("col_time_progress", lang), "num")]
    head += [(ui("col_margin", lang), "num"), (ui("col_first", lang), "num"),
             (ui("col_unit", lang), "")]
    return head


def scorecard_html(card: pd.DataFrame, lang: str, *, large: bool = False,
                   probs: pd.DataFrame | None = None,
                   recal: pd.DataFrame | None = None, changed: Iterable[str] = ()) -> str:
    """The scorecard of one scenario as an HTML table (escape-safe), for ``st.markdown``.

    Met and missed are told by a symbol and a word as well as by colour; the four doubling
    indicators carry a ★; 2035 goals are set apart by a rule. With ``probs`` (the uncertainty
    ensemble's ``probabilities()``) two columns follow the result: the probability of meeting
    each target and the 5–95 % range of its simulated value. Rows whose key is in ``changed``
    (:func:`changed_targets`: their value moved with the last change of settings) are
    highlighted and say so on hover. With ``recal`` (the recalibrated
    run's scorecard) its simulated value follows, marked ✓/✗; when ``card`` carries actuals
    (:func:`with_progress`), the latest actual, 完成进度 and time elapsed follow, their
    definition in the header's ``title`` (hover help).

    On a narrow screen (a phone) the rows become cards of "column: value" lines
    (:func:`scorecard_labels_css` names the cells); in meeting mode :func:`meeting_card_css`
    makes them compact.
    """
    disp = scorecard_display(card, lang, probs, recal)
    progress = "progress" in disp.columns
    head = _scorecard_head(lang, probs is not None, recal is not None, progress)
    help_text = html.escape(ui("progress_help", lang))
    out = [f'<table class="gy-card{" large" if large else ""}"><thead><tr>']
    out += [f'<th class="{cls}"' + (f' title="{help_text}"' if "progress" in cls else "")
            + f'>{html.escape(text)}</th>' for text, cls in head]
    out.append("</tr></thead><tbody>")
    previous_year = None
    changed = set(changed)
    changed_title = html.escape(ui("changed_row", lang))
    for _, r in disp.iterrows():
        status = "ok" if r["met"] else "no"
        classes = [status] + (["sep"] if previous_year and r["year"] != previous_year else [])
        classes += ["changed"] if r["key"] in changed else []
        previous_year = r["year"]
        cells = [
            ("star", "★" if r["doubling"] else ""), ("", r["indicator"]), ("", r["year"]),
            ("num", r["target"]), ("num val", r["value"]), (status, r["status"]),
        ]
        if probs is not None:
            cells += [("num prob", r["probability"]), ("num range", r["range"])]
        if recal is not None:
            mark = {True: " ✓", False: " ✗"}.get(r["recal_met"], "")
            cells += [("num recal " + {True: "ok", False: "no"}.get(r["recal_met"], ""),
                       r["recal_value"] + mark)]
        if progress:
            cells += [("num actual", r["actual"]), ("num progress", r["progress"]),
                      ("num", r["time_progress"])]
        cells += [("num", r["margin"]), ("num", r["first_met"]), ("", r["unit"])]
        title = f' title="{changed_title}"' if r["key"] in changed else ""
        out.append(f'<tr class="{" ".join(classes)}" data-key="{html.escape(r["key"])}"{title}>'
                   + "".join(f'<td class="{c}">{html.escape(str(v))}</td>' for c, v in cells)
                   + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def scorecard_labels_css(card: pd.DataFrame, lang: str, *, probs: pd.DataFrame | None = None,
                         recal: pd.DataFrame | None = None, scope: str = ".st-key-scorecard") -> str:
    """The column names of :func:`scorecard_html`'s table as CSS ``::before`` labels of its
    cells under ``scope``, for a phone's screen, where each row becomes a card of "column:
    value" lines instead of a table wider than the screen (the ``@media`` rule of
    :data:`SCORECARD_CSS`). Same arguments as the table: the same columns."""
    head = _scorecard_head(lang, probs is not None, recal is not None, "progress_pct" in card.columns)
    rules = [f'{scope} table.gy-card td:nth-child({k}):not(:empty)::before '
             f'{{content: "{_css_string(text)}: ";}}'
             for k, (text, _) in enumerate(head, start=1) if k > 2 and text]
    return ("<style>@media (max-width: 640px) {" + " ".join(rules) + "}</style>")


def _css_string(text: str) -> str:
    """``text`` inside a CSS double-quoted string (backslashes, quotes, line breaks, ``<``)."""
    return "".join(c if c.isalnum() or c in " %–-·()/,." else f"\\{ord(c):x} " for c in text)


def meeting_card_css(rows: int, scope: str = ".st-key-scorecard") -> str:
    """Meeting mode's scorecard (under ``scope``): compact rows whose type grows as far as
    lets all ``rows`` drawn (and the header) fit a projector's height below the title and the
    counts, and its width: beside the large sliders the table has ~70 % of the page."""
    return f"""<style>
{scope} table.gy-card.large {{--gy-rows: {rows + 1}; --gy-wf: 1.75; line-height: 1.3;
  font-size: clamp(.75rem, min(calc((100vh - 12.5rem) / (var(--gy-rows) * 1.72)),
                               calc(var(--gy-wf) * 1vw - 1px)), 1.7rem);}}
[data-testid="stHorizontalBlock"]:has(.st-key-meeting_levers) {scope} table.gy-card.large {{--gy-wf: 1.3;}}
{scope} table.gy-card.large td, {scope} table.gy-card.large th {{padding: .18em .45em; white-space: nowrap;}}
{scope} table.gy-card.large td:nth-child(2) {{white-space: normal;}}
</style>"""


def meeting_counts_html(card: pd.DataFrame, ref_card: pd.DataFrame, ref_name: str,
                        lang: str) -> str:
    """The three counts of the page's top (targets, doubling targets, 2035 goals met, each
    against the reference) on one compact line, for meeting mode (escape-safe)."""
    s, r = summary(card), summary(ref_card)
    vs = html.escape(ui("vs_reference", lang, name=ref_name))
    parts = []
    for text, met, total, ref in (("targets_met", s["met"], s["total"], r["met"]),
                                  ("doubling_met", s["doubling_met"], s["doubling_total"],
                                   r["doubling_met"]),
                                  ("goals_2035_met", s["late_met"], s["late_total"], r["late_met"])):
        delta = met - ref
        sign = "up" if delta > 0 else "down" if delta < 0 else "same"
        parts.append(f'<div class="gy-count"><span class="gy-count-label">{html.escape(ui(text, lang))}'
                     f'</span> <span class="gy-count-value">{met} / {total}</span> '
                     f'<span class="gy-count-delta {sign}">{delta:+d} {vs}</span></div>')
    return f'<div class="gy-counts">{"".join(parts)}</div>'


MEETING_COUNTS_CSS = """
<style>
.gy-counts {display: flex; flex-wrap: wrap; gap: .4rem 2.2rem; align-items: baseline;
  margin: 0 0 .4rem 0;}
.gy-count {white-space: nowrap; font-size: 1.2rem;}
.gy-count-value {font-size: 2.1rem; font-weight: 700; font-variant-numeric: tabular-nums;
  margin: 0 .25rem;}
.gy-count-delta {font-size: 1rem; padding: .1rem .4rem; border-radius: .6rem;
  background: #f0f2f6; color: #31333f;}
.gy-count-delta.up {background: #e6f4ea; color: #1e7b34;}
.gy-count-delta.down {background: #fce8e6; color: #b3261e;}
</style>
"""


#: A target's value counts as changed when it moves by more than this, relative to its size.
CHANGE_RTOL = 1e-9


def card_values(card: pd.DataFrame) -> dict[str, float]:
    """Target key → simulated value of a scorecard (what :func:`changed_targets` compares)."""
    return {k: float(v) for k, v in zip(card["key"], card["value"])}


def changed_targets(before: Mapping[str, float] | None, card: pd.DataFrame) -> set[str]:
    """Keys of the targets whose simulated value differs from ``before`` (none without one)."""
    if not before:
        return set()
    out = set()
    for key, value in card_values(card).items():
        old = before.get(key)
        if old is None or np.isnan(old) != np.isnan(value):
            out.add(key)
        elif not np.isnan(value) and abs(value - old) > CHANGE_RTOL * max(abs(old), abs(value), 1e-12):
            out.add(key)
    return out


def compare_html(cards: Mapping[str, pd.DataFrame], lang: str) -> str:
    """Scorecards of several scenarios side by side (``cards``: display label → scorecard)."""
    labels = list(cards)
    first = scorecard_display(cards[labels[0]], lang)
    disps = {k: scorecard_display(v, lang) for k, v in cards.items()}
    out = ['<table class="gy-card"><thead><tr><th></th>',
           f'<th>{html.escape(ui("col_indicator", lang))}</th>',
           f'<th>{html.escape(ui("col_year", lang))}</th>',
           f'<th class="num">{html.escape(ui("col_target", lang))}</th>']
    out += [f'<th class="num">{html_text(k)}</th>' for k in labels]  # user-named
    out.append(f'<th>{html.escape(ui("col_unit", lang))}</th></tr></thead><tbody>')
    for i, r in first.iterrows():
        out.append("<tr>")
        out.append(f'<td class="star">{"★" if r["doubling"] else ""}</td>'
                   f'<td>{html.escape(r["indicator"])}</td><td>{r["year"]}</td>'
                   f'<td class="num">{html.escape(r["target"])}</td>')
        for k in labels:
            d = disps[k].iloc[i]
            cls = "ok" if d["met"] else "no"
            mark = "✓" if d["met"] else "✗"
            out.append(f'<td class="num {cls}">{html.escape(d["value"])} {mark}</td>')
        out.append(f'<td>{html.escape(r["unit"])}</td></tr>')
    out.append(f'<tr class="sep"><td></td><td><b>{html.escape(ui("count_row", lang))}</b></td>'
               "<td></td><td></td>")
    for k in labels:
        s = summary(cards[k])
        out.append(f'<td class="num"><b>{s["met"]}/{s["total"]}</b></td>')
    out.append("<td></td></tr></tbody></table>")
    return "".join(out)
