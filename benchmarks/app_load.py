"""Many planners at once against the real server: ``python benchmarks/app_load.py``.

Starts ``streamlit run app.py`` on 127.0.0.1 (a free port, its own process group, always
stopped) and runs ``--sessions`` sessions at the same time, each doing what a browser does:

1. **page load** — fetch the page and the files it names (``index.html``, the JavaScript and CSS
   it links, with ``Accept-Encoding: gzip``; skip with ``--no-assets``), open Streamlit's
   websocket (``/_stcore/stream``) and ask for the first run of the script, as the page's
   JavaScript does; the clock stops at the server's ``script_finished``;
2. ``--moves`` **slider moves** — send the rerun a moved slider sends (``rerun_script`` with the
   slider's new value, the page's query string and the message hashes already received, so the
   server sends references for unchanged elements as it does to a browser) and stop the clock at
   ``script_finished``. Each move is checked: the script finished normally, showed no crash
   message, and the link the app writes holds the new value.

All sessions load the page at once; when every one has its page, all start moving. Moves go
straight after each other (no thinking time unless ``--think``): with every session busy at
once this is a saturation test, the way issue 14 measured "30 concurrent sessions".
By default every move is to settings no session has used (each session opens a link that sets
``tech_commissioners`` to a value of its own, as a planner opening a shared link does; the moves
are of ``sme_campaign``, whose lever group is open on a new page: the sidebar draws the sliders
of open groups only), so the model really runs; ``--shared-values`` lets the sessions use the
same settings (``st.cache_data`` hits after the first session).

Printed: median, 90th percentile and maximum of page load and move latency; the server's CPU
seconds per page load and per move rerun (from ``/proc/PID/stat`` at the start, when the last
page has loaded and at the end, divided by the number of script runs of each phase) and its
memory; beside them the issue's targets (≤ 100 ms server CPU per rerun, median move ≤ 1.5 s with
30 sessions), the driver's own CPU (it shares the machine's cores with the server) and the load
average.

Why the websocket and not browsers or AppTest: 30 Chromium tabs would each re-render the React
page on every move and, on a 2-core machine, take the CPU from the server being measured (the
browser's side is measured by ``app_browser.py``); AppTest runs the script in the driver's own
process, without the server's websocket, serialisation and thread-per-session scheduling. The
websocket client exercises the server exactly as browsers do, from one light asyncio process
(it uses the ``websockets`` package Streamlit itself depends on and Streamlit's own protobuf
classes). What it does not do: run the page's JavaScript (lazily loaded chunks are not fetched)
or send the widget states of unchanged widgets (the server keeps them from the previous run).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_browser import REPO, AppServer, BenchError, add_common, bounded, cli, pct  # noqa: E402

SALT_LEVER = "tech_commissioners"  # session i's link sets it to 402 + 2 i (0–800, step 2; plan: 350)
MOVE_LEVER = "sme_campaign"        # the moves: its grid, visited in steps of 7 (its group is open)
CRASH = "An unexpected error occurred"
TARGET_CPU_MS = 100.0
TARGET_MOVE_MS = 1500.0


def protos():
    """Streamlit's protobuf classes (imported here: ``--help`` stays fast)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    return BackMsg, ForwardMsg, WidgetState


@dataclass
class Slider:
    id: str
    min: float
    max: float
    step: float
    value: float


