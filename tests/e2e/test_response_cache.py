"""The response cache end to end: ``agents-tui api --cache-ttl`` (the real command, its own
process) against an OpenAI-compatible server on 127.0.0.1 that counts the requests it gets
and numbers its replies, so a reply served again by the model would differ.

A second fresh session asking the same first prompt makes no model request, streams the
same text, and says ``cached`` in its SSE and in ``/metrics``; another agent, a second
turn of a session, a turn that called a tool and an entry past its TTL all ask the model."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp

from tests.e2e.test_api_limits import api_process
from tui.bench.fast_server import _chunk  # one chat-completions chunk, as SSE

PACE_S = 0.02  # between the model's deltas: a replay must take far less


class CountingModel:
    """A chat-completions server: numbered replies word by word; to a request that offers
    tools and has no tool result yet, a ``roll_dice`` call."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with model._lock:
                    model.requests += 1
                    number = model.requests
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for part in model.reply(body, number):
                    self.wfile.write(part)
                    self.wfile.flush()
                    time.sleep(PACE_S)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, body: dict[str, Any], number: int) -> list[bytes]:
        messages = body.get("messages", [])
        if body.get("tools") and not any(m.get("role") == "tool" for m in messages):
            call = {
                "index": 0,
                "id": f"call_{number}",
                "type": "function",
                "function": {"name": "roll_dice", "arguments": '{"sides": 6}'},
            }
            return [
                _chunk({"role": "assistant", "tool_calls": [call]}),
                _chunk({}, "tool_calls"),
                b"data: [DONE]\n\n",
            ]
        words = f"Reply number {number} to your question.".split()
        parts = [_chunk({"role": "assistant", "content": ""})]
        parts += [_chunk({"content": w + " "}) for w in words]
        return [*parts, _chunk({}, "stop"), b"data: [DONE]\n\n"]

    def __enter__(self) -> CountingModel:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@contextmanager
def cached_api(ttl_s: float) -> Iterator[tuple[CountingModel, str]]:
    with CountingModel() as model, api_process(model.url, "--cache-ttl", str(ttl_s)) as (url, _):
        yield model, url


async def ask(
    http: aiohttp.ClientSession, url: str, prompt: str, session: str | None = None, **body: Any
) -> tuple[str, list[dict[str, Any]], float]:
    """(session id, the turn's events, seconds it took) for ``prompt``, in ``session`` or a
    fresh one created with ``body``."""
    if session is None:
        async with http.post(f"{url}/v1/sessions", json=body or None) as created:
            assert created.status == 201, await created.text()
            session = str((await created.json())["session_id"])
    began = time.monotonic()
    async with http.post(
        f"{url}/v1/sessions/{session}/messages", json={"message": prompt}
    ) as response:
        assert response.status == 200, await response.text()
        text = await response.text()
    took = time.monotonic() - began
    events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    return session, events, took


def streamed(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["delta"] for e in events if e["type"] == "text_delta"]


def cached(events: list[dict[str, Any]]) -> bool:
    end = events[-1]
    assert end["type"] == "response_complete"
    said = any(e["type"] == "response_cached" for e in events)
    assert said == end["data"]["cached"] == bool(end["data"]["metrics"].get("cached"))
    return said


async def counters(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("agents_tui_response_cache_"):
            name, value = line.rsplit(" ", 1)
            out[name.removeprefix("agents_tui_response_cache_")] = float(value)
    return out


async def test_a_fresh_session_asking_again_is_answered_from_the_cache_and_nothing_else_is():
    with cached_api(300) as (model, url):
        async with aiohttp.ClientSession() as http:
            first, asked, took_model = await ask(http, url, "What is TTFT?")
            assert model.requests == 1 and not cached(asked)
            # a fresh session, the same prompt (outer whitespace aside)
            _, again, took_cache = await ask(http, url, "  What is TTFT?\n")
            assert model.requests == 1  # no model request
            assert cached(again)
            # the same text (a client that falls behind gets waiting deltas joined)
            assert "".join(streamed(again)) == "".join(streamed(asked))
            assert "".join(streamed(again)).startswith("Reply number 1 ")
            assert again[-1]["data"]["metrics"]["time_to_first_token_s"] is None
            assert took_cache < took_model  # its pacing compressed
            figures = await counters(http, url)
            assert (figures["hits_total"], figures["misses_total"]) == (1.0, 1.0)
            assert figures["entries"] == 1.0 and figures["bytes"] > len("".join(streamed(asked)))

            # the second turn of a session has history: the model answers it
            _, second_turn, _ = await ask(http, url, "What is TTFT?", session=first)
            assert model.requests == 2 and not cached(second_turn)
            # another agent (other instructions): the model answers it
            _, other_agent, _ = await ask(http, url, "What is TTFT?", agent="assistant")
            assert model.requests == 3 and not cached(other_agent)
            assert "Reply number 3 " in "".join(streamed(other_agent))

            # a turn that called a tool is never kept: the next fresh session asks again
            _, rolled, _ = await ask(http, url, "Roll a die", agent="game-master")
            assert any(e["type"] == "tool_start" for e in rolled)
            assert model.requests == 5  # the call, then the reply
            _, rolled_again, _ = await ask(http, url, "Roll a die", agent="game-master")
            assert not cached(rolled_again) and model.requests == 7
            final = await counters(http, url)
            assert final["hits_total"] == 1.0 and final["misses_total"] == 4.0


async def test_past_its_ttl_an_entry_is_not_served():
    with cached_api(1.0) as (model, url):
        async with aiohttp.ClientSession() as http:
            _, asked, _ = await ask(http, url, "Hello")
            _, again, _ = await ask(http, url, "Hello")
            assert not cached(asked) and cached(again) and model.requests == 1
            await asyncio.sleep(1.1)
            _, expired, _ = await ask(http, url, "Hello")
            assert not cached(expired) and model.requests == 2
            assert "Reply number 2 " in "".join(streamed(expired))
