"""Meeting mode for projectors and one language on the page (issue 14, items 5, 7 and 10).

The presenter link (``view=meeting`` or ``mode=meeting``, ``rows=``, ``levers=``) decoded
strictly and encoded back; the chosen levers drawn on the main page as sliders that move the
scenario; the chosen rows alone in the scorecard; the Chinese rendering of validation details
(every phrase in Chinese, every quoted value kept); Streamlit's own words drawn in the page's
language; the phone's labels and the meeting page's counts. What the page shows is compared
with ``Model().run`` of the same settings, never with numbers written here. The layout itself
(rows inside a 1280×720 screen, a 390 px phone) is measured in the browser test
(``tests/e2e/test_browser.py``).
"""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest
# start, rerun and the fixtures (the app's warm-up thread awaited after the module, the shipped
# presets) are tests/test_app.py's; ``model`` comes from tests/conftest.py
from test_app import presets, rerun, select_tab, start  # noqa: F401 (presets: a fixture)

from simulator.app import i18n, links, scorecards, session, untrusted
from simulator.plan import actuals, goals, scenario, tables

#: Wait for the app's background warm-up thread after this module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("warm_up_finished")

TARGET_KEYS = [t.key for t in tables.targets()]
LEVER_IDS = [lev.id for lev in tables.levers()]


def shown_card(at: AppTest) -> str:
    """The scorecard table the page shows (exactly one)."""
    (found,) = [m.value for m in at.markdown if 'class="gy-card' in m.value and "data-key=" in m.value]
    return found


def without_highlight(html_text: str) -> str:
    """The scorecard without the last move's highlight (tested in tests/test_app.py)."""
    text = re.sub(r'<tr class="([^"]*?) changed"', r'<tr class="\1"', html_text)
    return re.sub(r'(data-key="[^"]*") title="[^"]*">', r"\1>", text)


def row_keys(html_text: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-key="([^"]+)"', html_text)


# --------------------------------------------------------------------------------------------
# The presenter link: decoded strictly, encoded back

CHOSEN_ROWS = ("tech_smes@2025", "rd_intensity@2025", "rd_intensity@2035")
CHOSEN_LEVERS = ("tech_loans", "sme_campaign", "hte_reward")


def test_presenter_link_round_trip(presets):
    base = presets[session.DEFAULT_PRESET]
    query = links.encode_query(base.levers, base.assumptions, preset=session.DEFAULT_PRESET,
                               presets=presets, meeting=True, rows=CHOSEN_ROWS,
                               sliders=CHOSEN_LEVERS)
    # rows in the scorecard's order, levers in the chosen order, nothing else
    assert query == {"view": "meeting",
                     "rows": ",".join(k for k in TARGET_KEYS if k in CHOSEN_ROWS),
                     "levers": ",".join(CHOSEN_LEVERS)}
    state = links.decode_query(query, presets)
    assert state.errors == ()
    assert state.meeting and not state.advanced
    assert state.rows == tuple(k for k in TARGET_KEYS if k in CHOSEN_ROWS)
    assert state.sliders == CHOSEN_LEVERS
    assert links.encode_query(state.levers, state.assumptions, preset=state.preset,
                              presets=presets, meeting=state.meeting, rows=state.rows,
                              sliders=state.sliders) == query


def test_presenter_link_writes_only_what_is_chosen(presets):
    base = presets[session.DEFAULT_PRESET]
    kwargs = dict(preset=session.DEFAULT_PRESET, presets=presets)
    # every row chosen is the same as none: not written; outside meeting mode nothing is
    assert links.encode_query(base.levers, base.assumptions, meeting=True, rows=TARGET_KEYS,
                              **kwargs) == {"view": "meeting"}
    assert links.encode_query(base.levers, base.assumptions, meeting=False, rows=CHOSEN_ROWS,
                              sliders=CHOSEN_LEVERS, **kwargs) == {}


def test_mode_meeting_opens_meeting_mode(presets):
    state = links.decode_query({"mode": "meeting", "levers": "sme_campaign"}, presets)
    assert state.errors == () and state.meeting and state.sliders == ("sme_campaign",)


