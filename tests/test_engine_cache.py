"""The engine's on-disk cache (``$GUANGYUAN_CACHE``): same results warm and cold, rebuilt when
the model, the engine or the file itself is not what was cached, harmless when it cannot be
written, and no PySD import for a command on a warm cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from simulator.model import engine_for
from simulator.plan import tables
from simulator.sd import engine as eng
from simulator.sd import translate
from simulator.sd.engine import Engine, EngineFallbackWarning, PySDRunner

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "scenarios" / "plan.yaml"
SAVED = ["knowledge_stock", "rd_intensity", "valid_invention_patents", "innovation_index"]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache directory of this test's own."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("GUANGYUAN_CACHE", str(directory))
    return directory


@pytest.fixture
def builds(monkeypatch) -> list[Path]:
    """The model files the engine parses (with PySD) from now on, in order."""
    seen: list[Path] = []
    parse = eng._nodes_from_mdl

    def counting(mdl_file):
        seen.append(Path(mdl_file))
        return parse(mdl_file)

    monkeypatch.setattr(eng, "_nodes_from_mdl", counting)
    return seen


def copy_model(tmp_path: Path, name: str, text: str | None = None) -> Path:
    """A copy of the shipped model (a new path: :func:`engine_for` has no engine for it yet)."""
    path = tmp_path / name
    path.write_text(text if text is not None else tables.MODEL_FILE.read_text(encoding="utf-8"),
                    encoding="utf-8")
    return path


def runs(engine) -> list[np.ndarray]:
    """A single run, a 40-run ensemble and one with an overridden auxiliary, as arrays."""
    rng = np.random.default_rng(7)
    single = engine.run(variables=SAVED)
    ensemble = engine.run({"knowledge_depreciation_rate": rng.uniform(0.1, 0.3, 40),
                           "patent_elasticity": rng.uniform(0.3, 0.7, 40)},
                          variables=SAVED, backend="numpy")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Replacing a variable by a constant value")
        overridden = engine.run({"industrial_revenue_growth": 9.0}, variables=SAVED)
    return [res[v] for res in (single, ensemble, overridden) for v in SAVED]


def cache_file(model: Path) -> Path:
    sha = eng.hashlib.sha256(model.read_bytes()).hexdigest()
    return eng._cache_path(sha)


def test_warm_cache_gives_the_same_engine_and_bit_identical_results(cache, builds, tmp_path):
    cold = engine_for(copy_model(tmp_path, "a.mdl"))
    expected = runs(cold)  # also puts the generated sources into the cache
    assert len(builds) == 1 and cache_file(cold.mdl_file).is_file()
    warm = engine_for(copy_model(tmp_path, "b.mdl"))
    got = runs(warm)
    assert len(builds) == 1, "the warm engine parsed the model again"
    for attr in ("constants", "variables", "limits", "units", "lower_limits", "numpy_only",
                 "_overridable", "_xla_inexact", "time_step"):
        assert getattr(warm, attr) == getattr(cold, attr), attr
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    # what the cache has not seen yet is generated (reading the model then) and added
    warm.run(variables=["gdp"])
    assert len(builds) == 2
    assert json.loads(cache_file(warm.mdl_file).read_text())["sources"].keys() >= {
        eng._source_key((False, "euler", frozenset(), ("gdp",), "numpy"))}


def test_an_edited_model_is_read_again(cache, builds, tmp_path):
    original = engine_for(copy_model(tmp_path, "a.mdl"))
    before = original.run(variables=["gdp"])["gdp"]
    text = tables.MODEL_FILE.read_text(encoding="utf-8")
    assert text.count("nominal gdp growth = 6.5\n") == 1
    edited = engine_for(copy_model(tmp_path, "b.mdl",
                                   text.replace("nominal gdp growth = 6.5\n",
                                                "nominal gdp growth = 8\n")))
    assert len(builds) == 2
    assert edited.constants["nominal_gdp_growth"] == 8.0
    assert original.constants["nominal_gdp_growth"] == 6.5
    assert edited.run(variables=["gdp"])["gdp"][-1] > before[-1]


def _truncate(data: dict, text: str) -> str:
    return text[: len(text) // 2]


def _resum(data: dict) -> str:
    """The file with its checksum made to match again (a valid-looking file)."""
    data["checksum"] = eng._checksum(data["meta"], data["sources"])
    return json.dumps(data)


def _edit_source(data: dict, text: str) -> str:
    key = next(iter(data["sources"]))
    data["sources"][key] = data["sources"][key].replace("def simulate", "def simulate_", 1)
    return json.dumps(data)  # the checksum no longer matches


def _other_version(data: dict, text: str) -> str:
    data["engine_version"] = "0" * 64
    return _resum(data)


def _other_model(data: dict, text: str) -> str:
    data["model_sha256"] = "0" * 64
    return _resum(data)


def _wrong_type(data: dict, text: str) -> str:
    data["meta"]["constants"]["time_step"] = "0.0625"
    return _resum(data)


def _missing_field(data: dict, text: str) -> str:
    del data["meta"]["auxes"]
    return _resum(data)


def _no_time_step(data: dict, text: str) -> str:
    del data["meta"]["constants"]["time_step"]
    return _resum(data)


CORRUPTIONS = {
    "truncated": _truncate,
    "not-json": lambda data, text: "\x00\x01 not json",
    "not-utf8": lambda data, text: "\udcff",
    "empty": lambda data, text: "",
    "a-list": lambda data, text: "[]",
    "other-format": lambda data, text: json.dumps({**data, "format": "something else"}),
    "checksum-mismatch": _edit_source,
    "other-engine-version": _other_version,
    "other-model": _other_model,
    "wrong-type": _wrong_type,
    "missing-field": _missing_field,
    "no-time-step": _no_time_step,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_stale_or_corrupt_cache_file_is_rebuilt(cache, builds, tmp_path, corrupt):
    first = engine_for(copy_model(tmp_path, "a.mdl"))
    expected = runs(first)
    path = cache_file(first.mdl_file)
    text = path.read_text(encoding="utf-8")
    bad = corrupt(json.loads(text), text)
    path.write_bytes(bad.encode("utf-8", "surrogateescape"))
    again = engine_for(copy_model(tmp_path, "b.mdl"))
    assert len(builds) == 2, "a bad cache file was trusted"
    for a, b in zip(runs(again), expected):
        assert np.array_equal(a, b, equal_nan=True)
    sha = eng.hashlib.sha256(again.mdl_file.read_bytes()).hexdigest()
    assert eng._read_cache(path, sha, eng._engine_version()) is not None, "not rewritten"


def test_corrupt_python_names_file_is_ignored(cache, tmp_path, monkeypatch):
    cache.mkdir()
    (cache / "python-names.json").write_text('{"key": "x", "names": {"A": "1 bad"}}')
    monkeypatch.setattr(translate, "_names", None)
    assert translate._known_names() == {}
    translate.python_name.cache_clear()
    assert translate.python_name("Knowledge Stock") == "knowledge_stock"


def test_an_unwritable_cache_directory_still_runs(tmp_path, monkeypatch, builds):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GUANGYUAN_CACHE", str(blocker / "cache"))
    first = engine_for(copy_model(tmp_path, "a.mdl"))
    expected = runs(first)
    again = engine_for(copy_model(tmp_path, "b.mdl"))
    for a, b in zip(runs(again), expected):
        assert np.array_equal(a, b, equal_nan=True)
    assert len(builds) == 2 and not (blocker / "cache").exists()


def test_a_refused_model_falls_back_to_pysd_and_is_not_cached(cache, tmp_path):
    text = tables.MODEL_FILE.read_text(encoding="utf-8")
    head, tail = text.split("\n", 1)
    extra = ("region: (r1-r3)\n\t~\t~\t|\nextra by region[region] = 1, 2, 3\n\t~\tDmnl\n"
             "\t~\tA subscripted variable the engine refuses.\n\t|\n")
    for name in ("a.mdl", "b.mdl"):  # the second time too: no cache entry was made
        with pytest.warns(EngineFallbackWarning, match=r"subscript.*PySD runs it instead"):
            runner = engine_for(copy_model(tmp_path, name, head + "\n" + extra + tail))
        assert isinstance(runner, PySDRunner)
    assert not list(cache.glob("engine-*.json"))


NO_PYSD = """
import contextlib, io, sys
from simulator import cli
with contextlib.redirect_stdout(io.StringIO()):
    code = cli.main(["goals", sys.argv[1]])
heavy = sorted(m for m in ("pysd", "scipy", "xarray", "matplotlib", "jax") if m in sys.modules)
print(code, ",".join(heavy) or "-")
"""


def test_a_warm_goals_command_imports_no_pysd(tmp_path):
    env = dict(os.environ, GUANGYUAN_CACHE=str(tmp_path / "cache"), PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    def goals() -> str:
        return subprocess.run([sys.executable, "-c", NO_PYSD, str(PLAN)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True, timeout=300).stdout

    assert goals().split()[0] == "0"  # cold: fills the cache (PySD imported)
    assert goals().split() == ["0", "-"]
