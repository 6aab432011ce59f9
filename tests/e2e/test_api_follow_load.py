"""An old ``Last-Event-ID`` on a long SQLite session is read off the event loop: the store is
read in a worker thread (it was read on the loop: 20 such follows on 20,000 turns froze
every stream and pushed ``/v1/agents`` to 6 s), and other requests are answered promptly
meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import aiohttp

from tui.bench.sse import read_events
from tui.core.turn.protocol import ENDING_SEQ

TURNS = 5000


def add_turns(path, session_id: str, count: int) -> list[int]:
    with sqlite3.connect(path, timeout=10) as conn:
        now = time.time() - count
        conn.executemany(
            "INSERT INTO turns(conversation_id, started_at, finished_at, prompt, reply, status,"
            " error, tools, metrics) VALUES (?, ?, ?, ?, ?, 'completed', NULL, '[]', '{}')",
            [
                (session_id, now + n, now + n + 0.5, f"prompt {n}", f"reply {n} " + "x" * 400)
                for n in range(count)
            ],
        )
        rows = conn.execute(
            "SELECT id FROM turns WHERE conversation_id = ? ORDER BY id", (session_id,)
        ).fetchall()
    return [int(row[0]) for row in rows]


async def test_an_old_last_event_id_is_read_in_a_worker_thread_and_the_loop_stays_free(api):
    server = api()
    service = server.service
    coordination = service.store.coordination
    read_on: list[object] = []
    real = coordination.follow_turn

    def follow_turn(*args, **kwargs):
        try:
            read_on.append(asyncio.get_running_loop())
        except RuntimeError:
            read_on.append(None)  # no event loop here: a worker thread
        return real(*args, **kwargs)

    coordination.follow_turn = follow_turn
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions", json={}) as response:
            session_id = (await response.json())["session_id"]
        turn_ids = add_turns(service.store.path, session_id, TURNS)

        async def follow(turn_id: int) -> list[dict]:
            async with http.get(
                f"{server.url}/v1/sessions/{session_id}/events",
                headers={"Last-Event-ID": f"{turn_id}-1"},
            ) as response:
                assert response.status == 200
                return await read_events(response)

        async def agents_latency() -> float:
            started = time.perf_counter()
            async with http.get(f"{server.url}/v1/agents") as response:
                assert response.status == 200
                await response.read()
            return time.perf_counter() - started

        followers = [asyncio.create_task(follow(turn_ids[n * 100])) for n in range(20)]
        latencies = []
        while not all(task.done() for task in followers):
            latencies.append(await agents_latency())
            await asyncio.sleep(0.01)
        results = await asyncio.gather(*followers)
    for n, events in enumerate(results):
        assert [e["type"] for e in events] == ["response_complete"]
        assert events[0]["data"]["final_response"].startswith(f"reply {n * 100} ")
        assert events[0]["id"] == f"{turn_ids[n * 100]}-{ENDING_SEQ}"  # how it ended
    assert read_on and all(loop is None for loop in read_on), read_on
    assert max(latencies, default=0.0) < 0.5, latencies
