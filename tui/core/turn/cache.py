"""A response cache for popular queries (``--cache-ttl SECONDS``; off by default).

The first prompt of a fresh conversation is often the same question asked again (a page's
suggested prompt, the tutorial's demo queries). With a TTL set, the reply to such a prompt
is kept in this process's memory, and the next fresh conversation that asks it of the same
agent is answered from it: no model request, the same deltas streamed again.

What is served: the first prompt of a conversation with no stored turn (no history, no turn
paused for approvals), asked of the same agent (its name), model (the label the front end
shows) and instructions, by the same author (a table's player: the model reads
``NAME: text``), with the same text once its outer whitespace is stripped (nothing else is
normalised: case counts). An agent whose instructions are a function (they may differ per
call) is never cached.

The cache is the process's, shared by every client of a service: a hit (and its age) tells
a client that someone asked the same first prompt of the same agent that long ago. Leave it
off where clients must not learn that of each other.

What is kept: only a clean turn of such a fresh conversation, one that completed without a
tool call, handoff, nested agent, approval, error or retry (a turn whose run called a tool
is never kept: its reply read the tool's output of that moment). An agent that has tools is
still cached when its reply used none: the same question to the same agent was answered
without them. A failed, interrupted or cancelled turn is never kept; a turn answered from
the cache is not kept again (its entry keeps its age).

The replay (``replay``): ``TurnStarted``, ``AnsweredFromCache`` (the entry's age), then the
kept deltas and messages with their original gaps scaled by
``min(COMPRESSION, REPLAY_BUDGET_S / span)`` -- a tenth of the original pacing at most, and
the whole replay within half a second whatever the original took -- then ``TurnFinished``.
The prompt and the reply join the conversation's memory as a model's turn does, so the
conversation goes on from it; the journal stores the turn like any other, its metrics
marked ``cached`` (``TurnMetrics.cached``: no TTFT, no tokens/s, no inter-token gaps).

Bounds: ``max_entries`` entries and ``max_bytes`` of memory (the kept text and each part's
objects: ``CachedReply.size``), the least recently used evicted first, expired entries
dropped as they are met. One lock guards it: the API's event loop stores and looks up while
``/metrics`` reads its counters from a thread.

In the conversation's pipeline (``tui.core.turn.conversation``) the cache is the source of a
turn's events when it hits (``Conversation._answer``) and one named stage, "cached"
(``TurnCaching.observe``), that keeps a clean first turn for the next fresh conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tui.core import events as ev

if TYPE_CHECKING:
    from tui.core.turn.runner import Memory

COMPRESSION = 0.1  # a replay's gaps are at most a tenth of the original's
REPLAY_BUDGET_S = 0.5  # and the whole replay takes at most this long
# A wait per part cost more than the model's own stream for a reply of many tiny deltas (a
# 150 KB reply: 4.65 s from the cache against 4.3 s from the model): gaps are waited once
# they add up to MIN_WAIT_S, and the loop is yielded to every YIELD_EVERY parts.
MIN_WAIT_S = 0.004
YIELD_EVERY = 256
MAX_ENTRIES = 256
MAX_BYTES = 8 * 1024 * 1024
PART_BYTES = 160  # a kept part's own objects (measured: ~165 bytes for a one-word delta)
NS = 1_000_000_000

Part = Literal["text", "reasoning", "message"]
Clock = Callable[[], float]
Emit = Callable[[ev.RunEvent], None]


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What must be equal for a reply to be reused (see the module's docstring)."""

    agent: str
    model: str
    instructions: str
    author: str
    prompt: str  # outer whitespace stripped


def normalised(prompt: str) -> str:
    """The prompt as the cache compares it: outer whitespace stripped. Case is kept: "Reply
    with ABC" and "reply with abc" may ask for different replies."""
    return prompt.strip()


