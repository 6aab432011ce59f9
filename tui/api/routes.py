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
import base64
import binascii
import functools
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.api import stored
from tui.api.http_limits import BODY_TIMEOUT_S, SEND_TIMEOUT_S
from tui.api.schema import (
    AgentInfo,
    AgentsResponse,
    ApproveRequest,
    ApproveResponse,
    CancelRequest,
    CancelResponse,
    CreateSessionRequest,
    GlobalStats,
    JsonDict,
    MessagesResponse,
    Operation,
    PostMessageRequest,
    ProbeResponse,
    RequestBody,
    SessionCreated,
    SessionItem,
    SessionsPage,
    SessionStats,
    openapi_document,
)
from tui.api.service import (
    PLAYERS_S,
    RETRY_AFTER_S,
    ServiceError,
    StreamingService,
    delete_session,
    iso,
    listed_status,
    unready,
)
from tui.core.store import StoreUnavailable
from tui.core.turn.protocol import envelope

if TYPE_CHECKING:
    from tui.core.store.reads import ListedConversation

MAX_BODY_BYTES = 256 * 1024
STORE_AWAY = "the store's database does not answer: try again shortly"
PAGE_LIMIT, MAX_PAGE_LIMIT = 50, 500  # sessions a page lists: by default, at most
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
    written as UTF-8, and poisoned every later turn of its session), text holding NUL
    (``\\u0000``: PostgreSQL's text refuses it, SQLite's C strings end at it) and deep
    nesting."""
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
        if "\x00" in value:
            raise ServiceError(
                422,
                "INVALID_TEXT",
                f"the text holds NUL (\\u0000) at position {value.index(chr(0))}: "
                "send text without it",
            )
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
    """Protocol objects as Server-Sent Events: the object in ``data``, its id in ``id``. A
    stream that needs the store while its database is away (a follower reading another
    process's turn) ends with an ``error`` event, ``STORE_UNAVAILABLE``."""
    try:
        async for obj in stream:
            event = {"data": json.dumps(obj, ensure_ascii=False)}
            if "id" in obj:
                event["id"] = obj["id"]
            yield event
    except StoreUnavailable:
        failure = envelope("error", {"code": "STORE_UNAVAILABLE", "message": STORE_AWAY})
        yield {"data": json.dumps(failure, ensure_ascii=False)}


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
    answer = reply(
        SessionCreated(
            session_id=session_id, created_at=created, last_activity=last, timestamp=created
        ),
        201,
    )
    answer.headers["Location"] = f"/v1/sessions/{session_id}"
    return answer


def count_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and low <= int(text) <= high):
        raise ServiceError(
            422, "INVALID_REQUEST", f"{name} must be a whole number from {low} to {high:,}"
        )
    return int(text)


def encode_cursor(updated_at: float, session_id: str) -> str:
    raw = json.dumps([updated_at, session_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, str]:
    """A cursor this API sent (the last item's time and id), or 422."""
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        value = None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int | float)
        and not isinstance(value[0], bool)
        and isinstance(value[1], str)
    ):
        check_text(value[1])
        return float(value[0]), value[1]
    raise ServiceError(422, "INVALID_REQUEST", "cursor must be a next_cursor this API sent")


def session_item(
    service: StreamingService, item: ListedConversation, participants: list[str] | None = None
) -> SessionItem:
    row = item.row
    return SessionItem(
        id=row.id,
        title=row.title,
        agent=item.agent_key or None,
        created_at=iso(row.created_at),
        last_activity=iso(row.updated_at),
        turns=row.turns,
        status=listed_status(service, item),  # type: ignore[arg-type]
        participants=participants or [],
    )


