"""CORS for ``--allow-origin`` over real HTTP: preflights answered for allowed origins only,
``Access-Control-Allow-Origin`` on their answers (event streams and errors included), nothing
for other origins (refused as before) or for requests without ``Origin``; and the token's
scheme compared case-insensitively (``bearer TOKEN``, RFC 7235)."""

from __future__ import annotations

import functools

import aiohttp
import pytest

import tests.api_fixtures
from tui.api.server import create_app
from tui.bench.sse import read_events

ALLOWED = "http://app.example:8080"
FOREIGN = "http://evil.example"


@pytest.fixture
def cors_api(api, monkeypatch):
    """``api`` with ``--allow-origin ALLOWED``."""
    monkeypatch.setattr(
        tests.api_fixtures, "create_app", functools.partial(create_app, allow_origins=(ALLOWED,))
    )
    return api


def cors_headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower().startswith("access-control-")
    }


def preflight(method: str, origin: str = ALLOWED) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,last-event-id",
    }


async def test_preflights_are_answered_for_allowed_origins_only(cors_api):
    server = cors_api(token="s3cret")
    async with aiohttp.ClientSession() as http:
        for path, method in (
            ("/v1/sessions", "POST"),
            ("/v1/sessions/abc/messages", "POST"),
            ("/v1/sessions/abc/events", "GET"),
            ("/v1/sessions/abc", "DELETE"),
        ):
            async with http.options(f"{server.url}{path}", headers=preflight(method)) as response:
                assert response.status == 204, path  # no token needed for a preflight
                assert await response.read() == b""
                assert cors_headers(response) == {
                    "access-control-allow-origin": ALLOWED,
                    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
                    "access-control-allow-headers": "Authorization, Content-Type, Last-Event-ID",
                    "access-control-max-age": "600",
                }
                assert "Origin" in response.headers["Vary"]
        async with http.options(
            f"{server.url}/v1/sessions", headers=preflight("POST", FOREIGN)
        ) as response:
            assert response.status == 403
            assert cors_headers(response) == {}
            assert (await response.json())["error"]["code"] == "ORIGIN_NOT_ALLOWED"
        # an OPTIONS that is no preflight is what it was
        async with http.options(
            f"{server.url}/v1/sessions", headers={"Origin": ALLOWED}
        ) as response:
            assert response.status == 405
            assert cors_headers(response)["access-control-allow-origin"] == ALLOWED
        async with http.options(f"{server.url}/v1/sessions") as response:
            assert response.status == 405 and cors_headers(response) == {}


async def test_allowed_origins_read_answers_and_streams_others_get_nothing(cors_api):
    server = cors_api()
    async with aiohttp.ClientSession() as http:
        mine = {"Origin": ALLOWED}
        async with http.post(f"{server.url}/v1/sessions", json={}, headers=mine) as response:
            assert response.status == 201
            session_id = (await response.json())["session_id"]
            cors = cors_headers(response)
            assert response.headers["Vary"] == "Origin"
        assert cors["access-control-allow-origin"] == ALLOWED
        exposed = {h.strip() for h in cors["access-control-expose-headers"].split(",")}
        assert {"Retry-After", "Location"} <= exposed
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages",
            json={"message": "hello"},
            headers=mine,
        ) as response:
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert cors_headers(response)["access-control-allow-origin"] == ALLOWED
            events = await read_events(response)
        assert events[-1]["type"] == "response_complete"
        for path in ("/v1/sessions/nosuch/messages", "/v1/stats", "/healthz"):
            async with http.get(f"{server.url}{path}", headers=mine) as response:
                assert cors_headers(response)["access-control-allow-origin"] == ALLOWED, path
        # a foreign origin: refused as before, nothing that would let its page read it
        for method, path in (("get", "/v1/stats"), ("post", "/v1/sessions")):
            async with http.request(
                method, f"{server.url}{path}", headers={"Origin": FOREIGN}
            ) as response:
                assert response.status == 403
                assert cors_headers(response) == {}
                assert "Vary" not in response.headers
        # no Origin (curl, SDKs): no CORS headers
        async with http.get(f"{server.url}/v1/stats") as response:
            assert response.status == 200 and cors_headers(response) == {}
        # the server's own origin (its page) needs none either
        async with http.get(f"{server.url}/v1/stats", headers={"Origin": server.url}) as response:
            assert response.status == 200 and cors_headers(response) == {}


