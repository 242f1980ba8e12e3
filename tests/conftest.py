"""Shared fixtures: repository paths and one loaded model per test session.

Every path is derived from this file's location, never from the working directory.
"""
from __future__ import annotations

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
