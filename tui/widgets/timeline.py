"""The tool-activity timeline: one row per tool call keyed by ``call_id``, plus agent events."""

from __future__ import annotations

from textual import on
from textual.widgets import ListView

from tui.core.metrics import NS
from tui.widgets.timeline_row import TimelineRow

# Rows beyond this many are unmounted, oldest first: layout cost grows with every row, and
# a long session would otherwise get slower turn after turn. The store keeps every call.
MAX_ROWS = 30


class TimelinePane(ListView):
    BORDER_TITLE = "Timeline"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows_by_call: dict[str, TimelineRow] = {}

    def _add(self, row: TimelineRow) -> TimelineRow:
        self.append(row)
        self.scroll_end(animate=False)
        if len(self.children) > MAX_ROWS:
            self._trim()
        return row

    def _trim(self) -> None:
        """Unmount the oldest finished rows beyond ``MAX_ROWS`` (a running one stays)."""
        extra = len(self.children) - MAX_ROWS
        old = [r for r in self.children[: extra + 20] if isinstance(r, TimelineRow)]
        old = [r for r in old if r.status not in ("running", "approval")][:extra]
        for row in old:
            if row.call_id:
                self.rows_by_call.pop(row.call_id, None)
        if old:
            self.remove_children(old)

    def tool_started(self, call_id: str, name: str, at_ns: int) -> TimelineRow:
        row = self.rows_by_call.get(call_id)
        if row is None:
            row = TimelineRow("tool", name, call_id=call_id, started_ns=at_ns)
            self.rows_by_call[call_id] = row
            self._add(row)
        return row

    def tool_arguments(self, call_id: str, delta: str) -> None:
        row = self.rows_by_call.get(call_id)
        if row is not None:
            row.arguments += delta
            row.refresh_row()

    def tool_issued(
        self, call_id: str, name: str, arguments: str, at_ns: int, *, source: str = ""
    ) -> None:
        row = self.tool_started(call_id, name, at_ns)
        row.arguments = arguments
        row.started_ns = at_ns  # the tool runs from here; the model streamed before
        if source:  # "mcp:time" names the server, "agent:Translator" the nested agent
            row.title = f"{name} · {source}"
        row.refresh_row()

    def tool_awaiting(self, call_id: str, name: str, agent: str, arguments: str) -> None:
        """The call waits for the person: shown whole, so they can judge it."""
        row = self.rows_by_call.get(call_id) or self.tool_started(call_id, name, 0)
        row.arguments = arguments
        row.waiting_note = f"awaiting approval · asked by {agent or 'the agent'}"
        row.set_status("approval")
        row.expanded = True
        row.refresh_row()
        self.index = self.children.index(row) if row in self.children else self.index

    def paused(self) -> None:
        """The run stopped for approvals: every call not yet run waits for its answer."""
        for row in self.rows_by_call.values():
            if row.status == "running" and not row.output:
                row.waiting_note = "awaiting approval"
                row.set_status("approval")
                row.refresh_row()

    def tool_approval(self, call_id: str, approved: bool, by: str, at_ns: int = 0) -> None:
        row = self.rows_by_call.get(call_id)
        if row is None:
            return
        if at_ns:
            row.started_ns = at_ns  # the tool runs from the answer; the wait is not its time
        row.waiting_note = f"{'approved' if approved else 'rejected'} ({by})"
        row.set_status("running" if approved else "rejected")
        row.expanded = False
        row.refresh_row()

    def nested(self, parent_call_id: str, kind: str, title: str, detail: str) -> None:
        """A row of what an agent used as a tool did, right under its parent call."""
        parent = self.rows_by_call.get(parent_call_id)
        row = TimelineRow(f"nested-{kind}", f"└ {title}", detail=detail)
        if parent is None or parent not in self.children:
            self._add(row)
            return
        children = list(self.children)
        position = children.index(parent) + 1 + parent.nested_count
        parent.nested_count += 1
        if position >= len(children):
            self._add(row)
        else:
            self.insert(position, [row])

    def tool_finished(self, call_id: str, output: str, failed: bool, at_ns: int) -> None:
        row = self.rows_by_call.get(call_id)
        if row is None:
            row = self.tool_started(call_id, "tool", at_ns)
        row.output = output
        row.duration_s = max(0.0, (at_ns - row.started_ns) / NS)
        if row.status != "rejected":  # a rejected call's output is the SDK's refusal
            row.set_status("failed" if failed else "done")
        row.refresh_row()

    def handoff_requested(self, call_id: str, name: str) -> None:
        row = self.rows_by_call.get(call_id)
        if row is not None:
            row.set_status("handoff")
            row.title = f"handoff: {name}"
            row.refresh_row()
        else:
            self.note("handoff", f"handoff requested: {name}")

    def fail_running(self) -> None:
        """A turn ended: any call still marked running will never finish."""
        for row in self.rows_by_call.values():
            if row.status in ("running", "approval"):
                row.set_status("failed")
                row.output = row.output or "(not run: the turn ended)"
                row.refresh_row()

    def past_tool(self, tool: dict[str, object]) -> TimelineRow:
        """A tool call from a stored turn."""
        row = TimelineRow("tool", str(tool.get("name", "tool")), call_id=str(tool.get("call_id")))
        row.arguments = str(tool.get("arguments") or "")
        row.output = str(tool.get("output") or "")
        source = str(tool.get("source") or "")
        if source:
            row.title = f"{row.title} · {source}"
        if tool.get("approval") == "rejected":
            row.set_status("rejected")
        else:
            row.set_status("failed" if tool.get("failed") else "done")
        return self._add(row)

    def note(self, kind: str, title: str, detail: str = "") -> TimelineRow:
        return self._add(TimelineRow(kind, title, detail=detail))

    def clear_rows(self) -> None:
        self.rows_by_call.clear()
        self.clear()

    @on(ListView.Selected)
    def _toggle(self, event: ListView.Selected) -> None:
        if isinstance(event.item, TimelineRow):
            event.item.toggle()