BAD_PRESENTER_LINKS = {
    "unknown row": ({"rows": "tech_smes@2025,nope@2025"}, "rows", "'nope@2025' is unknown"),
    "empty rows": ({"rows": ""}, "rows", "is empty"),
    "repeated row": ({"rows": "tech_smes@2025,tech_smes@2025"}, "rows", "is repeated"),
    "unknown lever": ({"levers": "sme_campaign,rocket"}, "levers", "'rocket' is unknown"),
    "six levers": ({"levers": ",".join(LEVER_IDS[:6])}, "levers", "has 6 items; at most 5"),
    "repeated lever": ({"levers": "sme_campaign,sme_campaign"}, "levers", "is repeated"),
    "bad mode": ({"mode": "presenter"}, "mode", "'presenter' is unknown"),
}


@pytest.mark.parametrize("case", list(BAD_PRESENTER_LINKS), ids=list(BAD_PRESENTER_LINKS))
def test_bad_presenter_values_are_reported_and_ignored_whole(presets, case):
    query, field, wording = BAD_PRESENTER_LINKS[case]
    state = links.decode_query({"view": "meeting", **query}, presets)
    (error,) = state.errors
    assert error.startswith(f"link: field '{field}': ") and wording in error
    # an invalid list is never partly applied
    assert state.rows == () and state.sliders == ()
    assert state.meeting  # the rest of the link applies


def test_the_presenter_link_opens_the_chosen_rows_and_levers(model, presets):
    at = start({"view": "meeting", "rows": ",".join(CHOSEN_ROWS),
                "levers": ",".join(CHOSEN_LEVERS)})
    assert not at.warning and not at.tabs
    # the chosen rows only, in the scorecard's order
    assert row_keys(shown_card(at)) == [k for k in TARGET_KEYS if k in CHOSEN_ROWS]
    # the chosen levers on the main page, in the chosen order, not only in the sidebar
    main = [s.key for s in at.main.slider]
    assert main == [f"w_meet_{lever}" for lever in CHOSEN_LEVERS]
    assert {f"w_{lever}" for lever in CHOSEN_LEVERS} <= {s.key for s in at.sidebar.slider}
    # the counts on one line still count every target
    card = goals.scorecard(model.run(presets[session.DEFAULT_PRESET]))
    counts = next(m.value for m in at.markdown if 'class="gy-counts"' in m.value)
    s = scorecards.summary(card)
    assert f'{s["met"]} / {s["total"]}</span>' in counts
    # the link holds the choice
    assert at.query_params["rows"] == ",".join(k for k in TARGET_KEYS if k in CHOSEN_ROWS)
    assert at.query_params["levers"] == ",".join(CHOSEN_LEVERS)


def test_a_large_slider_moves_the_lever_in_every_period(model, presets):
    at = start({"view": "meeting", "levers": "sme_campaign"})
    at.slider(key="w_meet_sme_campaign").set_value(14.0)
    rerun(at)
    assert at.session_state["_levers"]["sme_campaign"] == (14.0,) * len(tables.PERIODS)
    expected = goals.scorecard(model.run(presets[session.DEFAULT_PRESET].with_levers(
        sme_campaign=14.0)))
    assert without_highlight(shown_card(at)) == (
        scorecards.SCORECARD_CSS + scorecards.scorecard_html(expected, "zh", large=True)).strip()
    assert 'class="no changed"' in shown_card(at) or 'class="ok changed"' in shown_card(at)
    assert at.slider(key="w_sme_campaign").value == 14.0  # the sidebar follows
    assert at.query_params["sme_campaign"] == "14"


def test_bad_presenter_values_are_reported_on_the_page(presets):
    query = {"view": "meeting", "levers": "sme_campaign,rocket", "rows": "nope"}
    at = start(query)
    errors = links.decode_query(query, presets).errors
    assert len(errors) == 2
    (warning,) = [w.value for w in at.warning]
    assert warning == untrusted.link_errors_markdown([i18n.detail(e, "zh") for e in errors], "zh")
    assert not [s for s in at.main.slider]  # nothing guessed: no lever on the page
    assert len(row_keys(shown_card(at))) == len(TARGET_KEYS)
    assert "levers" not in at.query_params and "rows" not in at.query_params


