"""The HTTP API's routes: one small handler each, at module level, and the table that
serves them and describes them (``ROUTES``: the Starlette routes and the OpenAPI document
come from the same rows).

A handler reads what it needs from ``request.app.state`` (``service``, the
``StreamingService``; ``settings``, an ``ApiSettings``), validates its body with the
request models of ``tui.api.schema`` and answers with their response models. Every error
is ``{"error": {"code", "message"}}`` with a stable code; a ``ServiceError`` raised by the
service or the validation becomes that answer.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.api.http_limits import BODY_TIMEOUT_S, SEND_TIMEOUT_S
from tui.api.schema import (
    AgentInfo,
    AgentsResponse,
    ApproveRequest,
    ApproveResponse,
    CancelResponse,
    CreateSessionRequest,
    GlobalStats,
    JsonDict,
    MessagesResponse,
    Operation,
    PostMessageRequest,
    RequestBody,
    SessionCreated,
    SessionStats,
    openapi_document,
)
from tui.api.service import ServiceError, StreamingService, iso

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32  # JSON nesting accepted in a body
PAGE = Path(__file__).with_name("page.html")

Handler = Callable[[Request], Awaitable[Response]]
Body = TypeVar("Body", bound=RequestBody)


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What the handlers need besides the service (``app.state.settings``)."""

    token: str | None = None  # every guarded request sends ``Authorization: Bearer TOKEN``
    body_timeout_s: float = BODY_TIMEOUT_S
    send_timeout_s: float = SEND_TIMEOUT_S


def service_of(request: Request) -> StreamingService:
    service: StreamingService = request.app.state.service
    return service


def settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def error(status: int, code: str, message: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


# --- bodies -------------------------------------------------------------------------------------
async def read_json(
    request: Request, *, required: bool, timeout_s: float = BODY_TIMEOUT_S
) -> dict[str, Any]:
    """The body as a JSON object, refused past ``MAX_BODY_BYTES`` without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ServiceError(413, "BODY_TOO_LARGE", f"the body is over {MAX_BODY_BYTES:,} bytes")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise ServiceError(
                        413, "BODY_TOO_LARGE", f"the body is over {MAX_BODY_BYTES:,} bytes"
                    )
    except TimeoutError:
        raise ServiceError(
            408, "REQUEST_TIMEOUT", f"the body did not arrive within {timeout_s:g} s"
        ) from None
    if not body.strip():
        if required:
            raise ServiceError(422, "INVALID_REQUEST", "a JSON object body is required")
        return {}
    try:
        data = json.loads(body)
    except RecursionError:
        raise ServiceError(
            422, "INVALID_JSON", f"the JSON is nested deeper than {MAX_DEPTH} levels"
        ) from None
    except ValueError as problem:
        raise ServiceError(422, "INVALID_JSON", f"the body is not JSON: {problem}") from None
    if not isinstance(data, dict):
        raise ServiceError(422, "INVALID_REQUEST", "the body must be a JSON object")
    check_text(data)
    return data


def check_text(value: object, depth: int = 0) -> None:
    """Refuse what cannot be stored before anything is stored or sent: text that is not
    valid Unicode (a lone surrogate such as ``\\ud800`` parses as JSON but cannot be
    written as UTF-8, and poisoned every later turn of its session) and deep nesting."""
    if depth > MAX_DEPTH:
        raise ServiceError(
            422, "INVALID_JSON", f"the JSON is nested deeper than {MAX_DEPTH} levels"
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as problem:
            raise ServiceError(
                422,
                "INVALID_TEXT",
                f"the text holds an unpaired surrogate at position {problem.start}: "
                "send valid Unicode",
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, depth + 1)
            check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_text(item, depth + 1)


def validated(model: type[Body], data: Mapping[str, Any]) -> Body:
    """``data`` as ``model``, or ``422 INVALID_REQUEST`` naming the first field that fails
    (in the model's order) with the model's own message for it."""
    try:
        return model.model_validate(data)
    except ValidationError as problem:
        first = problem.errors(include_url=False, include_input=False, include_context=False)[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        message = model.invalid.get(f"{name}/{first['type']}") or model.invalid.get(name)
        if message is None:
            message = f"{name}: {first['msg']}" if name else first["msg"]
        raise ServiceError(422, "INVALID_REQUEST", message) from None


async def parse(request: Request, model: type[Body], *, required: bool = True) -> Body:
    data = await read_json(
        request, required=required, timeout_s=settings_of(request).body_timeout_s
    )
    return validated(model, data)


def reply(model: BaseModel, status: int = 200) -> JSONResponse:
    """A response model as JSON (its fields in their order: the bytes a dict would give)."""
    return JSONResponse(model.model_dump(mode="json", by_alias=True), status_code=status)


# --- event streams ------------------------------------------------------------------------------
async def sse(stream: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, str]]:
    """Protocol objects as Server-Sent Events: the object in ``data``, its id in ``id``."""
    async for obj in stream:
        event = {"data": json.dumps(obj, ensure_ascii=False)}
        if "id" in obj:
            event["id"] = obj["id"]
        yield event


def event_stream(request: Request, stream: AsyncIterator[dict[str, Any]]) -> Response:
    """A client that takes no event for ``send_timeout_s`` is dropped (its turn stopped, the
    partial reply kept); what waits for it is bounded by the service."""
    from tui.api.http_limits import quiet_event_source

    EventSourceResponse = quiet_event_source()
    timeout = settings_of(request).send_timeout_s
    return EventSourceResponse(sse(stream), ping=15, send_timeout=timeout)


# --- handlers -------------------------------------------------------------------------------------
async def create_session(request: Request) -> Response:
    service = service_of(request)
    body = await parse(request, CreateSessionRequest, required=False)
    session_id = service.create_session(body.agent, body.user_context, body.title, body.session_id)
    row = service.store.conversation(session_id)
    created = iso(row.created_at if row else 0.0)
    last = iso(row.updated_at if row else 0.0)
    return reply(
        SessionCreated(
            session_id=session_id, created_at=created, last_activity=last, timestamp=created
        ),
        201,
    )


async def post_message(request: Request) -> Response:
    service = service_of(request)
    session_id = request.path_params["session_id"]
    service.session(session_id)  # 404 before the body is read
    body = await parse(request, PostMessageRequest)
    stream = service.stream_response(session_id, body.message, detach=body.detach)  # 429
    return event_stream(request, stream)


async def follow(request: Request) -> Response:
    """A session's events, from any process: the running turn (or the next), or what came
    after ``Last-Event-ID`` (the header, or ``?last_event_id=``)."""
    last = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    stream = service_of(request).follow(request.path_params["session_id"], last)
    return event_stream(request, stream)


async def get_messages(request: Request) -> Response:
    messages = await service_of(request).messages(request.path_params["session_id"])
    return JSONResponse({"messages": messages})


async def get_session_stats(request: Request) -> Response:
    service = service_of(request)
    return JSONResponse(await service.session_stats(request.path_params["session_id"]))


async def get_stats(request: Request) -> Response:
    return JSONResponse(await service_of(request).global_stats())


async def get_agents(request: Request) -> Response:
    """The agents a session may name in ``agent``: the source tutorial's six."""
    from tui.core.agents.game_master import GAME_MASTER
    from tui.core.agents.tutorial import PLAIN_AGENTS

    specs = {**PLAIN_AGENTS, "game-master": GAME_MASTER}
    listed = [
        AgentInfo(agent=key, name=specs[key].name, instructions=specs[key].instructions())
        for key in service_of(request).agents
        if key in specs
    ]
    return reply(
        AgentsResponse(
            agents=listed,
            without_agent="a session that names none gets the server's --agent",
        )
    )


async def cancel(request: Request) -> Response:
    cancelled = service_of(request).cancel(request.path_params["session_id"])
    return reply(CancelResponse(cancelled=cancelled))


async def approve(request: Request) -> Response:
    body = await parse(request, ApproveRequest)
    call_id = request.path_params["call_id"]
    service_of(request).approve(request.path_params["session_id"], call_id, body.approve)
    return reply(ApproveResponse(call_id=call_id, approved=body.approve))


async def get_metrics(request: Request) -> Response:
    """Prometheus' text exposition of this process's metrics."""
    from prometheus_client import CONTENT_TYPE_LATEST

    metrics = service_of(request).telemetry.metrics
    body = metrics.exposition() if metrics is not None else b""
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@functools.cache
def page_and_policy() -> tuple[str, str]:
    """The page and its Content-Security-Policy (hashes of its inline script and style)."""
    from tui.api.guard import page_policy

    html = PAGE.read_text(encoding="utf-8")
    return html, page_policy(html)


async def page(_request: Request) -> Response:
    html, policy = page_and_policy()
    return Response(html, media_type="text/html", headers={"Content-Security-Policy": policy})


@functools.cache
def document() -> JsonDict:
    """The OpenAPI document of ``ROUTES`` (built once)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("agents-tui")
    except PackageNotFoundError:
        release = "0"
    return openapi_document([op for op, _ in ROUTES], version=release)


async def get_openapi(_request: Request) -> Response:
    return JSONResponse(document())


# --- what wraps them ------------------------------------------------------------------------------
def guarded(handler: Handler) -> Handler:
    """The token, when the server has one (compared in constant time); the service's and
    the validation's errors as the API's error answers."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        token = settings_of(request).token
        if token is not None:
            given = request.headers.get("authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return error(401, "UNAUTHORIZED", "send Authorization: Bearer TOKEN")
        try:
            return await handler(request)
        except ServiceError as problem:
            return error(
                problem.status, problem.code, problem.message, retry_after=problem.retry_after
            )

    return endpoint


async def unexpected(request: Request, problem: Exception) -> Response:
    """Anything unforeseen: logged with a request id, never a stack trace in the body."""
    request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex[:12]
    logging.getLogger("agents_tui.api").error(
        "request %s %s %s failed",
        request_id,
        request.method,
        request.url.path,
        exc_info=problem,
    )
    return error(
        500, "INTERNAL_ERROR", f"the server failed on this request (request id {request_id})"
    )


async def not_found(request: Request, _exc: Exception) -> Response:
    return error(404, "NOT_FOUND", f"no route {request.method} {request.url.path}")


async def method_not_allowed(request: Request, _exc: Exception) -> Response:
    return error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")


EXCEPTION_HANDLERS: Mapping[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    404: not_found,
    405: method_not_allowed,
    Exception: unexpected,
}

# --- the table ------------------------------------------------------------------------------------
SESSION_404 = {404: "`SESSION_NOT_FOUND`: no such session."}
STREAM_TEXT = (
    "`text/event-stream`: one event per protocol object (`data:` the object as JSON, `id:` "
    "its id when it has one), a comment every 15 s to keep the connection open."
)
LAST_EVENT_ID: JsonDict = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "Resume after this event (`TURN-SEQ`, an id this API sent).",
    "schema": {"type": "string"},
}
LAST_EVENT_ID_QUERY: JsonDict = {**LAST_EVENT_ID, "name": "last_event_id", "in": "query"}

ROUTES: tuple[tuple[Operation, Handler], ...] = (
    (
        Operation(
            "GET",
            "/",
            "page",
            "The chat page",
            "A static page (plain HTML/CSS/JS, no CDN) that chats through the API (a token "
            "goes in the address: `/#token=...`).",
            media="text/html",
            reply_text="The page, with a Content-Security-Policy.",
            secured=False,
        ),
        page,
    ),
    (
        Operation(
            "POST",
            "/v1/sessions",
            "create_session",
            "Create a session",
            body=CreateSessionRequest,
            body_required=False,
            reply=SessionCreated,
            status=201,
            reply_text="Created.",
            errors={
                409: "`SESSION_EXISTS`: the `session_id` asked for is taken.",
                422: "`INVALID_REQUEST`, `INVALID_JSON`, `INVALID_TEXT`, or `UNKNOWN_AGENT` "
                "(an agent `GET /v1/agents` does not list).",
            },
        ),
        guarded(create_session),
    ),
    (
        Operation(
            "POST",
            "/v1/sessions/{session_id}/messages",
            "post_message",
            "Send a prompt and stream its turn",
            "The turn's events, ending with `response_complete`; a prompt sent while a turn "
            "runs gets `queued` first and waits its turn.",
            body=PostMessageRequest,
            media="text/event-stream",
            reply_text=STREAM_TEXT,
            errors={**SESSION_404, 429: ""},
        ),
        guarded(post_message),
    ),
    (
        Operation(
            "GET",
            "/v1/sessions/{session_id}/messages",
            "get_messages",
            "The session's stored turns",
            reply=MessagesResponse,
            errors=SESSION_404,
        ),
        guarded(get_messages),
    ),
    (
        Operation(
            "GET",
            "/v1/sessions/{session_id}/events",
            "follow",
            "Follow a session's events",
            "The events after `Last-Event-ID` to the end of its turn (then the next turn), "
            "never one twice; without an id the running turn from its start, or the next "
            "one. Any process serves it (PostgreSQL).",
            media="text/event-stream",
            reply_text=STREAM_TEXT,
            errors={**SESSION_404, 422: "`INVALID_EVENT_ID`: an id this API did not send."},
            parameters=(LAST_EVENT_ID, LAST_EVENT_ID_QUERY),
        ),
        guarded(follow),
    ),
    (
        Operation(
            "GET",
            "/v1/sessions/{session_id}/stats",
            "get_session_stats",
            "The session's statistics",
            reply=SessionStats,
            errors=SESSION_404,
        ),
        guarded(get_session_stats),
    ),
    (
        Operation(
            "POST",
            "/v1/sessions/{session_id}/cancel",
            "cancel",
            "Cancel the running turn",
            "The turn ends `interrupted`, its partial reply kept.",
            reply=CancelResponse,
            errors=SESSION_404,
        ),
        guarded(cancel),
    ),
    (
        Operation(
            "POST",
            "/v1/sessions/{session_id}/approvals/{call_id}",
            "approve",
            "Answer an approval",
            "Answers an `approval_required` event.",
            body=ApproveRequest,
            reply=ApproveResponse,
            errors={**SESSION_404, 409: "`APPROVAL_NOT_PENDING`: no such call waits."},
        ),
        guarded(approve),
    ),
    (
        Operation(
            "GET",
            "/v1/stats",
            "get_stats",
            "Every stored turn's statistics",
            reply=GlobalStats,
        ),
        guarded(get_stats),
    ),
    (
        Operation(
            "GET",
            "/v1/agents",
            "get_agents",
            "The agents a session may name",
            reply=AgentsResponse,
        ),
        guarded(get_agents),
    ),
    (
        Operation(
            "GET",
            "/metrics",
            "get_metrics",
            "Prometheus metrics",
            media="text/plain",
            reply_text="Prometheus' text exposition of this process's metrics.",
        ),
        guarded(get_metrics),
    ),
    (
        Operation(
            "GET",
            "/openapi.json",
            "get_openapi",
            "This document",
            reply_text="The OpenAPI 3.1 document of this API.",
        ),
        guarded(get_openapi),
    ),
)


def routes() -> list[Route]:
    return [Route(op.path, handler, methods=[op.method]) for op, handler in ROUTES]
