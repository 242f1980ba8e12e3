"""Helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m simulator ARGS`` with ``cwd`` as working directory; this checkout first
    on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "simulator", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def open_all(at) -> None:
    """Open every lazily drawn expander of the app (the sidebar's lever groups and assumptions,
    the drivers panel) for the next run of the AppTest ``at``, as a planner clicking each one
    would: their content is drawn only while open (``app.lazy_expander``)."""
    from simulator.app import i18n
    groups = [f"w_group_{n}" for n in range(len(i18n.action_groups()))]
    at.session_state["_open"] = {*groups, "w_group_assumptions", "w_drivers"}