def cache_key(agent: object, model: str, prompt: str, author: str = "") -> CacheKey | None:
    """The key of ``prompt`` asked of ``agent``; None when the agent's instructions are not
    a fixed text (a function may answer differently per call)."""
    instructions = getattr(agent, "instructions", None)
    if instructions is not None and not isinstance(instructions, str):
        return None
    name = str(getattr(agent, "name", "agent"))
    return CacheKey(name, model, instructions or "", author, normalised(prompt))


@dataclass(frozen=True, slots=True)
class CachedReply:
    """A kept reply: its parts with their offsets from the first, and how it ended."""

    parts: tuple[tuple[int, Part, str], ...]  # (ns after the first part, kind, text)
    final_text: str
    structured: bool
    kept_at: float  # the cache's clock (monotonic seconds)

    @property
    def size(self) -> int:
        """The memory it holds, as ``max_bytes`` bounds it: its text (UTF-8) and, for each
        part, what CPython spends on it besides the text (its tuple, offset and string
        object: ``PART_BYTES``), so a reply of many tiny deltas is not under-counted."""
        text = len(self.final_text.encode()) + sum(len(t.encode()) for _, _, t in self.parts)
        return text + PART_BYTES * len(self.parts)

    def gaps_s(self) -> list[float]:
        """The replay's wait before each part: the original gaps, compressed (module doc)."""
        offsets = [at for at, _, _ in self.parts]
        span_s = (offsets[-1] - offsets[0]) / NS if offsets else 0.0
        scale = min(COMPRESSION, REPLAY_BUDGET_S / span_s) if span_s > 0 else 0.0
        return [0.0] + [(b - a) / NS * scale for a, b in itertools.pairwise(offsets)]


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    bytes: int


class ResponseCache:
    """Replies kept for ``ttl_s`` seconds, bounded by entries and bytes, in memory."""

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        clock: Clock = time.monotonic,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("a response cache needs a TTL above 0 seconds")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._entries: OrderedDict[CacheKey, CachedReply] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def lookup(self, key: CacheKey) -> CachedReply | None:
        """The reply kept for ``key`` if it is younger than the TTL (a hit), else None (a
        miss); either is counted."""
        with self._lock:
            reply = self._entries.get(key)
            if reply is not None and self.clock() - reply.kept_at >= self.ttl_s:
                self._drop(key)
                reply = None
            if reply is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return reply

    def keep(self, key: CacheKey, reply: CachedReply) -> None:
        """Keep ``reply`` for ``key`` (replacing an older one); a reply larger than the whole
        cache is not kept. The least recently used go first past the bounds."""
        size = reply.size
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = reply
            self._bytes += size
            now = self.clock()
            for old in [k for k, r in self._entries.items() if now - r.kept_at >= self.ttl_s]:
                self._drop(old)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: CacheKey) -> None:
        self._bytes -= self._entries.pop(key).size

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._entries), self._bytes)

    def begin(self, key: CacheKey | None) -> TurnCaching:
        """The cache's part in one turn of a fresh conversation (``key`` None: the turn is
        not one the cache serves or keeps)."""
        if key is None:
            return NOT_CACHING
        hit = self.lookup(key)
        age_s = self.clock() - hit.kept_at if hit is not None else 0.0
        return TurnCaching(self, key, hit, age_s)


def response_cache(ttl_s: float) -> ResponseCache | None:
    """The process's cache for ``--cache-ttl`` (0: none)."""
    return ResponseCache(ttl_s) if ttl_s > 0 else None


# A turn with any of these is never kept: a tool ran, another agent answered, a person was
# asked, or something failed on the way.
_UNCLEAN = (
    ev.ToolCallStarted,
    ev.ToolCallIssued,
    ev.HandoffRequested,
    ev.HandoffCompleted,
    ev.NestedActivity,
    ev.ApprovalRequested,
    ev.RunPaused,
    ev.RunFailed,
    ev.RetryScheduled,
    ev.GuardrailTripped,
)


