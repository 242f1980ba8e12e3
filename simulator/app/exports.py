"""What the page lets a planner download: results and scorecards as CSV and Excel, and the
figure pack (PNG slides with Chinese fonts).

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import functools
import io
import math
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from simulator.app.analyses import period_values
from simulator.app.charts import (
    MET_COLOR,
    MISSED_COLOR,
    TARGET_COLOR,
    _colors,
    key_indicator_ids,
    target_levels,
    wrap,
)
from simulator.app.i18n import UI_STRINGS, label, ui, unit
from simulator.app.scorecards import scorecard_display, summary
from simulator.base import inputs
from simulator.base.text import display_width
from simulator.plan import tables
from simulator.plan.scenario import Scenario


def results_csv(series: Mapping[str, pd.DataFrame]) -> bytes:
    """Tidy results of several scenarios as CSV bytes (UTF-8 with BOM, so Excel shows Chinese;
    text that a spreadsheet would read as a formula is quoted, :func:`simulator.base.inputs.csv_cell`)."""
    frame = pd.concat(list(series.values()), ignore_index=True)
    return inputs.to_csv(frame).encode("utf-8-sig")


def scorecard_csv(cards: Iterable[pd.DataFrame]) -> bytes:
    """Scorecards (one or several scenarios) as CSV bytes (UTF-8 with BOM, formulas quoted)."""
    frame = pd.concat(list(cards), ignore_index=True)
    return inputs.to_csv(frame).encode("utf-8-sig")


def settings_table(scn: Scenario) -> pd.DataFrame:
    """A scenario's lever and assumption settings with names, units and plan clauses."""
    rows = []
    for lev in tables.levers():
        rows.append({"kind": "lever", "id": lev.id, "name_zh": lev.name_zh,
                     "name_en": lev.name_en, "unit_zh": lev.unit_zh, "unit_en": lev.unit_en,
                     **dict(zip(tables.PERIODS, scn.levers[lev.id])),
                     "default_2020": lev.default, "plan_clause": lev.plan_clause})
    for ass in tables.assumptions():
        value = scn.assumptions[ass.id]
        rows.append({"kind": "assumption", "id": ass.id, "name_zh": ass.name_zh,
                     "name_en": ass.name_en, "unit_zh": ass.unit_zh, "unit_en": ass.unit_en,
                     **{p: value for p in tables.PERIODS}, "default_2020": ass.default,
                     "plan_clause": ""})
    return pd.DataFrame(rows)


def changed_settings(scn: Scenario) -> list[tuple[Any, tuple[float, ...]]]:
    """The levers and assumptions of ``scn`` set away from their 2020 level, in table order:
    ``(Lever or Assumption, values)`` with one value per plan period for a lever, one for an
    assumption."""
    def moved(values: Sequence[float], default: float) -> bool:
        return any(not math.isclose(v, default, rel_tol=1e-12, abs_tol=1e-12) for v in values)

    out: list[tuple[Any, tuple[float, ...]]] = []
    for lev in tables.levers():
        values = tuple(float(v) for v in scn.levers[lev.id])
        if moved(values, lev.default):
            out.append((lev, values))
    for ass in tables.assumptions():
        value = float(scn.assumptions[ass.id])
        if moved([value], ass.default):
            out.append((ass, (value,)))
    return out


def setting_text(item: Any, values: Sequence[float], lang: str) -> str:
    """One setting as short text: ``高企奖补 30 / 40 / 40 万元`` (one value if all agree)."""
    return f"{label(item, lang)} {period_values(values)} {unit(item, lang)}".strip()


def scenario_title(scn: Scenario, lang: str) -> str:
    """A scenario's full title in ``lang`` and its name: ``规划情景(…) · plan`` (the name alone
    when it has no title)."""
    title = scn.title_en if lang == "en" else scn.title_zh
    return f"{title} · {scn.name}" if title and title != scn.name else scn.name


