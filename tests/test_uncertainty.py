"""Uncertainty: the uncertainty file, Latin-hypercube draws, bands, probabilities, CLI."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario
from simulator.analysis import calibration
from simulator.analysis import uncertainty as unc
from simulator.model import engine_for
from simulator.plan import goals, tables

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"
SPEC_FILE = REPO / "models" / "uncertainty.yaml"


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.fixture(scope="module")
def spec():
    return unc.load_spec(SPEC_FILE)


@pytest.fixture(scope="module")
def small(plan, spec):
    return unc.run(plan, n=40, seed=0, spec=spec)


def test_file_covers_every_uncertain_constant(spec):
    """Triangular on the .mdl range with the .mdl value as mode; a calibrated constant has its
    fitted value as mode and its 95 % CI, within the .mdl range, as support."""
    consts = unc.uncertain_constants()
    assert [d.constant for d in spec.distributions] == list(consts)
    fitted = calibration.read()["parameters"]
    for d in spec.distributions:
        lo, hi = consts[d.constant]
        expected = (lo, engine_for().constants[d.constant], hi)
        if d.constant in fitted:
            f = fitted[d.constant]
            expected = (max(lo, f["ci95"][0]), f["value"], min(hi, f["ci95"][1]))
        assert (d.dist, d.min, d.mode, d.max) == ("triangular", *expected), d.constant


def test_uncertain_constants_exclude_levers_and_assumptions():
    consts = unc.uncertain_constants()
    assert "knowledge_depreciation_rate" in consts
    assert not {a.param for a in tables.assumptions()} & set(consts)
    assert not {lev.period_param(p) for lev in tables.levers() for p in tables.PERIODS} & set(consts)


@pytest.mark.parametrize("seed", [0, 7], ids=["seed0", "seed7"])
def test_sampling_reproducible(spec, seed):
    a, b = unc.sample(spec, 50, seed), unc.sample(spec, 50, seed)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(unc.sample(spec, 50, seed + 1))


def test_seed_none_differs(spec):
    assert not unc.sample(spec, 20, None).equals(unc.sample(spec, 20, None))


def test_latin_hypercube_strata_and_range(spec):
    n = 30
    draws = unc.sample(spec, n, 0)
    for d in spec.varied:
        col = draws[d.constant].to_numpy()
        assert col.min() >= d.min and col.max() <= d.max
        # one draw in each of the n equal-probability strata of the triangular CDF
        cdf = np.where(col < d.mode, (col - d.min) ** 2 / ((d.max - d.min) * (d.mode - d.min)
                                                           + 1e-300),
                       1 - (d.max - col) ** 2 / ((d.max - d.min) * (d.max - d.mode) + 1e-300))
        assert sorted(np.floor(cdf * n).astype(int).clip(0, n - 1)) == list(range(n)), d.constant


@pytest.mark.parametrize("dist,u,expected", [
    (unc.Distribution("x", "triangular", 0.0, 1.0, 2.0), [0.0, 0.5, 1.0], [0.0, 1.0, 2.0]),
    (unc.Distribution("x", "triangular", 0.0, 0.0, 1.0), [0.75], [0.5]),
    (unc.Distribution("x", "uniform", 1.0, 2.0, 3.0), [0.25], [1.5]),
    (unc.Distribution("x", "fixed", 4.0, 4.0, 4.0), [0.3], [4.0]),
], ids=["symmetric", "mode-at-min", "uniform", "fixed"])
def test_ppf(dist, u, expected):
    np.testing.assert_allclose(dist.ppf(np.array(u)), expected)


def test_probabilities_match_scalar_runs(plan, spec, small):
    """Hand computation: each draw run alone through the engine's scalar code."""
    eng = engine_for()
    probs = small.probabilities().set_index("key")
    hits = {t.key: 0 for t in tables.targets()}
    base = plan.params()
    for i in range(small.n):
        params = dict(base)
        params.update({c: float(small.draws[c].iloc[i]) for c in small.draws.columns})
        res = eng.run(params)
        frame = res.run()
        for t in tables.targets():
            series = frame[t.indicator]
            value = goals.cagr(series, t.year) if t.kind == "cagr" else float(
                series[np.isclose(series.index, t.year)].iloc[0])
            hits[t.key] += goals.is_met(value, t)
    for key, count in hits.items():
        assert probs.loc[key, "probability"] == pytest.approx(count / small.n), key


