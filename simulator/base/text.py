"""Text for a terminal: display widths that count a CJK character as two columns, padding,
truncation and wrapping by width, tables that fit a width, and numbers that never print a
missed target as if it were met. Nothing here knows what the numbers are."""
from __future__ import annotations

import math
import unicodedata
from typing import Sequence

#: Terminal columns a ``table`` output takes by default (``--wide``: no limit).
TABLE_WIDTH = 100
_table_width: int | None = TABLE_WIDTH  # this command's limit (None with --wide), set by the command line
_NAME_FLOOR = 40    # a shortened name column keeps at least this many columns ...
_NAME_MIN = 14      # ... unless the table fits no other way


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (CJK wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


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
