"""广元市“十四五”科技创新和知识产权规划 — the planners' app: ``streamlit run app.py``.

Thin by design: widgets → validated Scenario → cached model run → scorecard and charts. Labels,
units and help texts come from the model's tables; words, scenarios, the link's query string,
scorecards, charts and exports are pure functions in the package :mod:`simulator.app` (tested on
their own; ``docs/architecture.md`` says which module holds what).

State: each session keeps its settings under ``_``-prefixed keys of ``st.session_state`` (never
a widget's key, so nothing is lost when a widget is not drawn, e.g. in meeting mode). Widgets
are drawn from those values and write back through callbacks. Results are cached across
sessions by the scenario's numbers (``st.cache_data``); the model object is shared read-only
(``st.cache_resource``) and every run starts from fresh state, so sessions never share
mutable model state.

Hardening: every text that came from a visitor (an upload, the link, a text box) is escaped
with ``untrusted.md_text`` wherever Markdown renders it; an unexpected exception in the page or a
callback is logged with its traceback on the server's stderr and the visitor sees one short
bilingual message (``i18n.CRASH_MESSAGE``), never a traceback; Streamlit's clear-cache message
clears only the sending session's state, not the caches other sessions share
(``hooks.keep_shared_caches``; docs/app.md, "Serving it").
"""
from __future__ import annotations

import functools
import json
import logging
import os
import sys
import threading
import time
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from simulator.analysis import (
    budget,
    drivers,
    hindcast,
    loops,
    milestones,
    sensitivity,
    solver,
    uncertainty,
)
from simulator.app import (
    analyses,
    brief,
    charts,
    exports,
    hooks,
    i18n,
    library,
    links,
    modelmap,
    monitoring,
    scorecards,
    session,
    untrusted,
)
from simulator.model import Model, tidy
from simulator.plan import goals, tables
from simulator.plan.scenario import Scenario, ScenarioError

ss = st.session_state

