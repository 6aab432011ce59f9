"""gzip for the API's answers, for clients that ask (``Accept-Encoding: gzip``).

Starlette's ``GZipMiddleware`` (1.10) leaves ``text/event-stream`` alone by default, and
holds a response's headers until its first body chunk: a follower waiting for the next turn
(``GET .../events``) would see no headers until the first event or ping, 15 s later. Here an
event stream's headers go at once, and each chunk the stream sends (one event, or a ping) is
compressed and flushed with ``Z_SYNC_FLUSH``, so the client decodes it as it arrives: the
stream is never held back. Other answers (JSON, the page, ``/metrics``) are compressed whole
when they are at least ``minimum_size`` bytes; tiny ones go as they are. Every answer that
a client asking for gzip would get compressed says ``Vary: Accept-Encoding`` (merged with the
same-origin guard's ``Vary: Origin``: this middleware wraps it).
"""

from __future__ import annotations

import zlib
from typing import Any

from starlette.datastructures import Headers, MutableHeaders

Message = dict[str, Any]
ASGIApp = Any

MINIMUM_SIZE = 500  # bytes: smaller answers gain nothing from gzip's 18-byte frame
LEVEL = 6  # zlib's default: level 9 costs about twice the time for a few percent
COMPRESSIBLE = ("application/json", "application/javascript", "image/svg+xml")


def accepts_gzip(header: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip;q=0`` refuses it; ``*`` allows it
    unless gzip is named)."""
    allowed: dict[str, bool] = {}
    for part in header.lower().split(","):
        coding, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed[coding.strip()] = q > 0
    return allowed.get("gzip", allowed.get("*", False))


def compressible(media_type: str) -> bool:
    return (
        media_type.startswith("text/") or media_type in COMPRESSIBLE or media_type.endswith("+json")
    )


class Compression:
    """The ASGI middleware, around the same-origin guard (its ``Vary`` merged into one
    header) and inside the request log; error answers are compressed too."""

    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        await self.app(scope, receive, _Responder(send, wanted, self.minimum_size).send)


class _Responder:
    """One response: passed on as it is, compressed whole, or compressed chunk by chunk."""

    def __init__(self, send: Any, wanted: bool, minimum_size: int) -> None:
        self._send = send
        self.wanted = wanted
        self.minimum_size = minimum_size
        self.start: Message | None = None  # held until the first body says how big it is
        self.compressor: Any = None  # streaming: one gzip member over every chunk
        self.passthrough = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._started(message)
        elif kind == "http.response.body" and not self.passthrough:
            await self._body(message)
        else:
            await self._send(message)

    async def _started(self, message: Message) -> None:
        headers = MutableHeaders(raw=message.setdefault("headers", []))
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if (
            not compressible(media_type)
            or "content-encoding" in headers
            or message["status"] in (204, 206, 304)
        ):
            self.passthrough = True
            await self._send(message)
        elif media_type == "text/event-stream":
            headers.add_vary_header("Accept-Encoding")
            if self.wanted:
                await self._stream(message)  # the headers now: the events come when they come
            else:
                self.passthrough = True
                await self._send(message)
        else:
            self.start = message  # until its first body says whether it could be compressed

    async def _stream(self, start: Message) -> None:
        headers = MutableHeaders(raw=start["headers"])
        headers["Content-Encoding"] = "gzip"
        if "content-length" in headers:
            del headers["Content-Length"]
        self.compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.start = None
        await self._send(start)

    async def _body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self.start is not None:  # the first chunk of a response not yet started
            start = self.start
            small = not more and len(body) < self.minimum_size
            if not small:  # compressed for a client that asks: caches keep both
                MutableHeaders(raw=start["headers"]).add_vary_header("Accept-Encoding")
            if small or not self.wanted:
                self.passthrough = True
                self.start = None
                await self._send(start)
                await self._send(message)
                return
            if more:
                await self._stream(start)  # streamed: compressed as it goes
            else:
                compressed = zlib.compress(body, LEVEL, wbits=16 + zlib.MAX_WBITS)
                headers = MutableHeaders(raw=start["headers"])
                headers["Content-Encoding"] = "gzip"
                headers["Content-Length"] = str(len(compressed))
                self.start = None
                await self._send(start)
                await self._send({**message, "body": compressed})
                return
        if not body and more:
            await self._send(message)  # nothing to flush
            return
        flush = zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH
        chunk = self.compressor.compress(body) + self.compressor.flush(flush)
        await self._send({**message, "body": chunk})
