"""Terminal presentation shared by the command line and the analyses: CJK-aware widths, tables
that fit the terminal, and the scorecard and comparison tables (text and Markdown)."""
from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING, Sequence

from . import tables

if TYPE_CHECKING:
    import pandas as pd


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (CJK wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


#: Terminal columns a ``table`` output takes by default (``--wide``: no limit).
TABLE_WIDTH = 100
_table_width: int | None = TABLE_WIDTH  # this command's limit (None with --wide), set by cli.main()
_NAME_FLOOR = 40    # a shortened name column keeps at least this many columns ...
_NAME_MIN = 14      # ... unless the table fits no other way


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` terminal columns, ending with "…" where it was cut."""
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for c in text:
        w = display_width(c)
        if used + w > width - 1:
            break
        out, used = out + c, used + w
    return out.rstrip() + "…"


def wrap(text: str, width: int | None = None) -> str:
    """Lines of ``text`` longer than ``width`` columns (default: the command's table width)
    broken at spaces, continuation lines indented by two; a word longer than a line stays
    whole. Aligned table lines are never longer (:func:`format_table` fits them)."""
    width = _table_width if width is None else width
    if width is None:
        return text
    out = []
    for line in text.split("\n"):
        if display_width(line) <= width:
            out.append(line)
            continue
        current = ""
        for word in line.split(" "):
            trial = f"{current} {word}" if current else word
            if current and display_width(trial) > width:
                out.append(current.rstrip())
                current = "  " + word
            else:
                current = trial
        out.append(current.rstrip())
    return "\n".join(out)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                 right: Sequence[bool] | None = None, *, shrink: Sequence[int] = (),
                 fold: Sequence[int] = (), drop: Sequence[int] = (),
                 width: int | None = -1) -> str:
    """A plain-text table aligned for a terminal, CJK-aware, at most ``width`` columns wide.

    ``width`` -1 (default) is the command's limit (:data:`TABLE_WIDTH`, none with ``--wide``);
    None is no limit. A table too wide first puts each header on two lines (split at its first
    space: 指标 over indicator), then narrows the ``shrink`` columns (names, cut with "…") and
    the ``fold`` columns (sentences, wrapped onto more lines) down to a floor, then leaves out
    the ``drop`` columns in that order (a last line names them), then narrows further."""
    width = _table_width if width == -1 else width
    right = list(right or [False] * len(header))
    heads = [[str(h)] for h in header]
    shown = list(range(len(header)))

    def natural() -> list[int]:
        return [max(display_width(str(c)) for c in [*heads[i], *(r[i] for r in rows)])
                for i in range(len(header))]

    def total() -> int:
        return sum(widths[i] for i in shown) + 2 * (len(shown) - 1)

    def cut(floor: int) -> None:
        for i in [*fold, *shrink]:
            if total() > width and i in shown:
                widths[i] = max(min(widths[i], floor), widths[i] - (total() - width))

    widths = natural()
    left_out = []
    if width is not None and total() > width:
        heads = [str(h).split(" ", 1) for h in header]
        widths = natural()
        cut(_NAME_FLOOR)
        for i in drop:
            if total() <= width:
                break
            shown.remove(i)
            left_out.append(" ".join(str(header[i]).split()))
        cut(_NAME_MIN)
        full = natural()
        for i in [*shrink, *fold]:  # room left by the columns left out goes back to the names
            if i in shown and total() < width:
                widths[i] = min(full[i], widths[i] + width - total())

    def line(cells) -> str:
        return "  ".join(pad(truncate(str(cells[i]), widths[i]) if i in shrink else str(cells[i]),
                             widths[i], right[i]) for i in shown).rstrip()

    def row_lines(row) -> list[str]:
        parts = {i: wrap(str(row[i]), widths[i]).replace("\n  ", "\n").split("\n")
                 for i in fold if i in shown}
        extra = max([len(p) for p in parts.values()] + [1])
        return [line([parts[i][k] if i in parts and k < len(parts[i]) else
                      (row[i] if k == 0 and i not in parts else "") for i in range(len(row))])
                for k in range(extra)]

    depth = max(len(h) for h in heads)
    lines = [line([h[k] if k < len(h) else "" for h in heads]) for k in range(depth)]
    lines.append("  ".join("-" * widths[i] for i in shown))
    lines += [text for row in rows for text in row_lines(row)]
    if left_out:
        lines.append(wrap(f"(not shown: {', '.join(left_out)}; --wide shows every column)",
                          width))
    return "\n".join(lines)


_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def format_number(value: float, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{decimals}f}"


def format_against(value: float, target: float, decimals: int, max_extra: int = 6) -> str:
    """``value`` formatted with at least ``decimals`` places, and more if needed so that a value
    that differs from ``target`` never prints the same as the target (a missed target must not
    look met)."""
    text = format_number(value, decimals)
    extra = 0
    while (extra < max_extra and value is not None and not math.isnan(value) and value != target
           and text == format_number(target, decimals + extra)):
        extra += 1
        text = format_number(value, decimals + extra)
    return text


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