def settings_footer(scn: Scenario, lang: str, width: int = 380) -> str:
    """The line under a slide saying which settings it shows: the scenario and its settings away
    from the 2020 level, cut to about ``width`` display columns ("… and N more")."""
    items = [setting_text(item, values, lang) for item, values in changed_settings(scn)]
    head = ui("settings_footer", lang, name=scenario_title(scn, lang))
    if not items:
        return f"{head}{ui('settings_none', lang)}"
    sep = "；" if lang == "zh" else "; "
    shown: list[str] = []
    for k, text in enumerate(items):
        rest = len(items) - k - 1
        more = ui("settings_more", lang, n=rest) if rest else ""
        if shown and display_width(head + sep.join([*shown, text]) + more) > width:
            break
        shown.append(text)
    left = len(items) - len(shown)
    return head + sep.join(shown) + (ui("settings_more", lang, n=left) if left else "")


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join(c for c in text if c not in "[]:*?/\\")[:28] or "sheet"
    base, i = name, 2
    while name in used:
        name = f"{base[:26]}-{i}"
        i += 1
    used.add(name)
    return name


def excel_header(column: str, lang: str) -> str:
    """The readable header in ``lang`` of an Excel column whose code id is ``column``
    (``UI_STRINGS["xl_<id>"]``; a plan period and a column without a label keep their id)."""
    if column in tables.PERIODS:
        return column.replace("-", "–")
    key = f"xl_{column}"
    return ui(key, lang) if key in UI_STRINGS else column


def _labelled(frame: pd.DataFrame, sheet: str, lang: str | None,
              ids: list[dict[str, str]]) -> pd.DataFrame:
    """``frame`` with readable headers in ``lang`` (unchanged when ``lang`` is None), each
    header's code id noted in ``ids``."""
    if lang is None:
        return frame
    headers = [excel_header(c, lang) for c in frame.columns]
    ids.extend({"sheet": sheet, "column": h, "id": c} for h, c in zip(headers, frame.columns))
    return frame.set_axis(headers, axis=1)


def results_excel(scenarios: Mapping[str, Scenario], series: Mapping[str, pd.DataFrame],
                  cards: Mapping[str, pd.DataFrame], lang: str | None = None) -> bytes:
    """An Excel workbook of scenarios: scorecards, results (tidy and by year) and settings.

    All three mappings are keyed by the same display labels. Text cells that a spreadsheet
    would read as a formula are quoted (:func:`simulator.base.inputs.csv_safe`).

    With ``lang`` the column headers are readable labels in that language, with their unit where
    the column has one (:func:`excel_header`), and a last sheet ``ids`` maps every sheet's
    headers back to the code ids, for scripts (labels change with the language, ids do not).
    Without, the headers are the code ids. Sheet names are the same in both languages.
    """
    used: set[str] = set()
    ids: list[dict[str, str]] = []
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        def write(frame: pd.DataFrame, sheet: str, **kwargs: Any) -> None:
            name = _sheet_name(sheet, used)
            _labelled(frame, name, lang, ids).to_excel(xl, sheet_name=name, **kwargs)

        write(inputs.csv_safe(pd.concat([c.assign(scenario=k) for k, c in cards.items()],
                                        ignore_index=True)), "scorecard", index=False)
        write(inputs.csv_safe(pd.concat([r.assign(scenario=k) for k, r in series.items()],
                                        ignore_index=True)), "results", index=False)
        for key, res in series.items():
            wide = res.pivot(index="time", columns="variable", values="value")
            inds = [i for i in tables.indicators() if i.id in wide.columns]
            wide = wide[[i.id for i in inds]]
            wide.index = wide.index.astype(int)
            name = _sheet_name(f"by year {key}", used)
            if lang is None:
                wide.columns = [f"{i.name_zh} {i.name_en} [{i.unit_zh}]" for i in inds]
                wide.index.name = "year"
            else:
                wide.columns = [f"{label(i, lang)} [{unit(i, lang)}]" for i in inds]
                wide.index.name = ui("col_year", lang)
                ids.extend([{"sheet": name, "column": wide.index.name, "id": "time"}]
                           + [{"sheet": name, "column": h, "id": i.id}
                              for h, i in zip(wide.columns, inds)])
            wide.to_excel(xl, sheet_name=name)
        for key, scn in scenarios.items():
            write(inputs.csv_safe(settings_table(scn)), f"settings {key}", index=False)
        if lang is not None:
            frame = pd.DataFrame(ids, columns=["sheet", "column", "id"])
            inputs.csv_safe(frame).to_excel(xl, sheet_name=_sheet_name("ids", used), index=False)
    return buf.getvalue()


