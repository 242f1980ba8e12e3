"""The Vensim model run through PySD: 2020 anchors, extreme conditions, integration error,
documentation of constants, independence of runs and translation caching."""
from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import Model, load_scenario
from simulator.model import engine_for
from simulator.plan import scenario, tables
from simulator.sd.translate import translated_file

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
SCENARIO_IDS = [p.stem for p in SCENARIOS]
INDICATORS = tables.indicators()

# Table 1 (表1 广元市“十四五”创新发展指标), column 2020, typed in from the plan.
PLAN_2020 = {
    "rd_intensity": 0.67,
    "high_value_invention_patents": 54,
    "valid_trademarks": 1,
    "innovation_platforms": 76,
    "tech_smes": 103,
    "high_tech_enterprises": 44,
    "high_tech_revenue": 221,
    "high_tech_share": 18.3,
    "tech_contract_turnover": 0.7,
    "science_literacy": 8.6,
}


@pytest.fixture(scope="module", params=Model.BACKENDS)
def gy_model(request) -> Model:
    """Every model test runs on the numpy engine and on the PySD reference."""
    return Model(backend=request.param)


@pytest.fixture(scope="module")
def runs(gy_model) -> dict[str, pd.DataFrame]:
    return {p.stem: gy_model.run_wide(load_scenario(p)) for p in SCENARIOS}


@pytest.fixture(scope="module")
def stocks() -> list[str]:
    nodes = engine_for().nodes
    names = [n.name for n in nodes.values() if n.kind == "stock"]
    assert len(names) > 20
    return names


# --- 2020 anchors ---------------------------------------------------------------------------

@pytest.mark.parametrize("scen", SCENARIO_IDS)
@pytest.mark.parametrize("indicator", list(PLAN_2020), ids=list(PLAN_2020))
def test_2020_values_equal_plan_table(runs, scen, indicator):
    assert runs[scen].loc[2020.0, indicator] == pytest.approx(PLAN_2020[indicator], rel=1e-12)


@pytest.mark.parametrize("indicator", [i for i in INDICATORS if i.value_2020 is not None],
                         ids=lambda i: i.id)
def test_indicator_table_2020_values_match_plan(indicator):
    assert indicator.value_2020 == PLAN_2020[indicator.id]


@pytest.mark.parametrize("scen", SCENARIO_IDS)
def test_2020_values_do_not_depend_on_levers(runs, scen):
    pd.testing.assert_series_equal(runs[scen].loc[2020.0], runs["baseline"].loc[2020.0],
                                   check_names=False, rtol=1e-12)


def test_rd_spending_growth_is_undefined_in_2020_and_defined_after(runs):
    growth = runs["baseline"]["rd_spending_growth"]
    assert math.isnan(growth.loc[2020.0])
    assert growth.loc[2021.0:].notna().all()


def test_innovation_index_2020_equals_hand_calculation(gy_model, runs):
    # Five blocks of capped standard-value scores, equal weights (docs/index-method.md); 2020:
    population = 230.566                      # 万人, 7th census
    fiscal_st_share = 2.25 / 270 * 100        # % (S&T budget 2.25 亿 of 270 亿 expenditure)
    rd_fte = 6.753667 / 0.0045 / 0.98         # R&D FTE: spending / cost per FTE / utilisation
    environment = (8.6 / 15 * 100 + (76 / population) / 1 * 100) / 2
    inputs = (0.67 / 2.5 * 100 + fiscal_st_share / 5 * 100
              + min(100, (rd_fte / population) / 10 * 100)) / 3
    output = ((180 / population) / 8 * 100 + (0.7 / population) / 0.02 * 100) / 2
    industrialisation = (18.3 / 30 * 100 + (200 / (221 / 0.183)) * 100 / 40 * 100) / 2
    development = (1008.01 / population * 10000) / 100000 * 100
    expected = 0.2 * (environment + inputs + output + industrialisation + development)
    assert runs["baseline"].loc[2020.0, "innovation_index"] == pytest.approx(expected, rel=1e-5)
    without = (environment + inputs + output + industrialisation) / 4
    w = gy_model.run_wide(scenario.default(), variables=["innovation_index_excluding_development"])
    assert w.loc[2020.0, "innovation_index_excluding_development"] == pytest.approx(without, rel=1e-5)


# --- hand calculations of single mechanisms --------------------------------------------------

