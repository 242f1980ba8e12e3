"""The engine's guards against silently wrong numbers: which steps are saved, INTEGER and MODULO
on both backends, Python names and their collisions, run settings and constants checked before a
run, and PySD running what the engine refuses.

The models in tests/models/guards/ are written for these tests (its README says what each guards).
References are values worked out by hand, as closed forms, and PySD, which the engine follows."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario
from simulator.base.inputs import MAX_STEPS
from simulator.model import Model, engine_for
from simulator.plan import tables
from simulator.sd import translate
from simulator.sd.engine import Engine, EngineError, EngineFallbackWarning, PySDRunner
from simulator.sd.translate import _pysd, translated_file

HERE = Path(__file__).resolve().parent
GUARDS = HERE / "models" / "guards"
REPO = HERE.parent
RTOL = 1e-9


def _pysd_run(mdl: Path, build_root: Path, names: list[str], **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
        model = _pysd().load(str(translated_file(mdl, build_root=build_root)))
        warnings.filterwarnings("ignore", message=".*inplace keyword in DataFrame.set_index.*")
        out = model.run(return_columns=names, **kwargs)
    return out.rename(columns=model.namespace)[names]


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pysd-build")


def _write(tmp_path: Path, name: str, body: str, *, saveper: str = "1", time_step: str = "0.25",
           final: str = "10") -> Path:
    mdl = tmp_path / f"{name}.mdl"
    mdl.write_text("{UTF-8}\n" + body + f"""
FINAL TIME = {final}
	~	Year
	~	|
INITIAL TIME = 0
	~	Year
	~	|
SAVEPER = {saveper}
	~	Year [0,?]
	~	|
TIME STEP = {time_step}
	~	Year [0,?]
	~	|
""", encoding="utf-8")
    return mdl


# --- INTEGER, MODULO and comparisons at exact ties (SAVEPER = TIME STEP) -------------------------

CALENDAR = GUARDS / "plan_calendar.mdl"
CALENDAR_NAMES = ["plan_year", "completed_plan_years", "year_in_review_cycle", "review_due",
                  "in_final_plan_year"]
MONTHS = np.arange(0, 121)  # INITIAL TIME 0 to FINAL TIME 120, TIME STEP = SAVEPER = 1


def _calendar_by_hand() -> pd.DataFrame:
    """plan_calendar.mdl's values as closed forms of the month t, in integer arithmetic where
    the value is a whole number (so the reference itself is exact)."""
    t = MONTHS
    return pd.DataFrame({
        # Time / 12 - 5, written as one fraction
        "plan_year": (t - 60) / 12,
        # PySD's INTEGER is Python's int(x): truncation toward zero (-0.5 -> 0, not -1)
        "completed_plan_years": np.fix((t - 60) / 12),
        # PySD's MODULO(x, m) is x - m * int(x / m) for m > 0, C's fmod: the sign of x.
        # With x = (t - 60) / 12 and m = 2 that is fmod(t - 60, 24) / 12
        "year_in_review_cycle": np.fmod(t - 60, 24) / 12,
        # plan year >= 2 exactly when t - 60 >= 24
        "review_due": (t >= 84).astype(float),
        # plan year >= 4 exactly when t - 60 >= 48
        "in_final_plan_year": (t >= 108).astype(float),
    }, index=pd.Index(t.astype(float), name="time"))


@pytest.fixture(scope="module")
def calendar_pysd(build_root) -> pd.DataFrame:
    return _pysd_run(CALENDAR, build_root, CALENDAR_NAMES).astype(float)


@pytest.mark.parametrize("how", ["scalar", "numpy", "auto"])
def test_integer_modulo_and_ties_equal_the_hand_values_and_pysd(how, calendar_pysd):
    """At months 72, 84, 96, 108 and 120 plan year is a whole number; XLA computes it a last
    bit below (Time times the rounded reciprocal of 12, fused with the subtraction), which
    makes INTEGER one less, MODULO 2 instead of 0 at 84 and 108, and the ties at 84 and 108
    false. Every run way the engine offers gives the exact values, at every saved month."""
    engine = Engine(CALENDAR)
    if how == "scalar":
        frame = engine.run(variables=CALENDAR_NAMES).run()
    else:
        frame = engine.run(n=3, variables=CALENDAR_NAMES, backend=how).run(2)
    frame = frame[CALENDAR_NAMES]
    hand = _calendar_by_hand()
    np.testing.assert_array_equal(frame.index.to_numpy(), hand.index.to_numpy())
    whole = ["completed_plan_years", "review_due", "in_final_plan_year"]
    np.testing.assert_array_equal(frame[whole], hand[whole])  # whole numbers: exactly
    # plan year and the cycle are below 8 in magnitude: a few units in the last place (8.9e-16)
    np.testing.assert_allclose(frame[["plan_year", "year_in_review_cycle"]],
                               hand[["plan_year", "year_in_review_cycle"]], rtol=0, atol=4e-15)
    assert frame.loc[84.0, "completed_plan_years"] == 2.0  # the step XLA would miss
    assert frame.loc[84.0, "year_in_review_cycle"] == 0.0 and frame.loc[84.0, "review_due"] == 1.0
    assert frame.loc[66.0, "completed_plan_years"] == 0.0  # INTEGER(-0.5) truncates to 0
    assert frame.loc[30.0, "year_in_review_cycle"] == pytest.approx(-0.5, abs=1e-15)
    np.testing.assert_allclose(frame, calendar_pysd, rtol=RTOL, atol=0)


def test_pysd_agrees_with_the_hand_values(calendar_pysd):
    """The hand values are PySD's, so the two references cannot both be wrong the same way."""
    np.testing.assert_array_equal(calendar_pysd.index.to_numpy(), MONTHS.astype(float))
    np.testing.assert_allclose(calendar_pysd, _calendar_by_hand(), rtol=0, atol=4e-15)


