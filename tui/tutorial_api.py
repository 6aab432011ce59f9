"""Program 4's web service: ``agents-tui api``'s own app, started in-process.

``agents-tui tutorial 4`` (``tui.tutorial.web_service``) is the tutorial's
``demo_web_streaming``: it creates a session and consumes the service's Server-Sent Events
over HTTP. The tutorial's programs may not import the HTTP server (pyproject's contract:
they are a front end of the core), so the CLI hands them this: the API's app
(``tui.api.server.create_app``) on uvicorn, on a free port of 127.0.0.1, in the program's
own event loop, answering with the program's runner and store; stopped, and its port
closed, when the program is done with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.core.store import Store
    from tui.core.turn.runner import TurnRunner

START_TIMEOUT_S = 10.0


@contextlib.asynccontextmanager
async def serving(
    store: Store, runner: TurnRunner, model_label: str, *, record: bool = True
) -> AsyncIterator[str]:
    """The API on ``http://127.0.0.1:PORT`` (its base URL) while the block runs; every
    session it creates answers with ``runner`` (the program's agent on its backend)."""
    import uvicorn

    from tui.api.server import create_app
    from tui.api.service import StreamingService

    class InProcessServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            """Ctrl+C is the program's (it stops the program, then the server), never
            the server's alone: uvicorn's own would stop it under the program's feet."""
            yield

    service = StreamingService(store, lambda _agent: runner, model_label=model_label, record=record)
    config = uvicorn.Config(
        create_app(service), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = InProcessServer(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while not server.started:
                if task.done():  # it could not bind or start: its exception, or why not
                    task.result()
                    raise RuntimeError("the API stopped as it started")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        service.close()
