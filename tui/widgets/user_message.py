"""A user's prompt in the chat, shown literally."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.core.i18n import _
from tui.core.sanitize import safe_text


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $accent;
        color: $text;
    }
    UserMessage.-queued { color: $text-muted; border-left: thick $warning; }
    """

    def __init__(self, text: str, *, queued: bool = False, author: str = "") -> None:
        self.source = text
        self.author = author  # a player of a shared table (``--connect``): named before the text
        super().__init__(self._render_text(queued), classes="-queued" if queued else "")

    def _render_text(self, queued: bool) -> Text:
        body = Text(safe_text(self.source))
        if self.author:
            body = Text.assemble(Text(safe_text(self.author) + ": ", style="bold"), body)
        return Text.assemble(Text(_("(queued)") + " ", style="italic"), body) if queued else body

    def mark_sent(self) -> None:
        self.remove_class("-queued")
        self.update(self._render_text(False))
