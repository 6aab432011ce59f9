"""Same-origin only: who may talk to a local API that needs no token.

A loopback API without a token trusts whoever reaches the port, and a web page in the
person's browser reaches it too: "simple" cross-origin POSTs (``Content-Type:
text/plain``) need no preflight, and DNS rebinding makes ``evil.example`` resolve to
127.0.0.1 so that even same-origin rules do not stop it. Two checks close both:

- the ``Host`` header must name the bound address, ``localhost``, a loopback address or a
  name given with ``--allow-host`` (a rebound name fails here): 421 otherwise;
- an ``Origin`` header, when present (browsers send it on cross-origin requests and on
  POSTs), must be the server's own origin or one given with ``--allow-origin``: 403
  otherwise. Plain clients (curl, SDKs) send no ``Origin`` and are not affected.

A page on an origin given with ``--allow-origin`` may use the API from a browser (CORS):
its preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are answered ``204``
with the methods and headers the API takes, and every response to it, event streams
included, names it in ``Access-Control-Allow-Origin``. Other origins get no such header
(and their requests are refused as above).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CORS_METHODS = b"GET, POST, DELETE, OPTIONS"
CORS_HEADERS = b"Authorization, Content-Type, Last-Event-ID"
CORS_EXPOSED = b"Retry-After, Location, X-Request-Id"
CORS_MAX_AGE = b"600"  # seconds a browser may keep a preflight's answer


def host_name(host: str) -> str:
    """``example.com:8000`` -> ``example.com``; ``[::1]:8000`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class SameOrigin:
    """ASGI middleware refusing foreign ``Host`` names and foreign ``Origin`` headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        bound: str = "127.0.0.1",
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        hosts = {host_name(h) for h in allow_hosts}
        self.any_host = "*" in hosts
        if bound not in ("0.0.0.0", "::", ""):
            hosts.add(host_name(bound))
        self.hosts = frozenset(hosts | LOOPBACK_NAMES)
        self.origins = frozenset(o.rstrip("/").lower() for o in allow_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not self.any_host and host_name(host) not in self.hosts:
            await _refuse(
                send,
                421,
                "HOST_NOT_ALLOWED",
                f"this server does not answer for the host {host!r}; "
                "start it with --allow-host NAME to serve that name",
            )
            return
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            allowed = origin.rstrip("/").lower()
            if allowed not in (own, *self.origins):
                await _refuse(
                    send,
                    403,
                    "ORIGIN_NOT_ALLOWED",
                    f"requests from the page at {origin!r} are refused; "
                    "start the server with --allow-origin ORIGIN to allow it",
                )
                return
            if allowed in self.origins:
                await self._cross_origin(scope, receive, send, origin, headers)
                return
        await self.app(scope, receive, send)

    async def _cross_origin(
        self, scope: Scope, receive: Receive, send: Send, origin: str, headers: dict[str, str]
    ) -> None:
        """A request from an allowed page: its preflight answered here, anything else
        answered by the app with the headers that let the page read the answer."""
        allow = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *allow,
                        (b"access-control-allow-methods", CORS_METHODS),
                        (b"access-control-allow-headers", CORS_HEADERS),
                        (b"access-control-max-age", CORS_MAX_AGE),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [*allow, (b"access-control-expose-headers", CORS_EXPOSED)]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_cors)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Every response says: do not sniff types, send no referrer, never frame me."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def page_policy(html: str) -> str:
    """A Content-Security-Policy allowing only the page's own inline script and style (by
    their hashes) and requests to its own origin; nothing framed, no base, no forms."""
    import base64
    import hashlib
    import re

    def hashes(tag: str) -> str:
        found = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
        return " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
            for body in found
        )

    return (
        f"default-src 'none'; script-src {hashes('script')}; style-src {hashes('style')}; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
