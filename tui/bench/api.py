"""The API under load: streams held at once and time to first event at 1 / 10 / 50 streams.

A scripted model (the SDK's ScriptedModel) streams 40 deltas at 100 deltas/s per stream,
through the real Starlette app on uvicorn, over loopback HTTP (aiohttp client).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from typing import Any


def _echo_runner(_agent: str | None) -> Any:
    from agents import Agent, RunConfig
    from agents.testing import ModelStep, ScriptedModel

    from tui.core.turn.runner import TurnRunner
    from tui.testing.scripted import Text, paced, response_events

    events = response_events([Text([f"word{i} " for i in range(40)])])
    steps = [ModelStep.stream(lambda _call: paced(events, 100)) for _ in range(4)]
    agent = Agent(name="Echo", model=ScriptedModel(steps))
    return TurnRunner(agent, run_config=RunConfig(tracing_disabled=True))


async def _one_stream(http: Any, url: str, started: float) -> tuple[float, float, str]:
    async with http.post(f"{url}/v1/sessions") as response:
        session_id = (await response.json())["session_id"]
    sent = time.perf_counter()
    first = 0.0
    text = ""
    async with http.post(
        f"{url}/v1/sessions/{session_id}/messages", json={"message": "go"}
    ) as response:
        buffer = ""
        async for chunk in response.content.iter_any():
            if not first:
                first = time.perf_counter()
            buffer += chunk.decode()
            while "\r\n\r\n" in buffer:
                block, buffer = buffer.split("\r\n\r\n", 1)
                for line in block.splitlines():
                    if line.startswith("data:"):
                        event = json.loads(line[5:])
                        if event["type"] == "text_delta":
                            text += event["data"]["delta"]
    return (first - sent) * 1000, time.perf_counter() - started, text


def api_concurrency(levels: tuple[int, ...] = (1, 10, 50)) -> dict[str, Any]:
    import aiohttp
    import uvicorn

    from tui.api.server import create_app
    from tui.api.service import StreamingService
    from tui.core.store import Store

    port_holder: dict[str, Any] = {}

    def serve() -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        service = StreamingService(Store(), _echo_runner, model_label="scripted")
        config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="error")
        server = uvicorn.Server(config)
        port_holder.update(port=port, server=server, service=service)
        server.run()

    threading.Thread(target=serve, daemon=True).start()
    deadline = time.monotonic() + 15
    while (
        "server" not in port_holder or not port_holder["server"].started
    ) and time.monotonic() < deadline:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port_holder['port']}"
    expected = "".join(f"word{i} " for i in range(40))
    out: dict[str, Any] = {}

    async def level(n: int) -> dict[str, Any]:
        peak = 0
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            started = time.perf_counter()
            tasks = [asyncio.create_task(_one_stream(http, url, started)) for _ in range(n)]
            while not all(t.done() for t in tasks):
                peak = max(peak, port_holder["service"].streams_open)
                await asyncio.sleep(0.01)
            results = [t.result() for t in tasks]
        firsts = sorted(r[0] for r in results)
        return {
            "streams": n,
            "streams_held_at_once": peak,
            "first_event_ms_median": round(statistics.median(firsts), 1),
            "first_event_ms_max": round(firsts[-1], 1),
            "all_done_s": round(max(r[1] for r in results), 2),
            "exact_text": all(r[2] == expected for r in results),
        }

    for n in levels:
        out[str(n)] = asyncio.run(level(n))
    port_holder["server"].should_exit = True
    return {"api_concurrency": out}
