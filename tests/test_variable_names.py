"""The names of the model's variables and units in each language (``models/variable_names.csv``,
``models/unit_names.csv``, read by :mod:`simulator.plan.tables`): they cannot drift from the
model — every variable named, none stale, names unique, Chinese names Chinese — and every unit
the model declares renders in Chinese, agreeing with the units the indicator, lever and
assumption tables write."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from simulator.plan import tables
from simulator.sd import sketch

REPO = Path(__file__).resolve().parents[1]
#: Latin a Chinese name may keep: the plan writes R&D and GDP so (as the page's language scan).
ALLOWED_LATIN = re.compile(r"R&D|GDP")
_LATIN = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")

#: Where a table's Chinese unit is not the plain rendering of its Vensim unit, and why.
UNIT_WORDING = {
    ("CNY100m/Year", "亿元"): "a year's revenue or turnover, reported in 亿元 as Table 1 does",
    ("Dmnl", "指数(2020=1)"): "a dimensionless lever or assumption, said as what it is",
    ("Dmnl", "分"): "the innovation index, scored in points",
    ("%/Year", "百分点/年"): "a gap between two growth rates, in percentage points",
}


@pytest.fixture(scope="module")
def struct():
    return sketch.structure(tables.MODEL_FILE)


@pytest.fixture(scope="module")
def rows():
    with open(REPO / "models" / "variable_names.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _model_variables(struct) -> dict[str, str]:
    """Vensim name by Python name of every variable but the run's control variables."""
    return {n: v.vensim for n, v in struct.variables.items() if v.kind != "control"}


def test_the_table_names_exactly_the_models_variables(struct, rows):
    """None missing, none stale, each under its Vensim name as the .mdl writes it: a variable
    renamed in the .mdl fails here with both names listed."""
    model = set(_model_variables(struct).values())
    table = [r["variable"] for r in rows]
    assert len(table) == len(set(table)), "a variable named twice"
    assert sorted(model - set(table)) == [], "variables of the .mdl the table does not name"
    assert sorted(set(table) - model) == [], "names of the table no variable of the .mdl has"
    assert set(tables.variable_names()) == set(_model_variables(struct))


@pytest.mark.parametrize("column", ["name_zh", "name_en"], ids=["zh", "en"])
def test_names_are_unique_per_language(rows, column):
    seen: dict[str, str] = {}
    twice = []
    for r in rows:
        if r[column] in seen:
            twice.append((seen[r[column]], r["variable"], r[column]))
        seen[r[column]] = r["variable"]
    assert twice == []


def test_every_chinese_name_is_chinese(rows):
    bad = [(r["variable"], r["name_zh"]) for r in rows
           if not _CJK.search(r["name_zh"])
           or _LATIN.search(ALLOWED_LATIN.sub("", r["name_zh"]))]
    assert bad == []


def test_every_english_name_is_english(rows):
    assert [(r["variable"], r["name_en"]) for r in rows if _CJK.search(r["name_en"])] == []


@pytest.mark.parametrize("table", [tables.indicators, tables.levers, tables.assumptions],
                         ids=["indicators", "levers", "assumptions"])
def test_a_variable_a_table_names_has_that_tables_names(table):
    """An indicator, lever (its value in effect) or assumption has one name everywhere."""
    for item in table():
        assert tables.variable_name(item.vensim_name, "zh") == item.name_zh, item.id
        assert tables.variable_name(item.vensim_name, "en") == item.name_en, item.id


def test_variable_name_takes_any_spelling_and_refuses_an_unknown_name():
    assert tables.variable_name("High Tech Share", "zh") == \
        tables.variable_name("high tech share", "zh") == \
        tables.indicator("high_tech_share").name_zh
    with pytest.raises(KeyError, match="'no such variable'"):
        tables.variable_name("no such variable", "zh")
    with pytest.raises(ValueError, match="language 'fr'"):
        tables.variable_name("GDP", "fr")


def _model_units() -> list[str]:
    return sorted({v.units for v in sketch.structure(tables.MODEL_FILE).variables.values()})


@pytest.mark.parametrize("unit", _model_units(), ids=lambda u: u or "(none)")
def test_every_unit_of_the_model_renders_in_chinese(unit):
    zh = tables.unit_label(unit, "zh")
    assert not _LATIN.search(zh), zh
    assert zh.count("/") == unit.count("/") and zh.count("(") == unit.count("(")
    assert tables.unit_label(unit, "en") == unit


@pytest.mark.parametrize("unit, zh", [
    ("CNY100m/Year/(10k persons)", "亿元/年/(万人)"), ("CNY10k/firm", "万元/家"),
    ("TM10k", "万件"), ("trademarks/TM10k", "件/万件"), ("Dmnl", "无量纲"), ("%/Year", "%/年"),
    ("CNY/person/Year", "元/人/年"), ("1/Year", "1/年"),
], ids=["money-per-head", "per-firm", "trademarks", "ratio", "dmnl", "percent", "yuan", "rate"])
def test_units_render_atom_by_atom(unit, zh):
    assert tables.unit_label(unit, "zh") == zh


def test_an_unknown_unit_atom_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unit 'CNY100m/Fortnight': no Chinese name for "
                                         r"'Fortnight' in models/unit_names.csv"):
        tables.unit_label("CNY100m/Fortnight", "zh")


def test_the_tables_chinese_units_agree_with_the_rendering():
    """Where an indicator, lever or assumption table writes a Chinese unit, it is the rendering
    of its Vensim unit, or one of the wordings of :data:`UNIT_WORDING`."""
    differ = []
    for item in tables.indicators() + tables.levers() + tables.assumptions():
        rendered = tables.unit_label(item.unit, "zh")
        if item.unit_zh != rendered and (item.unit, item.unit_zh) not in UNIT_WORDING:
            differ.append((item.id, item.unit, item.unit_zh, rendered))
    assert differ == []


@pytest.mark.parametrize("text, message", [
    ("variable,name_zh\nGDP,地区生产总值\n", "expected the columns variable, name_zh, name_en; missing name_en"),
    ("variable,name_zh,name_en\nGDP,,GDP\n", "line 2: empty name_zh"),
    ("variable,name_zh,name_en\nGDP,甲,a\nGDP,乙,b\n", "line 3: variable 'GDP' named twice"),
    ("variable,name_zh,name_en\nGDP,甲,a\ngdp,乙,b\n", "variable 'gdp' named twice"),
    ("variable,name_zh,name_en\n", "no rows; expected a header and one row a name"),
], ids=["column-missing", "empty-cell", "twice", "twice-other-spelling", "no-rows"])
def test_a_broken_names_table_is_refused_in_one_line(tmp_path, monkeypatch, text, message):
    (tmp_path / "variable_names.csv").write_text(text, encoding="utf-8")
    monkeypatch.setattr(tables, "MODELS_DIR", tmp_path)
    tables.variable_names.cache_clear()
    try:
        with pytest.raises(ValueError, match=re.escape(message)) as err:
            tables.variable_names()
        assert "\n" not in str(err.value)
    finally:
        tables.variable_names.cache_clear()
