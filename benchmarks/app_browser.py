"""The app as a planner's browser sees it: ``python benchmarks/app_browser.py``.

Starts ``streamlit run app.py`` on 127.0.0.1 (a free port, its own process group, always
stopped), drives Debian's ``/usr/bin/chromium`` headless through Playwright (no browser is
downloaded) and prints, as median and 90th percentile of ``--repeat`` repetitions:

* **warm load** — a fresh tab of a browser that has loaded the page once (its HTTP cache holds
  the JavaScript) navigates to the app; the clock stops when the scorecard table has its rows
  and Streamlit reports the script as not running (``stApp[data-test-script-state=notRunning]``).
  Also the bytes received per load (HTTP bodies as encoded on the wire plus websocket frames,
  from the DevTools protocol);
* **cold load** — the same in a new browser context (empty HTTP cache: the link opened for the
  first time), with its bytes;
* **slider move** — the focused slider of ``sme_campaign`` gets End or Home from the keyboard
  (as ``tests/e2e`` does); the clock stops when the scorecard's text has changed and the app is idle
  again. "uncached": settings no session has used (each repetition opens the page with another
  value of a second lever, ``tech_commissioners``, so the model really runs); "cached": back to
  settings run a moment before (``st.cache_data`` hit);
* **figure pack** (``--figures-repeat``, 0 to skip) — in 导出与分享, from the click on the
  figure pack's button until the ZIP is saved (each time for settings of its own: the file is
  made on the click and kept for the page until the next rerun).

Beside them: the issue's targets (issue 14, item 6), the server's CPU seconds per rerun (from
``/proc/PID/stat``), and references measured in the same run so that figures compare across
machines: ``GET /_stcore/health`` from Python and the same URL opened in a Chromium tab.

Before timing, the page is loaded once and the server left to settle (its background warm-up
of the ensemble backend takes CPU for a while after the first page). Not a test: it prints
figures (docs/app.md, "Speed"). Bounded by ``--timeout``; the server is stopped on any exit.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCORECARD = ".st-key-scorecard table.gy-card"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
MOVE_LEVER = "sme_campaign"        # the slider moved (its group is expanded on load)
SALT_LEVER = "tech_commissioners"  # the link sets it to 402, 404, … (0–800, step 2; plan: 350)
EXPORT_TAB = "导出与分享"           # the tab with the figure pack's button (Chinese page)
TARGETS = {"warm load": 1500.0, "slider move, uncached": 300.0, "slider move, cached": 300.0,
           "figure pack": 3000.0}


class BenchError(Exception):
    """A one-line reason why the benchmark cannot run or finish."""


# --------------------------------------------------------------------------------------------
# The server (also used by app_load.py)

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (``VmRSS`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (all its threads), from ``/proc/PID/stat``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError as exc:
        raise BenchError(f"cannot read /proc/{pid}/stat ({exc.strerror}): Linux only") from None
    fields = text[text.rindex(")") + 2:].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class AppServer:
    """``streamlit run app.py`` on 127.0.0.1 and a free port, in its own process group.

    Use as a context manager: the group is terminated (then killed) on exit, whatever happens.

    Parameters
    ----------
    log : Path
        Where the server's output goes.
    startup : float
        Seconds to wait for ``/_stcore/health``.
    options : list of (str, str)
        Streamlit configuration options for this run (``--server.x value`` on its command
        line), to measure a setting before writing it into ``.streamlit/config.toml``.
    """

    def __init__(self, log: Path, startup: float = 90.0,
                 options: list[tuple[str, str]] = ()) -> None:
        self.options = list(options)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.startup = startup
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "AppServer":
        exe = Path(sys.executable).with_name("streamlit")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]
        cmd += ["run", str(REPO / "app.py"), "--server.headless", "true",
                "--server.address", "127.0.0.1", "--server.port", str(self.port),
                "--browser.gatherUsageStats", "false"]
        for name, value in self.options:
            cmd += [f"--{name}", value]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"streamlit exited with code {self.proc.returncode}; "
                                 f"see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"streamlit not healthy after {self.startup:.0f} s; "
                                 f"see {self.log}")
            time.sleep(0.2)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> float:
        return rss_mb(self.pid)

    def settle(self, idle_share: float = 0.05, limit: float = 120.0) -> float:
        """Wait until the server uses under ``idle_share`` of a core over a second (its
        background warm-up done), at most ``limit`` seconds; returns the seconds waited."""
        start = time.monotonic()
        last = self.cpu()
        while time.monotonic() - start < limit:
            time.sleep(1.0)
            now = self.cpu()
            if now - last < idle_share:
                break
            last = now
        return time.monotonic() - start

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: only what it started
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass


def streamlit_option(text: str) -> tuple[str, str]:
    """``--option NAME=VALUE``: a Streamlit configuration option (``runner.postScriptGC=false``)."""
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z]+\.[A-Za-z]+", name) or not value:
        raise argparse.ArgumentTypeError(f"--option {text!r}: expected SECTION.NAME=VALUE, "
                                         "e.g. runner.postScriptGC=false")
    if name in ("server.address", "server.port"):
        raise argparse.ArgumentTypeError(f"--option {name}: set by the benchmark "
                                         "(127.0.0.1 and a free port)")
    return name, value


def add_common(parser: argparse.ArgumentParser, timeout: int) -> None:
    """The options both benchmarks take: ``--option`` and ``--timeout``."""
    parser.add_argument("--option", type=streamlit_option, action="append", default=[],
                        metavar="SECTION.NAME=VALUE",
                        help="a Streamlit option for the server of this run, e.g. "
                             "runner.postScriptGC=false (repeatable)")
    parser.add_argument("--timeout", type=bounded(30, 3600, "--timeout"), default=timeout,
                        help=f"seconds for the whole run (30–3600, default {timeout})")


def cli(name: str, run, args: argparse.Namespace) -> int:
    """Print ``run(args)``'s lines; a :class:`BenchError` becomes one line on stderr and exit
    code 1. A hard stop 30 s after ``args.timeout`` in case a wait is not bounded."""
    def overdue(signum, frame):
        raise BenchError(f"--timeout of {args.timeout} s reached (hard stop)")

    signal.signal(signal.SIGALRM, overdue)
    signal.alarm(args.timeout + 30)
    try:
        print("\n".join(run(args)))
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
    return 0


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation, as numpy's default)."""
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


