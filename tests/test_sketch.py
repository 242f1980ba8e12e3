"""The model's structure and its Vensim sketch (simulator/sd/sketch.py): the structure is the
abstract model's stocks and flows, the sketch parses with PySD's own sketch grammar and draws
every variable once, writing it changes no equation and not PySD's translation, ``sketch
--check`` holds the committed sketch to what the program draws; and the app's "model map" tab
renders in both languages."""
from __future__ import annotations

import itertools
import re
import shutil
import warnings
from pathlib import Path

import pytest

from simulator.plan import tables
from simulator.sd import sketch, translate

from helpers import cli

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODEL = tables.MODEL_FILE
SIR = HERE / "models" / "sir.mdl"


@pytest.fixture(scope="module")
def struct() -> sketch.Structure:
    return sketch.structure(MODEL)


@pytest.fixture(scope="module")
def lay(struct) -> sketch.Layout:
    return sketch.layout(struct)


def _abstract_equations(mdl: Path) -> list[tuple]:
    """Every element of PySD's abstract model: name, equations (the expression trees compare
    as dataclasses), units, limits, documentation."""
    section = translate.abstract_model(mdl).sections[0]
    return [(e.name, [(c.subscripts, c.ast, type(c).__name__) for c in e.components],
             e.units, e.limits, e.documentation) for e in section.elements]


# --------------------------------------------------------------------------------------------
# the structure

def test_structure_is_the_abstract_models_stocks_and_flows(struct):
    from pysd.translators.structures import abstract_expressions as ae
    section = translate.abstract_model(MODEL).sections[0]
    integ = {translate.python_name(e.name): e.components[0].ast for e in section.elements
             if isinstance(e.components[0].ast, ae.IntegStructure)}
    assert set(struct.stocks) == set(integ)
    assert set(struct.variables) == {translate.python_name(e.name) for e in section.elements}
    for stock, ast in integ.items():
        refs = sketch._references(ast.flow, set())
        # every flow piped into or out of a stock is read by its rate, with the right sign
        for f in struct.inflows(stock) + struct.outflows(stock):
            assert f in refs, (stock, f)
        for sign, term in sketch._rate_terms(ast.flow):
            if isinstance(term, ae.ReferenceStructure) and struct.variables[term.reference].kind == "flow":
                flow = struct.flows[term.reference]
                assert stock in ((flow.sink,) if sign > 0 else (flow.source,)) or \
                    (stock not in (flow.sink, flow.source)), (stock, term.reference)


def test_a_flow_between_two_stocks_and_a_unary_minus_on_the_sir_model():
    s = sketch.structure(SIR)
    assert s.stocks == ["susceptible", "infected", "recovered"]
    assert s.flows == {"infection": sketch.Flow("infection", "susceptible", "infected"),
                       "recovery": sketch.Flow("recovery", "infected", "recovered")}
    assert ("contact_rate", "infection") in s.links and ("infected", "infection") in s.links
    assert ("infection", "susceptible") in s.links
    assert s.variables["population"].kind == "constant"


def test_groups_come_from_the_mdl_headers(struct):
    assert struct.groups[0] == "Scenario assumptions" and "Policy levers" in struct.groups
    assert struct.variables["gdp"].group == "Economy"
    assert struct.variables["time_step"].kind == "control"
    assert all(v.group for v in struct.variables.values())


def test_a_cut_constant_selects_closed_cycles_through_the_links_it_gates(struct):
    from simulator.analysis import loops
    for lp in loops.load():
        for constant, _value in lp.cut:
            nodes, links = sketch.members_of_cut(struct, constant)
            assert constant in nodes, lp.id
            succ = {}
            for a, b in links:
                assert (a, b) in struct.links, (lp.id, a, b)
                succ.setdefault(a, set()).add(b)
            # every member other than the cut constant lies on a cycle made of these links
            for n in nodes - {constant}:
                seen, todo = set(), [n]
                while todo:
                    for m in succ.get(todo.pop(), ()):
                        if m not in seen:
                            seen.add(m)
                            todo.append(m)
                assert n in seen, (lp.id, n)


