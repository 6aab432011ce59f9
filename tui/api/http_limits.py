"""The HTTP server's limits, each with a number (the README's API section lists them).

uvicorn closes idle keep-alive connections, caps header size and (optionally) the number
of connections, but has no deadline for a request to *arrive*: its keep-alive timer is
reset by every byte received, so a client that sends half its headers, one byte at a
time, holds a connection for good (Slowloris). Upstream: Kludex/uvicorn#157
("--timeout-request-start", open since 2018). ``DeadlineH11Protocol`` adds that deadline;
the body's own deadline is ``BODY_TIMEOUT_S`` in ``tui.api.server.read_json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from typing import Any

import uvicorn.protocols.http.h11_impl as h11_impl
from sse_starlette.sse import EventSourceResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_TIMEOUT_S = 10.0  # a request's line and headers must arrive within this
BODY_TIMEOUT_S = 30.0  # its body within this (408 REQUEST_TIMEOUT)
KEEP_ALIVE_S = 5  # an idle connection between requests is closed after this
SEND_TIMEOUT_S = 10.0  # a client that takes no event for this long is dropped
MAX_HEADER_BYTES = 16 * 1024  # a request head past this gets 400 (h11)
GRACEFUL_SHUTDOWN_S = 10  # on SIGTERM, open streams get this long to end
SEND_BUFFER_BYTES = 128 * 1024  # the kernel's buffer toward one client (Linux doubles it)

log = logging.getLogger("agents_tui.api")


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head to arrive."""

    headers_timeout_s = HEADERS_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:  # a client that reads nothing holds this much, not megabytes
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        waiting_since = self.cycle  # a new request replaces the cycle
        self._deadline: asyncio.TimerHandle | None = self.loop.call_later(
            self.headers_timeout_s, self._expire, waiting_since
        )

    def _disarm(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _expire(self, waiting_since: Any) -> None:
        self._deadline = None
        if self.cycle is waiting_since and not self.transport.is_closing():
            log.warning(
                "closed a connection whose request did not arrive within %g s",
                self.headers_timeout_s,
            )
            self.transport.close()


async def server_busy(scope: Any, receive: Any, send: Any) -> None:
    """What a request past ``limit_concurrency`` gets: the API's JSON error shape (uvicorn
    answers a plain-text 503 "Service Unavailable")."""
    body = json.dumps(
        {
            "error": {
                "code": "SERVER_BUSY",
                "message": "the server has as many connections as it takes: try again shortly",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def uvicorn_limits(
    connections: int, headers_timeout_s: float = HEADERS_TIMEOUT_S
) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.Config`` that set every limit above."""
    if hasattr(h11_impl, "service_unavailable"):  # the app uvicorn runs past the limit
        h11_impl.service_unavailable = server_busy
    return {
        "http": type("Protocol", (DeadlineH11Protocol,), {"headers_timeout_s": headers_timeout_s}),
        "timeout_keep_alive": KEEP_ALIVE_S,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "limit_concurrency": connections,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }


def quiet_event_source() -> type[EventSourceResponse]:
    """sse-starlette's response, with a client dropped for not reading (``send_timeout``)
    logged as one line: sse-starlette raises ``SendTimeoutError`` out of the response, and
    Starlette and uvicorn each logged it with a full traceback."""
    from sse_starlette.sse import SendTimeoutError

    class QuietEventSourceResponse(EventSourceResponse):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await super().__call__(scope, receive, send)
            except SendTimeoutError:
                # uvicorn then closes the connection, and would log the response it could
                # not finish as an ERROR: that is what dropping the client means.
                _DROPPED.add(id(scope))
                log.warning(
                    "dropped a client that took no event for %g s (%s)",
                    self.send_timeout,
                    scope.get("path", ""),
                )

    return QuietEventSourceResponse


_DROPPED: set[int] = set()


class _DroppedClientFilter(logging.Filter):
    """Keeps uvicorn's "returned without completing response" for a dropped client out of
    the log (the drop is logged once above, as a warning)."""

    def filter(self, record: logging.LogRecord) -> bool:
        unfinished = record.getMessage() == "ASGI callable returned without completing response."
        if unfinished and _DROPPED:
            _DROPPED.pop()
            return False
        return True


logging.getLogger("uvicorn.error").addFilter(_DroppedClientFilter())
