"""Smart interruption over HTTP: ``"interrupt": true`` on a POST stops the session's running
turn (its partial reply kept, ``interrupted``) and runs the new prompt next, ahead of the
prompt already waiting, which stays queued and runs after it."""

import asyncio
import functools

import aiohttp

from tests.api_fixtures import echo_agent, echo_words
from tui.bench.sse import read_events, sse_events

LONG = " ".join(f"w{i}" for i in range(200))


def reply_of(events: list[dict]) -> str:
    return "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta")


async def post(http, url: str, session_id: str, body: dict) -> list[dict]:
    async with http.post(f"{url}/v1/sessions/{session_id}/messages", json=body) as response:
        assert response.status == 200
        return await read_events(response)


async def test_interrupt_stops_the_running_turn_and_goes_first(api):
    server = api(make_agent=functools.partial(echo_agent, rate=40.0))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        url = f"{server.url}/v1/sessions/{session_id}/messages"
        first: list[dict] = []
        async with http.post(url, json={"message": LONG}) as response:
            stream = sse_events(response)
            async for event in stream:  # until the reply is streaming
                first.append(event)
                if sum(e["type"] == "text_delta" for e in first) >= 3:
                    break
            waiting = asyncio.create_task(post(http, server.url, session_id, {"message": "b"}))
            await asyncio.sleep(0.3)  # queued behind the running turn
            jumping = asyncio.create_task(
                post(http, server.url, session_id, {"message": "c", "interrupt": True})
            )
            first += [event async for event in stream]
        done = first[-1]["data"]
        assert first[-1]["type"] == "response_complete" and done["status"] == "interrupted"
        partial = reply_of(first)
        assert partial and partial != "".join(echo_words(LONG))
        assert done["final_response"] == partial
        interrupting, waited = await jumping, await waiting
        assert [e["type"] for e in interrupting][:1] == ["queued"]
        assert interrupting[-1]["data"]["status"] == "completed"
        assert reply_of(interrupting) == "".join(echo_words("c"))
        assert waited[-1]["data"]["status"] == "completed"
        assert reply_of(waited) == "".join(echo_words("b"))
        async with http.get(f"{server.url}/v1/sessions/{session_id}/messages") as response:
            messages = (await response.json())["messages"]
    # c ran before b, though b was sent first
    assert [(m["role"], m["text"]) for m in messages if m["role"] == "user"] == [
        ("user", LONG),
        ("user", "c"),
        ("user", "b"),
    ]
    assert [m["status"] for m in messages if m["role"] == "assistant"] == [
        "interrupted",
        "completed",
        "completed",
    ]
    assert messages[1]["text"] == partial
    memory = await server.service.store.memory(session_id, per_call=True).get_items()
    roles = [item.get("role") for item in memory if item.get("role")]
    assert roles == ["user", "assistant"] * 3


async def test_interrupt_with_nothing_running_is_an_ordinary_prompt(api):
    server = api()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        events = await post(http, server.url, session_id, {"message": "hi", "interrupt": True})
        assert events[-1]["data"]["status"] == "completed"
        assert reply_of(events) == "".join(echo_words("hi"))
        body = {"message": "hi", "interrupt": "yes"}
        async with http.post(f"{server.url}/v1/sessions/{session_id}/messages", json=body) as r:
            assert r.status == 422
            assert "interrupt must be true or false" in (await r.json())["error"]["message"]