def test_a_constant_that_gates_no_cycle_selects_nothing_and_one_that_does_its_cycle():
    s = sketch.structure(SIR)
    # read only by initial values, in a sum: no product, no cycle
    assert sketch.members_of_cut(s, "initial_infected") == (set(), set())
    nodes, links = sketch.members_of_cut(s, "duration")   # recovery = Infected / duration
    assert nodes == {"duration", "recovery", "infected"}
    assert links == {("duration", "recovery"), ("infected", "recovery"), ("recovery", "infected")}


# --------------------------------------------------------------------------------------------
# the layout and the sketch

def test_every_variable_is_drawn_once_in_its_home_view(struct, lay):
    drawn = [n for v in lay.views for n in sketch.iter_variables(v)]
    assert sorted(drawn) == sorted(struct.variables)
    for name, i in lay.home.items():
        assert lay.views[i].box_of(name) is not None


def test_no_two_objects_of_a_view_overlap(lay):
    for view in lay.views:
        boxes = view.boxes
        for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
            if {a.shape, b.shape} == {"valve", "flow"} and a.name == b.name:
                continue  # a flow's name sits under its valve
            apart = (abs(a.x - b.x) >= a.w + b.w) or (abs(a.y - b.y) >= a.h + b.h)
            assert apart, (view.title, a, b)


def test_every_link_is_drawn_once_as_an_arrow_or_a_pipe(struct, lay):
    drawn = []
    for view in lay.views:
        for a in view.arrows:
            s, e = view.boxes[a.start], view.boxes[a.end]
            if a.kind == "link":
                drawn.append((s.name, e.name))
            elif e.shape == "stock":
                drawn.append((s.name, e.name))   # the valve carries its flow's name
    assert sorted(drawn) == sorted(struct.links)


def test_the_layout_is_deterministic(struct, lay):
    assert sketch.layout(sketch.structure(MODEL)) == lay


def test_the_committed_sketch_parses_with_pysds_grammar_and_names_every_variable(struct):
    from pysd.translators.vensim import vensim_utils as vu
    from pysd.translators.vensim.vensim_file import SketchVisitor, VensimFile
    vfile = VensimFile(str(MODEL))
    grammar = vu.Grammar.get("sketch")
    own, views = [], []
    for module in vfile.sketch.split("\\\\\\---/// "):
        for line in module.strip().split("\n"):
            parsed = SketchVisitor(grammar.parse(line))   # raises on a line it cannot parse
            if parsed.view_name:
                views.append(parsed.view_name)
            elif parsed.variable_name:
                own.append(parsed.variable_name)
    assert len(views) == len([g for g in struct.groups])
    expected = sorted(v.vensim.replace(" ", "_").lower() for v in struct.variables.values())
    assert sorted(own) == expected          # each variable once (shadows are not counted)
    text = MODEL.read_text(encoding="utf-8")
    kinds = {line.split(",", 1)[0] for line in sketch.split_sketch(text)[1].splitlines()
             if re.match(r"^\d+,", line)}
    assert kinds == {"1", "10", "11", "12"}


def test_writing_the_sketch_changes_no_equation(tmp_path):
    """The equations of the committed model with its sketch and with no sketch at all are the
    same, element by element, expression tree by expression tree."""
    text = MODEL.read_text(encoding="utf-8")
    bare = tmp_path / "bare.mdl"
    bare.write_text(sketch.split_sketch(text)[0], encoding="utf-8")
    assert _abstract_equations(bare) == _abstract_equations(MODEL)
    assert sketch.split_sketch(sketch.drawn(MODEL))[0] == sketch.split_sketch(text)[0]


