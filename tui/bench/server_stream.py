"""A long reply from a local OpenAI-compatible server at full speed, over real HTTP.

The same server (``fast_server``, its own process) answers both sides:
- ``agents-tui run --text``: the headless path, the reply written to a file;
- the TUI (the real app, the real provider setup, the real SDK and OpenAI client), while
  keys are typed into the prompt every 100 ms: time from a key posted to the first frame
  that shows it.
Each side runs in a fresh interpreter, so neither inherits the other's heap.

``long_session``: 120 short turns in one TUI session against the same kind of server (a
short reply per request), as a person chatting for a long while: the time from Enter to
the frame that shows the finished reply (and to the turn's end), early against late, and
memory per turn.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tui.bench.harness import SIZE, in_fresh_process, watch_typed_keys
from tui.core.observe.metrics import percentile


@contextmanager
def fast_server(size: int, pace_s: float = 0.0) -> Iterator[str]:
    """A server streaming ``size`` bytes per request (one event each ``pace_s`` seconds
    when given); yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.bench.fast_server", str(size), str(pace_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(5)


def _settings(base_url: str) -> Any:
    from tui.core.config import Settings

    return Settings(provider="compat", base_url=base_url, model="bench", api_key="none")


async def headless_seconds(base_url: str) -> dict[str, float]:
    """``agents-tui run --text`` against the server: seconds for the turn, reply size."""
    from tui.headless import run_turn_headless

    with open(os.devnull, "w") as out:
        started = time.perf_counter()
        code = await run_turn_headless(_settings(base_url), "go", jsonl=False, out=out)
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "exit_code": float(code)}


async def tui_seconds(base_url: str, expected_chars: int) -> dict[str, float]:
    """The TUI against the server: seconds from Enter to the turn's end, and keys typed
    meanwhile (every 100 ms) from posted to on screen."""
    from textual import events

    from tui.app import AgentsTuiApp
    from tui.widgets.prompt import PromptInput

    app = AgentsTuiApp(_settings(base_url))
    posted: list[int] = []
    seen: list[int] = []
    async with app.run_test(size=SIZE) as pilot:
        while not app.model_ready:
            await asyncio.sleep(0.01)
        while not app.heap_settled:
            await asyncio.sleep(0.01)
        prompt = app.query_one(PromptInput)
        prompt.text = "go"
        started = time.perf_counter()
        prompt.submit()
        while not app.turn_running:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.3)
        prompt.text = ""
        original = watch_typed_keys(app, prompt, posted, seen)
        while app.turn_running:
            posted.append(time.perf_counter_ns())
            app.post_message(events.Key("x", "x"))
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - started
        app._display = original
        await pilot.pause()
        records = app.chat.all_records()
        got = len(records[-1].text) if records else 0
    keys = sorted((s - p) / 1e6 for p, s in zip(posted, seen, strict=False))
    typed_while_streaming = min(len(posted), len(seen))
    return {
        "seconds": round(seconds, 2),
        "reply_complete": float(got == expected_chars),
        "keys": float(len(posted)),
        "keys_shown": float(typed_while_streaming),
        "key_median_ms": round(percentile(keys, 0.5), 1) if keys else float("inf"),
        "key_max_ms": round(max(keys), 1) if keys else float("inf"),
    }


SHORT_REPLY_BYTES = 200  # about 35 words


async def long_session(base_url: str, turns: int = 120) -> dict[str, float]:
    """``turns`` short turns in one live session (the real provider setup, the real SDK and
    OpenAI client over HTTP, the real store): Enter to the finished reply on screen, and
    memory."""
    from tui.app import AgentsTuiApp
    from tui.bench.harness import timed_turns

    return await timed_turns(AgentsTuiApp(_settings(base_url)), turns)


def session_against_server(turns: int = 120) -> dict[str, float]:
    with fast_server(SHORT_REPLY_BYTES) as url:
        return in_fresh_process(f"asyncio.run(server_stream.long_session({url!r}, {turns}))")


def long_reply(size: int = 1_000_000) -> dict[str, Any]:
    """Both sides against the same server; the TUI's time as a ratio of the headless one."""
    from tui.bench.fast_server import reply_deltas

    deltas = reply_deltas(size)
    chars = sum(len(d) for d in deltas)
    with fast_server(size) as url:
        headless = [
            in_fresh_process(f"asyncio.run(server_stream.headless_seconds({url!r}))")
            for _ in range(2)
        ]
        tui = in_fresh_process(f"asyncio.run(server_stream.tui_seconds({url!r}, {chars}))")
    run_s = statistics.median(h["seconds"] for h in headless)
    return {
        "server_reply_bytes": chars,
        "server_reply_deltas": len(deltas),
        "server_run_text_s": round(run_s, 2),
        "server_tui_s": tui["seconds"],
        "server_tui_vs_run_text": round(tui["seconds"] / run_s, 2),
        "server_deltas_per_s_tui": round(len(deltas) / tui["seconds"]),
        "server_tui_reply_complete": bool(tui["reply_complete"]),
        "server_key_median_ms": tui["key_median_ms"],
        "server_key_max_ms": tui["key_max_ms"],
        "server_keys_typed": int(tui["keys"]),
    }


if __name__ == "__main__":
    import json
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="agents-tui-bench-")
    print(json.dumps(long_reply(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000), indent=2))
