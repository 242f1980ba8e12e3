"""A session's scenarios: the shipped presets, the scenario the sliders describe, the keys the
results are cached under, and the named scenarios a session keeps for comparison.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from simulator.base import inputs
from simulator.plan import scenario as scenario_mod
from simulator.plan import tables
from simulator.plan.scenario import Scenario, ScenarioError

#: The shipped scenario files, offered as presets.
SCENARIOS_DIR = tables.MODELS_DIR.parent / "scenarios"
#: The preset the app opens with (and that a link without ``preset=`` means).
DEFAULT_PRESET = "plan"
#: The reference scenario the current settings are drawn against.
REFERENCE_PRESET = "baseline"
#: Display order of the shipped presets (others follow alphabetically).
PRESET_ORDER: tuple[str, ...] = ("baseline", "plan", "ambitious")
#: How many named scenarios a session can keep for comparison.
MAX_SAVED = 4
#: How many uploaded scenarios a session keeps as presets (the oldest go first).
MAX_UPLOADED = 8
#: Key prefixes of a session's own presets: an uploaded file, a scenario opened from the library.
UPLOAD_PREFIX = "upload:"
SAVED_PREFIX = "saved:"


@dataclass(frozen=True)
class Presets:
    """The scenario files found in a directory.

    Attributes
    ----------
    scenarios : dict
        Scenario name → validated Scenario, in display order (:data:`PRESET_ORDER` first).
    invalid : tuple of str
        One-line errors of files that look like scenarios (only scenario fields at the top)
        but do not validate; they are left out and the app reports them.
    other : tuple of str
        Names of YAML files of another kind (e.g. an uncertainty specification), left out.
    """

    scenarios: dict[str, Scenario]
    invalid: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


def _is_other_kind(path: Path) -> bool:
    """Whether a YAML file is plainly not a scenario: a mapping with a non-scenario field."""
    try:
        data = inputs.parse_yaml(inputs.read_bytes(path), source=path.name)
    except inputs.InputError:
        return False  # unreadable or refused: let the scenario loader say what is wrong
    return isinstance(data, dict) and any(k not in scenario_mod.TOP_FIELDS for k in data)


def find_presets(directory: str | Path = SCENARIOS_DIR) -> Presets:
    """Every scenario file in ``directory`` (``*.yaml``), validated; never raises for a file.

    Files of another kind are skipped; scenario files that fail validation, or reuse another
    file's name, are listed in ``invalid`` with the validation message.
    """
    found: dict[str, Scenario] = {}
    invalid: list[str] = []
    other: list[str] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        if _is_other_kind(path):
            other.append(path.name)
            continue
        shown = f"{path.parent.name}/{path.name}"  # shown to visitors: no server path
        try:
            scn = scenario_mod.load(path)
        except ScenarioError as exc:
            invalid.append(str(exc).replace(str(path), shown))
            continue
        if scn.name in found:
            invalid.append(f"{shown}: scenario name {inputs.excerpt(scn.name)} is used by "
                           "another file")
            continue
        found[scn.name] = scn
    rank = {name: i for i, name in enumerate(PRESET_ORDER)}
    ordered = dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
    return Presets(scenarios=ordered, invalid=tuple(invalid), other=tuple(other))


def load_presets(directory: str | Path = SCENARIOS_DIR) -> dict[str, Scenario]:
    """The valid scenario files of ``directory`` by name, in display order.

    Raises
    ------
    ScenarioError
        If a scenario file is invalid or two use the same name (other YAML kinds are skipped).
    """
    found = find_presets(directory)
    if found.invalid:
        raise ScenarioError(found.invalid[0])
    return found.scenarios


def short_title(scn: Scenario, lang: str) -> str:
    """A scenario's title without its parenthesised explanation (its name if untitled)."""
    title = scn.title_en if lang == "en" else scn.title_zh
    if not title:
        return scn.name
    for sep in ("(", "（", " — ", " - "):
        if sep in title:
            title = title.split(sep, 1)[0]
    return title.strip() or scn.name


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
                                    for x, y in zip(a, b))


def is_modified(levers: Mapping[str, Sequence[float]], assumptions: Mapping[str, float],
                base: Scenario) -> bool:
    """Whether settings differ from the scenario ``base`` in any lever or assumption."""
    return (any(not _same(tuple(levers[k]), base.levers[k]) for k in base.levers)
            or any(not _same((assumptions[k],), (base.assumptions[k],)) for k in base.assumptions))


def build_scenario(levers: Mapping[str, Sequence[float]], assumptions: Mapping[str, float],
                   base: Scenario) -> Scenario:
    """The validated scenario of the current settings, named after the preset ``base``.

    Unchanged settings keep the preset's name and titles; changed ones are named
    ``<preset>-adjusted`` and say which preset they started from.

    Raises
    ------
    ScenarioError
        If a value is outside its lever's or assumption's range.
    """
    data: dict[str, Any] = {
        "name": base.name,
        "levers": {k: [float(v) for v in levers[k]] for k in base.levers},
        "assumptions": {k: float(assumptions[k]) for k in base.assumptions},
    }
    if is_modified(levers, assumptions, base):
        data["name"] = f"{base.name[:55]}-adjusted"
        if base.title_zh:
            data["title_zh"] = f"{short_title(base, 'zh')}(已调整)"
        if base.title_en:
            data["title_en"] = f"{short_title(base, 'en')} (adjusted)"
        data["description"] = f"Adjusted in the app, starting from the preset '{base.name}'."
    else:
        data.update({k: getattr(base, k) for k in ("title_zh", "title_en", "description")
                     if getattr(base, k)})
    return scenario_mod.from_dict(data, source="app")


ScenarioKey = tuple


def scenario_key(scn: Scenario, name: str | None = None) -> ScenarioKey:
    """A hashable, order-independent key of what a run depends on: name, levers, assumptions."""
    return (
        scn.name if name is None else name,
        tuple((k, tuple(float(v) for v in scn.levers[k])) for k in sorted(scn.levers)),
        tuple((k, float(scn.assumptions[k])) for k in sorted(scn.assumptions)),
    )


def scenario_from_key(key: ScenarioKey) -> Scenario:
    """The scenario of a :func:`scenario_key` (validated again)."""
    name, levers, assumptions = key
    return scenario_mod.from_dict(
        {"name": name, "levers": {k: list(v) for k, v in levers},
         "assumptions": dict(assumptions)}, source="app")


def keep_latest(items: Mapping[str, Any], latest: str, limit: int) -> dict[str, Any]:
    """``items`` with ``latest`` moved to the end and only the last ``limit`` kept (a session's
    uploaded scenarios: however many files a visitor uploads, the session stays small)."""
    ordered = {k: v for k, v in items.items() if k != latest}
    ordered[latest] = items[latest]
    return dict(list(ordered.items())[-limit:])


def validate_label(text: str) -> str:
    """A saved scenario's name, checked with the scenario file's rules for ``name``.

    Raises
    ------
    ScenarioError
        If the name is empty, longer than 64 characters or has commas, quotes or line breaks.
    """
    return scenario_mod.from_dict({"name": text}, source="name").name
