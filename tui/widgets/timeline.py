"""The tool-activity timeline: one row per tool call keyed by ``call_id``, plus agent events.

Rows are drawn as lines by this one widget (the Line API), like the chat's transcript: a
row updated in place repaints its own lines, a new row mounts nothing, and only the rows
on screen are rendered. As 30 widget rows (60 widgets) the timeline was most of what
made a long session's turns slower: every layout and full repaint went through them.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.core import events as ev
from tui.core.i18n import N_, _
from tui.core.tool_calls import StoredToolCall, ToolCall, ToolCallLog
from tui.core.turn.budget import context_note
from tui.localized import localized
from tui.widgets.line_list import LineList
from tui.widgets.rendered_block import render_strips
from tui.widgets.timeline_row import TimelineRow

# The oldest rows beyond this many are dropped (the store keeps every call).
MAX_ROWS = 1_000
LINE_CACHE_ROWS = 60  # rows whose rendered lines are kept (a few screens' worth)
LOOKS = ["running", "done", "failed", "error", "agent", "handoff", "message", "retry", "context"]
LOOKS += ["approval", "rejected", "nested"]


@localized
class TimelinePane(ScrollView, can_focus=True):
    BORDER_TITLE = "Timeline"
    BINDINGS = [
        Binding("up", "cursor(-1)", N_("previous row"), show=False),
        Binding("down", "cursor(1)", N_("next row"), show=False),
        Binding("home", "cursor_to(0)", N_("first row"), show=False),
        Binding("end", "cursor_to(-1)", N_("last row"), show=False),
        Binding("enter", "expand", N_("expand or fold the row"), show=False),
    ]
    COMPONENT_CLASSES = {f"timeline--{look}" for look in LOOKS} | {"timeline--cursor"}
    DEFAULT_CSS = """
    TimelinePane > .timeline--running { color: $warning; }
    TimelinePane > .timeline--done { color: $success; }
    TimelinePane > .timeline--failed, TimelinePane > .timeline--error { color: $error; }
    TimelinePane > .timeline--agent, TimelinePane > .timeline--handoff { color: $accent; }
    TimelinePane > .timeline--message { color: $text-muted; }
    TimelinePane > .timeline--retry { color: $warning; }
    TimelinePane > .timeline--context { color: $secondary; }
    TimelinePane > .timeline--approval { color: $warning; text-style: bold; }
    TimelinePane > .timeline--rejected, TimelinePane > .timeline--nested { color: $text-muted; }
    TimelinePane > .timeline--cursor {
        color: $block-cursor-blurred-foreground;
        background: $block-cursor-blurred-background;
        text-style: $block-cursor-blurred-text-style;
    }
    TimelinePane:focus > .timeline--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = _("Timeline")
        # the rows as lines: heights per width, lines kept for the rows drawn last
        self._list: LineList[TimelineRow, Strip] = LineList(
            self._render_row, keep_items=LINE_CACHE_ROWS
        )
        self.rows_by_call: dict[str, TimelineRow] = {}
        self.calls = ToolCallLog()  # the calls shown, as the core's model keeps them
        self.index: int | None = None  # the row the cursor is on

    @property
    def rows(self) -> list[TimelineRow]:
        return self._list.items

    @rows.setter
    def rows(self, rows: list[TimelineRow]) -> None:
        self._list.items = rows
        self._list.changed()

    @property
    def _width(self) -> int:
        return self._list.width

    # --- rows --------------------------------------------------------------------------------

    def show(self, event: ev.RunEvent) -> None:
        """The run events the timeline draws: tool calls, approvals, nested agents,
        handoffs, messages, context trims, failures and retries."""
        match event:
            case (
                ev.ToolCallStarted()
                | ev.ToolArgumentsDelta()
                | ev.ToolCallIssued()
                | ev.ApprovalRequested()
                | ev.ApprovalResolved()
                | ev.ToolCallFinished()
            ):
                self._call_changed(event)
            case ev.RunPaused():
                self.calls.pause()
                for row in self.rows_by_call.values():
                    if row.status == "approval":
                        row.refresh_row()
            case ev.NestedActivity():
                self.nested(event.parent_call_id, event.kind, event.title, event.detail)
            case ev.GuardrailTripped():
                title = _("guardrail tripped: {name} ({stage})")
                self.note("error", title.format(name=event.name, stage=event.stage))
            case ev.MessageCompleted():
                self.note("message", _("message"), detail=event.text)
            case ev.HandoffRequested():
                self.handoff_requested(event.call_id, event.name)
            case ev.HandoffCompleted():
                title = _("handoff: {source} → {target}")
                self.note("handoff", title.format(source=event.source, target=event.target))
            case ev.ContextFitted() if event.reason:
                self.note("context", *context_note(event))
            case ev.RunFailed():
                title = _("error: {kind}").format(kind=event.error_kind)
                self.note("error", title, detail=event.message)
            case ev.AnsweredFromCache():
                title = _("answered from cache (age {s:.0f}s)").format(s=event.age_s)
                self.note("done", title)
            case ev.RetryScheduled():
                title = _("retry {attempt}/{of} in {s:.1f} s").format(
                    attempt=event.attempt, of=event.max_attempts, s=event.delay_s
                )
                self.note("retry", title, detail=event.message)
            case _:
                pass

    def _add(self, row: TimelineRow, position: int | None = None) -> TimelineRow:
        row.pane = self
        following = self.scroll_y >= self.max_scroll_y
        if position is None or position >= len(self.rows):
            self.rows.append(row)
        else:
            self.rows.insert(position, row)
            if self.index is not None and self.index >= position:
                self.index += 1
        if len(self.rows) > MAX_ROWS:
            self._trim()
        self._follow = self._follow or following
        self._changed()
        return row

    def _trim(self) -> None:
        """Drop the oldest finished rows beyond ``MAX_ROWS`` (a running one stays)."""
        extra = len(self.rows) - MAX_ROWS
        old = [r for r in self.rows[: extra + 20] if r.status not in ("running", "approval")]
        gone = {id(r) for r in old[:extra]}
        for row in old[:extra]:
            if row.call_id:
                self.rows_by_call.pop(row.call_id, None)
                self.calls.calls.pop(row.call_id, None)
            self._forget(row)
            row.pane = None
        self.rows = [r for r in self.rows if id(r) not in gone]
        if self.index is not None:
            self.index = max(0, self.index - len(gone))

    def _forget(self, row: TimelineRow) -> None:
        self._list.forget([row])

    def _changed(self) -> None:
        """Rows came, went or changed height: the scrollable size follows (once a frame:
        reopening a conversation adds its stored calls one by one)."""
        self._list.changed()
        if not self._size_pending:
            self._size_pending = True
            self.call_after_refresh(self._update_size)

    _size_pending = False
    _follow = False  # a row came while the newest was in view: keep it in view

    def _update_size(self) -> None:
        self._size_pending = False
        if self._width:
            self._narrow_for_scrollbar()
            self.virtual_size = Size(self._width, self._list.height)
            if self._follow:
                self._follow = False
                # forced: before the next layout the pane does not know it can scroll
                self.scroll_to(y=self.max_scroll_y, animate=False, force=True, immediate=True)
        self.refresh()

    def _narrow_for_scrollbar(self) -> None:
        """Rows that will not fit are measured at the width left beside the scrollbar they
        bring: measured first at the whole width, a conversation reopened with 500 rows was
        drawn twice over (the bar came, the width changed, every height was learnt again)."""
        if self.show_vertical_scrollbar or self.styles.overflow_y != "auto":
            return
        bar = self.styles.scrollbar_size_vertical
        region = self.scrollable_content_region
        if region.width > bar and region.height > 0 and self._list.taller_than(region.height):
            self._list.set_width(region.width - bar)

    def _repaint(self, row: TimelineRow) -> None:
        """Repaint a row's lines as they are (the cursor moved on or off it)."""
        if row.pane is not self or not self._width:
            return
        index = self.rows.index(row)
        starts = self._list.starts()
        top = starts[index] - round(self.scroll_y)
        self.refresh(Region(0, top, self.size.width, starts[index + 1] - starts[index]))

    def row_changed(self, row: TimelineRow) -> None:
        """A row's text or status changed: repaint its lines (a relayout only if its
        height changed)."""
        if row.pane is not self:
            return
        known = self._list.known_height(row)
        self._forget(row)
        if known is None or not self._width or self._list.height_of(row) != known:
            self._changed()
        else:
            self._repaint(row)

    # --- geometry ----------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._list.set_width(self.scrollable_content_region.width)
        self._update_size()

    # --- drawing -----------------------------------------------------------------------------
    def _render_row(self, row: TimelineRow, width: int) -> list[Strip]:
        left = 3 if row.nested else 1
        inner = max(1, width - left - 1)
        look = self.get_component_rich_style(f"timeline--{row.look}")
        base = self.rich_style
        pad_left, pad_right = Segment(" " * left), Segment(" ")
        body = render_strips(self.app.console, row.renderable(inner), inner)
        return [
            Strip([pad_left, *line, pad_right], width).apply_style(look).apply_style(base)
            for line in body
        ]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        self._list.set_width(width)
        line_y = y + round(self.scroll_y)
        index, found = self._list.line_at(line_y)
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, self.rich_style)
        line = found if found is not None else Strip.blank(width, self.rich_style)
        if index == self.index:
            cursor = self.get_component_rich_style("timeline--cursor")  # blended: opaque
            line = Strip(Segment.apply_style(list(line), post_style=cursor), line.cell_length)
        return line

    # --- the cursor --------------------------------------------------------------------------
    def _move_to(self, index: int, *, scroll: bool = True) -> None:
        if not self.rows:
            return
        old = self.index
        self.index = max(0, min(len(self.rows) - 1, index))
        for changed in {old, self.index}:
            if changed is not None and 0 <= changed < len(self.rows):
                self._repaint(self.rows[changed])
        if not scroll:
            return
        starts = self._list.starts()
        self.scroll_to_region(
            Region(0, starts[self.index], 1, starts[self.index + 1] - starts[self.index]),
            animate=False,
            immediate=True,
        )

    def action_cursor(self, step: int) -> None:
        self._move_to((self.index if self.index is not None else len(self.rows)) + step)

    def action_cursor_to(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self.rows) - 1)

    def action_expand(self) -> None:
        if self.index is not None and 0 <= self.index < len(self.rows):
            self.rows[self.index].toggle()

    def on_click(self, event: events.Click) -> None:
        """A click selects the row under it and expands (or folds) it."""
        line_y = event.y + round(self.scroll_y)
        index = self._list.index_at(line_y)
        if 0 <= index < len(self.rows):
            self._move_to(index)
            self.rows[index].toggle()

    def on_focus(self) -> None:
        """Focused, a row is always selected (at first the lowest in view) and the border says
        which keys work, so Enter never does nothing unseen."""
        self.border_subtitle = _("↑↓ select · Enter expand / fold")
        if self.index is None or not 0 <= self.index < len(self.rows):
            # the lowest row in view: focusing scrolls nothing (a click may follow)
            bottom = round(self.scroll_y) + max(0, self.scrollable_content_region.height - 1)
            self._move_to(self._list.index_at(bottom), scroll=False)
        else:
            self._repaint(self.rows[self.index])

    def on_blur(self) -> None:
        self.border_subtitle = ""
        if self.index is not None and 0 <= self.index < len(self.rows):
            self._repaint(self.rows[self.index])

    # --- what the run reports ----------------------------------------------------------------
    def _call_changed(self, event: ev.RunEvent) -> None:
        """A tool call's event: the model (``ToolCallLog``) moves the call on; its row, made
        when the call is first seen, draws it again."""
        call = self.calls.apply(event)
        if call is None:
            return
        row = self.rows_by_call.get(call.call_id)
        if row is None:
            if isinstance(event, ev.ToolArgumentsDelta):
                return  # arguments of a call not announced: drawn when it is issued
            row = TimelineRow("tool", call.name, call=call)
            self.rows_by_call[call.call_id] = row
            self._add(row)
        if isinstance(event, ev.ApprovalRequested):
            row.expanded = True  # the call waits for the person: shown whole, to judge it
            row.refresh_row()
            if row in self.rows:
                self._move_to(self.rows.index(row))
            return
        if isinstance(event, ev.ApprovalResolved):
            row.expanded = False
        row.refresh_row()

    def nested(self, parent_call_id: str, kind: str, title: str, detail: str) -> None:
        """A row of what an agent used as a tool did, right under its parent call."""
        parent = self.rows_by_call.get(parent_call_id)
        row = TimelineRow(f"nested-{kind}", f"└ {title}", detail=detail)
        if parent is None or parent.pane is not self:
            self._add(row)
            return
        position = self.rows.index(parent) + 1 + parent.nested_count
        parent.nested_count += 1
        self._add(row, position)

    def handoff_requested(self, call_id: str, name: str) -> None:
        row = self.rows_by_call.get(call_id)
        if row is not None:
            row.become_handoff(_("handoff: {name}").format(name=name))
            row.refresh_row()
        else:
            self.note("handoff", _("handoff requested: {name}").format(name=name))

    def fail_running(self) -> None:
        """A turn ended: any call still marked running will never finish."""
        for row in self.rows_by_call.values():
            if row.status in ("running", "approval"):
                row.ended_unrun = True
                row.refresh_row()

    def past_tool(self, tool: StoredToolCall) -> TimelineRow:
        """A tool call from a stored turn (one still waiting for approval shows so)."""
        call = ToolCall.from_stored(tool)
        if call.output is None and call.approval != "pending":
            call.output = ""  # it ran, or was refused, before the turn was stored
        row = TimelineRow("tool", call.name, call=call)
        self.calls.calls[call.call_id] = call
        self.rows_by_call[call.call_id] = row
        return self._add(row)

    def note(self, kind: str, title: str, detail: str = "") -> TimelineRow:
        return self._add(TimelineRow(kind, title, detail=detail))

    def clear_rows(self) -> None:
        for row in self.rows:
            row.pane = None
        self._list.set_items([])
        self.rows_by_call.clear()
        self.calls = ToolCallLog()
        self.index = None
        self._changed()
