"""Files of actuals (simulator/plan/actuals.py): the format, strict validation, one-line errors.

Every bad file gets its own test: the message is one line and names the file, the row, the
field, the value and what is allowed. Values here are generated for the tests (round numbers),
except the shipped example, which carries the 2015–2020 figures of data/observed_2015_2020.csv.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulator.plan import actuals, tables
from simulator.plan.actuals import ActualsError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "examples" / "actuals_2015_2020.csv"
HEADER = "indicator,year,value,kind,source,note\n"


def _error(text: str, name: str = "bad.csv") -> str:
    with pytest.raises(ActualsError) as info:
        actuals.loads(text, name)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{name}: ")
    return message


# --------------------------------------------------------------------------------------------
# Good files

def test_a_small_file_is_read_with_defaults_and_mid_year_values():
    got = actuals.loads(
        "indicator,year,value\n"
        "tech_smes,2019,105\n"
        "rd_intensity,2022.5,0.81\n"
        "\n"                                   # a blank line is skipped
        "high_tech_revenue,2023,300\n", "gen.csv")
    assert len(got) == 3 and got.source == "gen.csv"
    assert got.rows[1] == actuals.Actual("rd_intensity", 2022.5, 0.81)
    assert [a.kind for a in got] == ["level"] * 3
    assert got.indicators() == ("tech_smes", "rd_intensity", "high_tech_revenue")


def test_optional_columns_in_any_order_bounds_and_text():
    got = actuals.loads(
        "\ufeffnote,value,kind,indicator,source,year\n"   # BOM and shuffled columns
        '"突破2亿元, 全年",2,lower_bound,tech_contract_turnover,stats bureau,2023\n'
        ",30,upper_bound,tech_contract_turnover,,2023\n"
        ",1.8,,tech_contract_turnover,,2023\n", "gen.csv")
    lower, upper, level = got.rows
    assert (lower.kind, lower.value, lower.note, lower.source) == \
        ("lower_bound", 2.0, "突破2亿元, 全年", "stats bureau")
    assert upper.kind == "upper_bound" and level.kind == "level"
    assert lower.satisfied_by(2.5) and not lower.satisfied_by(1.9)
    assert upper.satisfied_by(30) and not upper.satisfied_by(30.1)


def test_latest_up_to_and_after():
    got = actuals.loads(HEADER + "tech_smes,2019,105,,,\ntech_smes,2021,200,,,\n"
                        "tech_smes,2022,300,lower_bound,,\ntech_smes,2020.5,150,,,\n", "gen.csv")
    assert got.latest("tech_smes").year == 2021           # bounds are not levels
    assert got.latest("tech_smes", up_to=2020.9).value == 150
    assert got.latest("tech_smes", up_to=2018) is None
    assert got.latest("rd_intensity") is None
    assert [a.year for a in got.up_to(2020.5)] == [2019, 2020.5]
    assert [a.year for a in got.after(2020.5)] == [2021, 2022]


def test_bytes_and_files_are_read_through_the_bounded_reader(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("indicator,year,value,note\ntech_smes,2019,105,入库\n".encode("utf-8"))
    got = actuals.load(path)
    assert got.rows[0].note == "入库" and got.source == str(path)
    assert actuals.loads(path.read_bytes(), "b").rows == got.rows


def test_the_shipped_example_is_valid_and_keeps_sources():
    got = actuals.load(EXAMPLE)
    assert len(got) >= 5
    assert all(2015 <= a.year <= 2020 for a in got)        # no figure from after 2020
    assert all(a.source.startswith("http") or a.source.startswith("plan") for a in got)
    hte = [a for a in got if a.indicator == "high_tech_enterprises" and a.year == 2019]
    assert [a.value for a in hte] == [44]


# --------------------------------------------------------------------------------------------
# Bounds

@pytest.mark.parametrize("year", [2015, 2035, 2015.0, 2034.99], ids=str)
def test_years_at_the_bounds_are_accepted(year):
    assert actuals.loads(f"indicator,year,value\ntech_smes,{year},103\n").rows[0].year == year


@pytest.mark.parametrize("year", ["2014.99", "2035.01", "1e4", "-2020"], ids=str)
def test_years_outside_are_refused(year):
    message = _error(f"indicator,year,value\ntech_smes,{year},103\n")
    assert f"row 2: field 'year': value '{year}'" in message
    assert "allowed 2015 to 2035" in message


def test_growth_since_2020_is_refused_before_2021():
    message = _error("indicator,year,value\nrd_spending_growth,2020,12\n")
    assert "field 'year'" in message and "allowed 2021 to 2035" in message
    assert actuals.loads("indicator,year,value\nrd_spending_growth,2021,12\n").rows[0].value == 12


@pytest.mark.parametrize("indicator", [i.id for i in tables.indicators()], ids=str)
def test_each_band_holds_the_2020_reference_and_excludes_the_unit_mix_ups(indicator):
    low, high = actuals.band(indicator)
    assert low < high
    ind = tables.indicator(indicator)
    reference = ind.value_2020 or actuals.REFERENCE_2020.get(indicator)
    if reference is None:
        return  # fixed bands (innovation index, growth rate): checked below
    assert low < reference < high
    # a mix-up moves a value by at least ×100 (shares) or ×10,000 (counts, amounts): the band
    # is narrower than that in ratio, so no in-band value can be moved into it
    mix_up = 100 if ind.unit == "%" else 10_000
    assert high / low < mix_up


@pytest.mark.parametrize("indicator,value,hint", [
    ("tech_smes", "0.0103", "10,000 times too small"),          # 103 家 written in 万家
    ("high_tech_revenue", "2210000", "10,000 times too large"),   # 221 亿元 written in 万元
    ("high_tech_revenue", "22100000000", "100,000,000 times too large"),  # in 元
    ("valid_trademarks", "10000", "10,000 times too large"),     # 1 万件 written as a count
    ("rd_intensity", "0.0067", "100 times too small"),           # 0.67 % as a fraction
    ("science_literacy", "0.086", "100 times too small"),
    ("innovation_index", "0.55", ""),
], ids=lambda v: str(v))
def test_a_wrong_unit_scale_is_refused(indicator, value, hint):
    message = _error(f"indicator,year,value\n{indicator},2019,{value}\n")
    assert f"row 2: field 'value': value '{value}' is outside the plausible band of {indicator}" \
        in message
    low, high = actuals.band(indicator)
    assert f"allowed {low:g} to {high:g}" in message
    assert hint in message


@pytest.mark.parametrize("indicator,value", [("rd_intensity", "101"), ("tech_smes", "-1"),
                                             ("rd_spending_growth", "-101")], ids=str)
def test_impossible_values_are_refused(indicator, value):
    message = _error(f"indicator,year,value\n{indicator},2022,{value}\n")
    assert "field 'value'" in message and "allowed" in message


# --------------------------------------------------------------------------------------------
# One test per kind of bad file

def test_unknown_indicator():
    message = _error("indicator,year,value\ntech_sme,2019,105\n")
    assert "row 2: field 'indicator': value 'tech_sme' is not an indicator id" in message
    assert "allowed rd_intensity, rd_spending_growth" in message


@pytest.mark.parametrize("value", ["abc", "1,000", "", "inf", "nan", "1e999", "0x10", "１０"],
                         ids=["text", "thousands", "empty", "inf", "nan", "overflow", "hex",
                              "fullwidth"])
def test_non_numbers(value):
    cell = f'"{value}"' if "," in value else value
    message = _error(f"indicator,year,value\ntech_smes,2019,{cell}\n")
    assert "row 2: field 'value': value" in message
    assert "number" in message and "allowed a number in 家 (firms)" in message


def test_non_number_year():
    message = _error("indicator,year,value\ntech_smes,2019年,105\n")
    assert "row 2: field 'year': value '2019年' is not a number" in message


def test_duplicate_indicator_year_kind():
    message = _error("indicator,year,value\ntech_smes,2019,105\nrd_intensity,2019,0.6\n"
                     "tech_smes,2019.0,106\n")
    assert "row 4: field 'year': value '2019.0' repeats tech_smes level of row 2" in message
    assert "allowed one value per indicator, year and kind" in message


def test_unknown_kind():
    message = _error("indicator,year,value,kind\ntech_smes,2019,105,target\n")
    assert "row 2: field 'kind': value 'target' is not known" in message
    assert "allowed level, lower_bound, upper_bound" in message


def test_unknown_column():
    message = _error("indicator,year,value,unit\ntech_smes,2019,105,家\n")
    assert "row 1: column 4 'unit' is not known" in message
    assert "allowed columns indicator, year, value, kind, source, note" in message


@pytest.mark.parametrize("text,needle", [
    ("indicator,value\ntech_smes,105\n", "row 1: missing column(s) year"),
    ("indicator,year,value,value\ntech_smes,2019,105,106\n", "column 'value' appears 2 times"),
    ("indicator,year,value\ntech_smes,2019,105,extra\n", "row 2: has 4 fields; the header has 3"),
    ("indicator,year,value,note\ntech_smes,2019,105,a\u202eb\n",
     "row 2: field 'note': character U+202E"),
], ids=["missing_column", "repeated_column", "field_count", "control_character"])
def test_malformed_rows_and_columns(text, needle):
    assert needle in _error(text)


def test_empty_file_and_header_only():
    assert "the file is empty" in _error("")
    assert "no rows after the header" in _error("indicator,year,value\n\n")


def test_not_utf8_and_not_csv():
    assert "not UTF-8" in _error(b"indicator,year,value\ntech_smes,2019,1\xff\n")
    assert "not valid CSV" in _error('indicator,year,value\ntech_smes,2019,"1"0\n')


def test_not_a_regular_file_and_missing(tmp_path):
    with pytest.raises(ActualsError, match="is a directory"):
        actuals.load(tmp_path)
    with pytest.raises(ActualsError, match="file not found"):
        actuals.load(tmp_path / "nope.csv")


def test_an_escaped_value_in_the_message():
    message = _error("indicator,year,value\ntech\u00a0smes,2019,1\n")
    assert "value 'tech\\xa0smes' is not an indicator id" in message and "\u00a0" not in message


def test_first_error_only_and_nothing_returned_half():
    # the bad row is the last one: the whole file is refused, no partial result exists
    with pytest.raises(ActualsError, match="row 3"):
        actuals.loads("indicator,year,value\ntech_smes,2019,105\ntech_smes,2019,x\n")
    assert math.isclose(actuals.band("rd_intensity")[0], 0.67 / 9)


# --------------------------------------------------------------------------------------------
# The command line: a bad file of actuals is one line on standard error, exit 2, nothing written
# (refused before the calibration, so these tests run no model)

BAD_FILES = {
    "unknown_id": ("indicator,year,value\ntech_sme,2019,105\n", "field 'indicator'"),
    "unit_scale": ("indicator,year,value\ntech_smes,2019,0.0105\n", "10,000 times too small"),
    "year": ("indicator,year,value\ntech_smes,2036,105\n", "allowed 2015 to 2035"),
    "duplicate": ("indicator,year,value\ntech_smes,2019,105\ntech_smes,2019,106\n", "repeats"),
    "non_number": ("indicator,year,value\ntech_smes,2019,一百\n", "is not a number"),
    "column": ("indicator,year,value,unit\ntech_smes,2019,105,家\n", "column 4 'unit'"),
}


@pytest.mark.parametrize("name", list(BAD_FILES), ids=str)
def test_the_command_line_refuses_a_bad_file_in_one_line_and_writes_nothing(tmp_path, name):
    from helpers import cli
    text, needle = BAD_FILES[name]
    observed = tmp_path / f"{name}.csv"
    observed.write_text(text, encoding="utf-8")
    out = tmp_path / "hindcast.json"
    proc = cli("hindcast", "--observed", observed, "--cutoff", "2018", "--format", "json",
               "--out", out, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {observed}: row ") and needle in proc.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [observed.name]
