"""Plausibility bounds: the file is read strictly, each kind of bound is computed as documented,
a bound the model breaks fails and names the draw, a bound it holds passes."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis import plausibility, validation
from simulator.analysis.plausibility import Bound, PlausibilityError

TOY = Path(__file__).resolve().parent / "models" / "plausibility_toy.mdl"
HEADER = "id,kind,variable,denominator,lower,upper,unit,source\n"


@pytest.fixture(scope="module")
def toy():
    from simulator.model import engine_for
    return engine_for(TOY)


def _loads(toy, rows: str, header: str = HEADER):
    return plausibility.loads(header + rows, "bounds.csv", toy.variables, toy.units)


def _toy_run(toy, n: int, seed: int = 0, **fixed):
    """``n`` uniform draws over the toy's ranges (``fixed`` overrides), and their run."""
    rng = np.random.default_rng(seed)
    draws = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in sorted(toy.limits.items())}
    draws.update({k: np.full(n, v) for k, v in fixed.items()})
    run = toy.run(draws, n=n, variables=["spending", "output", "intensity", "residual",
                                         "sources"])
    return draws, run


# --------------------------------------------------------------------------------------------
# The file

def test_the_shipped_file_loads_against_the_model():
    bounds = plausibility.load()
    ids = {b.id: b for b in bounds}
    assert {"rd_intensity_ceiling", "industry_to_gdp_band", "rd_growth_ceiling"} <= set(ids)
    assert ids["rd_intensity_ceiling"].upper == 6.0 and ids["rd_intensity_ceiling"].unit == "%"
    assert ids["industry_to_gdp_band"].names == ("above_scale_industrial_revenue", "gdp")
    assert ids["rd_growth_ceiling"].kind == "yoy_growth" and ids["rd_growth_ceiling"].upper == 40
    assert all(b.source for b in bounds)


def test_a_good_file_of_every_kind(toy):
    bounds = _loads(toy, "a,level,intensity,,0,6,%,s\n"
                         "b,ratio,Spending,Output,,0.5,Dmnl,s\n"
                         "c,yoy_growth,spending,,-10,40,%/Year,s\n"
                         "d,identity,residual,sources,,1e-9,Dmnl,s\n\n")
    assert [b.kind for b in bounds] == ["level", "ratio", "yoy_growth", "identity"]
    assert bounds[1].names == ("spending", "output") and bounds[1].lower is None
    assert bounds[3].upper == 1e-9
    assert bounds[0].describe() == "intensity in [0, 6] %"
    assert bounds[1].describe() == "Spending / Output ≤ 0.5"
    assert bounds[3].describe() == "|residual| ≤ 1e-09 × |sources|"


