"""``agents-tui serve`` in headless Chromium: load the page, send a prompt, see the reply."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Locally the browser tests run when Chromium is there; in CI (which installs it) they always
# run, so a missing Chromium fails instead of skipping.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)",
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return urllib.request.urlopen(url, timeout=1).read().decode()
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


async def _cdp(ws_url: str):
    import aiohttp

    session = aiohttp.ClientSession()
    ws = await session.ws_connect(ws_url, max_msg_size=0)
    counter = 0

    async def call(method: str, **params):
        nonlocal counter
        counter += 1
        await ws.send_json({"id": counter, "method": method, "params": params})
        while True:
            message = json.loads((await ws.receive()).data)
            if message.get("id") == counter:
                return message.get("result", {})

    return session, ws, call


def launch_chromium(url: str, profile: Path, size: str = "1400,900") -> tuple[Any, str]:
    """Headless Chromium on ``url`` (flags for this closed network); its DevTools page URL."""
    assert CHROMIUM is not None, "chromium is missing: .ci/run installs it"
    debug_port = _port()
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--remote-debugging-port={debug_port}",
            f"--window-size={size}",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    targets = json.loads(_wait_http(f"http://127.0.0.1:{debug_port}/json", 30))
    return browser, next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


async def type_line(call: Any, text: str) -> None:
    """Real key events for ``text``, then Enter, through the DevTools protocol."""
    for char in text:
        await call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
        await call("Input.dispatchKeyEvent", type="keyUp", key=char)
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
    await call("Input.dispatchKeyEvent", type="keyDown", text="\r", **enter)
    await call("Input.dispatchKeyEvent", type="keyUp", **enter)


async def test_browser_sends_a_prompt_and_sees_the_streamed_reply(tmp_path):
    assert CHROMIUM is not None, "chromium is missing: .ci/run installs it"
    repo = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=str(repo),
    )
    env.pop("OPENAI_API_KEY", None)
    port = _port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "serve",
            "--port",
            str(port),
            "--",
            "--agent",
            "tests.fixtures_agents:dice",
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    browser = None
    try:
        page = _wait_http(f"http://127.0.0.1:{port}/", 30)
        assert "agents-tui" in page
        browser, ws_url = launch_chromium(f"http://127.0.0.1:{port}/", tmp_path / "chrome")
        session, ws, call = await _cdp(ws_url)
        try:
            await asyncio.sleep(6)  # the page starts the app in a terminal
            for kind in ("mousePressed", "mouseReleased"):  # click into the prompt
                await call(
                    "Input.dispatchMouseEvent", type=kind, x=300, y=690, button="left", clickCount=1
                )
            await type_line(call, "I climb the cliff")  # xterm.js listens for real keys
            db = tmp_path / "data" / "agents-tui" / "agents-tui.db"
            turn = None
            for _ in range(120):
                await asyncio.sleep(0.25)
                if db.exists():
                    row = (
                        sqlite3.connect(db)
                        .execute("SELECT prompt, reply, status, tools FROM turns")
                        .fetchone()
                    )
                    if row and row[2] == "completed":
                        turn = row
                        break
            if turn is None:
                import base64

                shot = await call("Page.captureScreenshot", format="png")
                (tmp_path / "failed.png").write_bytes(base64.b64decode(shot["data"]))
            assert turn is not None, "the prompt typed in the browser never completed a turn"
            assert turn[0] == "I climb the cliff"
            assert turn[1].endswith("you climb!")
            assert json.loads(turn[3])[0]["name"] == "roll_dice"  # the timeline row's call
            await asyncio.sleep(1)
            shot = await call("Page.captureScreenshot", format="png")
            import base64

            png = base64.b64decode(shot["data"])
            (tmp_path / "browser.png").write_bytes(png)
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
        finally:
            await ws.close()
            await session.close()
    finally:
        if browser is not None:
            browser.kill()
        server.terminate()
        server.wait(timeout=10)
