"""The page's charts (Altair; channels built as objects, not shorthand strings: faster to
construct), with targets, actuals and uncertainty bands, in the page's language.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from simulator.app.i18n import label, target_unit, ui, unit
from simulator.app.monitoring import ACTUAL_COLOR, ACTUAL_SHAPES
from simulator.app.scorecards import _SYMBOL, format_range
from simulator.base.text import display_width, format_number
from simulator.plan import goals, tables
from simulator.present.terminal import _decimals

CURRENT_COLOR = "#1a56b0"
REFERENCE_COLOR = "#7f7f7f"
TARGET_COLOR = "#c0392b"
MET_COLOR = "#1e7b34"
MISSED_COLOR = "#b3261e"
#: Colours of compared scenarios (colour-blind safe, distinct on a projector).
PALETTE: tuple[str, ...] = ("#1a56b0", "#e07b00", "#2e8b57", "#8e44ad", "#c0392b", "#5d6d7e")


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into balanced lines of at most ``width`` columns (CJK-aware).

    Latin text breaks between words; Chinese text between characters.
    """
    total = display_width(text)
    if total <= width:
        return [text]
    n_lines = math.ceil(total / width)
    if display_width(text) != len(text):  # Chinese: equal runs of characters
        per_line = math.ceil(len(text) / n_lines)
        return [text[k:k + per_line] for k in range(0, len(text), per_line)]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and display_width(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def panel_title(ind: tables.Indicator, lang: str, width: int = 30) -> str:
    """A chart panel's title: the indicator's name (wrapped) and its unit, lines joined by ``|``."""
    return "|".join(wrap(label(ind, lang), width) + [f"[{unit(ind, lang)}]"])


def key_indicator_ids() -> list[str]:
    """Indicators with a doubling target or a goal in the last target year, in table order."""
    last = max(t.year for t in tables.targets())
    wanted = {t.indicator for t in tables.targets() if t.doubling or t.year == last}
    return [i.id for i in tables.indicators() if i.id in wanted]


def target_levels(results: pd.DataFrame) -> pd.DataFrame:
    """Every target as a point on its indicator's level chart.

    A growth (``cagr``) target is drawn at the level it implies from the 2020 value of
    ``results`` (one scenario's tidy results): ``v2020 * (1 + g/100) ** (year - 2020)``.

    Returns
    -------
    DataFrame
        Columns ``indicator, year, level, target`` (``target`` is the Target).
    """
    start = results[np.isclose(results["time"].to_numpy(float), goals.BASE_YEAR)]
    start_values = dict(zip(start["variable"], start["value"].astype(float)))
    rows = []
    for tgt in tables.targets():
        if tgt.kind == "cagr":
            v0 = start_values.get(tgt.indicator, math.nan)
            if not np.isfinite(v0):
                continue
            level = v0 * (1 + tgt.target / 100) ** (tgt.year - goals.BASE_YEAR)
        else:
            level = tgt.target
        rows.append({"indicator": tgt.indicator, "year": tgt.year, "level": level,
                     "target": tgt})
    return pd.DataFrame(rows, columns=["indicator", "year", "level", "target"])


def chart_frame(series: Mapping[str, pd.DataFrame], lang: str,
                indicator_ids: Sequence[str] | None = None, width: int = 30,
                bands: pd.DataFrame | None = None, observed: Any = None) -> pd.DataFrame:
    """Data of a trajectory chart: lines of every scenario plus the targets.

    Parameters
    ----------
    series : mapping
        Display label → tidy results of one scenario (``Model.run``). The first one's 2020
        values place the growth targets.
    lang : {"zh", "en"}
    indicator_ids : sequence of str, optional
        Indicators to include, default all (table order).
    bands : DataFrame, optional
        Uncertainty bands of the first series (``UncertaintyResult.bands()``: ``time,
        variable, p05, p95``): adds rows of layer "band" and the columns ``lo`` and ``hi``.
    observed : simulator.plan.actuals.Actuals, optional
        Actuals: adds rows of layer "actual" (one per observation of a drawn indicator, levels
        and bounds) and the column ``observed`` (the kind's name in ``lang``, which picks the
        marker; empty outside actual rows).

    Returns
    -------
    DataFrame
        Columns ``layer`` ("line", "target" or "band"), ``panel``, ``series``, ``time``,
        ``value``, ``text`` (the value with the indicator's decimals and unit, for tooltips);
        with ``bands`` also ``lo``, ``hi`` (NaN outside band rows).
    """
    inds = [i for i in tables.indicators() if indicator_ids is None or i.id in indicator_ids]
    panels = {i.id: panel_title(i, lang, width) for i in inds}
    fmt = {i.id: (i.decimals, unit(i, lang)) for i in inds}
    cols: dict[str, list] = {"layer": [], "panel": [], "series": [], "time": [], "value": [],
                             "text": []}

    def add(layer: str, panel: str, name: str, time: float, value: float, text: str) -> None:
        for key, item in zip(cols, (layer, panel, name, time, value, text)):
            cols[key].append(item)

    # plain Python over a few hundred rows: several times faster than pandas operations here
    for name, res in series.items():
        for var, time, value in zip(res["variable"].tolist(), res["time"].tolist(),
                                    res["value"].tolist()):
            if var in panels and value == value:  # skips NaN
                dec, u = fmt[var]
                add("line", panels[var], name, float(time), float(value),
                    f"{format_number(value, dec)} {u}")
    targets = target_levels(next(iter(series.values())))
    for ind_id, year, level, tgt in targets.itertuples(index=False):
        if ind_id not in panels:
            continue
        dec = _decimals({"kind": tgt.kind, "indicator": tgt.indicator, "target": tgt.target})
        text = (f"{label(tgt, lang)} {tgt.year}: {_SYMBOL[tgt.comparison]} "
                f"{format_number(tgt.target, dec)} {target_unit(tgt, lang)}")
        add("target", panels[ind_id], ui("target", lang), float(year), float(level), text)
    frame = pd.DataFrame(cols)
    if observed is not None:
        points = actual_frame(observed, lang, panels, fmt)
        frame = frame.assign(observed="")
        if len(points):  # (concatenating an empty frame warns in pandas)
            frame = pd.concat([frame, points], ignore_index=True)
    if bands is None:
        return frame
    return pd.concat([frame.assign(lo=math.nan, hi=math.nan), band_frame(bands, lang, panels, fmt)],
                     ignore_index=True)


def actual_kind_label(kind: str, lang: str) -> str:
    """The legend name of an observation kind (``level``, ``lower_bound``, ``upper_bound``)."""
    return ui(f"actual_{kind}", lang)


def actual_frame(observed: Any, lang: str, panels: Mapping[str, str],
                 fmt: Mapping[str, tuple[int, str]]) -> pd.DataFrame:
    """Rows of layer "actual" of a chart frame: every observation of an indicator in ``panels``
    (indicator id → panel title; ``fmt``: id → (decimals, unit)), columns as
    :func:`chart_frame`'s with ``observed`` = the kind's legend name."""
    rows = []
    for a in observed:
        if a.indicator not in panels:
            continue
        dec, u = fmt[a.indicator]
        name = actual_kind_label(a.kind, lang)
        prefix = {"lower_bound": "≥ ", "upper_bound": "≤ "}.get(a.kind, "")
        rows.append({"layer": "actual", "panel": panels[a.indicator], "series": name,
                     "time": float(a.year), "value": float(a.value),
                     "text": f"{prefix}{format_number(a.value, dec)} {u}", "observed": name})
    return pd.DataFrame(rows, columns=["layer", "panel", "series", "time", "value", "text",
                                       "observed"])


def actual_kinds(observed: Any) -> tuple[str, ...]:
    """The kinds present in ``observed`` (None: none), in the order of :data:`ACTUAL_SHAPES`."""
    present = {a.kind for a in observed} if observed is not None else set()
    return tuple(k for k in ACTUAL_SHAPES if k in present)


def first_chart_year(observed: Any, indicator_ids: Sequence[str] | None = None) -> int:
    """Where a chart's time axis starts: 2020, or the year of an earlier observation."""
    years = [a.year for a in (observed or ()) if indicator_ids is None
             or a.indicator in indicator_ids]
    return min([goals.BASE_YEAR, *[math.floor(y) for y in years]])


def _actual_layer(x: alt.X, y: alt.Y, lang: str, kinds: tuple[str, ...], large: bool
                  ) -> alt.Chart:
    """Observed points: levels as dots, bounds as triangles (▲ lower, ▼ upper), with a legend."""
    names = [actual_kind_label(k, lang) for k in kinds]
    shape = alt.Shape(field="observed", type="nominal",
                      scale=alt.Scale(domain=names, range=[ACTUAL_SHAPES[k] for k in kinds]),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=17 if large
                                        else 14, labelLimit=500, symbolFillColor=ACTUAL_COLOR,
                                        symbolStrokeColor=ACTUAL_COLOR))
    return alt.Chart(
        mark=alt.MarkDef(type="point", filled=True, size=150 if large else 90,
                         color=ACTUAL_COLOR, opacity=0.9),
        encoding=alt.FacetedEncoding(x=x, y=y, shape=shape, tooltip=[
            alt.Tooltip(field="series", type="nominal", title=" "),
            alt.Tooltip(field="time", type="quantitative", title=ui("year", lang)),
            alt.Tooltip(field="text", type="nominal", title="  ")]),
        transform=[alt.FilterTransform(filter="datum.layer == 'actual'")])


