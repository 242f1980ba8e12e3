"""Conditioning the ensemble on 2015–2020 (history matching): the cut, the counts, seeds, the
refusal of later data, and the prior path of the uncertainty ensemble."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario
from simulator.analysis import calibration
from simulator.analysis import conditioning as cd
from simulator.analysis import uncertainty as unc
from simulator.model import engine_for
from simulator.plan.scenario import default

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"
#: A strict setting (no discrepancy, cut 2) under which the current data rule out many draws,
#: so that the checks below see rejections; the defaults are checked as well.
STRICT = {"cut": 2.0, "discrepancy": 0.0}


@pytest.fixture(scope="module")
def spec():
    return unc.load_spec()


@pytest.fixture(scope="module")
def plan():
    return load_scenario(PLAN)


@pytest.fixture(scope="module")
def used():
    return cd.facts()


def recomputed(spec, draws: pd.DataFrame, targets, discrepancy: float) -> np.ndarray:
    """Each draw's implausibility (largest over the facts) computed here from the formula, from
    the calibration's model values (not from the module's implausibility function)."""
    problem = calibration.Problem(targets, [])
    params = {**default("t").params(), **spec.fixed,
              **{c: draws[c].to_numpy(dtype=float) for c in draws.columns}}
    model, obs = problem.model_values(params)
    worst = np.zeros(len(draws))
    for k, t in enumerate(targets):
        gap = model[k] - obs[k]
        if t.comparison == "le":
            gap = np.maximum(gap, 0)
        elif t.comparison == "ge":
            gap = np.minimum(gap, 0)
        sd = np.sqrt((t.sigma * obs[k]) ** 2 + (discrepancy * obs[k]) ** 2)
        worst = np.maximum(worst, np.abs(gap) / sd)
    return worst


@pytest.fixture(scope="module")
def strict(spec):
    return cd.condition(spec, 40, 0, **STRICT)


def test_facts_are_fit_facts_up_to_2020(used):
    assert used and all(t.role == "fit" and t.year <= 2020 for t in used)
    both = cd.facts(roles=("fit", "check"))
    assert {t.role for t in both} == {"fit", "check"} and len(both) > len(used)


@pytest.mark.parametrize("kwargs", [{}, STRICT], ids=["default", "strict"])
def test_every_kept_draw_is_within_the_cut(spec, used, kwargs):
    got = cd.condition(spec, 40, 0, **kwargs)
    worst = recomputed(spec, got.draws, used, got.discrepancy)
    assert (worst <= got.cut).all(), worst.max()
    np.testing.assert_allclose(got.implausibility, worst, rtol=1e-9)


def test_the_first_round_keeps_exactly_the_consistent_prior_draws(spec, used, strict):
    """Round 1 is ``sample(spec, n, seed)``: of it, the draws kept are those within the cut."""
    prior = unc.sample(spec, 40, 0)
    worst = recomputed(spec, prior, used, 0.0)
    kept_first = strict.origin[strict.origin < 40]
    assert list(kept_first) == list(np.flatnonzero(worst <= STRICT["cut"]))
    assert 0 < len(kept_first) < 40  # the strict setting rules out some and keeps some
    pd.testing.assert_frame_equal(strict.draws.iloc[:len(kept_first)].reset_index(drop=True),
                                  prior.iloc[kept_first].reset_index(drop=True))


def _extreme(spec, used):
    """(constant, value at an end of its .mdl range, implausibility there) of the varied
    constant that, moved alone from the modes to an end of its range, contradicts the facts most."""
    limits = engine_for().limits
    modes = {d.constant: d.mode for d in spec.varied}
    rows, labels = [], []
    for d in spec.varied:
        for v in limits[d.constant]:
            rows.append({**modes, d.constant: v})
            labels.append((d.constant, v))
    worst = recomputed(spec, pd.DataFrame(rows), used, cd.DISCREPANCY)
    i = int(np.argmax(worst))
    return (*labels[i], float(worst[i])), modes


def _fixed_spec(values: dict) -> unc.UncertaintySpec:
    return unc.spec_from_dict({"name": "fixed", "distributions": {
        k: {"dist": "fixed", "value": float(v)} for k, v in values.items()}})


def test_a_draw_far_from_the_data_is_rejected_and_a_central_one_kept(spec, used):
    (const, value, worst), modes = _extreme(spec, used)
    assert worst > cd.CUT, (const, value, worst)
    central = cd.condition(_fixed_spec(modes), 5, 0)
    assert (central.kept, central.drawn, central.rejected) == (5, 5, 0)
    assert central.draws.shape == (5, 0)  # nothing varies: the rows stand for the central run
    with pytest.raises(cd.ConditioningError) as info:
        cd.condition(_fixed_spec({**modes, const: value}), 5, 0)
    message = str(info.value)
    assert "\n" not in message
    assert "only 0 of 100 draws" in message and "implausibility ≤ 3" in message
    assert "at least 5 needed" in message


def test_too_few_consistent_draws_is_one_line_naming_the_cut_and_counts(spec):
    with pytest.raises(cd.ConditioningError) as info:
        cd.condition(spec, 10, 0, cut=1e-6, max_draws=30)
    message = str(info.value)
    assert "\n" not in message
    assert "only 0 of 30 draws" in message and "implausibility ≤ 1e-06" in message
    assert "at least 10 needed" in message and "ruled out most:" in message


def test_fewer_than_asked_when_allowed(spec):
    got = cd.condition(spec, 40, 0, max_draws=40, min_kept=1, **STRICT)
    assert got.drawn == 40 and 0 < got.kept < 40 and got.rounds == 1
    assert f"kept {got.kept} of 40 draws" in got.summary()


@pytest.mark.parametrize("seed", [0, 11], ids=["seed0", "seed11"])
def test_same_seed_same_survivors(spec, seed):
    a, b = (cd.condition(spec, 30, seed, **STRICT) for _ in range(2))
    pd.testing.assert_frame_equal(a.draws, b.draws, check_exact=True)
    assert (a.drawn, a.rounds, list(a.origin)) == (b.drawn, b.rounds, list(b.origin))
    pd.testing.assert_series_equal(a.rejections, b.rejections)
    assert not a.draws.equals(cd.condition(spec, 30, seed + 1, **STRICT).draws)


def test_seed_none_draws_afresh(spec):
    a, b = cd.condition(spec, 10, None), cd.condition(spec, 10, None)
    assert not a.draws.equals(b.draws)


def test_summary_counts_add_up(strict, used):
    c = strict
    assert c.kept == len(c.draws) == 40 == c.requested
    assert c.kept + c.rejected == c.drawn and c.rejected > 0 and c.rounds >= 2
    assert c.acceptance == pytest.approx(c.kept / c.drawn, rel=1e-12)
    assert list(c.rejections.index) == [t.id for t in used] == list(c.decisive.index)
    assert c.decisive.sum() == c.rejected
    assert (c.rejections >= c.decisive).all() and (c.rejections <= c.rejected).all()
    assert (np.diff(c.origin) > 0).all() and c.origin[-1] == c.drawn - 1  # stops at the 40th
    assert list(c.draws.index) == list(range(40)) and c.draws.index.name == "run"
    top = c.ruled_out_most()
    assert top and top[0][1] == c.rejections.max()
    text = c.summary()
    assert text.startswith(f"kept 40 of {c.drawn} draws consistent with 2015–2020 "
                           "(implausibility ≤ 2,")
    assert f"ruled out most: {top[0][0]} ({top[0][1]})" in text


@pytest.mark.parametrize("year", [2021, 2022.5], ids=["2021", "mid-2022"])
def test_facts_after_2020_are_refused(spec, used, year):
    late = dataclasses.replace(used[0], id="late_fact", year=year)
    with pytest.raises(cd.ConditioningError, match=f"fact 'late_fact': year {year!r} is not "
                       "allowed; the ensemble is conditioned on observations dated 2020"):
        cd.condition(spec, 5, 0, targets=[*used, late])


@pytest.mark.parametrize("kwargs, needle", [
    ({"cut": 0}, "cut: value 0"), ({"cut": math.nan}, "cut: value nan"),
    ({"discrepancy": -0.1}, "discrepancy: value -0.1"), ({"roles": ("anchor",)}, "roles"),
    ({"min_kept": 50}, "min_kept 50"), ({"max_draws": 5}, "max_draws 5"),
], ids=["cut-0", "cut-nan", "discrepancy-negative", "role", "min-kept", "max-draws"])
def test_bad_arguments(spec, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        cd.condition(spec, 10, 0, **kwargs)


def test_a_failed_run_is_implausible(used):
    model = np.array([[np.nan, 1.0]] * len(used))
    obs = np.ones((len(used), 2))
    imp = cd.implausibility(model, obs, used)
    assert np.isinf(imp[:, 0]).all() and (imp[:, 1] == 0).all()


# ------------------------------------------------------------------------------------------
# The ensemble: conditioned by default, the prior on request

def test_run_is_conditioned_by_default(plan, spec):
    res = unc.run(plan, n=30, seed=0, spec=spec)
    got = cd.condition(spec, 30, 0)
    assert res.conditioned and res.conditioning.drawn == got.drawn
    pd.testing.assert_frame_equal(res.draws, got.draws, check_exact=True)
    assert res.summary() == got.summary()


def test_prior_path_is_the_old_ensemble(plan, spec):
    """``conditioned=False``: the draws of ``sample`` and the probabilities computed from them
    as before conditioning existed."""
    res = unc.run(plan, n=30, seed=0, spec=spec, conditioned=False)
    assert not res.conditioned and res.conditioning is None
    draws = unc.sample(spec, 30, 0)
    pd.testing.assert_frame_equal(res.draws, draws, check_exact=True)
    targets = unc.tables.targets()
    times, data = unc.evaluate({**plan.params(), **spec.fixed}, draws,
                               [t.indicator for t in targets])
    expected = [float(unc.met(unc.target_values(data, times, t), t).mean()) for t in targets]
    np.testing.assert_array_equal(res.probabilities()["probability"], expected)
    assert "not conditioned" in res.summary()
    pd.testing.assert_frame_equal(
        unc.probability_of_targets(plan, 30, 0, spec, conditioned=False), res.probabilities())


def test_cli_says_how_many_were_kept_and_prior_flag(tmp_path):
    out = cli("uncertainty", PLAN, "--n", "40", "--seed", "0", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    flat = " ".join(out.stdout.split())
    assert "kept 40 of" in flat and "draws consistent with 2015–2020 (implausibility ≤ 3" in flat
    prior = cli("uncertainty", PLAN, "--n", "40", "--seed", "0", "--prior", cwd=tmp_path)
    assert prior.returncode == 0, prior.stderr
    assert "40 draws of the prior distributions, not conditioned" in " ".join(
        prior.stdout.split())
