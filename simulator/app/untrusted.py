"""Text from outside (an upload, a link, a text box) on its way into Markdown or HTML, and an
uploaded scenario file read and validated before anything else sees it.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import html
import re
from typing import Any, Callable, Sequence

from simulator.app.i18n import ui
from simulator.base import inputs
from simulator.plan import scenario as scenario_mod
from simulator.plan.scenario import Scenario

#: Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and together
#: they are all the Markdown (and Streamlit: ``:red[…]``, ``$…$``) syntax there is.
_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Where GFM's autolink literals start (``https://``, ``www.``, ``user@host``). remark-gfm finds
#: them again in the *text* after escapes are resolved, so escaping alone cannot stop them; a
#: zero-width space at these points breaks the pattern without changing what the reader sees.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=@)|(?<=[wW]{3})(?=\.)")
_ZWSP = "\u200b"


def md_text(text: Any, limit: int = inputs.MAX_MESSAGE_CHARS) -> str:
    """Untrusted text as Markdown that shows exactly that text, on one line.

    For ``st.markdown``, ``st.warning``, ``st.error``, ``st.success``, ``st.caption`` and every
    other element that renders Markdown (``unsafe_allow_html=False`` still renders links and
    images). Control, format (bidirectional, zero-width) and surrogate characters and line
    breaks are shown as escapes (:func:`simulator.base.inputs.one_line`), the text is cut at
    ``limit`` characters, every ASCII punctuation character is backslash-escaped (no link,
    image, emphasis, heading, list, HTML, entity, math or colour directive can form) and
    autolink literals are broken with a zero-width space.
    """
    line = _AUTOLINK.sub(_ZWSP, inputs.one_line(str(text), limit))
    return _MD_PUNCTUATION.sub(r"\\\1", line)


def html_text(text: Any, limit: int = inputs.MAX_MESSAGE_CHARS) -> str:
    """Untrusted text for an HTML fragment (``unsafe_allow_html=True``): one line, escaped."""
    return html.escape(inputs.one_line(str(text), limit))


def link_errors_markdown(errors: Sequence[str], lang: str,
                         limit: int = 8) -> str:
    """The warning about a link's invalid parameters: a heading line and a bullet per error
    (escaped with :func:`md_text`), at most ``limit`` of them and a count of the rest."""
    lines = [ui("url_errors", lang), ""]
    lines += [f"- {md_text(e)}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"- {ui('url_errors_more', lang, n=len(errors) - limit)}")
    return "\n".join(lines)


def read_upload(data: bytes, filename: Any, lang: str) -> tuple[Scenario | None, str]:
    """An uploaded scenario file, validated as the command line validates one.

    Returns
    -------
    (Scenario, "") or (None, message)
        ``message`` is one line: the validation's own (naming the file, field, value excerpt
        and what was allowed), or, for a file over :data:`simulator.plan.scenario.MAX_FILE_BYTES`,
        a sentence in ``lang``. It is plain text: escape it (:func:`md_text`) to show it.
        Anything but an input error propagates (a bug, not the visitor's mistake).
    """
    return _read_validated(data, filename, lang, scenario_mod.loads, scenario_mod.MAX_FILE_BYTES)


def _read_validated(data: bytes, filename: Any, lang: str, loads: Callable[..., Any],
                    limit: int) -> tuple[Any, str]:
    """``loads(data, source=...)``, or ``(None, one-line message)`` for an input error or a
    file over ``limit`` bytes (:func:`read_upload`)."""
    source = inputs.source_label(filename)
    if len(data) > limit:
        return None, ui("upload_too_big", lang, source=source, size=f"{len(data):,}",
                        limit=f"{limit:,}")
    try:
        return loads(data, source=source), ""
    except inputs.InputError as exc:
        return None, inputs.one_line(str(exc))
