"""The HTTP API (Starlette on uvicorn, events as Server-Sent Events) and its small page.

Every error is ``{"error": {"code", "message"}}`` with a stable code. Loopback by default;
any other address needs ``--token``, and then every API request needs
``Authorization: Bearer TOKEN`` (compared in constant time). Bodies are size-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tui.api.http_limits import BODY_TIMEOUT_S, HEADERS_TIMEOUT_S, SEND_TIMEOUT_S
from tui.api.routes import EXCEPTION_HANDLERS, ApiSettings, routes
from tui.api.service import StreamingService
from tui.core.secrets import redact

SHUTDOWN_GRACE_S = 20.0  # on SIGTERM, running turns get this long to finish (--shutdown-grace)
STOP_WAIT_S = 5.0  # then the turns stopped at the deadline this long to be stored
NOT_RUN = "not run: the server shut down before this prompt's turn began; send it again"


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
    """The API's app: the routes of ``tui.api.routes`` (which read ``app.state``), their
    error answers, and the middleware every request passes (request log and id, security
    headers, same-origin guard, gzip for clients that ask)."""
    from starlette.middleware import Middleware

    from tui.api.compression import Compression
    from tui.api.guard import SameOrigin, SecurityHeaders

    same_origin = Middleware(
        SameOrigin, bound=bound, allow_hosts=allow_hosts, allow_origins=allow_origins
    )
    tracing = Middleware(TraceContext, traced=lambda: service.telemetry.tracer is not None)
    app = Starlette(
        routes=routes(),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        middleware=[
            tracing,
            Middleware(RequestLog),
            Middleware(SecurityHeaders),
            Middleware(Compression),
            same_origin,
        ],
    )
    app.state.service = service
    app.state.settings = ApiSettings(
        token=token, body_timeout_s=body_timeout_s, send_timeout_s=send_timeout_s
    )
    return app


class TraceContext:
    """A request's W3C ``traceparent`` (with ``tracestate`` and baggage: the global
    propagators') as the current OpenTelemetry context while it is served, so that the
    turn it asks for continues that trace (``Telemetry`` starts the turn's spans in it).
    Only while traces are sent (OpenTelemetry is not imported otherwise), and not over a
    server span an ASGI instrumentation made current already."""

    def __init__(self, app: Any, traced: Callable[[], bool]) -> None:
        self.app = app
        self.traced = traced

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.traced():
            await self.app(scope, receive, send)
            return
        from opentelemetry import context, propagate, trace

        if trace.get_current_span().get_span_context().is_valid:
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


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
        except Exception:
            if not status[0]:  # the error handler outside answers it: a 500
                status[0] = 500
            raise
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


# What a log line never carries raw (a terminal would act on it, a newline would forge a
# line): C0 and C1 controls, DEL and lone surrogates (stderr could not even encode those).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str, keep: str = "") -> str:
    """``text`` with its control characters escaped (``\\x1b``, ``\\ud800``), those in
    ``keep`` left as they are."""

    def escaped(found: re.Match[str]) -> str:
        char = found.group()
        if char in keep:
            return char
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(escaped, text)


def _clean(value: object) -> object:
    """An argument of a log line (text from a client: a path, a header): redacted, and
    every control character escaped, a newline too."""
    return printable(redact(value)) if isinstance(value, str) else value


def _messages(problem: BaseException | None) -> set[str]:
    """What an exception and those it came from say, where they hold a control character
    (a client's text quoted by an error: a newline in it would forge a log line)."""
    said: set[str] = set()
    seen: set[int] = set()
    while problem is not None and id(problem) not in seen:
        seen.add(id(problem))
        with contextlib.suppress(Exception):
            if _CONTROL.search(str(problem)):
                said.add(str(problem))
        problem = problem.__cause__ or problem.__context__
    return said


_LOGGED_BY = "_agents_tui_logged_by"  # on an exception: the record that logged it


class RedactingFilter(logging.Filter):
    """Log records leave without secrets: the message, its arguments and any traceback
    (an HTTP library's exception names the URL it called, credentials and all); without
    control characters from clients (a path's ESC or newline, escaped in the text format
    as in JSON); and an exception once (the app logs a request's failure with its id;
    uvicorn's "Exception in ASGI application" for the same exception is left out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            problem = record.exc_info[1]
            logged_by = getattr(problem, _LOGGED_BY, None)
            if logged_by is not None and logged_by != id(record):
                return False  # this exception is in the log already
            with contextlib.suppress(AttributeError):
                setattr(problem, _LOGGED_BY, id(record))
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        message = printable(redact(record.getMessage()), keep="\n\t")
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            for said in _messages(record.exc_info[1]):  # its newlines are a client's
                text = text.replace(said, printable(said))
            record.exc_text = printable(redact(text), keep="\n\t")
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = printable(redact(record.exc_text), keep="\n\t")
        record.msg, record.args = message, None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: _clean(v) for k, v in fields.items()}
        return True


def redact_logs() -> None:
    """Every handler the server logs through redacts (ours, uvicorn's)."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "agents_tui")
    for handler in {h for name in names for h in logging.getLogger(name).handlers}:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


class Drain:
    """What SIGTERM does, as a rollout expects: no new turn from now on (``503
    SHUTTING_DOWN``, ``/readyz`` 503), the prompts waiting in a session's queue taken out
    and stored as not run (their clients told), the running turns (detached ones too)
    given ``grace_s`` to finish, then stopped: stored interrupted with their partial
    reply (or paused, if they wait for an approval) before the process exits."""

    def __init__(self, service: StreamingService, grace_s: float) -> None:
        self.service = service
        self.grace_s = grace_s
        self.log = logging.getLogger("agents_tui.api")

    def busy(self) -> bool:
        service = self.service
        sessions = list(service.sessions.values())
        return service.streams_open > 0 or any(live.conversation.busy for live in sessions)

    def withdraw_waiting(self) -> int:
        """Every prompt of this process that waits behind a turn: out of the queue, and
        stored as a turn that did not run (its prompt kept, ``interrupted``, ``NOT_RUN``)."""
        store = self.service.store
        count = 0
        for live in list(self.service.sessions.values()):
            for turn in list(live.streams):
                if not turn.withdraw():
                    continue
                count += 1
                try:
                    turn_id = store.start_turn(turn.session_id, turn.message, turn.author)
                    store.finish_turn(
                        turn_id, reply="", status="interrupted", error=NOT_RUN, tools=[], metrics={}
                    )
                except Exception as problem:  # the store is away: say so, go on draining
                    self.log.error(
                        "session %s: a waiting prompt could not be stored as not run",
                        turn.session_id,
                        exc_info=problem,
                    )
        return count

    async def run(self, hurry: asyncio.Event) -> None:
        service = self.service
        service.draining = True
        withdrawn = self.withdraw_waiting()
        running = sum(live.conversation.running for live in list(service.sessions.values()))
        self.log.warning(
            "shutting down: no new turns; %d running get %g s to finish; %d waiting "
            "prompts stored as not run",
            running,
            self.grace_s,
            withdrawn,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace_s
        while self.busy() and loop.time() < deadline and not hurry.is_set():
            await asyncio.sleep(0.05)
        if not self.busy():
            return
        stopped = 0
        for live in list(service.sessions.values()):
            if live.conversation.running:
                live.conversation.cancel()  # stored interrupted, its partial reply kept
                stopped += 1
        self.withdraw_waiting()  # anything that reached a queue meanwhile
        self.log.warning("shutting down: %d turns stopped at the deadline", stopped)
        deadline = loop.time() + STOP_WAIT_S
        while self.busy() and loop.time() < deadline:
            await asyncio.sleep(0.05)


class DrainingServer(uvicorn.Server):
    """uvicorn's server, its first SIGTERM or Ctrl+C a ``Drain`` before it stops serving
    (uvicorn would end every stream at once); a second signal stops the running turns
    at once, a third quits as uvicorn does. The process then exits 0 (uvicorn raised the
    signal again after serving: the default SIGTERM killed it before the store closed)."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain
        self.signals = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.hurry: asyncio.Event | None = None
        self.draining: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[Any] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.hurry = asyncio.Event()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.signals += 1
        loop, hurry = self.loop, self.hurry
        if loop is None or hurry is None or self.signals > 2:
            self.should_exit = self.force_exit = True
            return
        # a signal handler runs between two bytecodes: the loop is told, not used
        loop.call_soon_threadsafe(self._begin if self.signals == 1 else hurry.set)

    def _begin(self) -> None:
        assert self.loop is not None and self.hurry is not None
        self.draining = self.loop.create_task(self._drain(self.hurry))

    async def _drain(self, hurry: asyncio.Event) -> None:
        try:
            await self.drain.run(hurry)
        finally:
            self.should_exit = True  # uvicorn stops serving; streams still open end


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
    """Per-session runners sharing one agent and backend (one model loaded, once): the
    core's ``session_runners``."""
    from tui.core.models.providers import session_runners

    make, backend, base = session_runners(settings)
    return make, backend.label, base


def open_store(database: str | None) -> Any:
    """The store ``--database`` names (PostgreSQL or a SQLite file; default the data
    dir's file), or ``None`` after saying why it cannot be opened."""

    from tui.core.store import DatabaseError, Store, is_postgres, redacted_message, remember_url

    if database and is_postgres(database):
        remember_url(database)  # its secrets never in a log line
        try:
            return Store(url=database)
        except DatabaseError as problem:
            print(f"agents-tui: {redacted_message(str(problem), database)}", file=sys.stderr)
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
    shutdown_grace_s: float = SHUTDOWN_GRACE_S,
) -> int:
    if not is_loopback(host) and not token:
        print(
            f"agents-tui: binding {host} exposes the API to the network; set a token "
            "(AGENTS_TUI_API_TOKEN, --token-file PATH or --token TOKEN)",
            file=sys.stderr,
        )
        return 2
    from tui.core.agents import AgentLoadError
    from tui.core.models.providers import ProviderError
    from tui.core.secrets import remember
    from tui.core.store import redacted_url

    remember(token)
    store = open_store(settings.database)
    if store is None:
        return 1
    if settings.record_retention_days:
        from tui.core.turn.recording import prune_recordings

        deleted = prune_recordings(settings.record_retention_days)
        if deleted:
            print(
                f"agents-tui: deleted {deleted} recordings older than "
                f"{settings.record_retention_days:g} days",
                file=sys.stderr,
            )
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
        from tui.core.turn.cache import response_cache

        service = StreamingService(
            store,
            make,
            model_label=label,
            telemetry=Telemetry(metrics=True, log_content=log_content),
            max_streams=max_streams,
            max_live_sessions=max_live_sessions,
            approval_timeout_s=settings.approval_timeout,
            record=settings.record,
            cache=response_cache(settings.cache_ttl),
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
            # the turns' own files (FILES_PER_STREAM's four each) never taken by connections
            **uvicorn_limits(connections, headers_timeout_s=timeouts[0], keep_free=4 * max_streams),
        )
        configure_logs(log_format)
        redact_logs()
        where = redacted_url(store.url) if store.url else str(store.path)
        print(f"agents-tui api on http://{host}:{port}/ ({label}; store {where})", file=sys.stderr)
        try:
            await DrainingServer(config, Drain(service, shutdown_grace_s)).serve()
        finally:
            service.close()
            store.close()
            await base.close()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a server is stopped
        asyncio.run(main())
    return 0
