"""Scenario files: strict validation with one-line messages, defaults, round trips, PySD names.

Also checks that the lever and assumption tables (``models/levers.csv``, ``models/assumptions.csv``)
agree with the constants of the Vensim model, which is the single source of truth.
"""
from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import pytest

from simulator.analysis import calibration
from simulator.plan import scenario, tables
from simulator.plan.scenario import MAX_FILE_BYTES, ScenarioError

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / "models"
SCENARIOS_DIR = REPO / "scenarios"
MDL_FILE = MODELS_DIR / "guangyuan_innovation.mdl"

SHIPPED = sorted(SCENARIOS_DIR.glob("*.yaml"))
PERIODS = ("2021-2025", "2026-2030", "2031-2035")


def _csv_rows(name: str) -> list[dict[str, str]]:
    """A metadata table read directly (not through ``simulator.plan.tables``)."""
    with open(MODELS_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


LEVER_ROWS = _csv_rows("levers.csv")
ASSUMPTION_ROWS = _csv_rows("assumptions.csv")
LEVER_IDS = [r["id"] for r in LEVER_ROWS]
ASSUMPTION_IDS = [r["id"] for r in ASSUMPTION_ROWS]


def _mdl_name(name: str) -> str:
    """A Vensim name normalised the way Vensim compares names (case, spaces, underscores)."""
    return " ".join(name.replace("_", " ").lower().split())


def _mdl_equations() -> dict[str, tuple[str, str]]:
    """Every equation of the .mdl: normalised left-hand side -> (right-hand side, units field)."""
    text = MDL_FILE.read_text(encoding="utf-8")
    text = text.split("\\\\\\---///", 1)[0]  # drop the sketch section, if any
    out: dict[str, tuple[str, str]] = {}
    for block in text.split("|"):
        parts = block.split("~")
        if len(parts) < 2 or "=" not in parts[0]:
            continue
        lhs, rhs = parts[0].split("=", 1)
        lhs = lhs.replace("{UTF-8}", "")
        out[_mdl_name(lhs)] = (" ".join(rhs.split()), " ".join(parts[1].split()))
    return out


MDL_EQUATIONS = _mdl_equations()


def _write(tmp_path: Path, text: str | bytes, name: str = "scen.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def _check_message(message: str, path: Path | str, fragments: list[str]) -> None:
    """The message is one line, names the file and contains every expected fragment."""
    assert "\n" not in message and "\r" not in message, f"message is not one line: {message!r}"
    assert str(path) in message, f"message does not name the file {path}: {message!r}"
    missing = [f for f in fragments if f not in message]
    assert not missing, f"message {message!r} lacks {missing}"


# --------------------------------------------------------------------------------------------
# Validation errors: each case is a file's text and the fragments its message must contain
# (field, value, what was allowed).
# --------------------------------------------------------------------------------------------

ERROR_CASES = [
    # unknown names
    ("unknown-top-level-field", "name: a\ncolour: red\n",
     ["'colour'", "unknown field", "allowed", "levers", "assumptions"]),
    ("unknown-lever", "name: a\nlevers:\n  hte_rewards: 5\n",
     ["levers.hte_rewards", "unknown lever", "allowed", "sme_campaign"]),
    ("unknown-assumption", "name: a\nassumptions:\n  gdp: 5\n",
     ["assumptions.gdp", "unknown assumption", "allowed", "gdp_growth"]),
    ("unknown-period-key", "name: a\nlevers:\n  hte_reward: {2021-2024: 5}\n",
     ["levers.hte_reward", "2021-2024", "allowed", "2021-2025, 2026-2030, 2031-2035"]),
    ("period-key-a-year", "name: a\nlevers:\n  hte_reward: {2025: 5}\n",
     ["levers.hte_reward", "2025", "allowed", "2021-2025"]),
    # out of range
    ("lever-above-max", "name: a\nlevers:\n  hte_reward: 101\n",
     ["levers.hte_reward", "101", "out of range", "from 0 to 100"]),
    ("lever-below-min", "name: a\nlevers:\n  super_deduction: 70\n",
     ["levers.super_deduction", "70", "out of range", "from 75 to 200"]),
    ("lever-negative", "name: a\nlevers:\n  tech_loans: -0.5\n",
     ["levers.tech_loans", "-0.5", "out of range", "from 0 to 20"]),
    ("period-above-max", "name: a\nlevers:\n  sme_campaign: {2026-2030: 20.5}\n",
     ["levers.sme_campaign.2026-2030", "20.5", "out of range", "from 0 to 20"]),
    ("period-below-min", "name: a\nlevers:\n  ip_protection: {2031-2035: 0.4}\n",
     ["levers.ip_protection.2031-2035", "0.4", "out of range", "from 0.5 to 3"]),
    ("list-item-above-max", "name: a\nlevers:\n  hte_reward: [10, 20, 200]\n",
     ["levers.hte_reward.2031-2035", "200", "out of range", "from 0 to 100"]),
    ("assumption-above-max", "name: a\nassumptions:\n  gdp_growth: 15.5\n",
     ["assumptions.gdp_growth", "15.5", "out of range", "from 0 to 15"]),
    ("assumption-below-min", "name: a\nassumptions:\n  population_growth: -2.1\n",
     ["assumptions.population_growth", "-2.1", "out of range", "from -2 to 1"]),
    # NaN and infinities
    ("lever-nan", "name: a\nlevers:\n  hte_reward: .nan\n",
     ["levers.hte_reward", "nan", "from 0 to 100"]),
    ("lever-inf", "name: a\nlevers:\n  hte_reward: .inf\n",
     ["levers.hte_reward", "inf", "from 0 to 100"]),
    ("period-nan", "name: a\nlevers:\n  hte_reward: {2026-2030: .NaN}\n",
     ["levers.hte_reward.2026-2030", "nan", "from 0 to 100"]),
    ("assumption-minus-inf", "name: a\nassumptions:\n  gdp_growth: -.inf\n",
     ["assumptions.gdp_growth", "-inf", "from 0 to 15"]),
    ("assumption-inf", "name: a\nassumptions:\n  inflation: .Inf\n",
     ["assumptions.inflation", "inf", "from 0 to 6"]),
    ("lever-integer-too-large-for-float", "name: a\nlevers:\n  hte_reward: " + "9" * 400 + "\n",
     ["levers.hte_reward", "from 0 to 100"]),
    # wrong types
    ("lever-string", "name: a\nlevers:\n  hte_reward: ten\n",
     ["levers.hte_reward", "'ten'", "not a number", "from 0 to 100"]),
    ("lever-numeric-string", "name: a\nlevers:\n  hte_reward: '10'\n",
     ["levers.hte_reward", "'10'", "not a number", "from 0 to 100"]),
    ("lever-bool", "name: a\nlevers:\n  hte_reward: true\n",
     ["levers.hte_reward", "True", "not a number", "from 0 to 100"]),
    ("lever-null", "name: a\nlevers:\n  hte_reward: null\n",
     ["levers.hte_reward", "None", "not a number", "from 0 to 100"]),
    ("lever-empty-value", "name: a\nlevers:\n  hte_reward:\n",
     ["levers.hte_reward", "None", "not a number"]),
    ("lever-date", "name: a\nlevers:\n  hte_reward: 2021-01-01\n",
     ["levers.hte_reward", "2021", "not a number"]),
    ("lever-list-too-short", "name: a\nlevers:\n  hte_reward: [10, 20]\n",
     ["levers.hte_reward", "[10, 20]", "2 items", "allowed", "2021-2025, 2026-2030, 2031-2035"]),
    ("lever-list-too-long", "name: a\nlevers:\n  hte_reward: [10, 20, 30, 40]\n",
     ["levers.hte_reward", "4 items", "allowed"]),
    ("lever-list-item-string", "name: a\nlevers:\n  hte_reward: [10, x, 30]\n",
     ["levers.hte_reward.2026-2030", "'x'", "not a number"]),
    ("period-nested-mapping", "name: a\nlevers:\n  hte_reward: {2021-2025: {a: 1}}\n",
     ["levers.hte_reward.2021-2025", "{'a': 1}", "not a number", "from 0 to 100"]),
    ("period-bool", "name: a\nlevers:\n  hte_reward: {2021-2025: false}\n",
     ["levers.hte_reward.2021-2025", "False", "not a number"]),
    ("assumption-nested-mapping", "name: a\nassumptions:\n  gdp_growth: {low: 5}\n",
     ["assumptions.gdp_growth", "{'low': 5}", "not a number", "from 0 to 15"]),
    ("assumption-list", "name: a\nassumptions:\n  gdp_growth: [5, 6, 7]\n",
     ["assumptions.gdp_growth", "[5, 6, 7]", "not a number"]),
    ("assumption-string", "name: a\nassumptions:\n  inflation: 2%\n",
     ["assumptions.inflation", "'2%'", "not a number", "from 0 to 6"]),
    ("levers-a-list", "name: a\nlevers:\n  - hte_reward\n",
     ["'levers'", "['hte_reward']", "mapping"]),
    ("levers-a-number", "name: a\nlevers: 5\n", ["'levers'", "5", "mapping"]),
    ("levers-zero", "name: a\nlevers: 0\n", ["'levers'", "0", "mapping"]),
    ("levers-empty-list", "name: a\nlevers: []\n", ["'levers'", "[]", "mapping"]),
    ("assumptions-false", "name: a\nassumptions: false\n", ["'assumptions'", "False", "mapping"]),
    ("assumptions-a-string", "name: a\nassumptions: high\n", ["'assumptions'", "'high'", "mapping"]),
    # the name and the labels
    ("missing-name", "levers:\n  hte_reward: 5\n", ["'name'", "missing"]),
    ("name-a-number", "name: 5\n", ["'name'", "5", "text"]),
    ("name-null", "name:\n", ["'name'", "None", "text"]),
    ("name-empty", "name: ''\n", ["'name'", "''", "allowed", "1-64 characters"]),
    ("name-with-comma", "name: a,b\n", ["'name'", "'a,b'", "allowed", "commas"]),
    ("name-too-long", "name: " + "x" * 65 + "\n", ["'name'", "1-64 characters"]),
    ("title-a-number", "name: a\ntitle_zh: 5\n", ["'title_zh'", "5", "text"]),
    ("description-a-list", "name: a\ndescription: [a, b]\n", ["'description'", "['a', 'b']", "text"]),
    # the top level
    ("empty-file", "", ["empty", "name"]),
    ("only-whitespace", "  \n\n", ["empty"]),
    ("only-comments", "# a scenario\n# to be written\n", ["empty"]),
    ("top-level-a-list", "- name: a\n- name: b\n", ["top level", "mapping", "name"]),
    ("top-level-a-string", "plan\n", ["top level", "'plan'", "mapping"]),
    ("top-level-a-number", "42\n", ["top level", "42", "mapping"]),
    # malformed YAML, with line information
    ("unclosed-bracket", "name: a\nlevers: {hte_reward: [1, 2\n", ["malformed YAML", "line 3"]),
    ("unclosed-quote", "name: 'a\nlevers: {}\n", ["malformed YAML", "line"]),
    ("bad-indentation", "name: a\nlevers:\n  hte_reward: 5\n sme_campaign: 3\n",
     ["malformed YAML", "line 4"]),
    ("tab-indentation", "name: a\nlevers:\n\thte_reward: 5\n", ["malformed YAML", "line 3"]),
    ("two-documents", "name: a\n---\nname: b\n", ["line 2"]),
    ("python-tag", "name: a\nlevers:\n  hte_reward: !!python/object/apply:os.getcwd []\n",
     ["line 3"]),
    ("unhashable-key", "name: a\nlevers: {[1, 2]: 3}\n", ["line 2"]),
    # duplicate keys, at every depth
    ("duplicate-top-level-key", "name: a\nname: b\n", ["duplicate", "'name'", "line 2"]),
    ("duplicate-lever", "name: a\nlevers:\n  hte_reward: 5\n  hte_reward: 6\n",
     ["duplicate", "'hte_reward'", "line 4"]),
    ("duplicate-period", "name: a\nlevers:\n  hte_reward: {2021-2025: 5, 2021-2025: 6}\n",
     ["duplicate", "'2021-2025'", "line 3"]),
    ("duplicate-assumption", "name: a\nassumptions:\n  inflation: 2\n  inflation: 3\n",
     ["duplicate", "'inflation'", "line 4"]),
    # one line even when the offending key holds a line break
    ("unknown-lever-with-line-break", 'name: a\nlevers:\n  "hte\\nreward": 5\n', ["unknown lever"]),
    ("unknown-assumption-with-line-break", 'name: a\nassumptions:\n  "gdp\\ngrowth": 5\n',
     ["unknown assumption"]),
]


@pytest.mark.parametrize("text, fragments", [c[1:] for c in ERROR_CASES],
                         ids=[c[0] for c in ERROR_CASES])
def test_invalid_scenario_file_raises_one_line_error(tmp_path, text, fragments):
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as excinfo:
        scenario.load(path)
    _check_message(str(excinfo.value), path, fragments)


@pytest.mark.parametrize("text, fragments", [c[1:] for c in ERROR_CASES[:12]],
                         ids=[c[0] for c in ERROR_CASES[:12]])
def test_loads_names_the_given_source(text, fragments):
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="my-scenario.yaml")
    _check_message(str(excinfo.value), "my-scenario.yaml", fragments)


def test_from_dict_rejects_out_of_range_and_names_the_source():
    with pytest.raises(ScenarioError) as excinfo:
        scenario.from_dict({"name": "a", "levers": {"hte_reward": 1000}}, source="<app>")
    _check_message(str(excinfo.value), "<app>", ["levers.hte_reward", "1000", "from 0 to 100"])


def test_non_utf8_bytes(tmp_path):
    path = _write(tmp_path, "name: café\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as excinfo:
        scenario.load(path)
    _check_message(str(excinfo.value), path, ["UTF-8", "byte 9"])


def test_file_not_found(tmp_path):
    path = tmp_path / "no-such-scenario.yaml"
    with pytest.raises(ScenarioError) as excinfo:
        scenario.load(path)
    _check_message(str(excinfo.value), path, ["not found"])


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError) as excinfo:
        scenario.load(tmp_path)
    _check_message(str(excinfo.value), tmp_path, ["directory", "YAML file"])


def test_file_over_the_size_limit(tmp_path):
    path = _write(tmp_path, "name: a\n" + "#" * MAX_FILE_BYTES + "\n")
    with pytest.raises(ScenarioError) as excinfo:
        scenario.load(path)
    _check_message(str(excinfo.value), path, [f"{path.stat().st_size:,} bytes",
                                              f"at most {MAX_FILE_BYTES:,}"])


def test_bytes_over_the_size_limit():
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(b"name: a\n" + b"#" * MAX_FILE_BYTES, source="big.yaml")
    _check_message(str(excinfo.value), "big.yaml", [f"at most {MAX_FILE_BYTES:,}"])


def test_file_of_exactly_the_size_limit_loads(tmp_path):
    head = "name: edge\n# "
    path = _write(tmp_path, head + "x" * (MAX_FILE_BYTES - len(head) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert scenario.load(path).name == "edge"


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = _write(tmp_path, "\ufeffname: bom\ntitle_zh: 规划\n".encode("utf-8"))
    scen = scenario.load(path)
    assert (scen.name, scen.title_zh) == ("bom", "规划")


# --------------------------------------------------------------------------------------------
# Good paths
# --------------------------------------------------------------------------------------------

def test_the_three_scenarios_are_shipped():
    assert {p.stem for p in SHIPPED} == {"baseline", "plan", "ambitious"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_loads_with_every_lever_and_assumption(path):
    scen = scenario.load(path)
    assert scen.name == path.stem
    assert scen.title_zh and scen.title_en
    assert list(scen.levers) == LEVER_IDS
    assert list(scen.assumptions) == ASSUMPTION_IDS
    assert all(len(v) == 3 for v in scen.levers.values())


def test_baseline_holds_every_lever_at_its_default():
    assert scenario.load(SCENARIOS_DIR / "baseline.yaml").levers == scenario.default().levers


def test_shipped_scenarios_have_different_names():
    names = [scenario.load(p).name for p in SHIPPED]
    assert len(set(names)) == len(names)


def test_a_number_sets_all_three_periods():
    scen = scenario.loads("name: a\nlevers:\n  hte_reward: 30\n")
    assert scen.levers["hte_reward"] == (30.0, 30.0, 30.0)


def test_a_list_sets_each_period():
    scen = scenario.loads("name: a\nlevers:\n  hte_reward: [20, 30, 40.5]\n")
    assert scen.levers["hte_reward"] == (20.0, 30.0, 40.5)


@pytest.mark.parametrize("period, expected", [
    ("2021-2025", (6.0, 1.0, 1.0)),
    ("2026-2030", (1.0, 6.0, 1.0)),
    ("2031-2035", (1.0, 1.0, 6.0)),
], ids=PERIODS)
def test_partial_period_mapping_keeps_the_default_elsewhere(period, expected):
    scen = scenario.loads(f"name: a\nlevers:\n  sme_campaign: {{{period}: 6}}\n")
    assert scen.levers["sme_campaign"] == expected


def test_unset_levers_and_assumptions_keep_their_defaults():
    scen = scenario.loads("name: a\nlevers:\n  hte_reward: 30\nassumptions:\n  inflation: 3\n")
    other_levers = {k: v for k, v in scen.levers.items() if k != "hte_reward"}
    assert other_levers == {r["id"]: (float(r["default"]),) * 3 for r in LEVER_ROWS
                            if r["id"] != "hte_reward"}
    assert scen.assumptions == {**{r["id"]: float(r["default"]) for r in ASSUMPTION_ROWS},
                                "inflation": 3.0}


def test_empty_sections_are_allowed():
    scen = scenario.loads("name: a\nlevers:\nassumptions: {}\n")
    assert scen.levers == scenario.default().levers


def test_name_is_stripped_and_labels_kept():
    scen = scenario.loads("name: '  my run '\ntitle_zh: 我的情景\ntitle_en: Mine\n"
                          "description: two\n  words\n")
    assert (scen.name, scen.title_zh, scen.title_en, scen.description) == (
        "my run", "我的情景", "Mine", "two words")


@pytest.mark.parametrize("row", LEVER_ROWS, ids=LEVER_IDS)
def test_default_scenario_equals_levers_csv_default(row):
    assert scenario.default().levers[row["id"]] == (float(row["default"]),) * 3


@pytest.mark.parametrize("row", ASSUMPTION_ROWS, ids=ASSUMPTION_IDS)
def test_default_scenario_equals_assumptions_csv_default(row):
    assert scenario.default().assumptions[row["id"]] == float(row["default"])


@pytest.mark.parametrize("row", LEVER_ROWS, ids=LEVER_IDS)
def test_lever_range_bounds_are_accepted(row):
    lo, hi = float(row["min"]), float(row["max"])
    scen = scenario.from_dict({"name": "a", "levers": {row["id"]: [lo, hi, lo]}})
    assert scen.levers[row["id"]] == (lo, hi, lo)


@pytest.mark.parametrize("row", ASSUMPTION_ROWS, ids=ASSUMPTION_IDS)
def test_assumption_range_bounds_are_accepted(row):
    lo, hi = float(row["min"]), float(row["max"])
    low = scenario.from_dict({"name": "a", "assumptions": {row["id"]: lo}})
    high = scenario.from_dict({"name": "a", "assumptions": {row["id"]: hi}})
    assert (low.assumptions[row["id"]], high.assumptions[row["id"]]) == (lo, hi)


OUTSIDE = [(r, side) for r in LEVER_ROWS for side in ("below", "above")]


@pytest.mark.parametrize("row, side", OUTSIDE, ids=[f"{r['id']}-{s}" for r, s in OUTSIDE])
def test_lever_one_step_outside_its_range_raises_instead_of_clipping(row, side):
    step = float(row["step"])
    value = float(row["min"]) - step if side == "below" else float(row["max"]) + step
    with pytest.raises(ScenarioError, match=f"levers\\.{row['id']}\\.2026-2030"):
        scenario.from_dict({"name": "a", "levers": {row["id"]: {"2026-2030": value}}})


A_OUTSIDE = [(r, side) for r in ASSUMPTION_ROWS for side in ("below", "above")]


@pytest.mark.parametrize("row, side", A_OUTSIDE, ids=[f"{r['id']}-{s}" for r, s in A_OUTSIDE])
def test_assumption_one_step_outside_its_range_raises_instead_of_clipping(row, side):
    step = float(row["step"])
    value = float(row["min"]) - step if side == "below" else float(row["max"]) + step
    with pytest.raises(ScenarioError, match=f"assumptions\\.{row['id']}"):
        scenario.from_dict({"name": "a", "assumptions": {row["id"]: value}})


def test_with_levers_validates_and_does_not_clip():
    base = scenario.default()
    with pytest.raises(ScenarioError, match="levers.hte_reward"):
        base.with_levers(hte_reward=101)
    changed = base.with_levers(name="more", hte_reward=(20, 30, 40))
    assert (changed.name, changed.levers["hte_reward"]) == ("more", (20.0, 30.0, 40.0))
    assert base.levers["hte_reward"] == (10.0, 10.0, 10.0)


def test_with_assumptions_validates():
    base = scenario.default()
    with pytest.raises(ScenarioError, match="assumptions.gdp_growth"):
        base.with_assumptions(gdp_growth=-1)
    assert base.with_assumptions(gdp_growth=4).assumptions["gdp_growth"] == 4.0


def test_scenario_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.default().name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Round trips and PySD names
# --------------------------------------------------------------------------------------------

HAND_MADE = """\
name: hand-made
title_zh: 手工情景
title_en: "Hand-made: per-period values"
description: |
  Two lines,
  with 中文 and a colon: here.
assumptions:
  gdp_growth: 5.25
  population_growth: -1.3
  innovation_environment: 1.15
levers:
  hte_reward: {2021-2025: 20, 2026-2030: 35.5}
  sme_campaign: [2, 4.5, 8]
  ip_pledge_financing: {2031-2035: 0.35}
  super_deduction: 200
  tech_loans: 0.1
"""


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_to_yaml_round_trips_shipped_scenario(path):
    scen = scenario.load(path)
    assert scenario.loads(scen.to_yaml()) == scen


def test_to_yaml_round_trips_hand_made_scenario_with_per_period_values():
    scen = scenario.loads(HAND_MADE)
    assert scen.levers["hte_reward"] == (20.0, 35.5, 10.0)
    again = scenario.loads(scen.to_yaml())
    assert again == scen
    assert again.description == scen.description == "Two lines,\nwith 中文 and a colon: here.\n"


def test_to_yaml_round_trips_through_a_file(tmp_path):
    scen = scenario.loads(HAND_MADE)
    path = _write(tmp_path, scen.to_yaml(), name="again.yaml")
    assert scenario.load(path) == scen


def test_to_yaml_writes_equal_periods_as_one_number_and_unequal_as_periods():
    data = scenario.loads(HAND_MADE).to_dict()
    assert data["levers"]["super_deduction"] == 200
    assert data["levers"]["sme_campaign"] == {"2021-2025": 2, "2026-2030": 4.5, "2031-2035": 8}


def test_params_use_pysd_names_per_period():
    params = scenario.loads(HAND_MADE).params()
    assert {k: params[k] for k in ("hte_reward_2021_2025", "hte_reward_2026_2030",
                                   "hte_reward_2031_2035", "tech_sme_campaign_2021_2025",
                                   "tech_sme_campaign_2026_2030", "tech_sme_campaign_2031_2035",
                                   "super_deduction_rate_2031_2035", "nominal_gdp_growth",
                                   "population_growth", "national_innovation_environment")} == {
        "hte_reward_2021_2025": 20.0, "hte_reward_2026_2030": 35.5, "hte_reward_2031_2035": 10.0,
        "tech_sme_campaign_2021_2025": 2.0, "tech_sme_campaign_2026_2030": 4.5,
        "tech_sme_campaign_2031_2035": 8.0, "super_deduction_rate_2031_2035": 200.0,
        "nominal_gdp_growth": 5.25, "population_growth": -1.3,
        "national_innovation_environment": 1.15,
    }


def test_params_cover_every_lever_period_and_assumption():
    expected = {"_".join(f"{r['vensim_name']} {p}".lower().split())
                for r in LEVER_ROWS for p in ("2021 2025", "2026 2030", "2031 2035")}
    expected |= {"_".join(r["vensim_name"].lower().split()) for r in ASSUMPTION_ROWS}
    assert set(scenario.default().params(calibrated=False)) == expected
    # by default the calibrated constants come first, then levers and assumptions
    assert set(scenario.default().params()) == expected | set(calibration.parameters())


def test_calibrated_params_are_the_parameter_file_values():
    params = scenario.default().params()
    fitted = calibration.read()["parameters"]
    assert fitted and {k: params[k] for k in fitted} == {k: v["value"] for k, v in fitted.items()}


def test_params_are_constants_of_the_translated_model(model):
    assert sorted(set(scenario.default().params()) - model.python_names) == []


def test_params_of_default_equal_the_model_constants(model):
    constants = model.constants()
    params = scenario.default().params(calibrated=False)
    assert {k: constants.get(k) for k in params} == params


# --------------------------------------------------------------------------------------------
# The lever and assumption tables against the Vensim model
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", LEVER_ROWS + ASSUMPTION_ROWS, ids=LEVER_IDS + ASSUMPTION_IDS)
def test_table_default_lies_within_range_and_step_is_positive(row):
    lo, hi, default, step = (float(row[k]) for k in ("min", "max", "default", "step"))
    assert lo <= default <= hi and step > 0 and lo < hi


def test_table_ids_and_vensim_names_are_unique():
    ids = LEVER_IDS + ASSUMPTION_IDS
    names = [_mdl_name(r["vensim_name"]) for r in LEVER_ROWS + ASSUMPTION_ROWS]
    assert (len(set(ids)), len(set(names))) == (len(ids), len(names))


def test_tables_module_reads_the_same_levers_and_assumptions():
    assert [(lev.id, lev.default, lev.min, lev.max, lev.step) for lev in tables.levers()] == [
        (r["id"], float(r["default"]), float(r["min"]), float(r["max"]), float(r["step"]))
        for r in LEVER_ROWS]
    assert [(a.id, a.default, a.min, a.max) for a in tables.assumptions()] == [
        (r["id"], float(r["default"]), float(r["min"]), float(r["max"])) for r in ASSUMPTION_ROWS]


LEVER_CONSTANTS = [(r, suffix) for r in LEVER_ROWS
                   for suffix in ("2020", "2021 2025", "2026 2030", "2031 2035")]


@pytest.mark.parametrize("row, suffix", LEVER_CONSTANTS,
                         ids=[f"{r['id']}-{s.replace(' ', '-')}" for r, s in LEVER_CONSTANTS])
def test_mdl_lever_constant_equals_levers_csv_default(row, suffix):
    name = _mdl_name(f"{row['vensim_name']} {suffix}")
    assert name in MDL_EQUATIONS, f"{name!r} is not an equation of {MDL_FILE.name}"
    assert float(MDL_EQUATIONS[name][0]) == float(row["default"])


PERIOD_CONSTANTS = [(r, suffix) for r in LEVER_ROWS
                    for suffix in ("2021 2025", "2026 2030", "2031 2035")]


@pytest.mark.parametrize("row, suffix", PERIOD_CONSTANTS,
                         ids=[f"{r['id']}-{s.replace(' ', '-')}" for r, s in PERIOD_CONSTANTS])
def test_mdl_lever_unit_and_range_equal_levers_csv(row, suffix):
    units = MDL_EQUATIONS[_mdl_name(f"{row['vensim_name']} {suffix}")][1]
    match = re.fullmatch(r"(.*?)\s*\[([^,\]]+),([^,\]]+),([^,\]]+)\]", units)
    assert match, f"no [min,max,step] in the units of {row['vensim_name']} {suffix}: {units!r}"
    assert (match[1], *map(float, match.groups()[1:])) == (
        row["unit"], float(row["min"]), float(row["max"]), float(row["step"]))


@pytest.mark.parametrize("row", ASSUMPTION_ROWS, ids=ASSUMPTION_IDS)
def test_mdl_assumption_constant_equals_assumptions_csv_default(row):
    name = _mdl_name(row["vensim_name"])
    assert name in MDL_EQUATIONS, f"{name!r} is not an equation of {MDL_FILE.name}"
    assert float(MDL_EQUATIONS[name][0]) == float(row["default"])


@pytest.mark.parametrize("row", ASSUMPTION_ROWS, ids=ASSUMPTION_IDS)
def test_mdl_assumption_unit_and_range_equal_assumptions_csv(row):
    units = MDL_EQUATIONS[_mdl_name(row["vensim_name"])][1]
    match = re.fullmatch(r"(.*?)\s*\[([^,\]]+),([^,\]]+),([^,\]]+)\]", units)
    assert match, f"no [min,max,step] in the units of {row['vensim_name']}: {units!r}"
    assert (match[1], *map(float, match.groups()[1:])) == (
        row["unit"], float(row["min"]), float(row["max"]), float(row["step"]))

