"""Monitoring: actuals against the plan (progress towards each target from the 2020 base, the
latest observation, an uploaded actuals file).

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulator.app.i18n import UI_STRINGS, plain_number, ui
from simulator.app.untrusted import _read_validated
from simulator.base import inputs
from simulator.base.text import format_number
from simulator.plan import goals, tables

#: Columns a scorecard gains with actuals (:func:`with_progress`), in this order.
PROGRESS_COLUMNS = ["actual_value", "actual_year", "actual_kind", "base_2020", "progress_pct",
                    "progress_relation", "time_progress_pct"]


#: Indicators that are themselves an average growth rate since 2020 (a target on them is a
#: growth target: progress = achieved / required).
RATE_INDICATORS = frozenset({"rd_spending_growth"})
#: Shapes of observed points on the charts, by kind.
ACTUAL_SHAPES = {"level": "circle", "lower_bound": "triangle-up", "upper_bound": "triangle-down"}
ACTUAL_COLOR = "#111111"
#: Colour of the recalibrated projection.
RECAL_COLOR = "#e07b00"
#: Starts of the recalibration's multi-start fit in the app (the command line's default is 16;
#: fewer starts keep the wait to seconds, docs/app.md "Monitoring").
RECAL_STARTS = 4


def actuals_digest(obs: Any) -> str:
    """The hash of a file of actuals' figures (what the recalibration is cached by)."""
    from simulator.analysis.calibration import actuals_digest as digest
    return digest(obs)


def actuals_private_note(lang: str) -> str:
    """The note that actuals never leave the session, in the page's language."""
    return UI_STRINGS["actuals_private"][lang]


def read_actuals_upload(data: bytes, filename: Any, lang: str) -> tuple[Any, str]:
    """An uploaded file of actuals, validated as the command line validates one
    (:func:`simulator.plan.actuals.loads`).

    Returns
    -------
    (Actuals, "") or (None, message)
        ``message`` is one line (the validation's own, or, for a file over
        :data:`simulator.base.inputs.MAX_FILE_BYTES`, a sentence in ``lang``); plain text: escape it
        (:func:`md_text`) to show it. Anything but an input error propagates.
    """
    from simulator.plan import actuals as actuals_mod
    return _read_validated(data, filename, lang, actuals_mod.loads, inputs.MAX_FILE_BYTES)


def actuals_summary(obs: Any, lang: str) -> str:
    """One line about a loaded file of actuals (escape it to show it: it names the file)."""
    return ui("actuals_ok", lang, name=obs.source, n=len(obs), k=len(obs.indicators()),
              year=plain_number(max(a.year for a in obs)))


def latest_observation(obs: Any, indicator_id: str, up_to: float) -> Any:
    """The latest observation of ``indicator_id`` at or before ``up_to``, a level or a bound
    (a level wins over a bound of the same year), or None."""
    found = [a for a in obs if a.indicator == indicator_id and a.year <= up_to]
    if not found:
        return None
    return max(found, key=lambda a: (a.year, a.kind == "level"))


def base_value_2020(indicator_id: str, results: pd.DataFrame | None = None) -> float:
    """The 2020 value progress is measured from: ``value_2020`` of ``models/indicators.csv``,
    else the model's 2020 value in ``results`` (its initial state), else NaN."""
    ind = tables.indicator(indicator_id)
    if ind.value_2020 is not None:
        return float(ind.value_2020)
    if results is None:
        return math.nan
    at = results[(results["variable"] == indicator_id)
                 & np.isclose(results["time"].to_numpy(float), goals.BASE_YEAR)]
    return float(at["value"].iloc[0]) if len(at) else math.nan


