"""A model's stock-and-flow structure, a readable layout of it, and the Vensim sketch drawn from
that layout.

One structure (:func:`structure`) is read from PySD's abstract model of any Vensim file (no
project knowledge here): every variable with its kind (stock, flow, auxiliary, constant,
lookup, control), its group (the ``.Group`` headers of the ``.mdl``, in file order), the flows
of every stock taken from its ``INTEG`` rate (a plain reference added to the rate is an inflow,
one subtracted an outflow; other terms of the rate, such as ``a * b``, are drawn as causal
arrows into the stock), and every causal link (a reference in an equation, its initial value
included). :func:`layout` places it deterministically: one view per group (a flow is drawn in
the view of the stock it fills, else of the one it drains, so that its pipe can be); in each, the
stocks in rows of blocks — each chain of stocks joined by flows on a row of its own, in flow
order, single stocks three to a row — with their flows as pipes (inflows on the left, outflows on
the right, each at its own height on a stock box tall enough for them all; a flow between two
stocks of the view is one valve between them, an end outside the view a cloud); then the other
variables in bands by causal distance from the view's stocks and flows, each in the free grid
cell nearest the mean position of what it is linked to (fewer crossing arrows), so that no two
objects overlap. A variable of another view that a variable here reads is drawn as a *shadow*
(Vensim's ghost variable, grey) in the last band. :func:`sketch_text` writes the layout in
Vensim's sketch format (``V300``; one ``*View`` per group; type 10 variables, type 11 valves,
type 12 clouds, type 1 arrows and pipes); :func:`with_sketch` puts it in place of a model
file's sketch, leaving every equation byte untouched, and :func:`write` / :func:`check` are the
``python -m simulator sketch`` command's work.

PySD ignores the sketch when it translates a model (it reads it only to split a model into
files by view), so the equations and PySD's translation are the same before and after; the
sketch itself parses with PySD's sketch grammar (tests/test_sketch.py holds both).

The app's model map (``simulator/app/modelmap.py``) draws from the same :class:`Layout`, so the
diagram in the page and the one in Vensim cannot differ.
"""
from __future__ import annotations

import dataclasses
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from simulator.base.inputs import CONTROL
from simulator.sd import translate

#: Marker that starts Vensim's sketch section (the rest of its line is free text).
SKETCH_START = "\\\\\\---///"
#: Marker that ends the sketch section (what follows are Vensim's own settings, kept as is).
SKETCH_END = "///---\\\\\\"
_VIEW_HEAD = ("\\\\\\---/// Sketch information - do not modify anything except names\n"
              "V300  Do not put anything below this section - it will be ignored\n")
_VIEW_STYLE = ("$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|"
               "96,96,100,0")
#: Kinds of variable (:attr:`Variable.kind`).
KINDS = ("stock", "flow", "aux", "constant", "lookup", "control")
_GROUP = re.compile(r"^\*{3,}\s*\n\s*\.(?P<name>[^\n]+?)\s*\n\*{3,}~", re.M)

# layout geometry (Vensim sketch units, about a pixel at 100 % zoom)
_BLOCK_W = 560          # width of a stock's block (clouds, valves, stock)
_BLOCK_H = 60           # extra height of a stock's block beyond its box
_ROW_STOCKS = 3         # stock blocks per row
_CELL_W = 200           # grid cell of an auxiliary
_CELL_H = 56
_GRID_COLS = 7
_MARGIN = 80


class SketchError(ValueError):
    """A model whose sketch cannot be written or checked (one line naming the file and why)."""


@dataclass(frozen=True)
class Variable:
    """One model variable.

    Attributes
    ----------
    name : str
        PySD's Python name (:func:`simulator.sd.translate.python_name`).
    vensim : str
        The name as the ``.mdl`` writes it (what the sketch shows).
    kind : str
        One of :data:`KINDS`.
    group : str
        The ``.mdl`` group it is defined in ("" before any group header).
    units : str
        Its declared units.
    """

    name: str
    vensim: str
    kind: str
    group: str
    units: str = ""


@dataclass(frozen=True)
class Flow:
    """A flow: the stock it drains (``source``) and the one it fills (``sink``), None for a
    cloud (the flow comes from or goes to outside the model)."""

    name: str
    source: str | None
    sink: str | None