def test_trend_gdp_follows_compound_euler_growth(gy_model):
    w = gy_model.run_wide(scenario.default(), variables=["trend_gdp"])
    dt = gy_model.time_step
    expected = 1008.01 * (1 + 0.065 * dt) ** (15 / dt)
    assert w.loc[2035.0, "trend_gdp"] == pytest.approx(expected, rel=1e-12)


def test_gdp_is_the_trend_when_the_productivity_loop_is_cut(gy_model):
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    cut = gy_model.run_wide(plan, params={"switch_productivity_loop": 0.0},
                            variables=["gdp", "trend_gdp"])
    np.testing.assert_allclose(cut["gdp"], cut["trend_gdp"], rtol=1e-12)
    on = gy_model.run_wide(plan, variables=["gdp", "trend_gdp", "rd_intensity"])
    # R&D above its 2020 intensity adds output: GDP above the trend by 2035, by a plausible margin
    assert (on.loc[2021.0:, "rd_intensity"] > 0.67).all()
    gain = on.loc[2035.0, "gdp"] / on.loc[2035.0, "trend_gdp"] - 1
    assert 0 < gain < 0.1


def test_gdp_step_by_hand(gy_model):
    """One Euler step of GDP: trend growth plus rho x (R&D / GDP - 0.67 %)."""
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    dt = 1.0  # one step a year, so consecutive saved values are consecutive steps
    w = gy_model.run_wide(plan, variables=["gdp", "rd_spending", "rd_rate_of_return"], time_step=dt)
    t0, t1 = 2024.0, 2025.0
    rho = w.loc[t0, "rd_rate_of_return"]
    bonus = rho * (w.loc[t0, "rd_spending"] / w.loc[t0, "gdp"] - 0.0067)
    assert w.loc[t1, "gdp"] == pytest.approx(w.loc[t0, "gdp"] * (1 + dt * (0.065 + bonus)), rel=1e-12)


def test_rd_intensity_is_rd_spending_over_gdp(gy_model):
    w = gy_model.run_wide(load_scenario(REPO / "scenarios" / "plan.yaml"),
                          variables=["rd_spending", "gdp", "rd_intensity", "rd_spending_growth"])
    np.testing.assert_allclose(w["rd_intensity"], w["rd_spending"] / w["gdp"] * 100, rtol=1e-12)
    by_hand = ((w.loc[2025.0, "rd_spending"] / w.loc[2020.0, "rd_spending"]) ** (1 / 5) - 1) * 100
    assert w.loc[2025.0, "rd_spending_growth"] == pytest.approx(by_hand, rel=1e-12)


# --- extreme conditions ----------------------------------------------------------------------

ZERO_RD = {"enterprise_rd": 0.0, "fiscal_rd": 0.0, "institutional_rd": 0.0,
           "acquired_knowledge": 0.0}


@pytest.fixture(scope="module")
def zero_rd(gy_model) -> pd.DataFrame:
    with pytest.warns(UserWarning, match="Replacing a variable by a constant"):
        return gy_model.run_wide(
        scenario.default(), params=ZERO_RD,
        variables=["knowledge_stock", "invention_grants", "valid_invention_patents",
                   "high_tech_enterprises", "rd_intensity", "new_hte_certifications"])


def test_zero_rd_knowledge_decays_at_the_depreciation_rate(gy_model, zero_rd):
    dt = gy_model.time_step
    k0 = zero_rd.loc[2020.0, "knowledge_stock"]
    for year in (2025.0, 2035.0):
        expected = k0 * (1 - 0.15 * dt) ** ((year - 2020) / dt)
        assert zero_rd.loc[year, "knowledge_stock"] == pytest.approx(expected, rel=1e-12)


def test_zero_rd_patents_fall_only_after_the_lag(zero_rd):
    grants = zero_rd["invention_grants"]
    assert grants.loc[2021.0] > 0.9 * grants.loc[2020.0]     # the pipeline still delivers
    # then it dries up: knowledge falls to e^-2.25 = 11 % by 2035, grants with elasticity 0.5
    assert grants.loc[2035.0] < 0.5 * grants.loc[2020.0]
    assert (np.diff(grants.to_numpy()) <= 1e-12).all()
    patents = zero_rd["valid_invention_patents"]
    assert patents.loc[2035.0] < patents.loc[2025.0] < patents.max()


def test_zero_rd_htes_fall_within_three_years(zero_rd):
    hte = zero_rd["high_tech_enterprises"]
    # R&D above a share of sales is a hard criterion: no R&D, no new certificate, no renewal
    assert (zero_rd.loc[2021.0:, "new_hte_certifications"] == 0).all()
    assert hte.loc[2023.0] < 0.5 * hte.loc[2020.0]
    assert zero_rd.loc[2021.0:, "rd_intensity"].eq(0).all()


