"""``agents-tui api`` over real HTTP: sessions, streams, queue, history, stats, cancel by
disconnect, approvals, errors (404, 422, 401, 413) and 50 concurrent streams."""

import asyncio
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import aiohttp

from tests import approval_agents as fx
from tests.api_fixtures import echo_agent, echo_words, wait_until
from tui.bench.sse import read_events, sse_events
from tui.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


async def new_session(http: aiohttp.ClientSession, url: str, **body) -> str:
    async with http.post(f"{url}/v1/sessions", json=body or None) as response:
        assert response.status == 201
        return (await response.json())["session_id"]


async def send(http, url: str, session_id: str, message: str) -> list[dict]:
    async with http.post(
        f"{url}/v1/sessions/{session_id}/messages", json={"message": message}
    ) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return await read_events(response)


def reply_of(events: list[dict]) -> str:
    return "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta")


async def test_create_stream_history_and_stats(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url, title="first", user_context={"u": 1})
        events = await send(http, server.url, session_id, "hello there")
        assert [e["type"] for e in events[:3]] == ["session_update", "user_message", "typing_start"]
        assert events[1]["data"] == {"author": "", "text": "hello there", "message_id": ""}
        assert events[-1]["type"] == "response_complete"
        assert all(set(e) == {"type", "data", "timestamp", "id"} for e in events)
        # every event has an id (TURN-SEQ), in order, none twice: what Last-Event-ID names
        ids = [tuple(map(int, e["id"].split("-"))) for e in events]
        assert len({turn for turn, _ in ids}) == 1
        assert [seq for _, seq in ids] == sorted({seq for _, seq in ids})
        assert reply_of(events) == "".join(echo_words("hello there"))
        done = events[-1]["data"]
        assert done["final_response"] == reply_of(events) and done["status"] == "completed"
        assert done["performance_issues"] == []
        async with http.get(f"{server.url}/v1/sessions/{session_id}/messages") as response:
            messages = (await response.json())["messages"]
        assert [(m["role"], m["text"]) for m in messages] == [
            ("user", "hello there"),
            ("assistant", reply_of(events)),
        ]
        assert messages[1]["status"] == "completed"
        async with http.get(f"{server.url}/v1/sessions/{session_id}/stats") as response:
            stats = await response.json()
        # the tutorial's count (the person's messages), as session_update said it
        assert stats["session_id"] == session_id and stats["message_count"] == 1
        assert events[0]["data"]["message_count"] == 1
        assert stats["status"] == "idle" and stats["user_context"] == {"u": 1}
        assert stats["duration_minutes"] >= 0
        created = datetime.fromisoformat(stats["created_at"])
        assert created <= datetime.fromisoformat(stats["last_activity"])
        assert created.tzinfo is not None
        deltas = [e["data"] for e in events if e["type"] == "text_delta"]
        assert deltas[-1]["word_count"] == reply_of(events).count(" ")
        assert stats["statistics"]["chat_statistics"]["your_messages"] == 1
        async with http.get(f"{server.url}/v1/stats") as response:
            assert (await response.json())["statistics"]["performance_statistics"]["turns"] == 1
    # The same stored conversation the TUI lists (Ctrl+S).
    conversation = Store().conversation(session_id)
    assert conversation is not None and conversation.title == "first"


async def test_a_prompt_sent_while_a_turn_runs_is_queued(api):
    server = api(lambda: echo_agent(rate=40))
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        first_prompt = " ".join(f"w{i}" for i in range(30))
        first = asyncio.create_task(send(http, server.url, session_id, first_prompt))
        await asyncio.sleep(0.2)
        second = await send(http, server.url, session_id, "six")
        first_events = await first
    assert second[0]["type"] == "queued"
    assert reply_of(first_events) == "".join(echo_words(first_prompt))
    assert reply_of(second) == "".join(echo_words("six"))
    # The second turn started after the first ended: it saw the first in its memory.
    turns = Store().turns(session_id)
    assert [t.prompt for t in turns] == [first_prompt, "six"]
    assert turns[1].started_at >= turns[0].finished_at


async def test_a_client_that_disconnects_cancels_its_turn_and_the_partial_reply_is_kept(api):
    server = api(lambda: echo_agent(rate=20))
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        words = " ".join(f"w{i}" for i in range(100))
        response = await http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json={"message": words}
        )
        seen = b""
        async for chunk in response.content.iter_any():
            seen += chunk
            if seen.count(b"text_delta") >= 5:
                break
        response.close()  # the client goes away mid-stream
    await wait_until(lambda: Store().turns(session_id)[-1].status != "running", timeout=10)
    turn = Store().turns(session_id)[-1]
    assert turn.status == "interrupted"
    assert turn.reply.startswith("You said: w0") and len(turn.reply) < len(words)


