"""The README tells the truth: its scorecard table is the model's, its quick start is what
.ci/run runs."""
from __future__ import annotations

import re
from pathlib import Path

from simulator import Model, load_scenario, scorecard
from simulator.present.terminal import compare_markdown

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_scorecard_table_is_the_models_output():
    table = re.search(r"<!-- scorecard:begin -->\n(.*?)<!-- scorecard:end -->", README, re.S)
    assert table, "README lost its scorecard markers"
    scenarios = [load_scenario(REPO / "scenarios" / f"{n}.yaml")
                 for n in ("baseline", "plan", "ambitious")]
    expected = compare_markdown(scorecard(Model().run_many(scenarios)))
    assert table.group(1) == expected


def test_ci_runs_the_readme_test_command():
    command = re.search(r"The test command itself.*?is\s+`([^`]+)`", README, re.S)
    assert command, "README must state the test command"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert command.group(1) in ci.splitlines()


def test_readme_quick_start_has_exactly_two_commands():
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S).group(1)
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert "bash .ci/run" in commands[1]