#: Tracebacks of unexpected errors go here: the server's stderr, never the visitor's page.
LOG = logging.getLogger("guangyuan.app")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (the server's terminal or log)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


# app.py runs again on every rerun, each time with a new class: add the handler once by name
if not any(type(h).__name__ == "_StderrHandler" for h in LOG.handlers):
    _handler = _StderrHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(logging.INFO)


def _keep_shared_caches() -> None:
    """Make Streamlit's clear-cache message (any client can send it) clear only the sending
    session's state, not the caches every session shares (once per process; logged if the
    installed Streamlit has no such handler)."""
    from streamlit.runtime.app_session import AppSession
    hooks.keep_shared_caches(AppSession, LOG)


_keep_shared_caches()


def _serialise_script_compiles() -> None:
    """Streamlit's compile of this script and the engine's code generation (in the warm-up
    thread) never parse Python at the same time (CPython 3.11, python/cpython#106905)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    from simulator.sd.engine import AST_LOCK
    if not hooks.serialise_script_compiles(ScriptCache, AST_LOCK):
        LOG.warning("Streamlit has no ScriptCache.get_bytecode: the app script's compile is not "
                    "serialised with the engine's code generation")


_serialise_script_compiles()


def guarded(callback):
    """A widget callback whose unexpected exception is logged and shown as ``CRASH_MESSAGE``
    on the page that follows, instead of as a traceback."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception:
            LOG.exception("callback %s failed", callback.__name__)
            ss["_crashed"] = True
    return run


# --------------------------------------------------------------------------------------------
# Cached resources and results

def once(cache, **options):
    """``@cache(**options)`` (``st.cache_data`` or ``st.cache_resource``), made once per server
    process instead of on every run of this script.

    Streamlit builds a cached function's key from its source code (``inspect.getsource``, which
    tokenises this file) each time the decorator runs, i.e. on every rerun for every function
    here: about an eighth of a slider move's server time. The wrapper made on the first run is
    kept in :data:`simulator.app.hooks.PER_PROCESS` under the function's name and bytecode (a
    changed function gets a new one) and returned on later runs. The cache itself is
    Streamlit's, keyed as before; the functions read only modules and other cached functions,
    nothing of one run."""
    def decorate(func):
        code = func.__code__
        key = (type(cache).__name__, func.__qualname__, code.co_code, code.co_consts,
               tuple(sorted(options.items())))
        made = hooks.PER_PROCESS.get(key)
        if made is None:
            made = hooks.PER_PROCESS[key] = cache(**options)(func)
        return made
    return decorate


@once(st.cache_resource, show_spinner=False)
def get_model() -> Model:
    """The model, loaded once per server process (its runs share no state)."""
    return Model()


@once(st.cache_resource, show_spinner=False, ttl=60)
def find_presets() -> session.Presets:
    """The scenario files of ``scenarios/``, validated (looked at again after a minute)."""
    return session.find_presets()


def get_presets() -> dict[str, Scenario]:
    """The valid shipped presets by name (immutable Scenario objects)."""
    return find_presets().scenarios


@once(st.cache_resource, show_spinner=False, max_entries=8)
def open_library(location: str) -> library.Library:
    """The scenario library at ``location`` (one object per location and process; it opens a
    connection per operation, so the server's threads share it safely)."""
    return library.Library(location or None)


def get_library() -> library.Library:
    """The library ``$GUANGYUAN_LIBRARY`` names, read on every call (tests point it elsewhere).
    Raises ``library.LibraryUnavailable`` for a location it cannot open (a scheme other than
    SQLite's and PostgreSQL's, a server that refuses, a missing psycopg)."""
    return open_library(os.environ.get(library.ENV_VAR, ""))


def library_problem(exc: library.LibraryError, lang: str) -> str:
    """The one line a visitor sees for a library error (a broken database is logged, and the
    visitor gets a sentence without the server's paths)."""
    if isinstance(exc, library.LibraryUnavailable):
        LOG.error("scenario library: %s", exc)
        return i18n.ui("library_unavailable", lang)
    if isinstance(exc, library.LibraryFull):
        return i18n.ui("library_full", lang, n=f"{get_library().max_scenarios:,}")
    if isinstance(exc, library.UnknownScenario):  # deleted since the list was drawn
        return i18n.ui("library_unknown", lang, id=exc.scenario_id)
    return i18n.detail(str(exc).removeprefix(f"{library.SOURCE}: "), lang)


def open_saved(scenario_id: str) -> library.SavedScenario:
    """A saved scenario by id, for a link (``links.decode_query``, which tells the visitor
    only that the library is unavailable: the reason goes to the server's log)."""
    try:
        return get_library().get(scenario_id)
    except library.LibraryUnavailable as exc:
        LOG.error("scenario library: %s", exc)
        raise


@once(st.cache_data, max_entries=2048, show_spinner=False)
def simulate(key: session.ScenarioKey
             ) -> tuple[pd.DataFrame, pd.DataFrame, list[budget.PeriodBudget]]:
    """Tidy results, scorecard and public cost per plan period (against the S&T budget) of the
    scenario ``key`` (see ``simulator.app.session.scenario_key``): one model run saves the
    indicators and the budget variables, so the budget costs no second run."""
    scn = session.scenario_from_key(key)
    wide = get_model().run_wide(scn, extra=budget.VARIABLES)
    results = tidy(wide, scn.name)  # as Model.run: the indicators, tidy
    return results, goals.scorecard(results), budget.summarise(wide)


@once(st.cache_data, show_spinner=False, max_entries=256)
def lever_drivers(key: session.ScenarioKey, target_key: str) -> pd.DataFrame:
    """The effect of +10 % on each lever on one target (``simulator.analysis.drivers``)."""
    return drivers.lever_effects(session.scenario_from_key(key), analyses.target_by_key(target_key))


@once(st.cache_data, show_spinner=False, max_entries=256)
def drivers_panel(key: session.ScenarioKey, target_key: str, lang: str
                  ) -> tuple[pd.DataFrame, list[tuple[str, str, str, tuple]]]:
    """The drivers panel's table in ``lang`` and, for each helpful lever, its id, its sentence,
    its button's label and the values the button applies (from :func:`lever_drivers`, which
    a language switch does not run again)."""
    target = analyses.target_by_key(target_key)
    frame = lever_drivers(key, target_key)
    moves = [(row["lever"], analyses.driver_sentence(row, target, lang),
              i18n.ui("drivers_apply", lang, lever=i18n.label(tables.lever(row["lever"]), lang)),
              tuple(row["after"]))
             for row in analyses.helpful_drivers(frame).to_dict("records")]
    return analyses.drivers_frame(frame, target, lang), moves


def vega_converters():
    """Streamlit's own conversion of an Altair chart for ``st.altair_chart``: the whole chart
    (``_convert_altair_to_vega_lite_spec``) and its data alone (``_to_arrow_dataset``, which
    names the Arrow bytes by their hash), both private in Streamlit 1.67; None if the installed
    Streamlit lacks either (the charts are then converted whole on every draw)."""
    from streamlit.elements import vega_charts
    whole = getattr(vega_charts, "_convert_altair_to_vega_lite_spec", None)
    data = getattr(vega_charts, "_to_arrow_dataset", None)
    return None if whole is None or data is None else (whole, data)


@once(st.cache_resource, max_entries=512, show_spinner=False)
def trajectory_layout_spec(layout: tuple, _data: pd.DataFrame) -> str:
    """The Vega-Lite spec, without its datasets, of the trajectory chart ``layout``
    (:func:`charts.trajectory_parts`) as ``st.altair_chart`` converts it, as JSON: converted
    once per layout and process. ``_data`` is that chart's data for the conversion; the data
    is put in anew on every draw (:func:`draw_trajectories`)."""
    chart = charts.trajectory_template(layout).copy(deep=False)
    chart.data = _data
    spec = vega_converters()[0](chart)
    del spec["datasets"]  # Arrow bytes, the data's own: replaced on every draw
    return json.dumps(spec)


def draw_trajectories(series: dict[str, pd.DataFrame], lang: str, *, width: str,
                      **kwargs) -> None:
    """``st.altair_chart(charts.trajectory_chart(series, lang, **kwargs), width=width)``, the same
    element, without converting the chart's structure again on every rerun: the layout's spec
    (:func:`trajectory_layout_spec`) with the data of this draw in Streamlit's own form."""
    converters = vega_converters()
    if converters is None:
        st.altair_chart(charts.trajectory_chart(series, lang, **kwargs), width=width)
        return
    layout, data = charts.trajectory_parts(series, lang, **kwargs)
    spec = json.loads(trajectory_layout_spec(layout, data))
    datasets: dict = {}
    spec["data"] = converters[1](data, datasets)   # {"name": hash of the Arrow bytes}
    spec["datasets"] = datasets                    # last, as Streamlit's conversion puts it
    st.vega_lite_chart(spec=spec, width=width)


@once(st.cache_resource, show_spinner=False)
def get_uncertainty_spec() -> uncertainty.UncertaintySpec:
    """``models/uncertainty.yaml``, validated once per server process."""
    return uncertainty.load_spec()


@once(st.cache_data, max_entries=256, show_spinner=False)
def simulate_uncertain(key: session.ScenarioKey, n: int, seed: int
                       ) -> tuple[pd.DataFrame, pd.DataFrame, dict | None]:
    """Probabilities of the targets and 5–95 % bands of the scenario ``key`` (``n`` draws), and
    how the draws were conditioned on 2015–2020 (``kept``, ``drawn``, ``cut``; None: prior)."""
    res = uncertainty.run(session.scenario_from_key(key), n=n, seed=seed, spec=get_uncertainty_spec())
    c = res.conditioning
    kept = None if c is None else {"kept": c.kept, "drawn": c.drawn, "cut": c.cut}
    return res.probabilities(), res.bands(), kept


@once(st.cache_resource, show_spinner=False)
def warm_up_ensembles() -> threading.Thread:
    """Once per server process, in a background thread: settle which engine backend ``auto`` picks
    on this machine (the same choice every ensemble of this process then uses; measured once per
    machine and cached, ~10 s the first time, :mod:`simulator.sd.backends`) and, if it is XLA,
    compile the program behind the uncertainty switch (a few seconds, or under one with XLA's
    disk cache), so that turning the switch on costs what later moves cost."""
    from simulator.plan.scenario import default
    from simulator.sd.engine import _choose_backend
    spec, scenario = get_uncertainty_spec(), default("warm-up")

    def work() -> None:
        try:  # the same kind of call as simulate_uncertain(): same varied constants, same n
            if _choose_backend(None, "euler") == "xla":
                uncertainty.run(scenario, n=analyses.UNCERTAINTY_N, seed=analyses.UNCERTAINTY_SEED,
                                spec=spec)
        except Exception:  # the switch itself will run it again and show the error
            LOG.exception("warming up the uncertainty ensemble failed")

    thread = threading.Thread(target=work, name="ensemble-warm-up", daemon=True)
    thread.start()
    return thread


@once(st.cache_data, max_entries=64, show_spinner=False)
def solve(key: session.ScenarioKey, targets: tuple[str, ...], probability: float | None,
          central: bool = True, floors: bool = False) -> solver.SolveResult:
    """The solver's cheapest settings for ``targets`` from the scenario ``key`` (``central``:
    under a probability, the central run must meet them too; ``floors``: the scenario's levels
    are lower bounds)."""
    scn = session.scenario_from_key(("app", *key[1:]))  # a short name: the solver appends to it
    return solver.solve(scn, list(targets), probability=probability, n=analyses.SOLVE_N,
                        seed=analyses.SOLVE_SEED, spec=get_uncertainty_spec(),
                        central=central, floors=floors)


@once(st.cache_data, max_entries=64, show_spinner=False)
def sensitivity_table(key: session.ScenarioKey) -> tuple[pd.DataFrame, int]:
    """Morris screen of every target for the scenario ``key``: its table and runs used."""
    res = sensitivity.morris(session.scenario_from_key(key), n=analyses.SENSITIVITY_TRAJECTORIES,
                             seed=analyses.SENSITIVITY_SEED, spec=get_uncertainty_spec())
    return res.table, res.runs


@once(st.cache_resource, show_spinner=False, max_entries=32)
def recalibration(digest: str, _observed) -> hindcast.Recalibration:
    """The model's constants refitted to the project's data plus the actuals ``_observed``
    (identified by ``digest``, the hash of their figures: one fit per file), compared after 2020
    with the plan as enacted (``scenarios/plan.yaml``: the policy the actuals happened under)
    and fitted with ``monitoring.RECAL_STARTS`` starts. Raises ``hindcast.HindcastError`` (one line) when
    the file adds nothing to fit. Shared read-only by the sessions."""
    return hindcast.recalibrate(_observed, starts=monitoring.RECAL_STARTS)


@once(st.cache_data, max_entries=256, show_spinner=False)
def simulate_recalibrated(key: session.ScenarioKey, digest: str, _observed
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy results and scorecard of the scenario ``key`` run with the recalibrated constants
    of the actuals ``digest``."""
    rec = recalibration(digest, _observed)
    results = get_model().run(session.scenario_from_key(key), params=rec.parameters)
    return results, goals.scorecard(results)


@once(st.cache_data, max_entries=16, show_spinner=False)
def compute_milestones(key: session.ScenarioKey, goal_keys: tuple[str, ...], observed,
                       probability: float | None = None) -> milestones.Milestones:
    """The 2030 milestones of the scenario ``key`` for the 2035 goals ``goal_keys`` (with the
    session's actuals ``observed`` as 2025 values, or None), in the central run or with
    ``probability`` over the solver's ensemble (``SOLVE_N`` draws, seed ``SOLVE_SEED``)."""
    scn = session.scenario_from_key(("current", *key[1:]))  # a short name: the path appends to it
    return milestones.milestones(scn, list(goal_keys), observed=observed,
                                 probability=probability, n=analyses.SOLVE_N, seed=analyses.SOLVE_SEED,
                                 spec=get_uncertainty_spec())


# --------------------------------------------------------------------------------------------
# Session state

def init_session() -> None:
    """First run of a session: settings from the link's query string (errors reported)."""
    presets = get_presets()
    link = links.decode_query(st.query_params.to_dict(), presets, open_saved=open_saved)
    ss["_preset"] = link.preset
    ss["_levers"] = dict(link.levers)
    ss["_assumptions"] = dict(link.assumptions)
    ss["_lang"] = link.lang
    ss["_meeting"] = link.meeting
    ss["_advanced"] = link.advanced
    ss["_meeting_rows"] = list(link.rows)      # meeting mode's scorecard rows (empty: all)
    ss["_meeting_levers"] = list(link.sliders)  # meeting mode's levers on the page
    ss["_meeting_msg"] = None
    ss["_url_errors"] = list(link.errors)
    ss["_uploaded"] = {} if link.opened is None else {link.preset: link.opened}
    ss["_upload_msg"] = None   # (kind, text); _uploaded: "upload:<name>"/"saved:<id>" -> Scenario
    ss["_reference"] = link.reference
    ss["_saved_refs"] = {} if link.saved is None else {link.preset: link.saved.reference.name}
    ss["_tokens"] = {}         # library id -> delete token, for what this session saved
    ss["_compare"] = []        # library ids compared side by side (at most session.MAX_SAVED)
    ss["_save_msg"] = None
    ss["_tab"] = None
    ss["_uncertainty"] = False
    ss["_solve"] = None        # (ScenarioKey, SolveResult) of the last solver run
    ss["_solve_msg"] = None
    ss["_actuals"] = None      # simulator.plan.actuals.Actuals: this session only, never in the link
    ss["_actuals_msg"] = None  # (kind, text)
    ss["_ms"] = None           # (request, Milestones) of the last milestones computation
    ss["_recal"] = False       # the "recalibrated" toggle
    # the open expanders whose content is drawn only while open (lazy_expander): the first
    # lever group; kept if already set (a test may open them before the first run)
    ss.setdefault("_open", {group_key(0)})


def all_presets() -> dict[str, Scenario]:
    return {**get_presets(), **ss["_uploaded"]}


def apply_scenario(scn: Scenario) -> None:
    ss["_levers"] = dict(scn.levers)
    ss["_assumptions"] = dict(scn.assumptions)


def title_of(name: str, lang: str) -> str:
    """The title in ``lang`` of the scenario named ``name`` among the session's scenarios (a
    run's key holds the name only), else the name itself."""
    for scn in all_presets().values():
        if scn.name == name:
            return session.short_title(scn, lang)
    return name


def distinct_title(presets: dict[str, Scenario], key: str, lang: str) -> str:
    """The title in ``lang`` of preset ``key``, with its file's name beside it only where
    another of ``presets`` has the same title."""
    title = session.short_title(presets[key], lang)
    twins = sum(session.short_title(scn, lang) == title for scn in presets.values())
    return f"{title} ({presets[key].name})" if twins > 1 and title != presets[key].name else title


def preset_label(key: str, lang: str) -> str:
    """A scenario's name in the preset picker: a preset's title in the page's language (its
    file's name beside it only where two presets share a title); an uploaded or saved
    scenario's title and name, as the planner wrote them."""
    presets = all_presets()
    scn = presets[key]
    if key.startswith(session.SAVED_PREFIX):
        return f"{i18n.ui('saved_prefix', lang)}: {scn.name} ({key.removeprefix(session.SAVED_PREFIX)})"
    if key.startswith("upload:"):
        return f"{i18n.ui('uploaded_prefix', lang)}: {session.short_title(scn, lang)} ({scn.name})"
    return distinct_title(presets, key, lang)


# Callbacks: they run before the script, so the page is drawn from the updated state.

@guarded
def on_copy(widget_key: str, state_key: str) -> None:
    ss[state_key] = ss[widget_key]


@guarded
def on_language() -> None:
    """Switch the page's language and keep the open tab open (its label changes with it)."""
    old, new = ss["_lang"], ss["w_lang"]
    ss["_lang"] = new
    if ss.get("w_tab"):
        ss["w_tab"] = i18n.translate_tab(ss["w_tab"], old, new, TAB_IDS)


@guarded
def on_preset() -> None:
    ss["_preset"] = ss["w_preset"]
    apply_scenario(all_presets()[ss["_preset"]])
    ss["_url_errors"] = []


@guarded
def on_reset() -> None:
    apply_scenario(all_presets()[ss["_preset"]])


@guarded
def on_lever(lever_id: str, period: int | None) -> None:
    key = f"w_{lever_id}" if period is None else f"w_{lever_id}_{period}"
    value = i18n.clean_value(ss[key])
    values = list(ss["_levers"][lever_id])
    if period is None:
        values = [value] * len(tables.PERIODS)
    else:
        values[period] = value
    ss["_levers"] = {**ss["_levers"], lever_id: tuple(values)}


@guarded
def on_assumption(assumption_id: str) -> None:
    value = i18n.clean_value(ss[f"w_{assumption_id}"])
    ss["_assumptions"] = {**ss["_assumptions"], assumption_id: value}


@guarded
def on_meeting_levers() -> None:
    """The levers kept on the meeting page: at most ``MAX_MEETING_LEVERS``; one more is refused
    with a message (the choice stays as it was)."""
    chosen = list(ss["w_meeting_levers"])
    if len(chosen) > links.MAX_MEETING_LEVERS:
        ss["_meeting_msg"] = "too_many"
        return
    ss["_meeting_levers"] = chosen
    ss["_meeting_msg"] = None


@guarded
def on_meeting_lever(lever_id: str) -> None:
    """A large slider of the meeting page: one value for all three plan periods."""
    value = i18n.clean_value(ss[f"w_meet_{lever_id}"])
    ss["_levers"] = {**ss["_levers"], lever_id: (value,) * len(tables.PERIODS)}


def read_uploaded(file, reader) -> tuple:
    """``reader(bytes, name, lang)`` of an uploaded file: ``(object, "")`` or ``(None, one
    line)``; anything unexpected is logged and gets the short ``upload_failed``."""
    try:
        return reader(file.getvalue(), file.name, ss["_lang"])
    except Exception:
        LOG.exception("reading an uploaded file failed (%s)", reader.__name__)
        return None, i18n.ui("upload_failed", ss["_lang"])


@guarded
def on_upload() -> None:
    """Validate an uploaded scenario exactly as the CLI does; on error change nothing else.

    Whatever the file holds, the session keeps working: a refused file gets its one-line
    message, anything unexpected is logged and gets a short one, and the next upload is read
    afresh.
    """
    file = ss.get("w_upload")
    if file is None:
        ss["_upload_msg"] = None
        return
    scn, problem = read_uploaded(file, untrusted.read_upload)
    if scn is None:
        ss["_upload_msg"] = ("error", problem)
        return
    key = f"upload:{scn.name}"
    ss["_uploaded"] = session.keep_latest({**ss["_uploaded"], key: scn}, key, session.MAX_UPLOADED)
    ss["_preset"] = key
    apply_scenario(scn)
    ss["_upload_msg"] = ("ok", scn.name)


@guarded
def on_upload_actuals() -> None:
    """Validate an uploaded file of actuals exactly as the CLI does; on error change nothing
    else (the actuals loaded before, if any, stay). The file is kept in this session's state
    only: never in the link, never on disk."""
    file = ss.get("w_actuals")
    if file is None:  # the file was removed from the uploader (its ⊗): the actuals go too
        on_clear_actuals()
        return
    obs, problem = read_uploaded(file, monitoring.read_actuals_upload)
    if obs is None:
        ss["_actuals_msg"] = ("error", problem)
        return
    ss["_actuals"] = obs
    ss["_actuals_msg"] = ("ok", obs)


def on_clear_actuals() -> None:
    ss["_actuals"] = None
    ss["_actuals_msg"] = None
    ss["_recal"] = False


@guarded
def on_save(key: session.ScenarioKey) -> None:
    """Save the current settings to the library, named as typed, with the reference they are
    compared with; the session keeps the delete token and compares the new row if there is room."""
    lang = ss["_lang"]
    name = ss.get("w_save_name", "").strip()
    try:
        name = session.validate_label(name)
    except ScenarioError as exc:
        ss["_save_msg"] = ("error", str(exc).replace("name: field 'name': ", ""))
        return
    reference = get_presets().get(ss["_reference"]) or next(iter(get_presets().values()))
    try:
        saved, token = get_library().save(session.scenario_from_key((name, *key[1:])), reference,
                                          author=ss.get("w_save_author", ""),
                                          note=ss.get("w_save_note", ""))
    except library.LibraryError as exc:
        ss["_save_msg"] = ("error", library_problem(exc, lang))
        return
    ss["_tokens"] = {**ss["_tokens"], saved.id: token}
    text = i18n.ui("saved_ok", lang, name=name)
    if len(ss["_compare"]) < session.MAX_SAVED:
        ss["_compare"] = [*ss["_compare"], saved.id]
    else:
        text += " " + i18n.ui("saved_not_compared", lang, n=session.MAX_SAVED)
    ss["_save_msg"] = ("ok", text)


@guarded
def on_delete_saved(scenario_id: str, name: str) -> None:
    """Delete a row this session saved (the library checks the token)."""
    try:
        get_library().delete(scenario_id, ss["_tokens"].get(scenario_id, ""))
    except library.LibraryError as exc:
        ss["_save_msg"] = ("error", library_problem(exc, ss["_lang"]))
        return
    ss["_tokens"] = {k: v for k, v in ss["_tokens"].items() if k != scenario_id}
    ss["_compare"] = [i for i in ss["_compare"] if i != scenario_id]
    ss["_save_msg"] = ("ok", i18n.ui("deleted_ok", ss["_lang"], name=name))


@guarded
def on_load_saved(scenario_id: str) -> None:
    """Open a saved scenario as a link ``?saved=<id>`` does: it becomes the session's preset,
    its settings go to the sliders and its reference (if a shipped preset) is compared with."""
    try:
        saved = get_library().get(scenario_id)
    except library.LibraryError as exc:
        ss["_save_msg"] = ("error", library_problem(exc, ss["_lang"]))
        return
    key = session.SAVED_PREFIX + saved.id
    ss["_uploaded"] = session.keep_latest({**ss["_uploaded"], key: saved.scenario}, key,
                                          session.MAX_UPLOADED)
    ss["_saved_refs"] = {**ss["_saved_refs"], key: saved.reference.name}
    ss["_preset"] = key
    apply_scenario(saved.scenario)
    if saved.reference.name in get_presets():
        ss["_reference"] = saved.reference.name
    ss["_save_msg"] = None


@guarded
def on_drive(lever_id: str, values: tuple) -> None:
    """Move one lever as the drivers table proposes (all three plan periods) and open its group
    in the sidebar, so that its slider shows the move."""
    ss["_levers"] = {**ss["_levers"], lever_id: tuple(i18n.clean_value(v) for v in values)}
    ss["_open"] = ss["_open"] | {group_key(lever_group(lever_id))}


def on_apply_solution() -> None:
    """Write the solver's answer into the lever settings (the state the sliders read)."""
    result = ss["_solve"][1]
    ss["_levers"] = analyses.solution_levers(result, ss["_levers"])
    ss["_solve_msg"] = "applied"


def group_key(n: int | str) -> str:
    """The widget key of the sidebar's lever group ``n`` (``i18n.action_groups()`` order), or of
    ``"assumptions"``."""
    return f"w_group_{n}"


def lever_group(lever_id: str) -> int:
    """The index of the sidebar group that holds lever ``lever_id``."""
    return next(n for n, group in enumerate(i18n.action_groups())
                if any(lev.id == lever_id for lev in group.levers))


@guarded
def on_open(widget_key: str) -> None:
    """An expander opened or closed: keep the state in ``_open`` (it outlives the widget)."""
    ss["_open"] = ss["_open"] | {widget_key} if ss[widget_key] else ss["_open"] - {widget_key}


def lazy_expander(parent, label: str, widget_key: str, **kwargs):
    """``parent.expander`` whose content is drawn only while it is open (the caller checks
    ``.open``): a closed lever group sends no sliders, so a slider move reruns and redraws less.
    Its open state lives in ``_open``, so a language switch (a new label) keeps it."""
    return parent.expander(label, key=bind(widget_key, widget_key in ss["_open"]),
                           on_change=on_open, args=(widget_key,), **kwargs)


def bind(widget_key: str, value) -> str:
    """Set a widget's value from the session's settings before drawing it; returns the key."""
    ss[widget_key] = value
    return widget_key


# --------------------------------------------------------------------------------------------
# Sidebar

def budget_block(sb, periods: list, lang: str) -> None:
    """The yearly public cost of the current settings against the S&T budget (beside the
    sliders, so every move shows what it costs)."""
    sb.subheader(i18n.ui("budget", lang), help=i18n.ui("budget_help", lang))
    sb.markdown(analyses.budget_html(periods, lang), unsafe_allow_html=True)
    kind, text = analyses.budget_message(periods, lang)
    (sb.error if kind == "error" else sb.caption)(text)


def sidebar(lang: str, meeting: bool, periods: list) -> None:
    sb = st.sidebar
    sb.radio(i18n.ui("language", lang), i18n.LANGS, format_func=i18n.LANG_NAMES.get, horizontal=True,
             key=bind("w_lang", ss["_lang"]), on_change=on_language)
    sb.toggle(i18n.ui("meeting_mode", lang), key=bind("w_meeting", ss["_meeting"]),
              on_change=on_copy, args=("w_meeting", "_meeting"))
    if meeting:
        meeting_choices(sb, lang)
    labels = {k: preset_label(k, lang) for k in all_presets()}  # format_func: no state access
    sb.selectbox(i18n.ui("preset", lang), list(labels), key=bind("w_preset", ss["_preset"]),
                 placeholder=i18n.ui("choose_option", lang),
                 format_func=labels.get, help=i18n.ui("preset_help", lang), on_change=on_preset)
    if not meeting:
        sb.file_uploader(i18n.ui("upload", lang), type=["yaml", "yml"], key="w_upload",
                         help=i18n.ui("upload_help", lang), on_change=on_upload)
        msg = ss["_upload_msg"]
        if msg and msg[0] == "error":
            sb.error(f"{i18n.ui('upload_bad', lang)}\n\n{untrusted.md_text(i18n.detail(msg[1], lang))}")
        elif msg:
            sb.success(untrusted.md_text(i18n.ui("upload_ok", lang, name=msg[1])))
    if not meeting:
        actuals_widgets(sb, lang)
    for problem in find_presets().invalid:
        sb.warning(f"{i18n.ui('preset_invalid', lang)}\n\n"
                   f"{untrusted.md_text(i18n.detail(problem, lang))}")
    sb.button(i18n.ui("reset", lang), key="w_reset", on_click=on_reset, width="stretch")
    if not meeting:
        sb.toggle(i18n.ui("advanced", lang), key=bind("w_advanced", ss["_advanced"]),
                  help=i18n.ui("advanced_help", lang), on_change=on_copy,
                  args=("w_advanced", "_advanced"))
    if not meeting:
        sb.toggle(i18n.ui("uncertainty", lang), key=bind("w_uncertainty", ss["_uncertainty"]),
                  help=i18n.ui("uncertainty_help", lang, n=f"{analyses.UNCERTAINTY_N:,}",
                             seed=analyses.UNCERTAINTY_SEED),
                  on_change=on_copy, args=("w_uncertainty", "_uncertainty"))
    advanced = ss["_advanced"]
    budget_block(sb, periods, lang)
    sb.subheader(i18n.ui("levers", lang))
    for n, group in enumerate(i18n.action_groups()):
        with lazy_expander(sb, group.title(lang), group_key(n)) as box:
            for lev in group.levers if box.open else ():
                lever_widgets(lev, lang, advanced)
    with lazy_expander(sb, i18n.ui("assumptions", lang), group_key("assumptions")) as box:
        for ass in tables.assumptions() if box.open else ():
            value = ss["_assumptions"][ass.id]
            st.slider(f"{i18n.label(ass, lang)} · {i18n.unit(ass, lang)}", float(ass.min),
                      float(ass.max), step=float(ass.step),
                      format=i18n.slider_format(ass, [value]),
                      help=i18n.assumption_help(ass, lang), key=bind(f"w_{ass.id}", value),
                      on_change=on_assumption, args=(ass.id,))


def actuals_widgets(sb, lang: str) -> None:
    """The upload of actuals, its message, the note that they stay in the session."""
    sb.file_uploader(i18n.ui("upload_actuals", lang), type=["csv"], key="w_actuals",
                     help=i18n.ui("upload_actuals_help", lang), on_change=on_upload_actuals)
    sb.caption(monitoring.actuals_private_note(lang))
    msg = ss["_actuals_msg"]
    if msg and msg[0] == "error":
        sb.error(f"{i18n.ui('actuals_bad', lang)}\n\n{untrusted.md_text(i18n.detail(msg[1], lang))}")
    if ss["_actuals"] is not None:  # (a refused file leaves the actuals loaded before)
        sb.success(untrusted.md_text(monitoring.actuals_summary(ss["_actuals"], lang)))
    if ss["_actuals"] is not None:
        sb.toggle(i18n.ui("recalibrated", lang), key=bind("w_recal", ss["_recal"]),
                  help=i18n.ui("recalibrated_help", lang, starts=monitoring.RECAL_STARTS),
                  on_change=on_copy, args=("w_recal", "_recal"))


def lever_widgets(lev: tables.Lever, lang: str, advanced: bool) -> None:
    values = ss["_levers"][lev.id]
    label = f"{i18n.label(lev, lang)} · {i18n.unit(lev, lang)}"
    common = dict(min_value=float(lev.min), max_value=float(lev.max), step=float(lev.step),
                  format=i18n.slider_format(lev, values), help=i18n.lever_help(lev, lang))
    if not advanced:
        st.slider(label, key=bind(f"w_{lev.id}", float(values[0])), on_change=on_lever,
                  args=(lev.id, None), **common)
        if len(set(values)) > 1:
            st.caption(i18n.ui("differs_by_period", lang, values=analyses.period_values(values)))
        return
    st.markdown(f"**{i18n.label(lev, lang)}** :gray[{i18n.unit(lev, lang)}]", help=common["help"])
    for k, period in enumerate(tables.PERIODS):
        st.slider(period.replace("-", "–"), key=bind(f"w_{lev.id}_{k}", float(values[k])),
                  on_change=on_lever, args=(lev.id, k), **common)


# --------------------------------------------------------------------------------------------
# Main area

MEETING_CSS = """
<style>
[data-testid="stMainMenu"], [data-testid="stAppDeployButton"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], footer {display: none !important;}
[data-testid="stHeader"] {background: transparent !important;}
[data-testid="stMainBlockContainer"] {padding-top: .9rem !important; max-width: 100% !important;
  padding-left: 3rem !important; padding-right: 2rem !important; padding-bottom: 2rem !important;}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {gap: .45rem;}
[data-testid="stCaptionContainer"] p {font-size: 1.05rem !important;}
h1 {font-size: 1.85rem !important; line-height: 1.3 !important; padding: 0 !important;}
[data-testid="stMain"] h4 {font-size: 1.2rem !important; line-height: 1.4 !important;
  padding: .4rem 0 0 0 !important;}
/* the levers kept on the page: large sliders a presenter can move from the projector */
.st-key-meeting_levers [data-testid="stWidgetLabel"] p {font-size: 1.15rem !important;
  font-weight: 600;}
.st-key-meeting_levers [data-testid="stSliderThumbValue"] p {font-size: 1.1rem !important;}
/* the key charts across the whole width (the faceted chart scales to its container) */
.st-key-meeting_charts [data-testid="stVegaLiteChart"] canvas,
.st-key-meeting_charts [data-testid="stVegaLiteChart"] svg {width: 100% !important;
  height: auto !important;}
</style>
"""
APP_CSS = """
<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem !important;}
[data-testid="stMetricValue"] {font-size: 2.2rem;}
[data-testid="stSidebar"] [data-testid="stExpander"] summary p {font-weight: 600;}
/* a phone: a smaller title; charts scaled to the screen's width, never wider */
@media (max-width: 640px) {
  h1 {font-size: 1.6rem !important;}
  [data-testid="stMainBlockContainer"] {padding-top: 3.5rem !important;}
  [data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas
    {max-width: 100% !important; height: auto !important;}
}
</style>
"""


def metrics(card: pd.DataFrame, ref_card: pd.DataFrame, ref_name: str, lang: str) -> None:
    s, r = scorecards.summary(card), scorecards.summary(ref_card)
    vs = i18n.ui("vs_reference", lang, name=ref_name)
    cols = st.columns(3)
    cols[0].metric(i18n.ui("targets_met", lang), f"{s['met']} / {s['total']}",
                   delta=f"{s['met'] - r['met']:+d} {vs}", delta_color="normal")
    cols[1].metric(i18n.ui("doubling_met", lang), f"{s['doubling_met']} / {s['doubling_total']}",
                   delta=f"{s['doubling_met'] - r['doubling_met']:+d} {vs}")
    cols[2].metric(i18n.ui("goals_2035_met", lang), f"{s['late_met']} / {s['late_total']}",
                   delta=f"{s['late_met'] - r['late_met']:+d} {vs}")


def changed_since_last_move(current_key, card: pd.DataFrame) -> set[str]:
    """The targets whose value moved with the last change of settings: kept until the next one
    (a rerun without a move, such as opening a tab, keeps the highlight)."""
    last = ss.get("_last_card")
    if last is None or last[0] != current_key:
        ss["_changed"] = scorecards.changed_targets(last[1] if last else None, card)
        ss["_last_card"] = (current_key, scorecards.card_values(card))
    return ss.get("_changed", set())


def scorecard_block(card: pd.DataFrame, lang: str, large: bool = False,
                    probs: pd.DataFrame | None = None, recal: pd.DataFrame | None = None,
                    kept: dict | None = None, changed: set[str] = frozenset()) -> None:
    # the column names of the phone's cards (a style of its own, beside the table)
    st.markdown(scorecards.scorecard_labels_css(card, lang, probs=probs, recal=recal),
                unsafe_allow_html=True)
    with st.container(key="scorecard"):
        st.markdown(scorecards.SCORECARD_CSS + scorecards.scorecard_html(card, lang, large=large, probs=probs,
                                                         recal=recal, changed=changed),
                    unsafe_allow_html=True)
    if changed:
        st.caption(i18n.ui("changed_note", lang, n=len(changed)))
    st.caption(i18n.ui("doubling_note", lang))
    if "progress_pct" in card.columns:
        st.caption(i18n.ui("progress_help", lang))
    if probs is not None:
        st.caption(i18n.ui("uncertainty_note", lang, n=f"{analyses.UNCERTAINTY_N:,}",
                         seed=analyses.UNCERTAINTY_SEED))
        if kept is not None:
            st.caption(i18n.ui("uncertainty_kept", lang, kept=f"{kept['kept']:,}",
                             drawn=f"{kept['drawn']:,}", cut=f"{kept['cut']:g}"))


#: The page's file uploaders: widget key → the file types they take (for Streamlit's own
#: words drawn in the page's language, ``i18n.streamlit_words_css``).
UPLOADERS = {"w_upload": "YAML, YML", "w_actuals": "CSV"}


def meeting_choices(sb, lang: str) -> None:
    """Meeting mode's choices (sidebar, under its switch): the scorecard rows shown and the
    levers kept on the page as large sliders (both in the presenter link)."""
    keys = [t.key for t in tables.targets()]
    sb.multiselect(i18n.ui("meeting_rows", lang), keys,
                   format_func=lambda k: analyses.target_label(k, lang),
                   key=bind("w_meeting_rows", ss["_meeting_rows"]),
                   placeholder=i18n.ui("meeting_rows_all", lang, n=len(keys)),
                   on_change=on_copy, args=("w_meeting_rows", "_meeting_rows"))
    levers = {lev.id: i18n.label(lev, lang) for lev in tables.levers()}
    sb.multiselect(i18n.ui("meeting_levers", lang, n=links.MAX_MEETING_LEVERS), list(levers),
                   format_func=levers.get, key=bind("w_meeting_levers", ss["_meeting_levers"]),
                   placeholder=i18n.ui("meeting_levers_none", lang),
                   help=i18n.ui("meeting_levers_help", lang), on_change=on_meeting_levers)
    if ss["_meeting_msg"] == "too_many":
        sb.error(i18n.ui("meeting_levers_too_many", lang, n=links.MAX_MEETING_LEVERS))
    # the presenter link: these settings, rows and levers, in meeting mode
    query = urlencode(links.encode_query(
        ss["_levers"], ss["_assumptions"], preset=ss["_preset"], presets=get_presets(),
        lang=lang, meeting=True, rows=ss["_meeting_rows"], sliders=ss["_meeting_levers"]),
        safe=",@:")
    sb.caption(f"**{i18n.ui('presenter_link', lang)}** · {i18n.ui('presenter_link_help', lang)}")
    sb.code(f"{(st.context.url or '').split('?')[0]}?{query}", language=None)


def scroll_to_top_on_entry(meeting: bool) -> None:
    """When meeting mode is switched on, scroll the page to its top (a page scrolled down
    before would otherwise open with the title cut off). Runs once per entry."""
    entered = meeting and not ss.get("_meeting_shown", False)
    ss["_meeting_shown"] = meeting
    if entered:
        st.html(MEETING_SCROLL_JS.replace("NONCE", str(time.monotonic_ns())),
                unsafe_allow_javascript=True)


#: Scrolls every scrolling container of the page to the top, again after the page has been
#: redrawn (the tabs of the normal page disappear); NONCE makes each entry a new element.
MEETING_SCROLL_JS = """<script data-entry="NONCE">
(function () {
  const top = () => {
    window.scrollTo(0, 0);
    for (const id of ["stMain", "stAppViewContainer", "stMainBlockContainer", "stApp"]) {
      const el = document.querySelector('[data-testid="' + id + '"]');
      if (el) { el.scrollTop = 0; }
    }
  };
  top();
  for (const ms of [50, 200, 500, 1000]) { setTimeout(top, ms); }
})();
</script>"""


def meeting_view(card: pd.DataFrame, ref_card: pd.DataFrame, ref_name: str, lang: str, *,
                 probs, recal, kept, changed, series, colors, ref_label: str, bands,
                 obs) -> None:
    """Meeting mode's page: the counts on one line, the scorecard (the chosen rows) in rows
    that fit a projector's screen, the chosen levers beside it as large sliders, then the key
    charts across the whole width."""
    st.markdown(scorecards.meeting_counts_html(card, ref_card, ref_name, lang),
                unsafe_allow_html=True)
    rows = ss["_meeting_rows"]
    shown = card[card["key"].isin(rows)] if rows else card
    levers = [lev for lev in (tables.lever(i) for i in ss["_meeting_levers"])]
    if levers:
        left, right = st.columns([7, 3], gap="medium")
    else:
        left, right = st.container(), None
    with left:
        st.markdown(scorecards.meeting_card_css(len(shown)), unsafe_allow_html=True)
        scorecard_block(shown, lang, large=True, probs=probs, recal=recal, kept=kept,
                        changed=changed)
        if rows:
            st.caption(i18n.ui("meeting_rows_note", lang, shown=len(shown), total=len(card)))
    if right is not None:
        with right, st.container(key="meeting_levers"):
            for lev in levers:
                meeting_slider(lev, lang)
    with st.container(key="meeting_charts"):
        draw_trajectories(series, lang, indicator_ids=charts.key_indicator_ids(), columns=3,
                          large=True, colors=colors, dashed=[ref_label], bands=bands,
                          observed=obs, width="stretch")
    chart_captions(lang, bands)


def meeting_slider(lev: tables.Lever, lang: str) -> None:
    """One large slider of the meeting page: sets the lever in all three plan periods."""
    values = ss["_levers"][lev.id]
    st.slider(f"{i18n.label(lev, lang)} · {i18n.unit(lev, lang)}", float(lev.min), float(lev.max),
              step=float(lev.step), format=i18n.slider_format(lev, values),
              help=i18n.lever_help(lev, lang), key=bind(f"w_meet_{lev.id}", float(values[0])),
              on_change=on_meeting_lever, args=(lev.id,))
    if len(set(values)) > 1:
        st.caption(i18n.ui("differs_by_period", lang, values=analyses.period_values(values)))


def chart_captions(lang: str, bands) -> None:
    st.caption(i18n.ui("target_legend", lang))
    if bands is not None:
        st.caption(i18n.ui("band_legend", lang, n=f"{analyses.UNCERTAINTY_N:,}"))


def main() -> None:
    """Draw the page; the server time of the run is kept in ``_render_ms`` (benchmarks read it).

    An unexpected exception (here or in a callback, see :func:`guarded`) is logged with its
    traceback and the visitor sees ``i18n.CRASH_MESSAGE`` and a button that starts the session
    afresh; Streamlit's own control flow (``st.rerun``, ``st.stop``) is not an ``Exception``
    and passes through.
    """
    started = time.perf_counter()
    try:
        page()
    except Exception:
        LOG.exception("drawing the page failed")
        crashed()
    finally:
        ss["_render_ms"] = (time.perf_counter() - started) * 1000.0
    warm_up_ensembles()


def crashed() -> None:
    """The short message after the page failed, and a way to start the session afresh."""
    st.error(i18n.CRASH_MESSAGE)
    st.button(i18n.ui("restart", ss.get("_lang", i18n.DEFAULT_LANG)), key="w_restart",
              on_click=ss.clear)


#: The page's tabs, in order (their labels are ``i18n.ui("tab_<id>", lang)``).
TAB_IDS = ("scorecard", "trajectories", "compare", "solve", "sensitivity", "milestones", "map",
           "export")


def page() -> None:
    if "_levers" not in ss:
        init_session()
    st.set_page_config(page_title="广元科技创新规划情景模拟 Guangyuan STI plan simulator",
                       page_icon="📈", layout="wide",
                       initial_sidebar_state="collapsed" if ss["_meeting"] else "auto")
    if ss["_preset"] not in all_presets():  # its file was removed while the session was open
        ss["_preset"] = next(iter(all_presets()))
    lang, meeting = ss["_lang"], ss["_meeting"]
    presets = all_presets()
    base = presets[ss["_preset"]]
    current = session.build_scenario(ss["_levers"], ss["_assumptions"], base)
    current_key = session.scenario_key(current)
    results, card, periods = simulate(current_key)
    sidebar(lang, meeting, periods)

    st.query_params.from_dict(links.encode_query(
        ss["_levers"], ss["_assumptions"], preset=ss["_preset"], presets=get_presets(),
        lang=lang, meeting=meeting, advanced=ss["_advanced"], rows=ss["_meeting_rows"],
        sliders=ss["_meeting_levers"], session_presets=ss["_uploaded"],
        reference=ss["_reference"],
        default_reference=ss["_saved_refs"].get(ss["_preset"], session.REFERENCE_PRESET)))

    reference_name = ss.get("_reference", session.REFERENCE_PRESET)
    reference = get_presets().get(reference_name) or next(iter(get_presets().values()))
    ref_results, ref_card, _ = simulate(session.scenario_key(reference))
    cur_label = f"{i18n.ui('current', lang)} · {session.short_title(base, lang)}"
    if session.is_modified(ss["_levers"], ss["_assumptions"], base):
        cur_label += f" ({i18n.ui('modified', lang)})"
    ref_label = f"{i18n.ui('reference', lang)} · {session.short_title(reference, lang)}"
    series = {cur_label: results, ref_label: ref_results}
    colors = [charts.CURRENT_COLOR, charts.REFERENCE_COLOR]
    obs = ss["_actuals"]
    recal_card = recal_label = None
    recal_problem = ""
    if obs is not None and ss["_recal"]:  # both projections: default and recalibrated
        digest = monitoring.actuals_digest(obs)
        try:
            with st.spinner(i18n.ui("recalibrating", lang)):
                recal_results, recal_card = simulate_recalibrated(current_key, digest, obs)
        except hindcast.HindcastError as exc:  # the file adds nothing to fit: say so, go on
            recal_problem = str(exc)
        else:
            recal_label = f"{cur_label} · {i18n.ui('recal_label', lang)}"
            series[recal_label] = recal_results
            colors.append(monitoring.RECAL_COLOR)
    if obs is not None:  # the latest actual and 完成进度 of every target
        card = monitoring.with_progress(card, obs, results)
        ref_card = monitoring.with_progress(ref_card, obs, ref_results)
    probs = bands = kept = None
    if ss["_uncertainty"]:
        probs, bands, kept = simulate_uncertain(current_key, analyses.UNCERTAINTY_N,
                                                analyses.UNCERTAINTY_SEED)

    st.markdown(APP_CSS + i18n.streamlit_words_css(lang, UPLOADERS)
                + (MEETING_CSS + scorecards.MEETING_COUNTS_CSS if meeting else ""),
                unsafe_allow_html=True)
    st.html(i18n.streamlit_menu_js(lang), unsafe_allow_javascript=True)  # tables' column menus
    scroll_to_top_on_entry(meeting)
    st.title(i18n.ui("app_title", lang))
    if ss.pop("_crashed", False):  # a callback failed (logged); the page itself still works
        st.error(i18n.CRASH_MESSAGE)
    if ss["_url_errors"]:
        with st.container(key="url_errors"):
            st.warning(untrusted.link_errors_markdown([i18n.detail(e, lang) for e in ss["_url_errors"]],
                                                      lang))
            st.button(i18n.ui("dismiss", lang), key="w_dismiss",
                      on_click=lambda: ss.update(_url_errors=[]))
    if recal_problem:
        st.warning(f"{i18n.ui('recal_failed', lang)}\n\n{untrusted.md_text(i18n.detail(recal_problem, lang))}")
    elif recal_card is not None:
        rec = recalibration(monitoring.actuals_digest(obs), obs)
        st.caption(untrusted.md_text(analyses.recal_summary(rec, lang,
                                                            title_of(rec.scenario, lang))))
    st.markdown(f"#### {untrusted.md_text(cur_label)}")  # the title of an uploaded file
    changed = changed_since_last_move(current_key, card)
    if meeting:
        meeting_view(card, ref_card, session.short_title(reference, lang), lang, probs=probs,
                     recal=recal_card, kept=kept, changed=changed, series=series, colors=colors,
                     ref_label=ref_label, bands=bands, obs=obs)
        return
    metrics(card, ref_card, session.short_title(reference, lang), lang)

    st.caption(i18n.ui("app_caption", lang))
    tabs = st.tabs([i18n.ui(f"tab_{t}", lang) for t in TAB_IDS], key="w_tab", on_change="rerun")
    tab = dict(zip(TAB_IDS, tabs))
    if tab["scorecard"].open:
        with tab["scorecard"]:
            scorecard_block(card, lang, probs=probs, recal=recal_card, kept=kept,
                            changed=changed)
            drivers_view(current_key, card, lang)
            st.subheader(i18n.ui("key_charts", lang))
            draw_trajectories(series, lang, indicator_ids=charts.key_indicator_ids(),
                              colors=colors, dashed=[ref_label], bands=bands, observed=obs,
                              width="content")
            chart_captions(lang, bands)
            if obs is not None:
                with st.expander(i18n.ui("actuals_table", lang)):
                    st.dataframe(obs.to_frame(), hide_index=True, key="w_actuals_table")
    if tab["trajectories"].open:
        with tab["trajectories"]:
            trajectories_view(series, colors, ref_label, lang, bands, obs)
    if tab["compare"].open:
        with tab["compare"]:
            compare_view(current_key, cur_label, results, card, lang)
    if tab["solve"].open:
        with tab["solve"]:
            solve_view(current_key, card, lang)
    if tab["sensitivity"].open:
        with tab["sensitivity"]:
            sensitivity_view(current_key, card, lang)
    if tab["milestones"].open:
        with tab["milestones"]:
            milestones_view(current_key, obs, lang)
    if tab["map"].open:
        with tab["map"]:
            model_map_view(current_key, lang)
    if tab["export"].open:
        with tab["export"]:
            cards = {cur_label: card, ref_label: ref_card}
            if recal_card is not None:
                cards[recal_label] = monitoring.with_progress(recal_card, obs, series[recal_label])
            export_view(current, base, reference, series, cards, colors, ref_label, periods,
                        lang)


def drivers_view(current_key, card, lang: str) -> None:
    """In an expander, computed only while open: pick a target; the levers that move it,
    largest effect first, each helpful one with a button that applies its move."""
    with lazy_expander(st, i18n.ui("drivers", lang), "w_drivers", icon=":material/tune:") as box:
        if box.open:
            drivers_panel_view(current_key, card, lang)


def drivers_panel_view(current_key, card, lang: str) -> None:
    """The drivers panel's content (see :func:`drivers_view`)."""
    st.caption(i18n.ui("drivers_help", lang))
    keys = [t.key for t in tables.targets()]
    missed = analyses.missed_targets(card)
    chosen = ss.get("_driver_target") or (missed[0] if missed else keys[0])
    st.selectbox(i18n.ui("drivers_target", lang), keys, format_func=lambda k: analyses.target_label(k, lang),
                 placeholder=i18n.ui("choose_option", lang),
                 key=bind("w_driver_target", chosen), on_change=on_copy,
                 args=("w_driver_target", "_driver_target"))
    table, moves = drivers_panel(current_key, ss["w_driver_target"], lang)
    st.dataframe(table, hide_index=True, key="w_drivers_table")
    for lever_id, sentence, button, after in moves:
        cols = st.columns([3, 1])
        cols[0].markdown(untrusted.md_text(sentence))
        cols[1].button(button, key=f"w_drive_{lever_id}", on_click=on_drive,
                       args=(lever_id, after))


def trajectories_view(series, colors, ref_label: str, lang: str, bands=None, obs=None) -> None:
    presets = get_presets()
    st.selectbox(i18n.ui("reference", lang), list(presets), placeholder=i18n.ui("choose_option", lang),
                 key=bind("w_reference", ss.get("_reference", session.REFERENCE_PRESET)),
                 format_func=lambda k: distinct_title(presets, k, lang),
                 on_change=on_copy, args=("w_reference", "_reference"))
    draw_trajectories(series, lang, colors=colors, dashed=[ref_label], bands=bands, observed=obs,
                      width="content")
    chart_captions(lang, bands)
    st.subheader(i18n.ui("detail", lang))
    inds = list(tables.indicators())
    chosen = st.selectbox(i18n.ui("col_indicator", lang), [i.id for i in inds], key="w_detail",
                          placeholder=i18n.ui("choose_option", lang),
                          format_func=lambda k: i18n.label(tables.indicator(k), lang))
    st.altair_chart(charts.detail_chart(series, chosen, lang, colors=colors, dashed=[ref_label],
                                    bands=bands, observed=obs),
                    width="stretch")


def probability_widgets(prefix: str, lang: str) -> float | None:
    """The "require a probability" toggle and its slider (widgets ``w_{prefix}_prob``,
    ``w_{prefix}_p``, state ``_{prefix}_prob``, ``_{prefix}_p``): the probability, or None."""
    lo, hi, step = analyses.SOLVE_P_RANGE
    c1, c2 = st.columns([1, 2])
    c1.toggle(i18n.ui("solve_probability", lang),
              key=bind(f"w_{prefix}_prob", ss.get(f"_{prefix}_prob", False)),
              help=i18n.ui("solve_probability_help", lang, n=analyses.SOLVE_N),
              on_change=on_copy, args=(f"w_{prefix}_prob", f"_{prefix}_prob"))
    if not ss.get(f"_{prefix}_prob"):
        return None
    probability = c2.slider(i18n.ui("solve_p", lang), lo, hi, step=step, format="%.2f",
                            key=bind(f"w_{prefix}_p", ss.get(f"_{prefix}_p", analyses.SOLVE_P_DEFAULT)),
                            on_change=on_copy, args=(f"w_{prefix}_p", f"_{prefix}_p"))
    return round(float(probability), 4)


def solve_view(current_key, card, lang: str) -> None:
    """What would it take: the solver's cheapest settings for chosen targets, applied on demand."""
    st.caption(i18n.ui("solve_intro", lang))
    options = [t.key for t in tables.targets()]
    labels = {k: analyses.target_label(k, lang) for k in options}
    chosen = st.multiselect(
        i18n.ui("solve_targets", lang), options, format_func=labels.get,
        key=bind("w_solve_targets", ss.get("_solve_targets", analyses.missed_targets(card))),
        placeholder=i18n.ui("choose_targets", lang),
        on_change=on_copy, args=("w_solve_targets", "_solve_targets"))
    probability = probability_widgets("solve", lang)
    c1, c2 = st.columns(2)
    central = True
    if probability is not None:
        central = c1.toggle(i18n.ui("solve_central", lang),
                            key=bind("w_solve_central", ss.get("_solve_central", True)),
                            help=i18n.ui("solve_central_help", lang),
                            on_change=on_copy, args=("w_solve_central", "_solve_central"))
    floors = c2.toggle(i18n.ui("solve_floors", lang),
                       key=bind("w_solve_floors", ss.get("_solve_floors", False)),
                       help=i18n.ui("solve_floors_help", lang),
                       on_change=on_copy, args=("w_solve_floors", "_solve_floors"))
    if not chosen:
        st.info(i18n.ui("solve_none", lang))
    if st.button(i18n.ui("solve_run", lang), key="w_solve_run", type="primary",
                 disabled=not chosen):
        with st.spinner(i18n.ui("solve_running", lang)):
            result = solve(current_key, tuple(chosen), probability, bool(central), bool(floors))
        ss["_solve"] = (current_key, result)
        ss["_solve_msg"] = None
    if not ss["_solve"]:
        return
    key, result = ss["_solve"]
    ok, text = analyses.solve_summary(result, lang)
    with st.container(key="solve_result"):
        (st.success if ok else st.error)(text)
        st.caption(i18n.ui("solve_for", lang, name=untrusted.md_text(title_of(key[0], lang)),
                         targets="、".join(analyses.target_label(k, lang) for k in result.margins["key"])
                         if lang == "zh" else "; ".join(analyses.target_label(k, lang)
                                                        for k in result.margins["key"])))
        notes = analyses.solve_notes(result, lang)
        if notes:
            with st.container(key="solve_notes"):
                for note in notes:
                    st.markdown(note)  # the page's own strings, numbers and names
        st.dataframe(analyses.solve_table(result, lang), hide_index=True, key="w_solve_table")
        st.markdown(analyses.solve_cost_text(result, lang))
        st.dataframe(analyses.solve_checks(result, lang), hide_index=True, key="w_solve_checks")
        st.button(i18n.ui("solve_apply", lang), key="w_solve_apply", on_click=on_apply_solution,
                  help=i18n.ui("solve_apply_help", lang, periods=analyses.periods_text(result.periods)))
        if ss["_solve_msg"] == "applied":
            st.success(i18n.ui("solve_applied", lang))


def milestones_view(current_key, obs, lang: str) -> None:
    """十五五 目标测算: the draft 2030 target table and the lever path it rests on, computed on
    demand (tens of seconds: behind a button, with a spinner; cached by settings and actuals)."""
    st.caption(i18n.ui("ms_intro", lang))
    options = [t.key for t in tables.targets() if t.year == milestones.GOAL_YEAR]
    labels = {k: analyses.target_label(k, lang) for k in options}
    chosen = st.multiselect(i18n.ui("ms_goals", lang), options, format_func=labels.get,
                            key=bind("w_ms_goals", ss.get("_ms_goals", options)),
                            placeholder=i18n.ui("choose_targets", lang),
                            on_change=on_copy, args=("w_ms_goals", "_ms_goals"))
    probability = probability_widgets("ms", lang)
    request = (current_key, tuple(chosen), obs, probability)
    if not chosen:
        st.info(i18n.ui("ms_none", lang))
    if st.button(i18n.ui("ms_run", lang), key="w_ms_run", type="primary", disabled=not chosen):
        with st.spinner(i18n.ui("ms_running", lang)):
            ss["_ms"] = (request, compute_milestones(*request))
    if not ss["_ms"]:
        return
    asked, res = ss["_ms"]
    with st.container(key="milestones_result"):
        if asked != request:
            st.info(i18n.ui("ms_stale", lang))
        name = title_of(asked[0][0], lang)
        (st.success if res.feasible else st.warning)(
            untrusted.md_text(analyses.milestones_message(res, lang, name)))
        st.caption(i18n.ui("ms_for", lang, name=untrusted.md_text(name),
                           goals="; ".join(labels.get(k, k) for k in asked[1])))
        if res.feasible:
            st.subheader(i18n.ui("ms_table", lang))
            st.dataframe(analyses.milestones_display(res, lang), hide_index=True, key="w_ms_table")
            st.subheader(i18n.ui("ms_levers", lang))
            if len(res.levers):
                st.dataframe(analyses.milestones_levers_display(res, lang), hide_index=True,
                             key="w_ms_levers")
            else:
                st.info(i18n.ui("ms_levers_none", lang))
        st.download_button(i18n.ui("ms_export", lang), analyses.milestones_csv(res),
                           file_name="milestones-2030.csv", mime="text/csv", key="w_dl_ms",
                           on_click="ignore")


def sensitivity_view(current_key, card, lang: str) -> None:
    """Sensitivity: the Morris ranking of levers and uncertain constants for one target."""
    options = [t.key for t in tables.targets()]
    labels = {k: analyses.target_label(k, lang) for k in options}
    default = (analyses.missed_targets(card) or options)[0]
    target = st.selectbox(i18n.ui("sens_target", lang), options, format_func=labels.get,
                          placeholder=i18n.ui("choose_option", lang),
                          key=bind("w_sens_target", ss.get("_sens_target", default)),
                          on_change=on_copy, args=("w_sens_target", "_sens_target"))
    with st.spinner(i18n.ui("sens_running", lang)):
        table, runs = sensitivity_table(current_key)
    frame = analyses.sensitivity_frame(table, target, lang)
    st.caption(i18n.ui("sens_intro", lang, trajectories=analyses.SENSITIVITY_TRAJECTORIES, runs=f"{runs:,}",
                     seed=analyses.SENSITIVITY_SEED))
    st.altair_chart(analyses.sensitivity_chart(frame, lang, labels[target]), width="stretch")
    st.dataframe(analyses.sensitivity_display(frame, lang), hide_index=True, key="w_sens_table")


def compare_view(current_key, cur_label: str, results, card, lang: str) -> None:
    """Save the current settings to the scenario library; the library's list; up to
    ``session.MAX_SAVED`` saved scenarios compared with the current settings, each with its link
    and a button to load it (and one to delete it, for what this session saved)."""
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
    c1.text_input(i18n.ui("save_name", lang), key="w_save_name", max_chars=64)
    c2.text_input(i18n.ui("save_author", lang), key="w_save_author",
                  max_chars=library.MAX_AUTHOR_CHARS)
    c3.button(i18n.ui("save", lang), key="w_save", on_click=on_save, args=(current_key,),
              width="stretch")
    st.text_area(i18n.ui("save_note", lang), key="w_save_note", max_chars=library.MAX_NOTE_CHARS,
                 height=68)
    msg = ss["_save_msg"]
    if msg:  # may quote the name typed
        (st.error if msg[0] == "error" else st.success)(
            untrusted.md_text(i18n.detail(msg[1], lang)))
    try:
        lib = get_library()
        entries = lib.entries()
    except library.LibraryError as exc:
        st.error(untrusted.md_text(library_problem(exc, lang)))
        return
    sound = {e.id: e for e in entries if not e.problem}
    ss["_compare"] = [i for i in ss["_compare"] if i in sound]  # deleted elsewhere: dropped
    st.subheader(i18n.ui("library", lang), help=i18n.ui("library_help", lang))
    if not entries:
        st.info(i18n.ui("nothing_saved", lang))
        return
    st.caption(i18n.ui("library_count", lang, n=f"{len(entries):,}", max=f"{lib.max_scenarios:,}"))
    titles = {scn.name: session.short_title(scn, lang) for scn in get_presets().values()}
    st.dataframe(library.entries_frame(entries, lang, titles), hide_index=True,
                 key="w_library_table")
    chosen = st.multiselect(i18n.ui("compare_pick", lang, n=session.MAX_SAVED), list(sound),
                            format_func=lambda i: library.entry_label(sound[i], lang),
                            key=bind("w_compare", ss["_compare"]),
                            max_selections=session.MAX_SAVED,
                            placeholder=i18n.ui("choose_saved", lang),
                            on_change=on_copy, args=("w_compare", "_compare"))
    base_url = (st.context.url or "").split("?")[0]
    runs = {}
    for i, sid in enumerate(chosen):
        entry = sound[sid]
        a, b, c = st.columns([6, 1, 1])
        a.markdown(f"{i + 1}\\. {untrusted.md_text(library.entry_label(entry, lang))}")
        if entry.note:  # line by line: each escaped, the breaks kept
            a.caption("  \n".join(untrusted.md_text(line) for line in entry.note.splitlines()))
        a.code(f"{base_url}?{urlencode({'saved': sid})}", language=None)
        b.button(i18n.ui("load", lang), key=f"w_load_{i}", on_click=on_load_saved, args=(sid,))
        if sid in ss["_tokens"]:
            c.button(i18n.ui("delete", lang), key=f"w_delete_{i}", on_click=on_delete_saved,
                     args=(sid, entry.name))
        try:
            saved = lib.get(sid)
        except library.LibraryError as exc:  # a damaged scenario: say so, compare the others
            a.error(untrusted.md_text(library_problem(exc, lang)))
            continue
        label = entry.name if entry.name not in runs else f"{entry.name} ({sid})"
        runs[label] = simulate(session.scenario_key(saved.scenario))[:2]
    if not runs:
        return
    label = cur_label if cur_label not in runs else f"{cur_label} *"
    runs[label] = (results, card)
    st.subheader(i18n.ui("compare_scorecards", lang))
    with st.container(key="compare_scorecards"):
        st.markdown(scorecards.SCORECARD_CSS + scorecards.compare_html({k: v[1] for k, v in runs.items()}, lang),
                    unsafe_allow_html=True)
    st.subheader(i18n.ui("compare_trajectories", lang))
    draw_trajectories({k: v[0] for k, v in runs.items()}, lang, width="content")
    st.caption(i18n.ui("target_legend", lang))


@once(st.cache_resource, show_spinner=False)
def get_model_map():
    """The model's structure and layout (``simulator.app.modelmap``), read once per process."""
    return modelmap.model_map()


@once(st.cache_data, show_spinner=False, max_entries=64)
def simulate_map(key: session.ScenarioKey) -> pd.DataFrame:
    """Every variable of the map in scenario ``key``, one row per year (the map's hover values)."""
    model = get_model()
    names = [n for n in get_model_map()[0].variables if n in model.python_names]
    return model.run_wide(session.scenario_from_key(key), variables=names)


def model_map_view(current_key, lang: str) -> None:
    """The model's stock-and-flow map: a sector (or all), a loop to highlight, values on hover."""
    struct, lay = get_model_map()
    st.caption(i18n.ui("map_intro", lang))
    options = modelmap.sectors(lay)
    table = {lp.id: lp for lp in loops.load()}
    c1, c2 = st.columns(2)
    sector = c1.selectbox(
        i18n.ui("map_sector", lang), options,
        format_func=lambda k: i18n.ui("map_all", lang) if k == modelmap.ALL
        else modelmap.sector_label(k, lang),
        key=bind("w_map_sector", ss.get("_map_sector", modelmap.default_sector(lay))),
        on_change=on_copy, args=("w_map_sector", "_map_sector"))
    loop_id = c2.selectbox(
        i18n.ui("map_loop", lang), ["", *table],
        format_func=lambda k: i18n.ui("map_no_loop", lang) if not k
        else f"{k} {table[k].name_en if lang == 'en' else table[k].name_zh}",
        key=bind("w_map_loop", ss.get("_map_loop", "")),
        on_change=on_copy, args=("w_map_loop", "_map_loop"))
    loop = table.get(loop_id)
    if loop is not None:
        passes = modelmap.loop_sectors(struct, lay, loop, lang)
        name = f"{loop.id} {loop.name_en if lang == 'en' else loop.name_zh}"
        st.caption(i18n.ui("map_loop_in", lang, loop=name, sectors="、".join(passes)
                           if lang == "zh" else ", ".join(passes)) if passes
                   else i18n.ui("map_loop_none", lang, loop=name))
    nodes, edges = modelmap.map_frames(struct, lay, lang, sector=sector,
                                       values=simulate_map(current_key), loop=loop)
    st.altair_chart(modelmap.map_chart(nodes, edges, lang, dim_others=loop is not None),
                    width="content")


def export_view(current: Scenario, base: Scenario, reference: Scenario, series, cards,
                colors, ref_label: str, periods: list[budget.PeriodBudget], lang: str) -> None:
    st.caption(i18n.ui("export_note", lang))
    c1, c2 = st.columns(2)
    c1.download_button(i18n.ui("export_scenario", lang), current.to_yaml().encode("utf-8"),
                       file_name=f"{current.name}.yaml", mime="application/x-yaml",
                       key="w_dl_yaml", on_click="ignore", width="stretch")
    c1.download_button(i18n.ui("export_results_csv", lang), exports.results_csv(series),
                       file_name=f"{current.name}-results.csv", mime="text/csv",
                       key="w_dl_csv", on_click="ignore", width="stretch")
    c1.download_button(i18n.ui("export_scorecard_csv", lang), exports.scorecard_csv(cards.values()),
                       file_name=f"{current.name}-scorecard.csv", mime="text/csv",
                       key="w_dl_card", on_click="ignore", width="stretch")
    labels = list(series)
    scenarios = {labels[0]: current, labels[1]: reference}
    c2.download_button(
        i18n.ui("export_excel", lang),
        exports.deferred(exports.results_excel, scenarios, series, cards, lang=lang),
        file_name=f"{current.name}.xlsx", key="w_dl_xlsx", on_click="ignore", width="stretch",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    fallback = {labels[0]: f"{i18n.ui('current', 'en')} · {session.short_title(base, 'en')}",
                labels[1]: f"{i18n.ui('reference', 'en')} · {session.short_title(reference, 'en')}",
                current.title_zh or current.name: current.title_en or current.name}
    c2.download_button(
        i18n.ui("export_figures", lang),
        exports.deferred(exports.figure_pack, series, cards[labels[0]], lang,
                    title=(current.title_en if lang == "en" else current.title_zh) or current.name,
                    colors=colors, dashed=[ref_label], fallback_labels=fallback,
                    scenario=current),
        file_name=f"{current.name}-figures.zip", mime="application/zip", key="w_dl_figs",
        on_click="ignore", width="stretch")
    # the one-page brief: settings, scorecard, key charts, budget, caveat (built on click)
    brief_args = (current, series[labels[0]], cards[labels[0]], periods, lang)
    brief_kwargs = {"reference": reference, "ref_results": series[labels[1]]}
    c2.download_button(
        i18n.ui("export_brief_pdf", lang),
        exports.deferred(brief.brief_pdf, *brief_args, **brief_kwargs),
        file_name=f"{current.name}-brief.pdf", mime="application/pdf", key="w_dl_brief_pdf",
        on_click="ignore", width="stretch")
    c2.download_button(
        i18n.ui("export_brief_docx", lang),
        exports.deferred(brief.brief_docx, *brief_args, **brief_kwargs),
        file_name=f"{current.name}-brief.docx", key="w_dl_brief_docx", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        width="stretch")
    st.subheader(i18n.ui("share", lang))
    st.caption(i18n.ui("share_help", lang))
    query = urlencode(st.query_params.to_dict(), safe=",")
    base_url = (st.context.url or "").split("?")[0]
    st.code(f"{base_url}?{query}" if query else base_url or "/", language=None)


main()
