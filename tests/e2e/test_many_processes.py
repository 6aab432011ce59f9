"""Two and four ``agents-tui api`` processes on one real PostgreSQL, over real HTTP.

Any process serves any request for any session: a session made on one streams on
another; one session's prompts sent to two processes run one after the other; cancel and
approval answers reach the process running the turn; a client follows a turn another
process runs and resumes after a reconnect with ``Last-Event-ID``; a process killed with
``kill -9`` has its turn marked interrupted by the survivors within 15 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp

from tests.e2e.test_api_limits import wait_for_server
from tests.mcp_servers import free_port
from tui.bench.scale_agent import reply_deltas

ECHO = "tui.bench.scale_agent:echo"


@contextlib.contextmanager
def api_processes(
    database: str, count: int, *, agent: str = ECHO, env: dict[str, str] | None = None
) -> Iterator[list[tuple[str, subprocess.Popen[str]]]]:
    children = []
    try:
        for _ in range(count):
            port = free_port()
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tui",
                    "api",
                    "--agent",
                    agent,
                    "--port",
                    str(port),
                    "--database",
                    database,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **(env or {})},
            )
            children.append((f"http://127.0.0.1:{port}", child))
        for url, child in children:
            wait_for_server(url, child)
        yield children
    finally:
        for _, child in children:
            if child.poll() is None:
                child.terminate()
        for _, child in children:
            try:
                _, err = child.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                continue
            assert "Traceback" not in (err or ""), err


async def sse(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """Each event's object, with the SSE ``id:`` field as ``sse_id``."""
    buffer = ""
    async for chunk in response.content.iter_any():
        buffer += chunk.decode()
        while "\r\n\r\n" in buffer or "\n\n" in buffer:
            cut = buffer.find("\r\n\r\n") if "\r\n\r\n" in buffer else buffer.find("\n\n")
            block, buffer = buffer[:cut], buffer[cut:].lstrip("\r\n")
            data, sse_id = None, None
            for line in block.splitlines():
                if line.startswith("data:"):
                    data = json.loads(line[5:].strip())
                elif line.startswith("id:"):
                    sse_id = line[3:].strip()
            if data is not None:
                data["sse_id"] = sse_id
                yield data


async def create(http: aiohttp.ClientSession, url: str) -> str:
    async with http.post(f"{url}/v1/sessions", json={}) as response:
        assert response.status == 201
        return str((await response.json())["session_id"])


async def send(
    http: aiohttp.ClientSession, url: str, session: str, message: str, **extra: Any
) -> list[dict[str, Any]]:
    async with http.post(
        f"{url}/v1/sessions/{session}/messages", json={"message": message, **extra}
    ) as response:
        assert response.status == 200, await response.text()
        return [event async for event in sse(response)]


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta")


def memory_roles(database: str, session: str) -> list[str]:
    import psycopg

    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT message_data FROM agent_messages WHERE session_id = %s ORDER BY created_at, id",
            (session,),
        ).fetchall()
    return [json.loads(row[0]).get("role", json.loads(row[0]).get("type")) for row in rows]


async def test_any_process_serves_any_session_and_one_sessions_turns_never_overlap(
    postgres_url,
):
    with api_processes(postgres_url, 2, env={"AGENTS_TUI_ECHO_RATE": "40"}) as procs:
        (a, _), (b, _) = procs
        async with aiohttp.ClientSession() as http:
            # made on A, streamed on B, read back on A
            session = await create(http, a)
            events = await send(http, b, session, "hello from b")
            assert text_of(events) == "".join(reply_deltas("hello from b"))
            assert events[-1]["type"] == "response_complete"
            async with http.get(f"{a}/v1/sessions/{session}/messages") as response:
                messages = (await response.json())["messages"]
            assert [m["text"] for m in messages] == ["hello from b", text_of(events)]

            # two prompts to one session on two processes at once: the second waits its
            # turn (queued), then runs after the first ended
            first = asyncio.create_task(send(http, a, session, "first prompt"))
            await asyncio.sleep(0.3)
            second = asyncio.create_task(send(http, b, session, "second prompt"))
            one, two = await asyncio.gather(first, second)
            assert text_of(one) == "".join(reply_deltas("first prompt"))
            assert text_of(two) == "".join(reply_deltas("second prompt"))
            assert two[0]["type"] == "queued" and two[0]["data"]["position"] == 1
            ended = one[-1]["timestamp"]
            began = next(e for e in two if e["type"] == "session_update")["timestamp"]
            assert began >= ended
        # the model's memory never holds two user messages in a row
        roles = memory_roles(postgres_url, session)
        assert roles == ["user", "assistant"] * 3


