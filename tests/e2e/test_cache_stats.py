"""``GET /v1/sessions/{id}/stats`` of a session whose only turn was answered from the
response cache (``agents-tui api --cache-ttl``, its own process, a real model server on
127.0.0.1): no turn of it was measured, so its rates and times to first token are null (not
0.0, which reads as "measured, and slow"), in its averages and in the turn's own figures;
the turn and its tokens still count."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.e2e.test_response_cache import ask, cached, cached_api

RATES = (
    "average_time_to_first_token_s",
    "median_time_to_first_token_s",
    "average_tokens_per_second",
    "average_decode_tokens_per_second",
)


TURN_RATES = (
    "time_to_first_token_s",
    "tokens_per_second",
    "end_to_end_tokens_per_second",
    "inter_token_latency_p50_ms",
    "inter_token_latency_p95_ms",
)


async def stats(http: aiohttp.ClientSession, url: str, session: str) -> dict[str, Any]:
    async with http.get(f"{url}/v1/sessions/{session}/stats") as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
    return body


async def performance(http: aiohttp.ClientSession, url: str, session: str) -> dict[str, Any]:
    figures: dict[str, Any] = (await stats(http, url, session))["statistics"][
        "performance_statistics"
    ]
    return figures


async def test_a_session_answered_only_from_the_cache_has_null_rates_not_zero():
    with cached_api(300) as (model, url):
        async with aiohttp.ClientSession() as http:
            measured, asked, _ = await ask(http, url, "What is TTFT?")
            replayed, again, _ = await ask(http, url, "What is TTFT?")
            assert not cached(asked) and cached(again) and model.requests == 1
            mine = await performance(http, url, measured)
            assert all(isinstance(mine[key], float) and mine[key] > 0 for key in RATES), mine
            body = await stats(http, url, replayed)
            theirs = body["statistics"]["performance_statistics"]
            assert {key: theirs[key] for key in RATES} == dict.fromkeys(RATES), theirs
            assert theirs["turns"] == 1 and theirs["total_tokens_processed"] > 0
            assert theirs["performance_issues"] == "none"  # not "under 10 tokens/s"
            # the turn's own figures: not measured is null, not 0.0; its counts stay
            (turn,) = body["turn_metrics"]
            assert turn["cached"] is True
            assert {key: turn[key] for key in TURN_RATES} == dict.fromkeys(TURN_RATES), turn
            assert turn["streamed_tokens"] == theirs["total_tokens_processed"] > 0
            # the measured session's turn keeps its numbers
            (own,) = (await stats(http, url, measured))["turn_metrics"]
            assert own["cached"] is False
            assert all(isinstance(own[key], float) and own[key] > 0 for key in TURN_RATES)
