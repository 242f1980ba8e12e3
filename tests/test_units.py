"""Dimensional consistency of the model's equations (simulator/sd/units.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.plan import tables
from simulator.sd import units

HERE = Path(__file__).resolve().parent
WRONG_MODEL = HERE / "models" / "invalid" / "units_errors.mdl"

#: Equations known to be dimensionally inconsistent (none: fix the model, don't list here).
KNOWN_PROBLEMS: dict[str, str] = {}

#: Variables of tests/models/invalid/units_errors.mdl that are wrong on purpose (see their comments).
WRONG = {"Bad Flow Stock", "mixed sum", "grown", "bad exp", "bad power", "smoothed",
         "wrong declared", "bad branches", "noise", "no units"}


def _equation_count(mdl_file: Path) -> int:
    """Equations in a .mdl file, counted from its text (not through PySD)."""
    text = mdl_file.read_text(encoding="utf-8").split("\\\\\\---///")[0]
    return sum(1 for chunk in text.split("|") if "~" in chunk and "=" in chunk.split("~")[0])


@pytest.fixture(scope="module")
def report() -> units.UnitReport:
    return units.run(tables.MODEL_FILE)


@pytest.fixture(scope="module")
def wrong() -> units.UnitReport:
    return units.run(WRONG_MODEL)


def test_project_model_has_only_the_known_problems(report):
    found = {p.variable: p.expression for p in report.problems}
    assert found == KNOWN_PROBLEMS, "\n".join(map(str, report.problems))


def test_every_equation_of_the_project_model_is_checked(report):
    assert report.checked == _equation_count(tables.MODEL_FILE) == units.checked_count(tables.MODEL_FILE)
    assert report.checked > 300


def test_model_units_are_parsed_with_the_model_own_names(report):
    assert {"CNY100m", "CNY10k", "10k persons", "TM10k", "%", "Dmnl", "Year", "firms",
            "patents", "platforms", "projects"} <= set(report.unit_names)


def test_a_deliberately_wrong_model_yields_a_problem_per_wrong_variable(wrong):
    assert {p.variable for p in wrong.problems} == WRONG
    assert len(wrong.problems) == len(WRONG)
    assert wrong.checked == _equation_count(WRONG_MODEL)
    by_var = {p.variable: p for p in wrong.problems}
    assert by_var["mixed sum"].expression == "Stock + staff"
    assert "persons" in by_var["mixed sum"].message and "widgets" in by_var["mixed sum"].message
    assert "0.01" in by_var["grown"].message and "/ 100" in by_var["grown"].message
    assert "widgets/Week" in by_var["Bad Flow Stock"].message
    assert by_var["wrong declared"].declared == "widgets"
    assert by_var["wrong declared"].inferred == "persons"
    assert "not supported" in by_var["noise"].message
    for p in wrong.problems:
        assert str(p).startswith(f"{p.variable} [")


def test_percent_and_fraction_scales_are_checked(tmp_path):
    """Dropping the / 100 that turns a % into a fraction is a scale problem of 0.01."""
    text = tables.MODEL_FILE.read_text(encoding="utf-8")
    assert text.count("Trend GDP * nominal gdp growth / 100") == 1
    mutated = tmp_path / "mutated.mdl"
    mutated.write_text(text.replace("Trend GDP * nominal gdp growth / 100",
                                    "Trend GDP * nominal gdp growth"), encoding="utf-8")
    problems = [p for p in units.check(mutated) if p.variable not in KNOWN_PROBLEMS]
    assert [p.variable for p in problems] == ["trend gdp increase"]
    assert "0.01" in problems[0].message


@pytest.mark.parametrize("name", ["sir.mdl", "goal_seeking.mdl", "delays_smooth_lookup.mdl"])
def test_other_test_models_are_consistent(name):
    assert units.check(HERE / "models" / name) == []


def test_command_line_lists_problems_and_fails(capsys):
    assert units.main([str(WRONG_MODEL)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"31 equations checked, 10 problem", out)
    assert units.main([str(HERE / "models" / "sir.mdl")]) == 0
