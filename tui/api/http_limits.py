"""The HTTP server's limits, each with a number (docs/operations/index.md#limits lists them).

uvicorn closes idle keep-alive connections, caps header size and (optionally) the number
of connections, but has no deadline for a request to *arrive*: its keep-alive timer is
reset by every byte received, so a client that sends half its headers, one byte at a
time, holds a connection for good (Slowloris). Upstream: Kludex/uvicorn#157
("--timeout-request-start", open since 2018). ``DeadlineH11Protocol`` adds that deadline;
the body's own deadline is ``BODY_TIMEOUT_S`` in ``tui.api.server.read_json``.

uvicorn's ``h11_max_incomplete_event_size`` is no limit on a request's head either: h11
checks it only while the head is incomplete, so a 120 KB head that arrives in one read
passed. ``DeadlineH11Protocol`` measures every parsed head as well (``MAX_HEADER_BYTES``,
``431 HEADERS_TOO_LARGE`` in the API's JSON error shape, either way).

A client dropped for not reading is cut off (``transport.abort()``, a reset with
``SO_LINGER`` 0): uvicorn's ``transport.close()`` first sends what is buffered, and the
kernel then what it holds, so a client reading 10 bytes a second kept its connection and
~200 KB unsent for hours. A connection past the connections'
limit (counted when it comes) gets ``PAST_LIMIT_HEAD_S`` for its request (answered 503)
instead of the whole head deadline, so that silent sockets past the limit do not hold the
open files; those within the limit are served.

asyncio's accept loop logs "socket.accept() out of system resource" once per pending
connection at the open-file limit, up to the backlog (2,048 with uvicorn) every time the
socket is ready: CPython gh-151615 (fixed by python/cpython#151616, after 3.11.7 and
3.12), 331,774 lines in seconds. ``quiet_accept_errors`` logs it once a second at most.
And that loop takes every file the process may open: 200 connections at once under
``ulimit -n 256`` left a running turn none for its database (``unable to open database
file``). ``gate_accepts`` keeps ``keep_free`` files for the turns: while fewer are free, the
listening socket is not read (connections wait in its backlog) until some close.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import resource
import socket
import struct
import time
from typing import Any

import h11
import uvicorn.protocols.http.h11_impl as h11_impl
from sse_starlette.sse import EventSourceResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_TIMEOUT_S = 10.0  # a request's line and headers must arrive within this
BODY_TIMEOUT_S = 30.0  # its body within this (408 REQUEST_TIMEOUT)
KEEP_ALIVE_S = 5  # an idle connection between requests is closed after this
SEND_TIMEOUT_S = 10.0  # a client that takes no event for this long is dropped
MAX_HEADER_BYTES = 16 * 1024  # a request's line and headers past this: 431 HEADERS_TOO_LARGE
GRACEFUL_SHUTDOWN_S = 10  # on SIGTERM, open streams get this long to end
SEND_BUFFER_BYTES = 128 * 1024  # the kernel's buffer toward one client (Linux doubles it)
PAST_LIMIT_HEAD_S = 1.0  # a connection past the limit: its request within this, or closed
ACCEPT_PAUSE_S = 0.05  # while too few files are free, accepting waits this long each time
KEEP_FREE_FILES = 32  # files accepting never takes (the turns': model, database, recording)
ABORT = "agents_tui.abort"  # in a request's scope: cuts its connection off, unsent bytes too

log = logging.getLogger("agents_tui.api")


class Throttled:
    """A warning logged at most once a second, each line saying how many were left out
    since the last (an attack repeats one failure thousands of times a second)."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.last: dict[str, float] = {}
        self.left_out: dict[str, int] = {}

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self.last.get(message, -self.interval_s) < self.interval_s:
            self.left_out[message] = self.left_out.get(message, 0) + 1
            return
        self.last[message] = now
        left_out = self.left_out.pop(message, 0)
        if left_out:
            log.warning(message + " (and %d more in the last second)", *args, left_out)
        else:
            log.warning(message, *args)


