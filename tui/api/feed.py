"""Every turn's protocol events with ids, for clients that follow a session.

Each event of a turn gets the id ``TURN-SEQ`` (the store's turn id, then its place in the
turn), sent as the SSE ``id:`` field and as ``"id"`` in the object. A client that lost its
stream asks ``GET /v1/sessions/{id}/events`` with ``Last-Event-ID`` and gets what came
after, once, in order; then the next turn. The events of a turn this process runs are
read from memory; the process also hands them to the store's coordination, which on
PostgreSQL keeps them for followers in other processes (``turn_events``, written by the
store's writer thread), so a client can follow a turn another process runs.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import re
import time
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from tui.core.turn.protocol import ENDING_SEQ, envelope

POLL_S = 0.2  # how often a follower of another process's turn reads them
KEPT_TURNS = 64  # finished turns whose events stay in memory (the newest)
MAX_EVENT_TEXT = 64 * 1024  # characters of text one event carries at most (joined deltas)
_ID = re.compile(r"(\d{1,18})-(\d{1,9})")

log = logging.getLogger("agents_tui.api")


def event_id(turn_id: int, seq: int) -> str:
    return f"{turn_id}-{seq}"


def parse_event_id(text: str | None) -> tuple[int, int] | None:
    """``TURN-SEQ`` as numbers; anything else is no id (the stream starts afresh)."""
    match = _ID.fullmatch((text or "").strip())
    return (int(match[1]), int(match[2])) if match else None


@dataclass(slots=True)
class TurnLog:
    session_id: str
    turn_id: int
    events: list[dict[str, Any]] = field(default_factory=list)  # seq n at index n - 1
    ended: bool = False
    count: int = 0  # events recorded (the last seq)
    # Once ended, the events compacted: each run of text deltas is one entry
    # (first seq, last seq, the joined event, the text's length after each seq).
    runs: list[tuple[int, int, dict[str, Any], array[int] | None]] | None = None

    def compact(self) -> None:
        runs: list[tuple[int, int, dict[str, Any], array[int] | None]] = []
        parts: list[str] = []
        for seq, obj in enumerate(self.events, 1):
            if obj["type"] == "text_delta":
                if runs and runs[-1][3] is not None and runs[-1][1] == seq - 1:
                    first, _, _, ends = runs[-1]
                    assert ends is not None
                    parts.append(obj["data"]["delta"])
                    ends.append(ends[-1] + len(parts[-1]))
                    runs[-1] = (first, seq, {**obj, "data": {**obj["data"]}}, ends)
                    continue
                self._join_last(runs, parts)
                parts = [obj["data"]["delta"]]
                runs.append((seq, seq, obj, array("I", [len(parts[0])])))
            else:
                self._join_last(runs, parts)
                parts = []
                runs.append((seq, seq, obj, None))
        self._join_last(runs, parts)
        self.runs, self.events = runs, []

    @staticmethod
    def _join_last(
        runs: list[tuple[int, int, dict[str, Any], array[int] | None]], parts: list[str]
    ) -> None:
        if runs and runs[-1][3] is not None and len(parts) > 1:
            runs[-1][2]["data"]["delta"] = "".join(parts)

    def after(
        self, seq: int, limit: int = MAX_EVENT_TEXT, budget: int | None = None
    ) -> list[dict[str, Any]]:
        """The events after ``seq``: exactly the text not yet seen, whatever the joins, a
        joined run cut at its deltas' ends into events of at most ``limit`` characters
        (unless one delta is longer); with ``budget``, no more characters of text than that
        in all (unless the first event holds more), the rest for the next read. A follower
        then holds one such event unsent, not a whole reply (100 followers of a 1 MB reply
        that read nothing held 280 MB)."""
        if self.runs is None:
            return self.events[seq:]
        out: list[dict[str, Any]] = []
        text = 0
        for first, last, obj, ends in self.runs:
            if last <= seq:
                continue
            if ends is None:
                out.append(obj)
                continue
            seen = ends[seq - first] if seq >= first else 0  # the text up to ``seq``
            if ends[-1] - seen <= limit and seen == 0:
                pieces: Iterator[dict[str, Any]] = iter([obj])
            else:
                pieces = self._pieces(obj, first, ends, max(seq, first - 1), seen, limit)
            for piece in pieces:
                size = len(piece["data"]["delta"])
                if budget is not None and out and text + size > budget:
                    return out
                out.append(piece)
                text += size
        return out

    def _pieces(
        self, obj: dict[str, Any], first: int, ends: array[int], seq: int, seen: int, limit: int
    ) -> Iterator[dict[str, Any]]:
        """The run ``obj`` (deltas ``first``... joined, ``ends`` their text's ends) after
        delta ``seq`` (``seen`` characters), in events of at most ``limit`` characters."""
        text: str = obj["data"]["delta"]
        words: int = obj["data"].get("word_count", 0)
        while seq - first + 1 < len(ends):
            index = bisect.bisect_right(ends, seen + limit, lo=seq - first + 1) - 1
            index = max(index, seq - first + 1)  # one delta longer than ``limit``: whole
            end = ends[index]
            data = {**obj["data"], "delta": text[seen:end]}
            if index < len(ends) - 1 and "word_count" in obj["data"]:
                # the running count where this piece ends (the run's last is the turn's)
                rest = text[end:]
                split = end > 0 and not text[end - 1].isspace() and not rest[:1].isspace()
                data["word_count"] = words - len(rest.split()) + split
            yield {**obj, "data": data, "id": event_id(self.turn_id, first + index)}
            seq, seen = first + index, end


class Feed:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.coordination = store.coordination  # what other processes' followers read
        self.turns: OrderedDict[str, TurnLog] = OrderedDict()  # each session's latest turn
        self._changed: dict[str, asyncio.Event] = {}

    # --- the process running a turn ---------------------------------------------------------
    def begin(self, session_id: str, turn_id: int) -> TurnLog:
        turn = TurnLog(session_id, turn_id)
        self.turns[session_id] = turn
        self.turns.move_to_end(session_id)
        self._evict()
        self._wake(session_id)
        return turn

    def _evict(self) -> None:
        """The oldest finished turns let go of past ``KEPT_TURNS``, whatever is unfinished
        among them (a turn waiting for an approval pinned every later one: 20,001 kept).
        Unfinished turns stay (their followers read them here); the streams limit bounds
        them, and an unanswered approval expires."""
        excess = len(self.turns) - KEPT_TURNS
        if excess <= 0:
            return
        for session_id, turn in list(self.turns.items()):
            if excess <= 0:
                break
            if turn.ended:
                del self.turns[session_id]
                excess -= 1

    def record(self, turn: TurnLog, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` with its id, kept for followers."""
        if turn.ended:
            return obj  # after its end (never, by the service's order): not followed
        turn.count += 1
        obj["id"] = event_id(turn.turn_id, turn.count)
        turn.events.append(obj)
        self.coordination.record_events([(turn.turn_id, turn.count, turn.session_id, obj)])
        self._wake(turn.session_id)
        return obj

    def end(self, turn: TurnLog) -> None:
        if turn.ended:
            return
        turn.ended = True
        turn.compact()
        self.coordination.record_events([(turn.turn_id, turn.count + 1, turn.session_id, None)])
        self._wake(turn.session_id)

    # --- followers --------------------------------------------------------------------------
    def _wake(self, session_id: str) -> None:
        event = self._changed.pop(session_id, None)
        if event is not None:
            event.set()

    async def _changes(self, session_id: str, timeout: float) -> None:
        event = self._changed.setdefault(session_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def follow(
        self, session_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[dict[str, Any]]:
        """The events after ``after`` (a turn's id and the last event seen), to the end of
        that turn; a turn seen to its end leads to the next one. Without ``after``: the
        running turn from its start, or the next to start."""
        if after is None:
            turn_id, seq = await self._next_turn(session_id, None), 0
        else:
            turn_id, seq = after
        sent = False
        quiet_since: float | None = None
        while True:
            events, ended = await self._read(session_id, turn_id, seq, quiet_since)
            for obj in events:
                yield obj
                sent = True
                seq = int(obj["id"].rsplit("-", 1)[1])
            if events:
                quiet_since = None
            if ended:
                if sent:
                    return
                turn_id, seq = await self._next_turn(session_id, turn_id), 0
                quiet_since = None
                continue
            if not events and quiet_since is None:
                quiet_since = time.monotonic()
            local = self.turns.get(session_id)
            here = local is not None and local.turn_id == turn_id
            if here and events and local is not None and local.ended:
                continue  # a finished turn is read a piece at a time: the next piece
            await self._changes(session_id, 15.0 if here else POLL_S)

    async def _read(
        self, session_id: str, turn_id: int, seq: int, quiet_since: float | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """The events after ``seq``: from memory when this process holds the turn, else
        read from the store in a worker thread (an old ``Last-Event-ID`` on a long session
        is a read the event loop must not wait on)."""
        local = self.turns.get(session_id)
        if local is not None and local.turn_id == turn_id:
            # a finished turn's text a piece at a time: what a follower that reads nothing
            # holds is one event, not the rest of the reply
            events = local.after(seq, budget=MAX_EVENT_TEXT)
            last = int(events[-1]["id"].rsplit("-", 1)[1]) if events else seq
            return events, local.ended and last >= local.count
        if seq >= ENDING_SEQ:  # its ending was sent already: nothing more of that turn
            return [], True
        followed = await asyncio.to_thread(
            self.coordination.follow_turn, session_id, turn_id, seq, quiet_since
        )
        if followed.outcome is not None:  # ended, its events gone: how it ended
            return [self._ending(session_id, turn_id, seq, *followed.outcome)], True
        return followed.events, followed.ended

    def _ending(
        self, session_id: str, turn_id: int, seq: int, status: str, reply: str
    ) -> dict[str, Any]:
        """What a follower is told of a turn whose events are gone: how it ended."""
        obj = envelope(
            "response_complete",
            {
                "status": status,
                "final_response": reply,
                "word_count": len(reply.split()),
                "character_count": len(reply),
                "session_id": session_id,
            },
        )
        # One id for every such ending, past any event's: a follower that resumes after it
        # gets nothing more of that turn (a new id each time made an endless loop).
        obj["id"] = event_id(turn_id, ENDING_SEQ)
        return obj

    async def _next_turn(self, session_id: str, after: int | None) -> int:
        """The turn after ``after`` (or the running one), once it has started."""
        if after is None:
            local = self.turns.get(session_id)
            if local is not None and not local.ended:
                return int(local.turn_id)
            running = self.coordination.running_turn(session_id)
            if running is not None:
                return int(running)
            after = self.store.latest_turn_id(session_id)
        while True:
            # The first turn after ``after``: a later one held here must not hide one that
            # ended while the follower was away (it is told how that one ended first).
            local = self.turns.get(session_id)
            here = local.turn_id if local is not None and local.turn_id > after else None
            found = self.coordination.next_turn(session_id, after)
            if found is not None or here is not None:
                return min(int(t) for t in (found, here) if t is not None)
            await self._changes(session_id, self.coordination.follow_poll_s)
