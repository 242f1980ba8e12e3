"""Tests of the one-page brief (simulator/app/brief.py): its PDF read back with pypdf, its Word
file read back with python-docx, and its two download buttons in the app (AppTest).

Simulated values are never written here: what the brief must print comes from ``Model().run``
of the same settings, formatted as the page formats them (``scorecard_display``,
``budget_frame``). Nothing is timed (``benchmarks/brief.py`` measures the build).
"""
from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

import pytest

from simulator.analysis import budget
from simulator.app import analyses, brief, exports, i18n, session
from simulator.app.scorecards import scorecard_display
from simulator.plan import goals, scenario, tables

pypdf = pytest.importorskip("pypdf")
docx = pytest.importorskip("docx")

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
DAY = datetime.date(2026, 3, 7)
A4_POINTS = (595.28, 841.89)
#: A page size read back may differ from A4 by matplotlib's rounding of inches to points.
PAGE_TOLERANCE_PT = 1.0

needs_cjk = pytest.mark.skipif(exports.cjk_font() is None,
                               reason="no CJK font installed (Debian package fonts-noto-cjk)")


@pytest.fixture(scope="module")
def presets():
    return session.load_presets()


def _every_setting_moved() -> scenario.Scenario:
    """Every lever at its maximum in one period and its minimum in another, every assumption
    at its maximum: the longest settings table the brief can have."""
    base = scenario.default("all-moved")
    levers = {lev.id: (lev.max, lev.min, lev.max) for lev in tables.levers()}
    assumptions = {a.id: a.max for a in tables.assumptions()}
    return base.with_levers(**levers).with_assumptions(**assumptions)


@pytest.fixture(scope="module")
def inputs(model, presets):
    """(scenario, results, card, budget, reference, reference results) by case name."""
    cases = {"plan": presets["plan"], "ambitious": presets["ambitious"],
             "all-moved": _every_setting_moved(), "defaults": scenario.default("defaults")}
    ref = presets["baseline"]
    ref_results = model.run(ref)
    out = {}
    for name, scn in cases.items():
        results = model.run(scn)
        out[name] = (scn, results, goals.scorecard(results), budget.of_scenario(scn, model),
                     ref, ref_results)
    return out


def _args(case):
    scn, results, card, periods, ref, ref_results = case
    return (scn, results, card, periods), {"reference": ref, "ref_results": ref_results,
                                           "today": DAY}


def _squash(text: str) -> str:
    """Text without whitespace: a wrapped paragraph compares equal to its one-line source."""
    return re.sub(r"\s+", "", text)


def _expected_strings(case, lang: str) -> list[str]:
    """What the brief must print: the scorecard's targets, values and margins as the page
    formats them, the budget table, the scenario, the date and the caveat."""
    scn, _results, card, periods, _ref, _ref_results = case
    disp = scorecard_display(card, lang)
    bud = analyses.budget_frame(periods, lang)
    return [*disp["value"], *disp["target"], *disp["margin"],
            *(str(v) for v in bud.to_numpy().ravel()), exports.scenario_title(scn, lang),
            brief.format_date(DAY, lang), i18n.ui("brief_caveat", lang)]


# --------------------------------------------------------------------------------------------
# PDF

PDF_CASES = [("plan", "zh"), ("ambitious", "en"), ("all-moved", "zh"), ("all-moved", "en"),
             ("defaults", "zh")]


@pytest.fixture(scope="module")
def pdfs(inputs):
    if exports.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian package fonts-noto-cjk)")
    out = {}
    for name, lang in PDF_CASES:
        args, kwargs = _args(inputs[name])
        out[name, lang] = pypdf.PdfReader(io.BytesIO(brief.brief_pdf(*args, lang, **kwargs)))
    return out


@pytest.mark.parametrize("case", PDF_CASES, ids=[f"{n}-{lang}" for n, lang in PDF_CASES])
def test_pdf_is_one_a4_page(pdfs, case):
    reader = pdfs[case]
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(A4_POINTS[0], abs=PAGE_TOLERANCE_PT)
    assert float(box.height) == pytest.approx(A4_POINTS[1], abs=PAGE_TOLERANCE_PT)


@pytest.mark.parametrize("case", PDF_CASES, ids=[f"{n}-{lang}" for n, lang in PDF_CASES])
def test_pdf_text_has_the_scorecard_budget_scenario_date_and_caveat(pdfs, inputs, case):
    text = _squash(pdfs[case].pages[0].extract_text())
    name, lang = case
    missing = [s for s in _expected_strings(inputs[name], lang) if _squash(s) not in text]
    assert not missing
    assert _squash(i18n.ui("brief_title", lang)) in text


@pytest.mark.parametrize("case", PDF_CASES, ids=[f"{n}-{lang}" for n, lang in PDF_CASES])
def test_pdf_lists_the_settings_away_from_2020(pdfs, inputs, case):
    """Every moved lever and assumption by name (names may wrap), and no unmoved one."""
    name, lang = case
    text = _squash(pdfs[case].pages[0].extract_text())
    scn = inputs[name][0]
    moved = {item.id for item, _ in exports.changed_settings(scn)}
    for item in [*tables.levers(), *tables.assumptions()]:
        shown = _squash(f"{i18n.label(item, lang)} ({i18n.unit(item, lang)})") in text
        assert shown == (item.id in moved), item.id
    if not moved:
        assert _squash(i18n.ui("brief_settings_none", lang)) in text


@pytest.mark.parametrize("case", PDF_CASES, ids=[f"{n}-{lang}" for n, lang in PDF_CASES])
def test_pdf_text_stays_on_the_page(pdfs, case):
    """Nothing is drawn below or beside the page (a layout that overflows would be cut off)."""
    page = pdfs[case].pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    outside = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if not (0 <= x <= width and 0 <= y <= height):
                outside.append((round(x), round(y), text))

    page.extract_text(visitor_text=visit)
    assert not outside


