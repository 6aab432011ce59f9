"""One row of the tool-activity timeline: a call's state, updated in place as it progresses.

A row is not a widget: the timeline pane draws every row as lines (see ``TimelinePane``),
so a row costs no mount, no layout and no compositor work when it is off screen.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

if TYPE_CHECKING:
    from rich.syntax import Syntax

from tui.core.i18n import _, ngettext
from tui.core.sanitize import safe_text

if TYPE_CHECKING:
    from tui.core.tool_calls import ToolCall


class RowPane(Protocol):
    """What draws rows (``tui.widgets.timeline.TimelinePane``): told when one changes."""

    def row_changed(self, row: TimelineRow) -> None: ...


PREVIEW_CHARS = 60
PREVIEW_LINES = 3  # a folded row shows this many lines of a long output or reply
EXPANDED_LIMIT = 50_000  # characters of an output an expanded row shows
FOLD_STYLE = "dim italic"  # what a folded row hides, and how to fold it again

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


def _readable(text: str) -> tuple[str, bool]:
    """The text as a row shows it: JSON pretty-printed, anything else literally, made safe
    for the terminal and clipped to ``EXPANDED_LIMIT`` characters; and whether it is JSON."""
    clipped = text[:EXPANDED_LIMIT]
    try:
        parsed = json.loads(clipped)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        return safe_text(clipped), False
    return safe_text(json.dumps(parsed, indent=2, ensure_ascii=False)), True


def _pretty(text: str, readable: tuple[str, bool]) -> Text | Syntax:
    """Shown whole (expanded): JSON highlighted, anything else literally."""
    shown, is_json = readable
    note = (
        "\n… " + _("{n:,} more characters").format(n=len(text) - EXPANDED_LIMIT)
        if len(text) > EXPANDED_LIMIT
        else ""
    )
    if not is_json:
        return Text(shown + note)
    from rich.syntax import Syntax  # pygments: loaded when a row is first expanded

    return Syntax(
        shown + note, "json", theme="ansi_dark", word_wrap=True, background_color="default"
    )


def _rows(line: str, width: int) -> int:
    return max(1, -(-cell_len(line) // width))


def _preview(text: str, readable: str, width: int) -> list[Text]:
    """A row's output or reply when it is not expanded. One that fits in ``PREVIEW_LINES``
    lines of ``width`` cells is shown whole. A longer one is folded: its first
    ``PREVIEW_LINES`` lines that say something (not blank, not a lone JSON bracket), each
    cut to one line, then what is hidden: "… 37 more lines (Enter)" (the lines after the
    last one shown), or the characters cut off when every line is shown."""
    if len(text) <= PREVIEW_LINES * width:
        whole = safe_text(text).rstrip().split("\n")
        heads = ["  → " + whole[0], *("    " + line for line in whole[1:])]
        if sum(_rows(line, width) for line in heads) <= PREVIEW_LINES:
            return [Text(line) for line in heads]
    lines = readable.rstrip().split("\n")  # trailing blank lines hide nothing
    saying = (i for i, line in enumerate(lines) if line.strip(" \t{}[],"))
    shown = list(islice(saying, PREVIEW_LINES))  # read no further than the lines shown
    if not shown:  # nothing but brackets and commas: those are what it says
        shown = list(islice((i for i, line in enumerate(lines) if line.strip()), PREVIEW_LINES))
    out: list[Text] = []
    cut = 0
    picked = [lines[index].expandtabs(4).rstrip() for index in shown]
    indent = min((len(line) - len(line.lstrip(" ")) for line in picked), default=0)
    for number, text_line in enumerate(picked):
        line = Text(("  → " if number == 0 else "    ") + text_line[indent:])
        before = len(line)
        line.truncate(width, overflow="ellipsis")
        if len(line) < before:
            cut += before - len(line) + 1  # the ellipsis stands for one of them
        out.append(line)
    # counted in the output's own lines (an output beyond EXPANDED_LIMIT is not parsed)
    total = len(lines) if len(text) <= EXPANDED_LIMIT else text.rstrip().count("\n") + 1
    hidden = total - (shown[-1] + 1 if shown else 0)
    if hidden > 0:
        more = ngettext("… {n:,} more line (Enter)", "… {n:,} more lines (Enter)", hidden)
    elif cut:
        cut += max(0, len(text) - EXPANDED_LIMIT)  # beyond the part read (a huge line)
        more = ngettext("… {n:,} more character (Enter)", "… {n:,} more characters (Enter)", cut)
    else:
        return out
    out.append(Text("    " + more.format(n=hidden or cut), style=FOLD_STYLE))
    return out


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
        self._readable: tuple[str, tuple[str, bool]] | None = None
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

    def _readable_output(self) -> tuple[str, bool]:
        """The output as shown (pretty JSON or literal), kept while the output is the same:
        a row is drawn again each time it comes back on screen."""
        output = self.output
        kept = self._readable
        if kept is None or kept[0] is not output:
            kept = self._readable = (output, _readable(output))
        return kept[1]

    def renderable(self, width: int = 80) -> Group:
        """What the row shows at ``width`` cells: icon, title and time; then its waiting
        note; then its arguments on a line and its output folded (``_preview``), or both
        whole when expanded."""
        head = Text(f"{ICONS.get(self.status, '•')} ")
        head.append(safe_text(self.title), style="bold")
        if self.duration_s is not None:
            head.append(f"  {self.duration_s * 1000:.0f} ms")
        lines: list[Text | Syntax] = [head]
        if self.waiting_note:
            lines.append(Text("  " + safe_text(self.waiting_note), style="italic"))
        output = self.output
        preview = _preview(output, self._readable_output()[0], width) if output else []
        if self.expanded:
            if self.arguments:
                arguments = _pretty(self.arguments, _readable(self.arguments))
                lines += [Text(_("arguments:"), style="dim"), arguments]
            if output:
                size = (
                    " " + _("({n:,} chars)").format(n=len(output))
                    if len(output) > PREVIEW_CHARS
                    else ""
                )
                pretty = _pretty(output, self._readable_output())
                lines += [Text(_("output") + size + ":", style="dim"), pretty]
            if preview and preview[-1].style == FOLD_STYLE:  # it folds: say how
                lines.append(Text(_("(Enter folds it again)"), style=FOLD_STYLE))
        else:
            if self.arguments:
                lines.append(Text("  " + _one_line(self.arguments), style="dim"))
            lines += preview
        return Group(*lines)
