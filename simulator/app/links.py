"""The link: lever and assumption settings in the page's query string, encoded and decoded
(every value checked; what cannot be read is reported, never guessed).

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from simulator.app import library
from simulator.app.i18n import DEFAULT_LANG, LANGS, plain_number
from simulator.app.session import (
    DEFAULT_PRESET,
    REFERENCE_PRESET,
    SAVED_PREFIX,
    UPLOAD_PREFIX,
    _same,
)
from simulator.base import inputs
from simulator.plan import scenario as scenario_mod
from simulator.plan import tables
from simulator.plan.scenario import Scenario, ScenarioError

#: Query-string keys that are not levers or assumptions.
RESERVED_QUERY_KEYS: tuple[str, ...] = ("preset", "lang", "view", "mode", "saved", "upload",
                                         "title_zh", "title_en", "ref", "rows", "levers")
#: The presenter link (meeting mode) keeps at most this many levers on the page as large sliders.
MAX_MEETING_LEVERS = 5
#: At most this many lever and assumption parameters of a link are read (there are fewer
#: levers and assumptions than that; the rest is reported in one line).
MAX_LINK_PARAMS = 100
#: Source name used in error messages about the link's query string.
LINK_SOURCE = "link"


@dataclass(frozen=True)
class LinkState:
    """What a link's query string sets: the preset, settings, language and view.

    ``errors`` holds one line for every parameter that was invalid and ignored. ``opened`` is
    the scenario the link starts from when it is not a shipped preset: a saved scenario of the
    library (``preset`` is ``saved:<id>``, and ``saved`` is its row) or an uploaded one rebuilt
    from the link (``preset`` is ``upload:<name>``); the session keeps it as one of its
    presets. ``reference`` is the shipped preset the settings are compared with.
    """

    preset: str
    levers: dict[str, tuple[float, float, float]]
    assumptions: dict[str, float]
    lang: str = DEFAULT_LANG
    meeting: bool = False
    advanced: bool = False
    #: Meeting mode's scorecard rows (target keys, in the table's order; empty: every row).
    rows: tuple[str, ...] = ()
    #: Meeting mode's levers on the page as large sliders (lever ids, in the chosen order).
    sliders: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    opened: Scenario | None = None
    reference: str = REFERENCE_PRESET
    saved: library.SavedScenario | None = None


def _encode_values(values: Sequence[float]) -> str:
    values = tuple(values)
    if all(_same((v,), (values[0],)) for v in values):
        return plain_number(values[0])
    return ",".join(plain_number(v) for v in values)


def encode_query(levers: Mapping[str, Sequence[float]], assumptions: Mapping[str, float], *,
                 preset: str, presets: Mapping[str, Scenario], lang: str = DEFAULT_LANG,
                 meeting: bool = False, advanced: bool = False, rows: Sequence[str] = (),
                 sliders: Sequence[str] = (),
                 session_presets: Mapping[str, Scenario] | None = None,
                 reference: str = REFERENCE_PRESET,
                 default_reference: str = REFERENCE_PRESET) -> dict[str, str]:
    """The query string (as a dict) that reopens these settings.

    Only what differs from the defaults is written: the preset unless it is
    ``DEFAULT_PRESET``, the language unless Chinese, the reference unless it is
    ``default_reference`` (what the link would mean without ``ref``: the saved scenario's
    reference for a saved one, else ``REFERENCE_PRESET``), and each lever or assumption whose
    value differs from the preset's (one number, or three separated by commas for the three
    plan periods). A saved scenario of the library (``preset`` ``saved:<id>`` in
    ``session_presets``) is named by its id (``saved=<id>``) and the settings are written as
    differences from it. An uploaded scenario (``upload:<name>``) is not stored anywhere the
    link could name, so the link carries its name and titles (``upload``, ``title_zh``,
    ``title_en``; not its description) and its settings as differences from
    ``DEFAULT_PRESET``.

    In meeting mode (``view=meeting``: the presenter link) the chosen scorecard ``rows``
    (target keys; written only when not every row) and the levers kept on the page as
    ``sliders`` (lever ids, ``levers=a,b``) follow, comma-separated; outside meeting mode they
    are not written.
    """
    session_presets = session_presets or {}
    out: dict[str, str] = {}
    if preset.startswith(SAVED_PREFIX) and preset in session_presets:
        base = session_presets[preset]
        out["saved"] = preset.removeprefix(SAVED_PREFIX)
    else:
        if preset.startswith(UPLOAD_PREFIX) and preset in session_presets:
            uploaded = session_presets[preset]
            out["upload"] = uploaded.name
            out.update({k: getattr(uploaded, k) for k in ("title_zh", "title_en")
                        if getattr(uploaded, k)})
        if preset not in presets:
            preset = DEFAULT_PRESET if DEFAULT_PRESET in presets else next(iter(presets))
        base = presets[preset]
        if preset != DEFAULT_PRESET:
            out["preset"] = preset
    if reference != default_reference:
        out["ref"] = reference
    if lang != DEFAULT_LANG:
        out["lang"] = lang
    if meeting:
        out["view"] = "meeting"
        keys = [t.key for t in tables.targets()]
        if rows and set(rows) != set(keys):
            out["rows"] = ",".join(k for k in keys if k in set(rows))
        if sliders:
            out["levers"] = ",".join(sliders)
    if advanced:
        out["mode"] = "advanced"
    for lev in tables.levers():
        if not _same(tuple(levers[lev.id]), base.levers[lev.id]):
            out[lev.id] = _encode_values(levers[lev.id])
    for ass in tables.assumptions():
        if not _same((assumptions[ass.id],), (base.assumptions[ass.id],)):
            out[ass.id] = plain_number(assumptions[ass.id])
    return out


def _last(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


#: A number in a link: plain decimal or exponent notation, ASCII digits only (``float`` alone
#: would also take ``1_0``, ``nan``, ``inf`` and full-width digits).
_LINK_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _open_saved(raw: str, open_saved: Callable[[str], library.SavedScenario] | None,
                errors: list[str]) -> library.SavedScenario | None:
    """The saved scenario a link's ``saved`` names, or None with the reason in ``errors``:
    the id is checked for its form before anything is looked up, and an unknown or damaged
    one is reported, never replaced by another."""
    try:
        library.check_id(raw)
        if open_saved is None:
            raise library.LibraryUnavailable("no library")
        return open_saved(raw)
    except library.LibraryUnavailable:  # its message names server paths: not for visitors
        errors.append(f"{LINK_SOURCE}: field 'saved': value {inputs.excerpt(raw)} cannot be "
                      "opened: the scenario library is unavailable on this server")
    except library.LibraryError as exc:
        errors.append(f"{LINK_SOURCE}: field 'saved': "
                      + str(exc).removeprefix(f"{library.SOURCE}: "))
    return None


def _uploaded_base(params: Mapping[str, Any], base: Scenario, errors: list[str]
                   ) -> dict[str, Any] | None:
    """The data of an uploaded scenario a link describes (``upload``, ``title_zh``,
    ``title_en``; settings from ``base``), or None with the reasons in ``errors``: the name and
    titles follow the scenario file's rules; an invalid title is dropped, an invalid name drops
    the upload."""
    data = {**base.to_dict(), "name": _last(params["upload"])}
    for key in ("title_zh", "title_en", "description"):
        data.pop(key, None)
    try:
        scenario_mod.from_dict(data, source=LINK_SOURCE)
    except ScenarioError as exc:
        errors.append(str(exc).replace("field 'name'", "field 'upload'"))
        return None
    for key in ("title_zh", "title_en"):
        if key in params and _valid(candidate := {**data, key: _last(params[key])}, errors):
            data = candidate
    return data


def _valid(data: dict[str, Any], errors: list[str]) -> bool:
    """Whether ``data`` is a valid scenario; if not, the validation's line goes to ``errors``."""
    try:
        scenario_mod.from_dict(data, source=LINK_SOURCE)
    except ScenarioError as exc:
        errors.append(str(exc))
        return False
    return True


