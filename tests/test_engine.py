"""The engine equals plain PySD runs: on three classic small models, on every shipped scenario
and on 200 random draws of every lever, assumption and uncertain constant — N runs on both
backends (numpy, and the same code compiled by XLA), one run on the scalar code."""
from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario
from simulator.model import engine_for, random_draws
from simulator.plan import tables
from simulator.sd.engine import Engine, EngineError
from simulator.sd.translate import _pysd, translated_file

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SMALL_MODELS = sorted((HERE / "models").glob("*.mdl"))  # models/invalid/ holds deliberately wrong ones
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
RTOL = 1e-9
VECTOR_BACKENDS = ["numpy", "xla"]


def _pysd_model(mdl: Path, build_root: Path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
        return _pysd().load(str(translated_file(mdl, build_root=build_root)))


def _pysd_run(model, names, params=None, time_step=None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace keyword in DataFrame.set_index.*")
        warnings.filterwarnings("ignore", message=".*extrapolating data.*")
        # reload=True: PySD keeps params and time step on the Model object (pysd-facts.md)
        out = model.run(params=params or {}, return_columns=names, time_step=time_step,
                        reload=True)
    return out.rename(columns=model.namespace)[names]


def _compare(engine_frame: pd.DataFrame, pysd_frame: pd.DataFrame) -> None:
    np.testing.assert_allclose(engine_frame.to_numpy(), pysd_frame.to_numpy(), rtol=RTOL,
                               atol=1e-12, err_msg=str(list(engine_frame.columns)))


# --- three classic small models ---------------------------------------------------------------

@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pysd-build")


@pytest.mark.parametrize("mdl", SMALL_MODELS, ids=[p.stem for p in SMALL_MODELS])
def test_small_model_equals_pysd(mdl, build_root):
    engine = Engine(mdl)
    names = sorted(n for n, node in engine.nodes.items() if node.kind != "lookup")
    ref = _pysd_run(_pysd_model(mdl, build_root), names)
    _compare(engine.run(variables=names).run()[names], ref)


@pytest.mark.parametrize("backend", VECTOR_BACKENDS)
@pytest.mark.parametrize("mdl", SMALL_MODELS, ids=[p.stem for p in SMALL_MODELS])
@pytest.mark.parametrize("draw", range(4))
def test_small_model_ensemble_equals_pysd_per_run(mdl, draw, backend, build_root):
    engine = Engine(mdl)
    assert engine.limits, "each test model varies at least one constant"
    rng = np.random.default_rng(draw)
    n = 8
    params = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in engine.limits.items()}
    names = sorted(n_ for n_, node in engine.nodes.items() if node.kind != "lookup")
    result = engine.run(params, variables=names, backend=backend)
    model = _pysd_model(mdl, build_root)
    for i in (0, n - 1):
        ref = _pysd_run(model, names, params={k: float(v[i]) for k, v in params.items()})
        _compare(result.run(i)[names], ref)


def test_goal_seeking_equals_the_euler_closed_form():
    engine = Engine(HERE / "models" / "goal_seeking.mdl")
    out = engine.run(variables=["level"])
    t = out.times
    dt, tau = 0.25, 5.0
    expected = 100 - (100 - 10) * (1 - dt / tau) ** (t / dt)
    np.testing.assert_allclose(out["level"], expected, rtol=1e-12)


def test_rk4_is_far_more_accurate_than_euler_on_goal_seeking():
    engine = Engine(HERE / "models" / "goal_seeking.mdl")
    exact = 100 - 90 * np.exp(-engine.run(variables=["level"]).times / 5.0)
    euler = engine.run(variables=["level"])["level"]
    rk4 = engine.run(variables=["level"], method="rk4")["level"]
    assert np.abs(rk4 - exact).max() < np.abs(euler - exact).max() / 1000


def test_rk4_converges_on_the_guangyuan_model():
    engine = engine_for()
    a = engine.run(method="rk4", time_step=0.25)
    b = engine.run(method="rk4", time_step=0.125)
    euler = engine.run()
    for var in ("rd_intensity", "high_tech_revenue", "innovation_index"):
        assert np.allclose(a[var], b[var], rtol=1e-3)
        assert np.allclose(euler[var], b[var], rtol=2e-2)


# --- the Guangyuan model ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gy_pysd(build_root):
    return _pysd_model(tables.MODEL_FILE, build_root)


@pytest.fixture(scope="module")
def compared_names() -> list[str]:
    """Every variable of the model: constants, auxiliaries, stocks, delays and smooths."""
    engine = engine_for()
    names = sorted(n for n, node in engine.nodes.items() if node.kind != "lookup")
    assert len(names) > 300
    return names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_equals_pysd(path, gy_pysd, compared_names):
    params = load_scenario(path).params()
    engine = engine_for().run(params, variables=compared_names).run()
    _compare(engine[compared_names], _pysd_run(gy_pysd, compared_names, params))


N_DRAWS = 200
DRAWS = random_draws(N_DRAWS, seed=0)  # levers per period, assumptions, uncertain constants


def test_draws_cover_levers_assumptions_and_uncertain_constants():
    lever_params = {l.period_param(p) for l in tables.levers() for p in tables.PERIODS}
    uncertain = set(DRAWS) - lever_params - {a.param for a in tables.assumptions()}
    assert lever_params <= set(DRAWS)
    assert len(uncertain) >= 40


@pytest.fixture(scope="module")
def ensembles(compared_names):
    return {b: engine_for().run(DRAWS, variables=compared_names, backend=b)
            for b in VECTOR_BACKENDS}


@pytest.mark.parametrize("i", range(N_DRAWS))
def test_random_draw_equals_pysd(i, ensembles, gy_pysd, compared_names):
    params = {k: float(v[i]) for k, v in DRAWS.items()}
    ref = _pysd_run(gy_pysd, compared_names, params)
    for backend, ensemble in ensembles.items():
        assert ensemble.n == N_DRAWS, backend
        _compare(ensemble.run(i)[compared_names], ref)


@pytest.mark.parametrize("i", [0, 17, 199])
def test_scalar_run_equals_the_ensemble_lane(i, ensembles, compared_names):
    """The scalar code and numpy's array code do the same operations in the same order;
    XLA may fuse a multiply and an add and has its own exp and log (last-bit differences).
    Variables that are zero up to rounding (the budget residual, a shortfall or unspent funds of
    nothing) are compared with the same absolute floor as the PySD comparison, 1e-12."""
    single = engine_for().run({k: float(v[i]) for k, v in DRAWS.items()},
                              variables=compared_names)
    assert single.n is None
    for backend, rtol in (("numpy", 1e-12), ("xla", 1e-10)):
        np.testing.assert_allclose(single.run()[compared_names],
                                   ensembles[backend].run(i)[compared_names], rtol=rtol,
                                   atol=1e-12, err_msg=backend)


def test_time_step_parameter_equals_pysd(gy_pysd, compared_names):
    engine = engine_for().run(time_step=0.125, variables=compared_names).run()
    _compare(engine[compared_names], _pysd_run(gy_pysd, compared_names, time_step=0.125))


def test_overriding_an_auxiliary_equals_pysd_and_warns(gy_pysd, compared_names):
    params = {"enterprise_rd": 0.0, "fiscal_rd": 0.0}
    with pytest.warns(UserWarning, match="Replacing a variable by a constant"):
        engine = engine_for().run(params, variables=compared_names).run()
    with pytest.warns(UserWarning, match="Replacing a variable by a constant"):
        ref = _pysd_run(gy_pysd, compared_names, params)
    _compare(engine[compared_names], ref)


# --- errors -------------------------------------------------------------------------------------

def test_bad_params_are_named():
    engine = engine_for()
    with pytest.raises(KeyError, match="no_such_constant"):
        engine.run({"no_such_constant": 1.0})
    with pytest.raises(KeyError, match="knowledge_stock"):
        engine.run({"knowledge_stock": 1.0})
    with pytest.raises(ValueError, match="different lengths"):
        engine.run({"patent_elasticity": np.ones(3), "hv_lapse_rate": np.ones(4)})
    with pytest.raises(ValueError, match="time_step must be the same"):
        engine.run({"time_step": np.array([0.1, 0.2])})


MDL_TAIL = """
FINAL TIME = 10
	~	Year
	~	|
INITIAL TIME = 0
	~	Year
	~	|
SAVEPER = 1
	~	Year
	~	|
TIME STEP = 0.25
	~	Year
	~	|
"""

UNSUPPORTED = {
    "forecast": ("y = Time\n\t~\tDmnl\n\t~\t|\nx = FORECAST(y, 2, 1)\n\t~\tDmnl\n\t~\t|\n",
                 "Forecast", "x"),
    "sample_if_true": ("x = SAMPLE IF TRUE(Time > 2, Time, 0)\n\t~\tDmnl\n\t~\t|\n",
                       "SampleIfTrue", "x"),
    "random": ("x = RANDOM UNIFORM(0, 1, 0)\n\t~\tDmnl\n\t~\t|\n", "RANDOM_UNIFORM", "x"),
    "smooth_order": ("y = Time\n\t~\tDmnl\n\t~\t|\nx = SMOOTH N(y, 2, 0, 2.5)\n\t~\tDmnl\n\t~\t|\n",
                     "order 2.5", "x"),
    "subscripts": ("dim: (d1-d3)\n\t~\t~\t|\nx[dim] = 1, 2, 3\n\t~\tDmnl\n\t~\t|\n",
                   "subscript", ""),
    "short_delay": ("y = 1\n\t~\tDmnl\n\t~\t|\nx = DELAY3(y, 0.5)\n\t~\tDmnl\n\t~\t|\n",
                    "delay time shorter", "x"),
}


@pytest.mark.parametrize("case", list(UNSUPPORTED), ids=list(UNSUPPORTED))
def test_unsupported_constructs_raise_naming_function_and_variable(case, tmp_path):
    body, what, variable = UNSUPPORTED[case]
    mdl = tmp_path / f"{case}.mdl"
    mdl.write_text("{UTF-8}\n" + body + MDL_TAIL, encoding="utf-8")
    with pytest.raises(EngineError) as err:
        Engine(mdl).run(variables=["x"] if variable else None)
    message = str(err.value)
    assert what.lower() in message.lower()
    if variable:
        assert f"'{variable}'" in message or f" {variable}:" in message or f" {variable} " in message


def test_editing_the_model_changes_engine_results(tmp_path):
    edited = tmp_path / "edited.mdl"
    shutil.copy(tables.MODEL_FILE, edited)
    text = edited.read_text(encoding="utf-8").replace("patent grant lag = 3", "patent grant lag = 1")
    edited.write_text(text, encoding="utf-8")
    base = engine_for().run(variables=["valid_invention_patents"])
    changed = Engine(edited).run(variables=["valid_invention_patents"])
    assert not math.isclose(base["valid_invention_patents"][-1],
                            changed["valid_invention_patents"][-1], rel_tol=1e-6)



POWERS_MDL = """{UTF-8}
base = Time - 3
	~	Dmnl
	~	|
exponent = 2
	~	Dmnl [1,3]
	~	|
half = 0.5
	~	Dmnl [0.1,1]
	~	|
crossing = base ^ exponent
	~	Dmnl
	~	Negative and zero bases: the engine must fall back to the plain power.
	|
product = (Time + 1) ^ exponent * 3 * (Time + 2) ^ half
	~	Dmnl
	~	A product of powers: one exp while every term is moderate.
	|
level = INTEG(crossing / 100 + product / 1000, 1)
	~	Dmnl
	~	|
""" + MDL_TAIL


@pytest.mark.parametrize("backend", VECTOR_BACKENDS)
def test_powers_equal_pysd_where_bases_cross_zero(backend, tmp_path, build_root):
    """Powers are computed as exp(e * log(b)) only where that is b ** e up to rounding."""
    mdl = tmp_path / "powers.mdl"
    mdl.write_text(POWERS_MDL, encoding="utf-8")
    engine = Engine(mdl)
    names = ["base", "crossing", "product", "level"]
    params = {"exponent": np.array([1.0, 2.0, 3.0]), "half": np.array([0.5, 0.25, 1.0])}
    result = engine.run(params, variables=names, backend=backend)
    assert (result["base"][:3] <= 0).all() and (result["crossing"][:3] > 0).any()
    model = _pysd_model(mdl, build_root)
    for i in range(3):
        one = {k: float(v[i]) for k, v in params.items()}
        ref = _pysd_run(model, names, params=one)
        _compare(result.run(i)[names], ref)
        _compare(engine.run(one, variables=names).run()[names], ref)


@pytest.mark.parametrize("backend", VECTOR_BACKENDS)
def test_a_product_of_powers_that_overflows_is_the_plain_product(backend, tmp_path):
    """b ** k * b ** -k is inf * 0 = nan once b ** k overflows, not exp(0) = 1.

    At b = 6, k = 400 the second power is subnormal (6.5e-312): numpy keeps it (inf * 6.5e-312
    = inf); XLA flushes subnormal numbers to zero (inf * 0 = nan), as documented in
    simulator/sd/xla.py, and the expected values say so."""
    mdl = tmp_path / "overflow.mdl"
    mdl.write_text("{UTF-8}\nk = 400\n\t~\tDmnl\n\t~\t|\n"
                   "x = (Time + 1) ^ k * (Time + 1) ^ (-k)\n\t~\tDmnl\n\t~\t|\n" + MDL_TAIL,
                   encoding="utf-8")
    k = np.array([1.0, 100.0, 400.0, 1000.0])
    out = Engine(mdl).run({"k": k}, variables=["x"], backend=backend)
    base = (out.times + 1)[:, None]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        small = base ** -k
        if backend == "xla":
            small = np.where(np.abs(small) < np.finfo(float).tiny, 0.0, small)
        expected = base ** k * small
    assert np.isnan(expected[-1, 2]) and np.isnan(expected[-1, 3])
    assert (expected[:, 3] == 1.0).sum() >= 2  # b = 1 and b = 2 stay finite at k = 1000
    np.testing.assert_allclose(out["x"], expected, rtol=1e-12)


# --- choosing the backend -----------------------------------------------------------------------

def test_backend_is_chosen_by_argument_then_environment(monkeypatch):
    from simulator.sd import engine as engine_module
    monkeypatch.delenv("GUANGYUAN_ENGINE_BACKEND", raising=False)
    # auto: the backend measured faster on this machine (tests/test_backends.py)
    assert engine_module._choose_backend(None, "euler") in ("numpy", "xla")
    assert engine_module._choose_backend(None, "rk4") == "numpy"
    assert engine_module._choose_backend("numpy", "euler") == "numpy"
    monkeypatch.setenv("GUANGYUAN_ENGINE_BACKEND", "numpy")
    assert engine_module._choose_backend(None, "euler") == "numpy"
    assert engine_module._choose_backend("xla", "euler") == "xla"
    monkeypatch.setenv("GUANGYUAN_ENGINE_BACKEND", "gpu")
    with pytest.raises(ValueError, match=r"\$GUANGYUAN_ENGINE_BACKEND must be one of auto, "
                                         r"numpy, xla; got 'gpu'"):
        engine_module._choose_backend(None, "euler")
    with pytest.raises(ValueError, match="backend must be one of"):
        engine_module._choose_backend("fast", "euler")
    with pytest.raises(ValueError, match="Euler only"):
        engine_module._choose_backend("xla", "rk4")


def test_xla_runs_padded_to_a_few_sizes_keep_every_run():
    """N is rounded up to a compiled size with copies of the last run; the copies are dropped
    and every real run keeps its own result."""
    from simulator.sd.xla import padded_runs
    assert [padded_runs(n) for n in (1, 2, 3, 1000, 1024, 1025, 10_000)] == \
        [1, 2, 4, 1024, 1024, 2048, 10_240]
    draws = random_draws(5, seed=3)
    names = ["valid_invention_patents", "rd_intensity"]
    five = engine_for().run(draws, variables=names, backend="xla")
    assert five["rd_intensity"].shape == (16, 5)
    numpy_five = engine_for().run(draws, variables=names, backend="numpy")
    for name in names:
        np.testing.assert_allclose(five[name], numpy_five[name], rtol=1e-10)
    assert np.ptp(five["rd_intensity"][-1]) > 0  # five different runs, not one repeated


def test_schedule_saves_where_pysd_saves():
    """The steps and saves both backends follow: PySD's rule, including a TIME STEP that does not
    divide SAVEPER (saves where the two coincide) and a final time off the step grid."""
    from simulator.sd.schedule import schedule
    from simulator.sd.xla import slots
    plan = schedule(2020.0, 2035.0, 0.0625, 1.0)
    assert len(plan.steps) == 240 and plan.last == 2035.0
    assert list(np.flatnonzero(plan.save_at)) == [16 * k for k in range(16)]
    np.testing.assert_array_equal(plan.times, np.arange(2020.0, 2036.0))
    step_slots, slot_last, count = slots(plan)
    assert list(step_slots[::16]) == list(range(15)) and slot_last == 15 and count == 16
    plan = schedule(0.0, 1.0, 0.3, 0.5)  # 0, 0.3, 0.6, 0.9 and the final 1.2: only 0 is on 0.5
    assert len(plan.steps) == 4 and list(plan.save_at) == [True, False, False, False, False]
    plan = schedule(0.0, 100.0, 1 / 128, 0.1)  # 1/128 and 0.1 meet every 0.5
    np.testing.assert_allclose(plan.times, np.arange(0.0, 100.25, 0.5), rtol=0, atol=1e-12)