_CJK_PREFERRED = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN",
                  "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK TC",
                  "Noto Sans CJK JP", "Noto Serif CJK SC", "AR PL UMing CN")


_mpl_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of a font matplotlib can use for Chinese, or None if the system has none.

    Looks in matplotlib's font list first, then registers the files ``fc-list :lang=zh``
    reports (matplotlib's cache may predate an installed ``fonts-noto-cjk``).
    """
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in _CJK_PREFERRED if n in names), None)

    found = known()
    if found or shutil.which("fc-list") is None:
        return found
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path and Path(path).is_file():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return known()


#: The scorecard columns a figure can show (``scorecard_display`` keys; "" is the ★ column).
SCORECARD_COLUMNS = ("doubling", "indicator", "year", "target", "value", "status", "margin",
                     "first_met", "unit")
_COLUMN_HEADER = {"doubling": "", "indicator": "col_indicator", "year": "col_year",
                  "target": "col_target", "value": "col_value", "status": "col_status",
                  "margin": "col_margin", "first_met": "col_first", "unit": "col_unit"}


def scorecard_header(columns: Sequence[str], lang: str) -> list[str]:
    """The headers of scorecard ``columns`` (of :data:`SCORECARD_COLUMNS`) in ``lang``."""
    return [ui(_COLUMN_HEADER[c], lang) if _COLUMN_HEADER[c] else "" for c in columns]


def draw_scorecard_table(ax, card: pd.DataFrame, lang: str, *,
                         columns: Sequence[str] = SCORECARD_COLUMNS,
                         widths: Sequence[float], wrap_width: int = 40, fontsize: float = 11,
                         bbox: Sequence[float] | None = None, row_scale: float = 1.45):
    """Draw a one-scenario scorecard as a matplotlib table on ``ax`` (the slide's and the brief's).

    Values are the page's strings (:func:`simulator.app.scorecards.scorecard_display`); value
    and status are green when met, red when missed. ``bbox`` (axes fraction) fixes the table's
    box; without it the table hangs from the top, each row ``row_scale`` times the font's height.
    """
    disp = scorecard_display(card, lang)
    header = scorecard_header(columns, lang)

    def cell(row, col: str) -> str:
        if col == "doubling":
            return "★" if row["doubling"] else ""
        if col == "indicator":
            return "\n".join(wrap(row["indicator"], wrap_width))
        return row[col]

    cells = [[cell(r, c) for c in columns] for _, r in disp.iterrows()]
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=header, cellLoc="left", colWidths=list(widths),
                     **({"bbox": list(bbox)} if bbox is not None else {"loc": "upper center"}))
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    if bbox is None:
        table.scale(1, row_scale)
    for (row, col), item in table.get_celld().items():
        item.set_edgecolor("#cccccc")
        name = columns[col]
        if row == 0:
            item.set_facecolor("#eeeeee")
            item.set_text_props(weight="bold")
        elif name in ("value", "status"):
            met = bool(disp.iloc[row - 1]["met"])
            item.get_text().set_color(MET_COLOR if met else MISSED_COLOR)
            item.set_text_props(weight="bold")
        if name in ("target", "value", "margin") and row > 0:
            item.get_text().set_horizontalalignment("right")
    return table


def _figure_scorecard(card: pd.DataFrame, lang: str, title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.33, 7.5))
    ax = fig.add_axes((0.01, 0.05, 0.98, 0.83))
    fig.text(0.01, 0.97, title, fontsize=17, weight="bold", va="top")
    s = summary(card)
    fig.text(0.01, 0.915, f"{ui('targets_met', lang)} {s['met']}/{s['total']} · "
             f"{ui('doubling_met', lang)} {s['doubling_met']}/{s['doubling_total']}",
             fontsize=13, va="top")
    draw_scorecard_table(ax, card, lang,
                         widths=[0.025, 0.36, 0.055, 0.09, 0.09, 0.09, 0.08, 0.08, 0.09])
    fig.text(0.01, 0.06, ui("doubling_note", lang), fontsize=9, va="bottom", color="#444")
    return fig


def draw_trajectory(ax, series: Mapping[str, pd.DataFrame], ind: tables.Indicator,
                    targets: pd.DataFrame, lang: str, *, colors: Sequence[str],
                    dashed: Sequence[str] = (), scale: float = 1.0, wrap_width: int = 34) -> None:
    """Draw one indicator's trajectories (one line per series, ``dashed`` ones dashed) and its
    targets (``targets`` from :func:`simulator.app.charts.target_levels`) on ``ax``; font
    sizes and marks are multiplied by ``scale`` (the slide's sizes at 1)."""
    for (name, res), col in zip(series.items(), colors):
        part = res[res["variable"] == ind.id].dropna(subset=["value"])
        ax.plot(part["time"], part["value"], color=col, lw=2.2 * scale, marker="o",
                ms=2.5 * scale, ls="--" if name in dashed else "-", label=name)
    mine = targets[targets["indicator"] == ind.id]
    if len(mine):
        ax.scatter(mine["year"], mine["level"], marker="D", s=55 * scale ** 2, color=TARGET_COLOR,
                   zorder=5, label=ui("target", lang))
    ax.set_title("\n".join(wrap(label(ind, lang), wrap_width)), fontsize=11 * scale, loc="left")
    ax.set_ylabel(unit(ind, lang), fontsize=10 * scale)
    ax.set_xlim(2019.5, 2035.5)
    ax.set_xticks([2020, 2025, 2030, 2035])
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=9 * scale)


def _figure_trajectories(series: Mapping[str, pd.DataFrame], lang: str, title: str,
                         indicator_ids: Sequence[str], colors: Sequence[str],
                         dashed: Sequence[str]):
    from matplotlib.figure import Figure

    inds = [tables.indicator(i) for i in indicator_ids]
    ncols = 3 if len(inds) > 4 else 2
    nrows = max(2, math.ceil(len(inds) / ncols))
    fig = Figure(figsize=(13.33, 7.5))  # 16:9, the shape of a slide
    fig.suptitle(title, fontsize=16, weight="bold", x=0.01, ha="left")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    targets = target_levels(next(iter(series.values())))
    for ax, ind in zip(axes.flat, inds):
        draw_trajectory(ax, series, ind, targets, lang, colors=colors, dashed=dashed)
    for ax in list(axes.flat)[len(inds):]:
        ax.axis("off")
    handles, labels_ = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels_:
                handles.append(h)
                labels_.append(lab)
    fig.legend(handles, labels_, loc="upper right", ncol=len(labels_), fontsize=11,
               frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))  # room for the settings footer
    return fig