def band_frame(bands: pd.DataFrame, lang: str, panels: Mapping[str, str],
               fmt: Mapping[str, tuple[int, str]] | None = None) -> pd.DataFrame:
    """Rows of layer "band" of a chart frame: the p05–p95 band of every indicator in ``panels``
    (indicator id → panel title), with a tooltip text; columns as :func:`chart_frame`'s."""
    part = bands[bands["variable"].isin(list(panels))]
    part = part[np.isfinite(part["p05"].to_numpy(float)) & np.isfinite(part["p95"].to_numpy(float))]
    start = part["variable"].map({i.id: i.defined_from for i in tables.indicators()})
    part = part[part["time"].to_numpy(float) >= start.to_numpy(float)]  # as the lines: no
    # value before the indicator is defined (a growth rate from 2021)
    fmt = fmt or {i.id: (i.decimals, unit(i, lang)) for i in tables.indicators()}
    name = ui("band_label", lang)
    texts = [f"{name}: {format_range(lo, hi, fmt[v][0])} {fmt[v][1]}"
             for v, lo, hi in zip(part["variable"], part["p05"], part["p95"])]
    return pd.DataFrame({
        "layer": "band", "panel": [panels[v] for v in part["variable"]], "series": name,
        "time": part["time"].astype(float).to_numpy(), "value": math.nan, "text": texts,
        "lo": part["p05"].astype(float).to_numpy(), "hi": part["p95"].astype(float).to_numpy()})


