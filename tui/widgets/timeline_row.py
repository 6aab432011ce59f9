"""One row of the tool-activity timeline: a call's state, updated in place as it progresses.

A row is not a widget: the timeline pane draws every row as lines (see ``TimelinePane``),
so a row costs no mount, no layout and no compositor work when it is off screen.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

if TYPE_CHECKING:
    from rich.syntax import Syntax

from tui.core.i18n import _
from tui.core.sanitize import safe_text

PREVIEW_CHARS = 60
EXPANDED_LIMIT = 20_000

ICONS = {
    "running": "◌",
    "done": "✔",
    "failed": "✖",
    "agent": "◆",
    "handoff": "⇄",
    "message": "✉",
    "retry": "↻",
    "context": "✂",
    "error": "✖",
    "approval": "⏸",
    "rejected": "⊘",
    "nested-agent": "◆",
    "nested-model": "◇",
    "nested-tool": "▸",
}


def _one_line(text: str, limit: int = PREVIEW_CHARS) -> str:
    flat = " ".join(safe_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _pretty(text: str) -> Text | Syntax:
    """Pretty-print JSON (arguments, outputs); anything else literally."""
    clipped = text[:EXPANDED_LIMIT]
    note = (
        "\n… " + _("{n:,} more characters").format(n=len(text) - EXPANDED_LIMIT)
        if len(text) > EXPANDED_LIMIT
        else ""
    )
    try:
        parsed = json.loads(clipped)
    except ValueError:
        return Text(safe_text(clipped) + note)
    from rich.syntax import Syntax  # pygments: loaded when a row is first expanded

    return Syntax(
        safe_text(json.dumps(parsed, indent=2, ensure_ascii=False)) + note,
        "json",
        theme="ansi_dark",
        word_wrap=True,
        background_color="default",
    )


class TimelineRow:
    """A tool call, an agent switch, a handoff, a message, a retry or an error."""

    def __init__(
        self,
        kind: str,
        title: str,
        *,
        call_id: str | None = None,
        started_ns: int = 0,
        detail: str = "",
    ) -> None:
        self.kind = kind
        self.status = kind if kind not in ("tool",) else "running"
        self.title = title
        self.call_id = call_id
        self.arguments = ""
        self.output = detail
        self.started_ns = started_ns
        self.duration_s: float | None = None
        self.expanded = False
        self.waiting_note = ""  # "awaiting approval · asked by …", "approved (user)"
        self.nested_count = 0  # rows of a nested agent's run shown under this one
        self.pane: Any = None  # the TimelinePane drawing it, told when it changes

    @property
    def nested(self) -> bool:
        return self.kind.startswith("nested-")

    @property
    def look(self) -> str:
        """The component class it is drawn in (its colour): by status, nested rows muted."""
        return "nested" if self.nested else self.status

    def set_status(self, status: str) -> None:
        self.status = status

    def refresh_row(self) -> None:
        """Draw it again (its text or status changed)."""
        if self.pane is not None:
            self.pane.row_changed(self)

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.refresh_row()

    def renderable(self) -> Group:
        """What the row shows: icon, title and time; then its waiting note; then its
        arguments and output, previewed on a line each or whole when expanded."""
        head = Text(f"{ICONS.get(self.status, '•')} ")
        head.append(safe_text(self.title), style="bold")
        if self.duration_s is not None:
            head.append(f"  {self.duration_s * 1000:.0f} ms")
        lines: list[Text | Syntax] = [head]
        if self.waiting_note:
            lines.append(Text("  " + safe_text(self.waiting_note), style="italic"))
        if self.expanded:
            if self.arguments:
                lines += [Text(_("arguments:"), style="dim"), _pretty(self.arguments)]
            if self.output:
                size = (
                    " " + _("({n:,} chars)").format(n=len(self.output))
                    if len(self.output) > PREVIEW_CHARS
                    else ""
                )
                lines += [Text(_("output") + size + ":", style="dim"), _pretty(self.output)]
        else:
            if self.arguments:
                lines.append(Text("  " + _one_line(self.arguments), style="dim"))
            if self.output:
                lines.append(Text("  → " + _one_line(self.output)))
        return Group(*lines)