def decode_query(params: Mapping[str, Any], presets: Mapping[str, Scenario],
                 open_saved: Callable[[str], library.SavedScenario] | None = None) -> LinkState:
    """Read a link's query string (as from ``st.query_params.to_dict()``).

    Never raises for bad input: every invalid parameter (unknown key, unknown preset or
    language, a value that is not a number or out of range, as the scenario validation
    defines it) is skipped and reported in ``errors`` (one line each, quoting at most a short
    escaped excerpt of the key or value); the rest is applied. A repeated key
    counts with its last value, as in ``st.query_params``.

    The settings start from one scenario: ``saved=<id>`` (a saved scenario of the library,
    looked up with ``open_saved``, e.g. :meth:`simulator.app.library.Library.get`; with it
    ``preset`` and ``upload`` are refused), else ``preset`` (a shipped file; default
    ``DEFAULT_PRESET``), which ``upload=<name>`` with ``title_zh``/``title_en`` turns into the
    uploaded scenario the link was made from. ``ref`` names the reference (a shipped preset);
    without it a saved scenario's own reference applies, else ``REFERENCE_PRESET``. An unknown,
    malformed or damaged saved id is reported and the default preset applies.

    Meeting mode: ``view=meeting`` or ``mode=meeting``; ``rows`` (target keys) and ``levers``
    (at most :data:`MAX_MEETING_LEVERS` lever ids), comma-separated, each id known and given
    once: an invalid list is reported and ignored as a whole, never partly applied.
    """
    errors: list[str] = []
    default_preset = DEFAULT_PRESET if DEFAULT_PRESET in presets else next(iter(presets))
    saved = None
    if "saved" in params:
        saved = _open_saved(_last(params["saved"]), open_saved, errors)
        for key in ("preset", "upload"):
            if key in params:
                errors.append(f"{LINK_SOURCE}: field '{key}': not allowed with 'saved' (a link "
                              "starts from one scenario); ignored")
    for key in ("title_zh", "title_en"):
        if key in params and ("upload" not in params or "saved" in params):
            errors.append(f"{LINK_SOURCE}: field '{key}': allowed only with 'upload'; ignored")
    preset = _last(params.get("preset", default_preset)) if "saved" not in params \
        else default_preset
    if preset not in presets:
        errors.append(f"{LINK_SOURCE}: field 'preset': value {inputs.excerpt(preset)} is "
                      "unknown; allowed " + ", ".join(presets))
        preset = default_preset
    reference = REFERENCE_PRESET if REFERENCE_PRESET in presets else default_preset
    if saved is not None:
        if saved.reference.name in presets:
            reference = saved.reference.name
        else:
            errors.append(f"{LINK_SOURCE}: field 'saved': its reference scenario "
                          f"{inputs.excerpt(saved.reference.name)} is not a preset of this "
                          f"server; compared with {reference} instead")
    if "ref" in params:
        ref = _last(params["ref"])
        if ref in presets:
            reference = ref
        else:
            errors.append(f"{LINK_SOURCE}: field 'ref': value {inputs.excerpt(ref)} is "
                          "unknown; allowed " + ", ".join(presets))
    lang = _last(params.get("lang", DEFAULT_LANG))
    if lang not in LANGS:
        errors.append(f"{LINK_SOURCE}: field 'lang': value {inputs.excerpt(lang)} is unknown; "
                      "allowed " + ", ".join(LANGS))
        lang = DEFAULT_LANG
    view = _last(params.get("view", ""))
    if view not in ("", "meeting"):
        errors.append(f"{LINK_SOURCE}: field 'view': value {inputs.excerpt(view)} is unknown; "
                      "allowed meeting")
    mode = _last(params.get("mode", "simple"))
    if mode not in ("simple", "advanced", "meeting"):  # mode=meeting: view=meeting, simple
        errors.append(f"{LINK_SOURCE}: field 'mode': value {inputs.excerpt(mode)} is unknown; "
                      "allowed simple, advanced, meeting")
    rows = _id_list(params, "rows", [t.key for t in tables.targets()], None, errors)
    sliders = _id_list(params, "levers", [lev.id for lev in tables.levers()],
                       MAX_MEETING_LEVERS, errors)
    data = presets[preset].to_dict() if saved is None else saved.scenario.to_dict()
    uploaded = None
    if "upload" in params and "saved" not in params:
        uploaded = _uploaded_base(params, presets[preset], errors)
        data = uploaded or data
    lever_ids = {lev.id for lev in tables.levers()}
    assumption_ids = {a.id for a in tables.assumptions()}
    keys = [key for key in params if key not in RESERVED_QUERY_KEYS]
    if len(keys) > MAX_LINK_PARAMS:  # a link holds at most one per lever and assumption
        errors.append(f"{LINK_SOURCE}: {len(keys):,} parameters; at most {MAX_LINK_PARAMS} are "
                      "read (the first ones)")
        keys = keys[:MAX_LINK_PARAMS]
    for key in keys:
        raw = _last(params[key]).strip()
        if key not in lever_ids and key not in assumption_ids:
            errors.append(f"{LINK_SOURCE}: field {inputs.excerpt(key)}: unknown parameter; "
                          "allowed a lever or assumption id, " + ", ".join(RESERVED_QUERY_KEYS))
            continue
        section = "levers" if key in lever_ids else "assumptions"
        parts = raw.split(",")
        numbers = ([float(part) for part in parts]
                   if all(_LINK_NUMBER.fullmatch(part.strip()) for part in parts) else [])
        allowed_counts = (1, len(tables.PERIODS)) if section == "levers" else (1,)
        if len(numbers) not in allowed_counts:
            what = ("a number, or one per plan period separated by commas"
                    if section == "levers" else "a number")
            errors.append(f"{LINK_SOURCE}: field '{section}.{key}': value {inputs.excerpt(raw)} "
                          f"is not {what}")
            continue
        candidate = {**data, section: {**data[section],
                                       key: numbers[0] if len(numbers) == 1 else numbers}}
        if _valid(candidate, errors):
            data = candidate
    scn = scenario_mod.from_dict(data, source=LINK_SOURCE)
    opened = None
    if saved is not None:
        preset, opened = SAVED_PREFIX + saved.id, saved.scenario
    elif uploaded is not None:  # an uploaded scenario, as the link holds it
        preset, opened = UPLOAD_PREFIX + scn.name, scn
    return LinkState(preset=preset, levers=dict(scn.levers), assumptions=dict(scn.assumptions),
                     lang=lang, meeting="meeting" in (view, mode), advanced=mode == "advanced",
                     rows=rows, sliders=sliders, errors=tuple(errors), opened=opened,
                     reference=reference, saved=saved)