def test_bands_bracket_deterministic_run(plan, spec):
    res = unc.run(plan, n=400, seed=0, spec=spec)
    bands = res.bands()
    later = bands[bands["time"] > 2020.5]
    inside = (later["p05"] <= later["deterministic"] + 1e-9) & (later["deterministic"] <= later["p95"] + 1e-9)
    assert inside.all(), later[~inside]
    at2020 = bands[np.isclose(bands["time"], 2020)]
    # indicators anchored in 2020 have no spread that year unless an uncertain constant sets them
    assert (at2020["p05"] <= at2020["p50"]).all() and (at2020["p50"] <= at2020["p95"]).all()


def test_deterministic_column_equals_scorecard(plan, small, model):
    from simulator import scorecard
    card = scorecard(model.run(plan)).set_index("key")
    probs = small.probabilities().set_index("key")
    np.testing.assert_allclose(probs["deterministic"], card.loc[probs.index, "value"], rtol=1e-9)


def test_chunked_equals_one_pass(plan, spec):
    a = unc.run(plan, n=30, seed=3, spec=spec, chunk=7)
    b = unc.run(plan, n=30, seed=3, spec=spec)  # (on XLA: padded to 8 runs a chunk, and to 32)
    pd.testing.assert_frame_equal(a.probabilities(), b.probabilities(), check_exact=True)
    pd.testing.assert_frame_equal(a.bands(), b.bands(), check_exact=True)


def test_common_draws_across_scenarios(plan, spec):
    base = plan.with_levers(name="low", sme_campaign=1)
    res = unc.run([plan, base], n=30, seed=1, spec=spec)
    probs = res.probabilities().set_index(["scenario", "key"])
    assert probs.loc[("plan", "tech_smes@2025"), "p50"] > probs.loc[("low", "tech_smes@2025"), "p50"]


# ------------------------------------------------------------------------------------------
# Validation

GOOD = "name: t\ndistributions:\n  firm_exit_rate: {dist: triangular, min: 0.06, mode: 0.07, max: 0.09}\n"


@pytest.mark.parametrize("text,needle", [
    ("name: t\ndistributions:\n  nope: {dist: uniform, min: 0, max: 1}\n",
     "field 'distributions.nope': unknown uncertain constant; allowed " + ", ".join(list(unc.uncertain_constants())[:2])),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: normal, min: 0.06, max: 0.09}\n",
     "field 'distributions.firm_exit_rate.dist': value 'normal' is not a distribution; allowed triangular, uniform, fixed"),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: uniform, min: 0.09, max: 0.06}\n",
     "field 'distributions.firm_exit_rate.min': value 0.09 is greater than max 0.06"),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: triangular, min: 0.06, mode: 0.1, max: 0.08}\n",
     "field 'distributions.firm_exit_rate.mode': value 0.1 is out of range; allowed a number from 0.06 to 0.08"),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: uniform, min: 0.01, max: 0.08}\n",
     "field 'distributions.firm_exit_rate.min': value 0.01 is out of range; allowed a number from 0.06 to 0.09"),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: uniform, min: 0.06}\n",
     "field 'distributions.firm_exit_rate.max': missing"),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: uniform, min: 0.06, max: 0.09, mode: 0.07}\n",
     "field 'distributions.firm_exit_rate.mode': unknown field"),
    ("name: t\ndistributions:\n  firm_exit_rate: {dist: uniform, min: x, max: 0.09}\n",
     "value 'x' is not a number"),
    ("name: t\nextra: 1\ndistributions: {}\n", "field 'extra': unknown field"),
    ("name: t\n", "field 'distributions': value None is not a mapping"),
    ("", "the file is empty"),
    ("name: t\ndistributions: [\n", "malformed YAML"),
    ("name: t\nname: u\ndistributions: {}\n", "duplicate key 'name'"),
], ids=["unknown-constant", "bad-dist", "min-gt-max", "mode-outside", "outside-mdl-range",
        "missing-field", "extra-field", "not-number", "unknown-top", "no-distributions", "empty",
        "malformed", "duplicate"])
def test_validation_errors(text, needle):
    with pytest.raises(unc.UncertaintyError) as info:
        unc.loads_spec(text, source="u.yaml")
    message = str(info.value)
    assert message.startswith("u.yaml: ") and needle in message and "\n" not in message


