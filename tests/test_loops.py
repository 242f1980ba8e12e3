"""Loop knock-out (simulator/analysis/loops.py): the strict loop table, the effects it computes (checked on
a toy model against an Euler integration written here), the driver rule, its Markdown, the
``loops`` command and the validation checks that keep the README honest."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.analysis import loops, validation
from simulator.model import engine_for

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
TOY = Path(__file__).resolve().parent / "models" / "loops_toy.mdl"
HEADER = "id,type,name_zh,name_en,path_zh,path_en,cut\n"
GOOD = "R9,reinforcing,甲,alpha,甲 → 乙,a → b,pledge_rd_share=0\n"
RTOL = 1e-9


# --------------------------------------------------------------------------------------------
# Reading the loop table

def test_the_committed_loop_table_loads():
    table = loops.load()
    assert len(table) >= 1
    assert len({lp.id for lp in table}) == len(table)
    assert all(lp.type in loops.TYPES and lp.cut for lp in table)


def test_a_good_row_is_read_with_its_assignments():
    lp, = loops.loads(HEADER + "R9,balancing,甲,alpha,甲 → 乙,a → b,"
                      "talent_elasticity=0; talent_patent_elasticity = 0.1\n", "t.csv")
    assert lp.id == "R9" and lp.type == "balancing" and lp.path_en == "a → b"
    assert lp.cut == (("talent_elasticity", 0.0), ("talent_patent_elasticity", 0.1))


BAD = [
    ("header", "id,type,name\nR9,reinforcing,x\n", "line 1: header"),
    ("no-rows", HEADER, "no loops"),
    ("empty-file", "", "empty file"),
    ("field-count", HEADER + "R9,reinforcing,甲,alpha,a,b\n", "line 2: 6 fields; allowed 7"),
    ("bad-id", HEADER + GOOD.replace("R9", "R 9"), "line 2, field 'id': value 'R 9'"),
    ("reserved-id", HEADER + GOOD.replace("R9", "all"), "field 'id': value 'all'"),
    ("duplicate-id", HEADER + GOOD + GOOD.replace("pledge_rd_share=0", "talent_elasticity=0"),
     "line 3, field 'id': value 'R9' is already used on line 2"),
    ("bad-type", HEADER + GOOD.replace("reinforcing", "positive"),
     "line 2 (loop R9), field 'type': value 'positive' is not allowed; allowed reinforcing or "
     "balancing"),
    ("empty-name", HEADER + GOOD.replace("alpha", ""), "field 'name_en': empty"),
    ("pipe-in-path", HEADER + GOOD.replace("a → b", "a | b"), "field 'path_en': value"),
    ("control-char", HEADER + GOOD.replace("alpha", "al\u202epha"), "U+202E"),
    ("empty-cut", HEADER + GOOD.replace("pledge_rd_share=0", ""), "field 'cut': empty"),
    ("not-assignment", HEADER + GOOD.replace("pledge_rd_share=0", "pledge_rd_share"),
     "field 'cut': value 'pledge_rd_share' is not an assignment"),
    ("unknown-constant", HEADER + GOOD.replace("pledge_rd_share", "pledge_share"),
     "value 'pledge_share' is not a constant of guangyuan_innovation.mdl (did you mean "
     "'pledge_rd_share'?)"),
    ("not-a-constant", HEADER + GOOD.replace("pledge_rd_share", "rd_spending"),
     "value 'rd_spending' is not a constant"),
    ("control-variable", HEADER + GOOD.replace("pledge_rd_share=0", "time_step=0.5"),
     "value 'time_step' is not a constant"),
    ("not-a-number", HEADER + GOOD.replace("=0", "=zero"), "value 'zero' for pledge_rd_share "
     "is not a number"),
    ("nan", HEADER + GOOD.replace("=0", "=nan"), "value 'nan' for pledge_rd_share is not a number"),
    ("out-of-range", HEADER + GOOD.replace("pledge_rd_share=0", "premium_knowledge_elasticity=0"),
     "value 0 for premium_knowledge_elasticity is outside its documented range; allowed [0.3, 2]"),
    ("above-switch-range", HEADER + GOOD.replace("=0", "=1.5"),
     "value 1.5 for pledge_rd_share is outside its documented range; allowed [0, 1]"),
    ("no-change", HEADER + GOOD.replace("=0", "=0.3"),
     "value 0.3 for pledge_rd_share is the model's own value, so it cuts nothing"),
    ("twice", HEADER + GOOD.replace("=0", "=0;pledge_rd_share=0.1"),
     "constant pledge_rd_share is set twice"),
    ("conflict", HEADER + GOOD + GOOD.replace("R9", "R8").replace("=0", "=0.1"),
     "line 3 (loop R8), field 'cut': pledge_rd_share=0.1 conflicts with pledge_rd_share=0 of "
     "loop R9"),
]


@pytest.mark.parametrize("text, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_loop_table_is_refused_in_one_line_naming_file_line_field_and_value(text, message):
    with pytest.raises(loops.LoopError) as err:
        loops.loads(text, "bad.csv")
    assert str(err.value).startswith("bad.csv: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_loop_file_is_refused_naming_it(tmp_path):
    with pytest.raises(loops.LoopError, match="nope.csv: file not found"):
        loops.load(tmp_path / "nope.csv")


# --------------------------------------------------------------------------------------------
# The knock-out on a toy model with two switched loops, against an Euler integration written here

TOY_LOOPS = (
    loops.Loop("R", "reinforcing", "增长", "growth", "存量 → 流入 → 存量", "stock → inflow → stock",
               (("growth_switch", 0.0),)),
    loops.Loop("B", "balancing", "流出", "drain", "存量 → 流出 → 存量", "stock → outflow → stock",
               (("drain_switch", 0.0),)),
)
TOY_MEASURES = (loops.Measure("stock", "stock", False, "stock"),
                loops.Measure("stock_growth", "stock_growth", True, "stock growth"))


def euler(growth_switch: float, drain_switch: float) -> dict[int, float]:
    """The toy's stock at every year end, integrated by hand (TIME STEP 0.25, as its .mdl)."""
    base, growth, drain, s0, dt = 10.0, 0.08, 0.05, 100.0, 0.25
    stock, out = s0, {2020: s0}
    for k in range(1, 15 * 4 + 1):
        inflow = base + growth_switch * growth * stock
        outflow = drain * (drain_switch * stock + (1 - drain_switch) * s0)
        stock += dt * (inflow - outflow)
        if k % 4 == 0:
            out[2020 + k // 4] = stock
    return out


def growth(stock: float, year: int) -> float:
    return ((stock / 100.0) ** (1 / (year - 2020)) - 1) * 100


@pytest.fixture(scope="module")
def toy():
    return loops.knockout({}, TOY_LOOPS, (2025, 2035), mdl_file=TOY, indicators=TOY_MEASURES)


CASES = [("R", 0.0, 1.0), ("B", 1.0, 0.0), ("all", 0.0, 0.0)]


@pytest.mark.parametrize("loop_id, gs, ds", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("year", [2025, 2035], ids=["2025", "2035"])
def test_toy_knockout_equals_the_hand_integration(toy, loop_id, gs, ds, year):
    full, cut = euler(1.0, 1.0)[year], euler(gs, ds)[year]
    row = toy.table[(toy.table["loop"] == loop_id) & (toy.table["year"] == year)]
    level = row[row["indicator"] == "stock"].iloc[0]
    assert level["full"] == pytest.approx(full, rel=RTOL)
    assert level["cut"] == pytest.approx(cut, rel=RTOL)
    assert level["effect"] == pytest.approx((cut - full) / full * 100, rel=1e-7)
    assert level["effect_unit"] == "%"
    rate = row[row["indicator"] == "stock_growth"].iloc[0]
    assert rate["effect"] == pytest.approx(growth(cut, year) - growth(full, year), rel=1e-7)
    assert rate["effect_unit"] == "pp"


@pytest.mark.parametrize("loop_id, gs, ds", CASES, ids=[c[0] for c in CASES])
def test_toy_knockout_equals_separate_runs_with_the_constants_set(toy, loop_id, gs, ds):
    res = engine_for(TOY).run({"growth_switch": gs, "drain_switch": ds}, variables=["stock"])
    want = res["stock"][np.isclose(res.times, 2035)][0]
    row = toy.table[(toy.table["loop"] == loop_id) & (toy.table["indicator"] == "stock")
                    & (toy.table["year"] == 2035)]
    assert row["cut"].iloc[0] == pytest.approx(want, rel=RTOL)


def test_toy_effects_have_the_signs_of_their_loops(toy):
    # cutting the reinforcing loop lowers the stock; cutting the drain's feedback lets it grow
    assert toy.largest("R") > 1 and toy.summary.set_index("loop").loc["R", "effect"] < 0
    assert toy.summary.set_index("loop").loc["B", "effect"] > 0
    assert list(toy.summary["loop"]) == ["R", "B", "all"]


def test_toy_summary_names_the_largest_effect(toy):
    for loop_id in ("R", "B", "all"):
        part = toy.table[toy.table["loop"] == loop_id]
        best = part.loc[part["effect"].abs().idxmax()]
        row = toy.summary.set_index("loop").loc[loop_id]
        assert (row["indicator"], row["year"]) == (best["indicator"], best["year"])
        assert row["effect"] == best["effect"]


def test_knockout_refuses_years_outside_the_model():
    with pytest.raises(ValueError, match=r"years: \[2040\] not allowed; allowed years from 2020 "
                       "to 2035"):
        loops.knockout({}, TOY_LOOPS, (2025, 2040), mdl_file=TOY, indicators=TOY_MEASURES)


# --------------------------------------------------------------------------------------------
# The driver rule

def _table(effects: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(k, f"x{i}", 2035, 100.0, 100.0 + e, e, "%") for k, es in effects.items()
            for i, e in enumerate(es)]
    return pd.DataFrame(rows, columns=["loop", "indicator", "year", "full", "cut", "effect",
                                       "effect_unit"])


def _loop(loop_id):
    return loops.Loop(loop_id, "reinforcing", "甲", loop_id, "p", "p", (("c", 0.0),))


DRIVER = [("below", [0.3, -0.99], False), ("at-threshold", [0.2, 1.0], True),
          ("negative", [-1.2, 0.5], True), ("undefined", [math.nan, math.nan], False),
          ("nan-and-small", [math.nan, 0.4], False)]


@pytest.mark.parametrize("effects, driver", [d[1:] for d in DRIVER], ids=[d[0] for d in DRIVER])
def test_a_loop_is_a_driver_from_one_percent_on_some_indicator(effects, driver):
    summary = loops._summary(_table({"L": effects, "all": effects}), [_loop("L")],
                             loops.DRIVER_THRESHOLD)
    assert bool(summary.set_index("loop").loc["L", "driver"]) is driver


def test_the_threshold_is_a_module_constant_of_one_percent(toy):
    assert loops.DRIVER_THRESHOLD == 1.0
    higher = loops.knockout({}, TOY_LOOPS, (2025, 2035), mdl_file=TOY, indicators=TOY_MEASURES,
                            threshold=toy.largest("B") + 0.01)
    assert toy.driver("B") and not higher.driver("B")


def test_effect_of_a_zero_level_is_undefined_unless_the_cut_is_zero_too():
    out = loops._effect(np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.0, 1.0]), growth=False)
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == pytest.approx(-50)