NO_BUDGET = {"switch_budget_loop": 0.0}


@pytest.mark.parametrize("reward", [1e3, 1e6, 1e12], ids=["1e3", "1e6", "1e12"])
def test_unlimited_rewards_htes_bounded_by_the_candidate_pipeline(gy_model, reward):
    params = {lev: reward for lev in ("hte_reward_2021_2025", "hte_reward_2026_2030",
                                      "hte_reward_2031_2035")}
    w = gy_model.run_wide(scenario.default(), params={**params, **NO_BUDGET}, variables=[
        "high_tech_enterprises", "new_hte_certifications", "certification_candidates",
        "candidate_formation", "max_certification_fraction"])
    # certifications never exceed the maximum fraction of the candidates in a year
    assert (w["new_hte_certifications"]
            <= w["max_certification_fraction"] * w["certification_candidates"] + 1e-9).all()
    # every certified firm was a candidate: HTEs + candidates only grow by candidate formation
    firms = w["high_tech_enterprises"] + w["certification_candidates"]
    formed = w["candidate_formation"].cummax() * (w.index - 2020)
    assert (firms <= 44 + 59 + formed + 1e-6).all()
    assert w["high_tech_enterprises"].max() < 1000


def test_unlimited_rewards_saturate(gy_model):
    def hte(reward):
        params = {f"hte_reward_{p.replace('-', '_')}": reward for p in tables.PERIODS}
        return gy_model.run_wide(scenario.default(), params={**params, **NO_BUDGET},
                                 variables=["high_tech_enterprises"])["high_tech_enterprises"]
    np.testing.assert_allclose(hte(1e6), hte(1e4), rtol=1e-6)


def test_unaffordable_rewards_are_cut_by_the_budget(gy_model):
    """With the budget binding, a reward the S&T budget cannot pay is scaled down with every
    other programme; the shortfall is visible and the identity holds."""
    params = {f"hte_reward_{p.replace('-', '_')}": 1e4 for p in tables.PERIODS}
    names = ["programme_funding_fraction", "budget_shortfall", "budget_residual",
             "fiscal_st_spending", "funded_st_outlays", "other_st_spending",
             "requested_st_outlays", "min_other_st_share", "high_tech_enterprises"]
    w = gy_model.run_wide(scenario.default(), params=params, variables=names)
    free = gy_model.run_wide(scenario.default(), params={**params, **NO_BUDGET},
                             variables=["high_tech_enterprises"])
    late = w.loc[2022.0:]
    funded = np.minimum(1, (1 - w["min_other_st_share"]) * w["fiscal_st_spending"]
                        / w["requested_st_outlays"])
    np.testing.assert_allclose(w["programme_funding_fraction"], funded, rtol=1e-12)
    assert (late["programme_funding_fraction"] < 0.5).all()
    assert (late["budget_shortfall"] > 0).all()
    np.testing.assert_allclose(w["fiscal_st_spending"], w["funded_st_outlays"] + w["other_st_spending"],
                               rtol=1e-12)
    assert (w["other_st_spending"] >= w["min_other_st_share"] * w["fiscal_st_spending"] - 1e-12).all()
    assert w.loc[2035.0, "high_tech_enterprises"] < free.loc[2035.0, "high_tech_enterprises"]


def _lever_draws(n: int, seed: int) -> list[scenario.Scenario]:
    rng = np.random.default_rng(seed)
    levers, assumptions = tables.levers(), tables.assumptions()
    out = [
        scenario.from_dict({"name": "all-min", "levers": {l.id: l.min for l in levers},
                            "assumptions": {a.id: a.min for a in assumptions}}),
        scenario.from_dict({"name": "all-max", "levers": {l.id: l.max for l in levers},
                            "assumptions": {a.id: a.max for a in assumptions}}),
    ]
    for i in range(n):
        out.append(scenario.from_dict({
            "name": f"draw-{i}",
            "levers": {l.id: [float(rng.uniform(l.min, l.max)) for _ in tables.PERIODS]
                       for l in levers},
            "assumptions": {a.id: float(rng.uniform(a.min, a.max)) for a in assumptions},
        }))
    return out


DRAWS = _lever_draws(12, seed=0)
SHARES = ["high_tech_share", "science_literacy", "fiscal_st_share", "rd_intensity",
          "conversion_share", "hv_share_of_grants", "renewal_success"]