throttled = Throttled()
ACCEPT_FAILED = "socket.accept() out of system resource"


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """``loop`` logs a failing accept once a second at most, as one line without a
    traceback; any other exception it meets as before."""
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_FAILED:
            problem = context.get("exception")
            reason = problem.strerror if isinstance(problem, OSError) else problem
            throttled.warning(
                "cannot accept connections (%s): new connections wait until files are "
                "free; raise the open-file limit (ulimit -n) or lower --max-streams",
                reason,
            )
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def json_error(code: str, message: str) -> bytes:
    """The API's error shape, ``{"error": {"code", "message"}}``."""
    return json.dumps({"error": {"code": code, "message": message}}).encode()


TOO_LARGE = (
    "HEADERS_TOO_LARGE",
    f"the request's line and headers are over {MAX_HEADER_BYTES:,} bytes",
)


def head_bytes(scope: Any) -> int:
    """The size of the request's head as it came (``METHOD target HTTP/1.1``, each header
    line, the blank line), from what uvicorn parsed of it."""
    target = len(scope.get("raw_path") or b"") + (
        1 + len(scope["query_string"]) if scope.get("query_string") else 0
    )
    line = len(scope.get("method", "")) + 1 + target + len(" HTTP/1.1\r\n")
    return line + sum(len(k) + len(v) + 4 for k, v in scope.get("headers", ())) + 2


