"""The engine on a corpus of small Vensim models, one construct each, all written for this
project (``tests/models/corpus/``, listed in its README). Every model either runs on every
backend equal to PySD 3.14.3 (rtol 1e-9, every variable, every saved time) and, for most, to
Vensim's semantics written out by hand as closed forms (rtol 1e-12), or is refused with an
EngineError naming the construct and the variable."""
from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from simulator.model import engine_for
from simulator.sd.engine import Engine, EngineError, EngineFallbackWarning, PySDRunner
from simulator.sd.translate import _pysd, translated_file

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "models" / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
BACKENDS = ["scalar", "numpy", "xla"]
RTOL_PYSD = 1e-9
# The hand calculations are exact arithmetic: engine and formula differ by rounding only (a few
# units in the last place per step, at most 80 steps here). The absolute floor covers values
# that are exactly zero by hand and a rounding error away from it in the engine.
RTOL_HAND = 1e-12
ATOL_HAND = 1e-12

#: Models the engine refuses: (text the message names, the variable it names).
REFUSED = {
    "sample_if_true": ("SampleIfTrue", "Held Peak Time"),
    "subscripts": ("subscript", "Region"),
    "delay_fixed_of_delay": ("DELAY FIXED", "Pipeline"),
    "delay_n_feeding_stock": ("DELAY N", "Shipments"),
}
#: A constant of each model varied across the runs of a vector run (checked run by run).
VARIED = {
    "active_initial": "utilisation_target", "builtins": None,
    "control_expressions": "rate", "delay_fixed": "opening_rate", "delays": "start_rate",
    "integer_float": "departures", "pulse": "pulse_width", "smooth": "start_value",
    "smooth_n_order": None, "trend": "average_time", "lookups": "offset", "na": None,
    "if_then_else": "threshold", "min": "cap", "special_characters": "lambda_1",
}
#: Models the XLA backend refuses by name, with what the refusal says: DELAY FIXED runs on numpy
#: only, and an INTEGER of a value computed with a division in the loop could be a whole unit off
#: on XLA (the engine's XLA guard).
NUMPY_ONLY = {
    "delay_fixed": r"DELAY FIXED in variable '",
    "integer_float": r"cannot compute INTEGER in variable 'whole_periods'",
}
#: Variables where PySD is not Vensim and the engine follows Vensim: a SMOOTH whose initial value
#: is an integer literal keeps PySD's state in an integer array, so PySD's first step smooths
#: towards the input truncated to an integer (pinned by
#: test_pysd_truncates_a_smooths_first_input_after_an_integer_initial_value). These are checked
#: against the hand calculation only.
PYSD_DIFFERS = {"integer_float": ("share", "share_staged")}


# --- Vensim's answers written out by hand -------------------------------------------------------
# Each function gives, for the saved times ``t`` of its model, closed forms of Vensim's semantics
# (Euler integration; time advanced by whole steps from 0 or the initial time). Every TIME STEP
# here is a power of two, so the times themselves are exact.

def _n(t: np.ndarray, dt: float, t0: float = 0.0) -> np.ndarray:
    """The step index n of each saved time t = t0 + n * dt."""
    return np.rint((t - t0) / dt).astype(int)


def _stages_left(n: np.ndarray, q: float, stages: int) -> np.ndarray:
    """What is left of a displacement from equilibrium at the output of ``stages`` identical
    first-order stages, all displaced by 1 at step 0 with their input at equilibrium, after n
    Euler steps (0 for n < 0). A stage keeps ``1 - q`` of its own displacement each step and takes
    ``q = stages * dt / T`` of the one upstream, so the output keeps
    sum_{j < stages} C(n, j) q^j (1 - q)^(n - j) (by induction on the stage)."""
    return np.array([sum(math.comb(k, j) * q ** j * (1 - q) ** (k - j)
                         for j in range(min(stages, k + 1))) for k in np.maximum(n, 0)])


def _euler(initial: float, flow, t: np.ndarray, dt: float) -> np.ndarray:
    """A stock under Euler at the saved times: its initial value plus dt times the flow (a hand
    formula of time) at every earlier step."""
    n = _n(t, dt)
    increments = flow(np.arange(n.max()) * dt) * dt
    return initial + np.concatenate([[0.0], np.cumsum(increments)])[n]


