"""The source tutorial's ``WebStreamingService``, on the shared conversation core.

Headless (no HTTP here): ``create_session``, ``stream_response`` (the protocol events of
one turn), ``get_session_stats``, cancel and approvals. ``tui.api.server`` puts it on HTTP.
Sessions are the stored conversations the TUI shows; one turn runs at a time per session
and later prompts wait their turn, as in the TUI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.api.cancelling import Cancelling
from tui.api.turn_stream import TurnStream
from tui.core.agents import BUILTIN_AGENTS
from tui.core.store import Store
from tui.core.turn.approvals import ApprovalDecision, ApprovalRequest
from tui.core.turn.conversation import Conversation

if TYPE_CHECKING:
    from tui.core.store.coordination import Listening
    from tui.core.store.reads import ListedConversation
    from tui.core.turn.cache import ResponseCache

RunnerFactory = Callable[[str | None], Any]  # agent name (None: the default) -> TurnRunner
log = logging.getLogger("agents_tui.api")


# Limits, each with a number and an error of its own (docs/operations/index.md#limits).
MAX_STREAMS = 100  # turns streaming at once, detached ones too; past it 429 TOO_MANY_STREAMS
# Followers (``GET .../events``) have a limit of their own, ``max_streams`` unless given.
MAX_LIVE_SESSIONS = 512  # sessions kept in memory; idle ones past it are rebuilt on demand
MAX_WAITING = 8  # prompts queued behind one session's running turn; past it 429
RETRY_AFTER_S = 1
SESSION_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_BUFFERED_BYTES = 1024 * 1024  # events waiting for one slow client; past it, dropped
RECENT_METRICS = 100  # turns whose metrics a session's stats list (the last ones)
SEEN_IDS = 256  # prompt ids a session remembers, to refuse a prompt sent twice
PLAYERS_S = 3600.0  # a session's participants: who typed a prompt within this time
DELETE_WAIT_S = 10.0  # a deleted session's running turn has this long to end
APPROVAL_TIMEOUT_S = 600.0  # an approval unanswered this long is rejected as expired
READY_TIMEOUT_S = 2.0  # each readiness check answers within this, or the process is not ready


def iso(epoch: float) -> str:
    """ISO 8601 in UTC, as the tutorial's session fields."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat()


