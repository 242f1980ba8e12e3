"""Fixtures of the real-browser tests: a Streamlit server and a Chromium page.

The server is started on a free port as a subprocess and always stopped (``finally``), pass or
fail. It is started without ``--server.address``: it listens where ``.streamlit/config.toml``
says, as ``streamlit run app.py`` does for a planner (``test_browser.py`` checks where).
Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright for Python; no browser is
downloaded. If Chromium or Playwright is missing the tests are skipped with the reason.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _streamlit() -> list[str]:
    exe = Path(sys.executable).with_name("streamlit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]


class Server(NamedTuple):
    """A running ``streamlit run app.py``: its base URL, port, command line and process id."""
    url: str
    port: int
    cmd: tuple[str, ...]
    pid: int


@pytest.fixture(scope="module")
def streamlit_server():
    """``streamlit run app.py`` on a free port (:class:`Server`); stopped afterwards."""
    port = _free_port()
    log = ARTIFACTS / "e2e-streamlit.log"
    ARTIFACTS.mkdir(exist_ok=True)
    # no --server.address: the configured default is what is tested
    cmd = _streamlit() + ["run", str(REPO / "app.py"), "--server.headless", "true",
                          "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with code {proc.returncode}; see {log}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit not healthy after {STARTUP_SECONDS} s; see {log}")
                time.sleep(0.2)
            yield Server(url, port, tuple(cmd), proc.pid)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # its own session: only what it started
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)


@pytest.fixture(scope="module")
def server(streamlit_server):
    """Base URL of the server of :func:`streamlit_server`."""
    return streamlit_server.url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright for Python is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN",
                                  accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()