def _hand_min(t):
    n = _n(t, 0.5)
    return {
        # Demand = t / 2 reaches the cap 2.5 at week 5: MIN is the demand before, the cap after
        "served": np.where(t <= 5, t / 2, 2.5),
        # MIN(cap - demand, 0): 0 until week 5, the negative excess after
        "shortfall": np.where(t <= 5, 0.0, 2.5 - t / 2),
        # the least of t, 7 - t and 2.5: t up to 2.5, the cap on [2.5, 4.5], 7 - t after
        "tent": np.where(t <= 2.5, t, np.where(t <= 4.5, 2.5, 7 - t)),
        # Euler, dt = 0.5: sum_{k<n} 0.5 * (k / 4) = n (n - 1) / 16 up to step 10, then 1.25 a step
        "served_total": np.where(n <= 10, n * (n - 1) / 16, 90 / 16 + 1.25 * (n - 10)),
    }


def _hand_if_then_else(t):
    return {
        "above": np.where(t > 3, 1.0, 0.0),  # strict: 0 at hour 3 itself
        "at_or_above": np.where(t >= 3, 10.0, -10.0),  # not strict: 10 at hour 3
        "band": np.where(t < 2, -1.0, np.where(t <= 4, 0.0, 1.0)),
        "picked": np.where((t > 3) & (t <= 4), t, -t),  # Above = 1 and Band = 0 on (3, 4] only
        # Euler: a flow of 1 from the first step after hour 3 (3.25) on
        "hours_above": np.maximum(t - 3.25, 0.0),
    }


def _hand_integer_float(t):
    dt = 0.25
    n = _n(t, dt)
    # net flow 2 - 0.5 before day 4 and 5 - 0.5 from day 4 (a step boundary): two straight lines,
    # nothing truncated to whole crates although the initial value is the integer literal 1
    yard = 1 + 1.5 * np.minimum(t, 4) + 4.5 * np.maximum(t - 4, 0)
    whole = np.floor(t / 1.5)  # INTEGER truncates towards 0: the floor for t >= 0
    return {
        "yard": yard, "quarter_yard": yard / 4,  # true division: quarters of a crate stay
        "whole_periods": whole,
        "phase": t - 1.5 * whole,  # MODULO: what is left after the whole periods
        "rebuilt_time": t,
        # SMOOTHI from 1 towards 0.75 over 2 days: the gap shrinks by 1 - dt / 2 a step
        "share": 0.75 + 0.25 * (1 - dt / 2) ** n,
        # SMOOTH N, 3 stages of 2/3 day each, all starting at 1
        "share_staged": 0.75 + 0.25 * _stages_left(n, 3 * dt / 2, 3),
    }


def _yield_curve(p):
    """The table (0,0),(2,4),(5,4),(8,-2),(10,1) segment by segment; outside [0, 10] Vensim holds
    the end values 0 and 1."""
    return np.select([p <= 0, p <= 2, p <= 5, p <= 8, p <= 10],
                     [0 * p, 2 * p, 4 + 0 * p, 4 - 2 * (p - 5), -2 + 1.5 * (p - 8)], 1.0)


def _inline_yield(t):
    """The table (1,3),(3,1),(9,2): held at 3 before 1 and at 2 after 9."""
    return np.select([t <= 1, t <= 3, t <= 9], [3 + 0 * t, 3 - (t - 1), 1 + (t - 3) / 6], 2.0)


def _hand_lookups(t):
    return {
        "probe": t - 1, "yield_1": _yield_curve(t - 1), "inline_yield": _inline_yield(t),
        "harvest": _euler(0.0, lambda s: _yield_curve(s - 1) + _inline_yield(s), t, 0.5),
    }


def _orders(t):
    """10, plus 4 from week 2, plus a ramp of slope 1 from week 6 to week 9."""
    return 10 + 4.0 * (t >= 2) + np.clip(t - 6, 0, 3)


def _pipeline(t, steps: int):
    """DELAY FIXED of Orders over a whole number of steps (dt = 0.5): the input that many steps
    earlier, the initial value 7 until the first one arrives."""
    return np.where(_n(t, 0.5) >= steps, _orders(t - steps * 0.5), 7.0)


