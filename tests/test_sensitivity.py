"""Sensitivity: SALib Sobol and Morris on the engine, rankings, plots, CLI."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from simulator import load_scenario
from simulator.analysis import sensitivity as sens
from simulator.plan import tables  # noqa: E402

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"
TECH_SMES = next(t for t in tables.targets() if t.key == "tech_smes@2025")
INPUTS = ["sme_campaign", "hte_reward", "brand_building", "registration_fraction_2020",
          "literacy_ceiling"]


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.fixture(scope="module")
def sobol_small(plan):
    return sens.sobol(plan, INPUTS, n=256, seed=0, targets=[TECH_SMES])


@pytest.mark.parametrize("method,n", [("sobol", 64), ("morris", 6)], ids=["sobol", "morris"])
@pytest.mark.parametrize("seed", [0, 5], ids=["seed0", "seed5"])
def test_reproducible(plan, method, n, seed):
    a = sens.analyse(method, plan, inputs=INPUTS, n=n, seed=seed, targets=[TECH_SMES])
    b = sens.analyse(method, plan, inputs=INPUTS, n=n, seed=seed, targets=[TECH_SMES])
    pd.testing.assert_frame_equal(a.table, b.table)
    c = sens.analyse(method, plan, inputs=INPUTS, n=n, seed=seed + 1, targets=[TECH_SMES])
    assert not a.table.equals(c.table)


def test_sobol_ranks_the_campaign_first_and_irrelevant_inputs_last(sobol_small):
    rank = sobol_small.ranking("tech_smes@2025")
    assert rank["input"].iloc[0] == "sme_campaign"
    # brand building and the literacy ceiling do not enter the tech-SME stock
    last = rank.set_index("input").loc[["brand_building", "literacy_ceiling"]]
    assert (last["ST"].abs() < 0.02).all()
    assert (rank["ST_conf"] >= 0).all() and (rank["S1"] <= rank["ST"] + rank["ST_conf"] + 0.05).all()
    assert sobol_small.runs == 256 * (len(INPUTS) + 2)


def test_morris_agrees(plan):
    res = sens.morris(plan, INPUTS, n=10, seed=0, targets=[TECH_SMES])
    rank = res.ranking("tech_smes@2025").set_index("input")
    assert rank.loc["sme_campaign", "rank"] == 1
    assert rank.loc["brand_building", "mu_star"] == 0.0
    assert res.runs == 10 * (len(INPUTS) + 1)


def test_overall_and_top(sobol_small):
    assert sobol_small.overall().index[0] == "sme_campaign"
    assert len(sobol_small.top(2)) == 2


def test_swings_and_plots(plan, sobol_small):
    sw = sens.swings(plan, TECH_SMES, INPUTS)
    assert sw["input"].iloc[0] in ("sme_campaign", "registration_fraction_2020")
    assert sw.set_index("input").loc["brand_building", "swing"] == 0.0
    assert ((sw["low"] - sw["base"]) * (sw["high"] - sw["base"]) <= 1e-9).all()
    import matplotlib.figure
    for fig in (sens.plot_tornado(sw, "tech_smes@2025"),
                sens.plot_ranking(sobol_small, "tech_smes@2025")):
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
        matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("call,needle", [
    (lambda p: sens.sobol(p, INPUTS, n=100, seed=0), "n: value 100"),
    (lambda p: sens.sobol(p, ["nope"], n=64, seed=0), "inputs: value 'nope'"),
    (lambda p: sens.analyse("fast", p), "method: value 'fast'"),
], ids=["not-power-of-2", "unknown-input", "unknown-method"])
def test_errors(plan, call, needle):
    with pytest.raises(ValueError, match=needle):
        call(plan)


def test_input_sets():
    assert len(sens.inputs_for("levers")) == len(tables.levers())
    assert {i.kind for i in sens.inputs_for("constants")} == {"constant"}
    assert len(sens.inputs_for("all")) == len(tables.levers()) + len(sens.inputs_for("constants"))




def test_cli_morris_ranking(tmp_path):
    args = ["sensitivity", PLAN, "--method", "morris", "--n", "4", "--seed", "0", "--inputs",
            ",".join(INPUTS), "--top", "2"]
    a, b = cli(*args, cwd=tmp_path), cli(*args, cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    # two rows per target (the header may take two lines and notes wrap to fit 100 columns)
    keys = {t.key for t in tables.targets()}
    assert "mu_star" in a.stdout and len(keys) * 2 == sum(
        ln.split(" ", 1)[0] in keys for ln in a.stdout.splitlines())


@pytest.mark.parametrize("args,needle", [
    (["--n", "100"], "--n: value 100"),
    (["--inputs", "nope"], "--inputs: value 'nope'"),
], ids=["bad-n", "bad-input"])
def test_cli_errors(tmp_path, args, needle):
    out = cli("sensitivity", PLAN, "--seed", "0", *args, cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("error: ") and needle in out.stderr