class ServiceError(Exception):
    """An error with a stable ``code`` and the HTTP status that carries it."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def not_found(session_id: str) -> ServiceError:
    return ServiceError(404, "SESSION_NOT_FOUND", f"no session {session_id!r}")


@dataclass(slots=True)
class LiveSession:
    conversation: Conversation
    runner: Any
    approvals: dict[str, asyncio.Future[ApprovalDecision]] = field(default_factory=dict)
    user_context: dict[str, Any] = field(default_factory=dict)
    started_monotonic: float = field(default_factory=time.monotonic)
    approval_timeout_s: float = APPROVAL_TIMEOUT_S
    streams: set[TurnStream] = field(default_factory=set)  # this process's, until they end

    seen_ids: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def first_time(self, message_id: str) -> None:
        """A prompt's id (``message_id``) not seen before in this session, remembered; a
        client that resends a prompt it is not sure arrived gets ``409 DUPLICATE_MESSAGE``
        instead of a second turn (the last ``SEEN_IDS`` ids, in this process)."""
        if not message_id:
            return
        if message_id in self.seen_ids:
            raise ServiceError(
                409, "DUPLICATE_MESSAGE", f"the prompt {message_id!r} was received already"
            )
        self.seen_ids[message_id] = None
        while len(self.seen_ids) > SEEN_IDS:
            self.seen_ids.popitem(last=False)

    @property
    def waiting(self) -> int:
        """Prompts queued behind the running turn (the conversation's one queue)."""
        return self.conversation.waiting

    @property
    def idle(self) -> bool:
        """Nothing runs, waits or is asked: safe to drop from memory (the store keeps all)."""
        busy = self.conversation.busy or self.waiting
        return not (busy or self.approvals)

    async def approver(self, request: ApprovalRequest) -> ApprovalDecision:
        """The stream says ``approval_required``; ``POST .../approvals/{call_id}`` answers."""
        answer: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        self.approvals[request.call_id] = answer
        session_id = self.conversation.id
        coordination = self.conversation.store.coordination
        coordination.ask(session_id, request.call_id)  # any process may be asked the answer
        try:
            async with asyncio.timeout(self.approval_timeout_s):
                return await answer
        except TimeoutError:
            # nobody answered: the call is refused, and the turn (holding a stream's place
            # and its followers' memory) goes on to its end
            log.warning(
                "session %s: the approval of call %s expired after %g s unanswered; the "
                "call is rejected",
                session_id,
                request.call_id,
                self.approval_timeout_s,
            )
            return ApprovalDecision(False, by="expired")
        finally:
            self.approvals.pop(request.call_id, None)
            coordination.answered(session_id, request.call_id)


class StreamingService(Cancelling):
    def __init__(
        self,
        store: Store,
        make_runner: RunnerFactory,
        *,
        model_label: str = "",
        agents: tuple[str, ...] = BUILTIN_AGENTS,  # the source tutorial's six
        max_streams: int = MAX_STREAMS,
        max_live_sessions: int = MAX_LIVE_SESSIONS,
        max_buffered: int = MAX_BUFFERED_BYTES,
        telemetry: Any = None,
        max_followers: int | None = None,
        approval_timeout_s: float = APPROVAL_TIMEOUT_S,
        record: bool = True,  # each conversation's JSONL recording (--no-record: none)
        cache: ResponseCache | None = None,  # --cache-ttl: first prompts answered again
    ) -> None:
        self.store = store
        self.cache = cache
        self.record = record
        self.make_runner = make_runner
        self.model_label = model_label
        self.agents = agents  # what a client may ask for: never an import path
        # Most recently used last; idle sessions past ``max_live_sessions`` are closed.
        self.sessions: OrderedDict[str, LiveSession] = OrderedDict()
        self.max_streams = max_streams
        self.max_live_sessions = max_live_sessions
        self.max_buffered = max_buffered
        self.streams_open: int = 0  # turns of this process's POSTs, until each turn ends
        self.max_followers = max_streams if max_followers is None else max_followers
        self.followers_open: int = 0
        self.approval_timeout_s = approval_timeout_s
        self.evicted = 0
        self.started = time.time()
        from tui.api.feed import Feed

        self.feed = Feed(store)  # every turn's events with ids, for followers
        self._listener: Listening | None = None  # notifications (cancel, approvals, queue)
        self.pings: dict[str, asyncio.Future[None]] = {}  # readiness: notifications heard
        self.deleting: set[str] = set()  # sessions being deleted: 404 to every request
        self.draining = False  # SIGTERM: no new turn (503 SHUTTING_DOWN), not ready
        if telemetry is None:
            from tui.core.observe.telemetry import Telemetry

            telemetry = Telemetry(metrics=True)
        self.telemetry = telemetry
        metrics = telemetry.metrics
        if metrics is not None:
            metrics.gauge(
                "agents_tui_sessions_live", "Sessions in memory", lambda: len(self.sessions)
            )
            metrics.gauge("agents_tui_streams_open", "Streams open", lambda: self.streams_open)
            metrics.gauge(
                "agents_tui_followers_open", "Followers open", lambda: self.followers_open
            )
            metrics.gauge(
                "agents_tui_approvals_pending",
                "Tool calls waiting for an answer",
                lambda: sum(len(live.approvals) for live in list(self.sessions.values())),
            )
            if cache is not None:
                metrics.watch_cache(cache)
            metrics.gauge(
                "agents_tui_prompts_queued",
                "Prompts waiting behind a running turn",
                lambda: sum(live.waiting for live in list(self.sessions.values())),
            )

    # --- sessions -----------------------------------------------------------------------------
    def create_session(
        self,
        agent: str | None = None,
        user_context: dict[str, Any] | None = None,
        title: str = "",
        session_id: str | None = None,
    ) -> str:
        """A new session (the tutorial's ``create_session``); the caller may name it, if
        the name is free (409 SESSION_EXISTS otherwise)."""
        if session_id is not None:
            if not SESSION_ID.fullmatch(session_id):
                raise ServiceError(
                    422,
                    "INVALID_REQUEST",
                    "session_id must be 1-64 letters, digits, '.', '_' or '-'",
                )
            if session_id in self.sessions or self.store.conversation(session_id) is not None:
                raise ServiceError(
                    409, "SESSION_EXISTS", f"a session {session_id!r} exists already"
                )
        if agent is not None and agent not in self.agents:
            raise ServiceError(
                422,
                "UNKNOWN_AGENT",
                f"unknown agent {agent!r}: use one of {', '.join(self.agents)}",
            )
        runner = self.make_runner(agent)
        conversation = Conversation(
            self.store,
            runner,
            session_id,
            model_label=self.model_label,
            title=title,
            telemetry=self.telemetry,
            memory_per_call=True,
            record=self.record,
            cache=self.cache,
        )
        if agent or user_context:
            self.store.set_api_info(
                conversation.id, agent_key=agent or "", user_context=dict(user_context or {})
            )
        live = LiveSession(
            conversation,
            runner,
            user_context=dict(user_context or {}),
            approval_timeout_s=self.approval_timeout_s,
        )
        conversation.ask_with(live.approver)
        self._keep(conversation.id, live)
        return conversation.id

    def session(self, session_id: str) -> LiveSession:
        """A live session, or a stored conversation (from the TUI, another run, or one
        this server let go of while idle) taken up again from the store."""
        self.listen()
        if session_id in self.deleting:
            raise not_found(session_id)
        live = self.sessions.get(session_id)
        if live is not None:
            self.sessions.move_to_end(session_id)
            return live
        if self.store.conversation(session_id) is None:
            raise not_found(session_id)
        agent, user_context = self.store.api_info(session_id)
        runner = self.make_runner(agent if agent in self.agents else None)
        conversation = Conversation(
            self.store,
            runner,
            session_id,
            model_label=self.model_label,
            telemetry=self.telemetry,
            memory_per_call=True,
            record=self.record,
            cache=self.cache,
        )
        live = LiveSession(
            conversation,
            runner,
            user_context=user_context,
            approval_timeout_s=self.approval_timeout_s,
        )
        conversation.ask_with(live.approver)
        self._keep(session_id, live)
        return live

    def _keep(self, session_id: str, live: LiveSession) -> None:
        """Remember a live session; let go of the least recently used idle ones past the
        limit (their conversation is in the store and comes back on the next request)."""
        self.sessions[session_id] = live
        excess = len(self.sessions) - self.max_live_sessions
        if excess <= 0:
            return
        for old_id, old in list(self.sessions.items()):
            if excess <= 0:
                break
            if old_id != session_id and old.idle:
                del self.sessions[old_id]
                old.conversation.close()
                self.evicted += 1
                excess -= 1

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for live in self.sessions.values():
            live.conversation.close()
        self.sessions.clear()

    # --- many processes (PostgreSQL) ------------------------------------------------------------
    def listen(self) -> None:
        """Hear the other processes (once, on the event loop): a cancel or an approval
        answer sent to another process for a turn this one runs, a queue that moved."""
        if self._listener is None:
            self._listener = self.store.coordination.listen(self._notified)

    def _notified(self, payload: dict[str, Any]) -> None:
        if payload.get("op") == "ping":
            heard = self.pings.get(str(payload.get("nonce")))
            if heard is not None and not heard.done():
                heard.set_result(None)
            return
        live = self.sessions.get(str(payload.get("session", "")))
        if live is None:
            return
        op = payload.get("op")
        if op == "queue":
            live.conversation.queue_moved()
        elif op == "cancel" and live.conversation.running:
            self._cancel_here(live, str(payload.get("by") or ""))
        elif op == "approve":
            answer = live.approvals.get(str(payload.get("call_id")))
            if answer is not None and not answer.done():
                answer.set_result(ApprovalDecision(bool(payload.get("approved"))))

    # --- one turn, as events ------------------------------------------------------------------
    def stream_response(
        self,
        session_id: str,
        message: str,
        *,
        detach: bool = False,
        author: str = "",
        message_id: str = "",
        interrupt: bool = False,
    ) -> AsyncIterator[dict[str, Any]]:
        """The protocol objects of one turn; closing the iterator early cancels the turn
        (a client that went away), and its partial reply is stored as interrupted. With
        ``detach`` the turn runs to its end whatever the client does: a client that lost
        the stream follows the rest with ``follow`` (``GET .../events``, ``Last-Event-ID``).

        Admission happens here, at once (404, or 429 past a limit), and the stream holds
        its place from now on: counted when it started iterating, 152 requests arriving
        together were all let in under a limit of 48. It holds it until its turn ends,
        whether its client stays or not: a detached turn whose client left still runs a
        model call (40 of them ran under a limit of 5 while the stats said 0).
        ``interrupt``: see ``Cancelling.interrupter``."""
        live = self.admit(session_id)
        live.first_time(message_id)  # 409 DUPLICATE_MESSAGE for a prompt sent again
        self.streams_open += 1
        released = [False]

        def release() -> None:
            if not released[0]:
                released[0] = True
                self.streams_open -= 1
                live.streams.discard(turn)

        turn = TurnStream(
            live.conversation,
            message,
            feed=self.feed,
            store=self.store,
            max_buffered=self.max_buffered,
            release=release,
            detach=detach,
            author=author,
            message_id=message_id,
            interrupt=self.interrupter(session_id, author) if interrupt else None,
        )
        live.streams.add(turn)
        stream = turn.events()
        weakref.finalize(stream, turn.release_unstarted)  # a response that never started
        return stream

    def admit(self, session_id: str) -> LiveSession:
        """The session, if one more stream fits; a clear 429 otherwise (never a 500), or
        503 while the server shuts down (``tui.api.server.Drain``)."""
        live = self.session(session_id)
        if self.draining:
            raise ServiceError(
                503,
                "SHUTTING_DOWN",
                "the server is shutting down and takes no new turn: send it again "
                "(to another process) shortly",
                retry_after=RETRY_AFTER_S,
            )
        if self.streams_open >= self.max_streams:
            raise ServiceError(
                429,
                "TOO_MANY_STREAMS",
                f"{self.streams_open} streams are open, the limit is {self.max_streams}: "
                "try again shortly",
                retry_after=RETRY_AFTER_S,
            )
        # every process's prompts count (one of them may be running), this one's at least
        waiting = max(self.store.coordination.waiting(session_id) - 1, live.waiting)
        if waiting >= MAX_WAITING:
            raise ServiceError(
                429,
                "TOO_MANY_WAITING",
                f"{waiting} prompts already wait in this session: try again shortly",
                retry_after=RETRY_AFTER_S,
            )
        return live

    def approve(self, session_id: str, call_id: str, approved: bool) -> None:
        """Answer a tool call's approval, asked by this process or (PostgreSQL) another."""
        live = self.session(session_id)
        answer = live.approvals.get(call_id)
        if answer is not None and not answer.done():
            answer.set_result(ApprovalDecision(approved))
            return
        coordination = self.store.coordination
        if coordination.asked(session_id, call_id):
            coordination.notify(
                {"op": "approve", "session": session_id, "call_id": call_id, "approved": approved}
            )
            return
        raise ServiceError(
            409, "APPROVAL_NOT_PENDING", f"no approval is pending for call {call_id!r}"
        )

    def follow(self, session_id: str, last_event_id: str | None) -> AsyncIterator[dict[str, Any]]:
        """A session's events for a client that follows it (``GET .../events``): after
        ``last_event_id`` if given (a reconnect), else the running turn from its start or
        the next turn; it ends with that turn."""
        from tui.api.feed import parse_event_id

        self.session(session_id)  # 404
        after = parse_event_id(last_event_id)
        if last_event_id and after is None:
            raise ServiceError(
                422, "INVALID_EVENT_ID", "Last-Event-ID must be an id this API sent (TURN-SEQ)"
            )
        if self.followers_open >= self.max_followers:
            raise ServiceError(
                429,
                "TOO_MANY_STREAMS",
                f"{self.followers_open} followers are open, the limit is "
                f"{self.max_followers}: try again shortly",
                retry_after=RETRY_AFTER_S,
            )
        self.followers_open += 1
        released = [False]

        def release() -> None:
            if not released[0]:
                released[0] = True
                self.followers_open -= 1

        stream = _counted(self.feed.follow(session_id, after), release)
        weakref.finalize(stream, release)  # a response that never started its body
        return stream


async def _counted(
    events: AsyncIterator[dict[str, Any]], release: Callable[[], None]
) -> AsyncIterator[dict[str, Any]]:
    """``events``, its place let go of when it ends or its client leaves."""
    try:
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for obj in events:
                yield obj
    finally:
        release()


# --- readiness ---------------------------------------------------------------------------------
async def unready(service: StreamingService, timeout_s: float = READY_TIMEOUT_S) -> str | None:
    """Why this process should not be sent requests now, or ``None`` (``/readyz``):
    a model backend configured; the store answering a trivial query with its lease
    renewed; across processes (PostgreSQL) the notifications heard, by a ``ping``
    sent through the database and heard back on this process's LISTEN connection.
    Each check runs off the event loop and within ``timeout_s``. The reasons name no
    address, URL or error detail (the probe needs no token)."""
    if service.draining:
        return "the server is shutting down"
    if service.make_runner is None or not service.model_label:
        return "no model backend is configured"
    try:
        async with asyncio.timeout(timeout_s):
            problem = await asyncio.to_thread(service.store.unready)
    except TimeoutError:
        return "the store does not answer in time"
    if problem is not None or not service.store.coordination.cross_process:
        return problem
    return await _heard(service, timeout_s)


async def _heard(service: StreamingService, timeout_s: float) -> str | None:
    import uuid

    service.listen()
    nonce = uuid.uuid4().hex
    heard: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    service.pings[nonce] = heard
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.to_thread(
                service.store.coordination.notify, {"op": "ping", "nonce": nonce}
            )
            await heard
    except TimeoutError:
        return "notifications from other processes are not heard"
    except Exception:
        return "the store does not answer"
    finally:
        service.pings.pop(nonce, None)
    return None


# --- sessions as resources ------------------------------------------------------------------------
def listed_status(service: StreamingService, item: ListedConversation) -> str:
    """``idle``, ``active`` or ``awaiting_approval``: this process's own sessions as they
    are now, the others as their latest unfinished turn is stored."""
    live = service.sessions.get(item.row.id)
    if live is not None and live.approvals:
        return "awaiting_approval"
    if live is not None and live.conversation.busy:
        return "active"
    return {"running": "active", "awaiting_approval": "awaiting_approval"}.get(
        item.unfinished or "", "idle"
    )


async def delete_session(service: StreamingService, session_id: str) -> None:
    """The session gone: its running turn (here or, PostgreSQL, in another process)
    cancelled and let end, prompts waiting behind it too, pending approvals refused; then
    its turns, memory, events and recordings deleted and it leaves the live sessions.
    Requests for it meanwhile answer 404."""
    store = service.store
    live = service.sessions.get(session_id)
    if live is None and store.conversation(session_id) is None:
        raise not_found(session_id)
    service.deleting.add(session_id)
    try:
        deadline = time.monotonic() + DELETE_WAIT_S
        while time.monotonic() < deadline:
            if live is not None and live.conversation.busy:
                for answer in live.approvals.values():
                    if not answer.done():
                        answer.set_result(ApprovalDecision(False))
                if live.conversation.running:
                    live.conversation.cancel()
            elif await asyncio.to_thread(store.coordination.running_turn, session_id) is not None:
                store.coordination.notify({"op": "cancel", "session": session_id})
            else:
                break
            await asyncio.sleep(0.05)
        if service.sessions.pop(session_id, None) is not None and live is not None:
            live.conversation.close()
        service.feed.turns.pop(session_id, None)
        store.delete(session_id)  # on the main connection, as every write
        await asyncio.to_thread(_forget_recordings, session_id)
    finally:
        service.deleting.discard(session_id)


def _forget_recordings(session_id: str) -> None:
    """The session's recordings (``DATE-TIME-ID.jsonl``, one per process run)."""
    from tui.core.turn.recording import recordings_dir

    name = re.compile(rf"\d{{8}}-\d{{6}}-{re.escape(session_id)}\.jsonl")
    for path in recordings_dir().glob(f"*-{session_id}.jsonl"):
        if name.fullmatch(path.name):
            path.unlink(missing_ok=True)