@dataclass(frozen=True)
class Structure:
    """A model's stock-and-flow structure.

    Attributes
    ----------
    variables : dict
        :class:`Variable` by Python name, in the ``.mdl``'s order.
    flows : dict
        :class:`Flow` by Python name of the flow variable.
    links : tuple of (str, str)
        Causal links ``(cause, effect)``: ``effect``'s equation (initial value included) reads
        ``cause``; sorted, one per pair. A flow's link into its stock is among them.
    groups : tuple of str
        The groups that hold a variable, in file order.
    """

    variables: dict[str, Variable]
    flows: dict[str, Flow]
    links: tuple[tuple[str, str], ...]
    groups: tuple[str, ...]
    #: PySD's abstract expression of every variable (for :func:`members_of_cut`).
    equations: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def stocks(self) -> list[str]:
        return [n for n, v in self.variables.items() if v.kind == "stock"]

    def inflows(self, stock: str) -> list[str]:
        return [f.name for f in self.flows.values() if f.sink == stock]

    def outflows(self, stock: str) -> list[str]:
        return [f.name for f in self.flows.values() if f.source == stock]


# --------------------------------------------------------------------------------------------
# structure

def _references(ast: Any, out: set[str]) -> set[str]:
    """Every name an abstract expression refers to (function names of calls left out, named
    lookups called as functions kept: the caller filters by the model's names)."""
    from pysd.translators.structures import abstract_expressions as ae
    if isinstance(ast, ae.ReferenceStructure):
        out.add(ast.reference)
    elif isinstance(ast, ae.CallStructure):
        out.add(ast.function.reference)   # a named lookup called like a function
        for arg in ast.arguments:
            _references(arg, out)
    elif dataclasses.is_dataclass(ast) and not isinstance(ast, type):
        for f in dataclasses.fields(ast):
            _references(getattr(ast, f.name), out)
    elif isinstance(ast, (list, tuple)):
        for item in ast:
            _references(item, out)
    return out


def _rate_terms(ast: Any) -> list[tuple[int, Any]]:
    """The additive terms of a stock's rate with their signs: ``a + b - c`` → (+a, +b, -c)."""
    from pysd.translators.structures import abstract_expressions as ae
    if isinstance(ast, ae.ArithmeticStructure) and ast.operators \
            and set(ast.operators) <= {"+", "-", "negative"}:
        args, ops = list(ast.arguments), list(ast.operators)
        if len(ops) == len(args):          # a leading unary minus (or plus)
            signs = [-1 if ops[0] in ("-", "negative") else 1]
            ops = ops[1:]
        else:
            signs = [1]
        signs += [-1 if op == "-" else 1 for op in ops]
        out = []
        for sign, arg in zip(signs, args):
            out += [(sign * s, term) for s, term in _rate_terms(arg)]
        return out
    return [(1, ast)]


def _groups_by_name(text: str) -> dict[str, str]:
    """The group of every equation of a ``.mdl``'s text (``.Group`` headers), by Vensim name as
    written, read from the text before the sketch."""
    text = text.split(SKETCH_START, 1)[0]
    out: dict[str, str] = {}
    group = ""
    pos = 0
    for block in text.split("|"):
        start = pos
        pos += len(block) + 1
        head = _GROUP.search(block)
        if head:
            group = head.group("name").strip()
            continue
        body = block.split("~", 1)[0].strip()
        if start == 0:
            body = re.sub(r"^\{[^}]*\}", "", body).strip()   # the {UTF-8} marker
        if not body or body.startswith(":"):
            continue
        name = re.split(r"[=(:\[]", body, maxsplit=1)[0].strip().strip('"')
        name = re.sub(r"\s+", " ", name.replace("\\\n", " "))
        if name:
            out.setdefault(name, group)
    return out


