"""NUL (``\\u0000``) in any text is refused as ``422 INVALID_TEXT`` before anything is stored or
sent, on SQLite and on PostgreSQL (whose text refuses NUL: it reached the database and gave
500s, and a title with NUL left an orphan session): in a message, a title, a
``user_context`` key or value, a session id in the path, ``Last-Event-ID`` and the query."""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from tests.e2e.test_many_processes import api_processes

NUL_BODIES = (
    ("/v1/sessions", {"title": "a\u0000b"}),
    ("/v1/sessions", {"user_context": {"k": "v\u0000"}}),
    ("/v1/sessions", {"user_context": {"\u0000": 1}}),
    ("/v1/sessions", {"user_context": {"deep": [{"x": "\u0000"}]}}),
    ("/v1/sessions", {"session_id": "x\u0000"}),
    ("/v1/sessions", {"agent": "\u0000"}),
    ("/v1/sessions/{sid}/messages", {"message": "hello\u0000there"}),
    ("/v1/sessions/{sid}/approvals/c1", {"approve": True, "note": "\u0000"}),
)
NUL_PATHS = (
    ("get", "/v1/sessions/%00/messages"),
    ("get", "/v1/sessions/%00"),
    ("delete", "/v1/sessions/%00"),
    ("get", "/v1/sessions/%00/stats"),
    ("get", "/v1/sessions/%00/events"),
    ("post", "/v1/sessions/%00/cancel"),
    ("post", "/v1/sessions/%00FAKE%1B[2J/messages"),
    ("post", "/v1/sessions/{sid}/approvals/%00"),
    ("get", "/v1/sessions/{sid}/events?last_event_id=%00"),
    ("get", "/v1/sessions/{sid}/events?last_event_id=1-1%00"),
    ("get", "/v1/sessions?q=%00"),
    ("get", "/v1/sessions?agent=a%00"),
    ("get", "/v1/sessions?cursor=WzEuMCwgIlx1MDAwMCJd"),  # [1.0, "\u0000"]
    ("get", "/v1/stats?x%00=1"),
)


async def is_invalid_text(response: aiohttp.ClientResponse, what: object) -> None:
    assert response.status == 422, (what, response.status, await response.text())
    body = await response.json()
    assert body["error"]["code"] == "INVALID_TEXT", (what, body)
    assert "NUL" in body["error"]["message"]


async def raw_request(url: str, head: bytes) -> int:
    """A request sent as bytes (a header no client library would send): its status."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return int(line.split()[1])


async def nul_is_refused_everywhere(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/sessions", json={"title": "fine"}) as response:
            assert response.status == 201
            sid = (await response.json())["session_id"]
        for path, body in NUL_BODIES:
            async with http.post(f"{url}{path.format(sid=sid)}", json=body) as response:
                await is_invalid_text(response, body)
        for method, path in NUL_PATHS:
            target = f"{url}{path.format(sid=sid)}"
            async with http.request(method, URL(target, encoded=True)) as response:
                await is_invalid_text(response, path)
        # Last-Event-ID as a header: refused (by the HTTP parser or as INVALID_TEXT), never 500
        status = await raw_request(
            url,
            f"GET /v1/sessions/{sid}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"Last-Event-ID: 1-\x001\r\nConnection: close\r\n\r\n",
        )
        assert status in (400, 422), status
        # nothing was stored: one session, no turn, and it still works
        async with http.get(f"{url}/v1/sessions") as response:
            sessions = (await response.json())["sessions"]
        assert [(s["id"], s["title"], s["turns"]) for s in sessions] == [(sid, "fine", 0)]
        async with http.post(
            f"{url}/v1/sessions/{sid}/messages", json={"message": "still fine"}
        ) as response:
            assert response.status == 200
            text = await response.text()
        assert '"response_complete"' in text and '"completed"' in text


async def test_nul_is_refused_as_invalid_text_on_sqlite(api):
    server = api()
    await nul_is_refused_everywhere(server.url)


async def test_nul_is_refused_as_invalid_text_on_postgresql(postgres_url):
    with api_processes(postgres_url, 1) as procs:
        await nul_is_refused_everywhere(procs[0][0])
