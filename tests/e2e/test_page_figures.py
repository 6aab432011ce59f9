"""The API's page in headless Chromium shows the tutorial's figures as the core defines them
(tokens/s over the time since the request, the decode rate beside it, the monitor's issues)
and the web demo's counts under each reply (words, characters, events)."""

from __future__ import annotations

import json
import re
import urllib.request

from tests.api_fixtures import ApiServer, echo_agent
from tests.e2e.test_api_page import _text, _until, page_on, pytestmark  # noqa: F401
from tests.e2e.test_browser import type_line


async def test_the_page_shows_the_cores_rates_issues_and_the_demos_counts(tmp_path):
    server = ApiServer(echo_agent).start()
    url = server.url
    async with page_on(server, tmp_path) as call:
        await _until(call, "#status", "ready")
        await type_line(call, "count these words please")
        await _until(call, "#status", "completed")
        counts = await _until(call, ".counts", "events")
        session = await call("Runtime.evaluate", expression="session", returnByValue=True)
        session_id = session["result"]["value"]
        with urllib.request.urlopen(f"{url}/v1/sessions/{session_id}/messages") as response:
            stored = json.load(response)["messages"][1]
        tps, decode, issues = (
            await _text(call, "#tps"),
            await _text(call, "#decode"),
            await _text(call, "#issues"),
        )
    reply = stored["text"]
    words, characters, events = map(
        int, re.fullmatch(r"(\d+) words · (\d+) characters · (\d+) events", counts.strip()).groups()
    )
    assert (words, characters) == (len(reply.split()), len(reply))
    assert events > 3  # session_update, typing_start, the deltas, response_complete
    metrics = stored["metrics"]
    assert tps == f"{metrics['end_to_end_tokens_per_second']:.1f}"
    assert decode == f"{metrics['tokens_per_second']:.1f}"
    assert issues  # "none", or the monitor's issues as response_complete listed them


HOSTILE = (
    "**bold** and *soft* and `code` <script>window.pwned = 1</script> "
    '<img src=x onerror="window.pwned = 2"> [bad](javascript:window.pwned=3) '
    "[good](https://example.com/a)"
)


async def _value(call, expression: str):
    result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
    return result.get("result", {}).get("value")


async def test_the_page_renders_a_replys_markdown_and_a_hostile_reply_stays_inert(tmp_path):
    async with page_on(ApiServer(echo_agent).start(), tmp_path) as call:
        await _until(call, "#status", "ready")
        await type_line(call, HOSTILE)
        await _until(call, "#status", "completed")
        last = "[...document.querySelectorAll('.assistant')].pop()"
        assert await _value(call, f"{last}.querySelector('strong').textContent") == "bold"
        assert await _value(call, f"{last}.querySelector('em').textContent") == "soft"
        assert await _value(call, f"{last}.querySelector('code').textContent") == "code"
        hrefs = await _value(call, f"[...{last}.querySelectorAll('a')].map(a => a.href)")
        assert hrefs == ["https://example.com/a"]
        assert (
            await _value(call, "document.querySelectorAll('#chat script, #chat img').length") == 0
        )
        assert await _value(call, "typeof window.pwned") == "undefined"
        text = await _value(call, f"{last}.innerText")
        assert "<script>window.pwned = 1</script>" in text  # shown as text
        assert "[bad](javascript:window.pwned=3)" in text


async def test_a_reply_from_the_response_cache_says_cached_on_the_page_not_measured_rates(
    tmp_path,
):
    from tui.core.turn.cache import ResponseCache

    server = ApiServer(echo_agent).start()
    assert server.service is not None
    server.service.cache = ResponseCache(60)  # --cache-ttl 60
    url = server.url
    asked = json.dumps({"message": "cache me"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/v1/sessions", b"{}")) as made:
        first = json.load(made)["session_id"]
    with urllib.request.urlopen(
        urllib.request.Request(f"{url}/v1/sessions/{first}/messages", asked)
    ) as streamed:
        streamed.read()  # the model's answer, kept
    async with page_on(server, tmp_path) as call:
        await _until(call, "#status", "ready")
        await type_line(call, "cache me")  # the page's fresh session: from the cache
        await _until(call, "#status", "completed")
        figures = [await _text(call, key) for key in ("#ttft", "#tps", "#decode")]
        timeline = await _text(call, "#timeline")
    assert figures == ["cached", "cached", "cached"]  # not a page-timed TTFT and "0.0"
    assert "answered from cache" in timeline