def test_choosing_rows_and_levers_in_the_sidebar(presets):
    at = start({"view": "meeting"})
    at.multiselect(key="w_meeting_rows").set_value(list(CHOSEN_ROWS))
    at.multiselect(key="w_meeting_levers").set_value(list(CHOSEN_LEVERS))
    rerun(at)
    assert row_keys(shown_card(at)) == [k for k in TARGET_KEYS if k in CHOSEN_ROWS]
    assert [s.key for s in at.main.slider] == [f"w_meet_{lever}" for lever in CHOSEN_LEVERS]
    # a sixth lever is refused in words and the choice stays as it was
    at.multiselect(key="w_meeting_levers").set_value(LEVER_IDS[:6])
    rerun(at)
    assert i18n.ui("meeting_levers_too_many", "zh", n=links.MAX_MEETING_LEVERS) in [
        e.value for e in at.sidebar.error]
    assert at.session_state["_meeting_levers"] == list(CHOSEN_LEVERS)
    assert at.multiselect(key="w_meeting_levers").value == list(CHOSEN_LEVERS)


def test_meeting_mode_switched_on_scrolls_to_the_top_once():
    at = start()
    assert not [h for h in at.get("html") if "scrollTo" in str(h.proto)]
    at.toggle(key="w_meeting").set_value(True)
    rerun(at)
    assert len([h for h in at.get("html") if "scrollTo" in str(h.proto)]) == 1
    rerun(at)  # a move inside meeting mode does not jump to the top again
    assert not [h for h in at.get("html") if "scrollTo" in str(h.proto)]


# --------------------------------------------------------------------------------------------
# One language: validation details in Chinese, their detail kept

def _bad_uploads() -> dict[str, bytes]:
    return {
        "empty": b"",
        "not text": b"name: [1, 2]\n",
        "unknown field": b"foo: 1\nname: x\n",
        "no name": b"title_zh: x\n",
        "comma in name": b"name: 'a,b'\n",
        "unknown lever": b"name: x\nlevers:\n  nope: 1\n",
        "out of range": b"name: x\nlevers:\n  sme_campaign: 1000\n",
        "not a number": b"name: x\nlevers:\n  sme_campaign: abc\n",
        "two periods": b"name: x\nlevers:\n  sme_campaign: [1, 2]\n",
        "unknown period": b"name: x\nlevers:\n  sme_campaign: {2099: 1}\n",
        "unknown assumption": b"name: x\nassumptions:\n  nope: 1\n",
        "not a mapping": b"name: x\nlevers: 3\n",
        "bidi": "name: \"a\u202eb\"\n".encode(),
        "duplicate key": b"name: x\nname: y\n",
        "alias": b"name: &a x\ntitle_zh: *a\n",
        "leading zero": b"name: x\nlevers:\n  sme_campaign: 012\n",
        "hexadecimal": b"name: x\nlevers:\n  sme_campaign: 0x1f\n",
        "digit separators": b"name: x\nlevers:\n  sme_campaign: 1_000\n",
        "yes": b"name: x\nlevers:\n  sme_campaign: yes\n",
        "malformed": b"name: x: y\n",
        "not UTF-8": b"\xff\xfe",
        "top level list": b"[1, 2]\n",
        "tag": b"name: !!python/object x\n",
        "merge key": b"<<: {a: 1}\nname: x\n",
        "long title": b"name: x\ntitle_zh: " + b"x" * 300 + b"\n",
    }


def _bad_links() -> dict[str, dict[str, str]]:
    return {
        "preset": {"preset": "nope"}, "lang": {"lang": "fr"}, "view": {"view": "x"},
        "mode": {"mode": "x"}, "unknown": {"foo": "1"}, "not a number": {"sme_campaign": "abc"},
        "out of range": {"sme_campaign": "1000"}, "rows": {"rows": "nope"},
        "empty rows": {"rows": ""}, "repeated": {"levers": "sme_campaign,sme_campaign"},
        "six levers": {"levers": ",".join(LEVER_IDS[:6])},
        "too many": {f"k{i}": "1" for i in range(links.MAX_LINK_PARAMS + 1)},
    }


