"""The model's map in the app: the stock-and-flow diagram of ``models/guangyuan_innovation.mdl``
drawn from the same structure and layout as the ``.mdl``'s Vensim sketch
(:mod:`simulator.sd.sketch`), so the page and Vensim show one diagram and neither can drift
from the equations.

Stocks are boxes, flows valves on their pipes (clouds where a flow comes from or goes to outside
the model), auxiliaries and constants their names; indicator nodes (``models/indicators.csv``)
have an orange frame, lever nodes (``models/levers.csv``: a lever's value in effect and its
per-period constants) a green one; a variable of another sector read here is a grey shadow. A
named feedback loop (``models/loops.csv``) is highlighted: its variables in gold, its links in
red — the shortest cycles through every link its cut constant gates
(:func:`simulator.sd.sketch.members_of_cut`). Hovering a node shows its values in the current
run (passed in: nothing here runs the model). Names and units are in the page's language:
``models/variable_names.csv`` names every variable, ``models/unit_names.csv`` every unit atom
(:mod:`simulator.plan.tables`).

Renderer: an Altair (Vega-Lite) chart, as every other chart of the page: Streamlit shows it
without a system package, its tooltips give the hover values reliably, zoom and pan come with
``interactive()``, and the highlighting is computed here in Python (plain data, testable), not
in the browser. Graphviz (``st.graphviz_chart``) would lay the graph out again by its own rules
— a second layout that could differ from the sketch's — and its SVG titles are not reliable
tooltips across browsers.

Nothing here imports Streamlit.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Sequence

import altair as alt
import pandas as pd

from simulator.analysis import loops as loops_mod
from simulator.app import i18n
from simulator.plan import tables
from simulator.sd import sketch

#: Years whose values a node's tooltip shows (those the run has).
MAP_YEARS = (2020, 2025, 2030, 2035)
#: Option of the sector selector that shows every sector at once.
ALL = "__all__"
STOCK_FILL = "#dbe8f7"
HIGHLIGHT_FILL = "#f5b700"
HIGHLIGHT_EDGE = "#c0392b"
INDICATOR_STROKE = "#e67e22"
LEVER_STROKE = "#1e7b34"
_PANELS_PER_ROW = 2
_PANEL_GAP = 160


@lru_cache(maxsize=2)
def model_map(mdl_file: str = str(tables.MODEL_FILE)) -> tuple[sketch.Structure, sketch.Layout]:
    """The structure and layout of the model (read once per process: PySD parses the file)."""
    struct = sketch.structure(mdl_file)
    return struct, sketch.layout(struct)


def roles() -> dict[str, str]:
    """``indicator`` or ``lever`` by Python name of every marked node."""
    out = {i.variable: "indicator" for i in tables.indicators()}
    for lever in tables.levers():
        out[lever.effective_variable] = "lever"
        for period in tables.PERIODS:
            out[lever.period_param(period)] = "lever"
    return out


def sector_label(group: str, lang: str) -> str:
    """A sector's (``.mdl`` group's) name in ``lang``: the group itself in English, its row of
    ``models/sector_names.csv`` in Chinese (the group's own name if it has none)."""
    return group if lang == "en" else tables.sector_names().get(group, group)


def node_label(struct: sketch.Structure, name: str, lang: str) -> str:
    """The name shown on the map in ``lang``: the variable's name in
    ``models/variable_names.csv`` (:func:`simulator.plan.tables.variable_name`), which for an
    indicator, lever or assumption is the name its own table gives; a control variable's
    (``INITIAL TIME`` …) from the page's words."""
    var = struct.variables[name]
    if var.kind == "control":
        return i18n.ui(f"map_ctl_{name}", lang)
    return tables.variable_name(var.vensim, lang)


def unit_label(struct: sketch.Structure, name: str, lang: str) -> str:
    """The variable's unit on the map in ``lang``: the Vensim unit on the English page, its
    Chinese rendering (:func:`simulator.plan.tables.unit_label`) on the Chinese one."""
    return tables.unit_label(struct.variables[name].units, lang)


def loop_members(struct: sketch.Structure, loop: loops_mod.Loop) -> tuple[set[str], set[tuple[str, str]]]:
    """The variables and links of a named loop: the cycles its cut constants gate."""
    nodes: set[str] = set()
    links: set[tuple[str, str]] = set()
    for constant, _value in loop.cut:
        n, e = sketch.members_of_cut(struct, constant)
        nodes |= n
        links |= e
    return nodes, links


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(" "), [], ""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        # Chinese: break between characters, never inside a Latin word or number (GDP, 2020);
        # a Chinese character is about as wide as two Latin letters
        lines, line, used = [], "", 0.0
        for token in re.findall(r"[A-Za-z0-9&.]+|.", text):
            size = len(token) / 2 if token.isascii() else len(token)
            if line and used + size > width / 2:
                lines.append(line)
                line, used = "", 0.0
            line, used = line + token, used + size
        lines.append(line)
        return "\n".join(lines)
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _panel_offsets(lay: sketch.Layout, views: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Where each view's panel starts when several are shown: rows of panels, left to right."""
    offsets, x, y, row_h = {}, 0, 0, 0
    for k, v in enumerate(views):
        boxes = lay.views[v].boxes
        w = max((b.x + b.w for b in boxes), default=0) + _PANEL_GAP
        h = max((b.y + b.h for b in boxes), default=0) + _PANEL_GAP
        if k and k % _PANELS_PER_ROW == 0:
            x, y, row_h = 0, y + row_h, 0
        offsets[v] = (x, y)
        x += w
        row_h = max(row_h, h)
    return offsets


def map_frames(struct: sketch.Structure, lay: sketch.Layout, lang: str, *,
               sector: str = ALL, values: pd.DataFrame | None = None,
               loop: loops_mod.Loop | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The nodes and edges of the map, one row each, ready to draw.

    Parameters
    ----------
    sector : str
        A view's title (one ``.mdl`` group) or :data:`ALL` (every view side by side, without
        shadows: a link from another sector is drawn from the variable's own box).
    values : DataFrame, optional
        The current run, one row per year (index), one column per Python name: the
        ``v<year>`` columns of a node are its values in :data:`MAP_YEARS` (NaN where the run
        has no such column or year).
    loop : Loop, optional
        The loop to highlight (``highlight`` columns).

    Returns
    -------
    (nodes, edges) : DataFrame
        nodes: ``name, label, shape, kind, role, sector, unit, x, y, x2, y2, cx, cy,
        highlight, v2020 …``; edges: ``kind, cause, effect, x, y, x2, y2, ax, ay, angle, head, highlight`` (a pipe's
        cause is its flow, its effect the stock, "" for a cloud).
    """
    titles = [v.title for v in lay.views]
    if sector == ALL:
        views = list(range(len(lay.views)))
    elif sector in titles:
        views = [titles.index(sector)]
    else:
        raise ValueError(f"sector {sector!r}: not one of the model's groups "
                         f"({', '.join(titles)}) nor {ALL!r}")
    offsets = _panel_offsets(lay, views) if len(views) > 1 else {views[0]: (0, 0)}
    role = roles()
    hi_nodes, hi_links = loop_members(struct, loop) if loop is not None else (set(), set())
    years = [y for y in MAP_YEARS if values is not None and y in values.index]
    kind_names = {k: i18n.ui(f"map_kind_{k}", lang) for k in sketch.KINDS + ("shadow",)}
    rows, edges = [], []
    for v in views:
        view = lay.views[v]
        ox, oy = offsets[v]
        for i, b in enumerate(view.boxes):
            if b.shape == "shadow" and len(views) > 1:
                continue
            var = struct.variables.get(b.name)
            row = {"name": b.name, "shape": b.shape, "x": b.x + ox - b.w, "x2": b.x + ox + b.w,
                   "y": b.y + oy - b.h, "y2": b.y + oy + b.h, "cx": b.x + ox, "cy": b.y + oy,
                   "sector": sector_label(view.title, lang),
                   "highlight": bool(b.name) and b.name in hi_nodes and b.shape != "valve"}
            if var is None:              # a cloud
                row.update(label="", kind="", role="", unit="")
            else:
                row.update(label=_wrap(node_label(struct, b.name, lang), 18),
                           kind=kind_names["shadow" if b.shape == "shadow" else var.kind],
                           role=role.get(b.name, ""), unit=unit_label(struct, b.name, lang),
                           sector=sector_label(var.group, lang))
            for y in MAP_YEARS:
                value = math.nan
                if var is not None and y in years and b.name in values.columns \
                        and b.shape != "valve":
                    value = float(values.at[y, b.name])
                row[f"v{y}"] = value
            rows.append(row)
        for a in view.arrows:
            start, end = view.boxes[a.start], view.boxes[a.end]
            sx, sy = start.x + ox, start.y + oy
            if start.shape == "shadow" and len(views) > 1:
                home = lay.home[start.name]
                if home not in offsets:
                    continue
                hv = lay.views[home]
                hb = hv.boxes[hv.box_of(start.name)]
                sx, sy = hb.x + offsets[home][0], hb.y + offsets[home][1]
            ex, ey = end.x + ox, end.y + oy
            cause = start.name
            effect = end.name
            if a.kind != "link" and end.shape != "stock":
                effect = ""   # a pipe to a cloud stands for no link
            # a pipe stands for its flow's link into (or out of) the stock: the stock's rate
            # reads the flow
            hl = (cause, effect) in hi_links
            angle = math.degrees(math.atan2(ey - sy, ex - sx))
            # the arrowhead stops at the edge of the end's box
            length = math.hypot(ex - sx, ey - sy) or 1.0
            back = min(length / 2, max(end.w, end.h) + 4)
            edges.append({"kind": "link" if a.kind == "link" else "pipe", "cause": cause,
                          "effect": effect, "x": sx, "y": sy,
                          "x2": ex, "y2": ey, "ax": ex - (ex - sx) * back / length,
                          "ay": ey - (ey - sy) * back / length, "angle": angle,
                          "head": a.kind != "pipe_out", "highlight": hl})
    nodes = pd.DataFrame(rows)
    return nodes, pd.DataFrame(edges, columns=["kind", "cause", "effect", "x", "y", "x2", "y2",
                                               "ax", "ay", "angle", "head", "highlight"])


def map_chart(nodes: pd.DataFrame, edges: pd.DataFrame, lang: str, *, width: int = 1100,
              dim_others: bool = False) -> alt.LayerChart:
    """The map as an Altair chart (zoom and pan with the mouse; tooltips on every variable).
    With ``dim_others`` (a loop is chosen) what is not highlighted is drawn faint."""
    xmin, xmax = float(nodes["x"].min()) - 20, float(nodes["x2"].max()) + 20
    ymin, ymax = float(nodes["y"].min()) - 20, float(nodes["y2"].max()) + 20
    height = int(max(240, min(4000, width * (ymax - ymin) / max(xmax - xmin, 1))))
    x = alt.X("x:Q", scale=alt.Scale(domain=[xmin, xmax], nice=False), axis=None)
    y = alt.Y("y:Q", scale=alt.Scale(domain=[ymin, ymax], nice=False, reverse=True), axis=None)
    x_c = alt.X("cx:Q", scale=alt.Scale(domain=[xmin, xmax], nice=False), axis=None)
    y_c = alt.Y("cy:Q", scale=alt.Scale(domain=[ymin, ymax], nice=False, reverse=True), axis=None)
    faint = 0.25 if dim_others else 1.0
    nodes, edges = nodes.copy(), edges.copy()
    # colours computed here, not by nested conditions in the spec: plain data a test can read
    nodes["op"] = [1.0 if h else faint for h in nodes["highlight"]]
    nodes["fill"] = [HIGHLIGHT_FILL if h else STOCK_FILL if sh == "stock" else "#ffffff"
                     for h, sh in zip(nodes["highlight"], nodes["shape"])]
    nodes["fo"] = [1.0 if h or sh == "stock" else 0.02
                   for h, sh in zip(nodes["highlight"], nodes["shape"])]
    nodes["stroke"] = [INDICATOR_STROKE if r == "indicator" else LEVER_STROKE if r == "lever"
                       else "#1a56b0" for r in nodes["role"]]
    nodes["sw"] = [2.0 if r or sh == "stock" else 0.0 for r, sh in zip(nodes["role"], nodes["shape"])]
    nodes["tc"] = ["#8a8a8a" if sh == "shadow" else "#111111" for sh in nodes["shape"]]
    nodes["vc"] = [HIGHLIGHT_EDGE if h else "#5b7fb5" for h in nodes["highlight"]]
    edges["op"] = [1.0 if h else faint for h in edges["highlight"]]
    edges["color"] = [HIGHLIGHT_EDGE if h else "#5b7fb5" if k == "pipe" else "#8a8a8a"
                      for h, k in zip(edges["highlight"], edges["kind"])]
    edges["sw"] = [4.0 if k == "pipe" else 2.5 if h else 0.8
                   for h, k in zip(edges["highlight"], edges["kind"])]
    tooltip = [alt.Tooltip("label:N", title=i18n.ui("map_tt_name", lang)),
               alt.Tooltip("kind:N", title=i18n.ui("map_tt_kind", lang)),
               alt.Tooltip("sector:N", title=i18n.ui("map_tt_sector", lang)),
               alt.Tooltip("unit:N", title=i18n.ui("map_tt_unit", lang))]
    tooltip += [alt.Tooltip(f"v{yr}:Q", title=str(yr), format=",.4~g") for yr in MAP_YEARS
                if f"v{yr}" in nodes and nodes[f"v{yr}"].notna().any()]
    layers = []
    if len(edges):
        # only what the edges layer draws goes to the browser (their kind and ends are
        # already in the colours and positions)
        base = alt.Chart(edges[["x", "y", "x2", "y2", "ax", "ay", "angle", "head", "color", "sw",
                                "op"]])
        layers.append(base.mark_rule().encode(
            x=x, y=y, x2="x2:Q", y2="y2:Q", color=alt.Color("color:N", scale=None),
            strokeWidth=alt.StrokeWidth("sw:Q", scale=None),
            opacity=alt.Opacity("op:Q", scale=None)))
        layers.append(base.transform_filter("datum.head").mark_point(
            shape="triangle-right", filled=True, size=40).encode(
            x=alt.X("ax:Q", scale=alt.Scale(domain=[xmin, xmax], nice=False), axis=None),
            y=alt.Y("ay:Q", scale=alt.Scale(domain=[ymin, ymax], nice=False, reverse=True),
                    axis=None),
            angle=alt.Angle("angle:Q", scale=None), color=alt.Color("color:N", scale=None),
            opacity=alt.Opacity("op:Q", scale=None)))
    boxes = alt.Chart(nodes).transform_filter("datum.shape != 'valve' && datum.shape != 'cloud'")
    layers.append(boxes.mark_rect(cornerRadius=2).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q", fill=alt.Fill("fill:N", scale=None),
        fillOpacity=alt.FillOpacity("fo:Q", scale=None), stroke=alt.Stroke("stroke:N", scale=None),
        strokeWidth=alt.StrokeWidth("sw:Q", scale=None), opacity=alt.Opacity("op:Q", scale=None),
        tooltip=tooltip))
    layers.append(boxes.mark_text(fontSize=10, lineBreak="\n").encode(
        x=x_c, y=y_c, text="label:N", color=alt.Color("tc:N", scale=None),
        opacity=alt.Opacity("op:Q", scale=None), tooltip=tooltip))
    layers.append(alt.Chart(nodes).transform_filter("datum.shape == 'valve'").mark_point(
        shape="M-1,-1L1,1L1,-1L-1,1Z", filled=True, size=90).encode(
        x=x_c, y=y_c, color=alt.Color("vc:N", scale=None),
        opacity=alt.Opacity("op:Q", scale=None)))
    layers.append(alt.Chart(nodes).transform_filter("datum.shape == 'cloud'").mark_point(
        shape="circle", filled=True, size=160, color="#c9c9c9").encode(
        x=x_c, y=y_c, opacity=alt.Opacity("op:Q", scale=None)))
    return alt.layer(*layers).properties(width=width, height=height).interactive()


def sectors(lay: sketch.Layout) -> list[str]:
    """The options of the sector selector: every sector, then all of them."""
    return [v.title for v in lay.views] + [ALL]


def default_sector(lay: sketch.Layout) -> str:
    """The sector shown first: the first that holds a stock (a map with no stock says little)."""
    return next((v.title for v in lay.views if any(b.shape == "stock" for b in v.boxes)),
                lay.views[0].title)


def loop_sectors(struct: sketch.Structure, lay: sketch.Layout, loop: loops_mod.Loop,
                 lang: str) -> list[str]:
    """The sectors a loop passes through, in the map's order."""
    nodes, _ = loop_members(struct, loop)
    homes = sorted({lay.home[n] for n in nodes if n in lay.home})
    return [sector_label(lay.views[h].title, lang) for h in homes]


def highlighted(nodes: pd.DataFrame) -> set[str]:
    """The variables a frame highlights."""
    return set(nodes.loc[nodes["highlight"], "name"])