def _band_layer(x: alt.X, y: alt.Y, lang: str) -> alt.Chart:
    """The shaded p05–p95 band (drawn first, behind the lines), filtered to layer "band"."""
    lo = alt.Y(**{**y._kwds, "field": "lo"})  # the lines' y channel (scale, axis) on "lo"
    return alt.Chart(
        mark=alt.MarkDef(type="area", color=CURRENT_COLOR, opacity=0.16),
        encoding=alt.FacetedEncoding(
            x=x, y=lo, y2=alt.Y2(field="hi"),
            tooltip=[alt.Tooltip(field="text", type="nominal", title=ui("band_label", lang))]),
        transform=[alt.FilterTransform(filter="datum.layer == 'band'")])


def _colors(labels: Sequence[str], colors: Sequence[str] | None) -> list[str]:
    colors = list(colors or PALETTE)
    return [colors[i % len(colors)] for i in range(len(labels))]


class TrustedFacetChart(alt.FacetChart):
    """A facet chart whose structure is checked by the tests, not again on every draw.

    ``st.altair_chart`` calls ``to_dict()``, which validates the whole spec against the
    Vega-Lite JSON schema: 60 % of the time of drawing the chart. The structure of the
    trajectory charts never changes, only their data; ``tests/test_appsupport.py`` validates
    every variant with ``validate_spec`` (``to_dict(validate=True)``). Any other caller can
    still ask for validation explicitly.
    """

    def to_dict(self, validate: bool = False, **kwargs: Any) -> dict[str, Any]:
        return super().to_dict(validate=validate, **kwargs)