def _hand_delay_fixed(t):
    # The delay time is read once, at the initial time, and counted in whole steps: rounded half
    # up as PySD does, at least one step
    return {
        "orders": _orders(t),
        "shipped_whole": _pipeline(t, 3),  # 3 steps exactly
        "shipped_half": _pipeline(t, 3),  # 2.5 steps, rounded up
        "shipped_short": _pipeline(t, 2),  # 2.3 steps, rounded down
        "shipped_tiny": _pipeline(t, 1),  # 0.2 steps: one step at least
        # Drifting Lag is 1 week (2 steps) at week 0; its change at week 3 is not seen
        "shipped_drifting": _pipeline(t, 2),
        "backlog": _euler(20.0, lambda s: _orders(s) - _pipeline(s, 3), t, 0.5),
    }


def _hand_delays(t):
    dt, c, v = 0.25, 8.0, 5.0  # Supply c, Start Rate v
    n = _n(t, dt)
    m = 12  # Lead Time doubles from 2 to 4 at day 3, step 12
    after = n - m
    # DELAY1I until day 3: its stock starts at v * 2 and closes the gap to c * 2 by 1 - dt/2 a
    # step; the output is stock / 2, then stock / 4: it jumps to half and relaxes by 1 - dt/4
    before_1i = c + (v - c) * (1 - dt / 2) ** np.minimum(n, m)
    return {
        "lead_time": 2 + 2.0 * (t >= 3),
        "stage_count": 2 + 1.0 * (t >= 5),
        # DELAY1: in equilibrium (stock c * 2) until day 3, then the same jump and relaxation
        "out_delay1": np.where(n < m, c, c - c / 2 * (1 - dt / 4) ** np.maximum(after, 0)),
        "out_delay1i": np.where(n < m, before_1i,
                                c + (before_1i / 2 - c) * (1 - dt / 4) ** np.maximum(after, 0)),
        # DELAY3: three stages, in equilibrium until day 3, then all halved at once
        "out_delay3": np.where(n < m, c, c - c / 2 * _stages_left(after, 3 * dt / 4, 3)),
        # DELAY3I over 3 days: three stages of a day, all starting at v
        "out_delay3i": c + (v - c) * _stages_left(n, 3 * dt / 3, 3),
        # DELAY N reads its order once, at the initial time: 2 stages of 1.5 days
        "out_delayn": c + (v - c) * _stages_left(n, 2 * dt / 3, 2),
    }


def _hand_smooth(t):
    dt = 0.25
    n = _n(t, dt)
    m1, m2 = 4, 16  # Signal falls from 6 to 2 at hour 1; Smoothing Time 1.5 -> 2.5 at hour 4
    a0, a1 = 1 - dt / 1.5, 1 - dt / 2.5  # what a first-order gap keeps per step, before / after
    return {
        # SMOOTH starts at its input (6) and stays until the fall, then closes the gap to 2 by a0
        # a step, by a1 from hour 4
        "plain": np.where(n <= m1, 6.0, 2 + 4 * a0 ** (np.minimum(n, m2) - m1)
                          * a1 ** np.maximum(n - m2, 0)),
        # SMOOTHI from 9 towards 3, the same factors from the first step
        "with_initial": 3 + 6 * a0 ** np.minimum(n, m2) * a1 ** np.maximum(n - m2, 0),
        # SMOOTH3I / SMOOTH N over 2 hours: 3 or 5 stages, all starting at 9
        "third_order_initial": 3 + 6 * _stages_left(n, 3 * dt / 2, 3),
        "fifth_order": 3 + 6 * _stages_left(n, 5 * dt / 2, 5),
    }


def _hand_special_characters(t):
    const = np.ones_like(t)
    return {
        # PySD's names (its namespace manager drops punctuation and marks a keyword with _1)
        "rate_per_month_more": 2.5 * const, "say_when_its_50": 0.5 * const,
        "cpathto_ledger": 4.5 * const,  # 2.5 * 2 - 0.5
        "lambda_1": 3 * const,
        "potwithhyphensand_slash": 3 + 2 * t,  # from lambda, net flow 2.5 - 0.5
        "second_pot_2_1": 6 + 4.5 * t,  # from twice the first pot, flow 4.5
    }


