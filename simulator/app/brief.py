"""The one-page brief (一页纸简报): a scenario's settings, scorecard, key charts, budget and the
model's caveat on one A4 page, as a PDF (fonts embedded) and as a Word file to edit.

Both files are built from one :class:`Brief` (the words and tables, in the page's language), so
they say the same; the charts and the scorecard table are drawn by the figure pack's own
functions (:mod:`simulator.app.exports`). Nothing here imports Streamlit.
"""
from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

from simulator.app import exports
from simulator.app.analyses import budget_frame, budget_message
from simulator.app.charts import (
    CURRENT_COLOR,
    MET_COLOR,
    MISSED_COLOR,
    REFERENCE_COLOR,
    key_indicator_ids,
    target_levels,
    wrap,
)
from simulator.app.i18n import label, plain_number, ui, unit
from simulator.app.scorecards import scorecard_display, summary
from simulator.app.session import short_title
from simulator.plan import tables
from simulator.plan.scenario import Scenario

#: The indicators charted on the brief: the first three key indicators (doubling targets and
#: the 2035 goals, :func:`simulator.app.charts.key_indicator_ids`).
CHART_COUNT = 3

#: The scorecard columns of the brief (``scorecard_display`` keys; the slide also has 首次达成).
SCORECARD_COLUMNS = ("doubling", "indicator", "year", "target", "value", "status", "margin",
                     "unit")

A4_INCHES = (8.27, 11.69)
#: Height of the key charts on the page (inches): at most, and at least when settings are many.
MAX_CHART_INCHES, MIN_CHART_INCHES = 2.4, 1.7
#: The budget and caveat at the foot of the page, and the footer line below them (inches).
BOTTOM_INCHES = 1.85
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def format_date(day: datetime.date, lang: str) -> str:
    """``2026年11月30日`` or ``30 November 2026``."""
    return ui("brief_date", lang, year=day.year, month=day.month, day=day.day,
              month_name=_MONTHS[day.month - 1])


@dataclass(frozen=True)
class Brief:
    """The content of a brief in one language (every text as it is printed)."""

    lang: str
    title: str
    date: str
    scenario: str
    reference: str
    summary: str
    settings_header: tuple[str, ...]
    settings: tuple[tuple[str, ...], ...]
    scorecard_header: tuple[str, ...]
    scorecard: pd.DataFrame
    budget: pd.DataFrame
    budget_kind: str
    budget_message: str
    caveat: str


def settings_rows(scn: Scenario, lang: str) -> list[tuple[str, ...]]:
    """The settings away from the 2020 level as rows ``(name · unit, 2021–25, 2026–30, 2031–35,
    2020 level)``; an assumption holds one value for every period."""
    rows = []
    for item, values in exports.changed_settings(scn):
        per = values if len(values) == len(tables.PERIODS) else values * len(tables.PERIODS)
        rows.append((f"{label(item, lang)} ({unit(item, lang)})",
                     *(plain_number(v) for v in per), plain_number(item.default)))
    return rows


def build(scenario: Scenario, card: pd.DataFrame, periods: Sequence, lang: str, *,
          reference: Scenario | None = None, today: datetime.date | None = None) -> Brief:
    """The brief's content: ``card`` is the scorecard of a run of ``scenario``, ``periods`` its
    budget per plan period (:func:`simulator.analysis.budget.summarise`), ``today`` the date
    printed (default: today)."""
    kind, message = budget_message(periods, lang)
    s = summary(card)
    return Brief(
        lang=lang,
        title=ui("brief_title", lang),
        date=format_date(today or datetime.date.today(), lang),
        scenario=ui("brief_scenario", lang, name=exports.scenario_title(scenario, lang)),
        reference=(ui("brief_reference", lang, name=exports.scenario_title(reference, lang))
                   if reference is not None else ""),
        summary=ui("brief_summary", lang, **s),
        settings_header=(ui("brief_col_setting", lang),
                         *(f"{p[:4]}–{p[7:]}" for p in tables.PERIODS),
                         ui("col_level_2020", lang)),
        settings=tuple(settings_rows(scenario, lang)),
        scorecard_header=tuple(exports.scorecard_header(SCORECARD_COLUMNS, lang)),
        scorecard=scorecard_display(card, lang),
        budget=budget_frame(periods, lang),
        budget_kind=kind,
        budget_message=message,
        caveat=ui("brief_caveat", lang),
    )


def _series(scenario: Scenario, results: pd.DataFrame, reference: Scenario | None,
            ref_results: pd.DataFrame | None, lang: str) -> dict[str, pd.DataFrame]:
    """The charts' lines, labelled as the page labels them: 当前设置 · …, 参照情景 · …."""
    series = {f"{ui('current', lang)} · {short_title(scenario, lang)}": results}
    if reference is not None and ref_results is not None:
        series[f"{ui('reference', lang)} · {short_title(reference, lang)}"] = ref_results
    return series