def validate_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, validated against the schema (raises if invalid)."""
    return chart.to_dict(validate=True)


@functools.lru_cache(maxsize=256)
def _trajectory_template(lang: str, labels: tuple[str, ...], panel_order: tuple[str, ...],
                         columns: int, large: bool, colors: tuple[str, ...],
                         dashed: tuple[str, ...], band: bool = False,
                         kinds: tuple[str, ...] = (), start: int = 2020) -> TrustedFacetChart:
    """The trajectory chart without its data (built once per layout; shared read-only).
    ``kinds``: the observation kinds drawn (an actual layer when not empty); ``start``: the
    first year of the time axis."""
    font = 17 if large else 13
    ticks = [t for t in (2015, 2020, 2025, 2030, 2035) if t >= start]
    x = alt.X(field="time", type="quantitative", title=None,
              scale=alt.Scale(domain=[start, 2035], nice=False),
              axis=alt.Axis(format="d", values=ticks, labelFontSize=font, grid=True))
    y = alt.Y(field="value", type="quantitative", title=None,
              scale=alt.Scale(zero=False, nice=True),
              axis=alt.Axis(labelFontSize=font, tickCount=5))
    color = alt.Color(field="series", type="nominal",
                      scale=alt.Scale(domain=list(labels), range=list(colors)),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=font + 1,
                                        labelColor="#1a1a1a", symbolStrokeWidth=3,
                                        labelLimit=500))
    dash = alt.StrokeDash(field="series", type="nominal",
                          scale=alt.Scale(domain=list(labels),
                                          range=[[6, 4] if s in dashed else [1, 0]
                                                 for s in labels]),
                          legend=None)
    tooltip = [alt.Tooltip(field="series", type="nominal", title=ui("scenario_label", lang)),
               alt.Tooltip(field="time", type="quantitative", title=ui("year", lang),
                           format="d"),
               alt.Tooltip(field="text", type="nominal", title=" ")]
    lines = alt.Chart(
        mark=alt.MarkDef(type="line", point=alt.OverlayMarkDef(size=22 if large else 14),
                         strokeWidth=3.2 if large else 2.4),
        encoding=alt.FacetedEncoding(x=x, y=y, color=color, strokeDash=dash, tooltip=tooltip),
        transform=[alt.FilterTransform(filter="datum.layer == 'line'")])
    marks = alt.Chart(
        mark=alt.MarkDef(type="point", shape="diamond", filled=True, size=200 if large else 130,
                         color=TARGET_COLOR, opacity=1, stroke="white", strokeWidth=1),
        encoding=alt.FacetedEncoding(x=x, y=y, tooltip=[
            alt.Tooltip(field="text", type="nominal", title=ui("target", lang))]),
        transform=[alt.FilterTransform(filter="datum.layer == 'target'")])
    header = alt.Header(title=None, labelExpr="split(datum.value, '|')", labelColor="#1a1a1a",
                        labelFontSize=font + 2, labelFontWeight="bold", labelLimit=0,
                        labelAlign="left", labelAnchor="start", labelPadding=6)
    width, height = (400, 230) if large else (300, 175)
    # Built through the constructors rather than chained methods: every chained call
    # deep-copies the chart, which cost more than drawing it.
    return TrustedFacetChart(
        spec=alt.LayerChart(layer=([_band_layer(x, y, lang)] if band else []) + [lines, marks]
                            + ([_actual_layer(x, y, lang, kinds, large)] if kinds else []),
                            width=width, height=height),
        facet=alt.Facet(field="panel", type="nominal", sort=list(panel_order), header=header),
        columns=columns,
        spacing={"row": 24, "column": 28},
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(y="independent")),
        config=alt.Config(view=alt.ViewConfig(stroke="#bbb"),
                          axis=alt.AxisConfig(labelColor="#222", gridColor="#e6e6e6")),
    )


def trajectory_chart(series: Mapping[str, pd.DataFrame], lang: str, *,
                     indicator_ids: Sequence[str] | None = None, columns: int = 3,
                     large: bool = False, colors: Sequence[str] | None = None,
                     dashed: Sequence[str] = (), bands: pd.DataFrame | None = None,
                     observed: Any = None) -> TrustedFacetChart:
    """Small multiples of every indicator, 2020–2035: one line per scenario, targets marked.

    One faceted Altair chart (a single spec, cheap to draw on every slider move), each panel
    with its own y scale and the indicator's name and unit as its title.

    Parameters
    ----------
    series : mapping
        Display label → tidy results; lines are drawn in this order and colour.
    lang : {"zh", "en"}
    indicator_ids : sequence of str, optional
        Panels to draw, default every indicator (table order).
    columns : int
        Panels per row.
    large : bool
        Larger type and panels (meeting mode).
    colors : sequence of str, optional
        One colour per series (default :data:`PALETTE`).
    dashed : sequence of str
        Labels of series drawn dashed (a reference scenario).
    bands : DataFrame, optional
        5–95 % bands of the first series (``UncertaintyResult.bands()``), shaded behind it.
    observed : simulator.plan.actuals.Actuals, optional
        Actuals drawn as points (levels ●, lower bounds ▲, upper bounds ▼, with a legend); the
        time axis starts at the earliest one drawn if that is before 2020.
    """
    layout, data = trajectory_parts(series, lang, indicator_ids=indicator_ids, columns=columns,
                                    large=large, colors=colors, dashed=dashed, bands=bands,
                                    observed=observed)
    chart = trajectory_template(layout).copy(deep=False)  # shared: never mutate it
    chart.data = data
    return chart


def trajectory_parts(series: Mapping[str, pd.DataFrame], lang: str, *,
                     indicator_ids: Sequence[str] | None = None, columns: int = 3,
                     large: bool = False, colors: Sequence[str] | None = None,
                     dashed: Sequence[str] = (), bands: pd.DataFrame | None = None,
                     observed: Any = None) -> tuple[tuple, pd.DataFrame]:
    """:func:`trajectory_chart` in two parts: its layout (a hashable tuple naming the chart
    without its data: :func:`trajectory_template` of it) and its data. Same parameters.

    The app keeps the Vega-Lite spec of each layout and sends only the data anew on a rerun.
    """
    labels = tuple(series)
    data = chart_frame(series, lang, indicator_ids, width=26 if large else 30, bands=bands,
                       observed=observed)
    panel_order = tuple(dict.fromkeys(data.loc[data["layer"] != "actual", "panel"]))
    layout = (lang, labels, panel_order, columns, large, tuple(_colors(labels, colors)),
              tuple(dashed), bands is not None, actual_kinds(observed),
              first_chart_year(observed, indicator_ids))
    return layout, data


def trajectory_template(layout: tuple) -> TrustedFacetChart:
    """The shared chart without data of a ``layout`` from :func:`trajectory_parts` (never
    mutate it: copy it first)."""
    return _trajectory_template(*layout)


class TrustedLayerChart(alt.LayerChart):
    """A layered chart whose structure is checked by the tests (see :class:`TrustedFacetChart`)."""

    def to_dict(self, validate: bool = False, **kwargs: Any) -> dict[str, Any]:
        return super().to_dict(validate=validate, **kwargs)


@functools.lru_cache(maxsize=256)
def _detail_template(indicator_id: str, lang: str, labels: tuple[str, ...],
                     colors: tuple[str, ...], dashed: tuple[str, ...],
                     band: bool = False, kinds: tuple[str, ...] = (),
                     start: int = 2020) -> TrustedLayerChart:
    ind = tables.indicator(indicator_id)
    x = alt.X(field="time", type="quantitative", title=ui("year", lang),
              scale=alt.Scale(domain=[start, 2035], nice=False),
              axis=alt.Axis(format="d", values=list(range(start, 2036)), labelFontSize=14,
                            titleFontSize=15))
    y_title = (f"{label(ind, lang)}({unit(ind, lang)})" if lang == "zh"
               else f"{label(ind, lang)} ({unit(ind, lang)})")
    y = alt.Y(field="value", type="quantitative", title=y_title, scale=alt.Scale(zero=False),
              axis=alt.Axis(labelFontSize=14, titleFontSize=15, titleLimit=420))
    color = alt.Color(field="series", type="nominal",
                      scale=alt.Scale(domain=list(labels), range=list(colors)),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=15,
                                        labelLimit=400, symbolStrokeWidth=3))
    dash = alt.StrokeDash(field="series", type="nominal",
                          scale=alt.Scale(domain=list(labels),
                                          range=[[6, 4] if s in dashed else [1, 0]
                                                 for s in labels]), legend=None)
    tooltip = [alt.Tooltip(field="series", type="nominal", title=ui("scenario_label", lang)),
               alt.Tooltip(field="time", type="quantitative", title=ui("year", lang),
                           format="d"),
               alt.Tooltip(field="text", type="nominal", title=" ")]
    is_line = [alt.FilterTransform(filter="datum.layer == 'line'")]
    is_target = [alt.FilterTransform(filter="datum.layer == 'target'")]
    lines = alt.Chart(mark=alt.MarkDef(type="line", point=True, strokeWidth=3),
                      encoding=alt.FacetedEncoding(x=x, y=y, color=color, strokeDash=dash,
                                                   tooltip=tooltip),
                      transform=is_line)
    marks = alt.Chart(mark=alt.MarkDef(type="point", shape="diamond", filled=True, size=260,
                                       color=TARGET_COLOR, opacity=1),
                      encoding=alt.FacetedEncoding(x=x, y=y, tooltip=[
                          alt.Tooltip(field="text", type="nominal", title=ui("target", lang))]),
                      transform=is_target)
    texts = alt.Chart(mark=alt.MarkDef(type="text", align="right", dx=-10, dy=-12, fontSize=14,
                                       color=TARGET_COLOR, fontWeight="bold"),
                      encoding=alt.FacetedEncoding(x=x, y=y, text=alt.Text(field="text",
                                                                           type="nominal")),
                      transform=is_target)
    return TrustedLayerChart(
        layer=([_band_layer(x, y, lang)] if band else []) + [lines, marks, texts]
        + ([_actual_layer(x, y, lang, kinds, False)] if kinds else []), height=420,
        title=alt.TitleParams(text=label(ind, lang), fontSize=18, anchor="start"))


def detail_chart(series: Mapping[str, pd.DataFrame], indicator_id: str, lang: str, *,
                 colors: Sequence[str] | None = None, dashed: Sequence[str] = (),
                 bands: pd.DataFrame | None = None, observed: Any = None) -> TrustedLayerChart:
    """One indicator, large, with titled axes (year; the indicator's unit) and labelled targets
    (with ``bands``: the first series' 5–95 % band shaded behind it; with ``observed``: its
    actuals as points, as in :func:`trajectory_chart`)."""
    labels = tuple(series)
    mine = None if observed is None else [a for a in observed if a.indicator == indicator_id]
    template = _detail_template(indicator_id, lang, labels, tuple(_colors(labels, colors)),
                                tuple(dashed), bands is not None, actual_kinds(mine),
                                first_chart_year(mine))
    chart = template.copy(deep=False)  # the template is shared: never mutate it
    chart.data = chart_frame(series, lang, [indicator_id], bands=bands, observed=mine)
    return chart
