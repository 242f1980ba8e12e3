"""Calibration: data treatment, derivations and statistics by hand, identifiability, reproducibility."""
from __future__ import annotations

import copy
import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.analysis import calibration as cal
from simulator.model import engine_for

from helpers import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def targets():
    return cal.load_targets()


@pytest.fixture(scope="module")
def fresh():
    """A calibration run now, from the committed data and seed, on the backend this machine's
    ``auto`` picks (as ``calibrate --check`` runs it)."""
    data = cal.read()
    return cal.calibrate(seed=data["provenance"]["seed"], starts=data["provenance"]["starts"])


# --------------------------------------------------------------------------------------------
# Data

def test_every_fact_has_exactly_one_treatment(targets):
    facts = cal.facts()
    assert sorted(t.source for t in targets) == sorted(facts)
    assert all(t.treatment.strip() for t in targets)


def test_data_file_is_the_shared_observations_with_sources():
    with open(cal.OBSERVED_FILE, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 40
    assert all(r["source_url"] and r["quote"] for r in rows)


def test_nothing_after_2020_is_used(targets):
    assert all(t.year <= 2020 for t in targets if t.role != "excluded")


def test_conflicting_values_one_used_one_excluded(targets):
    by_source = {t.source: t for t in targets}
    assert by_source["observed:gy_high_tech_enterprises_total:2019:44"].role == "fit"
    assert by_source["observed:gy_high_tech_enterprises_total:2019:43"].role == "excluded"
    assert by_source["observed:gy_high_tech_enterprises_new:2019:13"].role == "fit"
    assert by_source["observed:gy_high_tech_enterprises_new:2019:10"].role == "excluded"


def test_conflict_alternatives_swap_only_the_conflicting_figures(targets):
    alt = {t.id: t for t in cal.conflict_alternatives(targets)}
    changed = {i for i, t in alt.items() if t.source != next(u for u in targets if u.id == i).source}
    assert changed == {"hte_2019", "hte_new_2019"}
    assert (alt["hte_2019"].fact.value, alt["hte_new_2019"].fact.value) == (43.0, 10.0)
    assert all(alt[t.id].role == t.role for t in targets)


def test_partial_year_figures_are_not_fitted(targets):
    partial = [t for t in targets if "_q1" in t.source or "_h1" in t.source]
    assert len(partial) == 3 and all(t.role == "excluded" for t in partial)


@pytest.mark.parametrize("tid,v2020,expected", [
    ("ht_revenue_2015", 221.0, 221 / 1.426),           # +42.6 % over the 13th FYP
    ("conversion_2015", 200.0, 200 / 1.2513),          # +25.13 %
    ("literacy_2015", 8.6, 5.6),                       # +3 percentage points
    ("patents_2015", 70.0, 35.0),                      # period totals doubled
    ("rd_growth_2015", 6.7536667, 6.7536667 / 1.2 ** 5),  # growth above 20 %/yr: an upper bound
    ("platforms_2015", 76.0, 34.0),                    # 42 built: at most 76 - 42
    ("hte_2019", 44.0, 44.0),
])
def test_derived_observations_by_hand(targets, tid, v2020, expected):
    t = next(t for t in targets if t.id == tid)
    assert t.observed(v2020) == pytest.approx(expected, rel=1e-12)


def test_lower_bound_of_growth_is_an_upper_bound_on_the_past_level(targets):
    t = next(t for t in targets if t.id == "rd_growth_2015")
    assert t.comparison == "le"


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "targets.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _rows() -> list[dict]:
    with open(cal.TARGETS_FILE, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("change,message", [
    ({"year": "2021"}, "field 'year': value '2021' is not allowed; allowed a whole year from 2010 "
                       "to 2020 (nothing after 2020 is used)"),
    ({"role": "maybe"}, "field 'role': value 'maybe' is not allowed; allowed "
                        "fit|check|anchor|excluded"),
    ({"sigma": "0"}, "field 'sigma': value '0' is not allowed; allowed a relative uncertainty "
                     "in (0, 1]"),
    ({"variable": "nope"}, "field 'variable': value 'nope' is not allowed; allowed a Python name "
                           "of a model variable"),
    ({"derivation": "guess"}, "field 'derivation': value 'guess' is not allowed"),
    ({"treatment": " "}, "field 'treatment'"),
], ids=["after-2020", "role", "sigma", "variable", "derivation", "treatment"])
def test_bad_targets_file_names_file_row_field_value(tmp_path, change, message):
    rows = _rows()
    k = next(i for i, r in enumerate(rows) if r["id"] == "hte_2019")
    rows[k].update(change)
    path = _write(tmp_path, rows)
    with pytest.raises(cal.CalibrationError) as err:
        cal.load_targets(path)
    text = str(err.value)
    assert str(path) in text and f"row {k + 2} (id 'hte_2019')" in text and message in text


def test_an_untreated_fact_is_an_error(tmp_path):
    rows = [r for r in _rows() if r["id"] != "gdp_q1_2020"]
    with pytest.raises(cal.CalibrationError, match="facts without a treatment row: "
                       r"\['observed:gy_gdp_q1:2020:195.20'\]"):
        cal.load_targets(_write(tmp_path, rows))


def test_candidates_need_a_documented_range(tmp_path):
    path = tmp_path / "params.csv"
    path.write_text("constant,reason\ncorporate_tax_rate,no range\n", encoding="utf-8")
    with pytest.raises(cal.CalibrationError, match="field 'constant': value 'corporate_tax_rate' "
                       "is not a constant with a \\[min, max\\] range"):
        cal.load_candidates(path)


# --------------------------------------------------------------------------------------------
# Method by hand

def test_implied_history_carries_back_at_five_year_growth():
    # 10 %/yr: 100 in 2020 and 161.051 in 2025 imply 100 / 1.1 in 2019 and 100 / 1.1^5 in 2015
    v = cal.implied_history(np.array([100.0]), np.array([161.051]), 2019)
    assert v[0] == pytest.approx(100 / 1.1, rel=1e-9)
    assert cal.implied_history(np.array([100.0]), np.array([161.051]), 2015)[0] == \
        pytest.approx(100 / 1.1 ** 5, rel=1e-9)
    assert cal.implied_history(np.array([0.0]), np.array([0.0]), 2015)[0] == 0.0


def test_fit_statistics_by_hand():
    st = cal.fit_statistics(np.array([110.0, 90.0]), np.array([100.0, 100.0]))
    assert st["mape"] == pytest.approx(10.0) and st["rmspe"] == pytest.approx(10.0)
    # MSE 100 is all unequal variation: equal means (U_M 0), model sd 10 vs observed sd 0
    assert (st["theil_um"], st["theil_us"], st["theil_uc"]) == pytest.approx((0.0, 1.0, 0.0))
    assert st["theil_u"] == pytest.approx(10 / (math.sqrt((110 ** 2 + 90 ** 2) / 2) + 100))
    bias = cal.fit_statistics(np.array([110.0, 120.0]), np.array([100.0, 110.0]))
    assert bias["theil_um"] == pytest.approx(1.0) and bias["mape"] == pytest.approx(
        (10 / 100 + 10 / 110) / 2 * 100)


def test_forward_selection_drops_collinear_and_insensitive_parameters():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=8), rng.normal(size=8)
    jac = np.column_stack([a, b, 0.5 * a + 1e-6 * b, 1e-4 * b])  # a2 acts like a, less
    chosen, why = cal.select_identifiable(jac, ["a", "b", "a2", "tiny"])
    assert chosen == ["a", "b"]
    reasons = {w["constant"]: w["reason"] for w in why}
    assert "collinearity index" in reasons["a2"] and "nearly that of a" in reasons["a2"]
    assert "sensitivity" in reasons["tiny"]


def test_no_more_parameters_than_observations_allow():
    jac = np.eye(3)[:, :3]
    chosen, why = cal.select_identifiable(np.vstack([jac]), ["x", "y", "z"])
    assert len(chosen) == 2 and "no degree of freedom" in why[0]["reason"]


# --------------------------------------------------------------------------------------------
# The committed result

def test_committed_parameter_file_is_reproduced_to_tolerance(fresh):
    """python -m simulator calibrate gives the committed file's results (to RESULT_RTOL beyond
    the digits written), whatever the CPU, backend and optimiser diagnostics."""
    assert cal.differences(cal.read(), yaml.safe_load(cal.to_yaml(fresh))) == []


def _at(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc, path[-1]


FIRST = next(iter(cal.read()["parameters"]))


@pytest.mark.parametrize("path,units,fails", [
    (("parameters", FIRST, "value"), 1, False),       # a rounding flip of the last digit written
    (("parameters", FIRST, "value"), 3, True),
    (("parameters", FIRST, "ci95", 0), 3, True),
    (("fit", "chi2"), 3, True),
    (("fit", "pooled", "mape"), 1, False),
    (("fit", "pooled", "mape"), 3, True),
    (("fit", "correlation", FIRST, FIRST), 3, True),
    (("targets", 0, "model"), 3, True),
    (("targets", 0, "error_pct"), 3, True),
], ids=["value-1-unit", "value", "ci95", "chi2", "mape-1-unit", "mape", "correlation",
        "target-model", "error-pct"])
def test_check_fails_when_a_result_moves_beyond_tolerance(path, units, fails):
    """A result moved by ``units`` in its last digit written fails the check by name at 3 units
    (beyond RESULT_RTOL); one unit is a rounding flip of a tiny difference, and passes."""
    committed = cal.read()
    moved = copy.deepcopy(committed)
    doc, key = _at(moved, path)
    digits = cal._result_rule(path, committed)[0]
    doc[key] += units * cal._unit(doc[key], digits)
    found = cal.differences(committed, moved)
    if not fails:
        assert found == []
        return
    name = ".".join(map(str, path))
    assert len(found) == 1 and found[0].startswith(
        f"field {name!r}: committed {_at(committed, path)[0][key]!r}, fresh {doc[key]!r}: differ "
        "by ")
    assert f"({cal.RESULT_RTOL:g} relative + one unit in the last of {digits} significant " \
        "digits written)" in found[0]


@pytest.mark.parametrize("path,value", [
    (("provenance", "seed"), 1),
    (("provenance", "model", "sha256"), "0" * 64),
    (("fixed", "hte_exit_rate", "value"), 0.031),
    (("targets", 0, "sigma"), 0.06),
    (("identification", 0, "constant"), "hte_exit_rate"),
    (("identification", 0, "reason"),
     "collinearity index 760 > 10 with the parameters already chosen: its effect on the data is "
     "nearly that of registration_fraction_2020 (cosine -1.00)"),
], ids=["seed", "model-hash", "fixed-value", "sigma", "which-fixed", "reason-number"])
def test_check_fails_when_an_input_or_decision_changes(path, value):
    committed = cal.read()
    changed = copy.deepcopy(committed)
    doc, key = _at(changed, path)
    doc[key] = value
    found = cal.differences(committed, changed)
    assert len(found) == 1 and found[0].startswith(f"field {'.'.join(map(str, path))!r}: ")


@pytest.mark.parametrize("path,value", [
    (("starts", 8, "nfev"), 15),
    (("starts", 11, "status"), 2),
    (("starts",), []),
    (("provenance", "versions", "numpy"), "9.9"),
    (("provenance", "machine"), {"cpu": "another", "simd": "sse4.2"}),
    (("provenance", "engine_backend"), "numpy"),
    (("created",), "2000-01-01"),
], ids=["nfev", "status", "no-starts", "numpy-version", "machine", "backend", "created"])
def test_check_ignores_provenance_and_diagnostics(path, value):
    committed = cal.read()
    changed = copy.deepcopy(committed)
    doc, key = _at(changed, path)
    doc[key] = value
    assert cal.differences(committed, changed) == []


def test_a_file_without_machine_provenance_is_still_checked():
    """Files made before the CPU was recorded compare on their results alone."""
    committed = cal.read()
    older = copy.deepcopy(committed)
    del older["provenance"]["machine"]
    assert cal.differences(older, committed) == []


def test_the_file_records_cpu_and_simd_level():
    machine = cal.read()["provenance"]["machine"]
    assert set(machine) >= {"cpu", "simd", "numpy_simd"} and machine["cpu"]


def test_fitted_parameters_lie_in_documented_ranges(fresh):
    eng = engine_for()
    assert fresh.parameters, "at least one parameter is identified"
    for name, p in fresh.parameters.items():
        lo, hi = eng.limits[name]
        assert lo <= p["value"] <= hi
        assert p["ci95"][0] < p["value"] < p["ci95"][1]


def test_every_candidate_is_either_fitted_or_explained(fresh):
    names = [c.name for c in cal.load_candidates()]
    assert sorted(fresh.parameters) + sorted(fresh.fixed) and \
        sorted([*fresh.parameters, *fresh.fixed]) == sorted(names)
    assert all(v["why_not_fitted"] for v in fresh.fixed.values())


def test_every_start_reaches_the_same_optimum(fresh):
    costs = [s["cost"] for s in fresh.starts]
    assert max(costs) - min(costs) <= 1e-6 * max(1.0, min(costs))


def test_fit_reports_the_statistics_per_series_and_pooled(fresh):
    assert set(fresh.pooled) >= {"mape", "rmspe", "theil_u", "theil_um", "theil_us", "theil_uc"}
    for st in fresh.series.values():
        assert st["theil_um"] + st["theil_us"] + st["theil_uc"] == pytest.approx(1.0, abs=1e-3)


def test_calibrate_check_passes_and_bad_seed_input_is_refused(tmp_path):
    res = cli("calibrate", "--check", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"reproduced (every result to {cal.RESULT_RTOL:g} relative" in res.stdout
    res = cli("calibrate", "--starts", "0", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.strip() == \
        "error: --starts: value 0 is not allowed; allowed a whole number >= 1"


def test_check_fails_when_the_file_was_edited(tmp_path):
    edited = tmp_path / "calibration.yaml"
    shutil.copy(cal.CALIBRATION_FILE, edited)
    text = edited.read_text(encoding="utf-8")
    name, entry = next(iter(cal.read()["parameters"].items()))
    edited.write_text(text.replace(f"value: {entry['value']}", "value: 0.5", 1), encoding="utf-8")
    res = cli("calibrate", "--check", "--out", str(edited), cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.splitlines()[0].startswith(
        f"field 'parameters.{name}.value': committed 0.5, fresh {entry['value']!r}: differ by ")
    assert res.stderr.splitlines()[-1] == (f"{edited}: differs from a fresh calibration with seed "
                                           "0 in 1 field(s)")


def test_broken_parameter_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "calibration.yaml"
    bad.write_text("parameters:\n  certification_fraction_2020: {value: oops}\n", encoding="utf-8")
    with pytest.raises(cal.CalibrationError, match="field 'parameters.certification_fraction_2020"
                       ".value': value 'oops' is not allowed; allowed a finite number"):
        cal.parameters(bad)


@pytest.mark.parametrize("path,committed,fresh,equal", [
    (("fit", "pooled", "theil_u"), float("nan"), float("nan"), True),
    (("fit", "pooled", "theil_u"), float("nan"), 0.01, False),
    (("fit", "chi2"), float("inf"), float("inf"), True),
    (("parameters", FIRST, "value"), "oops", 0.2, False),
], ids=["nan-nan", "nan-number", "inf-inf", "text-for-number"])
def test_check_of_values_that_are_not_finite_numbers(path, committed, fresh, equal):
    a, b = cal.read(), cal.read()
    for doc, value in ((a, committed), (b, fresh)):
        holder, key = _at(doc, path)
        holder[key] = value
    found = cal.differences(a, b)
    assert (found == []) == equal
    if not equal:
        assert found[0].startswith(f"field {'.'.join(map(str, path))!r}: committed {committed!r}")


def test_check_of_a_file_with_a_damaged_range_compares_relative_to_the_value():
    committed = cal.read()
    committed["parameters"][FIRST]["range"] = "broken"
    fresh = cal.read()
    found = cal.differences(committed, fresh)
    assert found == [f"field 'parameters.{FIRST}.range': committed 'broken', fresh "
                     f"{fresh['parameters'][FIRST]['range']!r} (must be equal)"]