def structure(mdl_file: str | Path) -> Structure:
    """The stock-and-flow structure of a Vensim model file (see the module docstring).

    Raises
    ------
    SketchError
        A file that cannot be read or parsed, or a model with macros (their variables have no
        place in the main model's views).
    """
    from pysd.translators.structures import abstract_expressions as ae
    mdl_file = Path(mdl_file)
    groups = _groups_by_name(_read(mdl_file))
    try:
        model = translate.abstract_model(mdl_file)
    except Exception as exc:  # PySD's parser raises parsimonious' own errors, among others
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SketchError(f"{mdl_file}: PySD cannot read the model ({first})") from None
    if len(model.sections) != 1:
        raise SketchError(f"{mdl_file}: macros are not supported by the sketch writer")
    section = model.sections[0]
    norm = {re.sub(r"\s+", " ", k).lower(): v for k, v in groups.items()}
    names = {e.name: translate.python_name(e.name) for e in section.elements}
    known = set(names.values())
    # references in the equations are PySD's "clean" spelling, not the Python names
    py_name = translate.reference_names(names).get
    kinds: dict[str, str] = {}
    asts: dict[str, Any] = {}
    for element in section.elements:
        py = names[element.name]
        ast = element.components[0].ast if element.components else None
        asts[py] = ast
        if py in CONTROL:
            kinds[py] = "control"
        elif isinstance(ast, ae.IntegStructure):
            kinds[py] = "stock"
        elif isinstance(ast, (int, float)):
            kinds[py] = "constant"
        elif isinstance(ast, (ae.LookupsStructure, ae.GetLookupsStructure)):
            kinds[py] = "lookup"
        else:
            kinds[py] = "aux"
    # flows: plain references added to or subtracted from a stock's rate
    ends: dict[str, dict[str, list[str]]] = {}
    for py, ast in asts.items():
        if kinds[py] != "stock":
            continue
        for sign, term in _rate_terms(ast.flow):
            ref = py_name(term.reference) if isinstance(term, ae.ReferenceStructure) else None
            if ref in known and kinds.get(ref) == "aux":
                side = ends.setdefault(ref, {"source": [], "sink": []})
                side["sink" if sign > 0 else "source"].append(py)
    flows: dict[str, Flow] = {}
    for name, side in ends.items():
        kinds[name] = "flow"
        # a flow pipes out of one stock into one other; a second stock on the same side reads
        # it through an arrow (it is still a causal link)
        flows[name] = Flow(name, side["source"][0] if side["source"] else None,
                           side["sink"][0] if side["sink"] else None)
    links = set()
    for py, ast in asts.items():
        for ref in map(py_name, _references(ast, set())):
            if ref in known and ref != py:
                links.add((ref, py))
    variables = {}
    for element in section.elements:
        py = names[element.name]
        group = groups.get(element.name, norm.get(re.sub(r"\s+", " ", element.name).lower(),
                                                  ""))
        variables[py] = Variable(py, element.name, kinds[py], group, (element.units or "").strip())
    order = []
    for v in variables.values():
        if v.group not in order:
            order.append(v.group)
    return Structure(variables, flows, tuple(sorted(links)), tuple(order), asts)


