"""``agents-tui bench --remote``: a terminal attached to a running service (``--connect``)
against the local TUI, on the same scripted stream, in the same run.

- **Delta to screen**: the local TUI's stream (``stream_app``: a scripted model in the
  app's process) against the same deltas at the same rate served by a real
  ``agents-tui api`` process (the bench's echo agent) and presented by an attached app. A
  remote delta is timed from when the service encoded it (its ``timestamp``, the same wall
  clock here) to the first frame that shows it: the network and the service's queue count.
- **Key echo while streaming**: keys posted at 10/s while a remote reply streams, key to
  frame, against the local TUI's (``typing_latency``).
- **Watchers**: 20 headless followers of one session (``RemoteTable``) while a turn
  streams: each must hold exactly the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.bench.harness import (
    SIZE,
    StreamResult,
    _finish,
    _Probe,
    stream_app,
    typing_latency,
    watch_typed_keys,
)
from tui.bench.pg import free_port
from tui.bench.scale_agent import reply_deltas

AUTHOR = "B"  # the attached app's name: the model reads "B: bench"
RATE = 100.0  # deltas per second, the stream measured
DELTAS = 600


@contextlib.contextmanager
def echo_service(rate: float, deltas: int) -> Iterator[str]:
    """A real ``agents-tui api`` (the bench's echo agent) in its own process and folders."""
    home = Path(tempfile.mkdtemp(prefix="agents-tui-remote-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTS_TUI_", "OTEL_"))}
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        AGENTS_TUI_CONFIG=str(home / "config.toml"),
        AGENTS_TUI_ECHO_RATE=str(rate),
        AGENTS_TUI_ECHO_DELTAS=str(deltas),
    )
    argv = [sys.executable, "-m", "tui", "api", "--agent", "tui.bench.scale_agent:echo"]
    child = subprocess.Popen(
        [*argv, "--port", str(port), "--max-streams", "64"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=home,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bench's API did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _attached(url: str) -> Any:
    from tui.app import AgentsTuiApp
    from tui.app_remote import Connect
    from tui.core.config import Settings

    return AgentsTuiApp(Settings(), connect=Connect(url, name=AUTHOR))


async def _until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the attached app did not get there")
        await asyncio.sleep(0.005)


def _arrival_ns(obj: dict[str, Any]) -> int:
    """When the service encoded ``obj``, on this process's ``perf_counter_ns`` clock."""
    sent = datetime.fromisoformat(str(obj["timestamp"])).timestamp()
    return time.perf_counter_ns() - int((time.time() - sent) * 1e9)


async def stream_remote(url: str, text: str, deltas: int, rate: float) -> StreamResult:
    """The attached app's delta-to-screen figures for one reply of ``deltas`` deltas."""
    from tui.widgets.assistant_message import AssistantMessage
    from tui.widgets.prompt import PromptInput

    result = StreamResult(rate, deltas, deltas / rate)
    probe = _Probe()
    app = _attached(url)
    restore = probe.watch_replies()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _until(lambda: app.remote is not None and app.remote.connected.is_set())
            table = app.remote
            take = table._take
            delivered = 0

            def timed(obj: dict[str, Any]) -> list[Any]:
                nonlocal delivered
                if obj.get("type") == "text_delta":
                    delivered += len(obj["data"]["delta"])
                    probe.arrivals.append((_arrival_ns(obj), delivered))
                items: list[Any] = take(obj)
                return items

            table._take = timed
            probe.hook_frames(app)
            await pilot.pause()
            cpu_start = time.process_time()
            prompt = app.query_one(PromptInput)
            prompt.text = "bench"
            prompt.submit()
            await _until(lambda: app.turn_running)
            await _until(lambda: not app.turn_running, timeout=deltas / rate + 60)
            await asyncio.sleep(0.15)  # the last frames
            reply = app.query(AssistantMessage).last()
            return _finish(result, probe, text, reply.source, cpu_start)
    finally:
        gc.unfreeze()
        restore()


async def remote_typing(url: str, keys: int = 30) -> dict[str, float]:
    """Key to frame in the attached app while one of its replies streams."""
    from textual import events

    from tui.core.observe.metrics import percentile
    from tui.widgets.prompt import PromptInput

    app = _attached(url)
    posted: list[int] = []
    seen: list[int] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _until(lambda: app.remote is not None and app.remote.connected.is_set())
            prompt = app.query_one(PromptInput)
            prompt.text = "stream"
            prompt.submit()
            await _until(lambda: app.turn_running)
            await asyncio.sleep(0.5)  # well into the stream
            prompt.text = ""
            prompt.focus()
            await pilot.pause()
            original = watch_typed_keys(app, prompt, posted, seen)
            for _ in range(keys):
                posted.append(time.perf_counter_ns())
                app.post_message(events.Key("x", "x"))
                await asyncio.sleep(0.1)
            streaming = app.turn_running
            app._display = original
            app.action_cancel_turn()
            await asyncio.sleep(0.3)
    finally:
        gc.unfreeze()
    lat = sorted((s - p) / 1e6 for p, s in zip(posted, seen, strict=False))
    lost = len(posted) - len(lat)
    return {
        "median_ms": round(percentile(lat, 0.5), 1) if lat else float("inf"),
        "max_ms": round(lat[-1], 1) if lat and not lost else float("inf"),
        "keys": float(len(posted)),
        "still_streaming": float(bool(streaming)),
    }


async def watchers(url: str, count: int, text: str) -> dict[str, Any]:
    """``count`` headless followers of one session while one turn streams: each exact?"""
    from tui.core import events as ev
    from tui.remote.client import ServiceClient
    from tui.remote.session import RemoteTable

    first = ServiceClient(url)
    session = await first.create_session()
    tables = [RemoteTable(ServiceClient(url), session, f"w{i}") for i in range(count)]
    texts = [""] * count

    async def follow(index: int) -> None:
        async for item in tables[index].follow():
            if isinstance(item, ev.TextDelta):
                texts[index] += item.text
            if isinstance(item, ev.TurnFinished):
                return

    tasks = [asyncio.create_task(follow(i)) for i in range(count)]
    await _until(lambda: all(t.connected.is_set() for t in tables))
    started = time.monotonic()
    await first.post_message(session, "bench", AUTHOR, "watchers-1")
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    finally:
        for table in tables:
            await table.close()
        await first.close()
    return {
        "watchers": count,
        "exact": sum(shown == text for shown in texts),
        "seconds": round(time.monotonic() - started, 2),
    }


async def _measure(quick: bool) -> dict[str, Any]:
    deltas = DELTAS // 2 if quick else DELTAS
    words = reply_deltas(f"{AUTHOR}: bench", deltas)
    text = "".join(words)
    local = await stream_app(words, RATE)
    local_keys = await typing_latency(RATE, keys=20 if quick else 30)
    with echo_service(RATE, deltas) as url:
        remote = await stream_remote(url, text, deltas, RATE)
        remote_keys = await remote_typing(url, keys=20 if quick else 30)
        watched = await watchers(url, 20, text)
    ratio = remote.p95_ms / local.p95_ms if local.p95_ms else float("inf")
    return {
        "rate": RATE,
        "deltas": deltas,
        "local": {"p50_ms": local.p50_ms, "p95_ms": local.p95_ms, "exact": local.identical},
        "remote": {"p50_ms": remote.p50_ms, "p95_ms": remote.p95_ms, "exact": remote.identical},
        "p95_ratio": round(ratio, 3),
        "p95_within_1_25x": ratio <= 1.25,
        "keys_local": local_keys,
        "keys_remote": remote_keys,
        "watchers": watched,
    }


def remote_bench(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(_measure(quick))
