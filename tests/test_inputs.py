"""The input layer (``simulator/base/inputs.py``): budgets on bytes, YAML nodes, nesting, aliases and
string length; YAML 1.2 core scalars; text checks; short escaped messages; CSV escaping.

Each hostile input of issue 11 (section 2) is reproduced here and must end in one short line.
Memory is measured with ``tracemalloc`` (a bound, not a speed figure).
"""
from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from simulator.analysis import uncertainty
from simulator.base import inputs
from simulator.base.inputs import InputError
from simulator.plan import scenario, tables
from simulator.plan.scenario import ScenarioError

REPO = Path(__file__).resolve().parents[1]


def _one_line(message: str, limit: int = inputs.MAX_MESSAGE_CHARS) -> str:
    assert "\n" not in message and "\r" not in message, message
    assert len(message) <= limit, len(message)
    message.encode("utf-8")  # encodable: no lone surrogates
    assert message.isprintable(), message  # no ESC, bidi controls or zero-width characters
    return message


def alias_bomb(levels: int) -> str:
    """The "billion laughs" of the issue: each level lists the previous one ten times."""
    items = ["&a0 [lol]"] + [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]"
                             for i in range(1, levels)]
    return "name: [" + ", ".join(items) + "]\n"


# --------------------------------------------------------------------------------------------
# Budgets

def test_the_alias_bomb_of_the_issue_is_522_bytes():
    assert len(alias_bomb(10).encode()) == 522


@pytest.mark.parametrize("levels", [7, 8, 10], ids=["7-levels", "8-levels", "10-levels"])
def test_alias_bomb_ends_in_one_line_with_bounded_memory(levels):
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as excinfo:
            scenario.loads(alias_bomb(levels), source="bomb.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = _one_line(str(excinfo.value), 200)
    assert "alias *a0 is not allowed" in message and "line 1" in message
    assert peak < 1_000_000, peak  # expanded, 10 levels would be 10**9 items


def test_a_huge_list_gives_a_short_message():
    text = "name: [" + ", ".join(["x"] * 9_000) + "]\n"
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="list.yaml")
    message = _one_line(str(excinfo.value), 300)
    assert "field 'name'" in message and "not text" in message and "…" not in message[:20]


DEEP = {
    "flow-list-1000": "name: a\nlevers: " + "[" * 1000 + "]" * 1000 + "\n",
    "block-map-500": "name: a\nlevers:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(500)),
    "block-list-500": "name: a\nlevers:\n" + "".join(" " * (2 * i + 1) + "-\n" for i in range(500)),
    "flow-map-1000": "name: a\nlevers: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n",
}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_one_line_not_a_recursion_error(text):
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="deep.yaml")
    message = _one_line(str(excinfo.value))
    assert "deep.yaml" in message and ("nested more than" in message or "nesting" in message)


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_refused_by_the_pure_python_parser_too(text, monkeypatch):
    import yaml
    monkeypatch.setattr(inputs, "_loader_class", lambda: yaml.BaseLoader)
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="deep.yaml")
    assert f"nested more than {inputs.MAX_DEPTH} levels" in _one_line(str(excinfo.value))


def test_node_budget():
    text = "name: a\nlevers: [" + ", ".join(["1"] * inputs.MAX_NODES) + "]\n"
    with pytest.raises(ScenarioError, match=f"more than {inputs.MAX_NODES:,} YAML nodes"):
        scenario.loads(text, source="many.yaml")


def test_string_budget():
    text = f"name: a\ndescription: {'x' * (inputs.MAX_STRING_CHARS + 1)}\n"
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="long.yaml")
    assert f"at most {inputs.MAX_STRING_CHARS:,} allowed" in _one_line(str(excinfo.value))


def test_a_description_at_the_string_budget_is_accepted():
    text = f"name: a\ndescription: {'x' * inputs.MAX_STRING_CHARS}\n"
    assert len(scenario.loads(text).description) == inputs.MAX_STRING_CHARS


def test_a_second_document_is_refused():
    with pytest.raises(ScenarioError, match="second YAML document"):
        scenario.loads("name: a\n---\nname: b\n", source="two.yaml")