def test_xla_is_refused_for_integer_by_name():
    with pytest.raises(ValueError, match=r"xla backend cannot compute INTEGER in variable "
                                         r"'completed_plan_years'"):
        Engine(CALENDAR).run(n=2, variables=["completed_plan_years"], backend="xla")


COMPARISON = """x = IF THEN ELSE(-10 + Time / 10 <= -4, 0, 1)
	~	Dmnl
	~	On XLA -10 + 60/10 is -3.9999999999999996, so the comparison flips at Time 60.
	|
"""


@pytest.mark.parametrize("how", ["scalar", "numpy", "auto"])
def test_a_comparison_at_an_exact_tie_equals_pysd(how, tmp_path, build_root):
    mdl = _write(tmp_path, "comparison", COMPARISON, time_step="1", final="100")
    engine = Engine(mdl)
    ref = _pysd_run(mdl, build_root, ["x"])
    assert ref.loc[60.0, "x"] == 0.0 and ref.loc[61.0, "x"] == 1.0
    out = engine.run(variables=["x"]) if how == "scalar" else \
        engine.run(n=2, variables=["x"], backend=how)
    np.testing.assert_array_equal(out.run(1 if how != "scalar" else 0)["x"], ref["x"])
    with pytest.raises(ValueError, match=r"cannot compute a comparison \(<=\) in variable 'x'"):
        engine.run(n=2, variables=["x"], backend="xla")


POWER = """k = 2
	~	Dmnl [1,3]
	~	|
y = INTEGER((Time / 10) ^ k)
	~	Dmnl
	~	(Time/10)^2 is 16 at Time 40; exp(2 * log(4)) is 15.999999999999998.
	|
"""


@pytest.mark.parametrize("how", ["scalar", "numpy", "auto"])
def test_a_power_under_integer_equals_pysd(how, tmp_path, build_root):
    """The engine computes a power with an exponent fixed for the run through a logarithm
    (rounding only); where the power meets INTEGER it computes it plainly, as PySD does."""
    mdl = _write(tmp_path, "power", POWER, time_step="1", final="100")
    engine = Engine(mdl)
    assert "_logpos" not in engine.source(vector=how != "scalar")
    ref = _pysd_run(mdl, build_root, ["y"])
    assert ref.loc[40.0, "y"] == 16.0
    out = engine.run(variables=["y"]) if how == "scalar" else \
        engine.run({"k": np.array([2.0, 2.0, 3.0])}, variables=["y"], backend=how)
    np.testing.assert_array_equal(out.run(0)["y"], ref["y"])


