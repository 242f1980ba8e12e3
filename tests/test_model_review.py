"""docs/model-review.md quotes figures printed by scripts/model_review_figures.py; they must agree
with the committed model (the page is re-checked whenever the model changes)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "model-review.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def printed() -> str:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "model_review_figures.py")],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return out.stdout


def test_budget_rows_match(printed):
    for name in ("baseline", "plan", "ambitious", "all levers at maximum"):
        m = re.search(rf"   {name}: S&T budget 2025 ([\d.]+) 亿, requested outlays ([\d.]+) 亿 "
                      rf"\(extra over 2020, mean 2021-25: ([\d.]+) 亿/yr\), funded fraction 2025 "
                      rf"([\d.]+), shortfall 2025 [\d.]+ 亿; R&D growth 2021 ([\d.]+) %", printed)
        assert m, name
        budget, requested, extra, funded, growth = m.groups()
        row = re.search(rf"^\| {re.escape(name)} \| {budget} 亿 \| {requested} 亿 \| [^|]+ \| "
                        rf"{round(float(funded) * 100):.0f} % \| {growth} %", DOC, re.M)
        assert row, f"docs/model-review.md budget row for {name}: {m.group(0)}"


def test_campaign_and_index_figures_match(printed):
    hte = re.search(r"HTEs 2025: ([\d.]+) with the campaign, [\d.]+ at the 2020 effort: ([\d.]+) "
                    r"come from the campaign", printed)
    assert f"| HTEs in 2025, plan | 101 | {hte.group(1)} |" in DOC
    assert f"| of which due to the registration campaign (campaign 6 vs 1) | 40 | {hte.group(2)} |" in DOC
    idx = dict(re.findall(r"   (innovation_index\w*): (2020 [\d.]+, 2035 [\d.]+)", printed))
    v20, v35 = re.findall(r"[\d.]+", idx["innovation_index"])[1::2]
    assert f"| after, with the development block | {v20} | {v35} |" in DOC
    w20, w35 = re.findall(r"[\d.]+", idx["innovation_index_excluding_development"])[1::2]
    assert f"| after, without it (four S&T blocks) | {w20} | {w35} |" in DOC


def test_uncertain_constants_count_matches(printed):
    n = re.search(r"(\d+) constants with a documented range", printed).group(1)
    assert f"({n} uncertain constants" in DOC