@pytest.mark.parametrize("text", [
    "name: !!python/object/apply:os.system ['true']\n",
    "!!python/object/apply:os.system ['true']\n",
    "name: a\nlevers: !!set {hte_reward: 5}\n",
    "name: a\nlevers: {hte_reward: !!float 5}\n",
], ids=["python-scalar", "python-document", "set", "float-tag"])
def test_tags_other_than_str_are_refused(text):
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="tag.yaml")
    assert "tag" in _one_line(str(excinfo.value)) and "not allowed" in str(excinfo.value)


def test_str_tag_and_quotes_keep_text():
    scen = scenario.loads("name: !!str 030\ntitle_en: '1:30'\n")
    assert (scen.name, scen.title_en) == ("030", "1:30")


# --------------------------------------------------------------------------------------------
# YAML 1.2 core scalars; forms that YAML 1.1 reads differently are refused with a way out

YAML11 = {
    "octal-030": ("030", ["leading zero", "octal, 24", "write 30"]),
    "sexagesimal-1:30": ("1:30", ["base-60", "(90)", "plain decimal"]),
    "hex-0x1E": ("0x1E", ["hexadecimal", "(30)", "plain decimal (30)"]),
    "underscore-1_0": ("1_0", ["digit separators", "write 10"]),
    "octal-0o17": ("0o17", ["octal number (15)"]),
    "binary-0b101": ("0b101", ["binary number (5)"]),
    "negative-octal": ("-010", ["octal, -8", "write -10"]),
    "yes": ("yes", ["true or false in YAML 1.1", "quote it"]),
    "off": ("off", ["true or false in YAML 1.1"]),
}


@pytest.mark.parametrize("text,fragments", YAML11.values(), ids=YAML11.keys())
def test_yaml11_forms_are_refused_with_how_to_write_them(text, fragments):
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(f"name: a\nlevers:\n  hte_reward: {text}\n", source="y11.yaml")
    message = _one_line(str(excinfo.value))
    for fragment in ["y11.yaml", "line 3", "field 'levers.hte_reward'", repr(text), *fragments]:
        assert fragment in message, (fragment, message)


YAML12 = {"exponent-1e1": ("1e1", 10.0), "exponent-2.5E+1": ("2.5E+1", 25.0),
          "plus-sign": ("+12", 12.0), "trailing-dot": ("12.", 12.0),
          "leading-dot": (".5", 0.5), "zero-point": ("0.5", 0.5), "zero": ("0", 0.0)}


@pytest.mark.parametrize("text,value", YAML12.values(), ids=YAML12.keys())
def test_yaml12_numbers_are_read_as_written(text, value):
    scen = scenario.loads(f"name: a\nlevers:\n  hte_reward: {text}\n")
    assert scen.levers["hte_reward"] == (value,) * 3


def test_yaml12_reads_dates_and_words_as_text():
    assert inputs.parse_yaml("a: 2021-01-01\nb: null\nc: True\nd: ~\n", "x") == \
        {"a": "2021-01-01", "b": None, "c": True, "d": None}


def test_merge_keys_are_refused_by_name():
    text = "name: a\nlevers:\n  <<: {hte_reward: 5}\n"
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(text, source="merge.yaml")
    message = _one_line(str(excinfo.value))
    assert "merge keys (<<) are not allowed" in message and "malformed" not in message


def test_a_merge_key_with_an_alias_is_refused():
    text = "base: &b {hte_reward: 5}\nname: a\nlevers:\n  <<: *b\n"
    with pytest.raises(ScenarioError, match=r"merge keys \(<<\) are not allowed"):
        scenario.loads(text, source="merge.yaml")


def test_anchors_without_aliases_are_harmless():
    assert scenario.loads("name: &n a\n").name == "a"


# --------------------------------------------------------------------------------------------
# Text fields

BAD_CHARS = {
    "ESC": ("\x1b", "U+001B"), "NUL": ("\x00", "U+0000"), "DEL": ("\x7f", "U+007F"),
    "C1-NEL": ("\x85", "U+0085"), "RLO": ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    "LRI": ("\u2066", "U+2066"), "ZWSP": ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
    "ZWJ": ("\u200d", "U+200D"), "BOM": ("\ufeff", "U+FEFF"),
    "LINE-SEP": ("\u2028", "U+2028"), "surrogate": ("\ud83d", "U+D83D (a lone surrogate)"),
    "FFFF": ("\uffff", "U+FFFF (a noncharacter)"), "FFFE": ("\ufffe", "U+FFFE (a noncharacter)"),
}


