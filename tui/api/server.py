"""The HTTP API (Starlette on uvicorn, events as Server-Sent Events) and its small page.

Every error is ``{"error": {"code", "message"}}`` with a stable code. Loopback by default;
any other address needs ``--token``, and then every API request needs
``Authorization: Bearer TOKEN`` (compared in constant time). Bodies are size-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.api.http_limits import BODY_TIMEOUT_S, HEADERS_TIMEOUT_S, SEND_TIMEOUT_S
from tui.api.service import ServiceError, StreamingService
from tui.core.secrets import redact

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32  # JSON nesting accepted in a body
PAGE = Path(__file__).with_name("page.html")


def error(status: int, code: str, message: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


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


def check_text(value: Any, depth: int = 0) -> None:
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


def create_app(
    service: StreamingService,
    *,
    token: str | None = None,
    bound: str = "127.0.0.1",
    allow_hosts: tuple[str, ...] = (),
    allow_origins: tuple[str, ...] = (),
    body_timeout_s: float = BODY_TIMEOUT_S,
    send_timeout_s: float = SEND_TIMEOUT_S,
) -> Starlette:
    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
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

    async def create_session(request: Request) -> Response:
        data = await read_json(request, required=False, timeout_s=body_timeout_s)
        agent = data.get("agent")
        context = data.get("user_context")
        title = data.get("title", "")
        if agent is not None and not isinstance(agent, str):
            raise ServiceError(422, "INVALID_REQUEST", "agent must be a string")
        if context is not None and not isinstance(context, dict):
            raise ServiceError(422, "INVALID_REQUEST", "user_context must be an object")
        if not isinstance(title, str):
            raise ServiceError(422, "INVALID_REQUEST", "title must be a string")
        wanted = data.get("session_id")
        if wanted is not None and not isinstance(wanted, str):
            raise ServiceError(422, "INVALID_REQUEST", "session_id must be a string")
        session_id = service.create_session(agent, context, title, wanted)
        from tui.api.service import iso

        row = service.store.conversation(session_id)
        created = iso(row.created_at if row else 0.0)
        return JSONResponse(
            {
                "session_id": session_id,
                "status": "created",
                "created_at": created,
                "last_activity": iso(row.updated_at if row else 0.0),
                "timestamp": created,
            },
            status_code=201,
        )

    async def post_message(request: Request) -> Response:
        from tui.api.http_limits import quiet_event_source

        EventSourceResponse = quiet_event_source()
        session_id = request.path_params["session_id"]
        service.session(session_id)  # 404 before the body is read
        data = await read_json(request, required=True, timeout_s=body_timeout_s)
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            raise ServiceError(422, "INVALID_REQUEST", "message must be a non-empty string")
        detach = data.get("detach", False)
        if not isinstance(detach, bool):
            raise ServiceError(422, "INVALID_REQUEST", "detach must be true or false")
        stream = service.stream_response(session_id, message, detach=detach)  # 429 past a limit
        # A client that takes no event for SEND_TIMEOUT_S is dropped (its turn stopped,
        # the partial reply kept); what waits for it is bounded by the service.
        return EventSourceResponse(sse(stream), ping=15, send_timeout=send_timeout_s)

    async def follow(request: Request) -> Response:
        """A session's events, from any process: the running turn (or the next), or what
        came after ``Last-Event-ID`` (the header, or ``?last_event_id=``)."""
        from tui.api.http_limits import quiet_event_source

        EventSourceResponse = quiet_event_source()
        last = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        stream = service.follow(request.path_params["session_id"], last)
        return EventSourceResponse(sse(stream), ping=15, send_timeout=send_timeout_s)

    async def sse(stream: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, str]]:
        async for obj in stream:
            event = {"data": json.dumps(obj, ensure_ascii=False)}
            if "id" in obj:
                event["id"] = obj["id"]
            yield event

    async def get_messages(request: Request) -> Response:
        messages = await service.messages(request.path_params["session_id"])
        return JSONResponse({"messages": messages})

    async def get_session_stats(request: Request) -> Response:
        return JSONResponse(await service.session_stats(request.path_params["session_id"]))

    async def get_agents(_request: Request) -> Response:
        """The agents a session may name in ``agent``: the source tutorial's six."""
        from tui.core.agents.game_master import GAME_MASTER
        from tui.core.agents.tutorial import PLAIN_AGENTS

        specs = {**PLAIN_AGENTS, "game-master": GAME_MASTER}
        return JSONResponse(
            {
                "agents": [
                    {
                        "agent": key,
                        "name": specs[key].name,
                        "instructions": specs[key].instructions(),
                    }
                    for key in service.agents
                    if key in specs
                ],
                "without_agent": "a session that names none gets the server's --agent",
            }
        )

    async def get_metrics(_request: Request) -> Response:
        """Prometheus' text exposition of this process's metrics."""
        from prometheus_client import CONTENT_TYPE_LATEST

        metrics = service.telemetry.metrics
        body = metrics.exposition() if metrics is not None else b""
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def get_stats(_request: Request) -> Response:
        return JSONResponse(await service.global_stats())

    async def cancel(request: Request) -> Response:
        cancelled = service.cancel(request.path_params["session_id"])
        return JSONResponse({"cancelled": cancelled})

    async def approve(request: Request) -> Response:
        data = await read_json(request, required=True, timeout_s=body_timeout_s)
        approved = data.get("approve")
        if not isinstance(approved, bool):
            raise ServiceError(422, "INVALID_REQUEST", "approve must be true or false")
        service.approve(request.path_params["session_id"], request.path_params["call_id"], approved)
        return JSONResponse({"call_id": request.path_params["call_id"], "approved": approved})

    from tui.api.guard import page_policy

    html = PAGE.read_text(encoding="utf-8")
    policy = page_policy(html)

    async def page(_request: Request) -> Response:
        return Response(html, media_type="text/html", headers={"Content-Security-Policy": policy})

    async def unexpected(request: Request, problem: Exception) -> Response:
        """Anything unforeseen: logged with a request id, never a stack trace in the body."""
        import logging
        import uuid

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

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/v1/sessions", guarded(create_session), methods=["POST"]),
        Route("/v1/sessions/{session_id}/messages", guarded(post_message), methods=["POST"]),
        Route("/v1/sessions/{session_id}/messages", guarded(get_messages), methods=["GET"]),
        Route("/v1/sessions/{session_id}/events", guarded(follow), methods=["GET"]),
        Route("/v1/sessions/{session_id}/stats", guarded(get_session_stats), methods=["GET"]),
        Route("/v1/sessions/{session_id}/cancel", guarded(cancel), methods=["POST"]),
        Route("/v1/sessions/{session_id}/approvals/{call_id}", guarded(approve), methods=["POST"]),
        Route("/v1/stats", guarded(get_stats), methods=["GET"]),
        Route("/v1/agents", guarded(get_agents), methods=["GET"]),
        Route("/metrics", guarded(get_metrics), methods=["GET"]),
    ]
    from starlette.middleware import Middleware

    from tui.api.guard import SameOrigin, SecurityHeaders

    same_origin = Middleware(
        SameOrigin, bound=bound, allow_hosts=allow_hosts, allow_origins=allow_origins
    )
    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: method_not_allowed, Exception: unexpected},
        middleware=[Middleware(RequestLog), Middleware(SecurityHeaders), same_origin],
    )