def _id_list(params: Mapping[str, Any], field: str, allowed: Sequence[str], limit: int | None,
             errors: list[str]) -> tuple[str, ...]:
    """The comma-separated ids of the link's ``field`` (``rows``, ``levers``), each one of
    ``allowed``, no repeats, at most ``limit``; ``()`` when absent. An invalid list is ignored
    as a whole and reported in ``errors`` (one line), never partly applied."""
    if field not in params:
        return ()
    raw = _last(params[field]).strip()
    items = [part.strip() for part in raw.split(",")]
    prefix = f"{LINK_SOURCE}: field '{field}': value {inputs.excerpt(raw)}"
    unknown = [item for item in items if item not in allowed]
    if not raw or unknown:
        what = f"item {inputs.excerpt(unknown[0])} is unknown" if raw else "is empty"
        errors.append(f"{prefix}: {what}; allowed ids separated by commas, from "
                      + ", ".join(allowed))
        return ()
    if len(set(items)) != len(items):
        repeated = next(item for item in items if items.count(item) > 1)
        errors.append(f"{prefix}: item {inputs.excerpt(repeated)} is repeated; allowed each "
                      "id once")
        return ()
    if limit is not None and len(items) > limit:
        errors.append(f"{prefix}: has {len(items)} items; at most {limit} allowed")
        return ()
    if field == "rows":  # in the scorecard's order, whatever the link's
        return tuple(key for key in allowed if key in items)
    return tuple(items)