def _hand_control_expressions(t):
    # Stock' = 0.1 Stock from 1: Euler multiplies it by 1 + 0.1 dt each step (dt = 1/4 from 2000)
    return {"stock": (1 + 0.1 / 4) ** _n(t, 0.25, 2000.0), "time_step": 0.25 + 0 * t,
            "saveper": 0.5 + 0 * t, "final_time": 2010.0 + 0 * t}


def _hand_na(t):
    # :NA: is a missing value (nan); the stock integrates Clean Value only: 2 a month, 3 from 10
    return {"missing_value": np.full_like(t, np.nan),
            "switch": np.where(t >= 5, 1.0, np.nan), "clean_value": np.where(t < 10, 2.0, 3.0),
            "stock": 1 + 2 * np.minimum(t, 10) + 3 * np.maximum(t - 10, 0)}


def _hand_pulse(t):
    # PULSE(start, width) is 1 on [start, start + width): months 3 and 4; the one-step pulse at 7
    return {"test_pulse": ((t >= 3) & (t < 5)) * 1.0, "test_short_pulse": (t == 7) * 1.0}


#: Models with a hand calculation (the rest of the supported ones have PySD as reference only:
#: a time-varying input through a higher-order smooth or delay, TREND, ACTIVE INITIAL's loop,
#: a feedback stock over many functions).
HAND = {
    "min": _hand_min, "if_then_else": _hand_if_then_else, "integer_float": _hand_integer_float,
    "lookups": _hand_lookups, "delay_fixed": _hand_delay_fixed, "delays": _hand_delays,
    "smooth": _hand_smooth, "special_characters": _hand_special_characters,
    "control_expressions": _hand_control_expressions, "na": _hand_na, "pulse": _hand_pulse,
}


def _model_file(case: str) -> Path:
    (mdl,) = (CORPUS / case).glob("*.mdl")
    return mdl


