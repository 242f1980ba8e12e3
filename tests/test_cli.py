"""The command line, run as ``python -m simulator`` in a fresh process.

Every command runs with its working directory in a temporary folder and absolute scenario paths,
so nothing depends on being started from the repository. Model runs are few (module fixtures);
validation errors are cheap because nothing is run.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import cli

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "models"
SCENARIOS_DIR = REPO / "scenarios"
PLAN = SCENARIOS_DIR / "plan.yaml"
BASELINE = SCENARIOS_DIR / "baseline.yaml"


def _csv_rows(name: str) -> list[dict[str, str]]:
    with open(MODELS_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


INDICATORS = _csv_rows("indicators.csv")
TARGETS = _csv_rows("targets.csv")




# --------------------------------------------------------------------------------------------
# Successful commands (one model run each)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_plan(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    cwd = tmp_path_factory.mktemp("cwd-run")
    out_dir = tmp_path_factory.mktemp("out-run")
    out = out_dir / "results.csv"
    return cli("run", PLAN, "--out", out, cwd=cwd), out


@pytest.fixture(scope="module")
def goals_csv(tmp_path_factory) -> subprocess.CompletedProcess:
    return cli("goals", PLAN, "--format", "csv", cwd=tmp_path_factory.mktemp("cwd-goals-csv"))


@pytest.fixture(scope="module")
def goals_json(tmp_path_factory) -> subprocess.CompletedProcess:
    return cli("goals", PLAN, "--format", "json", cwd=tmp_path_factory.mktemp("cwd-goals-json"))


@pytest.fixture(scope="module")
def goals_table(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """``goals --format table --out FILE``: the table written to a file."""
    cwd = tmp_path_factory.mktemp("cwd-goals-table")
    out = tmp_path_factory.mktemp("out-goals-table") / "scorecard.txt"
    return cli("goals", PLAN, "--out", out, cwd=cwd), out


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory) -> subprocess.CompletedProcess:
    return cli("compare", BASELINE, PLAN, cwd=tmp_path_factory.mktemp("cwd-compare"))


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert (proc.returncode, "Traceback" in proc.stderr) == (0, False), proc.stderr


def test_run_succeeds_and_reports(run_plan):
    proc, out = run_plan
    _ok(proc)
    assert "plan" in proc.stdout and str(out) in proc.stdout


def test_run_writes_exactly_the_tidy_columns(run_plan):
    _, out = run_plan
    with open(out, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["scenario", "time", "variable", "value", "unit"]


def test_run_writes_every_indicator(run_plan):
    _, out = run_plan
    frame = pd.read_csv(out)
    assert sorted(frame["variable"].unique()) == sorted(r["id"] for r in INDICATORS)


def test_run_writes_years_2020_to_2035_for_every_indicator(run_plan):
    _, out = run_plan
    frame = pd.read_csv(out)
    counts = frame.groupby("variable")["time"].apply(
        lambda t: np.allclose(np.sort(t.to_numpy(dtype=float)), np.arange(2020, 2036)))
    assert counts.to_dict() == {r["id"]: True for r in INDICATORS}


def test_run_writes_scenario_name_and_plan_units(run_plan):
    _, out = run_plan
    frame = pd.read_csv(out, keep_default_na=False)
    assert set(frame["scenario"]) == {"plan"}
    units = frame.groupby("variable")["unit"].unique().apply(list).to_dict()
    assert units == {r["id"]: [r["unit_zh"]] for r in INDICATORS}


def test_run_leaves_no_temporary_file(run_plan):
    _, out = run_plan
    assert sorted(p.name for p in out.parent.iterdir()) == ["results.csv"]


def test_goals_csv_columns_and_one_row_per_target(goals_csv):
    _ok(goals_csv)
    card = pd.read_csv(io.StringIO(goals_csv.stdout))
    assert {"indicator", "year", "target", "value", "met"} <= set(card.columns)
    assert list(zip(card["indicator"], card["year"])) == [
        (r["indicator"], int(r["year"])) for r in TARGETS]


def test_goals_csv_met_agrees_with_value_and_target(goals_csv):
    card = pd.read_csv(io.StringIO(goals_csv.stdout))
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    expected = [bool(ops[c](v, t)) for c, v, t in zip(card["comparison"], card["value"],
                                                       card["target"])]
    assert card["met"].astype(bool).tolist() == expected


def test_goals_json_parses_to_one_record_per_target(goals_json):
    _ok(goals_json)
    records = json.loads(goals_json.stdout)
    assert [(r["indicator"], r["year"], r["target"]) for r in records] == [
        (r["indicator"], int(r["year"]), float(r["target"])) for r in TARGETS]
    assert all(isinstance(r["met"], bool) for r in records)


def test_goals_json_keeps_chinese_names_readable(goals_json):
    records = json.loads(goals_json.stdout)
    assert [r["name_zh"] for r in records] == [r["name_zh"] for r in TARGETS]
    assert "\\u" not in goals_json.stdout


def test_goals_table_written_to_file_names_every_target_in_both_languages(goals_table):
    proc, out = goals_table
    _ok(proc)
    text = out.read_text(encoding="utf-8")
    missing = [f"{r['name_zh']} {r['name_en']}" for r in TARGETS
               if f"{r['name_zh']} {r['name_en']}" not in text]
    assert missing == []


def test_goals_table_marks_every_target_met_or_missed(goals_table):
    _, out = goals_table
    lines = out.read_text(encoding="utf-8").splitlines()
    marked = [ln for ln in lines if ("✓ 达成" in ln) != ("✗ 未达成" in ln)]
    assert len(marked) == len(TARGETS)
    assert "情景 scenario: plan" in lines[0]


def test_goals_table_leaves_only_the_output_file(goals_table):
    proc, out = goals_table
    assert (proc.stdout, sorted(p.name for p in out.parent.iterdir())) == ("", ["scorecard.txt"])


def test_compare_shows_both_scenario_names(compare_run):
    _ok(compare_run)
    header = compare_run.stdout.splitlines()[0]
    assert ("baseline" in header, "plan" in header) == (True, True)
    assert "baseline: " in compare_run.stdout and "plan: " in compare_run.stdout


def test_compare_has_one_row_per_target(compare_run):
    lines = compare_run.stdout.splitlines()
    assert sum(1 for r in TARGETS
               if any(f"{r['name_zh']} {r['name_en']}" in ln for ln in lines)) == len(TARGETS)


# --------------------------------------------------------------------------------------------
# User errors: exit 2, one line on stderr naming the file, no traceback, nothing written
# --------------------------------------------------------------------------------------------

BAD_CONTENT = [
    ("unknown-lever", "name: bad\nlevers:\n  hte_rewards: 5\n"),
    ("unknown-field", "name: bad\ncolour: red\n"),
    ("out-of-range", "name: bad\nlevers:\n  hte_reward: 101\n"),
    ("period-below-min", "name: bad\nlevers:\n  super_deduction: {2026-2030: 70}\n"),
    ("nan", "name: bad\nassumptions:\n  gdp_growth: .nan\n"),
    ("wrong-type", "name: bad\nlevers:\n  hte_reward: ten\n"),
    ("missing-name", "levers:\n  hte_reward: 5\n"),
    ("empty-file", ""),
    ("malformed-yaml", "name: bad\nlevers: {hte_reward: [1, 2\n"),
    ("duplicate-key", "name: bad\nname: worse\n"),
    ("top-level-list", "- name: bad\n"),
    ("non-utf8", b"name: caf\xe9\n"),
    ("oversized", "name: bad\n" + "#" * 1_000_001 + "\n"),
    ("integer-too-large", "name: bad\nlevers:\n  hte_reward: " + "9" * 400 + "\n"),
    ("unhashable-key", "name: bad\nlevers: {[1, 2]: 3}\n"),
]


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _check_user_error(proc: subprocess.CompletedProcess, names: Path | str,
                      out_dir: Path | None = None) -> None:
    """Exit 2, one ``error:`` line naming ``names``, no traceback, nothing in ``out_dir``."""
    lines = proc.stderr.splitlines()
    assert (proc.returncode, "Traceback" in proc.stderr, len(lines)) == (2, False, 1), proc.stderr
    assert lines[0].startswith("error: ") and str(names) in lines[0], lines[0]
    if out_dir is not None:
        assert sorted(p.name for p in out_dir.iterdir()) == []


@pytest.mark.parametrize("content", [c[1] for c in BAD_CONTENT], ids=[c[0] for c in BAD_CONTENT])
def test_run_with_invalid_scenario_fails_cleanly(tmp_path, content):
    cwd, out_dir = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir(), out_dir.mkdir()
    scen = _write(tmp_path / "bad.yaml", content)
    proc = cli("run", scen, "--out", out_dir / "results.csv", cwd=cwd)
    _check_user_error(proc, scen, out_dir)


SPECIAL_SCENARIOS = ["not-found", "directory"]


@pytest.mark.parametrize("kind", SPECIAL_SCENARIOS, ids=SPECIAL_SCENARIOS)
def test_run_with_unreadable_scenario_path_fails_cleanly(tmp_path, kind):
    cwd, out_dir = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir(), out_dir.mkdir()
    scen = tmp_path / "missing.yaml"
    if kind == "directory":
        scen = tmp_path / "a-directory.yaml"
        scen.mkdir()
    proc = cli("run", scen, "--out", out_dir / "results.csv", cwd=cwd)
    _check_user_error(proc, scen, out_dir)


COMMANDS = ["goals-table", "goals-csv", "goals-json", "compare-first-bad", "compare-second-bad",
            "compare-csv"]


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS)
def test_every_command_reports_an_invalid_scenario_cleanly(tmp_path, command):
    cwd, out_dir = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir(), out_dir.mkdir()
    bad = _write(tmp_path / "bad.yaml", "name: bad\nlevers:\n  hte_reward: 101\n")
    out = out_dir / "scorecard.txt"
    argv = {
        "goals-table": ["goals", bad, "--out", out],
        "goals-csv": ["goals", bad, "--format", "csv", "--out", out],
        "goals-json": ["goals", bad, "--format", "json", "--out", out],
        "compare-first-bad": ["compare", bad, PLAN, "--out", out],
        "compare-second-bad": ["compare", PLAN, bad, "--out", out],
        "compare-csv": ["compare", PLAN, bad, "--format", "csv", "--out", out],
    }[command]
    proc = cli(*argv, cwd=cwd)
    _check_user_error(proc, bad, out_dir)
    assert proc.stdout == ""


def test_compare_with_two_files_of_the_same_name_fails_cleanly(tmp_path):
    cwd, out_dir = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir(), out_dir.mkdir()
    twin = _write(tmp_path / "twin.yaml", PLAN.read_text(encoding="utf-8"))
    proc = cli("compare", PLAN, twin, "--out", out_dir / "cmp.txt", cwd=cwd)
    _check_user_error(proc, twin, out_dir)
    assert "'plan'" in proc.stderr


OUT_CASES = ["run-missing-dir", "run-out-is-dir", "goals-missing-dir", "compare-missing-dir"]


@pytest.mark.parametrize("case", OUT_CASES, ids=OUT_CASES)
def test_unusable_out_path_fails_cleanly_before_running(tmp_path, case):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    missing = tmp_path / "no-such-dir" / "results.csv"
    argv = {
        "run-missing-dir": ["run", PLAN, "--out", missing],
        "run-out-is-dir": ["run", PLAN, "--out", cwd],
        "goals-missing-dir": ["goals", PLAN, "--out", missing],
        "compare-missing-dir": ["compare", BASELINE, PLAN, "--out", missing],
    }[case]
    proc = cli(*argv, cwd=cwd)
    _check_user_error(proc, cwd if case == "run-out-is-dir" else missing, cwd)
    assert not missing.parent.exists()


def test_relative_out_path_is_relative_to_the_working_directory(tmp_path):
    """A relative --out into a missing folder is reported with the path as given."""
    proc = cli("run", PLAN, "--out", "nowhere/results.csv", cwd=tmp_path)
    _check_user_error(proc, "nowhere/results.csv", tmp_path)