async def test_four_processes_serialise_one_session_in_arrival_order_and_serve_many(
    postgres_url,
):
    with api_processes(postgres_url, 4, env={"AGENTS_TUI_ECHO_RATE": "50"}) as procs:
        urls = [url for url, _ in procs]
        async with aiohttp.ClientSession() as http:
            session = await create(http, urls[0])
            tasks = []
            for i, url in enumerate(urls):
                tasks.append(asyncio.create_task(send(http, url, session, f"prompt {i}")))
                await asyncio.sleep(0.15)
            results = await asyncio.gather(*tasks)
            starts = []
            for i, events in enumerate(results):
                assert text_of(events) == "".join(reply_deltas(f"prompt {i}"))
                starts.append(next(e for e in events if e["type"] == "session_update")["timestamp"])
            assert starts == sorted(starts)  # in the order the prompts arrived
            assert memory_roles(postgres_url, session) == ["user", "assistant"] * 4
            # forty sessions spread over the four processes, all at once, all exact
            sessions = [await create(http, urls[i % 4]) for i in range(40)]
            replies = await asyncio.gather(
                *(send(http, urls[(i + 1) % 4], s, f"many {i}") for i, s in enumerate(sessions))
            )
            for i, events in enumerate(replies):
                assert text_of(events) == "".join(reply_deltas(f"many {i}"))


async def test_cancel_sent_to_another_process_stops_the_turn_within_a_second(postgres_url):
    env = {"AGENTS_TUI_ECHO_RATE": "20", "AGENTS_TUI_ECHO_DELTAS": "400"}
    with api_processes(postgres_url, 2, env=env) as procs:
        (a, _), (b, _) = procs
        async with aiohttp.ClientSession() as http:
            session = await create(http, a)
            async with http.post(
                f"{a}/v1/sessions/{session}/messages", json={"message": "a long one"}
            ) as response:
                deltas = 0
                cancelled_at = None
                async for event in sse(response):
                    if event["type"] == "text_delta":
                        deltas += 1
                        if deltas == 5:
                            async with http.post(f"{b}/v1/sessions/{session}/cancel") as r:
                                assert (await r.json()) == {"cancelled": True}
                            cancelled_at = time.monotonic()
                    if event["type"] == "response_complete":
                        assert event["data"]["status"] == "interrupted"
                        break
                assert cancelled_at is not None and time.monotonic() - cancelled_at < 1.0
            async with http.post(f"{b}/v1/sessions/{session}/cancel") as r:
                assert (await r.json()) == {"cancelled": False}  # nothing runs now


async def test_an_approval_answered_through_another_process_reaches_the_turn(
    postgres_url, tmp_path
):
    marker = tmp_path / "marker.txt"
    marker.write_text("keep me")
    env = {"MARKER_PATH": str(marker)}
    agent = "tests.approval_agents:cleaner_for_child"
    with api_processes(postgres_url, 2, agent=agent, env=env) as procs:
        (a, _), (b, _) = procs
        async with aiohttp.ClientSession() as http:
            session = await create(http, a)
            answered_at = None
            async with http.post(
                f"{a}/v1/sessions/{session}/messages", json={"message": "clean up"}
            ) as response:
                async for event in sse(response):
                    if event["type"] == "approval_required":
                        call = event["data"]["call_id"]
                        async with http.get(f"{b}/v1/sessions/{session}/stats") as stats:
                            assert (await stats.json())["status"] == "awaiting_approval"
                        async with http.post(
                            f"{b}/v1/sessions/{session}/approvals/{call}", json={"approve": True}
                        ) as answer:
                            assert answer.status == 200
                        answered_at = time.monotonic()
                    if event["type"] == "approval_resolved":
                        assert answered_at is not None
                        assert time.monotonic() - answered_at < 1.0
                    if event["type"] == "response_complete":
                        assert event["data"]["status"] == "completed"
                        break
            assert marker.read_text() == "deleted"
            # a call that is not pending is a clear 409 on any process
            async with http.post(
                f"{b}/v1/sessions/{session}/approvals/{call}", json={"approve": True}
            ) as late:
                assert late.status == 409
                assert (await late.json())["error"]["code"] == "APPROVAL_NOT_PENDING"


