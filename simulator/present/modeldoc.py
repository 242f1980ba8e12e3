"""The model's constants as a table an economist can read and cite.

Everything comes from the ``.mdl`` itself (value, units, range, comment with its source), so the
table cannot drift from the model: ``docs/parameters.md`` is written by :func:`write_markdown`
and ``tests/test_modeldoc.py`` checks that it is current.

    python -m simulator.present.modeldoc            # rewrite docs/parameters.md
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from simulator.plan import tables
from simulator.sd import translate

DOC_FILE = tables.MODELS_DIR.parent / "docs" / "parameters.md"


def constants(mdl_file: str | Path = tables.MODEL_FILE) -> pd.DataFrame:
    """Every constant of the model: Vensim name, Python name, Chinese name
    (``models/variable_names.csv``; "" for a constant it does not name), value, units, range,
    comment.

    Lever period values (``… 2021 2025`` and so on) are summarised by the levers table and left
    out; their 2020 levels are kept.
    """
    model = translate.abstract_model(mdl_file)
    names = tables.variable_names()
    rows = []
    for element in model.sections[0].elements:
        ast = element.components[0].ast
        if not isinstance(ast, (int, float)) or re.search(r" 20(21|26|31) 20(25|30|35)$",
                                                           element.name):
            continue
        lim = element.limits or ()
        rng = (f"{_num(lim[0])} – {_num(lim[1])}" if len(lim) >= 2 and lim[0] is not None
               and lim[1] is not None else "")
        python = translate.python_name(element.name)
        rows.append({"name": element.name, "python_name": python,
                     "name_zh": names.get(python, ("", ""))[0],
                     "value": float(ast), "units": element.units or "", "range": rng,
                     "comment": " ".join((element.documentation or "").split())})
    return pd.DataFrame(rows)


def _num(value: float) -> str:
    return f"{value:g}"


def markdown(mdl_file: str | Path = tables.MODEL_FILE) -> str:
    """The constants as a Markdown page."""
    from simulator.analysis import calibration
    frame = constants(mdl_file)
    cal = calibration.read() if calibration.CALIBRATION_FILE.exists() else {}
    fitted, fixed = cal.get("parameters", {}), cal.get("fixed", {})

    def calibrated(name: str) -> str:
        if name in fitted:
            v = fitted[name]
            return f"**{_num(v['value'])}** (95 % CI {_num(v['ci95'][0])} – {_num(v['ci95'][1])})"
        if name in fixed:
            return "not identified by the data: value kept"
        return ""
    lines = [
        "# Model constants",
        "",
        "Generated from `models/guangyuan_innovation.mdl` by `python -m simulator.present.modeldoc`; "
        "do not edit by hand. Each comment gives the source: a plan clause, observed data, "
        "literature, a definition or an assumption. Lever values per plan period are in "
        "`models/levers.csv` and the scenario files. The column *calibrated* gives the value "
        "`models/calibration.yaml` fits to the 2015–2020 data, which scenarios use instead of the "
        "`.mdl` value, or says that the data do not identify a candidate "
        "(`python -m simulator calibrate`; method in `docs/calibration.md`). The column 名称 "
        "gives the name the app's Chinese page shows (`models/variable_names.csv`).",
        "",
        f"{len(frame)} constants.",
        "",
        "| constant | 名称 | value | calibrated | units | range | source and meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        comment = r["comment"].replace("|", "\\|")
        lines.append(f"| {r['name']} | {r['name_zh']} | {_num(r['value'])} | "
                     f"{calibrated(r['python_name'])} | "
                     f"{r['units']} | {r['range']} | {comment} |")
    return "\n".join(lines) + "\n"


def write_markdown(path: str | Path = DOC_FILE) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_markdown()}")