def test_the_shipped_model_keeps_xla(monkeypatch):
    """Its comparisons are of Time with constants, which XLA computes exactly; and no power
    meets a comparison, so powers still go through shared logarithms. So XLA is allowed: an
    explicit request is honoured, and ``auto`` leaves the choice to the speed measured on the
    machine (which one that picks depends on the CPU and the load, so it is stubbed here)."""
    from simulator.sd import backends
    from simulator.sd.engine import _choose_backend
    assert engine_for()._xla_inexact is None
    assert "_logpos" in engine_for().source(vector=True)
    assert _choose_backend("xla", "euler", engine_for()._xla_inexact) == "xla"
    monkeypatch.setattr(backends, "choose", lambda *a, **k: "xla")
    assert _choose_backend("auto", "euler", engine_for()._xla_inexact) == "xla"


def test_saveper_equal_to_time_step_follows_a_changed_time_step():
    """SAVEPER = TIME STEP is a reference, not a number: a run with another TIME STEP saves at
    every one of its steps, as PySD does."""
    engine = Engine(CALENDAR)
    assert engine.constants["saveper"] == 1.0
    out = engine.run(variables=["plan_year"], time_step=0.5)
    np.testing.assert_allclose(out.times, np.arange(0.0, 120.25, 0.5))


# --- SAVEPER not a multiple of TIME STEP ---------------------------------------------------------

BASS = GUARDS / "bass_diffusion.mdl"
BASS_NAMES = ["adoption", "firms_not_yet_using_it", "firms_using_the_technology", "share_using"]
IMITATION = (0.6, 0.9)


@pytest.fixture(scope="module")
def bass_pysd(build_root) -> list[pd.DataFrame]:
    return [_pysd_run(BASS, build_root, BASS_NAMES, params={"imitation_rate": q})
            for q in IMITATION]


def test_saveper_off_the_step_grid_saves_where_the_grids_meet(bass_pysd):
    """TIME STEP 1/128 and SAVEPER 0.1 meet where k/128 = m/10, i.e. 5k = 64m: every 64 steps,
    every 0.5 year; from 0 to FINAL TIME 10 that is 21 rows. PySD saves there."""
    for ref in bass_pysd:
        assert len(ref) == 21
        np.testing.assert_allclose(ref.index.to_numpy(), 0.5 * np.arange(21), rtol=0, atol=1e-12)


@pytest.mark.parametrize("how", ["scalar", "numpy", "xla"])
def test_saveper_off_the_step_grid_saves_where_pysd_saves(how, bass_pysd):
    """A nonlinear model (Bass diffusion) with SAVEPER 0.1 and TIME STEP 1/128 (the engine once
    saved one row of it): the same saved times as PySD, and the same values at each of them."""
    engine = Engine(BASS)
    if how == "scalar":
        frames = [engine.run({"imitation_rate": q}, variables=BASS_NAMES).run()
                  for q in IMITATION]
    else:
        out = engine.run({"imitation_rate": np.array(IMITATION)}, variables=BASS_NAMES,
                         backend=how)
        frames = [out.run(k) for k in range(len(IMITATION))]
    for frame, ref in zip(frames, bass_pysd):
        np.testing.assert_allclose(frame.index.to_numpy(), 0.5 * np.arange(21), rtol=0,
                                   atol=1e-12)
        np.testing.assert_allclose(frame.index.to_numpy(), ref.index.to_numpy(), rtol=0,
                                   atol=1e-12)
        np.testing.assert_allclose(frame[BASS_NAMES].to_numpy(), ref.to_numpy(), rtol=RTOL,
                                   atol=0)
    # not a flat line: diffusion has run most of its course by year 10
    assert frames[0]["share_using"].iloc[0] == 0.005 and frames[0]["share_using"].iloc[-1] > 0.9


# --- names ---------------------------------------------------------------------------------------

NAMES_BODY = """"R&D spending" = 1
	~	Dmnl
	~	|
"a-b" = 2
	~	Dmnl
	~	|
input = 3
	~	Dmnl
	~	|
"1st rate" = 4
	~	Dmnl
	~	|
Ä euro = 5
	~	Dmnl
	~	|
"€ euro" = 6
	~	Dmnl
	~	|
total = "R&D spending" + "a-b" * input + "1st rate" + Ä euro + "€ euro" + Time
	~	Dmnl
	~	|
"""


