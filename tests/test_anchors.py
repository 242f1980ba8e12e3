"""The sourced 2020 anchors: every row has a source and a quote, and no data year is after 2020
(data dated after 2020 must stay out of what the model is built and calibrated on)."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

FILE = Path(__file__).resolve().parent.parent / "data" / "anchors_2020.csv"
with FILE.open(encoding="utf-8", newline="") as _fh:
    ROWS = list(csv.DictReader(_fh))


def test_header():
    with FILE.open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == ["indicator", "year", "value", "unit", "source_url", "quote",
                                        "note"]


def test_there_are_anchors():
    assert len(ROWS) >= 30


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}-{r['indicator']}" for i, r in enumerate(ROWS)])
def test_row_is_sourced_dated_and_numeric(row):
    assert int(row["year"]) <= 2020
    assert math.isfinite(float(row["value"]))
    assert row["source_url"].strip() and row["quote"].strip() and row["unit"].strip()