async def list_sessions(request: Request) -> Response:
    """A page of sessions (read in a worker thread), the most recently active first."""
    service = service_of(request)
    query = request.query_params
    limit = count_param(request, "limit", PAGE_LIMIT, low=1, high=MAX_PAGE_LIMIT)
    offset = count_param(request, "offset", 0, low=0, high=10**9 - 1)
    cursor = query.get("cursor")
    if cursor is not None and "offset" in query:
        raise ServiceError(422, "INVALID_REQUEST", "send cursor or offset, not both")
    found = await asyncio.to_thread(
        functools.partial(
            service.store.conversation_page,
            search=query.get("q", ""),
            agent_key=query.get("agent") or None,
            limit=limit + 1,
            offset=offset,
            after=decode_cursor(cursor) if cursor is not None else None,
        )
    )
    page = found[:limit]
    last = page[-1].row if page and len(found) > limit else None
    players = await asyncio.to_thread(
        service.store.participants, [item.row.id for item in page], time.time() - PLAYERS_S
    )
    return reply(
        SessionsPage(
            sessions=[session_item(service, item, players.get(item.row.id, [])) for item in page],
            next_cursor=encode_cursor(last.updated_at, last.id) if last else None,
        )
    )


async def get_session(request: Request) -> Response:
    service = service_of(request)
    session_id = request.path_params["session_id"]
    found = await asyncio.to_thread(
        functools.partial(service.store.conversation_page, conversation_id=session_id, limit=1)
    )
    if not found or session_id in service.deleting:
        raise ServiceError(404, "SESSION_NOT_FOUND", f"no session {session_id!r}")
    players = await asyncio.to_thread(
        service.store.participants, [session_id], time.time() - PLAYERS_S
    )
    return reply(session_item(service, found[0], players.get(session_id, [])))


async def delete(request: Request) -> Response:
    await delete_session(service_of(request), request.path_params["session_id"])
    return Response(status_code=204)


async def post_message(request: Request) -> Response:
    service = service_of(request)
    session_id = request.path_params["session_id"]
    service.session(session_id)  # 404 before the body is read
    body = await parse(request, PostMessageRequest)
    stream = service.stream_response(  # 429 past a limit, 409 for a prompt sent twice
        session_id,
        body.message,
        detach=body.detach,
        author=body.author,
        message_id=body.message_id,
        interrupt=body.interrupt,
    )
    return event_stream(request, stream)


async def follow(request: Request) -> Response:
    """A session's events, from any process: the running turn (or the next), or what came
    after ``Last-Event-ID`` (the header, or ``?last_event_id=``)."""
    last = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    stream = service_of(request).follow(request.path_params["session_id"], last)
    return event_stream(request, stream)


async def get_messages(request: Request) -> Response:
    messages = await stored.messages(service_of(request), request.path_params["session_id"])
    return JSONResponse({"messages": messages})


async def get_session_stats(request: Request) -> Response:
    service = service_of(request)
    return JSONResponse(await stored.session_stats(service, request.path_params["session_id"]))


async def get_stats(request: Request) -> Response:
    return JSONResponse(await stored.global_stats(service_of(request)))


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
    body = await parse(request, CancelRequest, required=False)
    cancelled = service_of(request).cancel(
        request.path_params["session_id"], by=body.by, queued=body.queued
    )
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


async def healthz(_request: Request) -> Response:
    """The process answers: nothing is checked, nothing revealed."""
    return reply(ProbeResponse())