@pytest.mark.parametrize("field", ["name", "title_zh", "title_en", "description"])
@pytest.mark.parametrize("char,fragment", BAD_CHARS.values(), ids=BAD_CHARS.keys())
def test_control_bidi_and_invisible_characters_are_refused(field, char, fragment):
    data = {"name": "plan", field: f"pl{char}an"}
    with pytest.raises(ScenarioError) as excinfo:
        scenario.from_dict(data, source="chars.yaml")
    message = _one_line(str(excinfo.value))
    assert f"field '{field}'" in message and fragment in message and "position 3" in message


@pytest.mark.parametrize("char,fragment", BAD_CHARS.values(), ids=BAD_CHARS.keys())
def test_escaped_characters_in_a_yaml_file_are_refused(char, fragment):
    escape = f"\\u{ord(char):04x}"
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(f'name: "pl{escape}an"\n', source="chars.yaml")
    message = _one_line(str(excinfo.value))
    assert "chars.yaml" in message  # libyaml refuses a surrogate escape itself, as malformed
    assert fragment in message or "malformed YAML" in message


def test_the_surrogate_pair_of_the_issue_is_refused():
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads('name: "plan\\ud83d\\ude00"\n', source="s.yaml")
    _one_line(str(excinfo.value))
    with pytest.raises(ScenarioError) as excinfo:  # given as a Python string
        scenario.loads('name: "plan\ud83d\ude00"\n', source="s.yaml")
    assert "U+D83D" in _one_line(str(excinfo.value))


def test_tabs_and_line_breaks_only_in_the_description():
    scen = scenario.loads('name: a\ndescription: "one\\ttwo\\nthree"\n')
    assert scen.description == "one\ttwo\nthree"
    with pytest.raises(ScenarioError, match="U\\+0009"):
        scenario.loads('name: a\ntitle_en: "one\\ttwo"\n')


def test_chinese_text_and_ideographic_space_are_accepted():
    scen = scenario.loads("name: 规划\ntitle_zh: 规划　情景\n")
    assert (scen.name, scen.title_zh) == ("规划", "规划　情景")


# --------------------------------------------------------------------------------------------
# Messages

@pytest.mark.parametrize("value", ["x" * 100_000, list(range(100_000)), {i: i for i in range(1000)},
                                   10**5000, [[[[[[["deep"]]]]]]]],
                         ids=["long-text", "long-list", "big-mapping", "huge-int", "nested"])
def test_excerpt_is_short_whatever_the_value(value):
    assert len(inputs.excerpt(value)) <= 2 * inputs.EXCERPT_CHARS + 1


def test_excerpt_escapes_and_marks_a_cut():
    assert inputs.excerpt("a\x1b[31mb") == "'a\\x1b[31mb'"
    assert inputs.excerpt("y" * 100).endswith("'…")


def test_one_line_escapes_and_bounds_every_message():
    message = inputs.one_line("a\nb\x1b\u202e\ud83d" + "z" * 5000)
    assert message.startswith("a\\nb\\x1b\\u202e\\ud83d") and message.endswith("…")
    assert len(message) == inputs.MAX_MESSAGE_CHARS
    assert str(InputError("x" * 10_000)) == message[:0] + "x" * 999 + "…"


def test_unknown_keys_are_quoted_as_excerpts():
    key = "k" * 1000  # YAML's longest implicit key
    with pytest.raises(ScenarioError) as excinfo:
        scenario.loads(f"name: a\nlevers:\n  {key}: 1\n", source="k.yaml")
    assert "unknown lever" in _one_line(str(excinfo.value), 800)


def test_source_label_is_safe_to_show():
    assert inputs.source_label("evil\n\x1b[2J.yaml" + "x" * 200) == \
        ("evil\\n\\x1b[2J.yaml" + "x" * 200)[:79] + "…"


# --------------------------------------------------------------------------------------------
# Reading files

