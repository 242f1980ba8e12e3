"""The command line, run as ``python -m simulator`` in a fresh process.

Every command runs with its working directory in a temporary folder and absolute scenario paths,
so nothing depends on being started from the repository. Model runs are few (module fixtures);
validation errors are cheap because nothing is run.
"""
from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import cli as cli_module
from simulator.base import text as textfmt

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
    # (the terminal table shortens English names to fit 100 columns; the Chinese name and
    # the year identify the row; --wide shows both names, see the block at the end)
    lines = compare_run.stdout.splitlines()
    assert sum(1 for r in TARGETS
               if any(f"{r['name_zh']} " in ln and f"  {r['year']}  " in ln for ln in lines)) \
        == len(TARGETS)


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
    # issue 11: hostile and surprising files
    ("alias-bomb", "name: [&a0 [lol]" + "".join(
        f", &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)) + "]\n"),
    ("deep-flow-list", "name: bad\nlevers: " + "[" * 1000 + "]" * 1000 + "\n"),
    ("deep-block-map",
     "name: bad\nlevers:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(500))),
    ("yaml11-octal", "name: bad\nlevers:\n  hte_reward: 030\n"),
    ("yaml11-sexagesimal", "name: bad\nlevers:\n  hte_reward: 1:30\n"),
    ("merge-key", "name: bad\nlevers:\n  <<: {hte_reward: 5}\n"),
    ("surrogate-escape", 'name: "plan\\ud83d\\ude00"\n'),
    ("escape-in-name", 'name: "bad\\e[2Jname"\n'),
    ("bidi-in-title", 'name: bad\ntitle_en: "a\\u202eb"\n'),
    ("python-tag", "name: !!python/object/apply:os.system ['true']\n"),
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


def test_bad_file_messages_are_short_and_escaped(tmp_path):
    """The errors of the hostile files above quote at most a short, escaped excerpt."""
    for case, content in BAD_CONTENT:
        scen = _write(tmp_path / f"{case}.yaml", content)
        proc = cli("run", scen, "--out", tmp_path / "never.csv", cwd=tmp_path)
        assert len(proc.stderr) < 600, (case, proc.stderr)
        assert proc.stderr.rstrip("\n").isprintable(), (case, proc.stderr)


# --------------------------------------------------------------------------------------------
# Special files, options and output targets (issue 11): one line, exit 2, nothing run or written
# --------------------------------------------------------------------------------------------

SPECIAL_INPUTS = ["fifo", "dev-zero", "dev-urandom"]


@pytest.mark.parametrize("kind", SPECIAL_INPUTS, ids=SPECIAL_INPUTS)
def test_goals_on_a_fifo_or_device_is_refused_without_reading(tmp_path, kind):
    scen = {"fifo": tmp_path / "pipe.yaml", "dev-zero": Path("/dev/zero"),
            "dev-urandom": Path("/dev/urandom")}[kind]
    if kind == "fifo":
        os.mkfifo(scen)  # nobody writes: a reader that opened it would block (timeout in cli())
    proc = cli("goals", scen, cwd=tmp_path)
    _check_user_error(proc, scen)
    assert ("named pipe" if kind == "fifo" else "character device") in proc.stderr


OPTION_ERRORS = {
    "seed-negative": (["uncertainty", PLAN, "--seed", "-1"], "--seed: value '-1' is not allowed"),
    "seed-too-large": (["uncertainty", PLAN, "--seed", str(2**32)], "from 0 to 4294967295"),
    "seed-not-a-number": (["uncertainty", PLAN, "--seed", "x"], "--seed: value 'x'"),
    "seed-sensitivity": (["sensitivity", PLAN, "--seed", "-1"], "--seed: value '-1'"),
    "seed-solve": (["solve", PLAN, "--seed", "-1"], "--seed: value '-1'"),
    "seed-validate": (["validate", "--seed", "-1"], "--seed: value '-1'"),
    "n-exponent": (["uncertainty", PLAN, "--n", "1e12"], "--n: invalid int value: '1e12'"),
    "n-huge": (["uncertainty", PLAN, "--n", "1000000000000"],
               "--n: value 1,000,000,000,000 asks for 1,000,000,000,000 runs; allowed at most "
               "10,000,000"),
    "n-sensitivity": (["sensitivity", PLAN, "--n", str(2**30)], "allowed at most 10,000,000"),
    "n-validate": (["validate", "--n", "100000000"], "allowed at most 10,000,000"),
    "n-solve": (["solve", PLAN, "--probability", "0.5", "--n", "100000000"],
                "allowed at most 10,000,000"),
    "top-zero": (["sensitivity", PLAN, "--top", "0"], "--top: value 0 is not allowed"),
    "unknown-option": (["goals", PLAN, "--colour", "red"], "unrecognized arguments: --colour"),
    "missing-argument": (["goals"], "the following arguments are required: scenario"),
    "bad-choice": (["goals", PLAN, "--format", "xml"], "invalid choice: 'xml'"),
    "no-command": ([], "the following arguments are required: command"),
}


@pytest.mark.parametrize("argv,needle", OPTION_ERRORS.values(), ids=OPTION_ERRORS.keys())
def test_option_mistakes_are_one_line_and_exit_2(tmp_path, argv, needle):
    proc = cli(*argv, cwd=tmp_path)
    _check_user_error(proc, needle, tmp_path)
    assert proc.stdout == ""


OUT_TARGETS = ["device", "fifo", "symlink", "dangling-symlink", "input-itself", "input-hardlink",
               "uncertainty-file", "existing-file"]


@pytest.mark.parametrize("case", OUT_TARGETS, ids=OUT_TARGETS)
def test_out_refuses_targets_it_must_not_replace(tmp_path, case):
    scen = _write(tmp_path / "plan.yaml", PLAN.read_text(encoding="utf-8"))
    kept = _write(tmp_path / "kept.csv", "precious\n")
    out = tmp_path / "out.csv"
    argv = ["goals", scen, "--format", "csv", "--out", out, "--force"]
    needle = "--out "
    if case == "device":
        out, needle = Path("/dev/null"), "is a character device"
    elif case == "fifo":
        os.mkfifo(out)
        needle = "is a named pipe (FIFO)"
    elif case in ("symlink", "dangling-symlink"):
        out.symlink_to(kept if case == "symlink" else tmp_path / "nowhere.csv")
        needle = "is a symbolic link"
    elif case == "input-itself":
        out, needle = scen, "is the input file"
    elif case == "input-hardlink":
        os.link(scen, out)
        needle = "is the input file"
    elif case == "uncertainty-file":
        spec = _write(tmp_path / "spec.yaml", (MODELS_DIR / "uncertainty.yaml").read_text(
            encoding="utf-8"))
        out, needle = spec, "is the input file"
        argv = ["uncertainty", scen, "--uncertainty", spec, "--n", "10", "--out", out, "--force"]
    elif case == "existing-file":
        out, needle = kept, "file exists; add --force to replace it"
        argv = ["goals", scen, "--format", "csv", "--out", out]
    argv[argv.index("--out") + 1] = out
    before = {p.name: (p.lstat().st_mode, p.read_bytes() if p.is_file() and not p.is_symlink()
                       else None) for p in tmp_path.iterdir() if not p.is_fifo()}
    proc = cli(*argv, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"error: --out {out}: ") and needle in proc.stderr, proc.stderr
    after = {p.name: (p.lstat().st_mode, p.read_bytes() if p.is_file() and not p.is_symlink()
                      else None) for p in tmp_path.iterdir() if not p.is_fifo()}
    assert after == before  # nothing replaced, nothing created (no temporary file either)
    assert not (tmp_path / "nowhere.csv").exists()


@pytest.fixture(scope="module")
def forced_run(tmp_path_factory):
    """``run --force`` over an existing read-only file, under umask 027, of a scenario whose
    name a spreadsheet would take for a formula."""
    tmp = tmp_path_factory.mktemp("forced")
    scen = _write(tmp / "formula.yaml", 'name: "=HYPERLINK(1)"\nlevers:\n  hte_reward: 30\n')
    out = _write(tmp / "results.csv", "old\n")
    out.chmod(0o400)
    mask = os.umask(0o027)
    try:
        proc = cli("run", scen, "--out", out, "--force", cwd=tmp)
    finally:
        os.umask(mask)
    return proc, out


def test_force_replaces_an_existing_file(forced_run):
    proc, out = forced_run
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").startswith("scenario,time,variable,value,unit\n")
    assert sorted(p.name for p in out.parent.iterdir()) == ["formula.yaml", "results.csv"]


def test_output_permissions_follow_the_umask(forced_run):
    _, out = forced_run
    assert out.stat().st_mode & 0o777 == 0o640  # 666 & ~027; neither the old 400 nor a fixed 600


def test_csv_text_cells_cannot_become_formulas(forced_run):
    _, out = forced_run
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {r["scenario"] for r in rows} == {"'=HYPERLINK(1)"}


def test_a_full_disk_is_one_line_and_leaves_no_file(tmp_path, monkeypatch, capsys):
    real_fdopen = os.fdopen

    def full_disk_fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)

        def write(text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        f.write = write
        return f
    monkeypatch.setattr(cli_module.os, "fdopen", full_disk_fdopen)
    out = tmp_path / "card.csv"
    assert cli_module.main(["goals", str(PLAN), "--format", "csv", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --out {out}: cannot write (No space left on device)\n"
    assert list(tmp_path.iterdir()) == []


def test_a_full_standard_output_is_one_line(tmp_path):
    with open("/dev/full", "w", encoding="utf-8") as full:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.run([sys.executable, "-m", "simulator", "goals", str(PLAN)], cwd=tmp_path,
                              env=env, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert (proc.returncode, proc.stderr) == (2, "error: cannot write the output (No space left on "
                                                 "device)\n")


def _ascii_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "ascii"}
    return subprocess.run([sys.executable, "-m", "simulator", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="ascii", timeout=300)


def test_an_ascii_terminal_gets_escapes_not_a_crash(tmp_path):
    proc = _ascii_cli("goals", PLAN, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "\\u60c5\\u666f scenario: plan" in proc.stdout  # 情景


def test_an_ascii_terminal_gets_escaped_errors(tmp_path):
    scen = _write(tmp_path / "规划.yaml", "name: 规划\nlevers:\n  hte_reward: 101\n")
    proc = _ascii_cli("goals", scen, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "\\u89c4\\u5212.yaml" in proc.stderr and "Traceback" not in proc.stderr


def _popen(*args, cwd: Path) -> subprocess.Popen:
    """The command as a person at a terminal starts it. A process started with SIGINT ignored
    (as a shell does for a background job, and so for these tests when the suite runs in one)
    keeps ignoring it, as it should: GNU env's --default-signal gives it back its default."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(["env", "--default-signal=INT", sys.executable, "-m", "simulator",
                             *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ctrl_c_during_an_ensemble_is_one_word_and_exit_130(tmp_path):
    out = tmp_path / "unc.csv"
    proc = _popen("uncertainty", PLAN, "--n", "100000", "--seed", "0", "--progress",
                  "--format", "csv", "--out", out, cwd=tmp_path)
    first = proc.stderr.read(1)  # the progress bar: the ensemble is running
    time.sleep(0.3)  # past the bar's construction, into the runs (100,000 take seconds)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    err = (first + err).decode("utf-8")
    assert proc.returncode == 130, err
    # the progress bar is cleared with a carriage return, then one line
    assert err.endswith("\rinterrupted\n"), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary file


def test_ctrl_c_while_starting_is_one_line_and_exit_130(tmp_path):
    proc = _popen("uncertainty", PLAN, "--n", "100000", "--out", tmp_path / "unc.csv",
                  cwd=tmp_path)
    time.sleep(0.5)  # Python has installed its SIGINT handler; imports or the run are under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert (proc.returncode, err.decode("utf-8")) == (130, "interrupted\n")
    assert list(tmp_path.iterdir()) == []


def test_main_in_process_returns_130_on_ctrl_c(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_module, "cmd_goals", interrupted)
    assert cli_module.main(["goals", str(PLAN)]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_markdown_shows_scenario_names_as_text():
    from simulator import Model, load_scenario
    from simulator.plan import goals
    card = goals.scorecard(Model().run(load_scenario(PLAN)))
    card["scenario"] = "[x](http://e.x)|a_b"
    header = cli_module.compare_markdown(card).splitlines()[0]
    assert header.endswith(" | \\[x\\]\\(http://e\\.x\\)\\|a\\_b |")
    assert header.replace("\\|", "").count("|") == 5  # one column per scenario, as for any name


# --------------------------------------------------------------------------------------------
# Terminal output that fits: tables ≤ 100 display columns by default, everything with --wide
# (in process: cli.main with capsys; small --n)
# --------------------------------------------------------------------------------------------

AMBITIOUS = SCENARIOS_DIR / "ambitious.yaml"
ACTUALS = REPO / "data" / "examples" / "actuals_2015_2020.csv"
LEVERS = _csv_rows("levers.csv")
BOTH_NAMES = [f"{r['name_zh']} {r['name_en']}" for r in TARGETS]

#: command → (arguments, what --wide must show on one line each: full names, every column)
FIT_CASES = {
    "goals": (["goals", PLAN], [*BOTH_NAMES, "首次达成 first met", "单位 unit"]),
    "compare": (["compare", BASELINE, PLAN, AMBITIOUS], [*BOTH_NAMES, "单位 unit"]),
    "uncertainty": (["uncertainty", PLAN, "--n", "20", "--seed", "1", "--backend", "numpy"],
                    [*BOTH_NAMES, "情景 scenario", "p05", "p95", "确定性 deterministic"]),
    "sensitivity": (["sensitivity", PLAN, "--method", "morris", "--n", "2", "--seed", "1",
                     "--inputs", "levers", "--backend", "numpy"],
                    ["类型 kind", "mu_star_conf", "sigma"]),
    "solve": (["solve", PLAN, "--backend", "numpy"],
              [f"{r['name_zh']} {r['name_en']}" for r in LEVERS] + BOTH_NAMES),
    "milestones": (["milestones", PLAN, "--goals", "innovation_index@2035",
                    "rd_intensity@2035=1.2", "--backend", "numpy"],
                   ["指标 indicator", "杠杆 lever (单位 unit)"]),
    "hindcast": (["hindcast", "--observed", ACTUALS, "--cutoff", "2018", "--starts", "1"],
                 ["备注 note", "not scored", "共同点 common points"]),
    "calibrate": (["calibrate", "--starts", "1", "--out", "{tmp}/calibration.yaml"],
                  ["why the data do not identify it", "registration_fraction_2020 (cosine"]),
    "validate": (["validate", "--n", "20", "--out", "{tmp}/report"],
                 ["dimensional consistency of every equation"]),
}


def _main_output(argv: list, tmp: Path, capsys) -> str:
    argv = [str(a).replace("{tmp}", str(tmp)) for a in argv]
    code = cli_module.main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.fixture(scope="module")
def fit_outputs(tmp_path_factory) -> dict[str, tuple[str, str]]:
    """(default output, --wide output) of every command that prints a table."""
    outputs = {}
    capture = pytest.MonkeyPatch()
    try:
        for name, (argv, _) in FIT_CASES.items():
            texts = []
            for extra in ([], ["--wide"]):
                tmp = tmp_path_factory.mktemp(f"fit-{name}")
                buf = io.StringIO()
                capture.setattr(sys, "stdout", buf)
                argv_ = [str(a).replace("{tmp}", str(tmp)) for a in argv] + extra
                # (validate exits 1 when a check fails, tested in test_validation: the
                # layout of its table is what is tested here)
                ok = (0, 1) if name == "validate" else (0,)
                assert cli_module.main(argv_) in ok, buf.getvalue()
                texts.append(buf.getvalue())
            outputs[name] = (texts[0], texts[1])
    finally:
        capture.undo()
    return outputs


@pytest.mark.parametrize("name", FIT_CASES, ids=FIT_CASES.keys())
def test_every_table_line_fits_100_columns_by_default(fit_outputs, name):
    text, _ = fit_outputs[name]
    too_wide = [ln for ln in text.splitlines() if textfmt.display_width(ln) > 100]
    assert too_wide == []
    assert text.strip()


@pytest.mark.parametrize("name", FIT_CASES, ids=FIT_CASES.keys())
def test_wide_shows_every_column_and_full_names(fit_outputs, name):
    narrow, wide = fit_outputs[name]
    missing = [needle for needle in FIT_CASES[name][1] if needle not in wide]
    assert missing == []
    assert "not shown:" not in wide
    assert re.findall(r"\S…(?:  |$)", wide, re.M) == []  # no cell cut short
    # (the default output of these, too wide as they are, is shortened: the case is real)
    shortened = bool(re.search(r"\S…(?:  |$)", narrow, re.M)) or "not shown:" in narrow
    assert shortened or name in ("validate", "sensitivity", "calibrate", "milestones")


@pytest.mark.parametrize("name", ["goals", "compare", "uncertainty"], ids=str)
def test_default_keeps_every_chinese_name_readable(fit_outputs, name):
    narrow, _ = fit_outputs[name]
    assert [r["name_zh"] for r in TARGETS if r["name_zh"] not in narrow] == []


def test_a_table_written_to_a_file_keeps_every_column(tmp_path, capsys):
    out = tmp_path / "card.txt"
    _main_output(["goals", PLAN, "--out", out], tmp_path, capsys)
    text = out.read_text(encoding="utf-8")
    assert [n for n in BOTH_NAMES if n not in text] == [] and "首次达成 first met" in text


def test_markdown_and_csv_are_not_narrowed(tmp_path, capsys):
    markdown = _main_output(["compare", BASELINE, PLAN, "--format", "markdown"], tmp_path, capsys)
    assert all(name.replace(" ", "* ", 1) in markdown or name in markdown
               for name in BOTH_NAMES)
    csv_text = _main_output(["goals", PLAN, "--format", "csv"], tmp_path, capsys)
    assert max(len(ln) for ln in csv_text.splitlines()) > 100  # one record a line, as before


def test_format_table_cuts_drops_and_folds():
    header = ["名称 name", "值 value", "单位 unit", "说明 note"]
    rows = [["研发经费投入强度 R&D spending as a share of GDP", "1.05", "%",
             "a long explanation " * 6]]
    text = textfmt.format_table(header, rows, right=[False, True, False, False],
                                   shrink=[0], fold=[3], drop=[2], width=60)
    lines = text.splitlines()
    assert max(textfmt.display_width(ln) for ln in lines) <= 60
    assert lines[0].startswith("名称") and lines[1].startswith("name")  # header on two lines
    assert "…" in lines[3] and "1.05" in lines[3]
    assert sum("explanation" in ln for ln in lines) == 6  # folded onto more lines, not cut
    full = textfmt.format_table(header, rows, width=None)
    assert rows[0][0] in full and rows[0][3].strip() in full and len(full.splitlines()) == 3


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty, flag, expected", [
    (True, [], True), (True, ["--no-progress"], False), (False, [], False),
    (False, ["--progress"], True)], ids=["tty", "tty-no-progress", "pipe", "pipe-progress"])
def test_progress_defaults_to_whether_stderr_is_a_terminal(monkeypatch, tty, flag, expected):
    from simulator.analysis import uncertainty
    seen = []

    def run(*args, progress=None, **kwargs):
        seen.append(progress)
        raise KeyboardInterrupt  # stop here: only the argument matters
    monkeypatch.setattr(uncertainty, "run", run)
    monkeypatch.setattr(sys, "stderr", _Terminal() if tty else io.StringIO())
    assert cli_module.main(["uncertainty", str(PLAN), "--n", "10", *flag]) == 130
    assert seen == [expected]