def test_the_engine_uses_pysds_names_exactly(tmp_path, build_root):
    mdl = _write(tmp_path, "names", NAMES_BODY)
    engine = Engine(mdl)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="chardet.universaldetector is deprecated")
        model = _pysd().load(str(translated_file(mdl, build_root=build_root)))
    pysd_names = set(model.namespace.values()) - {"time"}
    assert set(engine.variables) == pysd_names
    assert {"rd_spending", "ab", "input_1", "nvs_1st_rate", "a_euro", "nvs_euro"} <= pysd_names
    names = sorted(pysd_names)
    ref = _pysd_run(mdl, build_root, names)
    np.testing.assert_allclose(engine.run(variables=names).run()[names], ref, rtol=RTOL)


@pytest.mark.parametrize("first,second", [("a b", '"a b"'), ("input", "input 1")],
                         ids=["quoted", "reserved-word"])
def test_two_names_with_one_python_name_are_an_error_naming_both(first, second, tmp_path):
    body = f"{first} = 1\n\t~\tDmnl\n\t~\t|\n{second} = 2\n\t~\tDmnl\n\t~\t|\n"
    mdl = _write(tmp_path, "clash", body)
    with pytest.raises(EngineError) as err:
        Engine(mdl)
    assert repr(first) in str(err.value) and repr(second) in str(err.value)


def test_tables_python_name_is_pysds():
    assert translate.python_name("Ä euro") == "a_euro"
    assert translate.python_name('"€ euro"') == "nvs_euro"
    assert translate.python_name("input") == "input_1"
    assert translate.python_name("hte reward 2021 2025") == "hte_reward_2021_2025"


# --- run settings and constants ------------------------------------------------------------------

BAD_SETTINGS = {
    "time_step=0": (dict(time_step=0.0), r"^time_step: value 0 is not allowed; allowed a number > 0$"),
    "time_step<0": (dict(time_step=-0.25), r"^time_step: value -0.25 is not allowed"),
    "time_step=nan": (dict(time_step=math.nan),
                      r"^time_step: value nan is not allowed; allowed a finite number$"),
    "time_step=text": (dict(time_step="0.25"), r"^time_step: value '0.25' is not a number$"),
    "final_time=1e308": (dict(params={"final_time": 1e308}),
                         rf"steps; allowed at most {MAX_STEPS:,}$"),
    "final<initial": (dict(params={"final_time": 2000.0}),
                      r"^final_time: value 2000 is not allowed; allowed a time after "
                      r"initial_time 2020$"),
    "saveper=0": (dict(params={"saveper": 0.0}), r"^saveper: value 0 is not allowed; allowed at "
                                                 r"least time_step 0.0625$"),
    "saveper<step": (dict(params={"saveper": 0.01}), r"^saveper: value 0.01 is not allowed"),
    "constant=nan": (dict(params={"knowledge_depreciation_rate": math.nan}),
                     r"^params\['knowledge_depreciation_rate'\]: value nan is not allowed; "
                     r"allowed a finite number$"),
    "constant=inf in a run": (dict(params={"patent_elasticity": np.array([0.5, math.inf])}),
                              r"^params\['patent_elasticity'\]: value inf \(run 1\) is not "
                              r"allowed"),
    "negative where [0.1, 0.3]": (dict(params={"knowledge_depreciation_rate": -0.5}),
                                  r"value -0.5 is negative; the model declares it at least 0.1$"),
    "n=0": (dict(n=0), r"^n: value 0 is not allowed; allowed a whole number of runs >= 1$"),
    "too many step-runs": (dict(n=5_000_000), r"allowed at most 1,000,000,000 in one call$"),
}


@pytest.mark.parametrize("case", list(BAD_SETTINGS), ids=list(BAD_SETTINGS))
def test_bad_run_settings_are_refused_by_name(case):
    kwargs, message = BAD_SETTINGS[case]
    with pytest.raises(ValueError, match=message):
        engine_for().run(**kwargs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(time_step=0.0), r"time_step: value 0 is not allowed"),
    (dict(params={"knowledge_depreciation_rate": math.nan}), r"value nan is not allowed"),
    (dict(params={"knowledge_depreciation_rate": -0.1}), r"value -0.1 is negative"),
    (dict(params={"nominal_gdp_growth": -1.0}), r"value -1 is negative"),
], ids=["time_step=0", "nan", "negative", "negative-growth"])
@pytest.mark.parametrize("backend", ["engine", "pysd"])
def test_model_run_refuses_bad_settings_on_both_backends(backend, kwargs, message):
    model = Model(backend=backend)
    with pytest.raises(ValueError, match=message):
        model.run(load_scenario(REPO / "scenarios" / "plan.yaml"), **kwargs)