async def test_a_client_resumes_a_turn_with_last_event_id_on_the_same_or_another_process(
    postgres_url,
):
    env = {"AGENTS_TUI_ECHO_RATE": "40", "AGENTS_TUI_ECHO_DELTAS": "60"}
    with api_processes(postgres_url, 2, env=env) as procs:
        (a, _), (b, _) = procs
        expected = "".join(reply_deltas("follow me", 60))
        async with aiohttp.ClientSession() as http:
            for resume_on in (a, b):
                session = await create(http, a)
                seen: list[dict[str, Any]] = []
                async with http.post(
                    f"{a}/v1/sessions/{session}/messages",
                    json={"message": "follow me", "detach": True},
                ) as response:
                    async for event in sse(response):
                        seen.append(event)
                        if sum(e["type"] == "text_delta" for e in seen) == 10:
                            break  # the connection drops mid-turn
                last = seen[-1]["sse_id"]
                assert last == seen[-1]["id"]
                await asyncio.sleep(0.3)
                async with http.get(
                    f"{resume_on}/v1/sessions/{session}/events", headers={"Last-Event-ID": last}
                ) as response:
                    assert response.status == 200
                    rest = [event async for event in sse(response)]
                assert text_of(seen) + text_of(rest) == expected  # nothing lost or repeated
                assert rest[-1]["type"] == "response_complete"
                assert rest[-1]["data"]["final_response"] == expected
                ids = [tuple(map(int, e["id"].split("-"))) for e in seen + rest]
                assert ids == sorted(set(ids))
            # a follower with no id gets the running turn from its start, from any process
            session = await create(http, b)
            turn = asyncio.create_task(send(http, b, session, "follow me"))
            await asyncio.sleep(0.4)
            async with http.get(f"{a}/v1/sessions/{session}/events") as response:
                followed = [event async for event in sse(response)]
            sent = await turn
            assert text_of(followed) == text_of(sent) == expected
            assert [e["type"] for e in followed][:3] == [
                "session_update",
                "user_message",
                "typing_start",
            ]
            async with http.get(
                f"{a}/v1/sessions/{session}/events", headers={"Last-Event-ID": "not an id"}
            ) as response:
                assert response.status == 422
            # an id naming another session's turn reads nothing of that turn: the follower
            # waits for this session's next turn instead
            other = await create(http, a)
            turn_of_other = followed[0]["id"].split("-")[0]
            async with http.get(
                f"{b}/v1/sessions/{other}/events",
                headers={"Last-Event-ID": f"{turn_of_other}-0"},
                timeout=aiohttp.ClientTimeout(total=1.5),
            ) as response:
                leaked = ""
                with contextlib.suppress(TimeoutError):
                    async for event in sse(response):
                        leaked += json.dumps(event)
            assert "You said" not in leaked


async def test_a_process_killed_mid_turn_has_its_turn_interrupted_by_the_survivors(
    postgres_url,
):
    env = {"AGENTS_TUI_ECHO_RATE": "20", "AGENTS_TUI_ECHO_DELTAS": "400"}
    with api_processes(postgres_url, 2, env=env) as procs:
        (a, child_a), (b, _) = procs
        async with aiohttp.ClientSession() as http:
            session = await create(http, b)
            seen = ""
            async with http.post(
                f"{a}/v1/sessions/{session}/messages", json={"message": "a long story"}
            ) as response:
                async for event in sse(response):
                    if event["type"] == "text_delta":
                        seen += event["data"]["delta"]
                        if len(seen.split()) >= 24:
                            os.kill(child_a.pid, signal.SIGKILL)
                            killed_at = time.monotonic()
                            break
            child_a.wait()
            status = None
            while time.monotonic() - killed_at < 20:
                async with http.get(f"{b}/v1/sessions/{session}/messages") as response:
                    messages = (await response.json())["messages"]
                status = messages[-1]["status"]
                if status == "interrupted":
                    break
                await asyncio.sleep(0.25)
            took = time.monotonic() - killed_at
            assert status == "interrupted" and took <= 15, (status, took)
            # the partial reply kept: saved every 0.25 s and written within 0.1 s, so at
            # most the last half second (10 deltas here) of what the client saw is lost
            kept = messages[-1]["text"]
            assert kept and (kept.startswith(seen) or seen.startswith(kept))
            assert len(kept.split()) >= len(seen.split()) - 10
            # the survivor serves the session on: the model saw prompt, partial, prompt
            events = await send(http, b, session, "go on")
            assert text_of(events) == "".join(reply_deltas("go on", 400))
        assert memory_roles(postgres_url, session) == ["user", "assistant", "user", "assistant"]
