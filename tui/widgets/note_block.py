"""A block of app information in the chat: errors, /history, /stats, notices."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.core.sanitize import safe_text


class NoteBlock(Static):
    DEFAULT_CSS = """
    NoteBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        border: round $panel-lighten-2;
        color: $text-muted;
    }
    NoteBlock.-error { border: round $error; color: $text; }
    NoteBlock.-error > .title { color: $error; }
    """

    def __init__(self, title: str, body: str, *, kind: str = "info") -> None:
        self.title_text = title
        self.body_text = body
        self.kind = kind
        content = Text.assemble(Text(title + "\n", style="bold"), Text(safe_text(body)))
        super().__init__(content, classes=f"-{kind}")
