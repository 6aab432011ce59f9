"""Reply text on its way to the screen: deltas joined into at most one message every
``TEXT_MESSAGE_S``.

A local server at full speed hands over a delta per turn of the event loop, so a message per
delta (59,000 for a 300 KB reply) cost more than drawing them. The first text after a quiet
spell goes at once; text that arrived before another run event is posted before it, so the
screen keeps the run's order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

TEXT_MESSAGE_S = 0.005  # reply text reaches the chat in at most one message this often


class TextBatcher:
    def __init__(self, post: Callable[[list[str]], object]) -> None:
        self._post = post  # hands a batch to the UI loop (the list may grow until drawn)
        self.batch: list[str] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._posted_at = 0.0

    def add(self, text: str) -> None:
        if self.batch is not None:
            self.batch.append(text)  # joins the batch (posted or not yet)
            return
        self.batch = [text]
        wait = self._posted_at + TEXT_MESSAGE_S - time.monotonic()
        if wait <= 0:
            self.flush()  # the first text after a quiet spell: at once
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def before_event(self) -> None:
        """Another run event comes: text before it is shown before it, text after it after."""
        if self._timer is not None:
            self.flush()
        self.batch = None

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.batch is not None:
            self._posted_at = time.monotonic()
            self._post(self.batch)

    def drawn(self, parts: list[str]) -> None:
        """A posted batch reached the screen: text after it starts a new one."""
        if self.batch is parts:
            self.batch = None

    def take(self) -> str:
        """Text not yet drawn: waiting for its message, or in a message queued behind the
        caller's. The batch is emptied in place, so such a message arrives with nothing."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        parts, self.batch = self.batch, None
        if not parts:
            return ""
        text = "".join(parts)
        parts.clear()
        return text