def _draw_charts(fig, rect: Sequence[float], series: Mapping[str, pd.DataFrame], lang: str,
                 scale: float) -> None:
    """The brief's key charts side by side in ``rect`` (figure fraction: left, bottom, width,
    height), with one legend above them."""
    left, bottom, width, height = rect
    ids = key_indicator_ids()[:CHART_COUNT]
    names = list(series)
    dashed = names[1:]
    colors = [CURRENT_COLOR, REFERENCE_COLOR][:len(names)]
    targets = target_levels(next(iter(series.values())))
    gap = 0.07 * width
    each = (width - gap * (len(ids) - 1)) / len(ids)
    axes = []
    for k, ind_id in enumerate(ids):
        ax = fig.add_axes((left + k * (each + gap), bottom, each, height * 0.78))
        exports.draw_trajectory(ax, series, tables.indicator(ind_id), targets, lang,
                                colors=colors, dashed=dashed, scale=scale, wrap_width=30)
        axes.append(ax)
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(left, bottom + height),
               ncol=len(labels), fontsize=10 * scale, frameon=False, borderaxespad=0)


def _font(lang: str) -> tuple[str | None, str]:
    """The CJK font and the language the PDF can be drawn in (English without a CJK font)."""
    font = exports.cjk_font()
    return font, ("en" if lang == "zh" and font is None else lang)