# --------------------------------------------------------------------------------------------
# Presentation and the README

def test_markdown_format(toy):
    names = {"stock": "stock", "stock_growth": "stock growth"}
    s = toy.summary.set_index("loop")
    expected = (
        "| 回路 loop | 类型 type | 路径 path | 切断后最大影响 largest effect of cutting it "
        "(2025 and 2035) | 主导 driver (≥ 1 %) |\n"
        "|---|---|---|---|---|\n"
        f"| R 增长 growth | reinforcing | stock → inflow → stock | stock "
        f"{loops.format_effect(s.loc['R', 'effect'], '%')} (2035) | yes |\n"
        f"| B 流出 drain | balancing | stock → outflow → stock | stock "
        f"{loops.format_effect(s.loc['B', 'effect'], '%')} (2035) | yes |\n"
        f"| 全部回路同时切断 all loops cut together | — | every loop above cut at once | stock "
        f"{loops.format_effect(s.loc['all', 'effect'], '%')} (2035) | — |\n"
        "\nEvery loop moves some indicator by 1 % or more by 2035.\n")
    assert loops.markdown(toy, names) == expected


def test_markdown_names_the_loops_that_are_not_drivers():
    table = _table({"L": [5.0], "M": [0.2], "all": [5.1]})
    summary = loops._summary(table, [_loop("L"), _loop("M")], 1.0)
    ko = loops.KnockOut("s", (_loop("L"), _loop("M")), (2035,), table, summary)
    text = loops.markdown(ko, {"x0": "thing"})
    assert "| L 甲 L | reinforcing | p | thing +5.0 % (2035) | yes |" in text
    assert "| M 甲 M | reinforcing | p | thing +0.2 % (2035) | no |" in text
    assert text.endswith("Not drivers (cutting them moves no indicator by 1 % or more by 2035): "
                         "M M.\n")
    assert loops.readme_drivers(f"x\n{loops.README_START}\n{text}{loops.README_END}\n") == {
        "L": True, "M": False}


