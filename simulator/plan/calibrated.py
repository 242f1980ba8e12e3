"""The calibrated parameters every scenario runs with by default (``models/calibration.yaml``,
written by :func:`simulator.analysis.calibration.calibrate`): read and checked here, so that
running a scenario does not depend on the calibration machinery."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from simulator.base.inputs import read_text
from simulator.plan import tables

CALIBRATION_FILE = tables.MODELS_DIR / "calibration.yaml"


class CalibrationError(ValueError):
    """A mistake in a calibration data file.

    The message names the file, row, field, value and what is allowed."""


_cache: dict[tuple[Path, int, int], dict[str, float]] = {}


def read(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """The parameter file as data; a clear error for a broken file.

    Parameters
    ----------
    path : Path, optional
        Default ``models/calibration.yaml``.

    Returns
    -------
    dict
        The whole YAML document; ``parameters`` is a mapping.

    Raises
    ------
    CalibrationError
        For a file that cannot be read within bounds, is not valid YAML, or has no
        ``parameters`` mapping.
    """
    path = Path(path)
    # bounded, regular files only (a FIFO or /dev/zero given as --out is refused, not read)
    text = read_text(path, what="parameter file", error=CalibrationError)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CalibrationError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise CalibrationError(f"{path}: field 'parameters' missing; run python -m simulator "
                               "calibrate to write the file")
    return data


def parameters(path: Path = CALIBRATION_FILE) -> dict[str, float]:
    """The calibrated parameters scenarios use by default.

    Parameters
    ----------
    path : Path, optional
        Default ``models/calibration.yaml``; re-read when its modification time or size
        changes.

    Returns
    -------
    dict of str to float
        PySD Python name → calibrated value; empty if the file does not exist.

    Raises
    ------
    CalibrationError
        For a broken file (:func:`read`) or a value that is not a finite number.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    # every scenario run asks for these: a stat, not a read and hash, tells an unchanged file
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        data = read(path)
        out = {}
        for name, entry in data["parameters"].items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, (int, float)) or isinstance(value, bool) \
                    or not math.isfinite(value):
                raise CalibrationError(f"{path}: field 'parameters.{name}.value': value "
                                       f"{value!r} is not allowed; allowed a finite number")
            out[name] = float(value)
        _cache[key] = out
    return dict(_cache[key])
