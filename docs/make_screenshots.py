"""Write the app's screenshots in ``docs/img/``: the page as a planner opens it and the meeting
page on a projector, taken from the real app in Chromium, so the documentation shows the page
that ships.

    python docs/make_screenshots.py [--timeout SECONDS]

Starts ``streamlit run app.py`` on 127.0.0.1 (a free port, its own process group, stopped on
any exit: ``benchmarks/app_browser.py``'s ``AppServer``), opens it in Debian's
``/usr/bin/chromium`` through Playwright, waits until the scorecard is drawn and the script is
idle, and saves

* ``docs/img/app.png`` — 1600×1000, Chinese, the plan scenario (README and docs/app.md);
* ``docs/img/app-meeting.png`` — 1920×1080, meeting mode (docs/app.md, "Presenting in a
  meeting").

Each file is written whole or not at all (to a temporary file first).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from app_browser import AppServer, BenchError, Deadline, launch, wait_loaded  # noqa: E402

#: (file, viewport, query string) of each screenshot.
SHOTS = (
    ("app.png", (1600, 1000), ""),
    ("app-meeting.png", (1920, 1080), "?view=meeting&levers=sme_campaign,hte_reward,tech_loans"),
)


def take(browser, url: str, size: tuple[int, int], out: Path, deadline: Deadline) -> None:
    """Open ``url`` at ``size``; once loaded and idle, save the viewport to ``out``."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  locale="zh-CN", device_scale_factor=1)
    try:
        page = context.new_page()
        page.goto(url, timeout=deadline.ms())
        wait_loaded(page, deadline)
        page.wait_for_timeout(1500)  # the charts' and fonts' last paint
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=out.parent)
        os.close(fd)
        try:
            page.screenshot(path=tmp)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds for the whole run (default 300)")
    args = parser.parse_args(argv)
    from playwright.sync_api import Error as PlaywrightError, sync_playwright
    deadline = Deadline(args.timeout)
    log = Path(tempfile.gettempdir()) / "make-screenshots-streamlit.log"
    try:
        with AppServer(log) as server, sync_playwright() as pw:
            browser = launch(pw)
            try:
                for name, size, query in SHOTS:
                    out = REPO / "docs" / "img" / name
                    take(browser, server.url + "/" + query, size, out, deadline)
                    print(f"wrote {out.relative_to(REPO)} ({size[0]}×{size[1]})")
            finally:
                browser.close()
    except (BenchError, PlaywrightError) as exc:
        print(f"make_screenshots: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