@pytest.mark.parametrize("case", PDF_CASES, ids=[f"{n}-{lang}" for n, lang in PDF_CASES])
def test_pdf_fonts_are_embedded_subsets(pdfs, case):
    fonts = pdfs[case].pages[0]["/Resources"]["/Font"]
    names = []
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0"  # TrueType (Type 42) CID fonts, not Type 3
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
        assert re.fullmatch(r"/[A-Z]{6}\+.+", str(font["/BaseFont"])), font["/BaseFont"]
        assert "/ToUnicode" in font  # text can be searched and copied
        names.append(str(font["/BaseFont"]))
    if case[1] == "zh":
        assert any("CJK" in n for n in names), names


def test_pdf_without_a_cjk_font_is_english_and_says_so(inputs, monkeypatch):
    monkeypatch.setattr(exports, "cjk_font", lambda: None)
    args, kwargs = _args(inputs["plan"])
    reader = pypdf.PdfReader(io.BytesIO(brief.brief_pdf(*args, "zh", **kwargs)))
    text = _squash(reader.pages[0].extract_text())
    assert _squash(i18n.ui("no_cjk_font", "en")) in text
    missing = [s for s in _expected_strings(inputs["plan"], "en") if _squash(s) not in text]
    assert not missing


@needs_cjk
def test_a_title_with_dollar_signs_is_printed_as_text(inputs):
    """matplotlib would read ``$…$`` as mathtext (or fail on an odd count): an uploaded
    title is text."""
    scn, *rest = inputs["plan"]
    odd = scenario.from_dict({**scn.to_dict(), "title_zh": "成本 $5 与 $x^2$ 方案"},
                             source="upload.yaml")
    args, kwargs = _args((odd, *rest))
    reader = pypdf.PdfReader(io.BytesIO(brief.brief_pdf(*args, "zh", **kwargs)))
    assert _squash("成本 $5 与 $x^2$ 方案") in _squash(reader.pages[0].extract_text())


# --------------------------------------------------------------------------------------------
# Word

def _docx_text(data: bytes) -> tuple[str, object]:
    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts), doc


DOCX_CASES = [("plan", "zh"), ("ambitious", "en"), ("defaults", "en")]


@pytest.mark.parametrize("case", DOCX_CASES, ids=[f"{n}-{lang}" for n, lang in DOCX_CASES])
def test_docx_has_the_same_content(inputs, case):
    name, lang = case
    args, kwargs = _args(inputs[name])
    text, doc = _docx_text(brief.brief_docx(*args, lang, **kwargs))
    squashed = _squash(text)
    missing = [s for s in _expected_strings(inputs[name], lang) if _squash(s) not in squashed]
    assert not missing
    content = brief.build(args[0], args[2], args[3], lang, reference=kwargs["reference"],
                          today=DAY)
    for row in content.settings:  # the settings table, cell by cell
        for cell in row:
            assert cell in text
    if not content.settings:
        assert i18n.ui("brief_settings_none", lang) in text
    assert len(doc.inline_shapes) == 1  # the key charts
    section = doc.sections[0]
    assert section.page_width.cm == pytest.approx(21.0, abs=0.01)
    assert section.page_height.cm == pytest.approx(29.7, abs=0.01)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [content.title, i18n.ui("brief_scorecard", lang),
                        i18n.ui("brief_settings", lang), i18n.ui("brief_charts", lang),
                        i18n.ui("brief_budget", lang), i18n.ui("brief_caveat_title", lang)]


def test_settings_rows_hold_every_period_and_the_2020_level(presets):
    scn = presets["ambitious"]
    rows = {r[0]: r[1:] for r in brief.settings_rows(scn, "en")}
    lev = tables.lever("hte_reward")
    values = scn.levers["hte_reward"]
    assert rows[f"{lev.name_en} ({lev.unit_en})"] == (
        *(i18n.plain_number(v) for v in values), i18n.plain_number(lev.default))


# --------------------------------------------------------------------------------------------
# The app's two buttons

def test_app_offers_both_briefs_and_their_data_builds(model, presets, monkeypatch):
    """The buttons are deferred downloads: their callables (caught as Streamlit registers
    them) build the PDF and the Word file of the page's settings."""
    from streamlit.runtime import media_file_manager
    from streamlit.testing.v1 import AppTest

    registered = {}
    original = media_file_manager.MediaFileManager.add_deferred

    def record(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        registered[file_id] = data_callable
        return file_id

    monkeypatch.setattr(media_file_manager.MediaFileManager, "add_deferred", record)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.session_state["w_tab"] = i18n.ui("tab_export", "zh")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = {b.proto.id.rsplit("-", 1)[-1]: b.proto for b in at.get("download_button")}
    pdf_button, docx_button = buttons["w_dl_brief_pdf"], buttons["w_dl_brief_docx"]
    assert pdf_button.label == i18n.ui("export_brief_pdf", "zh")
    assert docx_button.label == i18n.ui("export_brief_docx", "zh")

    scn = presets[session.DEFAULT_PRESET]
    card = goals.scorecard(model.run(scn))
    expected = scorecard_display(card, "zh")
    pdf = registered[pdf_button.deferred_file_id]()
    assert pdf.startswith(b"%PDF")
    if exports.cjk_font() is not None:
        text = _squash(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
        assert all(_squash(v) in text for v in expected["value"])
        assert _squash(exports.scenario_title(scn, "zh")) in text
    text, _doc = _docx_text(registered[docx_button.deferred_file_id]())
    assert all(v in text for v in expected["value"])
    assert exports.scenario_title(scn, "zh") in text