async def readyz(request: Request) -> Response:
    """Whether to send this process requests (the store, its lease, the notifications
    and a model backend: ``unready``); 503 ``NOT_READY`` with the reason otherwise."""
    problem = await unready(service_of(request))
    if problem is not None:
        return error(503, "NOT_READY", problem, retry_after=RETRY_AFTER_S)
    return reply(ProbeResponse())


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
    """The token, when the server has one (compared in constant time, the scheme in any
    case); the path's and query's text checked (``check_text``); the service's and
    the validation's errors as the API's error answers."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        token = settings_of(request).token
        if token is not None:
            # the scheme is case-insensitive (RFC 7235): ``bearer TOKEN`` is as good
            scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
            right = hmac.compare_digest(given.lstrip(" ").encode(), token.encode())
            if not (right and scheme.lower() == "bearer"):
                return error(401, "UNAUTHORIZED", "send Authorization: Bearer TOKEN")
        try:
            # the path's ids, the query and the resume header: text like any body's
            query = [text for pair in request.query_params.multi_items() for text in pair]
            check_text([*request.path_params.values(), *query])
            check_text(request.headers.get("last-event-id"))
            return await handler(request)
        except ServiceError as problem:
            return error(
                problem.status, problem.code, problem.message, retry_after=problem.retry_after
            )
        except StoreUnavailable:
            return store_unavailable()

    return endpoint


def store_unavailable() -> JSONResponse:
    return error(503, "STORE_UNAVAILABLE", STORE_AWAY, retry_after=RETRY_AFTER_S)


async def store_away(_request: Request, _exc: Exception) -> Response:
    return store_unavailable()


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
    StoreUnavailable: store_away,
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


def query(name: str, description: str, schema: JsonDict) -> JsonDict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


SESSIONS_QUERY = (
    query(
        "limit",
        f"Sessions on the page ({PAGE_LIMIT} by default).",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_LIMIT},
    ),
    query("cursor", "A `next_cursor` this API sent: the page after it.", {"type": "string"}),
    query(
        "offset",
        "Skip so many sessions (instead of `cursor`).",
        {"type": "integer", "minimum": 0, "maximum": 10**9 - 1},
    ),
    query("agent", "Only sessions created with this agent.", {"type": "string"}),
    query(
        "q",
        "Only sessions whose title holds this text, or whose turns hold its every word.",
        {"type": "string"},
    ),
)

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
            "GET",
            "/v1/sessions",
            "list_sessions",
            "List sessions",
            "A page of sessions, the most recently active first: `next_cursor` leads to the "
            "next page (or `offset` skips so many).",
            reply=SessionsPage,
            parameters=SESSIONS_QUERY,
            errors={
                422: "`INVALID_REQUEST` (a limit, offset or cursor this API does not take), "
                "`INVALID_TEXT` (NUL or invalid Unicode)."
            },
        ),
        guarded(list_sessions),
    ),
    (
        Operation(
            "GET",
            "/v1/sessions/{session_id}",
            "get_session",
            "A session",
            "As `GET /v1/sessions` lists it (where `201`'s `Location` points).",
            reply=SessionItem,
            errors=SESSION_404,
        ),
        guarded(get_session),
    ),
    (
        Operation(
            "DELETE",
            "/v1/sessions/{session_id}",
            "delete_session",
            "Delete a session",
            "Its running turn is cancelled and let end (prompts waiting behind it too, "
            "pending approvals refused), then its turns, the model's memory of it, its "
            "events and its recordings go; meanwhile its other requests answer 404.",
            status=204,
            reply_text="Deleted.",
            errors=SESSION_404,
        ),
        guarded(delete),
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
            errors={
                **SESSION_404,
                409: "`DUPLICATE_MESSAGE`: a `message_id` this session received already.",
                429: "",
            },
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
            errors={
                **SESSION_404,
                429: "`TOO_MANY_STREAMS`: as many followers are open as the server takes "
                "(`--max-streams`); try again after `Retry-After` seconds.",
                422: "`INVALID_EVENT_ID`: an id this API did not send; `INVALID_TEXT`: NUL "
                "or invalid Unicode in the path, the query or `Last-Event-ID`.",
            },
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
            body=CancelRequest,
            body_required=False,
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
            "/healthz",
            "healthz",
            "Liveness probe",
            "The process answers. No token needed; still only on the server's host names.",
            reply=ProbeResponse,
            reply_text="The process answers.",
            secured=False,
        ),
        healthz,
    ),
    (
        Operation(
            "GET",
            "/readyz",
            "readyz",
            "Readiness probe",
            "Ready for requests: the store answers a trivial query with this process's "
            "lease renewed, on PostgreSQL its LISTEN connection hears notifications, and a "
            "model backend is configured. No token needed; still only on the server's "
            "host names.",
            reply=ProbeResponse,
            reply_text="Ready.",
            errors={
                503: "`NOT_READY` (the reason, naming no address or error detail), or "
                "`SERVER_BUSY`: try again after `Retry-After` seconds."
            },
            secured=False,
        ),
        readyz,
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