def test_format_effect():
    assert loops.format_effect(-3.21, "%") == "−3.2 %"
    assert loops.format_effect(0.44, "pp") == "+0.4 pp"
    assert loops.format_effect(math.nan, "%") == "—"


def test_replace_block_and_missing_markers():
    text = f"a\n{loops.README_START}\nold\n{loops.README_END}\nb\n"
    assert loops.replace_block(text, "new\n") == (
        f"a\n{loops.README_START}\nnew\n{loops.README_END}\nb\n")
    with pytest.raises(ValueError, match="README.md: needs exactly one"):
        loops.readme_block("no markers")
    with pytest.raises(ValueError, match="needs exactly one"):
        loops.readme_block(text + text)


@pytest.fixture(scope="module")
def plan_knockout():
    return loops.knockout()


def test_readme_loop_table_is_the_commands_output(plan_knockout):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert loops.readme_block(readme) == loops.markdown(plan_knockout)


def test_the_plan_knockout_covers_every_loop_and_indicator(plan_knockout):
    ids = [lp.id for lp in loops.load()]
    assert list(plan_knockout.summary["loop"]) == [*ids, loops.ALL_CUT]
    assert len(plan_knockout.table) == (len(ids) + 1) * len(loops.measures()) * 2
    assert plan_knockout.table[["full", "cut"]].notna().all().all()
    growth_rows = plan_knockout.table[plan_knockout.table["indicator"] == "rd_spending_growth"]
    assert set(growth_rows["effect_unit"]) == {"pp"}


