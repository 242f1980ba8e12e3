"""Scenarios: plain-data YAML files of lever settings and assumptions, strictly validated.

A scenario file looks like::

    name: plan                       # required: a short identifier
    title_zh: 规划情景                # optional labels and description
    title_en: The plan as written
    description: ...
    assumptions:                     # optional: scenario assumptions by id
      gdp_growth: 6.5
    levers:                          # optional: policy levers by id
      hte_reward: 30                 # one number sets all three plan periods
      sme_campaign:                  # or set periods separately; an unset period keeps
        2021-2025: 6                 # the lever's 2020 level
        2026-2030: 4

Anything else is an error: unknown fields, levers or periods, values of the wrong type or out of
the lever's range, duplicate keys, malformed YAML, unreadable or oversized files. Every error is a
:class:`ScenarioError` whose one-line message names the file, the field, the value and what was
allowed. Nothing is ever clipped into range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from simulator.base import inputs
from simulator.base.inputs import excerpt
from simulator.plan import tables

#: Largest scenario file accepted, in bytes (the input layer's budget).
MAX_FILE_BYTES = inputs.MAX_FILE_BYTES
#: Longest scenario name, and title, in characters.
MAX_NAME_CHARS = 64
MAX_TITLE_CHARS = 200

#: The fields a scenario file may have at its top level.
TOP_FIELDS = ("name", "title_zh", "title_en", "description", "assumptions", "levers")


class ScenarioError(inputs.InputError):
    """A scenario is invalid. The message names the file, field, value and what was allowed.

    The message is always one short line (:func:`simulator.base.inputs.one_line`): line breaks and
    other non-printable characters are escaped, and values are quoted as short excerpts.
    """


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: a value for every lever in every plan period and every assumption.

    Build one with :func:`load`, :func:`loads`, :func:`from_dict` or :func:`default` (which
    validate); the constructor itself checks nothing.

    Parameters
    ----------
    name : str
        Short identifier, used as the ``scenario`` column of results.
    levers : Mapping[str, tuple[float, float, float]]
        (Treat as read-only.) Every lever id mapped to its values for the periods in
        ``tables.PERIODS``, in the lever's unit (``models/levers.csv``); unset levers hold
        their defaults.
    assumptions : Mapping[str, float]
        Every assumption id mapped to its value, in the assumption's unit.
    title_zh, title_en : str, default ""
        Titles shown in the app and reports.
    description : str, default ""
        Free text, may span lines.
    source : str, default ""
        Where the scenario came from (a file path, ``"<default>"``); not compared by ``==``.

    Examples
    --------
    >>> from simulator import load_scenario
    >>> plan = load_scenario("scenarios/plan.yaml")                    # doctest: +SKIP
    >>> more = plan.with_levers("more incubators", incubators=3)   # doctest: +SKIP
    """

    name: str
    levers: Mapping[str, tuple[float, float, float]]
    assumptions: Mapping[str, float]
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    source: str = field(default="", compare=False)

    def params(self, calibrated: bool = True) -> dict[str, float]:
        """The PySD parameters that set this scenario on the model.

        Parameters
        ----------
        calibrated : bool, default True
            Start from the calibrated constants of ``models/calibration.yaml``
            (:mod:`simulator.analysis.calibration`); without, every constant keeps the value
            written in the ``.mdl``.

        Returns
        -------
        dict of str to float
            PySD Python name → value: one per lever and plan period, one per assumption, and
            the calibrated constants.
        """
        out: dict[str, float] = {}
        if calibrated:
            from simulator.plan.calibrated import parameters
            out.update(parameters())
        for lev in tables.levers():
            for period, value in zip(tables.PERIODS, self.levers[lev.id]):
                out[lev.period_param(period)] = float(value)
        for ass in tables.assumptions():
            out[ass.param] = float(self.assumptions[ass.id])
        return out

    def with_levers(self, name: str | None = None, **changes: float | tuple[float, float, float]
                    ) -> "Scenario":
        """A copy with some levers changed, validated.

        Parameters
        ----------
        name : str, optional
            The copy's name; default this scenario's.
        **changes : float or tuple of three floats
            Lever id → a number (sets all periods) or one value per period, in the lever's unit.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For an unknown lever or a value out of the lever's range.
        """
        data = self.to_dict()
        if name is not None:
            data["name"] = name
        for key, value in changes.items():
            data["levers"][key] = list(value) if isinstance(value, tuple) else value
        return from_dict(data, source="<with_levers>")

    def with_assumptions(self, name: str | None = None, **changes: float) -> "Scenario":
        """A copy with some assumptions changed, validated.

        Parameters
        ----------
        name : str, optional
            The copy's name; default this scenario's.
        **changes : float
            Assumption id → value, in the assumption's unit.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For an unknown assumption or a value out of its range.
        """
        data = self.to_dict()
        if name is not None:
            data["name"] = name
        data["assumptions"].update(changes)
        return from_dict(data, source="<with_assumptions>")

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :func:`from_dict` reads back to an equal scenario.

        A lever whose three periods are equal is written as one number.

        Returns
        -------
        dict
            ``name``, the titles and description when set, ``assumptions`` and ``levers``.
        """
        lever_data: dict[str, Any] = {}
        for lev in tables.levers():
            values = self.levers[lev.id]
            if len(set(values)) == 1:
                lever_data[lev.id] = _plain(values[0])
            else:
                lever_data[lev.id] = {p: _plain(v) for p, v in zip(tables.PERIODS, values)}
        data: dict[str, Any] = {"name": self.name}
        for key in ("title_zh", "title_en", "description"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        data["assumptions"] = {a.id: _plain(self.assumptions[a.id]) for a in tables.assumptions()}
        data["levers"] = lever_data
        return data

    def to_yaml(self) -> str:
        """The scenario as YAML text, loadable again through :func:`loads`.

        Returns
        -------
        str
            YAML of :meth:`to_dict`, Chinese text unescaped.
        """
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A YAML scenario file (``scenarios/*.yaml``).

    Returns
    -------
    Scenario
        With ``source`` set to ``path``.

    Raises
    ------
    ScenarioError
        If the file is missing, unreadable, not a regular file, larger than ``MAX_FILE_BYTES``,
        not UTF-8, not valid YAML within the budgets of :mod:`simulator.base.inputs`, or not a
        valid scenario.

    Examples
    --------
    >>> from simulator import load_scenario
    >>> load_scenario("scenarios/plan.yaml").name   # doctest: +SKIP
    'plan'
    """
    path = Path(path)
    raw = inputs.read_bytes(path, what="scenario YAML file", error=ScenarioError)
    return loads(raw, source=str(path))