async def test_cancel_endpoint_stops_the_turn(api):
    server = api(lambda: echo_agent(rate=20))
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        stream = asyncio.create_task(
            send(http, server.url, session_id, " ".join(f"w{i}" for i in range(100)))
        )
        await asyncio.sleep(0.5)
        async with http.post(f"{server.url}/v1/sessions/{session_id}/cancel") as response:
            assert (await response.json()) == {"cancelled": True}
        events = await stream
    assert events[-1]["data"]["status"] == "interrupted"


async def test_approvals_over_http(api):
    fx.DELETED.clear()
    server = api(fx.cleaner)
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        response = await http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json={"message": "clean up"}
        )
        events: list[dict] = []
        answered = set()
        async for event in sse_events(response):
            events.append(event)
            if event["type"] == "approval_required":
                call_id = event["data"]["call_id"]
                approve = call_id == "call_1"
                answered.add(call_id)
                async with http.post(
                    f"{server.url}/v1/sessions/{session_id}/approvals/{call_id}",
                    json={"approve": approve},
                ) as answer:
                    assert answer.status == 200
        # Answering a call that is not pending is a clear 409.
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/approvals/call_1", json={"approve": True}
        ) as late:
            assert late.status == 409
            assert (await late.json())["error"]["code"] == "APPROVAL_NOT_PENDING"
    assert answered == {"call_1", "call_2"}
    resolved = [e["data"] for e in events if e["type"] == "approval_resolved"]
    assert [(r["call_id"], r["approved"], r["by"]) for r in resolved] == [
        ("call_1", True, "user"),
        ("call_2", False, "user"),
    ]
    assert fx.DELETED == ["a.txt"]
    assert events[-1]["data"]["final_response"] == "Let me clean up.\n\nAll done. "


async def test_errors_have_stable_codes(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.url}/v1/sessions/nosuch/messages", json={"message": "hi"}
        ) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "SESSION_NOT_FOUND"
        async with http.get(f"{server.url}/v1/sessions/nosuch/stats") as response:
            assert response.status == 404
        session_id = await new_session(http, server.url)
        for body, code in (
            ({"message": ""}, "INVALID_REQUEST"),
            ({"text": "hi"}, "INVALID_REQUEST"),
            (b"{not json", "INVALID_JSON"),
            ([1, 2], "INVALID_REQUEST"),
        ):
            kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
            async with http.post(
                f"{server.url}/v1/sessions/{session_id}/messages", **kwargs
            ) as response:
                assert response.status == 422, body
                assert (await response.json())["error"]["code"] == code
        async with http.post(f"{server.url}/v1/sessions", json={"agent": "mypkg:evil"}) as r:
            assert r.status == 422 and (await r.json())["error"]["code"] == "UNKNOWN_AGENT"
        huge = {"message": "x" * (300 * 1024)}
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", json=huge
        ) as response:
            assert response.status == 413
            assert (await response.json())["error"]["code"] == "BODY_TOO_LARGE"
        async with http.get(f"{server.url}/v1/nothing") as response:
            assert (
                response.status == 404 and (await response.json())["error"]["code"] == "NOT_FOUND"
            )


async def test_a_token_is_required_on_every_api_request(api):
    server = api(token="s3cret")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "UNAUTHORIZED"
        async with http.post(
            f"{server.url}/v1/sessions", headers={"Authorization": "Bearer wrong"}
        ) as response:
            assert response.status == 401
        async with http.post(
            f"{server.url}/v1/sessions", headers={"Authorization": "Bearer s3cret"}
        ) as response:
            assert response.status == 201


async def test_fifty_concurrent_streams_get_exact_text(api):
    server = api(lambda: echo_agent(rate=100))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sessions = [await new_session(http, server.url) for _ in range(50)]
        prompts = [f"stream {i} " + " ".join(f"w{i}-{j}" for j in range(30)) for i in range(50)]
        started = time.monotonic()
        results = await asyncio.gather(
            *(send(http, server.url, s, p) for s, p in zip(sessions, prompts, strict=True))
        )
        elapsed = time.monotonic() - started
    for prompt, events in zip(prompts, results, strict=True):
        assert reply_of(events) == "".join(echo_words(prompt))
        assert events[-1]["data"]["status"] == "completed"
    # 34 deltas at 100/s each: concurrent, not one after the other (50 x 0.34 s = 17 s).
    assert elapsed < 10, elapsed


