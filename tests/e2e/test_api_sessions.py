"""Sessions as resources over real HTTP: ``Location`` on ``201``, ``GET /v1/sessions`` (pages
by cursor or offset, filtered by agent and title, each session's status) and
``DELETE /v1/sessions/{id}`` (a running turn cancelled first; turns, memory, events and
recordings gone; 404 after)."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime

import aiohttp

from tests import approval_agents as fx
from tests.api_fixtures import echo_agent
from tui.bench.sse import read_events, sse_events
from tui.core.turn.recording import recordings_dir


async def create(http: aiohttp.ClientSession, url: str, **body) -> str:
    async with http.post(f"{url}/v1/sessions", json=body) as response:
        assert response.status == 201
        return str((await response.json())["session_id"])


async def listing(http: aiohttp.ClientSession, url: str, query: str = "") -> dict:
    async with http.get(f"{url}/v1/sessions{query}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_201_names_the_new_session_in_location_and_it_answers_there(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions", json={"title": "here"}) as response:
            assert response.status == 201
            session_id = (await response.json())["session_id"]
            location = response.headers["Location"]
        assert location == f"/v1/sessions/{session_id}"
        async with http.get(f"{server.url}{location}") as response:
            assert response.status == 200
            item = await response.json()
        assert item["id"] == session_id and item["title"] == "here"
        assert (item["turns"], item["status"], item["agent"]) == (0, "idle", None)
        async with http.get(f"{server.url}/v1/sessions/nosuch") as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "SESSION_NOT_FOUND"


async def test_sessions_are_listed_in_pages_by_cursor_or_offset_and_filtered(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        made = []
        for n in range(7):
            agent = "game-master" if n % 3 == 0 else None
            body = {"title": f"table {n}" if n % 2 else f"chat {n}"}
            made.append(
                await create(http, server.url, **body, **({"agent": agent} if agent else {}))
            )
        async with http.post(
            f"{server.url}/v1/sessions/{made[2]}/messages",
            json={"message": "hello", "author": "Lan"},
        ) as response:
            await read_events(response)
        newest_first = [made[2]] + [s for s in reversed(made) if s != made[2]]
        everything = await listing(http, server.url)
        assert [s["id"] for s in everything["sessions"]] == newest_first
        assert everything["next_cursor"] is None
        first = everything["sessions"][0]
        assert set(first) == {
            "id",
            "title",
            "agent",
            "created_at",
            "last_activity",
            "participants",
            "turns",
            "status",
        }
        assert (first["turns"], first["status"], first["title"]) == (1, "idle", "chat 2")
        assert first["participants"] == ["Lan"]  # who typed there in the last hour
        assert everything["sessions"][1]["participants"] == []
        created = datetime.fromisoformat(first["created_at"])
        assert created.tzinfo is not None
        assert created <= datetime.fromisoformat(first["last_activity"])
        # by cursor, three at a time: every session once, in order
        seen, cursor = [], ""
        for _ in range(5):
            page = await listing(http, server.url, f"?limit=3{cursor}")
            assert len(page["sessions"]) <= 3
            seen += [s["id"] for s in page["sessions"]]
            if page["next_cursor"] is None:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert seen == newest_first
        # by offset
        page = await listing(http, server.url, "?limit=3&offset=3")
        assert [s["id"] for s in page["sessions"]] == newest_first[3:6]
        assert page["next_cursor"] is not None
        # filters
        page = await listing(http, server.url, "?agent=game-master")
        assert {s["id"] for s in page["sessions"]} == {made[0], made[3], made[6]}
        assert {s["agent"] for s in page["sessions"]} == {"game-master"}
        page = await listing(http, server.url, "?q=table")
        assert {s["id"] for s in page["sessions"]} == {made[1], made[3], made[5]}
        page = await listing(http, server.url, "?q=table&agent=game-master&limit=500")
        assert [s["id"] for s in page["sessions"]] == [made[3]]
        # what is refused
        for query in (
            "?limit=0",
            "?limit=501",
            "?limit=abc",
            "?offset=-1",
            "?cursor=bm9wZQ",
            "?cursor=!!",
            f"?offset=1&cursor={everything['sessions'][0]['id']}",
        ):
            async with http.get(f"{server.url}/v1/sessions{query}") as response:
                assert response.status == 422, query
                assert (await response.json())["error"]["code"] == "INVALID_REQUEST"


async def test_a_listed_session_is_active_while_its_turn_runs_and_awaiting_an_approval(api):
    fx.DELETED.clear()
    server = api(fx.cleaner)
    async with aiohttp.ClientSession() as http:
        session_id = await create(http, server.url)
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json={"message": "clean up"}
        ) as response:
            async for event in sse_events(response):
                if event["type"] != "approval_required":
                    continue
                page = await listing(http, server.url)
                assert page["sessions"][0]["status"] == "awaiting_approval"
                call_id = event["data"]["call_id"]
                async with http.post(
                    f"{server.url}/v1/sessions/{session_id}/approvals/{call_id}",
                    json={"approve": False},
                ) as answer:
                    assert answer.status == 200
        page = await listing(http, server.url)
        assert page["sessions"][0]["status"] == "idle"

    slow = api(functools.partial(echo_agent, 5.0))
    async with aiohttp.ClientSession() as http:
        session_id = await create(http, slow.url)
        async with http.post(
            f"{slow.url}/v1/sessions/{session_id}/messages", json={"message": "one two three"}
        ) as response:
            async for event in sse_events(response):
                if event["type"] == "text_delta":
                    page = await listing(http, slow.url)
                    assert page["sessions"][0]["status"] == "active"
                    break


async def test_delete_takes_the_session_its_turns_memory_and_recordings(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        keep = await create(http, server.url, title="keep")
        session_id = await create(http, server.url, title="drop")
        for sid in (keep, session_id):
            async with http.post(
                f"{server.url}/v1/sessions/{sid}/messages", json={"message": "hello"}
            ) as response:
                await read_events(response)
        store = server.service.store
        assert store.turn_count(session_id) == 1
        assert list(recordings_dir().glob(f"*-{session_id}.jsonl"))
        async with http.delete(f"{server.url}/v1/sessions/{session_id}") as response:
            assert response.status == 204
            assert await response.read() == b""
        for method, path in (
            ("get", f"/v1/sessions/{session_id}"),
            ("get", f"/v1/sessions/{session_id}/messages"),
            ("delete", f"/v1/sessions/{session_id}"),
            ("delete", "/v1/sessions/nosuch"),
        ):
            async with http.request(method, f"{server.url}{path}") as response:
                assert response.status == 404, (method, path)
                assert (await response.json())["error"]["code"] == "SESSION_NOT_FOUND"
        assert [s["id"] for s in (await listing(http, server.url))["sessions"]] == [keep]
        assert session_id not in server.service.sessions
        assert store.conversation(session_id) is None and store.turn_count(session_id) == 0
        assert not list(recordings_dir().glob(f"*-{session_id}.jsonl"))
        assert list(recordings_dir().glob(f"*-{keep}.jsonl"))
        memory = store.memory(session_id, per_call=True)
        assert await memory.get_items() == []
        assert len(await store.memory(keep, per_call=True).get_items()) == 2
        async with http.get(f"{server.url}/v1/stats") as response:
            stats = await response.json()
        assert stats["statistics"]["performance_statistics"]["turns"] == 1


async def test_delete_cancels_a_running_turn_and_lets_it_end_first(api):
    server = api(functools.partial(echo_agent, 4.0))
    async with aiohttp.ClientSession() as http:
        session_id = await create(http, server.url)
        events: list[dict] = []

        async def stream() -> None:
            async with http.post(
                f"{server.url}/v1/sessions/{session_id}/messages",
                json={"message": "a long prompt of many many words to echo slowly"},
            ) as response:
                async for event in sse_events(response):
                    events.append(event)

        streaming = asyncio.create_task(stream())
        while not any(e["type"] == "text_delta" for e in events):
            await asyncio.sleep(0.02)
        async with http.delete(f"{server.url}/v1/sessions/{session_id}") as response:
            assert response.status == 204
        await asyncio.wait_for(streaming, 10)
        assert events[-1]["type"] == "response_complete"
        assert events[-1]["data"]["status"] == "interrupted"
        store = server.service.store
        assert store.conversation(session_id) is None and store.turn_count(session_id) == 0
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json={"message": "again"}
        ) as response:
            assert response.status == 404
