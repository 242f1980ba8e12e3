"""Choosing the engine's vector backend per machine (simulator.sd.backends), and results that do not
depend on the choice beyond stated tolerances."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.analysis import calibration as cal
from simulator.analysis import uncertainty as unc
from simulator.model import engine_for, random_draws
from simulator.plan import scenario
from simulator.sd import backends
from simulator.sd import engine as engine_module

REPO = Path(__file__).resolve().parents[1]

#: Timings measured on this machine (AMD EPYC, AVX-512; benchmarks/ensemble.py): XLA faster at
#: 1,000 runs, numpy at 10,000 (its SIMD exp/log), ~50 ms a numpy call whatever its size, and
#: ~3 s once to import JAX and compile.
LIKE_HERE = backends.Timing(sizes=(1000, 10_000), numpy_s=(0.078, 0.318), xla_s=(0.039, 0.416),
                            xla_setup_s=3.0)
#: numpy faster at both sizes.
NUMPY_FASTER = backends.Timing(sizes=(1000, 10_000), numpy_s=(0.030, 0.25), xla_s=(0.050, 0.40),
                               xla_setup_s=3.0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache directory of its own, and no timing remembered by this process."""
    monkeypatch.setenv(backends.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(backends, "_memo", {})
    return tmp_path / backends.CACHE_NAME


class Measure:
    """Stands in for the measurement: counts its calls and returns a given timing."""

    def __init__(self, timing: backends.Timing = LIKE_HERE):
        self.timing, self.calls = timing, 0

    def __call__(self, engine, draws):
        self.calls += 1
        return self.timing


def _timing(measure: Measure) -> backends.Timing:
    return backends.timing(lambda: None, random_draws, measure_fn=measure)


# --------------------------------------------------------------------------------------------
# The cost model

@pytest.mark.parametrize("timing,use,expected", [
    (LIKE_HERE, None, "xla"),                # the app: compiled once, 1000 draws a call
    (LIKE_HERE, (1, 1000), "numpy"),         # one uncertainty command: the compile dominates
    (LIKE_HERE, (1, 10_000), "numpy"),       # validate: numpy faster even warm
    (LIKE_HERE, (240, 4), "xla"),            # calibrate: hundreds of small calls
    (NUMPY_FASTER, None, "numpy"),
    (NUMPY_FASTER, (240, 4), "numpy"),
], ids=["here-app", "here-uncertainty", "here-validate", "here-calibrate", "numpy-app",
        "numpy-calibrate"])
def test_faster_backend_by_measured_costs(timing, use, expected):
    assert timing.faster(use) == expected


def test_costs_by_hand():
    # numpy: 0.078 s at 1000 runs, 0.318 s at 10,000 → 0.24 / 9000 s a run, the rest a call
    per_run = 0.24 / 9000
    assert LIKE_HERE.seconds("numpy", 4000) == pytest.approx(0.078 + 3000 * per_run)
    empty = 0.078 - 1000 * per_run  # a call of no runs
    assert LIKE_HERE.seconds("numpy", 4, calls=3) == pytest.approx(
        3 * (empty + (0.078 - empty) * 4 / 1000))
    assert LIKE_HERE.seconds("xla", 1000, one_off=True) == pytest.approx(3.0 + 0.039)
    assert LIKE_HERE.seconds("numpy", 1000, one_off=True) == pytest.approx(0.078)
    # xla: 0.377 / 9000 s a run would make a call of no runs cost less than nothing: 0, and
    # below 1000 runs the cost falls in proportion
    assert LIKE_HERE.seconds("xla", 0) == 0.0
    assert LIKE_HERE.seconds("xla", 250) == pytest.approx(0.039 / 4)
    assert LIKE_HERE.seconds("xla", 12_000) == pytest.approx(0.416 + 2000 * 0.377 / 9000)


# --------------------------------------------------------------------------------------------
# The cache

def test_measured_once_then_read_from_the_cache(cache):
    measure = Measure()
    assert _timing(measure) == LIKE_HERE and measure.calls == 1
    data = json.loads(cache.read_text(encoding="utf-8"))
    assert data["fingerprint"] == backends.fingerprint()
    assert _timing(measure) == LIKE_HERE and measure.calls == 1   # this process remembers it
    backends._memo.clear()
    assert _timing(measure) == LIKE_HERE and measure.calls == 1   # another process reads it


@pytest.mark.parametrize("text", [
    "", "{", "[]", "\udcff", '{"fingerprint": FP, "timing": {}}',
    '{"fingerprint": FP, "timing": {"sizes": [100, 2000], "numpy_s": [0.1, -1], '
    '"xla_s": [0.1, 0.2], "xla_setup_s": 3}}',
    '{"fingerprint": FP, "timing": {"sizes": [2000, 100], "numpy_s": [0.1, 0.2], '
    '"xla_s": [0.1, 0.2], "xla_setup_s": 3}}',
    '{"fingerprint": FP, "timing": {"sizes": [100, 2000], "numpy_s": [0.1, 0.2], '
    '"xla_s": [0.1, "fast"], "xla_setup_s": 3}}',
    '{"fingerprint": FP, "timing": {"sizes": [100, 2000], "numpy_s": [0.1, 0.2], '
    '"xla_s": [0.1, 0.2], "xla_setup_s": NaN}}',
], ids=["empty", "truncated", "not-a-record", "not-utf8", "no-fields", "negative", "sizes-order",
        "text", "nan"])
def test_corrupt_cache_is_measured_again_and_replaced(cache, text):
    cache.write_text(text.replace("FP", json.dumps(backends.fingerprint())), encoding="utf-8",
                     errors="surrogateescape")
    measure = Measure()
    assert _timing(measure) == LIKE_HERE and measure.calls == 1
    assert backends.Timing.from_dict(json.loads(cache.read_text())["timing"]) == LIKE_HERE


@pytest.mark.parametrize("field,value", [
    ("numpy", "0.0"), ("jax", "0.0"), ("engine_sha256", "0" * 16),
    ("machine", {"cpu": "another CPU", "simd": "avx2"}),
], ids=["numpy", "jax", "engine-source", "cpu"])
def test_cache_of_another_machine_or_version_is_measured_again(cache, field, value):
    stale = {**backends.fingerprint(), field: value}
    cache.write_text(json.dumps({"fingerprint": stale, "timing": NUMPY_FASTER.to_dict()}),
                     encoding="utf-8")
    measure = Measure(LIKE_HERE)
    assert _timing(measure) == LIKE_HERE and measure.calls == 1
    assert json.loads(cache.read_text())["fingerprint"] == backends.fingerprint()


def test_unwritable_cache_directory_measures_without_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv(backends.CACHE_ENV, str(blocker / "cache"))
    monkeypatch.setattr(backends, "_memo", {})
    measure = Measure()
    assert _timing(measure) == LIKE_HERE and measure.calls == 1


def test_fingerprint_names_the_cpu_and_its_simd_level():
    fp = backends.fingerprint()
    assert fp["machine"]["cpu"] and fp["machine"]["simd"] != ""
    assert {"numpy", "jax", "jaxlib", "python", "engine_sha256"} <= set(fp)
    assert backends.simd_level({"sse2", "avx", "avx2", "avx512f"}) == "avx512f"
    assert backends.simd_level({"sse2", "sse4_1", "sse4_2"}) == "sse4.2"
    assert backends.simd_level({"fp", "asimd"}) == "neon"
    assert backends.simd_level(set()) == "unknown"


def test_the_real_measurement_times_both_backends(cache):
    """The measurement itself, on this machine (a few seconds): plausible positive figures."""
    timing = backends.measure(engine_for(), random_draws)
    assert timing.sizes == backends.SIZES
    assert all(0 < t < 60 for t in (*timing.numpy_s, *timing.xla_s, timing.xla_setup_s))
    assert timing.faster(None) in ("numpy", "xla")


# --------------------------------------------------------------------------------------------
# auto follows the measurement; explicit choices win

@pytest.fixture
def process_default():
    before = engine_module._process_backend, engine_module._process_use
    yield
    engine_module.set_default_backend(*before)


@pytest.mark.parametrize("timing,use,expected", [
    (LIKE_HERE, None, "xla"), (LIKE_HERE, (1, 1000), "numpy"), (NUMPY_FASTER, None, "numpy"),
], ids=["here-long-lived", "here-one-off", "numpy-faster"])
def test_auto_picks_the_measured_faster_backend(cache, monkeypatch, process_default, timing,
                                                use, expected):
    monkeypatch.delenv("GUANGYUAN_ENGINE_BACKEND", raising=False)
    cache.write_text(json.dumps({"fingerprint": backends.fingerprint(),
                                 "timing": timing.to_dict()}), encoding="utf-8")
    engine_module.set_default_backend(None, use)
    assert engine_module._choose_backend(None, "euler") == expected
    assert engine_module._choose_backend("auto", "euler") == expected
    assert engine_module._choose_backend(None, "rk4") == "numpy"
    for explicit in ("numpy", "xla"):  # an argument, the process default, the variable win
        assert engine_module._choose_backend(explicit, "euler") == explicit
        engine_module.set_default_backend(explicit, use)
        assert engine_module._choose_backend(None, "euler") == explicit
        engine_module.set_default_backend(None, use)
        monkeypatch.setenv("GUANGYUAN_ENGINE_BACKEND", explicit)
        assert engine_module._choose_backend(None, "euler") == explicit
        monkeypatch.delenv("GUANGYUAN_ENGINE_BACKEND")


@pytest.mark.parametrize("argv,use", [
    (["uncertainty", "scenarios/plan.yaml"], (1, 1000)),
    (["uncertainty", "scenarios/plan.yaml", "scenarios/plan.yaml", "--n", "25000"], (6, 10_000)),
    (["validate", "--n", "500"], (1, 500)),
    (["calibrate", "--starts", "4"], (60, 4)),
    (["sensitivity", "scenarios/plan.yaml", "--method", "morris", "--n", "10", "--inputs",
      "a,b,c"], (1, 50)),
], ids=["uncertainty", "uncertainty-chunked", "validate", "calibrate", "morris"])
def test_each_command_states_its_use(monkeypatch, process_default, argv, use):
    from simulator import cli
    monkeypatch.delenv("GUANGYUAN_ENGINE_BACKEND", raising=False)
    args = cli.build_parser().parse_args(argv)
    cli._set_backend(args)
    assert (engine_module._process_backend, engine_module._process_use) == ("auto", use)
    args = cli.build_parser().parse_args([*argv, "--backend", "numpy"])
    cli._set_backend(args)
    assert engine_module._process_backend == "numpy"


# --------------------------------------------------------------------------------------------
# Results do not depend on the backend

#: Runs of one ensemble whose target indicator may land on the other side of a target on the
#: other backend. The backends agree to ~1e-12 relative per value (XLA fuses multiply-adds and
#: has its own exp/log; tests/test_engine.py holds both to 1e-10 of each other), so a draw
#: changes side only if its value lies that close to the target: with values spread over several
#: per cent, the chance is ~1e-10 per draw. One draw in a target is allowed, not zero, because a
#: tie at exactly the target is not impossible, and the probability printed moves by 1/n then.
FLIPS_ALLOWED = 1
#: The quantiles and bands are order statistics of the same values: rounding only.
QUANTILE_RTOL = 1e-9


@pytest.fixture(scope="module")
def on_both_backends():
    plan = scenario.load(REPO / "scenarios" / "plan.yaml")
    spec = unc.load_spec()
    out = {}
    for backend in ("numpy", "xla"):
        engine_module.set_default_backend(backend)
        try:
            out[backend] = unc.run(plan, n=400, seed=0, spec=spec)
        finally:
            engine_module.set_default_backend(None)
    return out


def test_uncertainty_probabilities_agree_across_backends(on_both_backends):
    a, b = (on_both_backends[k].probabilities() for k in ("numpy", "xla"))
    assert list(a["key"]) == list(b["key"]) and len(a) > 0
    n = on_both_backends["numpy"].n
    flips = np.rint(np.abs(a["probability"].to_numpy() - b["probability"].to_numpy()) * n)
    assert flips.max() <= FLIPS_ALLOWED, dict(zip(a["key"], flips))
    for col in ("p05", "p50", "p95", "deterministic"):
        np.testing.assert_allclose(a[col], b[col], rtol=QUANTILE_RTOL, err_msg=col)


def test_uncertainty_bands_agree_across_backends(on_both_backends):
    a, b = (on_both_backends[k].bands() for k in ("numpy", "xla"))
    assert a.shape == b.shape and len(a) > 0
    numeric = a.select_dtypes("number").columns
    np.testing.assert_allclose(a[numeric], b[numeric], rtol=QUANTILE_RTOL, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "xla"])
def test_calibration_on_either_backend_reproduces_the_committed_file(backend):
    """The committed file's results, to calibration.RESULT_RTOL beyond the digits written, from
    either backend (the optimiser's evaluation counts may differ: provenance)."""
    committed = cal.read()
    fresh = cal.calibrate(seed=committed["provenance"]["seed"],
                          starts=committed["provenance"]["starts"], backend=backend)
    assert fresh.provenance["engine_backend"] == backend
    assert cal.differences(committed, yaml.safe_load(cal.to_yaml(fresh))) == []


def test_a_long_lived_process_is_judged_at_the_apps_ensemble_size():
    from simulator.app import analyses
    assert backends.TYPICAL_RUNS == analyses.UNCERTAINTY_N