BAD_ROWS = [
    ("kind", "a,bound,intensity,,0,6,%,s\n", "row 2: field 'kind': value 'bound' is not known; "
     "allowed level, ratio, yoy_growth, identity"),
    ("lower-above-upper", "a,level,intensity,,7,6,%,s\n",
     "row 2: field 'lower': value '7' is above upper 6; allowed lower ≤ upper"),
    ("unknown-variable", "a,identity,budget residual,fiscal st budget,,1e-9,Dmnl,s\n",
     "row 2: field 'variable': value 'budget residual' is not a variable of the model; allowed "
     "one of its 16 variables (closest: residual"),
    ("unknown-denominator", "a,ratio,spending,GDP,0,1,Dmnl,s\n",
     "row 2: field 'denominator': value 'GDP' is not a variable of the model"),
    ("not-a-number", "a,level,intensity,,0,six,%,s\n",
     "row 2: field 'upper': value 'six' is not a finite number"),
    ("infinite", "a,level,intensity,,-inf,6,%,s\n",
     "row 2: field 'lower': value '-inf' is not a finite number"),
    ("thousands-comma", 'a,level,intensity,,0,"1,000",%,s\n',
     "row 2: field 'upper': value '1,000' is not a finite number"),
    ("no-bound", "a,level,intensity,,,,%,s\n", "row 2: fields 'lower' and 'upper' are both empty"),
    ("ratio-without-denominator", "a,ratio,spending,,0,1,Dmnl,s\n",
     "row 2: field 'denominator': value '' is empty; a ratio bound needs a denominator"),
    ("level-with-denominator", "a,level,intensity,output,0,6,%,s\n",
     "row 2: field 'denominator': value 'output' is not allowed for a level bound"),
    ("ratio-of-unlike-units", "a,ratio,intensity,output,0,1,Dmnl,s\n",
     "row 2: field 'denominator': value 'output' is in 'CNY100m/Year', intensity in '%'"),
    ("level-unit", "a,level,intensity,,0,0.06,Dmnl,s\n",
     "row 2: field 'unit': value 'Dmnl' is not the declared unit of intensity; allowed '%'"),
    ("growth-unit", "a,yoy_growth,spending,,,40,%,s\n",
     "row 2: field 'unit': value '%' is not the unit of a yoy_growth bound; allowed '%/Year'"),
    ("identity-with-lower", "a,identity,residual,sources,0,1e-9,Dmnl,s\n",
     "row 2: field 'lower': value '0' is not allowed for an identity"),
    ("identity-negative-tolerance", "a,identity,residual,sources,,-1,Dmnl,s\n",
     "row 2: field 'upper': value '-1' is not a tolerance"),
    ("no-source", "a,level,intensity,,0,6,%, \n", "row 2: field 'source': value '' is empty"),
    ("bad-id", "A b,level,intensity,,0,6,%,s\n", "row 2: field 'id': value 'A b' is not an id"),
    ("repeated-id", "a,level,intensity,,0,6,%,s\na,level,intensity,,0,7,%,s\n",
     "row 3: field 'id': value 'a' repeats the id of row 2"),
    ("fields", "a,level,intensity,,0,6,%\n", "row 2: has 7 fields; the header has 8"),
    ("control-character", "a,level,intensity,,0,6,%,s\x1b[31m\n",
     "row 2: field 'source': character U+001B"),
]


@pytest.mark.parametrize("rows,message", [r[1:] for r in BAD_ROWS], ids=[r[0] for r in BAD_ROWS])
def test_a_bad_row_is_refused_in_one_line(toy, rows, message):
    with pytest.raises(PlausibilityError) as err:
        _loads(toy, rows)
    text = str(err.value)
    assert text.startswith("bounds.csv: ") and message in text, text
    assert "\n" not in text


BAD_HEADERS = [
    ("unknown-column", HEADER.strip() + ",note\n", "row 1: column 'note' is not known"),
    ("repeated-column", HEADER.strip() + ",unit\n", "row 1: column 'unit' is repeated"),
    ("missing-column", HEADER.replace(",source", ""), "row 1: missing column(s) source"),
]


@pytest.mark.parametrize("header,message", [r[1:] for r in BAD_HEADERS],
                         ids=[r[0] for r in BAD_HEADERS])