def progress_pct(target: tables.Target, value: float, year: float, base: float) -> float:
    """完成进度 of one observed ``value`` (at ``year``) toward ``target``, in percent.

    - a level target: ``(value − base) / (target − base) × 100`` (``base``: the 2020 value);
    - a growth target (``kind == "cagr"``, or a target on an indicator that is itself an
      average growth since 2020, :data:`RATE_INDICATORS`): the average annual growth achieved
      since 2020 divided by the growth required, × 100; for a ``cagr`` target the achieved
      growth is ``((value / base) ** (1 / (year − 2020)) − 1) × 100``.

    Not clipped: above 100 means exceeded, below 0 moved away from the target. NaN where it
    is not defined: the 2020 value equals the target (nothing had to change), a growth target
    of 0, an observation at or before 2020 for a growth target, a base ≤ 0 for a growth rate,
    or a base or value that is not a finite number.
    """
    if not (math.isfinite(value) and math.isfinite(target.target)):
        return math.nan
    if target.indicator in RATE_INDICATORS:
        return value / target.target * 100.0 if target.target != 0 else math.nan
    if not math.isfinite(base):
        return math.nan
    if target.kind == "cagr":
        if year <= goals.BASE_YEAR or base <= 0 or value < 0 or target.target == 0:
            return math.nan
        achieved = ((value / base) ** (1.0 / (year - goals.BASE_YEAR)) - 1.0) * 100.0
        return achieved / target.target * 100.0
    if target.target == base:
        return math.nan
    return (value - base) / (target.target - base) * 100.0


def _progress_rises(target: tables.Target, base: float) -> bool:
    """Whether progress grows with the observed value (it does unless the target lies below
    the 2020 value, or a growth target is negative)."""
    if target.indicator in RATE_INDICATORS or target.kind == "cagr":
        return target.target > 0
    return target.target > base


def with_progress(card: pd.DataFrame, obs: Any, results: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """A one-scenario scorecard with the latest actual of each target and its progress.

    For every target, the latest observation of its indicator at or before the target year
    (:func:`latest_observation`) gives ``actual_value``, ``actual_year``, ``actual_kind``;
    ``base_2020`` is :func:`base_value_2020`; ``progress_pct`` is :func:`progress_pct`;
    ``progress_relation`` is ``"="`` for a level, ``">="`` / ``"<="`` when the observation is a
    bound (a lower bound on the value is a lower bound on the progress when progress rises with
    the value); ``time_progress_pct`` is ``(actual_year − 2020) / (target year − 2020) × 100``.
    Targets without an observation get NaN and an empty kind.
    """
    rows = []
    by_id = {t.key: t for t in tables.targets()}
    for _, r in card.iterrows():
        tgt = by_id[r["key"]]
        base = base_value_2020(tgt.indicator, results)
        found = latest_observation(obs, tgt.indicator, float(r["year"]))
        if found is None:
            rows.append({"actual_value": math.nan, "actual_year": math.nan, "actual_kind": "",
                         "base_2020": base, "progress_pct": math.nan, "progress_relation": "",
                         "time_progress_pct": math.nan})
            continue
        pct = progress_pct(tgt, found.value, found.year, base)
        relation = "="
        if found.kind != "level":
            rises = _progress_rises(tgt, base)
            relation = ">=" if (found.kind == "lower_bound") == rises else "<="
        rows.append({
            "actual_value": found.value, "actual_year": found.year, "actual_kind": found.kind,
            "base_2020": base, "progress_pct": pct,
            "progress_relation": relation if math.isfinite(pct) else "",
            "time_progress_pct": (found.year - goals.BASE_YEAR) / (tgt.year - goals.BASE_YEAR)
            * 100.0})
    extra = pd.DataFrame(rows, columns=PROGRESS_COLUMNS, index=card.index)
    return pd.concat([card.drop(columns=[c for c in PROGRESS_COLUMNS if c in card.columns]),
                      extra], axis=1)


def format_actual(value: float, year: float, kind: str, decimals: int) -> str:
    """An observation for the scorecard: ``320.0 (2023)``, ``≥ 2.00 (2023)``, ``—``."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    prefix = {"lower_bound": "≥ ", "upper_bound": "≤ "}.get(kind, "")
    return f"{prefix}{format_number(value, decimals)} ({plain_number(year)})"


def format_progress(pct: float, relation: str = "=") -> str:
    """A progress as ``62.0%`` (one decimal; ``≥ 62.0%`` for a bound; ``—`` if undefined)."""
    if not isinstance(pct, (int, float)) or not math.isfinite(pct):
        return "—"
    prefix = {">=": "≥ ", "<=": "≤ "}.get(relation, "")
    sign = "−" if pct < 0 else ""
    return f"{prefix}{sign}{abs(pct):.1f}%"
