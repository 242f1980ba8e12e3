"""The model map of the app (simulator/app/modelmap.py): drawn from the sketch's own structure
and layout, every stock, indicator and lever on it and marked, a loop's highlight selecting
exactly that loop's variables, the hover values those of the run passed in; and the page's
"model map" tab in both languages (AppTest), every name and unit on it in the page's
language."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from simulator.analysis import loops
from simulator.app import charts, i18n, modelmap
from simulator.plan import tables
from simulator import load_scenario
from simulator.sd import sketch

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
RTOL = 1e-12
LOOPS = loops.load()


#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")


@pytest.fixture(scope="module")
def mapped():
    return modelmap.model_map()


@pytest.fixture(scope="module")
def run(model, mapped):
    struct, _ = mapped
    names = [n for n in struct.variables if n in model.python_names]
    return model.run_wide(load_scenario(REPO / "scenarios" / "plan.yaml"), variables=names)


def test_the_map_is_the_sketchs_layout(mapped):
    struct, lay = mapped
    assert lay == sketch.layout(sketch.structure(tables.MODEL_FILE))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_stock_indicator_and_lever_is_on_the_overview_and_marked(mapped, lang):
    struct, lay = mapped
    nodes, edges = modelmap.map_frames(struct, lay, lang)
    own = nodes[nodes["shape"].isin(["stock", "aux", "flow"])]
    assert sorted(own["name"]) == sorted(struct.variables)           # each variable once
    assert set(own.loc[own["shape"] == "stock", "name"]) == set(struct.stocks)
    role = dict(zip(own["name"], own["role"]))
    for ind in tables.indicators():
        assert role[ind.variable] == "indicator", ind.id
    for lever in tables.levers():
        assert role[lever.effective_variable] == "lever", lever.id
        for period in tables.PERIODS:
            assert role[lever.period_param(period)] == "lever", (lever.id, period)
    labels = dict(zip(own["name"], own["label"]))
    for ind in tables.indicators():
        # (wrapped onto lines at spaces, or every few characters in Chinese)
        assert labels[ind.variable].split() == i18n.label(ind, lang).split() or \
            labels[ind.variable].replace("\n", "") == i18n.label(ind, lang)
    assert not nodes["highlight"].any() and not edges["highlight"].any()
    assert set(edges["kind"]) == {"link", "pipe"}


_LATIN = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_name_and_unit_on_the_map_is_in_the_pages_language(mapped, lang):
    """Labels, kinds, sectors and units of every node (tooltips included) of every sector: on
    the Chinese page no Latin word but R&D and GDP, on the English page no CJK."""
    struct, lay = mapped
    for sector in modelmap.sectors(lay):
        nodes, _ = modelmap.map_frames(struct, lay, lang, sector=sector)
        for column in ("label", "kind", "sector", "unit"):
            for text in nodes[column]:
                if lang == "zh":
                    assert not _LATIN.search(re.sub(r"R&D|GDP", "", text)), (sector, text)
                else:
                    assert not _CJK.search(text), (sector, text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_names_and_units_are_the_tables(mapped, lang):
    """Each node's name is its row of models/variable_names.csv (a control variable's the
    page's word for it), its unit the Vensim unit (English) or its rendering (Chinese)."""
    struct, lay = mapped
    nodes, _ = modelmap.map_frames(struct, lay, lang)
    own = nodes[nodes["shape"].isin(["stock", "aux", "flow"])].set_index("name")
    for name, var in struct.variables.items():
        expected = (i18n.ui(f"map_ctl_{name}", lang) if var.kind == "control"
                    else tables.variable_name(var.vensim, lang))
        assert modelmap.node_label(struct, name, lang) == expected
        assert own.at[name, "label"].replace("\n", "" if lang == "zh" else " ") == expected
        assert own.at[name, "unit"] == (var.units if lang == "en"
                                        else tables.unit_label(var.units, "zh"))
    assert own.at["gdp", "unit"] == {"zh": "亿元/年", "en": "CNY100m/Year"}[lang]
    assert own.at["final_time", "label"] == {"zh": "终止时间", "en": "FINAL TIME"}[lang]


