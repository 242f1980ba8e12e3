"""End-to-end: the app in a real browser (Chromium through Playwright) against a real server.

Loads the page, waits for the scorecard, moves a slider with the keyboard, checks that the
scorecard changed and the link followed, downloads the scenario YAML and loads it through the
CLI's validation, and saves screenshots to ``artifacts/``.

Hardening, as a visitor meets it: a hostile link shows its text in the warning and makes no
link, image or request; hostile uploads through the real file input get one short message in
the page's language and the next upload works; the server listens on this machine only; no
traceback or server path reaches the page.
"""
from __future__ import annotations

import re
import socket
import struct

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (README: 3.10+)
    import tomli as tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from simulator.app import i18n, monitoring, untrusted
from simulator.plan import scenario, tables

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCORECARD = ".st-key-scorecard table.gy-card"
WAIT_MS = 60_000
SIDEBAR_ERROR = "[data-testid='stSidebar'] [data-testid='stAlertContentError']"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
SIDEBAR_SUCCESS = "[data-testid='stSidebar'] [data-testid='stAlertContentSuccess']"
UPLOAD_INPUT = ".st-key-w_upload input[type='file']"
#: Never in the page: a traceback, or a path of the server (the repository, the packages).
LEAKS = ("Traceback", "/work", "site-packages", str(REPO))


def scorecard_rows(page) -> list[str]:
    return page.locator(f"{SCORECARD} tbody tr").all_inner_texts()


def slider_thumb(page, lever_id: str):
    return page.locator(f".st-key-w_{lever_id} [data-testid='stSlider'] input")


def toggle_expander(page, key: str) -> None:
    """Click the header of the expander with widget key ``key`` (its content is drawn by the
    server only while it is open) and wait until the app is idle again."""
    page.locator(f".st-key-{key} summary").first.click(timeout=WAIT_MS)
    page.wait_for_selector(IDLE, timeout=WAIT_MS)


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
    assert f"sme_campaign={i18n.plain_number(lever.max)}" in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-app.png"))

    # the copied link reopens the same scenario in a new page
    link = page.url
    other = page.context.new_page()
    other.goto(link)
    other.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    assert scorecard_rows(other) == after
    other.close()


def test_a_closed_lever_group_opens_and_keeps_its_moves(server, page):
    """The sidebar draws the sliders of open groups only: a click opens a group, its slider
    moves the scenario; closed again and reopened, the slider shows the moved value."""
    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    lever = tables.lever("tech_loans")                   # in the last lever group, closed
    key = f"w_group_{next(n for n, g in enumerate(i18n.action_groups()) if lever in g.levers)}"
    assert slider_thumb(page, lever.id).count() == 0
    toggle_expander(page, key)
    thumb = slider_thumb(page, lever.id)
    thumb.wait_for(timeout=WAIT_MS)
    before = scorecard_rows(page)
    thumb.focus()
    thumb.press("End")
    page.wait_for_function(
        """([sel, old]) => Array.from(document.querySelectorAll(sel + ' tbody tr'))
                               .map(r => r.innerText).join('\\n') !== old""",
        arg=[SCORECARD, "\n".join(before)], timeout=WAIT_MS)
    page.wait_for_function(f"() => window.location.search.includes('{lever.id}=')",
                           timeout=WAIT_MS)
    moved = scorecard_rows(page)
    toggle_expander(page, key)                          # closed: the slider is gone ...
    page.wait_for_function(f"() => !document.querySelector('.st-key-w_{lever.id}')",
                           timeout=WAIT_MS)
    assert scorecard_rows(page) == moved                # ... and the move still counts
    toggle_expander(page, key)                          # reopened: the moved value
    label = page.locator(f".st-key-w_{lever.id} [data-testid='stSliderThumbValue']")
    label.wait_for(timeout=WAIT_MS)
    assert label.inner_text().strip() == i18n.slider_format(lever, (lever.max,)) % lever.max


def test_downloaded_yaml_loads_again(server, page, tmp_path):
    page.goto(f"{server}/?preset=ambitious&tech_loans=2.5")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.get_by_role("tab", name=i18n.ui("tab_export", "zh")).click()
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


def assert_no_leak(page) -> None:
    text = page.inner_text("body")
    for word in LEAKS:
        assert word not in text, f"{word!r} in the page"


def shown(text: str) -> str:
    """Visible text without zero-width spaces and with runs of white space as one space."""
    return " ".join(text.replace("\u200b", "").split())


# --------------------------------------------------------------------------------------------
# Hardening (issue 11): as a visitor meets it

HOSTILE_LINKS = {
    "link": "[click me](https://evil.example/phish)",
    "image": "![x](http://127.0.0.1:9/p.png)",
}