@pytest.mark.parametrize("backend", ["scalar", "numpy", "xla"])
def test_a_lower_limit_alone_refuses_negative_values(backend, tmp_path):
    """``[0,?]`` in the units field (a lower limit, no upper one) is a declared lower limit."""
    mdl = _write(tmp_path, "lower", "k = 1\n\t~\tDmnl [0,?]\n\t~\t|\n"
                                    "s = INTEG(-k, 10)\n\t~\tDmnl\n\t~\t|\n")
    engine = Engine(mdl)
    assert engine.lower_limits["k"] == 0.0 and "k" not in engine.limits
    value = -1.0 if backend == "scalar" else np.array([1.0, -1.0])
    kwargs = {} if backend == "scalar" else {"backend": backend}
    with pytest.raises(ValueError, match=r"params\['k'\]: value -1.* is negative; the model "
                                         r"declares it at least 0$"):
        engine.run({"k": value}, variables=["s"], **kwargs)
    assert engine.run({"k": 0.0}, variables=["s"])["s"][-1] == 10.0


# --- PySD runs what the engine refuses -----------------------------------------------------------

SUBSCRIPTED_EXTRA = """
region: (r1-r3)
	~	~	|
extra by region[region] = 1, 2, 3
	~	Dmnl
	~	A subscripted variable the engine refuses; nothing else uses it.
	|
"""


@pytest.fixture(scope="module")
def subscripted_copy(tmp_path_factory) -> Path:
    """The shipped model with one subscripted variable added: the engine refuses it by name."""
    mdl = tmp_path_factory.mktemp("edited") / "guangyuan_subscripted.mdl"
    text = tables.MODEL_FILE.read_text(encoding="utf-8")
    head, tail = text.split("\n", 1)
    mdl.write_text(head + "\n" + SUBSCRIPTED_EXTRA.lstrip("\n") + tail, encoding="utf-8")
    with pytest.raises(EngineError, match="subscript"):
        Engine(mdl)
    return mdl


def test_model_falls_back_to_pysd_with_a_notice(subscripted_copy):
    scenario = load_scenario(REPO / "scenarios" / "plan.yaml")
    with pytest.warns(EngineFallbackWarning, match=r"subscript.*PySD runs it instead") as notes:
        model = Model(subscripted_copy)
    assert len(notes) == 1 and "\n" not in str(notes[0].message)
    assert model.backend == "pysd"
    expected = Model().run(scenario)
    got = model.run(scenario)
    np.testing.assert_allclose(got["value"], expected["value"], rtol=RTOL)


def test_ensemble_entry_point_falls_back_to_a_loop_of_pysd_runs(subscripted_copy):
    params = {"knowledge_depreciation_rate": np.array([0.12, 0.25]),
              "patent_elasticity": 0.5}
    names = ["knowledge_stock", "valid_invention_patents"]
    with pytest.warns(EngineFallbackWarning, match=r"an ensemble of N runs as N PySD runs"):
        runner = engine_for(subscripted_copy)
    assert isinstance(runner, PySDRunner)
    got = runner.run(params, variables=names)
    expected = engine_for().run(params, variables=names, backend="numpy")
    np.testing.assert_array_equal(got.times, expected.times)
    for name in names:
        assert got[name].shape == (16, 2)
        np.testing.assert_allclose(got[name], expected[name], rtol=RTOL)
    with pytest.raises(EngineError, match="subscript"):
        engine_for(subscripted_copy, fallback=False)


def test_a_run_the_engine_refuses_runs_on_pysd_with_a_notice():
    """A delay shorter than its order × TIME STEP is refused by the engine at run time (PySD
    lowers the order, with its own warning); Model runs that one run on PySD."""
    scenario = load_scenario(REPO / "scenarios" / "plan.yaml")
    params = {"patent_grant_lag": 0.1}
    with pytest.warns(EngineFallbackWarning, match=r"cannot run this model with these settings "
                                                   r"\(DELAY of variable invention_grants"):
        with pytest.warns(UserWarning, match="casting delay order from 3 to 1"):
            got = Model().run(scenario, params=params)
    with pytest.warns(UserWarning, match="casting delay order from 3 to 1"):
        expected = Model(backend="pysd").run(scenario, params=params)
    np.testing.assert_allclose(got["value"], expected["value"], rtol=RTOL)
