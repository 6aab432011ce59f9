"""``--pace``: a turn's events with its text released at the pacer's rate (``tui.core.pace``).

The turn runs at its own speed in a task (the conversation measures and stores every event
as the SDK delivers it); what the program prints is held back: text deltas are re-cut into
the words the pacer allows each frame, and every other event follows the text that came
before it, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TypeVar

from tui.core import events as ev
from tui.core.pace import Pacer, take_words, words_in

FRAME_S = 1 / 30  # a terminal needs no more
E = TypeVar("E")  # the core's events; program 4: the API's, its text deltas as the core's


async def paced(
    events: AsyncIterator[E],
    pacer: Pacer,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncGenerator[E | ev.TextDelta]:
    """``events`` with their text deltas (``ev.TextDelta``) released at ``pacer``'s rate;
    any other event follows the text before it."""
    arrived: asyncio.Queue[E | None] = asyncio.Queue()  # None: the turn ended

    async def pump() -> None:
        try:
            async for event in events:
                arrived.put_nowait(event)
        finally:
            arrived.put_nowait(None)

    task = asyncio.create_task(pump())
    held: deque[E | ev.TextDelta] = deque()  # text not shown yet, and the events behind it
    backlog = 0  # words in ``held``
    ended = False
    try:
        while held or not ended:
            batch: list[E | None] = []
            if not held:  # nothing to show: wait for the turn
                pacer.allowance(clock(), 0)
                batch.append(await arrived.get())
            while not arrived.empty():
                batch.append(arrived.get_nowait())
            new_words = 0
            for item in batch:
                if item is None:
                    ended = True
                    continue
                held.append(item)
                if isinstance(item, ev.TextDelta):
                    new_words += words_in(item.text)
            if new_words:
                backlog += new_words
                pacer.arrived(backlog, clock())
            budget = pacer.allowance(clock(), backlog)
            while held:
                head = held[0]
                if not isinstance(head, ev.TextDelta) or words_in(head.text) == 0:
                    yield held.popleft()  # an event, or spaces: after the text before it
                    continue
                if budget <= 0:
                    break
                shown, rest = take_words(head.text, budget)
                count = words_in(shown)
                budget -= count
                backlog -= count
                held.popleft()
                if rest:
                    held.appendleft(ev.TextDelta(rest, head.at_ns))
                yield ev.TextDelta(shown, head.at_ns)
            if held:
                await asyncio.sleep(FRAME_S)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