def members_of_cut(struct: Structure, constant: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The feedback cycles a cut constant breaks: the variables and links of the shortest cycle
    through every link it gates.

    A *gated link* is ``cause → effect`` where ``effect``'s equation multiplies ``constant``
    with a term that reads ``cause`` (``s * (A - B)``: links ``A → effect`` and ``B →
    effect``; a switch written ``1 - s * (...)`` or ``x + s * (...)`` alike). For each gated
    link that lies on a cycle, the shortest path from ``effect`` back to ``cause`` closes the
    cycle; the answer is the union of those cycles plus ``constant`` itself and its links.
    Empty sets if the constant gates no cycle.
    """
    from pysd.translators.structures import abstract_expressions as ae
    model_names = struct.variables
    effects = {b for a, b in struct.links if a == constant}
    gated: set[tuple[str, str]] = set()
    for effect in effects:
        for product in _products_with(struct.equations.get(effect), constant, ae):
            for arg in product:
                for ref in _references(arg, set()):
                    if ref in model_names and ref != constant and ref != effect:
                        gated.add((ref, effect))
    succ: dict[str, list[str]] = {}
    for a, b in struct.links:
        succ.setdefault(a, []).append(b)
    nodes: set[str] = set()
    links: set[tuple[str, str]] = set()
    for cause, effect in sorted(gated):
        path = _shortest_path(succ, effect, cause)
        if path is None:
            continue
        nodes.update(path)
        links.update(zip(path, path[1:]))
        links.add((cause, effect))
    if nodes:
        nodes.add(constant)
        links.update((constant, e) for e in effects if e in nodes)
    return nodes, links


def _products_with(ast: Any, name: str, ae) -> list[list[Any]]:
    """The other factors of every product in ``ast`` that has a plain reference to ``name``
    as a factor."""
    out: list[list[Any]] = []
    if isinstance(ast, ae.ArithmeticStructure):
        if ast.operators and set(ast.operators) <= {"*", "/"}:
            refs = [a for a in ast.arguments
                    if isinstance(a, ae.ReferenceStructure) and a.reference == name]
            if refs:
                out.append([a for a in ast.arguments if a not in refs])
        for arg in ast.arguments:
            out += _products_with(arg, name, ae)
    elif isinstance(ast, ae.CallStructure):
        for arg in ast.arguments:
            out += _products_with(arg, name, ae)
    elif dataclasses.is_dataclass(ast) and not isinstance(ast, type):
        for f in dataclasses.fields(ast):
            out += _products_with(getattr(ast, f.name), name, ae)
    elif isinstance(ast, (list, tuple)):
        for item in ast:
            out += _products_with(item, name, ae)
    return out


def _shortest_path(succ: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """Breadth-first shortest path ``start … goal`` (ties broken by name: deterministic)."""
    prev: dict[str, str | None] = {start: None}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        if node == goal:
            path = [node]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])
            return path[::-1]
        for nxt in sorted(succ.get(node, ())):
            if nxt not in prev:
                prev[nxt] = node
                todo.append(nxt)
    return None


# --------------------------------------------------------------------------------------------
# layout

@dataclass(frozen=True)
class Box:
    """A placed object of a view: centre ``(x, y)`` and half sizes ``(w, h)``.

    ``shape`` is ``stock``, ``aux`` (auxiliaries, constants, lookups, control), ``flow`` (the
    name under a valve), ``shadow`` (a variable of another view), ``valve`` or ``cloud``;
    ``name`` is the Python name (``""`` for a cloud; a valve carries its flow's name).
    """

    shape: str
    name: str
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Arrow:
    """A causal arrow (``kind="link"``) or a piece of a flow's pipe from its valve
    (``"pipe_in"``: arrowhead at ``end``, the stock or cloud the flow fills; ``"pipe_out"``: no
    arrowhead, the stock or cloud it drains). ``start`` and ``end`` index the view's boxes."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class View:
    """One view (one ``.mdl`` group): its title, placed boxes and arrows."""

    title: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    def box_of(self, name: str, shadow: bool = False) -> int | None:
        """Index of the box that draws variable ``name`` (its shadow with ``shadow``)."""
        wanted = ("shadow",) if shadow else ("stock", "aux", "flow")
        return next((i for i, b in enumerate(self.boxes) if b.name == name and b.shape in wanted),
                    None)


@dataclass(frozen=True)
class Layout:
    """The views of a model, and the view that draws each variable (its *home*)."""

    views: tuple[View, ...]
    home: dict[str, int]


def _half_width(text: str, cap: int) -> int:
    return max(22, min(cap, int(len(text) * 3.3) + 6))


def _view_of(struct: Structure, name: str) -> str:
    """The group whose view draws ``name``: a flow goes with the stock it fills (else the one it
    drains), so that its pipe can be drawn; every other variable with its own group."""
    flow = struct.flows.get(name)
    if flow is not None:
        return struct.variables[flow.sink or flow.source].group
    return struct.variables[name].group


def layout(struct: Structure) -> Layout:
    """Place the structure: one :class:`View` per group (see the module docstring). The result
    depends only on the structure (no randomness, no dict-order surprises)."""
    order = {n: i for i, n in enumerate(struct.variables)}
    in_view: dict[str, list[str]] = {g: [] for g in struct.groups}
    for name in struct.variables:
        in_view.setdefault(_view_of(struct, name), []).append(name)
    views, home = [], {}
    for group in [g for g in struct.groups if in_view.get(g)]:
        views.append(_layout_view(struct, group or "Model", in_view[group], order))
        for name in in_view[group]:
            home[name] = len(views) - 1
    return Layout(tuple(views), home)


def _stock_order(struct: Structure, stocks: list[str]) -> list[str]:
    """The view's stocks, each chain of stocks joined by flows kept together in flow order."""
    inside = set(stocks)
    nxt: dict[str, list[str]] = {s: [] for s in stocks}
    has_prev = set()
    for f in struct.flows.values():
        if f.source in inside and f.sink in inside:
            nxt[f.source].append(f.sink)
            has_prev.add(f.sink)
    out: list[str] = []
    seen: set[str] = set()

    def walk(s: str) -> None:
        if s in seen:
            return
        seen.add(s)
        out.append(s)
        for t in nxt[s]:
            walk(t)

    for s in stocks:
        if s not in has_prev:
            walk(s)
    for s in stocks:               # chains that are cycles
        walk(s)
    return out


def _stock_rows(struct: Structure, stocks: list[str]) -> list[list[str]]:
    """Rows of stock blocks: each chain of stocks joined by flows on a row of its own, in flow
    order (so that its pipes run along the row); single stocks :data:`_ROW_STOCKS` to a row."""
    inside = set(stocks)
    chain_of = {s: s for s in stocks}

    def root(s: str) -> str:
        while chain_of[s] != s:
            s = chain_of[s]
        return s

    for f in struct.flows.values():
        if f.source in inside and f.sink in inside:
            chain_of[root(f.sink)] = root(f.source)
    rows: list[list[str]] = []
    singles: list[str] = []
    chains: dict[str, list[str]] = {}
    for s in _stock_order(struct, stocks):
        chains.setdefault(root(s), []).append(s)
    for chain in chains.values():
        if len(chain) > 1:
            rows.append(chain)
        else:
            singles += chain
    rows += [singles[i:i + _ROW_STOCKS] for i in range(0, len(singles), _ROW_STOCKS)]
    return rows


def _layout_view(struct: Structure, title: str, names: list[str], order: dict[str, int]) -> View:
    boxes: list[Box] = []
    arrows: list[Arrow] = []
    index: dict[str, int] = {}
    here = set(names)

    def add(box: Box) -> int:
        boxes.append(box)
        return len(boxes) - 1

    stocks = _stock_order(struct, [n for n in names if struct.variables[n].kind == "stock"])
    left = {s: [f for f in struct.inflows(s) if f in here] for s in stocks}
    right = {s: [f for f in struct.outflows(s) if f in here or struct.flows[f].sink in here]
             for s in stocks}
    half = {s: max(20, 22 * max(len(left[s]), len(right[s]), 1)) for s in stocks}
    y_top = _MARGIN
    pipes: list[tuple[str, str, int]] = []   # (flow, stock it drains, slot y) to join later
    for row in _stock_rows(struct, stocks):
        h_row = max(half[s] for s in row)
        y = y_top + h_row + 20
        for c, s in enumerate(row):
            x = _MARGIN + 290 + c * _BLOCK_W
            name = struct.variables[s].vensim
            index[s] = add(Box("stock", s, x, y, max(50, _half_width(name, 60)), half[s]))
            for k, f in enumerate(left[s]):
                yk = y - half[s] + (2 * k + 1) * half[s] // len(left[s])
                valve = add(Box("valve", f, x - 150, yk, 6, 8))
                index[f] = add(Box("flow", f, x - 150, yk + 18,
                                   _half_width(struct.variables[f].vensim, 80), 8))
                arrows.append(Arrow("pipe_in", valve, index[s]))
                source = struct.flows[f].source
                if source in here:
                    pipes.append((f, source, valve))
                else:
                    cloud = add(Box("cloud", "", x - 255, yk, 10, 8))
                    arrows.append(Arrow("pipe_out", valve, cloud))
            outs = right[s]
            for k, f in enumerate(outs):
                if struct.flows[f].sink in here:
                    continue              # its valve sits at the sink's inflows
                yk = y - half[s] + (2 * k + 1) * half[s] // len(outs)
                valve = add(Box("valve", f, x + 150, yk, 6, 8))
                index[f] = add(Box("flow", f, x + 150, yk + 18,
                                   _half_width(struct.variables[f].vensim, 80), 8))
                cloud = add(Box("cloud", "", x + 255, yk, 10, 8))
                arrows.append(Arrow("pipe_in", valve, cloud))
                arrows.append(Arrow("pipe_out", valve, index[s]))
        y_top = y + h_row + _BLOCK_H
    for f, source, valve in pipes:
        arrows.append(Arrow("pipe_out", valve, index[source]))

    # the other variables: bands by causal distance from the view's stocks and flows
    rest = [n for n in names if n not in index]
    neighbours: dict[str, set[str]] = {n: set() for n in names}
    for a, b in struct.links:
        if a in here and b in here:
            neighbours[a].add(b)
            neighbours[b].add(a)
    dist = {n: 0 for n in index}
    todo = deque(sorted(index, key=order.get))
    while todo:
        n = todo.popleft()
        for m in sorted(neighbours[n], key=order.get):
            if m not in dist:
                dist[m] = dist[n] + 1
                todo.append(m)
    far = 1 + max(dist.values(), default=0)
    kind_rank = {"aux": 0, "lookup": 1, "constant": 2, "control": 3}
    rest.sort(key=lambda n: (dist.get(n, far), kind_rank.get(struct.variables[n].kind, 0),
                             order[n]))
    shadows = sorted({a for a, b in struct.links if b in here and a not in here
                      and not _piped(struct, a, b, here)}, key=order.get)
    y = y_top
    bands: list[list[tuple[str, str]]] = []
    for n in rest:
        band = dist.get(n, far)
        if not bands or bands[-1][0][0] != band:
            bands.append([])
        bands[-1].append((band, n))
    cells = [[("aux", n) for _, n in b] for b in bands] + ([[("shadow", n) for n in shadows]]
                                                          if shadows else [])
    width = max([b.x + b.w for b in boxes] + [_MARGIN + _GRID_COLS * _CELL_W])
    cols = max(_GRID_COLS, (width - _MARGIN) // _CELL_W)
    for band in cells:
        rows = (len(band) + cols - 1) // cols
        free = {(r, c) for r in range(rows) for c in range(cols)}
        wanted = []
        for shape, n in band:
            # the mean x of what it is linked to that is already placed (barycentre)
            xs = [boxes[index[m]].x for m in sorted(neighbours.get(n, ()), key=order.get)
                  if m in index]
            if shape == "shadow":
                xs = [boxes[index[b]].x for a, b in struct.links if a == n and b in index]
            centre = sum(xs) / len(xs) if xs else _MARGIN + (cols * _CELL_W) / 2
            wanted.append((centre, order[n], shape, n))
        for centre, _, shape, n in sorted(wanted):
            col = min(cols - 1, max(0, round((centre - _MARGIN - _CELL_W / 2) / _CELL_W)))
            r, c = min(free, key=lambda rc: (abs(rc[1] - col), rc[0], rc[1]))
            free.discard((r, c))
            x = _MARGIN + _CELL_W // 2 + c * _CELL_W
            index_key = n if shape == "aux" else ("shadow", n)
            box = add(Box(shape, n, x, y + r * _CELL_H + _CELL_H // 2,
                          _half_width(struct.variables[n].vensim, _CELL_W // 2 - 12), 14))
            index[index_key] = box  # type: ignore[index]
        y += rows * _CELL_H + _CELL_H // 2

    # causal arrows: every link into a variable of this view, from its box or its shadow
    for a, b in struct.links:
        if b not in here or _piped(struct, a, b, here):
            continue
        start = index.get(a) if a in here else index.get(("shadow", a))  # type: ignore[arg-type]
        arrows.append(Arrow("link", start, index[b]))
    return View(title, tuple(boxes), tuple(arrows))


def _piped(struct: Structure, cause: str, effect: str, here: set[str]) -> bool:
    """Whether link ``cause → effect`` is drawn as a flow's pipe in this view (a flow into or
    out of a stock, both drawn here) rather than as an arrow."""
    flow = struct.flows.get(cause)
    return flow is not None and cause in here and effect in here \
        and effect in (flow.source, flow.sink)


# --------------------------------------------------------------------------------------------
# Vensim's sketch format

def _sketch_name(vensim: str) -> str:
    """A name as the sketch writes it: quoted if a comma or quote would break the record."""
    if any(ch in vensim for ch in ',"|') and not (vensim.startswith('"') and vensim.endswith('"')):
        return '"' + vensim.replace('"', '\\"') + '"'
    return vensim


def sketch_text(struct: Structure, lay: Layout) -> str:
    """The sketch section of ``lay`` in Vensim's format, from the first ``\\\\\\---///`` line up
    to (not including) the closing ``///---\\\\\\`` marker; ends with a newline."""
    out: list[str] = []
    for view in lay.views:
        out.append(_VIEW_HEAD + f"*{view.title}\n" + _VIEW_STYLE + "\n")
        n = len(view.boxes)
        for i, b in enumerate(view.boxes, start=1):
            if b.shape == "cloud":
                out.append(f"12,{i},48,{b.x},{b.y},{b.w},{b.h},0,3,0,0,-1,0,0,0\n")
            elif b.shape == "valve":
                out.append(f"11,{i},48,{b.x},{b.y},{b.w},{b.h},34,3,0,0,1,0,0,0\n")
            else:
                name = _sketch_name(struct.variables[b.name].vensim)
                shape, bits, tpos = {"stock": (3, 3, 0), "aux": (8, 3, 0), "flow": (40, 3, -1),
                                     "shadow": (8, 2, -1)}[b.shape]
                out.append(f"10,{i},{name},{b.x},{b.y},{b.w},{b.h},{shape},{bits},0,0,{tpos},"
                           "0,0,0\n")
        for j, a in enumerate(view.arrows, start=n + 1):
            s, e = view.boxes[a.start], view.boxes[a.end]
            mx, my = (s.x + e.x) // 2, (s.y + e.y) // 2
            if a.kind == "link":
                out.append(f"1,{j},{a.start + 1},{a.end + 1},0,0,0,0,0,128,0,-1--1--1,,"
                           f"1|({mx},{my})|\n")
            else:
                shape = 4 if a.kind == "pipe_in" else 100
                out.append(f"1,{j},{a.start + 1},{a.end + 1},{shape},0,0,22,0,0,0,-1--1--1,,"
                           f"1|({mx},{my})|\n")
    return "".join(out)


_DEFAULT_TAIL = SKETCH_END + "\n:L<%^E!@\n9:Current\n15:0,0,0,0,0,0\n19:100,0\n"


def split_sketch(text: str) -> tuple[str, str, str]:
    """``(equations, sketch, tail)`` of a model file's text: the equations up to the sketch's
    first marker, the sketch up to its end marker, and the end marker with Vensim's settings
    after it ("" where the file has none)."""
    pos = text.find(SKETCH_START)
    if pos < 0:
        return text, "", ""
    end = text.find(SKETCH_END, pos)
    if end < 0:
        return text[:pos], text[pos:], ""
    return text[:pos], text[pos:end], text[end:]


def with_sketch(text: str, sketch: str) -> str:
    """``text`` (a model file) with its sketch replaced by ``sketch``; the equations, every
    byte of them, and Vensim's settings after the sketch are kept."""
    equations, _old, tail = split_sketch(text)
    if equations and not equations.endswith("\n"):
        equations += "\n"
    return equations + sketch + (tail or _DEFAULT_TAIL)


def drawn(mdl_file: str | Path) -> str:
    """The model file's text with the sketch this module draws for it."""
    mdl_file = Path(mdl_file)
    struct = structure(mdl_file)
    text = _read(mdl_file)
    return with_sketch(text, sketch_text(struct, layout(struct)))


def _read(mdl_file: Path) -> str:
    try:
        return mdl_file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SketchError(f"{mdl_file}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise SketchError(f"{mdl_file}: is not UTF-8 text") from None


def write(mdl_file: str | Path) -> bool:
    """Rewrite the sketch of ``mdl_file`` in place, atomically; True if the file changed."""
    from simulator.base.outputs import write_atomic
    mdl_file = Path(mdl_file)
    new = drawn(mdl_file)
    if new == _read(mdl_file):
        return False
    write_atomic(mdl_file, new.encode("utf-8"), error=SketchError)
    return True


def check(mdl_file: str | Path) -> bool:
    """True when ``mdl_file``'s sketch is exactly what :func:`write` would write."""
    mdl_file = Path(mdl_file)
    return drawn(mdl_file) == _read(mdl_file)


def iter_variables(view: View) -> Iterable[str]:
    """The variables a view draws as their own (not as shadows), in placing order."""
    return (b.name for b in view.boxes if b.shape in ("stock", "aux", "flow"))