class RequestLog:
    """Gives each request an id (``X-Request-Id``, named by any error it meets) and logs a
    line when it ends: method, path, session, status, duration (a stream: to its end)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log = logging.getLogger("agents_tui.requests")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import time as _time
        import uuid

        request_id = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = request_id
        started = _time.perf_counter()
        status = [0]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                path = scope.get("path", "")
                parts = path.split("/")
                session = parts[3] if len(parts) > 3 and parts[2] == "sessions" else None
                self.log.info(
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    status[0],
                    extra={
                        "fields": {
                            "event": "request",
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": path,
                            "session": session,
                            "status": status[0],
                            "duration_ms": round((_time.perf_counter() - started) * 1000, 1),
                        }
                    },
                )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the record's fields
    (request id, session, turn, event, status, duration...)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}) or {})
        if record.exc_text or record.exc_info:
            out["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logs(log_format: str) -> None:
    """``text`` (warnings and errors, as before) or ``json`` (one object a line on standard
    error, with a line for every request and every turn)."""
    import time as _time

    root = logging.getLogger()
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        formatter = JsonFormatter()
        formatter.converter = _time.gmtime
        handler.setFormatter(formatter)
        root.handlers = [handler]
        root.setLevel(logging.WARNING)
        for name in ("agents_tui", "uvicorn", "uvicorn.error"):
            logger = logging.getLogger(name)
            logger.handlers = []
            logger.propagate = True
        logging.getLogger("agents_tui").setLevel(logging.INFO)
        logging.getLogger("uvicorn.access").disabled = True  # the request lines replace it
    elif not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


class RedactingFilter(logging.Filter):
    """Log records leave without secrets: the message, its arguments and any traceback
    (an HTTP library's exception names the URL it called, credentials and all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        record.msg, record.args = message, None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        return True


def redact_logs() -> None:
    """Every handler the server logs through redacts (ours, uvicorn's)."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "agents_tui")
    for handler in {h for name in names for h in logging.getLogger(name).handlers}:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# A stream holds four files besides its client's socket: the socket to the model, the
# recording, the memory's connections (two while one opens). The open-file limit left
# after FILES_RESERVED is shared as FILES_PER_STREAM for each stream: four for itself,
# eight for connections (waiting, polling, refused: uvicorn accepts before it counts).
FILES_PER_STREAM = 12
FILES_RESERVED = 64  # the store, the model, logs, listening sockets, MCP servers
MAX_CONNECTIONS = 1000  # connections at once, past it 503 SERVER_BUSY (if files allow)


def fit_streams(requested: int) -> tuple[int, int]:
    """As many streams as the open-file limit allows (the soft limit raised to the hard
    one first; past it a server answered 500 "Too many open files" until restarted), and
    the connections that leave room for: ``(streams, connections)``."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    fits = max(1, (soft - FILES_RESERVED) // FILES_PER_STREAM)
    streams = requested
    if requested > fits:
        print(
            f"agents-tui: at most {fits} streams at once (the open-file limit is {soft}; "
            "raise it with ulimit -n to allow more)",
            file=sys.stderr,
        )
        streams = fits
    connections = soft - FILES_RESERVED - streams * 4
    return streams, max(streams + 8, min(MAX_CONNECTIONS, connections))


def runner_factory(settings: Any) -> tuple[Callable[[str | None], Any], str, Any]:
    """Per-session runners sharing one agent and backend (one model loaded, once)."""
    from tui.core.agents import load_agent
    from tui.core.models.mcp import attach
    from tui.core.models.providers import build_runner
    from tui.core.turn.runner import RetryPolicy, TurnRunner

    base, backend = build_runner(settings)

    def make(agent: str | None) -> Any:
        chosen = base.agent if agent is None else attach(load_agent(agent, seed=settings.seed), ())
        runner = TurnRunner(
            chosen,
            run_config=base.run_config,
            max_turns=settings.max_turns,
            retry=RetryPolicy(max_attempts=settings.max_retries + 1),
            stall_timeout_s=settings.stall_timeout,
        )
        runner.budget = backend.budget(settings)  # each session fits its own history
        runner.mcp = base.mcp  # connected once for every session
        runner.faults = base.faults  # --inject-faults: one stream of faults for the process
        runner._mcp_task = base._mcp_task
        return runner

    return make, backend.label, base


def open_store(database: str | None) -> Any:
    """The store ``--database`` names (PostgreSQL or a SQLite file; default the data
    dir's file), or ``None`` after saying why it cannot be opened."""
    from pathlib import Path

    from tui.core.secrets import remember
    from tui.core.store import DatabaseError, Store, is_postgres

    if database and is_postgres(database):
        from urllib.parse import urlsplit

        remember(urlsplit(database).password)  # never in a log line
        try:
            return Store(url=database)
        except DatabaseError as problem:
            print(f"agents-tui: {problem}", file=sys.stderr)
            return None
    return Store(Path(database).expanduser() if database else None)


def serve_api(
    settings: Any,
    *,
    host: str,
    port: int,
    token: str | None,
    allow_hosts: tuple[str, ...] = (),
    allow_origins: tuple[str, ...] = (),
    max_streams: int = 100,
    max_live_sessions: int = 512,
    timeouts: tuple[float, float, float] = (HEADERS_TIMEOUT_S, BODY_TIMEOUT_S, SEND_TIMEOUT_S),
    log_format: str = "text",
    log_content: bool = False,
) -> int:
    if not is_loopback(host) and not token:
        print(
            f"agents-tui: binding {host} exposes the API to the network; set a token "
            "(AGENTS_TUI_API_TOKEN, --token-file PATH or --token TOKEN)",
            file=sys.stderr,
        )
        return 2
    import asyncio

    import uvicorn

    from tui.core.agents import AgentLoadError
    from tui.core.store import redacted_url
    from tui.core.models.providers import ProviderError
    from tui.core.secrets import remember

    remember(token)
    store = open_store(settings.database)
    if store is None:
        return 1
    max_streams, connections = fit_streams(max_streams)
    try:
        make, label, base = runner_factory(settings)
    except (AgentLoadError, ProviderError) as problem:
        print(f"agents-tui: {redact(str(problem))}", file=sys.stderr)
        return 1

    async def main() -> None:
        engine = getattr(getattr(base.run_config, "model", None), "engine", None)
        if engine is not None:
            await asyncio.to_thread(engine.load)
        for line in await base.prepare():
            print(f"agents-tui: {redact(line)}", file=sys.stderr)
        from tui.core.observe.telemetry import Telemetry

        service = StreamingService(
            store,
            make,
            model_label=label,
            telemetry=Telemetry(metrics=True, log_content=log_content),
            max_streams=max_streams,
            max_live_sessions=max_live_sessions,
        )
        app = create_app(
            service,
            token=token,
            bound=host,
            allow_hosts=allow_hosts,
            allow_origins=allow_origins,
            body_timeout_s=timeouts[1],
            send_timeout_s=timeouts[2],
        )
        from tui.api.http_limits import uvicorn_limits

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            **uvicorn_limits(connections, headers_timeout_s=timeouts[0]),
        )
        configure_logs(log_format)
        redact_logs()
        where = redacted_url(store.url) if store.url else str(store.path)
        print(f"agents-tui api on http://{host}:{port}/ ({label}; store {where})", file=sys.stderr)
        try:
            await uvicorn.Server(config).serve()
        finally:
            service.close()
            store.close()
            await base.close()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a server is stopped
        asyncio.run(main())
    return 0
