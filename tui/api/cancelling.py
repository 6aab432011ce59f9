"""Stopping a session's running turn (mixed into ``StreamingService``): ``POST .../cancel``
and the smart interruption of ``POST .../messages`` with ``"interrupt": true`` take the same
path."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol

from tui.core.turn.protocol import envelope

if TYPE_CHECKING:
    from tui.api.feed import Feed
    from tui.api.turn_stream import TurnStream
    from tui.core.store import Store
    from tui.core.turn.conversation import Conversation


class Live(Protocol):
    """What cancelling reads of a ``LiveSession`` (``tui.api.service``)."""

    conversation: Conversation
    streams: set[TurnStream]


class Cancelling:
    """Mixed into ``StreamingService``."""

    feed: Feed
    store: Store

    if TYPE_CHECKING:

        def session(self, session_id: str) -> Live: ...

    def cancel(self, session_id: str, *, by: str = "", queued: bool = True) -> bool:
        """Stop the session's running turn, in this process or (PostgreSQL) another, and
        withdraw the detached prompts waiting behind it here (no client can withdraw them
        by leaving: emptying a queue of 8 took 9 cancels, each timed to a turn's start)."""
        live = self.session(session_id)
        withdrawn = [
            turn for turn in list(live.streams) if queued and turn.detach and turn.withdraw()
        ]
        if live.conversation.running:
            self._cancel_here(live, by)
            return True
        if withdrawn:
            return True
        coordination = self.store.coordination
        if coordination.running_turn(session_id) is None:
            return False
        coordination.notify({"op": "cancel", "session": session_id, "by": by})
        return True

    def _cancel_here(self, live: Live, by: str) -> None:
        """Stop the turn this process runs; its followers are told who asked."""
        turn = self.feed.turns.get(live.conversation.id)
        if by and turn is not None and not turn.ended:
            self.feed.record(turn, envelope("turn_cancelled", {"by": by}))
        live.conversation.cancel()

    def interrupter(self, session_id: str, author: str) -> Callable[[], bool]:
        """What a prompt sent with ``"interrupt": true`` calls once it is queued first
        (``Conversation.turn(first=True)``): the running turn cancelled as ``cancel(queued=
        False)`` does (its partial reply kept, ``interrupted``; followers told who, when
        the prompt has an author), the other waiting prompts left queued behind it."""
        return partial(self.cancel, session_id, by=author, queued=False)