def _hostile(url: str) -> bool:
    """Whether ``url`` points where the hostile links want the browser to go."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host == "evil.example" or host.endswith(".evil.example") or (
        host == "127.0.0.1" and parts.port == 9)


@pytest.mark.parametrize("case", list(HOSTILE_LINKS), ids=list(HOSTILE_LINKS))
def test_a_hostile_link_shows_text_and_makes_no_link_image_or_request(server, page, case):
    key = HOSTILE_LINKS[case]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server}/?{key}=1")  # as typed by a visitor: the browser encodes it
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    warning = page.locator("[data-testid='stAlertContentWarning']")
    warning.wait_for(timeout=WAIT_MS)
    assert warning.count() == 1
    # nothing in the warning is a link or an image, and nothing on the page points there
    assert warning.locator("a, img").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    srcs = page.eval_on_selector_all("img[src]", "els => els.map(e => e.src)")
    assert not [u for u in hrefs + srcs if _hostile(u)]
    assert requests and not [u for u in requests if _hostile(u)]
    text = shown(warning.inner_text())
    assert shown(i18n.ui("url_errors", "zh")) in text
    assert f"'{key}'" in text  # the key is shown literally, as text
    assert_no_leak(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-hostile-link-{case}.png"))


#: The 9-level YAML alias bomb of tests/test_app_hardening.py (10**9 items if expanded).
ALIAS_BOMB = ("name: [&a0 [lol], "
              + ", ".join(f"&a{k} [" + ",".join([f"*a{k - 1}"] * 10) + "]" for k in range(1, 10))
              + "]\n").encode()
BIG_BYTES = 1_500_000  # over the app's 1,000,000, under Streamlit's own limit (2 MB)


def upload(page, name: str, content: bytes) -> None:
    page.locator(UPLOAD_INPUT).set_input_files(
        files=[{"name": name, "mimeType": "application/x-yaml", "buffer": content}])


def wait_for_text(page, selector: str, text: str) -> str:
    """Wait until the one element ``selector`` shows ``text`` (white space and zero-width
    spaces aside); return what it shows."""
    page.wait_for_function(
        r"""([sel, want]) => {
               const els = document.querySelectorAll(sel);
               const norm = s => s.replace(/\u200b/g, '').split(/\s+/).join(' ').trim();
               return els.length === 1 && norm(els[0].innerText).includes(want);
           }""", arg=[selector, text], timeout=WAIT_MS)
    return shown(page.locator(selector).inner_text())


@pytest.mark.parametrize("lang", ["zh", "en"], ids=["zh", "en"])
def test_hostile_uploads_get_one_message_and_the_next_upload_works(server, page, lang):
    query = "" if lang == "zh" else "?lang=en"
    page.goto(f"{server}/{query}")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    before = scorecard_rows(page)
    heading = shown(i18n.ui("upload_bad", lang))

    # the alias bomb: one short message naming the alias; the scorecard stays as it was
    upload(page, "bomb.yaml", ALIAS_BOMB)
    _, problem = untrusted.read_upload(ALIAS_BOMB, "bomb.yaml", lang)
    problem = i18n.detail(problem, lang)  # in the page's language, the alias named
    text = wait_for_text(page, SIDEBAR_ERROR, shown(problem))
    assert text == f"{heading} {shown(problem)}" and "*a0" in text
    assert page.locator("[data-testid='stAlertContentError']").count() == 1
    assert scorecard_rows(page) == before
    assert_no_leak(page)

    # over 1 MB: the app's own message in the page's language, not Streamlit's small "!"
    upload(page, "big.yaml", b"name: big\n" + b"#" * (BIG_BYTES - 10))
    too_big = i18n.ui("upload_too_big", lang, source="big.yaml", size=f"{BIG_BYTES:,}",
                    limit=f"{scenario.MAX_FILE_BYTES:,}")
    text = wait_for_text(page, SIDEBAR_ERROR, shown(too_big))
    assert text == f"{heading} {shown(too_big)}"
    chip = page.locator(".st-key-w_upload [data-testid='stFileChip']")  # the file, as listed
    assert chip.count() == 1 and chip.get_attribute("aria-invalid") != "true"
    assert page.locator(".st-key-w_upload [data-testid='stFileChipIconError']").count() == 0
    assert "File must be" not in page.inner_text("body")  # Streamlit's tooltip
    assert page.locator("[data-testid='stAlertContentError']").count() == 1
    assert scorecard_rows(page) == before
    assert_no_leak(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-upload-too-big-{lang}.png"))

    # then a valid scenario loads: its message, and the scorecard of the same preset's link
    good = (REPO / "scenarios" / "ambitious.yaml").read_bytes()
    upload(page, "ambitious.yaml", good)
    name = scenario.loads(good).name
    wait_for_text(page, SIDEBAR_SUCCESS, shown(i18n.ui("upload_ok", lang, name=name)))
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    other = page.context.new_page()
    other.goto(f"{server}/?preset=ambitious{'&lang=en' if lang == 'en' else ''}")
    other.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    expected = scorecard_rows(other)
    other.close()
    assert expected != before
    page.wait_for_function(
        """([sel, want]) => Array.from(document.querySelectorAll(sel + ' tbody tr'))
                                .map(r => r.innerText).join('\\n') === want""",
        arg=[SCORECARD, "\n".join(expected)], timeout=WAIT_MS)
    assert scorecard_rows(page) == expected
    assert_no_leak(page)


def _listeners(port: int) -> set[str]:
    """Addresses with a TCP socket listening on ``port``, from ``/proc/net/tcp`` and ``tcp6``
    (addresses there are hexadecimal 32-bit words in the machine's byte order)."""
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = b"".join(struct.pack("=I", int(address[i:i + 8], 16))
                           for i in range(0, len(address), 8))
            found.add(socket.inet_ntop(family, raw))
    return found


def test_the_server_listens_on_this_machine_only_by_default(streamlit_server, page):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp (not Linux): cannot list listening sockets")
    assert not [a for a in streamlit_server.cmd if a.startswith("--server.address")]
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert _listeners(streamlit_server.port) == {"127.0.0.1"} == {config["server"]["address"]}
    # and it serves the app there
    page.goto(streamlit_server.url)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    assert_no_leak(page)


#: Generated actuals (not real figures) for the monitoring test.
GENERATED_ACTUALS = (b"indicator,year,value,kind\ntech_smes,2023,300,level\n"
                     b"tech_contract_turnover,2023,2,lower_bound\n")


def test_uploaded_actuals_add_the_progress_column_and_stay_out_of_the_link(server, page):
    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    link_before = page.url
    assert shown(monitoring.actuals_private_note("zh")) in shown(
        page.locator("[data-testid='stSidebar']").inner_text())
    page.locator(".st-key-w_actuals input[type='file']").set_input_files(
        files=[{"name": "generated.csv", "mimeType": "text/csv", "buffer": GENERATED_ACTUALS}])
    page.wait_for_selector(f"{SCORECARD} th.progress", timeout=WAIT_MS)
    header = page.locator(f"{SCORECARD} th.progress")
    assert header.inner_text().strip() == i18n.ui("col_progress", "zh")
    assert header.get_attribute("title") == i18n.ui("progress_help", "zh")  # the column's help
    row = page.locator(f"{SCORECARD} tr[data-key='tech_smes@2025']")
    # (300 − 103) / (500 − 103) = 49.6 %, three years of five
    assert row.locator("td.actual").inner_text() == "300 (2023)"
    assert row.locator("td.progress").inner_text() == "49.6%"
    row = page.locator(f"{SCORECARD} tr[data-key='tech_contract_turnover@2025']")
    assert row.locator("td.progress").inner_text() == "≥ 162.5%"  # (2 − 0.7) / (1.5 − 0.7)
    assert page.url == link_before and "tech_smes" not in page.url
    assert_no_leak(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-actuals-progress.png"), full_page=True)


# --------------------------------------------------------------------------------------------
# Meeting mode on a projector, a phone, one language (issue 14, items 5, 7 and 10)

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
MEETING_CARD = ".st-key-scorecard table.gy-card.large"
CHARTS = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg.marks"
#: Five levers for the presenter link (the most a link may keep on the page).
FIVE_LEVERS = ("sme_campaign", "tech_loans", "hte_reward", "fiscal_st_growth",
               "talent_introduction")


def boxes(page, selector: str) -> list[dict]:
    """Bounding boxes (viewport coordinates) of every element matching ``selector``."""
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        const r = e.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
    })""")


def assert_inside(box: dict, viewport: dict, what: str) -> None:
    assert box["top"] >= 0 and box["left"] >= 0, (what, box)
    assert box["bottom"] <= viewport["height"] and box["right"] <= viewport["width"], (what, box)


@pytest.mark.parametrize("levers", [(), FIVE_LEVERS], ids=["scorecard", "five-levers"])
def test_meeting_mode_fits_a_projector(server, page, levers):
    page.set_viewport_size(PROJECTOR)
    query = "?view=meeting" + (f"&levers={','.join(levers)}" if levers else "")
    page.goto(f"{server}/{query}")
    page.wait_for_selector(MEETING_CARD, timeout=WAIT_MS)
    page.wait_for_selector(CHARTS, timeout=WAIT_MS)
    page.wait_for_timeout(500)  # fonts and the last layout pass
    rows = boxes(page, f"{MEETING_CARD} tbody tr")
    assert len(rows) == len(tables.targets())
    for tgt, box in zip(tables.targets(), rows):  # every row on the screen, no scrolling
        assert_inside(box, PROJECTOR, tgt.key)
    assert_inside(boxes(page, f"{MEETING_CARD} thead")[0], PROJECTOR, "header")
    assert_inside(boxes(page, "h1")[0], PROJECTOR, "title")
    sliders = boxes(page, ".st-key-meeting_levers [data-testid='stSlider']")
    assert len(sliders) == len(levers)  # on the main page: no sidebar needed
    for lever, box in zip(levers, sliders):
        assert_inside(box, PROJECTOR, lever)
    # the key charts across the page's whole width
    chart = boxes(page, ".st-key-meeting_charts [data-testid='stVegaLiteChart'] svg.marks, "
                        ".st-key-meeting_charts [data-testid='stVegaLiteChart'] canvas")[0]
    area = boxes(page, ".st-key-meeting_charts")[0]
    assert area["right"] - area["left"] >= 0.9 * PROJECTOR["width"]
    assert chart["right"] - chart["left"] >= 0.98 * (area["right"] - area["left"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-meeting-1280x720-{len(levers)}-levers.png"))


def test_moving_a_large_slider_on_the_meeting_page(server, page):
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{server}/?view=meeting&levers=sme_campaign")
    page.wait_for_selector(MEETING_CARD, timeout=WAIT_MS)
    before = page.locator(f"{MEETING_CARD} tbody tr").all_inner_texts()
    thumb = slider_thumb(page, "meet_sme_campaign")  # the main page's, not the sidebar's
    thumb.focus()
    thumb.press("End")
    page.wait_for_function("() => window.location.search.includes('sme_campaign=')",
                           timeout=WAIT_MS)
    assert f"sme_campaign={i18n.plain_number(tables.lever('sme_campaign').max)}" in page.url
    page.wait_for_function(
        """([sel, old]) => Array.from(document.querySelectorAll(sel + ' tbody tr'))
                               .map(r => r.innerText).join('\\n') !== old""",
        arg=[MEETING_CARD, "\n".join(before)], timeout=WAIT_MS)
    assert page.locator("[data-testid='stSidebar'][aria-expanded='true']").count() == 0


def test_switching_meeting_mode_on_while_scrolled_shows_the_title(server, page):
    page.set_viewport_size(PROJECTOR)
    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.mouse.move(800, 400)
    page.mouse.wheel(0, 600)
    page.wait_for_function(
        "() => document.querySelector('h1').getBoundingClientRect().bottom < 0", timeout=WAIT_MS)
    page.locator(".st-key-w_meeting label").click()
    page.wait_for_selector(MEETING_CARD, timeout=WAIT_MS)
    page.wait_for_timeout(1200)  # the scroll runs again after the redraw
    title = boxes(page, "h1")[0]
    assert_inside(title, PROJECTOR, "title")
    assert shown(page.locator("h1").inner_text()) == shown(i18n.ui("app_title", "zh"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-meeting-switched-on-while-scrolled.png"))


def test_the_scorecard_fits_a_phone(server, page):
    page.set_viewport_size(PHONE)
    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.wait_for_timeout(500)
    # the sidebar does not cover the page on load
    sidebar = boxes(page, "[data-testid='stSidebar']")
    assert not sidebar or sidebar[0]["right"] - sidebar[0]["left"] <= 1 or sidebar[0]["right"] <= 0
    card = boxes(page, SCORECARD)[0]
    assert card["left"] >= 0 and card["right"] <= PHONE["width"]
    for box in boxes(page, f"{SCORECARD} td"):
        assert box["right"] <= PHONE["width"], box
    # nothing on the page scrolls sideways
    widths = page.evaluate("""() => [document.documentElement.scrollWidth,
        document.querySelector("[data-testid='stMain']").scrollWidth]""")
    assert max(widths) <= PHONE["width"], widths
    page.locator(".st-key-scorecard").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-phone-390x844.png"))


#: Streamlit's own English words around a file uploader (Streamlit 1.67).
UPLOADER_ENGLISH = ("Drag and drop", "Browse files", "Upload", "Limit", "per file", "MB per",
                    "File must be", "Error:", "Press Enter")


def visible_english(page, selector: str) -> list[str]:
    """Which of :data:`UPLOADER_ENGLISH` the visible text (``innerText``: hidden text left out)
    of the elements ``selector`` holds."""
    text = " ".join(page.locator(selector).all_inner_texts())
    return [word for word in UPLOADER_ENGLISH if word in text]


@pytest.mark.parametrize("lang", ["zh", "en"], ids=["zh", "en"])
def test_the_uploader_speaks_the_pages_language(server, page, lang):
    page.goto(f"{server}/{'' if lang == 'zh' else '?lang=en'}")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    uploaders = ".st-key-w_upload, .st-key-w_actuals"
    for key in ("w_upload", "w_actuals"):  # both drawn before their words are read
        page.wait_for_selector(f".st-key-{key} [data-testid='stFileUploaderDropzoneInstructions']",
                               state="attached", timeout=WAIT_MS)
        page.wait_for_selector(f".st-key-{key} [data-testid='stFileUploaderDropzone'] button",
                               timeout=WAIT_MS)
    if lang == "en":  # the check can see Streamlit's words where they are meant to be
        assert "Upload" in visible_english(page, uploaders)
        return
    assert visible_english(page, uploaders) == []
    drawn = page.eval_on_selector_all(
        ".st-key-w_upload [data-testid='stFileUploaderDropzone'] button p, "
        ".st-key-w_upload [data-testid='stFileUploaderDropzoneInstructions'] > div",
        "els => els.map(e => getComputedStyle(e, '::after').content)")
    assert drawn == [f'"{i18n.ui("st_browse", "zh")}"',
                     f'"{i18n.ui("st_limit", "zh", limit="1 MB", types="YAML, YML")}"']
    # a file over Streamlit's own limit: its refusal, on the chip and in the tooltip, in Chinese
    upload(page, "huge.yaml", b"#" * 2_100_000)
    chip = page.locator(".st-key-w_upload [data-testid='stFileChip']")
    chip.wait_for(timeout=WAIT_MS)
    chip.hover()
    page.wait_for_selector("[data-testid='stTooltipErrorContent']", state="attached",
                           timeout=WAIT_MS)  # its English text hidden, its Chinese drawn
    assert visible_english(page, f"{uploaders}, [data-testid='stTooltipErrorContent']") == []
    too_big = page.eval_on_selector(
        "[data-testid='stTooltipErrorContent']", "e => getComputedStyle(e, '::after').content")
    assert too_big == f'"{i18n.ui("st_too_big", "zh", limit="2 MB")}"'
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-uploader-zh.png"))


# --------------------------------------------------------------------------------------------
# What to move, the model's map and the one-page brief (issue 14, items 1, 2 and 4)

PLAN = scenario.load(REPO / "scenarios" / "plan.yaml")  # the page's first scenario
OPEN_TAB = "[role='tabpanel']:not([hidden])"
MAP_CHART = f"{OPEN_TAB} [data-testid='stVegaLiteChart'] svg"
MAP_RECTS = f"{MAP_CHART} g.mark-rect path"  # the boxes of the map (data order)
TOOLTIP = "#vg-tooltip-element.visible"     # Vega's tooltip, as Streamlit's charts show it


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` (its visible text) in the selectbox of widget ``key``.

    The list is opened again if a rerun of the page (the link being written, say) closed it
    before the option could be clicked; three tries at most."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):
        page.locator(f".st-key-{key} button[aria-haspopup='listbox']").click()
        try:
            wanted.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    page.wait_for_function(
        """([sel, want]) => { const e = document.querySelector(sel);
                              return e !== null && e.value === want; }""",
        arg=[f".st-key-{key} input[role='combobox']", option], timeout=WAIT_MS)


def row_cells(page, key: str) -> list[str]:
    """The cells of the scorecard row of target ``key`` as shown."""
    cells = page.locator(f"{SCORECARD} tr[data-key='{key}'] td").all_inner_texts()
    return [shown(t) for t in cells]


def test_drivers_panel_ranks_levers_and_applies_a_move(server, page, model):
    from simulator.analysis import drivers
    from simulator.app import analyses, scorecards
    from simulator.plan import goals

    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    assert shown(i18n.ui("drivers", "zh")) in shown(page.locator(OPEN_TAB).inner_text())
    assert page.locator("[class*='st-key-w_drive_']").count() == 0  # closed: not computed
    toggle_expander(page, "w_drivers")
    page.wait_for_selector("[class*='st-key-w_drive_']", timeout=WAIT_MS)  # the panel drawn
    key = "high_tech_enterprises@2025"
    target = analyses.target_by_key(key)
    choose(page, "w_driver_target", analyses.target_label(key, "zh"))
    # the levers that help, largest effect first, as a separate computation ranks them
    helpful = analyses.helpful_drivers(drivers.lever_effects(PLAN, target))
    expected = list(helpful["lever"])
    assert expected
    page.wait_for_function(
        """want => Array.from(document.querySelectorAll("[class*='st-key-w_drive_']"))
                       .map(e => Array.from(e.classList).find(c => c.startsWith('st-key-w_drive_'))
                                     .slice('st-key-w_drive_'.length)).join(',') === want""",
        arg=",".join(expected), timeout=WAIT_MS)
    panel = shown(page.locator(OPEN_TAB).inner_text())
    at = -1
    for row in helpful.to_dict("records"):  # each sentence: lever, move, indicator, signed size
        sentence = shown(analyses.driver_sentence(row, target, "zh"))
        assert sentence in panel and panel.index(sentence) > at, sentence
        at = panel.index(sentence)
        button = page.locator(f".st-key-w_drive_{row['lever']} button")
        label = i18n.ui("drivers_apply", "zh", lever=i18n.label(tables.lever(row["lever"]), "zh"))
        assert shown(button.inner_text()) == shown(label)

    # the button of the most effective helpful lever whose sidebar group is closed (not the
    # first group) moves that lever: its group opens, its slider shows the move; the link and
    # the scorecard follow
    groups = {lev.id: n for n, g in enumerate(i18n.action_groups()) for lev in g.levers}
    first = next(row for row in helpful.to_dict("records") if groups[row["lever"]] != 0)
    lever, after = first["lever"], tuple(first["after"])
    assert slider_thumb(page, lever).count() == 0
    before_rows = scorecard_rows(page)
    before_row = row_cells(page, key)
    page.locator(f".st-key-w_drive_{lever} button").click()
    # the sidebar slider shows the new value (its thumb's label, in the slider's own format;
    # the range input's DOM value is snapped by the browser to the slider's step)
    lev = tables.lever(lever)
    page.wait_for_function(
        """([sel, want]) => { const e = document.querySelector(sel);
                              return e !== null && e.innerText.trim() === want; }""",
        arg=[f".st-key-w_{lever} [data-testid='stSliderThumbValue']",
             i18n.slider_format(lev, after) % after[0]], timeout=WAIT_MS)
    page.wait_for_function(
        """([sel, old]) => Array.from(document.querySelectorAll(sel + ' tbody tr'))
                               .map(r => r.innerText).join('\\n') !== old""",
        arg=[SCORECARD, "\n".join(before_rows)], timeout=WAIT_MS)
    page.wait_for_function(f"() => window.location.search.includes('{lever}=')", timeout=WAIT_MS)
    # the target's row shows the value of a separate run with the lever moved, highlighted
    card = goals.scorecard(model.run(PLAN.with_levers(**{lever: after})))
    disp = scorecards.scorecard_display(card, "zh").set_index("key")
    row = page.locator(f"{SCORECARD} tr[data-key='{key}']")
    assert shown(row.locator("td.val").inner_text()) == shown(disp.at[key, "value"])
    # (the row before the move showed the plan's own run: the move is what changed it; its
    # shown value may round to the same figure, the highlight follows the unrounded value)
    plan_disp = scorecards.scorecard_display(goals.scorecard(model.run(PLAN)), "zh").set_index("key")
    assert before_row[4] == shown(plan_disp.at[key, "value"])
    assert card.set_index("key").at[key, "value"] != goals.scorecard(model.run(PLAN)).set_index(
        "key").at[key, "value"]
    assert "changed" in (row.get_attribute("class") or "").split()
    assert_no_leak(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-drivers.png"), full_page=True)


def tooltip_rows(page) -> dict[str, str]:
    """The rows of the visible Vega tooltip: key → value, as shown."""
    return dict(page.eval_on_selector_all(
        f"{TOOLTIP} tr", "rows => rows.map(r => [r.querySelector('td.key').innerText,"
                         " r.querySelector('td.value').innerText])"))


def test_model_map_renders_highlights_a_loop_and_shows_values_on_hover(server, page, model):
    from simulator.analysis import loops
    from simulator.app import modelmap

    struct, lay = modelmap.model_map()
    sector = modelmap.default_sector(lay)
    nodes, _ = modelmap.map_frames(struct, lay, "zh", sector=sector)
    drawn = nodes[~nodes["shape"].isin(["valve", "cloud"])].reset_index(drop=True)

    page.goto(server)
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.get_by_role("tab", name=i18n.ui("tab_map", "zh")).click()
    page.wait_for_selector(MAP_RECTS, timeout=WAIT_MS)
    size = boxes(page, MAP_CHART)[0]
    assert size["right"] - size["left"] > 100 and size["bottom"] - size["top"] > 100, size
    assert page.locator(MAP_RECTS).count() == len(drawn)  # one box per variable of the sector

    # hovering a stock shows its name, kind and values: those of a separate run
    k = int(drawn.index[drawn["shape"] == "stock"][0])
    stock = drawn.loc[k]
    rect = page.locator(MAP_RECTS).nth(k)
    rect.scroll_into_view_if_needed()
    box = rect.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(TOOLTIP, timeout=WAIT_MS)
    tip = tooltip_rows(page)
    assert shown(tip[i18n.ui("map_tt_name", "zh")]) == shown(stock["label"])
    assert tip[i18n.ui("map_tt_kind", "zh")] == i18n.ui("map_kind_stock", "zh")
    run = model.run_wide(PLAN, variables=[stock["name"]])
    for year in modelmap.MAP_YEARS:  # d3's ",.4~g": four significant digits
        value = float(tip[str(year)].replace(",", "").replace("\u2212", "-"))
        assert value == pytest.approx(float(run.at[year, stock["name"]]), rel=1e-3), year
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-map-hover.png"))
    page.mouse.move(5, 5)

    # a loop with variables in this sector: its boxes turn gold, the caption names it
    fill = modelmap.HIGHLIGHT_FILL.lower()
    gold = f"{MAP_RECTS}[fill='{fill}']"
    assert page.locator(gold).count() == 0
    loop = hi = None
    for loop in loops.load():
        lit, _ = modelmap.map_frames(struct, lay, "zh", sector=sector, loop=loop)
        hi = int((lit["highlight"] & ~lit["shape"].isin(["valve", "cloud"])).sum())
        if hi:
            break
    assert hi, "no named loop passes through the first sector"
    before = page.locator(MAP_CHART).inner_html()
    choose(page, "w_map_loop", f"{loop.id} {loop.name_zh}")
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n",
                           arg=[gold, hi], timeout=WAIT_MS)
    assert page.locator(MAP_CHART).inner_html() != before
    name = f"{loop.id} {loop.name_zh}"
    caption = i18n.ui("map_loop_in", "zh", loop=name,
                      sectors="、".join(modelmap.loop_sectors(struct, lay, loop, "zh")))
    assert shown(caption) in shown(page.locator(OPEN_TAB).inner_text())
    assert_no_leak(page)
    page.screenshot(path=str(ARTIFACTS / "e2e-map-loop.png"))


def test_brief_pdf_download_has_the_pages_scorecard_and_scenario(server, page, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from simulator.app import exports

    if exports.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian package fonts-noto-cjk): the brief is English")
    page.goto(f"{server}/?preset=ambitious&tech_loans=2.5")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    # the numbers as the page shows them: target, simulated value and margin of every row
    head = [shown(t) for t in page.locator(f"{SCORECARD} thead th").all_inner_texts()]
    columns = [head.index(i18n.ui(c, "zh")) for c in ("col_target", "col_value", "col_margin")]
    rows = page.locator(f"{SCORECARD} tbody tr")
    numbers = [shown(rows.nth(r).locator("td").nth(c).inner_text())
               for r in range(rows.count()) for c in columns]
    assert len(numbers) == 3 * len(tables.targets()) and all(numbers)
    title = shown(page.locator("[data-testid='stMain'] h4").first.inner_text())
    prefix = f"{i18n.ui('current', 'zh')} · "
    assert title.startswith(prefix)

    page.get_by_role("tab", name=i18n.ui("tab_export", "zh")).click()
    button = page.locator(".st-key-w_dl_brief_pdf button")
    button.wait_for(timeout=WAIT_MS)
    assert shown(button.inner_text()) == shown(i18n.ui("export_brief_pdf", "zh"))
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    name = info.value.suggested_filename
    assert name.endswith("-brief.pdf")
    path = tmp_path / name
    info.value.save_as(path)
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 1
    text = re.sub(r"\s+", "", reader.pages[0].extract_text())  # wrapped lines compare equal
    missing = [n for n in numbers if re.sub(r"\s+", "", n) not in text]
    assert not missing
    # the scenario: its title as the page shows it, and its name (the file's)
    assert re.sub(r"\s+", "", title[len(prefix):]) in text
    assert name.removesuffix("-brief.pdf") in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-brief-export.png"))


# --------------------------------------------------------------------------------------------
# The toolbars of tables and charts speak the page's language (issue 14, item 7)

#: The sensitivity tab's table and chart, each in the frame that holds its toolbar
#: (Streamlit 1.67 gives them no st-key class).
TOOLBAR_ELEMENTS = tuple(f"{OPEN_TAB} [data-testid='stFullScreenFrame']:has([data-testid='{e}'])"
                         for e in ("stDataFrame", "stVegaLiteChart"))


def hover_for_tooltip(page, element, button, tooltip, tries: int = 3) -> None:
    """Hover ``button`` of ``element``'s toolbar until its tooltip is drawn (after a second's
    hover; a hover that lands while the toolbar is still fading in opens none: moved away and
    tried again, at most ``tries`` times). On the Chinese page its own text is hidden: wait
    for it attached, not visible."""
    for attempt in range(tries):
        element.hover()
        button.wait_for(timeout=WAIT_MS)
        button.hover()
        try:
            tooltip.wait_for(state="attached", timeout=10_000)
            return
        except Exception:  # Playwright's TimeoutError
            if attempt == tries - 1:
                raise
            page.mouse.move(0, 0)


@pytest.mark.parametrize("lang", ["zh", "en"], ids=["zh", "en"])
def test_the_toolbar_tooltips_speak_the_pages_language(server, page, lang):
    """Hovering a table's and a chart's toolbar buttons (Streamlit 1.67: Show/hide columns,
    Download as CSV, Search, Fullscreen; Show data, Download as PNG, Copy Vega-Lite spec)
    shows their tooltip in the page's language: on the Chinese page the English text is
    hidden and the Chinese drawn in its place (``i18n.streamlit_words_css``); the English page
    keeps Streamlit's words (so the check can see them). A button an upgrade adds or renames
    fails the test until it has its words."""
    page.goto(f"{server}/{'' if lang == 'zh' else '?lang=en'}")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.get_by_role("tab", name=i18n.ui("tab_sensitivity", lang)).click()
    tooltip = page.locator("[data-testid='stTooltipContent']")
    seen = []
    for selector in TOOLBAR_ELEMENTS:
        element = page.locator(selector).first
        element.wait_for(timeout=WAIT_MS)
        element.hover()
        buttons = page.locator(f"{selector} [data-testid='stElementToolbarButton'] button")
        buttons.first.wait_for(timeout=WAIT_MS)
        labels = [b.get_attribute("aria-label") or "" for b in buttons.all()]
        names = [next((e for e in i18n.TOOLBAR_TOOLTIPS if a.startswith(e)), a) for a in labels]
        assert set(names) <= set(i18n.TOOLBAR_TOOLTIPS), labels
        for n, english in enumerate(names):
            hover_for_tooltip(page, element, buttons.nth(n), tooltip)
            visible = tooltip.inner_text()
            drawn = tooltip.evaluate("e => getComputedStyle(e, '::after').content")
            if lang == "en":
                assert english in visible and drawn in ("none", "normal", ""), (english, drawn)
            else:
                assert english not in visible, visible
                assert drawn == f'"{i18n.ui(i18n.TOOLBAR_TOOLTIPS[english], "zh")}"', english
            if lang == "zh" and english == "Download as CSV":
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "e2e-table-toolbar-zh.png"))
            page.mouse.move(0, 0)
            tooltip.wait_for(state="detached", timeout=WAIT_MS)
            seen.append(english)
    assert {"Download as CSV", "Search", "Fullscreen", "Show data", "Download as PNG"} <= set(seen)


#: The text of a table's column menu as shown, without its icons (Material Symbols ligatures:
#: "arrow_upward" is a glyph, not a word).
MENU_TEXT_JS = """menu => {
    const out = [];
    const walk = document.createTreeWalker(menu, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const t = n.nodeValue.trim();
        if (t && !n.parentElement.closest('[data-testid="stIconMaterial"]')) { out.push(t); }
    }
    return out;
}"""


def open_column_menu(page, grid) -> object:
    """Open a column menu of the table ``grid`` (the ⋮ of a header cell, drawn on the grid's
    canvas at the cell's right end: found by clicking along the header from the left; a click
    elsewhere on the header sorts, which is harmless here)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    menu = page.locator("[data-testid='stDataFrameColumnMenu']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    y = box["y"] + 17
    for dx in range(30, int(box["width"]) - 4, 6):
        page.mouse.move(box["x"] + dx, y)
        page.mouse.click(box["x"] + dx, y)
        try:
            menu.wait_for(timeout=150)
            return menu
        except PlaywrightTimeout:
            continue
    raise AssertionError("no column menu opened along the table's header")


@pytest.mark.parametrize("lang", ["zh", "en"], ids=["zh", "en"])
def test_a_tables_column_menu_speaks_the_pages_language(server, page, lang):
    """A table's column menu (⋮ on a header: sort, statistics, autosize, pin, hide) and its
    statistics submenu show the page's words: on the Chinese page ``i18n.streamlit_menu_js``
    replaces Streamlit 1.67's English in them, and any English word it does not know (an
    upgrade that adds or renames an item) fails the test; the English page keeps Streamlit's."""
    page.goto(f"{server}/{'' if lang == 'zh' else '?lang=en'}")
    page.wait_for_selector(SCORECARD, timeout=WAIT_MS)
    page.locator(".st-key-w_drivers summary").click()
    grid = page.locator(f"{OPEN_TAB} [data-testid='stDataFrame']").first
    grid.wait_for(timeout=WAIT_MS)
    menu = open_column_menu(page, grid)
    shown_texts = menu.evaluate(MENU_TEXT_JS)
    menu.get_by_text(i18n.COLUMN_MENU_ZH["Statistics"] if lang == "zh" else "Statistics").hover()
    stats = page.locator("[data-testid='stDataFrameStatisticsMenu'], "
                         "[data-testid='stDataFrameStatisticsContent']").first
    stats.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(300)  # the submenu's rows
    shown_texts += stats.evaluate(MENU_TEXT_JS)
    columns = {i18n.ui(k, lang) for k in ("drivers_lever", "drivers_move", "drivers_effect",
                                          "drivers_direction", "drivers_cost")}
    words = [t for t in shown_texts if t not in columns]  # the column's own name, in the page's
    if lang == "zh":
        assert "升序排列" in words and "统计" in words, words
        english = [t for t in words if re.search(r"[A-Za-z]{2,}", t)]
        assert english == [], english
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e-column-menu-zh.png"))
    else:
        assert "Sort ascending" in words and "Statistics" in words, words
        assert not [t for t in words if re.search(r"[\u4e00-\u9fff]", t)], words
    page.keyboard.press("Escape")