def test_a_bad_header_is_refused(toy, header, message):
    with pytest.raises(PlausibilityError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _loads(toy, "a,level,intensity,,0,6,%,s\n", header=header)


@pytest.mark.parametrize("text,message", [("", "the file is empty"),
                                          (HEADER, "no rows after the header")],
                         ids=["empty", "header-only"])
def test_an_empty_file_is_refused(toy, text, message):
    with pytest.raises(PlausibilityError, match=message):
        plausibility.loads(text, "bounds.csv", toy.variables, toy.units)


def test_a_row_naming_a_variable_the_model_lacks_is_refused_by_load(tmp_path):
    """A row naming a variable the model does not have is refused by name (file, row, field,
    value, what exists)."""
    path = tmp_path / "plausibility.csv"
    path.write_text(HEADER + "budget_identity,identity,budget leak,fiscal st spending,,1e-9,"
                    "Dmnl,definition: sources minus uses\n", encoding="utf-8")
    with pytest.raises(PlausibilityError, match=r"plausibility.csv: row 2: field 'variable': "
                       r"value 'budget leak' is not a variable of guangyuan_innovation.mdl; "
                       r"allowed one of its \d+ variables \((closest: .+|none is close)\)$"):
        plausibility.load(path)


def test_validate_refuses_a_bad_file_before_running_anything(tmp_path, monkeypatch):
    bad = tmp_path / "plausibility.csv"
    bad.write_text(HEADER + "x,level,rd intensity,,0,6,percent,s\n", encoding="utf-8")
    monkeypatch.setattr(plausibility, "FILE", bad)

    def must_not_run(*a, **k):
        raise AssertionError("ran the checks before reading the bounds")
    monkeypatch.setattr(validation, "run_all", must_not_run)
    with pytest.raises(PlausibilityError, match="field 'unit': value 'percent'"):
        validation.main(["--n", "10", "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# The quantities

def test_year_on_year_growth_by_hand():
    """Growth between consecutive year-end values only: the mid-year value and the gap
    2022 → 2024 are skipped."""
    times = np.array([2020, 2020.5, 2021, 2022, 2024, 2025])
    values = np.array([100.0, 999.0, 110.0, 121.0, 50.0, 60.0])
    years, growth = plausibility.yoy_growth(times, values)
    np.testing.assert_allclose(years, [2021, 2022, 2025])
    np.testing.assert_allclose(growth, [10.0, 10.0, 20.0], rtol=1e-12)
    # columns are runs
    years, growth = plausibility.yoy_growth(times, np.column_stack([values, 2 * values]))
    np.testing.assert_allclose(growth, [[10.0, 10.0], [10.0, 10.0], [20.0, 20.0]], rtol=1e-12)


def test_growth_from_zero_breaks_the_bound():
    bound = Bound("g", "yoy_growth", "x", "x", None, 40.0, "%/Year", "s")
    _, growth = plausibility.yoy_growth(np.array([2020.0, 2021.0]), np.array([0.0, 1.0]))
    assert np.isinf(plausibility.excess(bound, growth)).all()


def test_excess_is_signed_distance_beyond_either_side():
    bound = Bound("b", "level", "x", "x", 1.0, 3.0, "%", "s")
    np.testing.assert_allclose(plausibility.excess(bound, np.array([0.0, 2.0, 3.5, np.nan])),
                               [1.0, -1.0, 0.5, np.inf])


# --------------------------------------------------------------------------------------------
# Checks on a toy model

def test_a_bound_the_model_breaks_fails_and_names_the_draw(toy):
    draws, run = _toy_run(toy, 500)
    bound, = _loads(toy, "cap,level,intensity,,0,6,%,s\n")
    o, = plausibility.evaluate([bound], run.times, run.data, draws)
    # Euler at step 1 year: intensity(2030) = (1 + g)^10 / (1 + o)^10, so the worst draw is the
    # one with the largest (1 + g) / (1 + o), and every draw above 6 % by 2030 breaks it
    ratio = (1 + draws["growth_rate"] / 100) / (1 + draws["output_growth"] / 100)
    final = 100 * 10 / 1000 * ratio ** 10
    assert not o.passed and o.broken == int(np.sum(final > 6))
    assert o.worst_draw == int(np.argmax(ratio)) and o.worst_time == 2030
    assert o.worst_value == pytest.approx(final.max(), rel=1e-9)
    assert o.highest == pytest.approx(final.max(), rel=1e-9)
    assert o.worst_excess == pytest.approx(final.max() - 6, rel=1e-9)
    assert o.settings["growth_rate"] == draws["growth_rate"][o.worst_draw]
    assert o.drivers[0][0] == "growth_rate" and o.drivers[0][1] > 5
    text = plausibility.summary(o)
    assert f"draw {o.worst_draw}" in text and f"{o.broken:,} of 500 draws" in text


def test_a_bound_the_model_holds_passes(toy):
    draws, run = _toy_run(toy, 500)
    # intensity(2030) ≤ 1 % × 1.6^10 = 110 % (growth at most 60 %/yr, output growth at least 0)
    bounds = _loads(toy, "cap,level,intensity,,0,111,%,s\n"
                         "g,yoy_growth,spending,,0,60,%/Year,s\n"
                         "r,ratio,output,sources,99.999,100.001,Dmnl,s\n")
    outcomes = plausibility.evaluate(bounds, run.times, run.data, draws)
    assert [o.passed for o in outcomes] == [True, True, True]
    growth = outcomes[1]
    # growth per year is the drawn rate exactly (Euler, step 1 year)
    assert growth.highest == pytest.approx(draws["growth_rate"].max(), rel=1e-9)
    assert growth.lowest == pytest.approx(draws["growth_rate"].min(), rel=1e-9)
    assert "no draw breaks it" in plausibility.summary(growth)


def test_a_growth_bound_below_the_drawn_rates_fails(toy):
    draws, run = _toy_run(toy, 500)
    bound, = _loads(toy, "g,yoy_growth,spending,,,30,%/Year,s\n")
    o, = plausibility.evaluate([bound], run.times, run.data, draws)
    assert o.broken == int(np.sum(draws["growth_rate"] > 30))
    assert o.worst_draw == int(np.argmax(draws["growth_rate"]))
    assert o.worst_value == pytest.approx(draws["growth_rate"].max(), rel=1e-9)


@pytest.mark.parametrize("leak,passes", [(0.0, True), (None, False)], ids=["balanced", "leaky"])
def test_the_identity_holds_only_when_the_budget_balances(toy, leak, passes):
    fixed = {} if leak is None else {"leak": leak}
    draws, run = _toy_run(toy, 300, **fixed)
    bound, = _loads(toy, "budget,identity,residual,sources,,1e-9,Dmnl,s\n")
    o, = plausibility.evaluate([bound], run.times, run.data, draws)
    assert o.passed is passes
    if not passes:  # residual / sources = leak: the worst draw is the largest leak
        assert o.worst_draw == int(np.argmax(draws["leak"]))
        assert o.worst_value == pytest.approx(draws["leak"].max(), rel=1e-6)


def test_drivers_name_the_input_that_sets_the_group_apart():
    rng = np.random.default_rng(0)
    inputs = {"a": rng.uniform(0, 1, 1000), "b": rng.uniform(0, 1, 1000),
              "fixed": np.full(1000, 3.0)}
    group = inputs["b"] > 0.9
    (first, z, pct), *_ = plausibility.drivers(inputs, group)
    assert first == "b" and z > 10 and pct > 90
    assert "fixed" not in [d[0] for d in plausibility.drivers(inputs, group)]
    assert plausibility.drivers(inputs, np.zeros(1000, dtype=bool)) == ()


# --------------------------------------------------------------------------------------------
# On the project's model (small n; 10,000 only in validate)

def test_random_bounds_has_one_check_per_bound_and_a_low_ceiling_fails():
    low = Bound("low", "level", "rd intensity", "rd_intensity", None, 0.5, "%", "test")
    high = Bound("high", "level", "rd intensity", "rd_intensity", 0.0, 100.0, "%", "test")
    checks = validation.random_bounds(n=200, seed=0, bounds=(low, high))
    assert len(checks) == 4
    fail, ok = checks[2:]
    # 2020 R&D intensity is the plan's 0.67 % in every draw: all 200 break a 0.5 % ceiling
    assert not fail.passed and fail.data["broken"] == 200 and "200 of 200 draws" in fail.detail
    assert f"draw {fail.data['worst_draw']}" in fail.detail
    assert set(fail.data["worst_settings"]) >= {"hte_reward_2021_2025", "nominal_gdp_growth"}
    assert ok.passed and ok.data["broken"] == 0


def test_the_report_lists_the_bounds_and_their_sources(tmp_path, monkeypatch):
    bound = Bound("cap", "identity", "rd spending", "rd_spending", None, 2.0, "Dmnl", "src|x",
                  denominator="GDP", denominator_name="gdp")
    checks = validation.random_bounds(n=50, seed=0, bounds=(bound,))
    monkeypatch.setattr(validation, "_figures", lambda checks, out: {
        "behaviour": "b.png", "extreme": "e.png", "integration": "i.png"})
    text = validation.report(checks, tmp_path, n=50).read_text(encoding="utf-8")
    section = text.split("## 5. Bounds under random policies")[1]
    assert "|rd spending| ≤ 2 × |GDP| in every random draw** — pass" in section
    assert r"| cap | \|rd spending\| ≤ 2 × \|GDP\| | src\|x |" in section
    # every drawn input of the worst draw, to rerun it
    text = (tmp_path / validation.WORST_DRAWS).read_text(encoding="utf-8")
    rows = {r[0]: r[1:] for r in csv.reader(text.splitlines())}
    data = checks[2].data
    assert rows["input"] == ["cap"] and rows["draw"] == [str(data["worst_draw"])]
    assert float(rows["nominal_gdp_growth"][0]) == data["worst_settings"]["nominal_gdp_growth"]
    assert len(rows) == 2 + len(data["worst_settings"])