def _read_in_thread(path) -> BaseException | bytes:
    """``read_bytes(path)`` in a thread: a FIFO that blocked the reader would leave it alive."""
    box: list = []

    def target():
        try:
            box.append(inputs.read_bytes(path))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(exc)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), f"reading {path} blocked"
    return box[0]


SPECIAL = ["fifo", "dev-zero", "dev-urandom", "directory", "dev-null"]


@pytest.mark.parametrize("kind", SPECIAL, ids=SPECIAL)
def test_special_files_are_refused_without_reading(tmp_path, kind):
    path = {"fifo": tmp_path / "pipe.yaml", "dev-zero": Path("/dev/zero"),
            "dev-urandom": Path("/dev/urandom"), "directory": tmp_path,
            "dev-null": Path("/dev/null")}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    result = _read_in_thread(path)
    assert isinstance(result, InputError), result
    message = _one_line(str(result))
    assert str(path) in message and ("device" in message or "FIFO" in message
                                     or "directory" in message)


def test_at_most_limit_plus_one_bytes_are_read_whatever_the_reported_size(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 100_000)
    real_stat, real_read = os.stat, os.read
    read = []

    def lying_stat(p, *args, **kwargs):  # a file that says it is empty, like /proc files
        result = real_stat(p, *args, **kwargs)
        return os.stat_result((result.st_mode, *result[1:6], 0, *result[7:]))

    def counting_read(fd, n):
        data = real_read(fd, n)
        read.append(len(data))
        return data
    monkeypatch.setattr(inputs.os, "stat", lying_stat)
    monkeypatch.setattr(inputs.os, "read", counting_read)
    with pytest.raises(InputError, match="larger than 1,000 bytes; at most 1,000 allowed"):
        inputs.read_bytes(path, limit=1_000)
    assert sum(read) == 1_001


def test_a_regular_file_larger_than_the_budget_names_its_size(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 2_000)
    with pytest.raises(InputError, match="file is 2,000 bytes; at most 1,000 allowed"):
        inputs.read_bytes(path, limit=1_000)


def test_an_unreadable_file_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "secret.yaml"
    path.write_text("name: a\n", encoding="utf-8")

    def refuse(*args, **kwargs):  # what a mode-000 file gives a user who is not root
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(inputs.os, "open", refuse)
    with pytest.raises(InputError) as excinfo:
        inputs.read_bytes(path)
    assert str(excinfo.value) == f"{path}: cannot read file (Permission denied)"


def test_scenario_and_uncertainty_files_go_through_the_layer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="named pipe"):
        scenario.load(fifo)
    with pytest.raises(uncertainty.UncertaintyError, match="named pipe"):
        uncertainty.load_spec(fifo)
    with pytest.raises(uncertainty.UncertaintyError, match="alias"):
        uncertainty.loads_spec(alias_bomb(10), source="u.yaml")


def test_data_tables_are_read_through_the_layer(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,value\na,=1\n", encoding="utf-8")
    assert tables.read_csv(table) == [{"id": "a", "value": "=1"}]
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(InputError, match="named pipe"):
        tables.read_csv(tmp_path / "pipe.csv")
    assert len(tables.levers()) == len(tables.read_csv(tables.MODELS_DIR / "levers.csv"))


def test_decode_refuses_text_that_is_not_utf8_encodable():
    with pytest.raises(InputError, match="U\\+D800 at position 3"):
        inputs.decode("ab\ud800", "x")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 3\)"):
        inputs.decode(b"caf\xe9", "x")


# --------------------------------------------------------------------------------------------
# CSV cells

CELLS = {"equals": ("=1+2", "'=1+2"), "plus": ("+1", "'+1"), "minus": ("-2", "'-2"),
         "at": ("@SUM(A1)", "'@SUM(A1)"), "tab": ("\tx", "'\tx"), "cr": ("\rx", "'\rx"),
         "plain": ("plan", "plan"), "chinese": ("规划", "规划"), "inner-equals": ("a=b", "a=b"),
         "number": (-2.5, -2.5), "none": (None, None)}


@pytest.mark.parametrize("value,expected", CELLS.values(), ids=CELLS.keys())
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value, expected):
    assert inputs.csv_cell(value) == expected