async def test_the_bearer_scheme_is_compared_case_insensitively(api):
    server = api(token="s3cret")
    async with aiohttp.ClientSession() as http:
        for value, status in (
            ("Bearer s3cret", 200),
            ("bearer s3cret", 200),
            ("BEARER s3cret", 200),
            ("bEaReR  s3cret", 200),
            ("Bearer S3CRET", 401),
            ("Bearer wrong", 401),
            ("Basic s3cret", 401),
            ("s3cret", 401),
            ("Bearers3cret", 401),
            ("", 401),
        ):
            async with http.get(
                f"{server.url}/v1/agents", headers={"Authorization": value}
            ) as response:
                assert response.status == status, value


PAGE_SCRIPT = """
(async () => {
  const api = %(api)s;
  try {
    const made = await fetch(api + "/v1/sessions", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "bearer s3cret"},
      body: JSON.stringify({title: "from a page"}),
    });
    const created = await made.json();
    const location = made.headers.get("Location");
    const streamed = await fetch(api + "/v1/sessions/" + created.session_id + "/messages", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer s3cret"},
      body: JSON.stringify({message: "hello from the browser"}),
    });
    const reader = streamed.body.getReader();
    const decoder = new TextDecoder();
    let text = "", chunks = 0;
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      chunks += 1;
      text += decoder.decode(value, {stream: true});
    }
    return JSON.stringify({status: made.status, location, chunks, text});
  } catch (problem) {
    return JSON.stringify({failed: String(problem)});
  }
})()
"""


def serve_page(port: int) -> object:
    """A blank page on its own origin (http://127.0.0.1:PORT/), in a thread."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>a page</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def run_in_chromium(page_url: str, api_url: str, profile) -> dict:
    import asyncio
    import json

    from tests.e2e.test_browser import _cdp, launch_chromium

    browser, ws_url = launch_chromium(page_url, profile)
    try:
        session, ws, call = await _cdp(ws_url)
        try:
            for _ in range(50):
                href = await call("Runtime.evaluate", expression="location.href")
                if href.get("result", {}).get("value", "").startswith(page_url):
                    break
                await asyncio.sleep(0.1)
            result = await call(
                "Runtime.evaluate",
                expression=PAGE_SCRIPT % {"api": json.dumps(api_url)},
                awaitPromise=True,
            )
            return json.loads(result["result"]["value"])
        finally:
            await ws.close()
            await session.close()
    finally:
        browser.kill()
        browser.wait(timeout=10)


async def test_chromium_on_the_allowed_origin_streams_and_a_foreign_one_is_refused(
    api, monkeypatch, tmp_path
):
    from tests.e2e.test_browser import CHROMIUM
    from tests.mcp_servers import free_port

    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium")
    allowed_port, foreign_port = free_port(), free_port()
    allowed = f"http://127.0.0.1:{allowed_port}"
    monkeypatch.setattr(
        tests.api_fixtures, "create_app", functools.partial(create_app, allow_origins=(allowed,))
    )
    server = api(token="s3cret")
    pages = [serve_page(allowed_port), serve_page(foreign_port)]
    try:
        mine = await run_in_chromium(f"{allowed}/", server.url, tmp_path / "one")
        theirs = await run_in_chromium(
            f"http://127.0.0.1:{foreign_port}/", server.url, tmp_path / "two"
        )
    finally:
        for page in pages:
            page.shutdown()
    assert "failed" not in mine, mine
    assert mine["status"] == 201 and mine["location"].startswith("/v1/sessions/")
    assert '"type": "response_complete"' in mine["text"]
    assert '"delta": "browser "' in mine["text"] and mine["chunks"] >= 1
    assert theirs == {"failed": "TypeError: Failed to fetch"}
    titles = [row.title for row in server.service.store.conversations()]
    assert titles == ["from a page"]  # the foreign page's POST created nothing
