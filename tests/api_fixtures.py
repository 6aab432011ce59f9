"""An API server for tests: the real Starlette app on uvicorn, on a free loopback port."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from agents import Agent, RunConfig
from agents.testing import ModelStep, ScriptedModel

from tests.mcp_servers import free_port
from tui.api.server import create_app
from tui.api.service import StreamingService
from tui.bench.scale_agent import last_user_text
from tui.core.store import Store
from tui.core.turn.runner import RetryPolicy, TurnRunner
from tui.testing.scripted import Text, paced, response_events


def echo_words(prompt: str) -> list[str]:
    """The reply a test expects for ``prompt``: every word echoed, one delta each."""
    return [f"{word} " for word in f"You said: {prompt}".split()]


def echo_agent(rate: float = 200.0, turns: int = 10) -> Agent:
    """Streams back the prompt word by word at ``rate`` deltas/s."""

    def step() -> ModelStep:
        return ModelStep.stream(
            lambda call: paced(response_events([Text(echo_words(last_user_text(call)))]), rate)
        )

    return Agent(name="Echo", model=ScriptedModel([step() for _ in range(turns)]))


class ApiServer:
    def __init__(self, make_agent: Any, token: str | None = None) -> None:
        self.make_agent = make_agent
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.service: StreamingService | None = None
        self._server: Any = None

    def runner(self, _agent: str | None) -> TurnRunner:
        return TurnRunner(
            self.make_agent(),
            run_config=RunConfig(tracing_disabled=True),
            retry=RetryPolicy(max_attempts=1),
        )

    def start(self) -> ApiServer:
        import uvicorn

        ready = threading.Event()

        def run() -> None:
            self.service = StreamingService(Store(), self.runner, model_label="scripted")
            app = create_app(self.service, token=self.token)
            config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
            self._server = uvicorn.Server(config)
            ready.set()
            self._server.run()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


async def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)
