"""The public entry points carry numpy-style docstrings that name every parameter.

The list: every callable in ``simulator.__all__`` (with the public methods of its classes) plus
the main entry points of ``simulator.sd``, ``simulator.plan`` and ``simulator.analysis`` written
out below. For each, the docstring must exist and open with a one-line summary followed by a
blank line (or end there); a ``Parameters`` section must name every parameter of its signature
(``self``, ``cls``, ``*args`` and ``**kwargs`` aside; a class's are its constructor's, an
exception class needs only its summary); and a ``Returns`` (or ``Yields``) section must be there
unless the function returns nothing. A small parser reads the sections; the
self-tests at the end feed it bad docstrings so that the check can fail.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap

import pytest

import simulator

#: Entry points outside ``simulator.__all__``: module path, then dotted attribute.
ENTRY_POINTS = [
    ("simulator.sd.engine", "engine_for"),
    ("simulator.sd.engine", "Engine"),
    ("simulator.sd.engine", "Engine.run"),
    ("simulator.plan.tables", "read_csv"),
    ("simulator.plan.tables", "levers"),
    ("simulator.plan.tables", "assumptions"),
    ("simulator.plan.tables", "indicators"),
    ("simulator.plan.tables", "targets"),
    ("simulator.plan.tables", "lever"),
    ("simulator.plan.tables", "indicator"),
    ("simulator.plan.scenario", "load"),
    ("simulator.plan.scenario", "loads"),
    ("simulator.plan.scenario", "default"),
    ("simulator.plan.goals", "scorecard"),
    ("simulator.plan.goals", "compare"),
    ("simulator.plan.goals", "cagr"),
    ("simulator.plan.actuals", "load"),
    ("simulator.plan.actuals", "loads"),
    ("simulator.plan.calibrated", "read"),
    ("simulator.plan.calibrated", "parameters"),
    ("simulator.analysis.calibration", "calibrate"),
    ("simulator.analysis.conditioning", "condition"),
    ("simulator.analysis.uncertainty", "run"),
    ("simulator.analysis.uncertainty", "sample"),
    ("simulator.analysis.uncertainty", "load_spec"),
    ("simulator.analysis.uncertainty", "probability_of_targets"),
    ("simulator.analysis.uncertainty", "UncertaintyResult.bands"),
    ("simulator.analysis.uncertainty", "UncertaintyResult.probabilities"),
    ("simulator.analysis.uncertainty", "UncertaintyResult.target_values"),
    ("simulator.analysis.sensitivity", "inputs_for"),
    ("simulator.analysis.sensitivity", "SensitivityResult.ranking"),
    ("simulator.analysis.sensitivity", "SensitivityResult.top"),
    ("simulator.analysis.solver", "select_targets"),
    ("simulator.analysis.milestones", "select_goals"),
    ("simulator.analysis.hindcast", "Hindcast.points_frame"),
    ("simulator.analysis.hindcast", "Hindcast.scores_frame"),
    ("simulator.analysis.sensitivity", "morris"),
    ("simulator.analysis.sensitivity", "sobol"),
    ("simulator.analysis.sensitivity", "swings"),
    ("simulator.analysis.solver", "solve"),
    ("simulator.analysis.milestones", "milestones"),
    ("simulator.analysis.hindcast", "hindcast"),
    ("simulator.analysis.hindcast", "recalibrate"),
    ("simulator.analysis.loops", "knockout"),
    ("simulator.analysis.loops", "load"),
    ("simulator.analysis.plausibility", "load"),
    ("simulator.analysis.plausibility", "evaluate"),
    ("simulator.analysis.budget", "summarise"),
    ("simulator.analysis.budget", "of_scenario"),
    ("simulator.analysis.drivers", "lever_effects"),
    ("simulator.analysis.validation", "run_all"),
    ("simulator.analysis.validation", "report"),
]

SKIPPED_PARAMS = {"self", "cls"}
SECTION_RE = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n-{3,}$", re.M)


def public_entry_points() -> list[tuple[str, object]]:
    """(name, object) for every entry point the rule covers."""
    found = []
    for name in simulator.__all__:
        obj = getattr(simulator, name)
        if inspect.ismodule(obj):
            continue
        found.append((f"simulator.{name}", obj))
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for meth_name, meth in vars(obj).items():
                if not meth_name.startswith("_") and inspect.isfunction(meth):
                    found.append((f"simulator.{name}.{meth_name}", meth))
    for module_name, attr in ENTRY_POINTS:
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        found.append((f"{module_name}.{attr}", obj))
    return found


def sections(doc: str) -> dict[str, str]:
    """Split a cleaned docstring into its numpy-style sections, by title."""
    marks = list(SECTION_RE.finditer(doc))
    out = {"": doc[:marks[0].start()] if marks else doc}
    for here, after in zip(marks, marks[1:] + [None]):
        out[here["title"].strip()] = doc[here.end():after.start() if after else len(doc)]
    return out


def documented_names(section: str) -> set[str]:
    """Parameter names of a ``Parameters`` section: ``name : type`` lines (or a bare ``name``)
    at the section's own indentation; ``a, b : type`` documents both."""
    names = set()
    for line in section.splitlines():
        if not line.strip() or line[:1].isspace():
            continue
        head = line.split(" : ")[0]
        names.update(n.strip().lstrip("*") for n in head.split(","))
    return names