async def send_closing_error(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON error answered before the app (the API's error shape), the connection closed."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def head_limited(app: Any, limit: int = MAX_HEADER_BYTES) -> Any:
    """``app`` behind the head limit: a request whose head is over ``limit`` bytes gets
    431 and its connection is closed."""

    async def limited(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or head_bytes(scope) <= limit:
            await app(scope, receive, send)
            return
        log.warning(
            "refused a request head of %d bytes (the limit is %d)", head_bytes(scope), limit
        )
        await send_closing_error(send, 431, json_error(*TOO_LARGE))

    return limited


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head to arrive and a
    limit on its size (``MAX_HEADER_BYTES``, enforced whether the head came in one read or
    many)."""

    headers_timeout_s = HEADERS_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limited = head_limited(self.app)

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope[ABORT] = self.abort
            await limited(scope, receive, send)

        self.app = app

    def abort(self) -> None:
        """The connection closed now, what waits to be sent thrown away (the request's
        unfinished response is no error to log: uvicorn sees its client gone)."""
        if self.cycle is not None:
            self.cycle.disconnected = True
        sock = self.transport.get_extra_info("socket")
        if sock is not None:  # a reset: the kernel, too, lets go of what is unsent
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def send_400_response(self, msg: str) -> None:
        """What h11 refuses: a head still incomplete past ``MAX_HEADER_BYTES`` gets the
        same 431 as a complete one (uvicorn answers any refusal with a plain-text 400)."""
        waiting, _closed = self.conn.trailing_data
        if len(waiting) <= MAX_HEADER_BYTES:
            super().send_400_response(msg)
            return
        body = json_error(*TOO_LARGE)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(
                status_code=431, headers=headers, reason=b"Request Header Fields Too Large"
            ),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:  # a client that reads nothing holds this much, not megabytes
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        limit = self.limit_concurrency
        past_limit = limit is not None and len(self.connections) > limit
        if not past_limit:
            # Counted when it came, not when its request does: uvicorn compares the open
            # connections with the limit at each request, so a burst of 200 connections
            # over a limit of 128 had every one of them refused, the first 128 too.
            self.limit_concurrency = None
        self._arm(PAST_LIMIT_HEAD_S if past_limit else None)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, timeout_s: float | None = None) -> None:
        self._disarm()
        waiting_since = self.cycle  # a new request replaces the cycle
        self._deadline: asyncio.TimerHandle | None = self.loop.call_later(
            timeout_s or self.headers_timeout_s, self._expire, waiting_since, timeout_s
        )

    def _disarm(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _expire(self, waiting_since: Any, timeout_s: float | None) -> None:
        self._deadline = None
        if self.cycle is waiting_since and not self.transport.is_closing():
            throttled.warning(
                "closed a connection whose request did not arrive within %g s",
                timeout_s or self.headers_timeout_s,
            )
            self.transport.close()


async def server_busy(scope: Any, receive: Any, send: Any) -> None:
    """What a request past ``limit_concurrency`` gets: the API's JSON error shape (uvicorn
    answers a plain-text 503 "Service Unavailable")."""
    body = json_error(
        "SERVER_BUSY", "the server has as many connections as it takes: try again shortly"
    )
    await send_closing_error(send, 503, body, [(b"retry-after", b"1")])


def gate_accepts(loop: asyncio.AbstractEventLoop, keep_free: int = KEEP_FREE_FILES) -> bool:
    """``loop``'s servers accept a connection only while more than ``keep_free`` files are
    free (Linux: ``/proc/self/fd`` counts them); whether it could be installed (an event
    loop other than asyncio's selector loop of 3.11-3.13 accepts as it does)."""
    accept = getattr(loop, "_accept_connection", None)
    start = getattr(loop, "_start_serving", None)
    remove = getattr(loop, "_remove_reader", None)
    if accept is None or start is None or remove is None or not os.path.isdir("/proc/self/fd"):
        return False
    expected = ["protocol_factory", "sock", "sslcontext", "server", "backlog"]
    if list(inspect.signature(accept).parameters)[:5] != expected:
        return False
    most = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - keep_free

    def resume(sock: socket.socket, server: Any, args: tuple[Any, ...]) -> None:
        if sock.fileno() >= 0 and (server is None or server.is_serving()):
            start(*args)

    def gated(
        protocol_factory: Any,
        sock: socket.socket,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *rest: Any,
    ) -> None:
        room = most - len(os.listdir("/proc/self/fd"))
        if room <= 0:
            remove(sock.fileno())
            args = (protocol_factory, sock, sslcontext, server, backlog, *rest)
            loop.call_later(ACCEPT_PAUSE_S, resume, sock, server, args)
            throttled.warning(
                "not accepting connections while fewer than %d files are free (the "
                "open-file limit is %d): they wait until some close",
                keep_free,
                most + keep_free,
            )
            return
        accept(protocol_factory, sock, sslcontext, server, min(backlog, room), *rest)

    loop._accept_connection = gated  # type: ignore[attr-defined]
    return True


def uvicorn_limits(
    connections: int, headers_timeout_s: float = HEADERS_TIMEOUT_S, keep_free: int = 0
) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.Config`` that set every limit above (and,
    called on the server's event loop before it serves, its accept errors throttled and
    ``keep_free`` files, at least ``KEEP_FREE_FILES``, never taken by connections)."""
    if hasattr(h11_impl, "service_unavailable"):  # the app uvicorn runs past the limit
        h11_impl.service_unavailable = server_busy
    with contextlib.suppress(RuntimeError):  # no running loop: nothing to quiet
        loop = asyncio.get_running_loop()
        quiet_accept_errors(loop)
        gate_accepts(loop, max(keep_free, KEEP_FREE_FILES))
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

    from tui.api.turn_stream import ClientDropped

    class QuietEventSourceResponse(EventSourceResponse):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await super().__call__(scope, receive, send)
            except (SendTimeoutError, ClientDropped) as problem:
                # The connection is cut off, unsent bytes and all (uvicorn's close would
                # send them first); uvicorn would log the response it could not finish
                # as an ERROR: that is what dropping the client means.
                abort = scope.get(ABORT)
                if abort is not None:
                    abort()
                else:
                    _DROPPED.add(id(scope))
                if isinstance(problem, SendTimeoutError):
                    log.warning(
                        "dropped a client that took no event for %g s (%s)",
                        self.send_timeout,
                        scope.get("path", ""),
                    )

    return QuietEventSourceResponse


_DROPPED: set[int] = set()


class _ThrottledFilter(logging.Filter):
    """uvicorn's "Exceeded concurrency limit." (one line per refused request) logged once
    a second at most."""

    def __init__(self) -> None:
        super().__init__()
        self.last = -1.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != "Exceeded concurrency limit.":
            return True
        now = time.monotonic()
        if now - self.last < 1.0:
            return False
        self.last = now
        return True


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
logging.getLogger("uvicorn.error").addFilter(_ThrottledFilter())