def brief_pdf(scenario: Scenario, results: pd.DataFrame, card: pd.DataFrame, periods: Sequence,
              lang: str, *, reference: Scenario | None = None,
              ref_results: pd.DataFrame | None = None,
              today: datetime.date | None = None) -> bytes:
    """The brief as a one-page A4 PDF with its fonts embedded (TrueType subsets).

    Parameters
    ----------
    scenario, results, card
        The scenario, its tidy results and its scorecard.
    periods : sequence of PeriodBudget
        Its budget per plan period (:func:`simulator.analysis.budget.summarise`).
    lang : {"zh", "en"}
        The page's language. Chinese needs a CJK font (:func:`exports.cjk_font`); without one the
        brief is in English and says so at its foot, as the figure pack does.
    reference, ref_results : optional
        The reference scenario and its results (a dashed line on the charts).
    today : date, optional
        The date printed (default: today).
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    font, lang_drawn = _font(lang)
    brief = build(scenario, card, periods, lang_drawn, reference=reference, today=today)
    series = _series(scenario, results, reference, ref_results, lang_drawn)
    buf = io.BytesIO()
    with exports._mpl_lock, matplotlib.rc_context(exports.figure_rc(font, searchable=True)):
        fig = page_figure(brief, card, series, fell_back=lang_drawn != lang)
        FigureCanvasPdf(fig)
        fig.savefig(buf, format="pdf", metadata={"Title": brief.title, "Subject": brief.scenario})
    return buf.getvalue()


def _table(ax, header: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[float],
           fontsize: float, align: str = "left"):
    """A plain grid table filling ``ax``: a grey bold header, the first column aligned by
    ``align`` and the others (numbers) to the right."""
    ax.axis("off")
    table = ax.table(cellText=[list(r) for r in rows], colLabels=list(header), cellLoc=align,
                     colWidths=list(widths), bbox=[0, 0, 1, 1])
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, c), item in table.get_celld().items():
        item.set_edgecolor("#cccccc")
        if r == 0:
            item.set_facecolor("#eeeeee")
            item.set_text_props(weight="bold")
        elif c > 0:
            item.get_text().set_horizontalalignment("right")
    return table


def page_figure(brief: Brief, card: pd.DataFrame, series: Mapping[str, pd.DataFrame], *,
                fell_back: bool = False):
    """The brief's A4 page as a matplotlib Figure (call inside :func:`exports.figure_rc`);
    ``fell_back`` notes at its foot that Chinese was asked for but no CJK font was found.

    The page is laid out from the top in inches; the scorecard and settings tables shrink
    together (rows and type, down to 70 %) when the settings are many and long, so that the
    charts keep at least ``MIN_CHART_INCHES`` and everything stays on the one page.
    """
    from matplotlib.figure import Figure

    lang = brief.lang
    width_in, height_in = A4_INCHES
    margin = 0.45 / width_in                     # left and right margins, figure fraction
    inner = 1 - 2 * margin
    zh = lang == "zh"

    def y(inches_from_top: float) -> float:
        return 1 - inches_from_top / height_in

    def heading(text: str, at: float, x: float = margin) -> None:
        fig.text(x, y(at), text, fontsize=10, weight="bold", va="top")

    # what the variable parts need at full size (inches)
    title_cols, ref_cols = 100, 110
    scenario_lines = wrap(brief.scenario, title_cols)
    reference_lines = wrap(brief.reference, ref_cols) if brief.reference else []
    header_h = 0.3 + 0.17 * len(scenario_lines) + 0.16 * len(reference_lines) + 0.32
    name_cols = 40
    rows = list(brief.settings)
    half = (len(rows) + 1) // 2
    lines = max((len(wrap(r[0], name_cols)) for r in rows), default=1)
    set_row = 0.06 + 0.09 * lines
    card_h = 0.175 * (len(brief.scorecard) + 1)
    set_h = set_row * (half + 1) if rows else 0.25
    fixed = (0.4 + header_h + 0.2 + 0.08 + 0.28 + 0.2 + 0.22 + 0.2 + 0.42 + BOTTOM_INCHES)
    room = height_in - fixed - MIN_CHART_INCHES
    shrink = max(0.7, min(1.0, room / (card_h + set_h)))
    card_h, set_h, set_row = card_h * shrink, set_h * shrink, set_row * shrink
    chart_h = min(MAX_CHART_INCHES, height_in - fixed - card_h - set_h)

    fig = Figure(figsize=A4_INCHES)
    cursor = 0.4
    fig.text(margin, y(cursor), brief.title, fontsize=12.5, weight="bold", va="top")
    cursor += 0.3
    fig.text(1 - margin, y(cursor), brief.date, fontsize=9, va="top", ha="right")
    fig.text(margin, y(cursor), "\n".join(scenario_lines), fontsize=9, va="top", weight="bold")
    cursor += 0.17 * len(scenario_lines)
    if reference_lines:
        fig.text(margin, y(cursor), "\n".join(reference_lines), fontsize=8, va="top",
                 color="#444444")
        cursor += 0.16 * len(reference_lines)
    fig.text(margin, y(cursor), brief.summary, fontsize=9, va="top")
    cursor += 0.32

    heading(ui("brief_scorecard", lang), cursor)
    cursor += 0.2
    ax = fig.add_axes((margin, y(cursor + card_h), inner, card_h / height_in))
    exports.draw_scorecard_table(ax, card, lang, columns=SCORECARD_COLUMNS,
                                 widths=[0.03, 0.41, 0.06, 0.09, 0.09, 0.09, 0.08, 0.16] if zh
                                 else [0.025, 0.435, 0.05, 0.08, 0.085, 0.08, 0.075, 0.15],
                                 wrap_width=200, fontsize=7.5 * shrink, bbox=(0, 0, 1, 1))
    cursor += card_h + 0.08
    fig.text(margin, y(cursor), ui("doubling_note", lang), fontsize=6.5, va="top",
             color="#444444")
    cursor += 0.28

    heading(ui("brief_settings", lang), cursor)
    cursor += 0.2
    if not rows:
        fig.text(margin, y(cursor), ui("brief_settings_none", lang), fontsize=8, va="top")
    else:
        block_w = (inner - 0.02) / 2
        for k, block in enumerate([rows[:half], rows[half:]]):
            if not block:
                continue
            h = set_row * (len(block) + 1)
            ax = fig.add_axes((margin + k * (block_w + 0.02), y(cursor + h), block_w,
                               h / height_in))
            _table(ax, brief.settings_header,
                   [["\n".join(wrap(r[0], name_cols)), *r[1:]] for r in block],
                   widths=[0.54, 0.105, 0.105, 0.105, 0.145] if zh
                   else [0.56, 0.1, 0.1, 0.1, 0.14], fontsize=6.5 * shrink)
    cursor += set_h + 0.22

    heading(ui("brief_charts", lang), cursor)
    cursor += 0.2
    _draw_charts(fig, (margin + 0.03, y(cursor + chart_h), inner - 0.03, chart_h / height_in),
                 series, lang, scale=0.62)
    cursor += chart_h + 0.42

    half_w = (inner - 0.03) / 2
    heading(ui("brief_budget", lang), cursor)
    heading(ui("brief_caveat_title", lang), cursor, x=margin + half_w + 0.03)
    cursor += 0.2
    bud = brief.budget
    bud_h = 0.17 * (len(bud) + 1)
    ax = fig.add_axes((margin, y(cursor + bud_h), half_w, bud_h / height_in))
    _table(ax, list(bud.columns), bud.values.tolist(), widths=[0.24, 0.19, 0.19, 0.19, 0.19],
           fontsize=7, align="right")
    error = brief.budget_kind == "error"
    fig.text(margin, y(cursor + bud_h + 0.07),
             "\n".join(wrap(brief.budget_message, 62 if zh else 70)), fontsize=7.5, va="top",
             color=MISSED_COLOR if error else "#333333", weight="bold" if error else "normal")
    fig.text(margin + half_w + 0.03, y(cursor), "\n".join(wrap(brief.caveat, 64 if zh else 78)),
             fontsize=7, va="top", linespacing=1.35)

    foot = ui("brief_made_by", lang)
    if fell_back:
        foot = f"{ui('no_cjk_font', 'en')} · {foot}"
    fig.text(margin, 0.3 / height_in, foot, fontsize=6.5, color="#666666", va="bottom")
    fig.text(1 - margin, 0.3 / height_in, brief.date, fontsize=6.5, color="#666666",
             va="bottom", ha="right")
    return fig


def _chart_png(series: Mapping[str, pd.DataFrame], lang: str, font: str | None) -> bytes:
    """The brief's key charts as one PNG (for the Word file)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    with exports._mpl_lock, matplotlib.rc_context(exports.figure_rc(font)):
        fig = Figure(figsize=(7.2, 2.5))
        FigureCanvasAgg(fig)
        _draw_charts(fig, (0.07, 0.1, 0.92, 0.86), series, lang, scale=0.62)
        fig.savefig(buf, format="png", dpi=200)
    return buf.getvalue()


