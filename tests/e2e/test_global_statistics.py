"""``GET /v1/stats`` shows the tutorial monitor's global statistics (``get_global_stats``:
total sessions, sessions with issues, last updated), the same figures ``agents-tui stats``
prints, and no ``error_rate`` that is not the monitor's."""

from __future__ import annotations

import re

import aiohttp

from tests.e2e.test_api import new_session, reply_of, send


async def test_v1_stats_carries_the_global_statistics_of_the_store(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        sessions = [await new_session(http, server.url) for _ in range(2)]
        for session_id in sessions:
            assert reply_of(await send(http, server.url, session_id, "hello there"))
        async with http.get(f"{server.url}/v1/stats") as response:
            assert response.status == 200
            statistics = (await response.json())["statistics"]
    glob = statistics["global_statistics"]
    assert glob["total_sessions"] == 2 and glob["total_turns"] == 2
    assert glob["sessions_with_issues"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", glob["last_updated"])
    kept = server.service.store.global_stats()
    assert glob["total_sessions"] == kept["total_sessions"]
    assert glob["sessions_with_issues"] == kept["sessions_with_issues"]
    perf = statistics["performance_statistics"]
    assert "error_rate" not in perf and perf["turns_with_errors_share"] == 0.0
