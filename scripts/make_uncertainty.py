"""Write ``models/uncertainty.yaml`` from the model and its calibration.

One triangular distribution per uncertain constant of ``models/guangyuan_innovation.mdl`` (a
constant with a ``[min, max]`` range that is not a lever or a scenario assumption), in the
model's order: on the ``.mdl`` range with the ``.mdl`` value as mode, or, for a constant that
``models/calibration.yaml`` fits, with the fitted value as mode and the support narrowed to its
95 % confidence interval within the range. Each entry's comment repeats the unit and source.

Run it after changing a range or recalibrating::

    python scripts/make_uncertainty.py

``tests/test_uncertainty.py::test_file_covers_every_uncertain_constant`` fails until the file
matches the model again.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.analysis import calibration, uncertainty
from simulator.base.outputs import write_atomic  # noqa: E402
from simulator.model import engine_for  # noqa: E402
from simulator.present import modeldoc  # noqa: E402

OUT = REPO / "models" / "uncertainty.yaml"
COMMENT_CHARS = 160  # a comment longer than this is cut and points to the .mdl

HEADER = """\
# Uncertainty of the model's constants: one distribution for every uncertain constant of
# models/guangyuan_innovation.mdl (a constant with a [min, max] range in its units field that is
# not a lever, a lever's 2020 level or a scenario assumption).
#
# Default choice, applied to every entry: a triangular distribution on the [min, max] range
# written in the .mdl (the range documented there from literature, observation or assumption),
# with the default value as its mode: the .mdl value, or, for a constant models/calibration.yaml
# fits (marked below), the fitted value, with the support narrowed to its 95 % confidence interval
# within the .mdl range. The triangle keeps that value most likely
# while giving the documented range its tails; no source gives a better-founded shape.
# Each entry's comment repeats the .mdl's unit and source. Edit freely: dist may be
# triangular (min, mode, max), uniform (min, max) or fixed (value); min and max must stay within
# the .mdl range; a constant left out keeps the model's value.
# Written by scripts/make_uncertainty.py; validated strictly by simulator/analysis/uncertainty.py
# (python -m simulator uncertainty --uncertainty FILE).
name: model-ranges
description: >-
  Triangular distributions on the ranges documented in the .mdl, mode at the .mdl value; for
  calibrated constants mode at the fit and support the 95 % CI within the .mdl range.
distributions:
"""


def _docs() -> dict[str, tuple[str, str]]:
    """(unit, comment) of every constant, by Python name, as the parameters page shows them."""
    frame = modeldoc.constants()
    return {r.python_name: (r.units, r.comment) for r in frame.itertuples()}


def _num(x: float) -> str:
    return f"{x:.6g}"


def render() -> str:
    engine = engine_for()
    fitted = calibration.read()["parameters"]
    docs = _docs()
    lines = [HEADER]
    for name, (lo, hi) in uncertainty.uncertain_constants(engine).items():
        unit, doc = docs.get(name, ("", ""))
        if len(doc) > COMMENT_CHARS:
            doc = doc[:COMMENT_CHARS].rsplit(" ", 1)[0] + " … (see the .mdl)"
        lines.append(f"  # [{unit}] {doc}\n")
        if name in fitted:
            f = fitted[name]
            lines.append(f"  {name}: {{dist: triangular, min: {_num(max(lo, f['ci95'][0]))}, "
                         f"mode: {_num(f['value'])}, max: {_num(min(hi, f['ci95'][1]))}}}  "
                         "# calibrated: mode = fit, support = 95 % CI within the .mdl range\n")
        else:
            lines.append(f"  {name}: {{dist: triangular, min: {_num(lo)}, "
                         f"mode: {_num(engine.constants[name])}, max: {_num(hi)}}}\n")
    return "".join(lines)


def main() -> int:
    text = render()
    uncertainty.loads_spec(text, source=str(OUT))  # refuse to write a file the loader refuses
    write_atomic(OUT, text)
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