def figure_rc(font: str | None, *, searchable: bool = False) -> dict[str, Any]:
    """matplotlib settings of the project's figures: ``font`` (a CJK font, or None) with DejaVu
    Sans behind it for the glyphs it lacks (✓ ✗ ★), a plain minus and ``$`` as a plain
    character (an uploaded title is text, never mathtext).

    ``searchable`` embeds the fonts in a PDF as TrueType subsets, so that its text can be
    searched and copied (the brief); without, matplotlib's default Type 3 fonts, quicker to
    write but whose Chinese glyphs are drawings (the figure pack's PDF).
    """
    rc: dict[str, Any] = {"font.family": ([font] if font else []) + ["DejaVu Sans"],
                          "axes.unicode_minus": False, "text.parse_math": False}
    if searchable:  # matplotlib's PDF backend sizes font subsets by ps.fonttype: set both
        rc.update({"pdf.fonttype": 42, "ps.fonttype": 42})
    return rc


def draw_footer(fig, text: str, *, fontsize: float, width: int, y: float = 0.006) -> None:
    """``text`` in small grey type at the bottom left of ``fig``, broken into lines of at most
    ``width`` display columns."""
    fig.text(0.01, y, "\n".join(wrap(text, width)), fontsize=fontsize, va="bottom",
             color="#555555")