def validation_messages(presets) -> dict[str, str]:
    """One English message of every kind the page shows: uploads, link, the save-name box."""
    out = {}
    for case, data in _bad_uploads().items():
        scn, message = untrusted.read_upload(data, "bad.yaml", "en")
        assert scn is None, case
        out[f"upload: {case}"] = message
    for case, query in _bad_links().items():
        out[f"link: {case}"] = links.decode_query(query, presets).errors[0]
    with pytest.raises(scenario.ScenarioError) as exc:
        session.validate_label("")
    out["empty name"] = str(exc.value)
    for case, data in _bad_actuals().items():
        with pytest.raises(actuals.ActualsError) as exc:
            actuals.loads(data, source="bad.csv")
        out[f"actuals: {case}"] = str(exc.value)
    return out


def _bad_actuals() -> dict[str, bytes]:
    return {
        "missing column": b"indicator,year\n", "unknown column": b"indicator,year,value,foo\n",
        "no rows": b"indicator,year,value\n", "unknown indicator": b"indicator,year,value\nnope,2023,1\n",
        "early year": b"indicator,year,value\ntech_smes,1990,1\n",
        "not a number": b"indicator,year,value\ntech_smes,2023,abc\n",
        "unknown kind": b"indicator,year,value,kind\ntech_smes,2023,1,xx\n",
        "implausible": b"indicator,year,value\ntech_smes,2023,99999999\n",
        "short row": b"indicator,year,value\ntech_smes,2023\n",
        "repeated": b"indicator,year,value\ntech_smes,2023,300\ntech_smes,2023,301\n",
        "repeated column": b"indicator,indicator,value\n",
    }


#: Words that are not English prose: ids, field and file names, units and formats the
#: messages quote or list (the model's tables give the ids).
def _allowed_words() -> set[str]:
    ids = set(LEVER_IDS) | {a.id for a in tables.assumptions()} | {i.id for i in tables.indicators()}
    ids |= set(scenario.TOP_FIELDS) | set(links.RESERVED_QUERY_KEYS) | set(i18n.LANGS)
    ids |= {"baseline", "plan", "ambitious", "meeting", "simple", "advanced", "yaml", "bad",
            "link", "true", "false", "str", "YAML", "UTF", "level", "cagr", "csv", "note",
            "kind", "source", "year", "value", "indicator", "lower_bound", "upper_bound"}
    ids |= {w for i in tables.indicators() for w in re.findall(r"[A-Za-z]+", i.unit_en)}
    return ids


def english_left(text: str) -> list[str]:
    """English words of ``text`` outside what it quotes and outside ids."""
    bare = re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|\{[^}]*\}|U\+[0-9A-F]+ \([A-Z0-9 -]+\)", " ",
                  text)  # quoted, and a code point's Unicode name
    words = re.findall(r"[A-Za-z][A-Za-z_\-]*[A-Za-z]", bare)
    allowed = _allowed_words()
    return [w for w in words if w not in allowed and not re.fullmatch(r"[a-z_]+@\d{4}", w)
            and "_" not in w]