def brief_docx(scenario: Scenario, results: pd.DataFrame, card: pd.DataFrame, periods: Sequence,
               lang: str, *, reference: Scenario | None = None,
               ref_results: pd.DataFrame | None = None,
               today: datetime.date | None = None) -> bytes:
    """The brief as a Word file (.docx) to edit: the same content as :func:`brief_pdf` (its
    headings, the settings and scorecard as tables, the charts as a PNG, the budget and the
    caveat). Arguments as for :func:`brief_pdf`; the charts fall back to English labels
    without a CJK font, the text stays in ``lang`` (Word has its own fonts)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    brief = build(scenario, card, periods, lang, reference=reference, today=today)
    font, chart_lang = _font(lang)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.6))
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = doc.styles[style_name]
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), "Microsoft YaHei")  # Chinese glyphs, not Japanese ones
    doc.styles["Normal"].font.size = Pt(9)

    doc.add_heading(brief.title, level=1)
    doc.add_paragraph(brief.date)
    para = doc.add_paragraph()
    para.add_run(brief.scenario).bold = True
    if brief.reference:
        doc.add_paragraph(brief.reference)
    doc.add_paragraph(brief.summary)

    def table(header: Sequence[str], rows: Sequence[Sequence[str]], colors=None) -> None:
        tab = doc.add_table(rows=1, cols=len(header))
        tab.style = "Table Grid"
        for cell, text in zip(tab.rows[0].cells, header):
            cell.text = ""
            cell.paragraphs[0].add_run(str(text)).bold = True
        for k, row in enumerate(rows):
            cells = tab.add_row().cells
            for j, (cell, text) in enumerate(zip(cells, row)):
                cell.text = ""
                run = cell.paragraphs[0].add_run(str(text))
                if colors and colors[k] and j in colors[k][0]:
                    run.font.color.rgb = RGBColor.from_string(colors[k][1].lstrip("#").upper())
                    run.bold = True

    doc.add_heading(ui("brief_scorecard", lang), level=2)
    disp = brief.scorecard
    rows = [["★" if r["doubling"] else "", *(r[c] for c in SCORECARD_COLUMNS[1:])]
            for _, r in disp.iterrows()]
    value_cols = (SCORECARD_COLUMNS.index("value"), SCORECARD_COLUMNS.index("status"))
    colors = [(value_cols, MET_COLOR if met else MISSED_COLOR)
              for met in disp["met"]]
    table(brief.scorecard_header, rows, colors)
    doc.add_paragraph(ui("doubling_note", lang))

    doc.add_heading(ui("brief_settings", lang), level=2)
    if brief.settings:
        table(brief.settings_header, brief.settings)
    else:
        doc.add_paragraph(ui("brief_settings_none", lang))

    doc.add_heading(ui("brief_charts", lang), level=2)
    png = _chart_png(_series(scenario, results, reference, ref_results, chart_lang), chart_lang,
                     font)
    doc.add_picture(io.BytesIO(png), width=Cm(17.5))

    doc.add_heading(ui("brief_budget", lang), level=2)
    table(list(brief.budget.columns), brief.budget.values.tolist())
    para = doc.add_paragraph()
    run = para.add_run(brief.budget_message)
    if brief.budget_kind == "error":
        run.bold = True
        run.font.color.rgb = RGBColor.from_string(MISSED_COLOR.lstrip("#").upper())

    doc.add_heading(ui("brief_caveat_title", lang), level=2)
    doc.add_paragraph(brief.caveat)
    doc.add_paragraph(ui("brief_made_by", lang))
    doc.core_properties.title = brief.title
    doc.core_properties.subject = brief.scenario
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
