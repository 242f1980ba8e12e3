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

from simulator.app.charts import (
    MET_COLOR,
    MISSED_COLOR,
    TARGET_COLOR,
    _colors,
    key_indicator_ids,
    target_levels,
    wrap,
)
from simulator.app.i18n import label, ui, unit
from simulator.app.scorecards import scorecard_display, summary
from simulator.base import inputs
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


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join(c for c in text if c not in "[]:*?/\\")[:28] or "sheet"
    base, i = name, 2
    while name in used:
        name = f"{base[:26]}-{i}"
        i += 1
    used.add(name)
    return name


def results_excel(scenarios: Mapping[str, Scenario], series: Mapping[str, pd.DataFrame],
                  cards: Mapping[str, pd.DataFrame]) -> bytes:
    """An Excel workbook of scenarios: scorecards, results (tidy and by year) and settings.

    All three mappings are keyed by the same display labels. Text cells that a spreadsheet
    would read as a formula are quoted (:func:`simulator.base.inputs.csv_safe`).
    """
    used: set[str] = set()
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        inputs.csv_safe(pd.concat([c.assign(scenario=k) for k, c in cards.items()],
                                  ignore_index=True)).to_excel(
            xl, sheet_name=_sheet_name("scorecard", used), index=False)
        inputs.csv_safe(pd.concat([r.assign(scenario=k) for k, r in series.items()],
                                  ignore_index=True)).to_excel(
            xl, sheet_name=_sheet_name("results", used), index=False)
        for key, res in series.items():
            wide = res.pivot(index="time", columns="variable", values="value")
            order = [i.id for i in tables.indicators() if i.id in wide.columns]
            wide = wide[order]
            wide.columns = [f"{i.name_zh} {i.name_en} [{i.unit_zh}]"
                            for i in tables.indicators() if i.id in order]
            wide.index = wide.index.astype(int)
            wide.index.name = "year"
            wide.to_excel(xl, sheet_name=_sheet_name(f"by year {key}", used))
        for key, scn in scenarios.items():
            inputs.csv_safe(settings_table(scn)).to_excel(xl, sheet_name=_sheet_name(f"settings {key}", used),
                                         index=False)
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


def _figure_scorecard(card: pd.DataFrame, lang: str, title: str):
    from matplotlib.figure import Figure

    disp = scorecard_display(card, lang)
    header = ["", ui("col_indicator", lang), ui("col_year", lang), ui("col_target", lang),
              ui("col_value", lang), ui("col_status", lang), ui("col_margin", lang),
              ui("col_first", lang), ui("col_unit", lang)]
    cells = [["★" if r["doubling"] else "", "\n".join(wrap(r["indicator"], 40)), r["year"],
              r["target"], r["value"], r["status"], r["margin"], r["first_met"], r["unit"]]
             for _, r in disp.iterrows()]
    fig = Figure(figsize=(13.33, 7.5))
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.86))
    ax.axis("off")
    fig.text(0.01, 0.97, title, fontsize=17, weight="bold", va="top")
    s = summary(card)
    fig.text(0.01, 0.915, f"{ui('targets_met', lang)} {s['met']}/{s['total']} · "
             f"{ui('doubling_met', lang)} {s['doubling_met']}/{s['doubling_total']}",
             fontsize=13, va="top")
    table = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="left",
                     colWidths=[0.025, 0.36, 0.055, 0.09, 0.09, 0.09, 0.08, 0.08, 0.09])
    table.auto_set_font_size(False)
    table.set_fontsize(11)
    table.scale(1, 1.45)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        if row == 0:
            cell.set_facecolor("#eeeeee")
            cell.set_text_props(weight="bold")
        elif col in (4, 5):
            met = bool(disp.iloc[row - 1]["met"])
            cell.get_text().set_color(MET_COLOR if met else MISSED_COLOR)
            cell.set_text_props(weight="bold")
        if col in (3, 4, 6) and row > 0:
            cell.get_text().set_horizontalalignment("right")
    fig.text(0.01, 0.005, ui("doubling_note", lang), fontsize=9, va="bottom", color="#444")
    return fig


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
        for (name, res), col in zip(series.items(), colors):
            part = res[res["variable"] == ind.id].dropna(subset=["value"])
            ax.plot(part["time"], part["value"], color=col, lw=2.2, marker="o", ms=2.5,
                    ls="--" if name in dashed else "-", label=name)
        mine = targets[targets["indicator"] == ind.id]
        if len(mine):
            ax.scatter(mine["year"], mine["level"], marker="D", s=55, color=TARGET_COLOR,
                       zorder=5, label=ui("target", lang))
        ax.set_title("\n".join(wrap(label(ind, lang), 34)), fontsize=11, loc="left")
        ax.set_ylabel(unit(ind, lang), fontsize=10)
        ax.set_xlim(2019.5, 2035.5)
        ax.set_xticks([2020, 2025, 2030, 2035])
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9)
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
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def figure_pack(series: Mapping[str, pd.DataFrame], card: pd.DataFrame, lang: str, *,
                title: str, colors: Sequence[str] | None = None, dashed: Sequence[str] = (),
                fallback_labels: Mapping[str, str] | None = None) -> bytes:
    """Figures for slides as a ZIP: 16:9 PNG files (150 dpi) and one PDF of every figure.

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
    # a list of families gives per-glyph fallback: ✓ ✗ ★ come from DejaVu Sans
    families = ([font] if font else []) + ["DejaVu Sans"]
    rc = {"font.family": families, "axes.unicode_minus": False}
    buf = io.BytesIO()
    with _mpl_lock, matplotlib.rc_context(rc):
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