def parse_yaml(text: str | bytes, source: str, error: type[ScenarioError] = ScenarioError) -> Any:
    """Plain data from YAML text or bytes through :func:`simulator.base.inputs.parse_yaml`
    (budgets, no aliases, YAML 1.2 core scalars, no duplicate keys); problems raise ``error``."""
    return inputs.parse_yaml(text, source, error=error)


def loads(text: str | bytes, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as YAML text or bytes.

    Parameters
    ----------
    text : str or bytes
        The YAML of a scenario file.
    source : str, default "<scenario>"
        Names the text in error messages and becomes the scenario's ``source``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        For YAML outside the budgets of :mod:`simulator.base.inputs` or an invalid scenario
        (unknown field, lever or assumption; a value out of range), in one line naming
        ``source``, the field and what was allowed.
    """
    return from_dict(parse_yaml(text, source), source=source)


def _number(source: str, fieldname: str, value: Any, lo: float, hi: float, unit: str) -> float:
    allowed = f"a number from {_plain(lo)} to {_plain(hi)} {unit}".rstrip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{source}: field '{fieldname}': value {excerpt(value)} is not a "
                            f"number; allowed {allowed}")
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a float
        value = math.inf if value > 0 else -math.inf
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ScenarioError(f"{source}: field '{fieldname}': value {_plain(value) if math.isfinite(value) else value} "
                            f"is out of range; allowed {allowed}")
    return value


def _text(source: str, fieldname: str, value: Any, multiline: bool = False,
          max_chars: int = inputs.MAX_STRING_CHARS) -> str:
    return inputs.check_text(value, source, fieldname, multiline=multiline, max_chars=max_chars,
                             error=ScenarioError)


def _mapping(source: str, fieldname: str, value: Any, allowed: str) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(f"{source}: field '{fieldname}': value {excerpt(value)} is not a "
                            f"mapping; allowed {allowed}")
    return value


def from_dict(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate plain data (as loaded from YAML) into a :class:`Scenario`."""
    if data is None:
        raise ScenarioError(f"{source}: the file is empty; a scenario needs at least 'name'")
    data = _mapping(source, "(top level)", data, "a mapping with fields " + ", ".join(TOP_FIELDS))
    for key in data:
        if key not in TOP_FIELDS:
            raise ScenarioError(f"{source}: field {excerpt(key)}: unknown field; allowed "
                                + ", ".join(TOP_FIELDS))
    if "name" not in data:
        raise ScenarioError(f"{source}: field 'name' is missing; a scenario needs a name")
    name = _text(source, "name", data["name"], max_chars=inputs.MAX_STRING_CHARS).strip()
    if not name or any(c in name for c in ",\"") or len(name) > MAX_NAME_CHARS:
        raise ScenarioError(f"{source}: field 'name': value {excerpt(data['name'])} is not "
                            f"allowed; allowed 1-{MAX_NAME_CHARS} characters without commas, "
                            "quotes or line breaks")
    texts = {k: _text(source, k, data[k], multiline=k == "description",
                      max_chars=MAX_TITLE_CHARS if k != "description" else inputs.MAX_STRING_CHARS)
             if data.get(k) is not None else ""
             for k in ("title_zh", "title_en", "description")}

    known_assumptions = {a.id: a for a in tables.assumptions()}
    assumptions_in = _mapping(source, "assumptions",
                              {} if data.get("assumptions") is None else data["assumptions"],
                              "a mapping of assumption ids to numbers")
    assumption_values = {a.id: a.default for a in tables.assumptions()}
    for key, value in assumptions_in.items():
        if key not in known_assumptions:
            raise ScenarioError(f"{source}: field {excerpt('assumptions.' + str(key))}: unknown "
                                "assumption; allowed "
                                + ", ".join(known_assumptions))
        ass = known_assumptions[key]
        assumption_values[key] = _number(source, f"assumptions.{key}", value, ass.min, ass.max,
                                         ass.unit_zh)

    known_levers = {lev.id: lev for lev in tables.levers()}
    levers_in = _mapping(source, "levers", {} if data.get("levers") is None else data["levers"],
                         "a mapping of lever ids to numbers or to per-period numbers")
    lever_values = {lev.id: (lev.default,) * len(tables.PERIODS) for lev in tables.levers()}
    for key, value in levers_in.items():
        if key not in known_levers:
            raise ScenarioError(f"{source}: field {excerpt('levers.' + str(key))}: unknown lever; "
                                "allowed "
                                + ", ".join(known_levers))
        lev = known_levers[key]
        if isinstance(value, dict):
            periods = list(lever_values[key])
            for period, pvalue in value.items():
                if str(period) not in tables.PERIODS:
                    raise ScenarioError(f"{source}: field 'levers.{key}': period "
                                        f"{excerpt(period)} is unknown; allowed "
                                        + ", ".join(tables.PERIODS))
                periods[tables.PERIODS.index(str(period))] = _number(
                    source, f"levers.{key}.{period}", pvalue, lev.min, lev.max, lev.unit_zh)
            lever_values[key] = tuple(periods)
        elif isinstance(value, list):
            if len(value) != len(tables.PERIODS):
                raise ScenarioError(f"{source}: field 'levers.{key}': value {excerpt(value)} has "
                                    f"{len(value)} items; allowed a number or one per period "
                                    f"({', '.join(tables.PERIODS)})")
            lever_values[key] = tuple(
                _number(source, f"levers.{key}.{p}", v, lev.min, lev.max, lev.unit_zh)
                for p, v in zip(tables.PERIODS, value))
        else:
            number = _number(source, f"levers.{key}", value, lev.min, lev.max, lev.unit_zh)
            lever_values[key] = (number,) * len(tables.PERIODS)

    return Scenario(
        name=name,
        levers=lever_values,
        assumptions=assumption_values,
        source=source,
        **texts,
    )


def default(name: str = "default") -> Scenario:
    """A scenario with every lever and assumption at its default (the 2020 level).

    Parameters
    ----------
    name : str, default "default"
        The scenario's name.

    Returns
    -------
    Scenario
    """
    return from_dict({"name": name}, source="<default>")
