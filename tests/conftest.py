"""Shared fixtures: repository paths and one loaded model per test session.

Every path is derived from this file's location, never from the working directory.
"""
from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

#: The repository checkout these tests belong to.
REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "models"
SCENARIOS_DIR = REPO / "scenarios"
#: ``shared/`` (plan text, design notes) sits beside the repository clone, in CI as locally.
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
PLAN_TEXT_FILE = SHARED_DIR / "plan" / "guangyuan-sti-ip-plan-2021-2025.zh.txt"


@pytest.fixture(scope="session")
def repo() -> Path:
    """Root of the repository checkout."""
    return REPO


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    return SCENARIOS_DIR


@pytest.fixture(scope="session")
def model():
    """The Guangyuan model (numpy engine backend), loaded once per session; runs are independent."""
    from simulator import Model

    return Model()


#: ``simulator.app.library.ENV_VAR`` (not imported here: conftest stays light; test_library
#: checks that the two agree).
LIBRARY_ENV_VAR = "GUANGYUAN_LIBRARY"
_LIBRARY_NUMBERS = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def library_dir(tmp_path_factory):
    """The tests' scenario libraries live here: ``$GUANGYUAN_LIBRARY`` points into it for the
    whole session (servers started by the browser tests inherit it), so no test ever opens the
    user's own library."""
    directory = tmp_path_factory.mktemp("library")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LIBRARY_ENV_VAR, str(directory / "session.sqlite3"))
        yield directory


@pytest.fixture(autouse=True)
def fresh_library(library_dir, monkeypatch) -> Path:
    """A library file of this test alone (created only if the test uses it): AppTest runs
    never see rows saved by another test."""
    path = library_dir / f"test-{next(_LIBRARY_NUMBERS)}.sqlite3"
    monkeypatch.setenv(LIBRARY_ENV_VAR, str(path))
    return path


@pytest.fixture(scope="module")
def warm_up_finished():
    """After a module that drives the app, wait for its background XLA warm-up thread
    (``warm_up_ensembles`` in app.py): a daemon thread still compiling when the interpreter
    exits can abort the process. Modules ask for it with
    ``pytestmark = pytest.mark.usefixtures("warm_up_finished")``."""
    yield
    for thread in threading.enumerate():
        if thread.name == "ensemble-warm-up":
            thread.join(timeout=600)