def figure_pack(series: Mapping[str, pd.DataFrame], card: pd.DataFrame, lang: str, *,
                title: str, colors: Sequence[str] | None = None, dashed: Sequence[str] = (),
                fallback_labels: Mapping[str, str] | None = None,
                scenario: Scenario | None = None) -> bytes:
    """Figures for slides as a ZIP: 16:9 PNG files (150 dpi) and one PDF of every figure.

    With ``scenario`` (the settings of the first series) every figure has a footer line naming
    it and its settings away from the 2020 level (:func:`settings_footer`).

    Parameters
    ----------
    series : mapping
        Display label → tidy results (the first one's scorecard is ``card``).
    card : DataFrame
        The scorecard of the first scenario of ``series``.
    lang : {"zh", "en"}
        Label language. Chinese needs a CJK font (:func:`cjk_font`); without one the pack falls
        back to English labels and says so in ``README.txt``.
    title : str
        Title of the figures (the scenario's name).
    fallback_labels : mapping, optional
        English replacements for the series labels and title, used when falling back.
    scenario : Scenario, optional
        The settings behind the figures, for their footer.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_pdf import PdfPages

    font = cjk_font()
    note = ""
    if lang == "zh" and font is None:
        lang = "en"
        note = ui("no_cjk_font", "en") + "\n"
        if fallback_labels:
            series = {fallback_labels.get(k, k): v for k, v in series.items()}
            dashed = [fallback_labels.get(k, k) for k in dashed]
            title = fallback_labels.get(title, title)
    colors = _colors(list(series), colors)
    footer = settings_footer(scenario, lang) if scenario is not None else ""
    buf = io.BytesIO()
    with _mpl_lock, matplotlib.rc_context(figure_rc(font)):
        figures = {
            "1-scorecard": _figure_scorecard(card, lang, f"{title} — {ui('tab_scorecard', lang)}"),
            "2-key-indicators": _figure_trajectories(
                series, lang, f"{title} — {ui('key_charts', lang)}", key_indicator_ids(),
                colors, dashed),
        }
        ids = [i.id for i in tables.indicators()]
        pages = [ids[k:k + 6] for k in range(0, len(ids), 6)]
        for n, page in enumerate(pages, start=1):
            figures[f"3-all-indicators-{n}"] = _figure_trajectories(
                series, lang, f"{title} — {ui('all_charts', lang)} ({n}/{len(pages)})", page,
                colors, dashed)
        pngs = {}
        pdf_buf = io.BytesIO()
        with PdfPages(pdf_buf) as pdf:
            for name, fig in figures.items():
                if footer:
                    draw_footer(fig, footer, fontsize=8, width=230)
                FigureCanvasAgg(fig)
                png = io.BytesIO()
                fig.savefig(png, format="png", dpi=150)
                pngs[name] = png.getvalue()
                pdf.savefig(fig)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in pngs.items():
            zf.writestr(f"{name}.png", data)
        zf.writestr("figures.pdf", pdf_buf.getvalue())
        zf.writestr("README.txt", note + "Figures made by the Guangyuan STI plan simulator "
                    "(app.py): " + ", ".join(f"{n}.png" for n in figures)
                    + " and all of them in figures.pdf.\n")
    return buf.getvalue()


def deferred(fn: Callable[..., bytes], *args: Any, **kwargs: Any) -> Callable[[], bytes]:
    """A no-argument callable computing ``fn(*args, **kwargs)`` once, for deferred downloads."""
    return functools.lru_cache(maxsize=1)(functools.partial(fn, *args, **kwargs))
