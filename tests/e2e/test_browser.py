"""End-to-end: the app in a real browser (Chromium through Playwright) against a real server.

Loads the page, waits for the scorecard, moves a slider with the keyboard, checks that the
scorecard changed and the link followed, downloads the scenario YAML and loads it through the
CLI's validation, and saves screenshots to ``artifacts/``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from simulator import appsupport as ui, scenario, tables

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCORECARD = ".st-key-scorecard table.gy-card"
WAIT_MS = 60_000


def scorecard_rows(page) -> list[str]:
    return page.locator(f"{SCORECARD} tbody tr").all_inner_texts()


def slider_thumb(page, lever_id: str):
    return page.locator(f".st-key-w_{lever_id} [data-testid='stSlider'] input")


def test_slider_move_updates_scorecard(server, page):
    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    before = scorecard_rows(page)
    assert len(before) == len(tables.targets())
    lever = tables.lever("sme_campaign")
    thumb = slider_thumb(page, lever.id)
    thumb.focus()
    thumb.press("End")  # to the lever's maximum
    page.wait_for_function(
        """([sel, old]) => {
               const rows = Array.from(document.querySelectorAll(sel + ' tbody tr'));
               return rows.length > 0 && rows.map(r => r.innerText).join('\\n') !== old;
           }""",
        arg=[SCORECARD, "\n".join(before)], timeout=WAIT_MS)
    after = scorecard_rows(page)
    assert after != before
    page.wait_for_function("() => window.location.search.includes('sme_campaign=')",
                           timeout=WAIT_MS)
    assert f"sme_campaign={ui.plain_number(lever.max)}" in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-app.png"))

    # the copied link reopens the same scenario in a new page
    link = page.url
    other = page.context.new_page()
    other.goto(link)
    other.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    assert scorecard_rows(other) == after
    other.close()


def test_downloaded_yaml_loads_again(server, page, tmp_path):
    page.goto(f"{server}/?preset=ambitious&tech_loans=2.5")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.get_by_role("tab", name=ui.ui("tab_export", "zh")).click()
    button = page.locator(".st-key-w_dl_yaml button")
    button.wait_for(timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    scn = scenario.load(path)
    expected = scenario.load(REPO / "scenarios" / "ambitious.yaml").with_levers(tech_loans=2.5)
    assert scn.levers == expected.levers and scn.assumptions == expected.assumptions

    # the deferred downloads: the figure pack (a ZIP of PNG and PDF) and the Excel workbook
    for key, check in (("w_dl_figs", _check_zip), ("w_dl_xlsx", _check_xlsx)):
        with page.expect_download(timeout=WAIT_MS) as info:
            page.locator(f".st-key-{key} button").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        check(target)


def _check_zip(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "figures.pdf" in names and "1-scorecard.png" in names
        assert zf.read("1-scorecard.png").startswith(b"\x89PNG")


def _check_xlsx(path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(path)
    assert {"scorecard", "results"} <= set(book.sheetnames)


def test_meeting_mode_screenshot(server, page):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{server}/?view=meeting")
    page.wait_for_selector(".st-key-scorecard table.gy-card.large", timeout=WAIT_MS)
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, "
                           "[data-testid='stVegaLiteChart'] svg", timeout=WAIT_MS)
    assert page.locator("[data-testid='stSidebar'][data-collapsed='true']").count() == 1
    assert page.locator("[data-testid='stExpandSidebarButton']").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-meeting.png"))
