"""One row of the tool-activity timeline: a call's state, updated in place as it progresses.

A row is not a widget: the timeline pane draws every row as lines (see ``TimelinePane``),
so a row costs no mount, no layout and no compositor work when it is off screen.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from rich.console import Group
from rich.text import Text

if TYPE_CHECKING:
    from rich.syntax import Syntax

from tui.core.i18n import _
from tui.core.sanitize import safe_text

if TYPE_CHECKING:
    from tui.core.tool_calls import ToolCall


class RowPane(Protocol):
    """What draws rows (``tui.widgets.timeline.TimelinePane``): told when one changes."""

    def row_changed(self, row: TimelineRow) -> None: ...


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
    """A tool call, an agent switch, a handoff, a message, a retry or an error.

    A tool call's row draws its ``ToolCall`` (``tui.core.tool_calls``): its status, its
    arguments, output and time are the model's, never a copy; the row adds only how it is
    shown (expanded, a title of its own for a handoff, a status the turn's end gave it)."""

    def __init__(
        self,
        kind: str,
        title: str,
        *,
        call: ToolCall | None = None,
        detail: str = "",
    ) -> None:
        self.kind = kind
        self._status = kind  # a note's look; a call's comes from the call
        self._title = title
        self.call = call
        self.call_id = call.call_id if call is not None else None
        self._output = detail
        self._duration_s: float | None = None  # set only to freeze it (snapshots)
        self.ended_unrun = False  # the turn ended before this call ran
        self.expanded = False
        self.nested_count = 0  # rows of a nested agent's run shown under this one
        self.pane: RowPane | None = None  # the pane drawing it, told when it changes

    @property
    def status(self) -> str:
        call = self.call
        if call is None or self._status == "handoff":
            return self._status
        if self.ended_unrun:
            return "failed"
        return call.status

    @property
    def title(self) -> str:
        call = self.call
        if call is None or self._status == "handoff":
            return self._title
        return f"{call.name} · {call.source}" if call.source else call.name

    def become_handoff(self, title: str) -> None:
        self._status, self._title = "handoff", title

    @property
    def arguments(self) -> str:
        return self.call.arguments if self.call is not None else ""

    @property
    def output(self) -> str:
        if self.call is None:
            return self._output
        if self.ended_unrun and self.call.output is None:
            return _("(not run: the turn ended)")
        return self.call.output or ""

    @property
    def duration_s(self) -> float | None:
        if self._duration_s is not None:
            return self._duration_s
        return self.call.duration_s if self.call is not None else None

    @duration_s.setter
    def duration_s(self, seconds: float | None) -> None:
        self._duration_s = seconds

    @property
    def waiting_note(self) -> str:
        """ "awaiting approval · asked by …", "approved (user)", "rejected (policy)"."""
        call = self.call
        if call is None or call.approval is None or self.ended_unrun:
            return ""
        if call.approval == "pending":
            if not call.agent:  # paused: not asked yet (the agent that asks is named then)
                return _("awaiting approval")
            return _("awaiting approval · asked by {agent}").format(agent=call.agent)
        if call.approval == "approved":
            return _("approved ({by})").format(by=call.approved_by or "")
        return _("rejected ({by})").format(by=call.approved_by or "")

    @property
    def nested(self) -> bool:
        return self.kind.startswith("nested-")

    @property
    def look(self) -> str:
        """The component class it is drawn in (its colour): by status, nested rows muted."""
        return "nested" if self.nested else self.status

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