def test_binding_off_loopback_needs_a_token():
    done = subprocess.run(
        [sys.executable, "-m", "tui", "api", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "set a token" in done.stderr


async def test_a_foreign_origin_or_host_is_refused_and_plain_clients_still_work(api):
    """Any web page could drive a token-less loopback API (simple cross-origin POSTs) and
    DNS rebinding could reach it under another name: both are refused, curl-like clients
    (no Origin) and the server's own page keep working."""
    server = api()
    async with aiohttp.ClientSession() as http:
        # a plain client, with or without a JSON content type
        assert await new_session(http, server.url)
        async with http.post(
            f"{server.url}/v1/sessions", data="{}", headers={"Content-Type": "text/plain"}
        ) as response:
            assert response.status == 201
        # a page on another origin, sending a "simple" request
        async with http.post(
            f"{server.url}/v1/sessions",
            data="{}",
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        ) as response:
            assert response.status == 403
            assert (await response.json())["error"]["code"] == "ORIGIN_NOT_ALLOWED"
        # DNS rebinding: the right address under a foreign name
        async with http.get(
            f"{server.url}/v1/stats", headers={"Host": f"evil.example:{server.port}"}
        ) as response:
            assert response.status == 421
            assert (await response.json())["error"]["code"] == "HOST_NOT_ALLOWED"
        async with http.get(f"{server.url}/", headers={"Host": "evil.example"}) as response:
            assert response.status == 421  # the page too
        # the server's own page (same origin), by address and by localhost
        for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
            async with http.post(
                f"{server.url}/v1/sessions",
                json={},
                headers={"Origin": f"http://{host}", "Host": host},
            ) as response:
                assert response.status == 201
    assert server.service is not None and len(server.service.sessions) == 4


async def test_text_that_cannot_be_stored_is_refused_and_the_session_goes_on(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        bad = '{"message": "hi \\ud800"}'  # a lone surrogate: valid JSON, not valid Unicode
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages", data=bad
        ) as response:
            assert response.status == 422
            assert (await response.json())["error"]["code"] == "INVALID_TEXT"
        async with http.post(
            f"{server.url}/v1/sessions", data='{"title": "x \\udfff"}'
        ) as response:
            assert response.status == 422
            assert (await response.json())["error"]["code"] == "INVALID_TEXT"
        async with http.post(f"{server.url}/v1/sessions", data="[" * 100_000) as response:
            assert response.status == 422
            body = await response.json()
            assert body["error"]["code"] == "INVALID_JSON" and "nested" in body["error"]["message"]
        nested = '{"user_context": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}"
        async with http.post(f"{server.url}/v1/sessions", data=nested) as response:
            assert response.status == 422
        # nothing was half-taken: the session streams, and the model never saw the bad prompt
        events = await send(http, server.url, session_id, "hello again")
        assert events[-1]["data"]["status"] == "completed"
        async with http.get(f"{server.url}/v1/sessions/{session_id}/messages") as response:
            turns = (await response.json())["messages"]
        assert [t["text"] for t in turns if t["role"] == "user"] == ["hello again"]


async def test_stats_over_ten_thousand_turns_come_from_kept_totals_while_a_stream_runs(api):
    """A client polling stats on a big store gets the right figures, and the stream it
    polls beside stays exact; no stored turn is read to answer (the old code read all)."""
    store = Store()
    store.ensure_conversation("old")
    for i in range(10_000):
        store.import_turn(
            "old",
            started_at=1.0 + i,
            prompt=f"p{i}",
            reply="r",
            status="completed" if i % 10 else "failed",
            error=None,
            tools=[],
            metrics={"time_to_first_token_s": 0.1 + (i % 5) / 10, "elapsed_s": 1.0},
        )
    reads: list[str] = []
    server = api(lambda: echo_agent(rate=50))
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        server.service.store._reader.conn.set_trace_callback(reads.append)
        stream = asyncio.create_task(send(http, server.url, session_id, "count the stars please"))
        polled = 0
        while not stream.done():
            async with http.get(f"{server.url}/v1/stats") as response:
                figures = (await response.json())["statistics"]["performance_statistics"]
            polled += 1
            assert figures["median_time_to_first_token_s"] == 0.3
        assert polled > 3
        assert reply_of(stream.result()) == "".join(echo_words("count the stars please"))
        async with http.get(f"{server.url}/v1/stats") as response:
            figures = (await response.json())["statistics"]["performance_statistics"]
        assert figures["turns"] == 10_001
        assert round(figures["average_time_to_first_token_s"], 2) == 0.3
        assert figures["turns_with_errors_share"] == 0.0
        assert not [sql for sql in reads if "SELECT *" in sql or "metrics" in sql]


async def test_a_caller_may_name_its_session_and_creation_says_when(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions", json={"session_id": "table-7"}) as r:
            assert r.status == 201
            made = await r.json()
        assert made["session_id"] == "table-7" and made["status"] == "created"
        assert datetime.fromisoformat(made["created_at"]).tzinfo is not None
        assert made["last_activity"] == made["created_at"]
        async with http.post(f"{server.url}/v1/sessions", json={"session_id": "table-7"}) as r:
            assert r.status == 409
            assert (await r.json())["error"]["code"] == "SESSION_EXISTS"
        async with http.post(f"{server.url}/v1/sessions", json={"session_id": "../x"}) as r:
            assert r.status == 422
        events = await send(http, server.url, "table-7", "hello")
        assert reply_of(events) == "".join(echo_words("hello"))


async def test_the_api_lists_the_tutorials_six_agents_and_a_session_may_name_any(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/v1/agents") as response:
            assert response.status == 200
            listed = (await response.json())["agents"]
        from tui.core.agents import BUILTIN_AGENTS  # the six, in the tutorial's order

        assert [a["agent"] for a in listed] == list(BUILTIN_AGENTS)
        web = next(a for a in listed if a["agent"] == "web-assistant")
        assert web["name"] == "Web Assistant" and "web interface" in web["instructions"]
        session = await new_session(http, server.url, agent="resilient-assistant")
        events = await send(http, server.url, session, "hello")
        assert reply_of(events) == "".join(echo_words("hello"))
        async with http.post(f"{server.url}/v1/sessions", json={"agent": "pirate"}) as r:
            assert r.status == 422
            message = (await r.json())["error"]["message"]
        assert "storyteller" in message and "performance-assistant" in message


async def test_a_detached_turn_is_followed_and_resumed_with_last_event_id_on_sqlite(api):
    """One process on SQLite: the events come from memory; a client that dropped its
    stream gets exactly the rest, a new follower the running turn from its start, and a
    resume after a finished turn waits for (and gets) the next one."""
    from tests.e2e.test_many_processes import sse

    server = api(lambda: echo_agent(rate=60.0))
    prompt = "one two three four five six seven eight nine ten eleven twelve"
    expected = "".join(echo_words(prompt))
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, server.url)
        seen = []
        async with http.post(
            f"{server.url}/v1/sessions/{session_id}/messages",
            json={"message": prompt, "detach": True},
        ) as response:
            async for event in sse(response):
                seen.append(event)
                if sum(e["type"] == "text_delta" for e in seen) == 4:
                    break
        follower = asyncio.create_task(_follow(http, server.url, session_id, None))
        async with http.get(
            f"{server.url}/v1/sessions/{session_id}/events",
            headers={"Last-Event-ID": seen[-1]["sse_id"]},
        ) as response:
            rest = [event async for event in sse(response)]
        assert reply_of(seen) + reply_of(rest) == expected
        assert rest[-1]["type"] == "response_complete" and rest[-1]["data"]["status"] == "completed"
        whole = await follower
        assert reply_of(whole) == expected and whole[0]["type"] == "session_update"
        # the turn was not cancelled by its client leaving: stored completed
        async with http.get(f"{server.url}/v1/sessions/{session_id}/messages") as response:
            stored = (await response.json())["messages"]
        assert stored[-1]["status"] == "completed" and stored[-1]["text"] == expected
        # after the last event of a finished turn: the next turn, from its start
        nxt = asyncio.create_task(_follow(http, server.url, session_id, rest[-1]["sse_id"]))
        await asyncio.sleep(0.2)
        assert not nxt.done()
        await send(http, server.url, session_id, "again")
        assert reply_of(await nxt) == "".join(echo_words("again"))


async def _follow(http, url: str, session_id: str, last: str | None) -> list[dict]:
    from tests.e2e.test_many_processes import sse

    headers = {"Last-Event-ID": last} if last else {}
    async with http.get(f"{url}/v1/sessions/{session_id}/events", headers=headers) as response:
        assert response.status == 200
        return [event async for event in sse(response)]