def test_to_csv_escapes_text_but_not_numbers():
    frame = pd.DataFrame({"scenario": ["=HYPERLINK(\"x\")", "plan"], "value": [-1.5, 2.0]})
    text = inputs.to_csv(frame)
    assert text.splitlines() == ["scenario,value", "\"'=HYPERLINK(\"\"x\"\")\",-1.5", "plan,2"]
    assert frame["scenario"][0].startswith("=")  # the caller's frame is not changed


# --------------------------------------------------------------------------------------------
# Run settings of the Python API

SETTINGS = dict(initial_time=2020.0, final_time=2035.0, default_time_step=0.0625,
                default_saveper=1.0, limits={"knowledge_depreciation_rate": (0.1, 0.3), "drift": (-1.0, 1.0)})
BAD_RUNS = {
    "step-zero": ({}, 0, "time_step: value 0 is not allowed"),
    "step-negative": ({}, -0.5, "time_step: value -0.5 is not allowed"),
    "step-nan": ({}, float("nan"), "time_step: value nan is not allowed"),
    "step-bool": ({}, True, "time_step: value True is not a number"),
    "step-longer-than-run": ({}, 16, "at most the simulated period"),
    "step-tiny": ({}, 1e-9, "makes 15,000,000,000 steps; allowed at most 1,000,000"),
    "param-step-zero": ({"time_step": 0}, None, "time_step: value 0 is not allowed"),
    "final-time-huge": ({"final_time": 1e308}, None, "allowed at most 1,000,000"),
    "final-before-initial": ({"final_time": 2000}, None,
                             "final_time: value 2000 is not allowed; allowed a time after"),
    "saveper-zero": ({"saveper": 0}, None, "saveper: value 0 is not allowed; allowed at least"),
    "saveper-below-step": ({"saveper": 0.01}, None, "saveper: value 0.01 is not allowed"),
    "constant-nan": ({"knowledge_depreciation_rate": float("nan")}, None, "value nan"),
    "constant-inf": ({"knowledge_depreciation_rate": float("inf")}, None, "value inf"),
    "constant-negative": ({"knowledge_depreciation_rate": -0.1}, None,
                          "value -0.1 is negative; its documented range is [0.1, 0.3]"),
    "constant-text": ({"knowledge_depreciation_rate": "0.1"}, None, "is not a number"),
}


@pytest.mark.parametrize("params,step,needle", BAD_RUNS.values(), ids=BAD_RUNS.keys())
def test_run_settings_that_cannot_run_are_refused_by_name(params, step, needle):
    with pytest.raises(InputError) as excinfo:
        inputs.check_params(params, step, **SETTINGS)
    assert needle in _one_line(str(excinfo.value))


def test_run_settings_that_can_run_are_returned_as_floats():
    import numpy as np
    out = inputs.check_params({"knowledge_depreciation_rate": np.float32(0.2), "drift": -0.5,
                               "final_time": 2030, "saveper": 0.5}, 1 / 32, **SETTINGS)
    assert out == {"knowledge_depreciation_rate": pytest.approx(0.2, rel=1e-6), "drift": -0.5,
                   "final_time": 2030.0, "saveper": 0.5}
    assert all(type(v) is float for v in out.values())


def test_model_run_checks_its_settings_before_running():
    from simulator import Model
    model, plan = Model(), scenario.default("api")
    for kwargs in ({"time_step": 0}, {"params": {"final_time": 1e308}},
                   {"params": {"saveper": 0}}, {"time_step": -0.5},
                   {"params": {"knowledge_depreciation_rate": float("nan")}},
                   {"params": {"knowledge_depreciation_rate": -0.1}}):
        with pytest.raises(InputError):
            model.run(plan, **kwargs)


@pytest.mark.parametrize("field", ["name", "description"])
def test_uncertainty_file_text_is_checked_too(field):
    other = "description" if field == "name" else "name"
    text = f'{other}: ok\n{field}: "spec\\e[2J"\ndistributions: {{}}\n'
    with pytest.raises(uncertainty.UncertaintyError) as excinfo:
        uncertainty.loads_spec(text, source="u.yaml")
    assert f"field '{field}': character U+001B" in _one_line(str(excinfo.value))
