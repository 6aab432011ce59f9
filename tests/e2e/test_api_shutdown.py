"""SIGTERM on a real ``agents-tui api`` process, over real HTTP, as a rollout sends it: no new
turn (``503 SHUTTING_DOWN``, ``/readyz`` 503, ``/healthz`` still 200), a prompt waiting in
a session's queue (a detached one whose client left) stored as not run, a running turn let
finish within ``--shutdown-grace`` or stopped at the deadline and stored interrupted with
its partial text (a detached one too); the process exits 0. What was stored is read back
by a second process on the same store."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.api_process import echo_api
from tui.bench.scale_agent import reply_deltas
from tui.bench.sse import sse_events


async def create(http: aiohttp.ClientSession, url: str) -> str:
    async with http.post(f"{url}/v1/sessions") as response:
        assert response.status == 201
        return str((await response.json())["session_id"])


async def messages(http: aiohttp.ClientSession, url: str, session: str) -> list[dict[str, Any]]:
    async with http.get(f"{url}/v1/sessions/{session}/messages") as response:
        assert response.status == 200
        return list((await response.json())["messages"])


async def until(response: aiohttp.ClientResponse, kind: str) -> list[dict[str, Any]]:
    """The stream's events up to the first of type ``kind``."""
    seen = []
    async for event in sse_events(response):
        seen.append(event)
        if event["type"] == kind:
            return seen
    raise AssertionError(f"the stream ended before {kind}: {seen}")


async def exited(child: Any, within: float) -> int:
    deadline = time.monotonic() + within
    while child.poll() is None:
        assert time.monotonic() < deadline, "the process did not exit"
        await asyncio.sleep(0.05)
    return int(child.returncode)


async def refused_while_draining(http: aiohttp.ClientSession, url: str, session: str) -> None:
    async with http.post(
        f"{url}/v1/sessions/{session}/messages", json={"message": "one more"}
    ) as response:
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error"]["code"] == "SHUTTING_DOWN"
    async with http.get(f"{url}/readyz") as response:
        assert response.status == 503
        assert (await response.json())["error"] == {
            "code": "NOT_READY",
            "message": "the server is shutting down",
        }
    async with http.get(f"{url}/healthz") as response:
        assert response.status == 200


async def test_sigterm_lets_the_running_turn_finish_and_stores_a_waiting_prompt_as_not_run(
    tmp_path: Path,
) -> None:
    slow = {"AGENTS_TUI_ECHO_RATE": "20", "AGENTS_TUI_ECHO_DELTAS": "60"}  # 3 s a turn
    async with aiohttp.ClientSession() as http:
        with echo_api(tmp_path, "--shutdown-grace", "15", env=slow) as (url, child):
            session, other = await create(http, url), await create(http, url)
            running = await http.post(
                f"{url}/v1/sessions/{session}/messages", json={"message": "first one"}
            )
            seen = await until(running, "text_delta")
            # a detached prompt queued behind it, its client gone
            async with http.post(
                f"{url}/v1/sessions/{session}/messages",
                json={"message": "second one", "detach": True},
            ) as waiting:
                await until(waiting, "queued")
            child.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            await refused_while_draining(http, url, other)
            seen += [event async for event in sse_events(running)]
            running.release()
            assert seen[-1]["type"] == "response_complete"
            assert seen[-1]["data"]["status"] == "completed"
            text = "".join(e["data"]["delta"] for e in seen if e["type"] == "text_delta")
            assert text == "".join(reply_deltas("first one", 60))
            assert await exited(child, 10) == 0
            _, stderr = child.communicate()
        assert "Traceback" not in stderr
        assert "1 running get 15 s to finish; 1 waiting prompts stored as not run" in stderr
        with echo_api(tmp_path) as (url, _):  # the same store, read by the next process
            stored = await messages(http, url, session)
            assert [(m["role"], m["text"]) for m in stored] == [
                ("user", "first one"),
                ("assistant", "".join(reply_deltas("first one", 60))),
                ("user", "second one"),
                ("assistant", ""),
            ]
            assert stored[1]["status"] == "completed"
            assert stored[3]["status"] == "interrupted"
            assert stored[3]["error"].startswith("not run: the server shut down")


async def test_sigterm_stops_turns_still_running_at_the_deadline_with_their_partial_text(
    tmp_path: Path,
) -> None:
    long = {"AGENTS_TUI_ECHO_RATE": "20", "AGENTS_TUI_ECHO_DELTAS": "1000"}  # 50 s a turn
    async with aiohttp.ClientSession() as http:
        with echo_api(tmp_path, "--shutdown-grace", "1", env=long) as (url, child):
            streamed, detached = await create(http, url), await create(http, url)
            running = await http.post(
                f"{url}/v1/sessions/{streamed}/messages", json={"message": "tell a story"}
            )
            seen = await until(running, "text_delta")
            async with http.post(
                f"{url}/v1/sessions/{detached}/messages",
                json={"message": "go on alone", "detach": True},
            ) as gone:
                await until(gone, "text_delta")  # then its client leaves
            await asyncio.sleep(0.3)
            signalled = time.monotonic()
            child.send_signal(signal.SIGTERM)
            seen += [event async for event in sse_events(running)]
            running.release()
            took = time.monotonic() - signalled
            assert seen[-1]["type"] == "response_complete"
            assert seen[-1]["data"]["status"] == "interrupted"
            assert 0.9 < took < 5, took
            assert await exited(child, 10) == 0
            _, stderr = child.communicate()
        assert "Traceback" not in stderr
        assert "2 turns stopped at the deadline" in stderr
        with echo_api(tmp_path) as (url, _):
            for session, prompt in ((streamed, "tell a story"), (detached, "go on alone")):
                stored = await messages(http, url, session)
                assert [m["role"] for m in stored] == ["user", "assistant"]
                reply = stored[1]
                assert reply["status"] == "interrupted", reply
                whole = "".join(reply_deltas(prompt, 1000))
                assert 0 < len(reply["text"]) < len(whole) and whole.startswith(reply["text"])
