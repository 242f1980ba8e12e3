"""Validation: every structure and behaviour test passes on the model, and each can fail."""
from __future__ import annotations

import dataclasses

import pytest

from simulator.analysis import loops, plausibility, validation

from helpers import cli


def test_at_least_eight_extreme_condition_tests():
    assert len(validation.EXTREME) >= 8
    assert len({e.name for e in validation.EXTREME}) == len(validation.EXTREME)


@pytest.fixture(scope="module")
def extreme():
    return validation.extreme_conditions()


def test_every_extreme_condition_holds(extreme):
    failed = [f"{c.name}: {c.detail}" for c in extreme if not c.passed]
    assert not failed, failed


def test_an_extreme_condition_that_does_not_hold_fails(monkeypatch):
    ex = validation.EXTREME[0]
    wrong = dataclasses.replace(ex, name="knowledge grows without R&D",
                                holds=lambda r, p: (r["knowledge_stock"][-1]
                                                    > r["knowledge_stock"][0], "claimed growth"))
    monkeypatch.setattr(validation, "EXTREME", (wrong,))
    check, = validation.extreme_conditions()
    assert not check.passed and "claimed growth" in check.detail


def test_integration_error_is_small_and_the_check_can_fail(monkeypatch):
    checks = validation.integration_error()
    assert len(checks) == 2 and all(c.passed for c in checks)
    assert all(0 < c.data["max_relative_change"] < validation.INTEGRATION_TOL for c in checks)
    monkeypatch.setattr(validation, "INTEGRATION_TOL", 1e-12)
    assert not any(c.passed for c in validation.integration_error())


def test_behaviour_reproduction_and_its_failure():
    checks = validation.behaviour()
    assert [c.passed for c in checks] == [True, True, True], [c.detail for c in checks]
    from simulator.analysis import calibration
    data = calibration.read()
    off = [dict(t) for t in data["targets"]]
    k = next(i for i, t in enumerate(off) if t["role"] == "fit")
    off[k]["error_pct"] = 15.0
    fake = type("R", (), {"targets": off})()
    assert not validation.behaviour(fake)[0].passed


def test_random_policies_keep_stocks_and_shares_in_bounds():
    checks = validation.random_bounds(n=2000, seed=0)[:2]  # (the plausibility bounds follow)
    assert [c.passed for c in checks] == [True, True], [c.detail for c in checks]
    assert len(checks[0].data["minima"]) == len(validation.stocks()) >= 20
    shares = validation.share_bounds()
    assert {"high_tech_share", "rd_intensity", "science_literacy", "fiscal_st_share",
            "conversion_share", "renewal_success"} <= set(shares)
    assert "super_deduction_rate" not in shares  # a % rate, not a share


def test_validate_command_writes_a_report_and_exits_zero(tmp_path):
    out = tmp_path / "report"
    res = cli("validate", "--n", "500", "--out", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "tests pass" in text and "FAIL" not in text
    for fig in ("behaviour.png", "extreme.png", "integration.png"):
        assert (out / fig).stat().st_size > 10_000
    # dimensional consistency, one per extreme condition, two of integration error, three of
    # behaviour, two of bounds; one per plausibility bound; and the loop knock-out's (one, plus
    # one per loop the README calls a driver)
    loop_tests = 1 + sum(loops.readme_drivers(
        (validation.REPO / "README.md").read_text(encoding="utf-8")).values())
    total = (1 + len(validation.EXTREME) + 2 + 3 + 2) + len(plausibility.load()) + loop_tests
    assert f"{total} of {total} tests pass" in res.stdout
    assert "## 6. Loop knock-out" in text


def test_validate_exits_one_when_a_test_fails(tmp_path, monkeypatch, capsys):
    failing = validation.Check("bounds", "a failing test", False, "deliberately failing")
    monkeypatch.setattr(validation, "run_all",
                        lambda n, seed, progress=False, bounds=None: [failing])
    monkeypatch.setattr(validation, "_figures", lambda checks, out: {
        "extreme": "", "integration": "", "behaviour": ""})
    from simulator.cli import main
    assert main(["validate", "--out", str(tmp_path / "r")]) == 1
    assert "FAIL a failing test: deliberately failing" in capsys.readouterr().err


def test_validate_out_must_be_a_directory(tmp_path):
    f = tmp_path / "file.md"
    f.write_text("x")
    res = cli("validate", "--out", str(f), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: --out {f}: is a file; give a directory for the report"