# --------------------------------------------------------------------------------------------
# Validation: the README's drivers against the model

def _readme_claiming(ko, drivers: dict[str, str]) -> str:
    lines = [loops.README_START, "| 回路 loop | type | path | effect | driver |", "|---|---|---|---|---|"]
    lines += [f"| {k} name | reinforcing | p | e | {v} |" for k, v in drivers.items()]
    return "\n".join(lines + [loops.README_END, ""])


def test_validation_passes_the_readme_as_committed(plan_knockout):
    checks = validation.loop_checks(knockout=plan_knockout)
    assert checks and all(c.passed for c in checks), [c.detail for c in checks if not c.passed]
    assert sum(c.name.startswith("README driver") for c in checks) == int(
        plan_knockout.summary.iloc[:-1]["driver"].sum())


def test_validation_fails_a_readme_that_calls_a_weak_loop_a_driver(toy):
    weak = loops.knockout({}, TOY_LOOPS, (2025, 2035), mdl_file=TOY, indicators=TOY_MEASURES,
                          threshold=1e6)
    checks = validation.loop_checks(_readme_claiming(weak, {"R": "yes", "B": "no"}), weak)
    assert [c.passed for c in checks] == [True, False]
    assert "cutting R (growth) moves stock by" in checks[1].detail
    checks = validation.loop_checks(_readme_claiming(toy, {"R": "yes", "B": "no"}), toy)
    assert [c.passed for c in checks] == [True, True]