def test_good_minimal_file_and_fixed():
    spec = unc.loads_spec(GOOD + "  patent_grant_lag: {dist: fixed, value: 2.5}\n")
    assert [d.constant for d in spec.varied] == ["firm_exit_rate"]
    assert spec.distributions[1].min == 2.5


@pytest.mark.parametrize("n", [0, -3], ids=["zero", "negative"])
def test_bad_n(spec, n):
    with pytest.raises(ValueError, match="n: value"):
        unc.sample(spec, n, 0)


# ------------------------------------------------------------------------------------------
# CLI



@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cwd")
    return [cli("uncertainty", PLAN, "--n", "300", "--seed", "0", "--format", "csv", cwd=cwd)
            for _ in range(2)] + [cli("uncertainty", PLAN, "--n", "300", "--seed", "0", cwd=cwd)]


def test_cli_csv_reproducible(cli_runs):
    a, b, _ = cli_runs
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    import io
    frame = pd.read_csv(io.StringIO(a.stdout))
    assert list(frame["key"]) == [t.key for t in tables.targets()]
    assert {"probability", "p05", "p50", "p95"} <= set(frame.columns)
    assert frame["probability"].between(0, 1).all()


def test_cli_backends_agree(cli_runs, tmp_path):
    """The command's default backend (auto: whichever is faster here) and --backend xla give the
    same probabilities, within one draw (a draw within rounding of a target may fall on either
    side on another CPU: tests/test_backends.py), and to rounding the same quantiles."""
    xla = cli("uncertainty", PLAN, "--n", "300", "--seed", "0", "--format", "csv",
              "--backend", "xla", cwd=tmp_path)
    assert xla.returncode == 0, xla.stderr
    import io
    a, b = (pd.read_csv(io.StringIO(out.stdout)) for out in (cli_runs[0], xla))
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=0, atol=1.0001 / 300)
    for col in ("p05", "p50", "p95"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9)


def test_cli_bad_backend_variable_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GUANGYUAN_ENGINE_BACKEND", "gpu")
    out = cli("uncertainty", PLAN, "--n", "10", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == ("error: $GUANGYUAN_ENGINE_BACKEND='gpu': must be one of auto, numpy, "
                          "xla\n")


def test_cli_main_leaves_the_process_backend_as_it_was():
    from simulator import cli as cli_module
    from simulator.sd import engine
    before = engine._process_backend
    assert cli_module.main(["uncertainty", str(PLAN), "--n", "0"]) == 2  # refused, nothing run
    assert engine._process_backend == before


def test_cli_table(cli_runs):
    out = cli_runs[2]
    assert out.returncode == 0, out.stderr
    # (to fit 100 columns each header is on two lines: 达成概率 over probability; --wide: one)
    head, sub = out.stdout.splitlines()[:2]
    assert "达成概率" in head and "probability" in sub
    assert "300 Latin-hypercube draws" in out.stdout
    assert len([line for line in out.stdout.splitlines() if line.startswith("plan ")]) == 16


@pytest.mark.parametrize("args,needle", [
    (["--uncertainty", "{bad}"], "field 'distributions.firm_exit_rate.dist'"),
    (["--uncertainty", "{missing}"], "file not found"),
    (["--n", "0"], "--n: value 0"),
], ids=["bad-file", "missing-file", "bad-n"])
def test_cli_errors(tmp_path, args, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\ndistributions:\n  firm_exit_rate: {dist: beta, min: 0.06, max: 0.09}\n",
                   encoding="utf-8")
    args = [a.format(bad=bad, missing=tmp_path / "nope.yaml") for a in args]
    out = cli("uncertainty", PLAN, *args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and needle in out.stderr
    assert out.stderr.count("\n") == 1 and out.stdout == ""


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_dask_local_cluster_identical(plan, spec, backend):
    """Workers compute on the client's backend (a worker process has its own default)."""
    pytest.importorskip("dask.distributed")
    from simulator.sd import engine
    engine.set_default_backend(backend)
    try:
        local = unc.run(plan, n=60, seed=0, spec=spec, chunk=20)
        remote = unc.run(plan, n=60, seed=0, spec=spec, chunk=20, dask=True)
    finally:
        engine.set_default_backend(None)
    pd.testing.assert_frame_equal(local.probabilities(), remote.probabilities(),
                                  check_exact=True)
    pd.testing.assert_frame_equal(local.bands(), remote.bands(), check_exact=True)