@pytest.mark.parametrize("scen", DRAWS, ids=[s.name for s in DRAWS])
def test_no_stock_negative_and_shares_within_bounds(gy_model, stocks, scen):
    w = gy_model.run_wide(scen, variables=stocks + SHARES)
    negative = {c: float(w[c].min()) for c in stocks if w[c].min() < 0}
    assert not negative
    assert np.isfinite(w.to_numpy()).all()
    for col in SHARES:
        upper = 1.0 if col in ("hv_share_of_grants", "renewal_success") else 100.0
        assert w[col].between(0, upper).all(), col


# --- integration error -----------------------------------------------------------------------

@pytest.mark.parametrize("scen", SCENARIOS, ids=SCENARIO_IDS)
def test_halving_time_step_changes_no_target_year_indicator_by_more_than_1pct(gy_model, scen):
    s = load_scenario(scen)
    base = gy_model.run_wide(s)
    half = gy_model.run_wide(s, time_step=gy_model.time_step / 2)
    for year in (2025.0, 2035.0):
        rel = (half.loc[year] - base.loc[year]).abs() / base.loc[year].abs()
        assert rel.max() < 0.01, rel.sort_values().tail(3).to_dict()


# --- independence of runs --------------------------------------------------------------------

def test_runs_are_independent(gy_model):
    plan = load_scenario(REPO / "scenarios" / "plan.yaml")
    base = scenario.default()
    first = gy_model.run_wide(base)
    gy_model.run_wide(plan, time_step=0.25, params={"knowledge_depreciation_rate": 0.3})
    again = gy_model.run_wide(base)
    pd.testing.assert_frame_equal(first, again)


# --- documentation of the model --------------------------------------------------------------

MDL_TEXT = tables.MODEL_FILE.read_text(encoding="utf-8")
BLOCKS = [b for b in MDL_TEXT.split("\\\\\\---///")[0].split("|") if "=" in b.split("~")[0]]
NUMBER_BLOCKS = [b for b in BLOCKS
                 if re.fullmatch(r"\s*[^=]+=\s*-?[\d.]+(e-?\d+)?\s*", b.split("~")[0])]
SOURCE_WORDS = ("Plan", "plan", "Observed", "observed", "Literature", "Assumption", "assumption",
                "Law", "Lever", "Scenario assumption", "Unit conversion", "definition",
                "Placeholder", "National monitoring scheme", "Certificates")


def _name(block: str) -> str:
    return block.split("~")[0].split("=")[0].strip()


@pytest.mark.parametrize("block", NUMBER_BLOCKS, ids=_name)
def test_every_constant_has_units_and_a_source(block):
    _, units, comment = block.split("~")[:3]
    assert units.strip(), "no units"
    assert any(w in comment for w in SOURCE_WORDS), f"no source in: {comment.strip()!r}"


def test_model_has_many_constants():
    assert len(NUMBER_BLOCKS) > 100


@pytest.mark.parametrize("line", re.findall(r"(?:SMOOTH|DELAY)\w*\(.*", MDL_TEXT))
def test_delay_initial_values_are_not_integer_literals(line):
    init = line.rsplit(",", 1)[1].strip(" )")
    name = init.lower()
    value = re.search(rf"^{re.escape(init)}\s*=\s*(\S+)\s*$", MDL_TEXT, re.M | re.I)
    assert value is not None, f"initial value {init} should be a named constant"
    assert "." in value.group(1) or not re.fullmatch(r"-?\d+", value.group(1)), name


# --- translation ------------------------------------------------------------------------------

def test_translation_has_no_warnings_and_is_cached(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
        first = translated_file(tables.MODEL_FILE, build_root=tmp_path)
    stamp = first.stat().st_mtime_ns
    assert translated_file(tables.MODEL_FILE, build_root=tmp_path) == first
    assert first.stat().st_mtime_ns == stamp


def test_editing_the_model_changes_results(tmp_path):
    edited = tmp_path / "edited.mdl"
    edited.write_text(MDL_TEXT.replace("knowledge depreciation rate = 0.15",
                                       "knowledge depreciation rate = 0.3"), encoding="utf-8")
    assert edited.read_text(encoding="utf-8") != MDL_TEXT
    base = Model().run_wide(scenario.default())
    changed = Model(edited).run_wide(scenario.default())
    assert changed.loc[2035.0, "valid_invention_patents"] < base.loc[2035.0, "valid_invention_patents"]