class Deadline:
    """The time left of the whole run, as Playwright timeouts (ms)."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def ms(self, cap: float = 120.0) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BenchError(f"--timeout of {self.seconds:.0f} s reached")
        return min(left, cap) * 1000.0


# --------------------------------------------------------------------------------------------
# The browser

class ByteCounter:
    """Bytes a page receives: HTTP responses as encoded on the wire and websocket frames
    (DevTools protocol ``Network`` events)."""

    def __init__(self, context, page) -> None:
        self.http = 0
        self.ws = 0
        cdp = context.new_cdp_session(page)
        cdp.on("Network.loadingFinished", self._http)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.send("Network.enable")

    def _http(self, event: dict) -> None:
        self.http += int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict) -> None:
        resp = event.get("response", {})
        data = resp.get("payloadData", "")
        # binary frames (opcode 2, Streamlit's protobufs) come base64-encoded
        self.ws += len(base64.b64decode(data)) if resp.get("opcode") == 2 else len(data.encode())

    @property
    def total(self) -> int:
        return self.http + self.ws


def scorecard_text(page) -> str:
    return "\n".join(page.locator(f"{SCORECARD} tbody tr").all_inner_texts())


def wait_loaded(page, deadline: Deadline) -> None:
    """Until the scorecard has rows and the script is not running."""
    page.wait_for_function(
        """([card, idle]) => document.querySelectorAll(card + ' tbody tr').length > 0
                             && document.querySelector(idle) !== null""",
        arg=[SCORECARD, IDLE], timeout=deadline.ms(), polling="raf")


def timed_load(context, url: str, deadline: Deadline) -> tuple[float, int]:
    """A new tab of ``context`` opens ``url``: milliseconds to the loaded scorecard, bytes."""
    page = context.new_page()
    try:
        counter = ByteCounter(context, page)
        start = time.perf_counter()
        page.goto(url, timeout=deadline.ms())
        wait_loaded(page, deadline)
        elapsed = (time.perf_counter() - start) * 1000.0
        page.wait_for_timeout(300)  # late frames (the websocket's tail) into the byte count
        return elapsed, counter.total
    finally:
        page.close()


def timed_move(page, key: str, deadline: Deadline) -> float:
    """Press ``key`` on the focused slider; milliseconds until the scorecard changed and the
    app is idle."""
    before = scorecard_text(page)
    thumb = page.locator(f".st-key-w_{MOVE_LEVER} [data-testid='stSlider'] input")
    thumb.focus()
    start = time.perf_counter()
    thumb.press(key)
    page.wait_for_function(
        """([card, idle, old]) => {
               const rows = Array.from(document.querySelectorAll(card + ' tbody tr'));
               return rows.length > 0 && document.querySelector(idle) !== null
                      && rows.map(r => r.innerText).join('\\n') !== old;
           }""", arg=[SCORECARD, IDLE, before], timeout=deadline.ms(), polling="raf")
    return (time.perf_counter() - start) * 1000.0


def timed_figure_pack(page, deadline: Deadline, folder: Path) -> tuple[float, int]:
    """Click the figure pack's button; milliseconds until the ZIP is saved, and its size."""
    button = page.locator(".st-key-w_dl_figs button")
    button.wait_for(timeout=deadline.ms())
    page.wait_for_selector(IDLE, timeout=deadline.ms())
    start = time.perf_counter()
    with page.expect_download(timeout=deadline.ms()) as info:
        button.click()
    target = folder / f"figures-{time.monotonic_ns()}.zip"
    info.value.save_as(target)
    elapsed = (time.perf_counter() - start) * 1000.0
    size = target.stat().st_size
    if not size:
        raise BenchError("the figure pack downloaded empty")
    return elapsed, size


