"""A whole stored conversation in the TUI: open it, jump to its first message, page through.

Every message stays reachable (the chat mounts a window and keeps the rest as records), so
these numbers are for the whole conversation, store included: the rows are read from the
real SQLite store and the app keeps a record of every message.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from typing import Any

from tui.bench.harness import SIZE, _scripted_runner, rss_kb


def _store_conversation(turns: int, reply: str) -> str:
    from tui.core.store import Store

    store = Store()
    store.ensure_conversation("bench-long", agent="Assistant")
    for i in range(turns):
        turn = store.start_turn("bench-long", f"question {i}")
        store.finish_turn(
            turn,
            reply=f"{reply}\n\nanswer {i}",
            status="completed",
            error=None,
            tools=[],
            # a footer under every reply, measuring nothing (the keys it had, ttft_s,
            # tokens_per_s and tokens, are not MetricsSummary's: they drew this same footer)
            metrics={"tool_calls": 0},
        )
    store.close()
    return "bench-long"


async def _until(
    pilot: Any, condition: Any, timeout: float = 30.0, started: float | None = None
) -> float:
    """Milliseconds from ``started`` (now) until ``condition()`` holds, checked per frame."""
    started = time.perf_counter() if started is None else started
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the bench condition never held")
        await pilot.pause(0.002)
    return (time.perf_counter() - started) * 1000


def _key(app: Any, key: str) -> None:
    """Post a key as the terminal driver does (Pilot.press also waits for idle, ~50 ms)."""
    from textual import events

    app.post_message(events.Key(key, None))


def _visible(app: Any, text: str) -> bool:
    return any(text in strip.text for strip in app.screen._compositor.render_strips())


async def _open(conversation: str | None, newest: str) -> tuple[float, float, Any]:
    """Open the app on ``conversation``: ms from launch to the newest message on screen
    (the same for an empty conversation is the app's own start-up, the baseline)."""
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings

    runner = _scripted_runner(["x"], 1000)
    launched = time.perf_counter()
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="bench", session_id=conversation)
    async with app.run_test(size=SIZE) as pilot:
        opened_ms = await _until(pilot, lambda: _visible(app, newest), started=launched)
        if conversation is None:
            return opened_ms, 0.0, {}
        # A person reads the screen before pressing a key: the app's one collection after
        # start-up (~150 ms on a 10,000-message heap) is over by then.
        await _until(pilot, lambda: app.heap_settled)
        gc.collect()
        rss_open = rss_kb()
        results: dict[str, Any] = {"rss_open_kb": rss_open}
        pressed = time.perf_counter()
        _key(app, "ctrl+home")
        results["jump_first_ms"] = await _until(
            pilot, lambda: _visible(app, "question 0"), started=pressed
        )
        _key(app, "ctrl+end")
        await _until(pilot, lambda: _visible(app, newest))
        pages = []
        for _ in range(30):
            before = [s.text for s in app.screen._compositor.render_strips()]
            pressed = time.perf_counter()
            _key(app, "pageup")
            pages.append(
                await _until(
                    pilot,
                    lambda before=before: (
                        [s.text for s in app.screen._compositor.render_strips()] != before
                    ),
                    started=pressed,
                )
            )
        results["page_up_ms"] = statistics.median(pages)
        results["page_up_ms_max"] = max(pages)
        results["mounted_widgets"] = len(app.chat.children)
        return opened_ms, rss_open, results


def whole_conversation(messages: int = 10_000) -> dict[str, Any]:
    """Open a stored conversation of ``messages`` messages; compare with an empty one."""
    reply = "A reply of **two** paragraphs, with `code` and a list:\n\n- one\n- two"
    turns = messages // 2
    conversation = _store_conversation(turns, reply)
    empty_ms, _, _ = asyncio.run(_open(None, "Type a message and press Enter"))
    gc.collect()
    rss_before = rss_kb()
    opened_ms, rss_open, found = asyncio.run(_open(conversation, f"answer {turns - 1}"))
    kb_per_message = (rss_open - rss_before) / messages
    measured = {
        "open_ms": round(opened_ms - empty_ms, 1),  # what the conversation adds to start-up
        "jump_first_ms": round(found["jump_first_ms"], 1),
        "page_up_ms": round(found["page_up_ms"], 1),
        "kb_per_message": round(kb_per_message, 2),
    }
    return {
        "conversation_messages": messages,
        "conversation_open_ms_empty_baseline": round(empty_ms, 1),  # launch to first frame
        "conversation_open_ms_from_launch": round(opened_ms, 1),
        **{f"conversation_{k}": v for k, v in measured.items()},
        "conversation_page_up_ms_max": round(found["page_up_ms_max"], 1),
        "conversation_mounted_widgets": found["mounted_widgets"],
    }


if __name__ == "__main__":
    import json
    import os
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="agents-tui-bench-")
    print(json.dumps(whole_conversation(), indent=2))