def test_pysd_translates_the_model_identically_without_its_sketch(tmp_path):
    text = MODEL.read_text(encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.mdl").write_text(text, encoding="utf-8")
    (tmp_path / "b" / "m.mdl").write_text(sketch.split_sketch(text)[0], encoding="utf-8")
    pysd = translate._pysd()
    outs = []
    for d in ("a", "b"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            pysd.read_vensim(str(tmp_path / d / "m.mdl"), initialize=False)
        outs.append((tmp_path / d / "m.py").read_text(encoding="utf-8"))
    assert outs[0] == outs[1]


def test_a_model_without_a_sketch_gets_one_and_vensims_settings_are_kept(tmp_path):
    model = tmp_path / "sir.mdl"
    shutil.copy(SIR, model)
    assert not sketch.check(model)
    assert sketch.write(model)
    text = model.read_text(encoding="utf-8")
    assert sketch.check(model) and not sketch.write(model)
    assert text.startswith(SIR.read_text(encoding="utf-8").split(sketch.SKETCH_START)[0])
    assert "10,1,Susceptible," in text and sketch.SKETCH_END in text
    tail = sketch.split_sketch(MODEL.read_text(encoding="utf-8"))[2]
    assert tail.startswith(sketch.SKETCH_END) and "5:rd intensity" in tail


# --------------------------------------------------------------------------------------------
# the command

def test_sketch_check_passes_on_the_committed_model():
    r = cli("sketch", "--check", cwd=REPO)
    assert r.returncode == 0, r.stderr


def test_sketch_check_fails_on_a_perturbed_copy_and_sketch_repairs_it(tmp_path):
    model = tmp_path / "m.mdl"
    text = MODEL.read_text(encoding="utf-8")
    moved = re.sub(r"^(10,1,[^,]+,)(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 7),
                   text, count=1, flags=re.M)
    assert moved != text
    model.write_text(moved, encoding="utf-8")
    r = cli("sketch", "--check", "--model", model, cwd=tmp_path)
    assert r.returncode == 1 and "differs" in r.stderr
    assert model.read_text(encoding="utf-8") == moved       # --check writes nothing
    r = cli("sketch", "--model", model, cwd=tmp_path)
    assert r.returncode == 0 and "wrote" in r.stdout
    assert model.read_text(encoding="utf-8") == text
    # a new equation changes the structure: the committed sketch is then out of date
    model.write_text(text.replace("SAVEPER = 1", "extra = 2\n\t~\tDmnl\n\t~\t\n\t|\n\nSAVEPER = 1"),
                     encoding="utf-8")
    assert cli("sketch", "--check", "--model", model, cwd=tmp_path).returncode == 1


def test_sketch_of_a_missing_file_is_one_line(tmp_path):
    r = cli("sketch", "--model", tmp_path / "none.mdl", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "none.mdl" in r.stderr


def test_names_that_python_spells_differently_keep_their_flows_and_links(tmp_path):
    """PySD's equations spell ``"R&D stock"`` as ``"r&d_stock"``, its Python name is
    ``rd_stock``: the structure maps one to the other (as the engine does), so no flow or link
    of such a variable is lost."""
    text = SIR.read_text(encoding="utf-8")
    text = text.replace("infection - recovery", '"R&D-inflow" - recovery', 1).replace(
        "infection = contact rate", '"R&D-inflow" = contact rate', 1).replace(
        "INTEG(-infection,", 'INTEG(-"R&D-inflow",', 1)
    mdl = tmp_path / "names.mdl"
    mdl.write_text(text, encoding="utf-8")
    flow = translate.python_name("R&D-inflow")
    assert flow != "r&d-inflow"  # the two spellings differ: the case this test is about
    s = sketch.structure(mdl)
    assert s.flows[flow] == sketch.Flow(flow, "susceptible", "infected")
    assert {("contact_rate", flow), ("infected", flow), (flow, "susceptible")} <= set(s.links)