class _Case:
    """One corpus model: its engine, its variables and PySD's runs (translated once)."""

    def __init__(self, case: str, build_root: Path):
        self.name = case
        self.mdl = _model_file(case)
        self.engine = Engine(self.mdl)
        self.names = sorted(n for n in self.engine.variables
                            if self.engine.nodes[n].kind != "lookup")
        # the variables compared with PySD: all but those where PySD is not Vensim
        self.checked = [n for n in self.names if n not in PYSD_DIFFERS.get(case, ())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySD's translation and run warnings
            self.pysd = _pysd().load(str(translated_file(self.mdl, build_root=build_root)))
        # PySD's Python name of each engine variable, through the Vensim name
        self.pysd_names = {n: self.pysd.namespace[self.engine.nodes[n].vname] for n in self.names}

    def pysd_run(self, params: dict | None = None, time_step: float | None = None,
                 names: list[str] | None = None) -> np.ndarray:
        """PySD's values of ``names`` (default: the checked variables), one column each."""
        columns = [self.pysd_names[n] for n in (names or self.checked)]
        renamed = {self.pysd_names[k]: v for k, v in (params or {}).items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.pysd.run(params=renamed, return_columns=columns, time_step=time_step,
                                reload=True)
        return out[columns].to_numpy(dtype=float)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Each model translated (by the engine and by PySD) once per session, on first use."""
    root = tmp_path_factory.mktemp("pysd-corpus")
    cases: dict[str, _Case] = {}

    def get(case: str) -> _Case:
        if case not in cases:
            cases[case] = _Case(case, root)
        return cases[case]
    return get


def _assert_pysd(engine_values: np.ndarray, pysd_values: np.ndarray, names, label: str):
    assert engine_values.shape == pysd_values.shape, label
    np.testing.assert_allclose(engine_values, pysd_values, rtol=RTOL_PYSD, atol=1e-12,
                               equal_nan=True, err_msg=f"{label}: {names}")


SUPPORTED = [c for c in CASES if c not in REFUSED]


def test_corpus_is_complete():
    """Every folder holds one model and is listed here and in the README (a new folder must say
    what it is); no copied reference output is left in the corpus."""
    assert set(REFUSED) <= set(CASES)
    assert set(SUPPORTED) == set(VARIED), sorted(set(SUPPORTED) ^ set(VARIED))
    assert set(HAND) | set(NUMPY_ONLY) | set(PYSD_DIFFERS) <= set(SUPPORTED)
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        assert _model_file(case).is_file()
        assert sorted(p.suffix for p in (CORPUS / case).iterdir()) == [".mdl"], case
        assert readme.count(f"| `{case}/` |") == 1, case  # one row of the README's table


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", SUPPORTED, ids=SUPPORTED)
def test_corpus_model_equals_pysd(case, backend, corpus):
    """Every variable at every saved time equals PySD's; N runs with a varied constant equal
    PySD run by run. A model the XLA backend cannot run exactly is refused there, by name."""
    c = corpus(case)
    ref = c.pysd_run()
    if backend == "scalar":
        out = c.engine.run(variables=c.checked).run()[c.checked].to_numpy(dtype=float)
        _assert_pysd(out, ref, c.checked, case)
        return
    assert bool(c.engine.numpy_only) == (case in NUMPY_ONLY)
    if backend == "xla" and c.engine.numpy_only:
        with pytest.raises(EngineError, match=NUMPY_ONLY[case]):
            c.engine.run({}, n=2, variables=c.names, backend="xla")
        assert c.engine.run({}, n=2, variables=c.names, backend="auto").n == 2  # numpy
        return
    varied = VARIED[case]
    base = c.engine.constants.get(varied) if varied else None
    params = {varied: np.array([base, base * 1.25 + 0.5])} if varied else {}
    result = c.engine.run(params, n=2, variables=c.checked, backend=backend)
    _assert_pysd(result.run(0)[c.checked].to_numpy(dtype=float), ref, c.checked,
                 f"{case} run 0")
    second = c.pysd_run({varied: base * 1.25 + 0.5}) if varied else ref
    _assert_pysd(result.run(1)[c.checked].to_numpy(dtype=float), second, c.checked,
                 f"{case} run 1")


HAND_RUNS = [(case, backend) for case in sorted(HAND) for backend in BACKENDS
             if not (backend == "xla" and case in NUMPY_ONLY)]


@pytest.mark.parametrize(("case", "backend"), HAND_RUNS, ids=[f"{c}-{b}" for c, b in HAND_RUNS])
def test_corpus_model_equals_hand_calculation(case, backend, corpus):
    """The engine equals Vensim's semantics written out by hand (closed forms above) at every
    saved time, on every variable the hand calculation covers, on each backend (both runs of a
    vector run)."""
    c = corpus(case)
    times = c.engine.run(variables=c.names[:1]).times
    expected = HAND[case](np.asarray(times, dtype=float))
    assert len(expected) >= 2 and set(expected) <= set(c.names), sorted(expected)
    names = sorted(expected)
    if backend == "scalar":
        runs = [c.engine.run(variables=names).run()]
    else:
        result = c.engine.run({}, n=2, variables=names, backend=backend)
        runs = [result.run(0), result.run(1)]
    for k, out in enumerate(runs):
        np.testing.assert_allclose(out.index.to_numpy(), times, rtol=1e-12)
        for name in names:
            np.testing.assert_allclose(out[name].to_numpy(dtype=float), expected[name],
                                       rtol=RTOL_HAND, atol=ATOL_HAND, equal_nan=True,
                                       err_msg=f"{case} {backend} run {k}: {name}")


def test_pysd_truncates_a_smooths_first_input_after_an_integer_initial_value(corpus):
    """Why PYSD_DIFFERS exists: SMOOTHI(Target Share, 2, 1) with Target Share = 0.75. PySD keeps
    the state of a SMOOTH initialised with the integer literal 1 in an integer array, so its first
    step smooths towards int(0.75) = 0: 1 - 0.25 * 1/2 = 0.875, then 0.875 + 0.25 * (0.75 -
    0.875) / 2 = 0.859375 at day 0.5. Vensim has no integer type: 0.75 + 0.25 * (7/8)^2 =
    0.94140625, the engine's value. When PySD changes, this fails: drop the entry."""
    c = corpus("integer_float")
    pysd_share = c.pysd_run(names=["share"])[1, 0]
    engine_share = c.engine.run(variables=["share"]).run()["share"].iloc[1]
    assert (pysd_share, engine_share) == (0.859375, 0.94140625)


@pytest.mark.parametrize("case", sorted(REFUSED), ids=sorted(REFUSED))
def test_corpus_model_is_refused_by_name(case):
    what, variable = REFUSED[case]
    with pytest.raises(EngineError) as err:
        Engine(_model_file(case)).run(variables=None)
    message = str(err.value)
    assert what.lower() in message.lower(), message
    assert variable in message, message


@pytest.mark.parametrize("case", sorted(REFUSED), ids=sorted(REFUSED))
def test_engine_for_runs_a_refused_corpus_model_on_pysd(case, tmp_path):
    """Every refusal, also one found only when the step's code is written (a DELAY N feeding a
    stock), reaches the PySD fallback of ``engine_for`` before any run: a one-line notice naming
    the construct and the variable, and an ensemble run as PySD runs."""
    what, variable = REFUSED[case]
    mdl = tmp_path / _model_file(case).name  # PySD's translation is written next to the model
    shutil.copyfile(_model_file(case), mdl)
    with pytest.warns(EngineFallbackWarning, match="PySD runs it instead") as notes:
        runner = engine_for(mdl)
    message = str(notes[0].message)
    assert "\n" not in message and what.lower() in message.lower() and variable in message
    assert isinstance(runner, PySDRunner)
    name = {"sample_if_true": "held_peak_time", "subscripts": "total_population",
            "delay_fixed_of_delay": "pipeline", "delay_n_feeding_stock": "inventory"}[case]
    result = runner.run({}, n=2, variables=[name])
    np.testing.assert_array_equal(result[name][:, 0], result[name][:, 1])
    with pytest.raises(EngineError, match=variable):
        engine_for(mdl, fallback=False)


# --- what a run may change --------------------------------------------------------------------

def test_control_expressions_follow_the_runs_time_step(corpus):
    """SAVEPER = TIME STEP * 2 moves with ``time_step=`` as in PySD (its control variables are
    functions of each other)."""
    c = corpus("control_expressions")
    out = c.engine.run(variables=c.checked, time_step=0.125).run()
    assert out.index[1] - out.index[0] == 0.25
    _assert_pysd(out[c.checked].to_numpy(dtype=float), c.pysd_run(time_step=0.125), c.checked,
                 "time_step=0.125")
    given = c.engine.run({"saveper": 5.0}, variables=["stock"]).times
    np.testing.assert_array_equal(given, [2000.0, 2005.0, 2010.0])


def test_an_order_a_run_would_change_is_refused(corpus):
    """PySD reads a DELAY N / SMOOTH N order once; the engine compiles it: a parameter that
    would change it is refused, naming the variable (not run with the old order)."""
    c = corpus("smooth_n_order")
    # DELAY N truncates its order (2.5 -> 2, unchanged), SMOOTH N does not (3.5 != 3)
    with pytest.raises(EngineError, match="order of SMOOTH N in variable 'Smoothed'"):
        c.engine.run({"order_base": 2.5}, variables=["smoothed"])
    with pytest.raises(EngineError, match="order of DELAY N in variable 'Delayed'"):
        c.engine.run({"order_base": np.array([2.0, 3.0])}, variables=["delayed"],
                     backend="numpy")
    # an order kept as it is runs (PySD needs an int here: its SMOOTH N multiplies a list by it)
    same = c.engine.run({"order_base": 2.0}, variables=c.checked).run()[c.checked]
    _assert_pysd(same.to_numpy(dtype=float), c.pysd_run({"order_base": 2}), c.checked, "2.0")


def test_a_delay_fixed_time_varied_per_run_is_refused(corpus):
    c = corpus("delay_fixed")
    with pytest.raises(EngineError, match="DELAY FIXED in variable '.*': the delay time must be"):
        c.engine.run({"whole_steps": np.array([5.0, 6.0])}, variables=c.names,
                     backend="numpy")


def test_a_control_variable_that_varies_in_time_is_refused(tmp_path):
    """PySD reads control variables again every step; the engine takes them as constants, so a
    control variable that depends on Time is refused, naming it."""
    text = (_model_file("control_expressions").read_text(encoding="utf-8")
            .replace("FINAL TIME  = Start Year + Horizon", "FINAL TIME  = Start Year + Time"))
    mdl = tmp_path / "final_time_of_time.mdl"
    mdl.write_text(text, encoding="utf-8")
    with pytest.raises(EngineError, match="control variable 'final_time' depends on Time"):
        Engine(mdl)