@dataclass(slots=True)
class TurnCaching:
    """One turn's "cached" stage. With ``hit`` the turn is the hit's replay (nothing to
    keep); without, it watches the turn and keeps its reply if the turn ends clean."""

    cache: ResponseCache | None
    key: CacheKey | None
    hit: CachedReply | None = None
    age_s: float = 0.0  # the hit's
    _parts: list[tuple[int, Part, str]] = field(default_factory=list)
    _done: bool = False

    def observe(self, event: ev.RunEvent) -> None:
        if self._done or self.hit is not None:
            return
        if isinstance(event, ev.TextDelta):
            self._parts.append((event.at_ns, "text", event.text))
        elif isinstance(event, ev.ReasoningDelta):
            self._parts.append((event.at_ns, "reasoning", event.text))
        elif isinstance(event, ev.MessageCompleted):
            self._parts.append((event.at_ns, "message", event.text))
        elif isinstance(event, _UNCLEAN):
            self._done = True  # never kept
        elif isinstance(event, ev.TurnFinished):
            self._done = True
            self._keep(event)

    def _keep(self, end: ev.TurnFinished) -> None:
        cache, key, parts = self.cache, self.key, self._parts
        if cache is None or key is None or end.status != "completed" or not parts:
            return
        first = parts[0][0]
        kept = tuple((at - first, kind, text) for at, kind, text in parts)
        cache.keep(key, CachedReply(kept, end.final_text, end.structured, cache.clock()))


NOT_CACHING = TurnCaching(None, None, _done=True)  # the stage of a turn the cache ignores


class Replaying(Protocol):
    """What a replay needs of the conversation's runner (``TurnRunner``)."""

    session: Memory | None
    cancelled: asyncio.Event

    @property
    def agent_name(self) -> str: ...

    def clock(self) -> int: ...


async def replay(
    reply: CachedReply, age_s: float, prompt: str, author: str, runner: Replaying, emit: Emit
) -> None:
    """Answer ``prompt`` from ``reply`` as a turn's events, paced as the module says; the
    prompt and the reply (or what of it was sent before a cancel) join the memory."""
    from tui.core.turn.runner import spoken, unkept

    runner.cancelled = cancelled = asyncio.Event()
    emit(ev.TurnStarted(prompt, runner.agent_name, runner.clock(), author=author))
    emit(ev.AnsweredFromCache(round(age_s, 3), runner.clock()))
    status: ev.TurnStatus = "completed"
    text = ""
    owed_s = 0.0  # replay time not waited yet: gaps shorter than MIN_WAIT_S add up
    try:
        parts = zip(reply.gaps_s(), reply.parts, strict=True)
        for n, (gap_s, (_, kind, part)) in enumerate(parts):
            owed_s += gap_s
            if owed_s >= MIN_WAIT_S:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cancelled.wait(), owed_s)
                owed_s = 0.0
            elif n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long burst still lets the loop serve others
            if cancelled.is_set():
                status = "interrupted"
                break
            emit(_PART[kind](part, runner.clock()))
            if kind == "text":
                text += part
    except asyncio.CancelledError:  # the reader went away: the turn ends interrupted
        status = "interrupted"
    final = reply.final_text if status == "completed" else text
    structured = reply.structured and status == "completed"
    finished: ev.TurnFinished | None = ev.TurnFinished(
        status, final, runner.clock(), structured=structured
    )
    if runner.session is not None:
        said: list[Any] = [{"role": "user", "content": spoken(author, prompt)}]
        if final:
            said.append({"role": "assistant", "content": final})
        try:
            await runner.session.add_items(said)
        except Exception as error:  # the memory's database went away: the turn fails
            finished = unkept(finished, error, emit, runner.clock())
    if finished is not None:
        emit(finished)


_PART: dict[Part, Callable[[str, int], ev.RunEvent]] = {
    "text": ev.TextDelta,
    "reasoning": ev.ReasoningDelta,
    "message": ev.MessageCompleted,
}
