"""A running turn as an async stream of the core's events (``RunningTurn``).

The runner produces a turn's events from inside the SDK's stream, its retries and its
approval waits; ``RunningTurn`` runs it as a task and hands its events to whoever iterates,
in order, as the SDK's own ``RunResultStreaming.stream_events()`` does with its queue. A
reader that stops early (a front end quitting, a client gone) stops the runner and still
gets, from ``stop()``, the events the runner made while it ended (the journal stores them:
a turn is never left half-stored).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from tui.core import events as ev

Emit = Callable[[ev.RunEvent], None]
Produce = Callable[[Emit], Awaitable[object]]  # its result is not read


class RunningTurn:
    """``async for event in RunningTurn(produce)``: ``produce(emit)`` runs as a task from
    the first iteration; each event it emits is yielded once, in order."""

    def __init__(self, produce: Produce) -> None:
        self._produce = produce
        self._events: deque[ev.RunEvent] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[object] | None = None
        self._done = False

    def _emit(self, event: ev.RunEvent) -> None:
        self._events.append(event)
        self._ready.set()

    def _ended(self, _task: asyncio.Task[object]) -> None:
        self._done = True
        self._ready.set()

    def __aiter__(self) -> RunningTurn:
        return self

    async def __anext__(self) -> ev.RunEvent:
        if self._task is None:
            self._task = asyncio.ensure_future(self._produce(self._emit))
            self._task.add_done_callback(self._ended)
        events = self._events
        while not events:
            if self._done:
                self._raise_if_failed()
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return events.popleft()

    def _raise_if_failed(self) -> None:
        task = self._task
        if task is not None and not task.cancelled():
            error = task.exception()
            if error is not None:
                raise error  # a bug: the runner never raises

    async def stop(self) -> list[ev.RunEvent]:
        """End the turn now if it still runs (as a cancelled task: a turn waiting for an
        approval stays stored as paused) and return the events nobody has read yet."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})  # its end (memory, journal events), not its error
        rest = list(self._events)
        self._events.clear()
        return rest