def reference_health(url: str, n: int) -> float:
    """Median milliseconds of ``GET /_stcore/health`` from Python."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as resp:
            resp.read()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def launch(pw):
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        raise BenchError("Chromium is not installed: /usr/bin/chromium is missing "
                         "(Debian: apt-get install -y chromium)")
    path = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    return pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)


def run(args: argparse.Namespace) -> list[str]:
    try:
        from playwright.sync_api import Error as PlaywrightError, sync_playwright
    except ImportError:
        raise BenchError("Playwright for Python is not installed "
                         "(pip install -r requirements.txt)") from None
    try:
        return measure(args, sync_playwright)
    except PlaywrightError as exc:  # a wait that timed out, a page that crashed
        raise BenchError(f"browser: {str(exc).splitlines()[0]}") from None


Row = tuple[str, list[float], str]  # what, milliseconds of each repetition, notes


@contextlib.contextmanager
def loaded_page(context, url: str, deadline: Deadline):
    """A new tab of ``context`` with ``url`` loaded (untimed); closed afterwards."""
    page = context.new_page()
    try:
        page.goto(url, timeout=deadline.ms())
        wait_loaded(page, deadline)
        yield page
    finally:
        page.close()


def references(context, url: str, n: int, deadline: Deadline) -> list[str]:
    """``GET /_stcore/health`` from Python and in a tab: figures to compare machines by."""
    in_tab = []
    for _ in range(n):
        page = context.new_page()
        try:
            start = time.perf_counter()
            page.goto(f"{url}/_stcore/health", timeout=deadline.ms())
            in_tab.append((time.perf_counter() - start) * 1000.0)
        finally:
            page.close()
    return [f"{'reference: GET /_stcore/health':<34}{reference_health(url, 21):7.1f}ms"
            "   (Python, median of 21)",
            f"{'reference: same URL in a tab':<34}{statistics.median(in_tab):7.0f}ms"
            f"{pct(in_tab, 90):7.0f}ms"]


def loads(browser, context, ctx_args: dict, server: AppServer, n: int,
          deadline: Deadline) -> list[Row]:
    """Warm loads (a new tab of ``context``) and cold ones (a new context each time)."""
    warm, warm_bytes = [], []
    cpu0 = server.cpu()
    for _ in range(n):
        ms, size = timed_load(context, server.url, deadline)
        warm.append(ms)
        warm_bytes.append(size)
    warm_cpu = (server.cpu() - cpu0) / n
    cold, cold_bytes = [], []
    for _ in range(n):
        fresh = browser.new_context(**ctx_args)
        try:
            ms, size = timed_load(fresh, server.url, deadline)
        finally:
            fresh.close()
        cold.append(ms)
        cold_bytes.append(size)
    return [("warm load", warm, f"{statistics.median(warm_bytes) / 1e6:.2f} MB, "
                                f"server CPU {warm_cpu * 1000:.0f} ms"),
            ("cold load (empty browser cache)", cold,
             f"{statistics.median(cold_bytes) / 1e6:.2f} MB")]


def moves(context, server: AppServer, n: int, deadline: Deadline) -> list[Row]:
    """Per repetition, a page with settings of its own: End and Home (uncached), End again
    (cached)."""
    times = {"uncached": [], "cached": []}
    cpu = {"uncached": 0.0, "cached": 0.0}
    for k in range(n):
        with loaded_page(context, f"{server.url}/?{SALT_LEVER}={402 + 2 * k}",
                         deadline) as page:
            for key, kind in (("End", "uncached"), ("Home", "uncached"), ("End", "cached")):
                c0 = server.cpu()
                times[kind].append(timed_move(page, key, deadline))
                cpu[kind] += server.cpu() - c0
    return [(f"slider move, {kind}", times[kind],
             f"server CPU {cpu[kind] / len(times[kind]) * 1000:.0f} ms") for kind in times]


def figure_packs(context, server: AppServer, n: int, deadline: Deadline,
                 folder: Path) -> list[Row]:
    """The figure pack, each time for settings of its own (a second click on the same page
    would get the file already made)."""
    times, sizes = [], []
    for k in range(n):
        with loaded_page(context, f"{server.url}/?{SALT_LEVER}={602 + 2 * k}",
                         deadline) as page:
            page.get_by_role("tab", name=EXPORT_TAB).click(timeout=deadline.ms())
            ms, size = timed_figure_pack(page, deadline, folder)
        times.append(ms)
        sizes.append(size)
    return [("figure pack", times, f"{statistics.median(sizes) / 1e6:.2f} MB ZIP")]


def measure(args: argparse.Namespace, sync_playwright) -> list[str]:
    deadline = Deadline(args.timeout)
    load_before = os.getloadavg()[0]
    width, height = args.viewport
    ctx_args = dict(viewport={"width": width, "height": height}, locale="zh-CN",
                    accept_downloads=True)
    with AppServer(REPO / "artifacts" / "bench-browser-streamlit.log",
                   options=args.option) as server, \
            sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = launch(pw)
        try:
            context = browser.new_context(**ctx_args)
            # warm-up: the server loads the model, Chromium caches the JavaScript
            timed_load(context, server.url, deadline)
            notes = [f"server settled {server.settle():.0f} s after the first page"]
            refs = references(context, server.url, args.repeat, deadline)
            rows = loads(browser, context, ctx_args, server, args.repeat, deadline)
            rows += moves(context, server, args.repeat, deadline)
            if args.figures_repeat:
                rows += figure_packs(context, server, args.figures_repeat, deadline, Path(tmp))
        finally:
            browser.close()
    head = (f"app browser benchmark — Chromium headless {width}×{height}, {os.cpu_count()} "
            f"CPUs, load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at "
            "the end")
    return [head] + report(args, rows) + refs + notes


def report(args: argparse.Namespace, rows: list[Row]) -> list[str]:
    """The table: median, p90 and the issue's target of each measurement."""
    out = [f"{'':<34}{'median':>9}{'p90':>9}{'target':>9}   n   notes"]
    for what, values, extra in rows:
        target = TARGETS.get(what)
        goal = f"≤{target:.0f}" if target else "—"
        flag = "" if target is None else ("  ok" if statistics.median(values) <= target
                                          else "  MISSED")
        out.append(f"{what:<34}{statistics.median(values):7.0f}ms{pct(values, 90):7.0f}ms"
                   f"{goal:>9} {len(values):>3}   {extra}{flag}")
    if args.repeat < 7:
        out.append(f"only {args.repeat} repetitions: a trial, not the issue's median of ≥ 7")
    if args.option:
        out.append("server options: " + ", ".join(f"{k}={v}" for k, v in args.option))
    return out


def viewport(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--viewport {text!r}: expected WIDTHxHEIGHT, "
                                         "e.g. 1366x768") from None
    if not (200 <= width <= 4000 and 200 <= height <= 4000):
        raise argparse.ArgumentTypeError(f"--viewport {text!r}: each side must be 200–4000")
    return width, height


def bounded(lo: int, hi: int, name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r}: not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} {value}: allowed {lo}–{hi}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=bounded(1, 100, "--repeat"), default=7,
                        help="repetitions of each measurement (1–100, default 7; the issue "
                             "asks for the median of at least 7)")
    parser.add_argument("--viewport", type=viewport, default=(1366, 768),
                        help="browser window WIDTHxHEIGHT (default 1366x768)")
    parser.add_argument("--figures-repeat", type=bounded(0, 20, "--figures-repeat"), default=3,
                        help="figure pack downloads to time (0–20, default 3; 0 skips)")
    add_common(parser, 900)
    return cli("app_browser", run, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