def test_every_validation_message_reads_in_chinese_with_its_detail_kept(presets):
    for case, message in validation_messages(presets).items():
        zh = i18n.detail(message, "zh")
        assert english_left(zh) == [], (case, message, zh)
        # the detail is kept: every quoted excerpt and every number of the English message
        for quoted in re.findall(r"'[^']*'", message):
            assert quoted in zh, (case, quoted, zh)
        for number in re.findall(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d(?![\w])", message):
            assert number in zh, (case, number, zh)
        assert i18n.detail(message, "en") == message


def test_english_left_finds_english():
    """The check above can fail: an English sentence is found."""
    assert english_left("bad.yaml：the number is wrong") == ["the", "number", "is", "wrong"]
    assert english_left(i18n.detail("link: field 'x': a strange new problem", "zh")) == [
        "strange", "new", "problem"]


def test_the_empty_name_error_is_chinese_on_the_chinese_page():
    at = select_tab(start(), "compare")
    at.text_input(key="w_save_name").set_value("")
    rerun(at)
    at.button(key="w_save").click()
    rerun(at)
    (error,) = [e.value for e in at.error]
    assert english_left(error.replace("\\", "")) == []
    assert "1–64" in error.replace("\\", "")


# --------------------------------------------------------------------------------------------
# Streamlit's own words, the phone's labels, the meeting page's counts

def test_streamlit_words_are_drawn_in_chinese_and_left_alone_in_english():
    css = i18n.streamlit_words_css("zh", {"w_upload": "YAML, YML", "w_actuals": "CSV"})
    for key, types in (("w_upload", "YAML, YML"), ("w_actuals", "CSV")):
        assert f".st-key-{key} " in css
        assert i18n.ui("st_limit", "zh", limit="1 MB", types=types) in css
    for key in ("st_browse", "st_enter"):
        assert f'content: "{i18n.ui(key, "zh")}"' in css
    assert i18n.ui("st_too_big", "zh", limit="2 MB") in css
    # the original words are hidden, not merely covered (out of the visible text)
    assert css.count("visibility: hidden") == css.count("::after")
    assert i18n.streamlit_words_css("en", {"w_upload": "YAML"}) == ""


def test_the_chinese_page_carries_the_uploader_words_and_chinese_placeholders():
    at = start()
    styles = "".join(m.value for m in at.markdown if "<style>" in m.value)
    assert i18n.ui("st_browse", "zh") in styles and i18n.ui("st_enter", "zh") in styles
    assert at.selectbox(key="w_preset").placeholder == i18n.ui("choose_option", "zh")
    at = start({"lang": "en"})
    styles = "".join(m.value for m in at.markdown if "<style>" in m.value)
    assert i18n.ui("st_browse", "zh") not in styles


def test_phone_labels_name_every_column_after_the_indicator(model, presets):
    card = goals.scorecard(model.run(presets[session.DEFAULT_PRESET]))
    css = scorecards.scorecard_labels_css(card, "zh")
    html_text = scorecards.scorecard_html(card, "zh")
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html_text)
    labelled = re.findall(r'nth-child\((\d+)\):not\(:empty\)::before \{content: "([^"]*): ";\}', css)
    assert [int(k) for k, _ in labelled] == list(range(3, len(headers) + 1))
    assert [text for _, text in labelled] == headers[2:]
    assert "@media (max-width: 640px)" in css


def test_meeting_counts_match_the_summary(model, presets):
    card = goals.scorecard(model.run(presets["ambitious"]))
    ref = goals.scorecard(model.run(presets["baseline"]))
    text = scorecards.meeting_counts_html(card, ref, "<b>x</b>", "en")
    s, r = scorecards.summary(card), scorecards.summary(ref)
    values = re.findall(r'gy-count-value">(\d+) / (\d+)<', text)
    assert values == [(str(s["met"]), str(s["total"])),
                      (str(s["doubling_met"]), str(s["doubling_total"])),
                      (str(s["late_met"]), str(s["late_total"]))]
    deltas = [int(d) for d in re.findall(r'gy-count-delta \w+">([+-]\d+) ', text)]
    assert deltas == [s["met"] - r["met"], s["doubling_met"] - r["doubling_met"],
                      s["late_met"] - r["late_met"]]
    assert "<b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text  # the name is escaped


def test_meeting_card_css_sizes_the_rows_by_their_count():
    assert "--gy-rows: 17;" in scorecards.meeting_card_css(16)
    assert "--gy-rows: 4;" in scorecards.meeting_card_css(3)


def test_the_sidebar_offers_the_presenter_link(presets):
    at = start({"view": "meeting"})
    at.multiselect(key="w_meeting_levers").set_value(["tech_loans", "sme_campaign"])
    rerun(at)
    at.slider(key="w_meet_tech_loans").set_value(8.0)
    rerun(at)
    (code,) = [c.value for c in at.sidebar.code]
    query = code.split("?", 1)[1]
    params = dict(part.split("=", 1) for part in query.split("&"))
    assert params == {"view": "meeting", "levers": "tech_loans,sme_campaign", "tech_loans": "8"}
    state = links.decode_query(params, presets)  # it opens what the presenter prepared
    assert state.errors == () and state.meeting and state.sliders == ("tech_loans", "sme_campaign")
    assert state.levers["tech_loans"] == (8.0,) * len(tables.PERIODS)