def signature_names(obj) -> list[str]:
    """The parameters a caller passes, ``self``/``cls``/``*args``/``**kwargs`` left out (none
    for an exception class: its message is the one argument and needs no section)."""
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return []
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values() if p.name not in SKIPPED_PARAMS
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def gives_back(func) -> str | None:
    """"Yields" for a generator, "Returns" if the body returns a value, else None."""
    if inspect.isclass(func):
        return None
    func = inspect.unwrap(func)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    body = tree.body[0]
    stack, kind = list(body.body), None
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # a nested function's returns are its own
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return "Yields"
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            kind = "Returns"
        stack.extend(ast.iter_child_nodes(node))
    return kind


def problems(obj) -> list[str]:
    """What is wrong with ``obj``'s docstring under the rule; empty when nothing."""
    if inspect.isclass(obj):  # a class's own docstring, not one inherited or made by dataclass
        doc = obj.__dict__.get("__doc__")
        if doc and doc.startswith(obj.__name__ + "("):
            doc = None
        doc = inspect.cleandoc(doc) if doc else None
    else:
        doc = inspect.getdoc(obj)
    if not doc or not doc.strip():
        return ["no docstring"]
    lines = doc.splitlines()
    found = []
    if not lines[0].strip() or (len(lines) > 1 and lines[1].strip()):
        found.append("does not open with a one-line summary and a blank line")
    parts = sections(doc)
    wanted = signature_names(obj)
    if wanted:
        if "Parameters" not in parts:
            found.append(f"no Parameters section (parameters: {', '.join(wanted)})")
        else:
            missing = [n for n in wanted if n not in documented_names(parts["Parameters"])]
            if missing:
                found.append(f"Parameters does not name {', '.join(missing)}")
    kind = gives_back(obj)
    if kind == "Yields" and "Yields" not in parts:
        found.append("no Yields section")
    elif kind == "Returns" and "Returns" not in parts and "Yields" not in parts:
        found.append("no Returns section")
    return found


ENTRIES = public_entry_points()


@pytest.mark.parametrize("name, obj", ENTRIES, ids=[name for name, _ in ENTRIES])
def test_entry_point_docstring(name, obj):
    assert problems(obj) == [], f"{name}: {'; '.join(problems(obj))}"


def test_the_list_covers_the_public_api():
    names = {name for name, _ in ENTRIES}
    for expected in ("simulator.Model", "simulator.Model.run", "simulator.load_scenario",
                     "simulator.scorecard", "simulator.engine_for",
                     "simulator.sd.engine.Engine.run", "simulator.analysis.solver.solve"):
        assert expected in names


# --- the checker itself can fail --------------------------------------------------------------

def _bad_summary(a, b=1):
    """This summary runs on
    to a second line.

    Parameters
    ----------
    a : int
        First.
    b : int, default 1
        Second.

    Returns
    -------
    int
    """
    return a + b


def _missing_parameter(a, b, *args, c=0, **kwargs):
    """Add numbers.

    Parameters
    ----------
    a, b : int
        The first two.

    Returns
    -------
    int
    """
    return a + b + c


def _missing_returns(a):
    """Double ``a``.

    Parameters
    ----------
    a : float
        A number.
    """
    return 2 * a


def _generator(n):
    """Count up.

    Parameters
    ----------
    n : int
        How far.

    Returns
    -------
    int
    """
    yield from range(n)


def _returns_nothing(path):
    """Touch ``path``.

    Parameters
    ----------
    path : str
        Where.
    """
    if not path:
        return
    return None


def _good(a, *, b=None):
    """Add.

    Parameters
    ----------
    a : int
        First.
    b : int, optional
        Second; default 0.

    Returns
    -------
    int
        The sum.
    """
    def inner():
        return 1
    return a + (b or 0) + 0 * inner()


def _undocumented(a):
    return a


class _Undocumented:
    def __init__(self, a):
        self.a = a


class _ClassWithoutParameters:
    """A thing made from ``a``."""

    def __init__(self, a):
        self.a = a


class _Error(ValueError):
    """A mistake, named in one line."""


@pytest.mark.parametrize("func, expected", [
    (_bad_summary, ["does not open with a one-line summary and a blank line"]),
    (_missing_parameter, ["Parameters does not name c"]),
    (_missing_returns, ["no Returns section"]),
    (_generator, ["no Yields section"]),
    (_returns_nothing, []),
    (_good, []),
    (_undocumented, ["no docstring"]),
    (_Undocumented, ["no docstring"]),
    (_ClassWithoutParameters, ["no Parameters section (parameters: a)"]),
    (_Error, []),
], ids=["two-line-summary", "missing-parameter", "missing-returns", "generator", "returns-none",
        "good", "undocumented", "undocumented-class", "class-without-parameters",
        "exception-needs-summary-only"])
def test_checker_on_known_docstrings(func, expected):
    assert problems(func) == expected