@pytest.mark.parametrize("text, width, lines", [
    ("价格水平年涨幅(GDP平减指数)", 18, ["价格水平年涨幅(GDP", "平减指数)"]),
    ("2020年全社会研发经费支出", 18, ["2020年全社会研发经", "费支出"]),
    ("nominal gdp growth rate", 18, ["nominal gdp growth", "rate"]),
], ids=["gdp-kept-whole", "year-kept-whole", "english-at-spaces"])
def test_labels_wrap_without_breaking_a_word(text, width, lines):
    assert modelmap._wrap(text, width).split("\n") == lines


def test_a_sector_shows_its_own_variables_and_shadows(mapped):
    struct, lay = mapped
    for view in lay.views:
        nodes, _ = modelmap.map_frames(struct, lay, "en", sector=view.title)
        own = set(nodes.loc[nodes["shape"].isin(["stock", "aux", "flow"]), "name"])
        assert own == {n for n, h in lay.home.items() if lay.views[h] is view}
        assert set(nodes.loc[nodes["shape"] == "shadow", "name"]).isdisjoint(own)


def test_an_unknown_sector_is_refused_by_name(mapped):
    with pytest.raises(ValueError, match="sector 'Nowhere'"):
        modelmap.map_frames(*mapped, "en", sector="Nowhere")


@pytest.mark.parametrize("loop", LOOPS, ids=[lp.id for lp in LOOPS])
def test_highlighting_a_loop_selects_exactly_its_variables_and_links(mapped, loop):
    struct, lay = mapped
    members, links = modelmap.loop_members(struct, loop)
    assert members, loop.id          # every named loop closes in the model's structure
    nodes, edges = modelmap.map_frames(struct, lay, "en", loop=loop)
    assert modelmap.highlighted(nodes) == members
    # the highlighted edges are exactly the loop's links, each drawn once (a flow's pipe into
    # or out of a stock stands for the link from the flow to that stock)
    lit = edges[edges["highlight"]]
    assert sorted(zip(lit["cause"], lit["effect"])) == sorted(links)
    drawn = list(zip(edges["cause"], edges["effect"]))
    assert len(set(drawn) - {(c, "") for c in struct.flows}) == len(struct.links)
    chart = modelmap.map_chart(nodes, edges, "en", dim_others=True)
    charts.validate_spec(chart)


def test_hover_values_are_the_runs(mapped, run):
    struct, lay = mapped
    nodes, _ = modelmap.map_frames(struct, lay, "zh", values=run)
    own = nodes[nodes["shape"].isin(["stock", "aux", "flow"])].set_index("name")
    checked = 0
    for name in own.index:
        for year in modelmap.MAP_YEARS:
            expected = float(run.at[year, name])
            got = own.at[name, f"v{year}"]
            assert math.isclose(got, expected, rel_tol=RTOL, abs_tol=0.0) or \
                (math.isnan(got) and math.isnan(expected)), (name, year)
            checked += 1
    assert checked == len(struct.variables) * len(modelmap.MAP_YEARS)
    ind = tables.indicator("rd_intensity")
    assert own.at[ind.variable, "v2025"] == pytest.approx(run.at[2025, ind.variable], rel=RTOL)


def test_without_a_run_no_value_is_shown(mapped):
    nodes, edges = modelmap.map_frames(*mapped, "en")
    assert nodes[[f"v{y}" for y in modelmap.MAP_YEARS]].isna().all().all()
    spec = modelmap.map_chart(nodes, edges.iloc[:0], "en").to_dict()
    assert "v2025" not in str(spec.get("layer", ""))


def test_every_sector_has_a_chinese_name(mapped):
    _, lay = mapped
    assert {v.title for v in lay.views} == set(tables.sector_names())  # none stale


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_model_map_tab_renders_in_each_language(lang):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"lang": lang})
    at.run()
    at.session_state["w_tab"] = i18n.ui("tab_map", lang)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="w_map_sector").value == "Economy"  # the first with a stock
    assert i18n.ui("map_intro", lang) in [c.value for c in at.caption]
    spec = json.dumps(json.loads(at.get("vega_lite_chart")[-1].proto.spec), ensure_ascii=False)
    assert f'"title": "{i18n.ui("map_tt_name", lang)}"' in spec and '"2025"' in spec
    at.selectbox(key="w_map_loop").set_value(LOOPS[0].id)
    at.selectbox(key="w_map_sector").set_value(modelmap.ALL)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    name = LOOPS[0].name_en if lang == "en" else LOOPS[0].name_zh
    assert any(name in c.value for c in at.caption)