@dataclass
class Session:
    """One browser's view of the app: what the server sent, as far as the benchmark needs it."""

    ws: object
    query: str = ""
    page_hash: str = ""
    hashes: dict = field(default_factory=dict)  # message hash -> message (the browser's cache)
    sliders: dict = field(default_factory=dict)  # widget key -> Slider
    scorecard: str = ""
    crashed: bool = False

    async def rerun(self, widgets: list, deadline: float) -> float:
        """Send one ``rerun_script``; milliseconds until the server's ``script_finished``."""
        BackMsg, ForwardMsg, _ = protos()
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(widgets)
        state.cached_message_hashes.extend(self.hashes)
        state.context_info.timezone = "Asia/Shanghai"
        state.context_info.locale = "zh-CN"
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("--timeout reached while waiting for the server")
            data = await asyncio.wait_for(self.ws.recv(), timeout=left)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "ref_hash":  # an element the browser already has: take it from the cache
                cached = self.hashes.get(fwd.ref_hash)
                if cached is None:
                    raise BenchError(f"the server referred to message {fwd.ref_hash} "
                                     "this client never received")
                fwd, kind = cached, cached.WhichOneof("type")
            elif fwd.metadata.cacheable and fwd.hash:
                self.hashes[fwd.hash] = fwd
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "delta":
                self._element(fwd.delta)
            elif kind == "script_finished":
                if fwd.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    raise BenchError(f"the script ended with status {fwd.script_finished}")
                return (time.perf_counter() - start) * 1000.0

    def _element(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "slider":
            key = el.slider.id.rsplit("-", 1)[-1]
            value = el.slider.value[0] if el.slider.value else el.slider.default[0]
            self.sliders[key] = Slider(el.slider.id, el.slider.min, el.slider.max,
                                       el.slider.step, value)
        elif kind == "markdown" and "gy-card" in el.markdown.body:
            self.scorecard = el.markdown.body
        elif kind == "exception" or (kind == "alert" and CRASH in el.alert.body):
            self.crashed = True


def move_to(session: Session, key: str, value: float):
    """The widget state of slider ``key`` moved to ``value``."""
    _, _, WidgetState = protos()
    slider = session.sliders.get(key)
    if slider is None:
        raise BenchError(f"no slider with key {key!r} on the page")
    state = WidgetState(id=slider.id)
    state.double_array_value.data.append(value)
    return state


def salt(index: int, shared: bool) -> str:
    """The query string session ``index`` opens the page with: settings of its own (a link
    with ``SALT_LEVER`` set), or none with ``--shared-values``."""
    return "" if shared else f"{SALT_LEVER}={402 + 2 * index}"


def plan(index: int, moves: int, session: Session) -> list[tuple[str, float]]:
    """The (widget key, value) of each move of session ``index``."""
    out = []
    s = session.sliders[f"w_{MOVE_LEVER}"]
    n = round((s.max - s.min) / s.step) + 1
    last, j = s.value, 0
    while len(out) < moves:
        j += 1
        value = round(s.min + s.step * ((7 * j) % n), 6)
        if value != last:
            out.append((f"w_{MOVE_LEVER}", value))
            last = value
    return out


ASSET = re.compile(r'(?:src|href)="\.?/?(static/[^"]+)"')


def fetch(url: str) -> int:
    """Bytes of ``url`` as sent (gzip accepted, as browsers do)."""
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return len(resp.read())


def fetch_page(base: str) -> int:
    """``index.html`` and the files it links; bytes received."""
    req = urllib.request.Request(base + "/")
    with urllib.request.urlopen(req, timeout=60) as resp:
        html = resp.read().decode("utf-8", "replace")
    return len(html) + sum(fetch(f"{base}/{path}") for path in sorted(set(ASSET.findall(html))))


@dataclass
class Result:
    load_ms: float = 0.0
    moves_ms: list = field(default_factory=list)
    bytes: int = 0
    changed: int = 0


class Phases:
    """What the sessions share: the deadline, a thread pool for the page's files (one thread
    per session, so no session waits for another's download), and the barrier between page
    loads and moves, where the server's CPU time is read."""

    def __init__(self, server: AppServer, sessions: int, deadline: float) -> None:
        self.server = server
        self.deadline = deadline
        self.pool = ThreadPoolExecutor(max_workers=max(1, sessions))
        self.waiting = sessions
        self.all_loaded = asyncio.Event()
        self.cpu_loaded = 0.0

    def loaded(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.cpu_loaded = self.server.cpu()
            self.all_loaded.set()


async def one_session(index: int, args, phases: Phases) -> Result:
    """One browser: page load, then (once every session has loaded) ``args.moves`` moves."""
    import websockets

    res = Result()
    base, deadline = phases.server.url, phases.deadline
    start = time.perf_counter()
    if args.assets:
        res.bytes = await asyncio.get_running_loop().run_in_executor(phases.pool, fetch_page,
                                                                     base)
    ws_url = base.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                  open_timeout=max(1.0, deadline - time.monotonic()),
                                  ping_interval=None, compression=None) as ws:
        session = Session(ws, query=salt(index, args.shared_values))
        await session.rerun([], deadline)
        res.load_ms = (time.perf_counter() - start) * 1000.0
        if not session.scorecard:
            raise BenchError(f"session {index}: the first run showed no scorecard")
        own = salt(index, args.shared_values)
        if own and own not in session.query.split("&"):
            raise BenchError(f"session {index}: opened with ?{own}, the app's link says "
                             f"?{session.query}")
        phases.loaded()
        await asyncio.wait_for(phases.all_loaded.wait(),
                               timeout=max(0.0, deadline - time.monotonic()))
        for key, value in plan(index, args.moves, session):
            if args.think:
                await asyncio.sleep(args.think)
            before = session.scorecard
            res.moves_ms.append(await session.rerun([move_to(session, key, value)], deadline))
            lever = key[2:]
            shown = parse_qs(session.query).get(lever, ["?"])[0]
            if session.crashed:
                raise BenchError(f"session {index}: the app showed its crash message after "
                                 f"{lever}={value:g}; see the server log")
            try:
                ok = all(abs(float(v) - value) < 1e-9 for v in shown.split(","))
            except ValueError:
                ok = False
            if not ok:
                raise BenchError(f"session {index}: after moving {lever} to {value:g} the "
                                 f"link says {lever}={shown}")
            res.changed += session.scorecard != before
    return res


@dataclass
class Measured:
    results: list
    cpu_loads: float  # server CPU seconds from the start to the last page load
    cpu_moves: float  # from there to the last move
    wall: float
    settled: float
    rss: float


async def drive(args, server: AppServer) -> Measured:
    """The warm-up session, then all sessions at once: page loads, then moves."""
    deadline = time.monotonic() + args.timeout
    warm = argparse.Namespace(**{**vars(args), "moves": 0})
    await one_session(-1, warm, Phases(server, 1, deadline))  # model load, first-run imports
    settled = await asyncio.to_thread(server.settle)
    phases = Phases(server, args.sessions, deadline)
    cpu0, wall0 = server.cpu(), time.perf_counter()
    tasks = []
    try:
        for i in range(args.sessions):
            tasks.append(asyncio.create_task(one_session(i, args, phases)))
            if args.ramp:
                await asyncio.sleep(args.ramp / args.sessions)
        results = await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        phases.pool.shutdown(wait=False, cancel_futures=True)
    cpu1 = server.cpu()
    return Measured(results, phases.cpu_loaded - cpu0, cpu1 - phases.cpu_loaded,
                    time.perf_counter() - wall0, settled, server.rss())


def summary(label: str, values: list[float], target: float | None = None) -> str:
    goal = f"≤{target:.0f}" if target else "—"
    med = statistics.median(values)
    flag = "" if target is None else ("  ok" if med <= target else "  MISSED")
    return (f"{label:<28}{med:8.0f}ms{pct(values, 90):8.0f}ms{max(values):8.0f}ms{goal:>9}"
            f"{len(values):>6}{flag}")


def run(args: argparse.Namespace) -> list[str]:
    try:
        import websockets  # noqa: F401
    except ImportError:
        raise BenchError("the websockets package is not installed "
                         "(pip install -r requirements.txt)") from None
    cpu_self0 = resource.getrusage(resource.RUSAGE_SELF)
    load_before = os.getloadavg()[0]
    with AppServer(REPO / "artifacts" / "bench-load-streamlit.log",
                   options=args.option) as server:
        try:
            m = asyncio.run(drive(args, server))
        except (OSError, asyncio.TimeoutError) as exc:
            raise BenchError(f"connection to the server failed: {exc!r}") from None
        except Exception as exc:
            if type(exc).__module__.startswith("websockets"):
                raise BenchError(f"websocket: {exc}") from None
            raise
    used = resource.getrusage(resource.RUSAGE_SELF)
    driver_cpu = (used.ru_utime + used.ru_stime) - (cpu_self0.ru_utime + cpu_self0.ru_stime)
    loads = [r.load_ms for r in m.results]
    moves = [ms for r in m.results for ms in r.moves_ms]
    cpu_load = m.cpu_loads / len(loads) * 1000.0
    cpu_move = m.cpu_moves / len(moves) * 1000.0 if moves else float("nan")
    flag = "  ok" if cpu_move <= TARGET_CPU_MS else "  MISSED"
    cpu = m.cpu_loads + m.cpu_moves
    out = [f"app load benchmark — {args.sessions} sessions at once, {args.moves} moves each "
           f"({'shared' if args.shared_values else 'fresh'} settings, think {args.think:g} s), "
           f"{os.cpu_count()} CPUs, load average {load_before:.2f} at the start, "
           f"{os.getloadavg()[0]:.2f} at the end",
           f"{'':<28}{'median':>10}{'p90':>10}{'max':>10}{'target':>9}{'n':>6}",
           summary("page load", loads)]
    if moves:
        out.append(summary("slider move", moves, TARGET_MOVE_MS if args.sessions >= 30 else None))
    out.append(f"{'server CPU per page load':<28}{cpu_load:8.0f}ms{'':<20}{'—':>9}{len(loads):>6}"
               f"   (the files and the first run)")
    if moves:
        out.append(f"{'server CPU per move rerun':<28}{cpu_move:8.0f}ms{'':<20}{'≤100':>9}"
                   f"{len(moves):>6}{flag}")
    out += [f"server CPU {cpu:.1f} s over {m.wall:.1f} s wall: {cpu / m.wall:.2f} cores busy; "
            f"memory (RSS) at the end {m.rss:.0f} MB; settled {m.settled:.0f} s after the "
            f"warm-up page",
            f"moves that changed the scorecard: {sum(r.changed for r in m.results)} of "
            f"{len(moves)}; driver's own CPU {driver_cpu:.1f} s"]
    if args.assets:
        out.append(f"page bytes fetched per session (index.html and the files it links): "
                   f"{statistics.median(r.bytes for r in m.results) / 1e6:.2f} MB")
    if args.option:
        out.append("server options: " + ", ".join(f"{k}={v}" for k, v in args.option))
    if args.sessions < 30:
        out.append("the move target (median ≤ 1.5 s) is set for 30 sessions")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=bounded(1, 60, "--sessions"), default=30,
                        help="sessions at once (1–60, default 30)")
    parser.add_argument("--moves", type=bounded(0, 30, "--moves"), default=5,
                        help="slider moves per session after the page load (0–30, default 5)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds between a session's moves (0–60, default 0)")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="seconds over which the sessions start (0–60, default 0: at once)")
    parser.add_argument("--shared-values", action="store_true",
                        help="all sessions move to the same settings (cached after the first)")
    parser.add_argument("--no-assets", dest="assets", action="store_false",
                        help="page load without fetching index.html and its files")
    add_common(parser, 600)
    args = parser.parse_args(argv)
    for name in ("think", "ramp"):
        value = getattr(args, name)
        if not 0 <= value <= 60:
            parser.error(f"--{name} {value:g}: allowed 0–60 seconds")
    return cli("app_load", run, args)


if __name__ == "__main__":
    raise SystemExit(main())
