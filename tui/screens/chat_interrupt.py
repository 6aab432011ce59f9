"""Smart interruption (mixed into ``ChatScreen``): Ctrl+Enter (or Alt+Enter) while a reply
streams stops it as Esc does (its partial text kept in the chat, the store and the model's
memory, status interrupted) and sends the typed prompt next, ahead of anything queued. The
timeline marks where it happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.i18n import _

if TYPE_CHECKING:
    from collections import deque

    from tui.command_context import ScreenHost
    from tui.widgets.user_message import UserMessage


class ChatInterrupting:
    """Mixed into ``ChatScreen``."""

    queue: deque[tuple[str, UserMessage]]

    @property
    def host(self) -> ScreenHost:
        return self.app  # type: ignore[attr-defined,no-any-return]

    def interrupt_with(self, prompt: str) -> bool:
        """Stop the running reply and put ``prompt`` first in the queue: it starts when the
        stopped turn has ended (the conversation runs one turn at a time). False when no
        turn runs here to interrupt (the prompt is then sent as Enter sends it)."""
        host = self.host
        turns = host.turns
        if not host.turn_running or turns is None:
            return False
        bubble = host.chat.add_user(prompt, queued=True)
        self.queue.appendleft((prompt, bubble))
        host.timeline.note("rejected", _("interrupted by a new prompt"))
        turns.cancel()
        host.status.show(_("cancelling…"))
        return True
