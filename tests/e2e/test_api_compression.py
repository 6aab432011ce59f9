"""gzip over real HTTP (``tui.api.compression``): JSON answers compressed when the client
asks and plain when not, tiny ones never, and an event stream decoded event by event as
the turn streams (each event flushed), not all at the end."""

import functools
import itertools
import time

import aiohttp

from tests.api_fixtures import echo_agent, echo_words
from tui.api.compression import accepts_gzip
from tui.bench.sse import sse_events

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


def test_accept_encoding_is_read_with_its_weights():
    assert accepts_gzip("gzip") and accepts_gzip("deflate, gzip;q=0.5") and accepts_gzip("*")
    assert not accepts_gzip("") and not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("*, gzip;q=0")


async def test_json_is_gzip_when_asked_and_plain_when_not(api):
    server = api()
    # the raw bytes: aiohttp decompresses unless told not to
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        async with raw.get(f"{server.url}/openapi.json", headers=GZIP) as response:
            body = await response.read()
            assert response.headers["Content-Encoding"] == "gzip"
            assert "Accept-Encoding" in response.headers["Vary"]
            assert body[:2] == b"\x1f\x8b"
            assert int(response.headers["Content-Length"]) == len(body)
        async with raw.get(f"{server.url}/openapi.json", headers=PLAIN) as response:
            plain = await response.read()
            assert "Content-Encoding" not in response.headers
            assert "Accept-Encoding" in response.headers["Vary"]
            assert plain.startswith(b"{") and len(plain) > 5 * len(body)
        # a tiny answer gains nothing: it goes as it is
        async with raw.post(f"{server.url}/v1/sessions", headers=GZIP) as response:
            assert response.status == 201
            assert "Content-Encoding" not in response.headers
            assert "Accept-Encoding" not in response.headers.get("Vary", "")
            assert (await response.read()).startswith(b"{")
    # decompressed by the client: the same JSON
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/openapi.json", headers=GZIP) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        assert (await response.json())["openapi"]


async def test_gzip_event_stream_arrives_event_by_event(api):
    server = api(make_agent=functools.partial(echo_agent, rate=20.0))
    prompt = "one two three four five six seven eight"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        url = f"{server.url}/v1/sessions/{session_id}/messages"
        async with http.post(url, json={"message": prompt}, headers=GZIP) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Content-Type"].startswith("text/event-stream")
            arrived: list[tuple[float, dict]] = []
            async for event in sse_events(response):
                arrived.append((time.monotonic(), event))
    deltas = [(at, e["data"]["delta"]) for at, e in arrived if e["type"] == "text_delta"]
    assert "".join(d for _, d in deltas) == "".join(echo_words(prompt))
    # 11 deltas at 20 a second: half a second from the first to the last, each on its own
    assert deltas[-1][0] - deltas[0][0] > 0.3
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(deltas)]
    assert sum(gap > 0.02 for gap in gaps) >= len(gaps) // 2
    assert arrived[-1][1]["type"] == "response_complete"


async def test_a_follower_gets_its_headers_before_any_event(api):
    """``GET .../events`` with nothing running yet: the headers come at once, compressed."""
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        started = time.monotonic()
        url = f"{server.url}/v1/sessions/{session_id}/events"
        async with http.get(url, headers=GZIP) as response:
            assert time.monotonic() - started < 2
            assert response.headers["Content-Encoding"] == "gzip"