def test_validation_fails_a_readme_listing_other_loops(toy):
    checks = validation.loop_checks(_readme_claiming(toy, {"R": "no", "X": "yes"}), toy)
    assert [c.passed for c in checks] == [False, False]
    assert "no such loop" in checks[1].detail
    checks = validation.loop_checks("no table here", toy)
    assert [c.passed for c in checks] == [False]


def test_validation_report_section(toy):
    checks = validation.loop_checks(_readme_claiming(toy, {"R": "yes", "B": "yes"}), toy)
    lines = validation.loop_section(checks, 6)
    assert lines[1] == "## 6. Loop knock-out"
    assert loops.markdown(toy).rstrip("\n") in lines
    assert loops.matrix_markdown(toy).rstrip("\n") in lines
    assert validation.loop_section([], 6) == []


# --------------------------------------------------------------------------------------------
# The command

def test_loops_command_markdown_is_the_readme_table(tmp_path, plan_knockout):
    done = cli("loops", "--markdown", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == loops.markdown(plan_knockout)


def test_loops_command_table_fits_100_columns(tmp_path):
    from simulator.base.text import display_width
    done = cli("loops", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert max(display_width(line) for line in done.stdout.splitlines()) <= 100
    assert "R1" in done.stdout and "effect_2035" in done.stdout


def test_loops_command_csv(tmp_path, plan_knockout):
    out = tmp_path / "k.csv"
    done = cli("loops", "--csv", "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["loop", "indicator", "year", "full", "cut", "effect",
                                   "effect_unit", "driver"]
    assert len(frame) == len(plan_knockout.table)


REFUSED = [
    ("bad-loops", lambda d: ["--loops", _write(d, HEADER + GOOD.replace("reinforcing", "x"))],
     "field 'type': value 'x' is not allowed"),
    ("missing-loops", lambda d: ["--loops", d / "none.csv"], "none.csv: file not found"),
    ("readme-other-scenario", lambda d: ["--write-readme", "--scenario",
                                         REPO / "scenarios" / "baseline.yaml"],
     "--write-readme: allowed only with the default --scenario"),
    ("bad-scenario", lambda d: ["--scenario", _write(d, "name: x\nlevers: {nope: 1}\n",
                                                    "s.yaml")], "nope"),
]


def _write(directory: Path, text: str, name: str = "l.csv") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("args, message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_loops_command_refuses_bad_input_in_one_line(tmp_path, args, message):
    done = cli("loops", *args(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr


def test_loops_command_wide_shows_every_column(tmp_path):
    done = cli("loops", "--wide", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not shown:" not in done.stdout
    assert all(lp.path_en in done.stdout for lp in loops.load())


def test_write_readme_replaces_only_the_block(tmp_path, monkeypatch, capsys, plan_knockout):
    from simulator import cli as cli_module
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n{loops.README_START}\nstale\n{loops.README_END}\nrest\n",
                      encoding="utf-8")
    monkeypatch.setattr(cli_module, "REPO", tmp_path)
    assert cli_module.main(["loops", "--write-readme"]) == 0
    assert readme.read_text(encoding="utf-8") == (
        f"# title\n{loops.README_START}\n{loops.markdown(plan_knockout)}{loops.README_END}\n"
        "rest\n")
    readme.write_text("# no markers\n", encoding="utf-8")
    assert cli_module.main(["loops", "--write-readme"]) == 2
    assert "needs exactly one <!-- loops:start -->" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == "# no markers\n"


def test_knockout_refuses_loops_that_cannot_be_cut_together():
    clash = loops.Loop("C", "balancing", "乙", "clash", "p", "p", (("growth_switch", 0.5),))
    with pytest.raises(ValueError, match="C sets growth_switch=0.5 but R sets growth_switch=0"):
        loops.knockout({}, (*TOY_LOOPS, clash), mdl_file=TOY, indicators=TOY_MEASURES)
