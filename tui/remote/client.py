"""The HTTP side of a running ``agents-tui api``: its routes as typed calls (httpx).

Every answer that is not a success is a ``ServiceProblem`` with a line a person can read
(401: the token; 404: the session; 429 with its ``Retry-After``; 503: the service is busy
or its store away); a network failure is a ``Unreachable``. Nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 35.0  # a follower waits this long for anything (the service pings every 15 s)


def shown_url(url: str) -> str:
    """``url`` as it may be shown: without a ``user:password@`` part."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class Unreachable(Exception):
    """The service could not be reached, or the connection broke."""


@dataclass
class ServiceProblem(Exception):
    status: int
    code: str
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.line()

    def line(self) -> str:
        """The problem as one line for the status bar."""
        if self.code == "NOT_AGENTS_TUI":
            return self.message
        if self.status == 401:
            return "the service refused the token (401): set AGENTS_TUI_API_TOKEN or --token-file"
        if self.status == 404:
            return f"not found (404): {self.message}"
        if self.status == 429:
            wait = f"; retrying in {self.retry_after:g} s" if self.retry_after else ""
            return f"the service is busy (429 {self.code}){wait}"
        if self.status == 503:
            wait = f"; retrying in {self.retry_after:g} s" if self.retry_after else ""
            return f"the service is unavailable (503 {self.code}){wait}"
        return f"{self.status} {self.code}: {self.message}"

    @property
    def passing(self) -> bool:
        """Worth trying again later (busy, unavailable, a server error), not a refusal."""
        return self.code != "NOT_AGENTS_TUI" and (self.status in (429, 408) or self.status >= 500)


def _problem(response: httpx.Response, body: bytes) -> ServiceProblem:
    code, message = "HTTP_ERROR", body.decode("utf-8", "replace")[:200]
    try:
        found = json.loads(body)["error"]
        code, message = str(found["code"]), str(found["message"])
    except (ValueError, KeyError, TypeError):
        pass
    retry = response.headers.get("retry-after")
    try:
        retry_after = float(retry) if retry is not None else None
    except ValueError:
        retry_after = None
    return ServiceProblem(response.status_code, code, message, retry_after)


class ServiceClient:
    """One running service, at ``base_url`` (``http://`` or ``https://``, a path prefix kept
    for a reverse proxy), with its bearer token if it needs one."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.shown = shown_url(self.base_url)  # what the screen may say (no credentials)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        self._http = httpx.AsyncClient(headers=headers, timeout=timeout, trust_env=False)

    async def close(self) -> None:
        await self._http.aclose()

    def _url(self, path: str) -> str:
        return self.base_url + path

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = await self._http.request(method, self._url(path), json=body)
        except httpx.HTTPError as error:
            raise Unreachable(_reason(error)) from None
        if response.status_code >= 400:
            raise _problem(response, response.content)
        try:
            found = response.json() if response.content else None
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise ServiceProblem(
                response.status_code,
                "NOT_AGENTS_TUI",
                f"{self.shown} does not answer as an agents-tui api ({method} {path})",
            )
        return found

    # --- sessions ---------------------------------------------------------------------------
    async def create_session(self, agent: str | None = None, session_id: str | None = None) -> str:
        body: dict[str, Any] = {}
        if agent:
            body["agent"] = agent
        if session_id:
            body["session_id"] = session_id
        made = await self._json("POST", "/v1/sessions", body or None)
        if not isinstance(made.get("session_id"), str):
            raise ServiceProblem(201, "NOT_AGENTS_TUI", "the service made no session id")
        return str(made["session_id"])

    async def session(self, session_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._json("GET", f"/v1/sessions/{_seg(session_id)}")
        return found

    async def join_or_create(self, session_id: str, agent: str | None = None) -> dict[str, Any]:
        """The session ``session_id``, made with that id if the service has none yet."""
        try:
            return await self.session(session_id)
        except ServiceProblem as problem:
            if problem.status != 404:
                raise
        try:
            await self.create_session(agent, session_id)
        except ServiceProblem as problem:
            if problem.code != "SESSION_EXISTS":  # another player made it meanwhile
                raise
        return await self.session(session_id)

    async def sessions(self, limit: int = 100) -> list[dict[str, Any]]:
        page = await self._json("GET", f"/v1/sessions?limit={limit}")
        return [s for s in _listed(page, "sessions") if isinstance(s, dict)]

    async def messages(self, session_id: str) -> list[dict[str, Any]]:
        found = await self._json("GET", f"/v1/sessions/{_seg(session_id)}/messages")
        return [m for m in _listed(found, "messages") if isinstance(m, dict)]

    async def cancel(self, session_id: str, by: str = "") -> bool:
        """Stop the running turn (whoever started it); prompts waiting behind it stay."""
        body = {"by": by, "queued": False}
        found = await self._json("POST", f"/v1/sessions/{_seg(session_id)}/cancel", body)
        return bool(found.get("cancelled"))

    async def approve(self, session_id: str, call_id: str, approved: bool) -> None:
        path = f"/v1/sessions/{_seg(session_id)}/approvals/{_seg(call_id)}"
        await self._json("POST", path, {"approve": approved})

    async def post_message(
        self, session_id: str, text: str, author: str, message_id: str, *, interrupt: bool = False
    ) -> None:
        """Send one prompt; its turn runs on whatever this client does next (``detach``):
        every follower, this one too, sees it through ``events``. ``interrupt``: the running
        turn is stopped and this prompt runs next."""
        body = {"message": text, "author": author, "message_id": message_id, "detach": True}
        if interrupt:
            body["interrupt"] = True
        path = f"/v1/sessions/{_seg(session_id)}/messages"
        try:
            async with self._http.stream("POST", self._url(path), json=body) as response:
                if response.status_code >= 400:
                    raise _problem(response, await response.aread())
        except httpx.HTTPError as error:
            raise Unreachable(_reason(error)) from None

    @asynccontextmanager
    async def events(
        self, session_id: str, last_event_id: str | None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The session's events as they come (``GET .../events``), after ``last_event_id``."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        path = f"/v1/sessions/{_seg(session_id)}/events"
        try:
            async with self._http.stream("GET", self._url(path), headers=headers) as response:
                if response.status_code >= 400:
                    raise _problem(response, await response.aread())
                yield _sse(response)
        except httpx.HTTPError as error:
            raise Unreachable(_reason(error)) from None


async def _sse(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Each SSE event's ``data`` object, as it arrives."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                try:
                    obj = json.loads("\n".join(data))
                except ValueError:
                    obj = None
                data = []
                if isinstance(obj, dict):
                    yield obj
            continue
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def _listed(found: dict[str, Any], key: str) -> list[Any]:
    value = found.get(key)
    if not isinstance(value, list):
        raise ServiceProblem(200, "NOT_AGENTS_TUI", f"the service's answer has no {key!r} list")
    return value


def _seg(part: str) -> str:
    return quote(part, safe="")


def _reason(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]
