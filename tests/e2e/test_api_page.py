"""The API's own page in headless Chromium: real key presses, streamed text, a tool row,
an approval answered with a click, TTFT and tokens/s shown."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests import approval_agents as fx
from tests.api_fixtures import ApiServer, echo_agent
from tests.e2e.test_browser import CHROMIUM, _cdp, _wait_http, launch_chromium, type_line

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (installed by .ci/run)",
)


@contextlib.asynccontextmanager
async def chromium_on(url: str, tmp_path, size: str = "1200,800") -> AsyncIterator[Any]:
    """Headless Chromium on ``url``; yields the DevTools ``call``."""
    browser = None
    try:
        browser, ws_url = launch_chromium(url, tmp_path / "chrome", size)
        session, ws, call = await _cdp(ws_url)
        try:
            yield call
        finally:
            await ws.close()
            await session.close()
    finally:
        if browser is not None:
            browser.kill()


@contextlib.asynccontextmanager
async def page_on(server: ApiServer, tmp_path) -> AsyncIterator[Any]:
    """The API server's page in headless Chromium; yields the DevTools ``call``."""
    try:
        assert "agents-tui api" in _wait_http(server.url + "/", 10)
        async with chromium_on(server.url + "/", tmp_path) as call:
            yield call
    finally:
        server.stop()


async def _text(call, selector: str) -> str:
    result = await call(
        "Runtime.evaluate",
        expression=f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''",
        returnByValue=True,
    )
    return str(result.get("result", {}).get("value", ""))


async def _until(call, selector: str, wanted: str, seconds: float = 20) -> str:
    text = ""
    for _ in range(int(seconds / 0.1)):
        text = await _text(call, selector)
        if wanted in text:
            return text
        await asyncio.sleep(0.1)
    shot = await call("Page.captureScreenshot", format="png")
    raise AssertionError(
        f"{wanted!r} not in {selector}: {text!r} ({len(base64.b64decode(shot['data']))} B shot)"
    )


async def test_the_page_chats_streams_and_shows_metrics(tmp_path):
    async with page_on(ApiServer(echo_agent).start(), tmp_path) as call:
        await _until(call, "#status", "ready")
        await type_line(call, "hello <b>world</b>")
        chat = await _until(call, "#chat", "You said: hello <b>world</b>")
        assert "<b>" in chat  # shown literally, never as markup
        await _until(call, "#status", "completed")
        assert (await _text(call, "#ttft")).endswith(" s")
        assert float(await _text(call, "#tps")) > 0


async def test_the_page_asks_for_approval_and_a_click_answers(tmp_path):
    fx.DELETED.clear()
    async with page_on(ApiServer(fx.cleaner).start(), tmp_path) as call:
        await _until(call, "#status", "ready")
        await type_line(call, "clean up")
        await _until(call, "#approval", "wants to run delete_file")
        assert "delete_file" in await _text(call, "#timeline")
        await call("Runtime.evaluate", expression="document.getElementById('approve').click()")
        await _until(call, "#approval", "b.txt")
        await call("Runtime.evaluate", expression="document.getElementById('reject').click()")
        await _until(call, "#chat", "All done.")
        await _until(call, "#status", "completed")
    assert fx.DELETED == ["a.txt"]


async def test_a_page_on_another_origin_cannot_create_sessions(tmp_path):
    """A real Chromium on a page served from another origin fires simple cross-origin POSTs
    (``Content-Type: text/plain``, no preflight) at the API: none is carried out."""
    import http.server
    import threading

    server = ApiServer(echo_agent).start()
    page = (
        "<html><body><script>"
        f"for (let i = 0; i < 5; i++) fetch('{server.url}/v1/sessions', {{method: 'POST',"
        " headers: {'Content-Type': 'text/plain'}, body: '{}'}).catch(() => {});"
        "document.title = 'fired';"
        "</script></body></html>"
    ).encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    evil_url = f"http://localhost:{evil.server_address[1]}/"
    try:
        async with chromium_on(evil_url, tmp_path, "800,600") as call:
            for _ in range(100):
                title = await call("Runtime.evaluate", expression="document.title")
                if title.get("result", {}).get("value") == "fired":
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the requests reach the server
    finally:
        evil.shutdown()
        server.stop()
    assert server.service is not None and server.service.sessions == {}
