"""Program 4, the web streaming service: the tutorial's ``demo_web_streaming``.

The service is ``agents-tui api``'s own app, started in-process on a free port of
127.0.0.1 (``Program.serve_api``, ``tui.tutorial_api``) with the Web Assistant on the usual
backend. Over HTTP, as any client: a session is created with the demo's user context
(``POST /v1/sessions``), three messages are posted (``POST .../messages``), each reply is
read as the service's Server-Sent Events (``session_update``, ``typing_start``,
``text_delta``, ``tool_start``, ``tool_complete``, ``response_complete``) and printed as
the demo's loop prints them: the text, "📊 Response complete" with its words and
characters, "📈 Total events"; then the session statistics (``GET .../stats``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from tui.core import events as ev
from tui.tutorial.common import Program, ProgramError, say

AGENT = "web-assistant"
# The demo's ``create_session(session_id, user_context)``: its user context, as it sends it.
USER_CONTEXT = {"user_agent": "Demo Browser", "ip": "127.0.0.1"}


def messages() -> list[str]:
    return [
        say(
            "Explain machine learning to me simply",
            "Giải thích cho tôi về machine learning một cách đơn giản",
        ),
        say(
            "Should I learn Python or JavaScript first?",
            "Tôi có nên học Python hay JavaScript trước?",
        ),
        say("How do I become a good developer?", "Làm thế nào để trở thành một developer giỏi?"),
    ]


async def run(program: Program) -> int:
    import httpx

    program.line("🌐 **Web Streaming Service Demo**\n")
    await program.start(AGENT)
    if program.serve_api is None:
        raise ProgramError("program 4 needs the API: run it as agents-tui tutorial 4")
    try:
        return await _demo(program)
    except httpx.HTTPError as error:  # the in-process API went away: one line, not a trace
        raise ProgramError(f"the API's connection failed: {error!r}") from None


async def _demo(program: Program) -> int:
    import httpx

    assert program.serve_api is not None
    assert program.store is not None and program.runner is not None
    failed = 0
    async with (
        program.serve_api(program.store, program.runner, program.model_label) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, read=None)) as http,
    ):
        created = answer(
            await http.post(
                "/v1/sessions",
                json={"user_context": USER_CONTEXT, "title": "tutorial 4: web streaming service"},
            )
        )
        session_id = created["session_id"]
        session_info = {key: created[key] for key in ("session_id", "status", "timestamp")}
        program.line(f"📱 Session created: {session_info}")
        for i, message in enumerate(messages(), 1):
            program.line(f"\n💬 **Message {i}:** {message}")
            program.line("📡 **Streaming events:**")
            tally = [0]
            shown = counted(sse(http, f"/v1/sessions/{session_id}/messages", message), tally)
            if program.pace is not None:  # --pace: the text deltas at the pacer's rate
                from tui.core.pace import Pacer
                from tui.tutorial.paced import paced

                shown = paced(shown, Pacer.of(program.pace))
            async with contextlib.aclosing(shown) as events:
                async for event in events:
                    failed += show(program, event)
            program.line(f"\n   📈 Total events: {tally[0]}")
            program.line("=" * 60)
        stats = answer(await http.get(f"/v1/sessions/{session_id}/stats"))
    program.line("\n📈 **Session Statistics:**")
    program.line(f"   • Duration: {stats['duration_minutes']:.1f} minutes")
    program.line(f"   • Messages: {stats['message_count']}")
    program.line(f"   • Status: {stats['status']}")
    return 1 if failed else 0


def answer(response: Any) -> dict[str, Any]:
    """A JSON answer of the service, or the program stops with its error's message."""
    if response.is_error:
        try:
            why = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            why = response.text[:200]
        raise ProgramError(f"the API answered {response.status_code}: {why}")
    body: dict[str, Any] = response.json()
    return body


async def sse(http: Any, path: str, message: str) -> AsyncIterator[dict[str, Any]]:
    """The events of one posted message, as the service streams them (each SSE ``data``)."""
    async with http.stream("POST", path, json={"message": message}) as response:
        if response.is_error:
            await response.aread()
            answer(response)
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                yield json.loads(line[5:])


async def counted(
    events: AsyncIterator[dict[str, Any]], tally: list[int]
) -> AsyncGenerator[dict[str, Any] | ev.TextDelta]:
    """The service's events, counted as they arrive (``tally[0]``, the demo's
    ``event_count``); their text deltas as the core's, for ``--pace`` to re-cut."""
    async for event in events:
        tally[0] += 1
        if event["type"] == "text_delta":
            yield ev.TextDelta(event["data"]["delta"], 0)
        else:
            yield event


def show(program: Program, event: dict[str, Any] | ev.TextDelta) -> int:
    """One protocol event, as the demo's loop prints it; 1 for a failed reply."""
    if isinstance(event, ev.TextDelta):
        program.model_text(event.text)
        return 0
    kind, data = event["type"], event["data"]
    if kind == "typing_start":
        program.line(f"   ⏳ {data['message']}")
    elif kind == "tool_start":
        program.line(f"\n   🔧 {data['message']}")
    elif kind == "tool_complete":
        program.line(f"\n   ✅ {data['message']}")
    elif kind == "error":  # the demo printed nothing; a reader should see why
        program.line(f"\n   ❌ {data['message']}")
    elif kind == "response_complete":
        program.line("\n\n📊 Response complete:")
        program.line(f"   • Words: {data['word_count']}")
        program.line(f"   • Characters: {data['character_count']}")
        return int(data["status"] == "failed")
    return 0
