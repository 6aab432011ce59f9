"""The chat pane: user and assistant turns, errors and notes, following the newest line.

A streaming reply reserves rows below its newest line so the screen relayouts every few
lines, not on every delta. Textual's own anchor would scroll those blank rows into view
(a gap under the reply), so the pane follows by itself: it keeps the newest *text* line
at the bottom edge, and stops following when the person scrolls up (the status line then
says there is more below; Ctrl+End or scrolling back down follows again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.containers import VerticalScroll
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.note_block import NoteBlock
from tui.widgets.user_message import UserMessage

# At most this many messages are mounted: layout cost grows with every child. The rest of
# the conversation is kept as light records (text, status, footer) and mounted again, a
# page at a time, when the person scrolls to the edge of what is mounted.
MAX_MOUNTED = 100
PAGE = 40
JUMP = 30  # mounted on opening or on a jump: a screenful and then some, quick to build


@dataclass(slots=True)
class Record:
    """A message that is not mounted: enough to build its widget again."""

    kind: str  # "user", "assistant" or "note"
    text: str
    status: str = "completed"
    note: str | None = None
    summary: dict[str, Any] | None = None
    title: str = ""

    def widget(self) -> Widget:
        if self.kind == "user":
            return UserMessage(self.text)
        if self.kind == "note":
            return NoteBlock(self.title, self.text, kind=self.status)
        status: Any = self.status
        return AssistantMessage.finished(self.text, status, self.note, self.summary or {})


def _chrome(widget: Widget) -> bool:
    return widget.has_class("trim-note") or widget.has_class("greeting")


def record_of(widget: Widget) -> Record | None:
    """The record of a finished message; None for a live one or for chrome."""
    if isinstance(widget, UserMessage) and not widget.has_class("-queued"):
        return Record("user", widget.source)
    if isinstance(widget, AssistantMessage) and widget.status is not None:
        note, summary = widget.ending
        return Record("assistant", widget.source, widget.status, note, summary)
    if isinstance(widget, NoteBlock):
        return Record("note", widget.body_text, widget.kind, title=widget.title_text)
    return None


class ChatPane(VerticalScroll):
    can_focus = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.earlier: list[Record] = []  # messages above the mounted window, oldest first
        self.later: list[Record] = []  # messages below it (only after scrolling up)

    following = True
    _auto_scroll = False

    def _hidden_rows(self) -> int:
        last = self.children[-1] if self.children else None
        return last.blank_below if isinstance(last, AssistantMessage) else 0

    def follow_target(self) -> int:
        """The scroll offset that puts the newest text line on the bottom row."""
        return max(0, round(self.max_scroll_y) - self._hidden_rows())

    def follow(self) -> None:
        """Scroll to the newest text line, if the person is following it.

        With no reserved rows at the end, Textual's anchor does it (in the same frame as
        the layout); while a reply reserves rows, the pane scrolls itself.
        """
        if not self.following:
            return
        self._auto_scroll = True
        try:
            if self._hidden_rows() == 0:
                if not self.is_anchored or self._anchor_released:
                    self.anchor()
                elif round(self.scroll_y) != round(self.max_scroll_y):
                    self.scroll_end(animate=False, immediate=True)
            else:
                self.anchor(False)
                target = self.follow_target()
                if round(self.scroll_y) != target:
                    self.scroll_to(y=target, animate=False, immediate=True)
        finally:
            self._auto_scroll = False

    def reserve_coming(self) -> None:
        """The streaming reply is about to reserve rows: the pane, not the anchor, follows."""
        if self.is_anchored:
            self.anchor(False)

    def follow_again(self) -> None:
        self.following = True
        self._set_below(False)
        self.follow()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._auto_scroll:
            return
        if round(new_value) <= 0 < round(old_value) and self.earlier:
            self.call_later(self.load_earlier)  # scrolled up to the top: the previous page
        elif (
            self.later
            and new_value > old_value
            and round(new_value) >= round(self.max_scroll_y) - 1
        ):
            self.call_later(self.load_later)  # scrolled down to the bottom: the next page
        at_end = round(new_value) >= self.follow_target() - 1 and not self.later
        if at_end != self.following:
            self.following = at_end
            if at_end:
                self._set_below(False)
                self.follow()
            else:
                self.anchor(False)  # the person reads above: new lines must not move them

    def content_grew(self) -> None:
        """New lines arrived: follow them, or say they are there."""
        if self.following:
            self.follow()
        elif self.follow_target() > round(self.scroll_y):
            self._set_below(True)

    def _set_below(self, below: bool) -> None:
        from tui.widgets.status_line import StatusLine

        status = self.screen.query(StatusLine) if self.is_attached else None
        if status:
            status.first().set_below(below)

    def on_resize(self) -> None:
        """The virtual size changed (a message added, the reserve grew) or the pane did."""
        self.content_grew()

    def mount(self, *widgets: Widget, **kwargs: Any) -> AwaitMount:
        if self.later and "before" not in kwargs and "after" not in kwargs:
            self.show_newest()  # something new at the end: the window moves back there
        result = super().mount(*widgets, **kwargs)
        if len(self.children) + len(widgets) > MAX_MOUNTED:
            self.call_after_refresh(self._trim_top)
        return result

    def _messages(self) -> list[Widget]:
        return [c for c in self.children if record_of(c) is not None]

    def _trim_top(self) -> None:
        """Unmount the oldest messages beyond the limit, keeping their records."""
        extra = len(self.children) - MAX_MOUNTED
        if extra <= 0 or self.later:
            return
        old = self._messages()[:extra]
        self.earlier.extend(r for r in map(record_of, old) if r is not None)
        self.remove_children(old)
        self._update_marks()

    def _update_marks(self) -> None:
        note = self.query(".trim-note")
        if self.earlier:
            text = f"↑ {len(self.earlier):,} earlier messages: scroll up or Ctrl+Home to load them"
            if note:
                note.first(Static).update(text)
            else:
                super().mount(Static(text, classes="trim-note"), before=0)
        elif note:
            note.remove()

    def load_earlier(self, count: int = PAGE) -> int:
        """Mount up to ``count`` earlier messages above the window; the view stays put."""
        if not self.earlier:
            return 0
        page = self.earlier[-count:]
        del self.earlier[-count:]
        widgets = [r.widget() for r in page]
        first = next(iter(self._messages()), None)
        offset = first.virtual_region.y - self.scroll_y if first is not None else 0.0
        if first is not None:
            super().mount(*widgets, before=first)
        else:
            super().mount(*widgets)
        self._trim_bottom()
        self._update_marks()

        def keep_view() -> None:
            """The message that was at the top stays where it was on screen."""
            self.following = False
            self.anchor(False)
            if first is not None and first.is_attached:
                y = max(0, round(first.virtual_region.y - offset))
                self.scroll_to(y=y, animate=False, immediate=True)

        self.call_after_refresh(keep_view)
        return len(widgets)

    def _trim_bottom(self) -> None:
        """After loading above: unmount the newest messages beyond the limit (when idle)."""
        extra = len(self.children) - MAX_MOUNTED
        live = any(record_of(c) is None for c in self.children if not _chrome(c))
        if extra <= 0 or live:
            return  # a live reply or a queued prompt stays mounted, whatever the count
        newest = self._messages()[-extra:]
        self.later[:0] = [r for r in map(record_of, newest) if r is not None]
        self.remove_children(newest)

    def load_later(self, count: int = PAGE) -> int:
        if not self.later:
            return 0
        page, self.later = self.later[:count], self.later[count:]
        super().mount(*[r.widget() for r in page])
        extra = len(self.children) - MAX_MOUNTED
        if extra > 0:
            old = self._messages()[:extra]
            self.earlier.extend(r for r in map(record_of, old) if r is not None)
            self.remove_children(old)
            self._update_marks()
        return len(page)

    # --- search ----------------------------------------------------------------------------
    def all_records(self) -> list[Record]:
        mounted = [r for r in map(record_of, self._messages()) if r is not None]
        return self.earlier + mounted + self.later

    def matches(self, query: str) -> list[int]:
        """Indexes (in ``all_records``) of the messages whose text contains ``query``."""
        needle = query.casefold()
        return [i for i, r in enumerate(self.all_records()) if needle in r.text.casefold()]

    def reveal(self, index: int) -> Widget | None:
        """Mount the window around message ``index``, scroll it into view, mark it."""
        for old in self.query(".-search-hit"):
            old.remove_class("-search-hit")
        first = len(self.earlier)
        mounted = self._messages()
        if not first <= index < first + len(mounted):
            if any(record_of(c) is None for c in self.children if not _chrome(c)):
                return None  # a live reply is mounted: the window cannot move now
            records = self.all_records()
            start = max(0, min(index - JUMP // 2, len(records) - JUMP))
            stop = start + JUMP
            self._auto_scroll = True
            try:
                self.earlier, self.later = records[:start], records[stop:]
                mounted = self._replace_window(records[start:stop])
            finally:
                self._auto_scroll = False
            first = start
        widget = mounted[index - first]
        widget.add_class("-search-hit")
        self.following = False
        self.anchor(False)
        self._scroll_to_hit(widget, tries=5)
        return widget

    def _scroll_to_hit(self, widget: Widget, tries: int) -> None:
        """Once the freshly mounted window is laid out, put ``widget`` in the middle."""
        if widget.virtual_region.height == 0 and tries > 0:
            self.call_after_refresh(self._scroll_to_hit, widget, tries - 1)
            return
        self._auto_scroll = True
        try:
            self.scroll_to_widget(widget, animate=False, center=True, immediate=True)
        finally:
            self._auto_scroll = False

    def show_first(self) -> None:
        """Ctrl+Home: the first message of the conversation, however long it is."""
        self._auto_scroll = True  # the rebuild moves the offset; that is not the reader
        try:
            self._show_first()
        finally:
            self._auto_scroll = False
        self.call_after_refresh(self.scroll_home, animate=False, immediate=True)

    def _show_first(self) -> None:
        if self.earlier:
            records = self.earlier + [r for r in map(record_of, self._messages()) if r]
            self.later = records[JUMP:] + self.later
            self.earlier = []
            self._replace_window(records[:JUMP])
        self.following = False
        self.anchor(False)

    def _replace_window(self, records: list[Record]) -> list[Widget]:
        """Unmount the mounted messages and mount ``records`` instead, in one screen update."""
        widgets = [r.widget() for r in records]
        with self.app.batch_update():
            self.remove_children(self._messages())
            super().mount(*widgets)
            self._update_marks()
        return widgets

    def show_newest(self) -> None:
        """Ctrl+End (or something new): the newest messages mounted again, then followed."""
        if self.later:
            records = [r for r in map(record_of, self._messages()) if r] + self.later
            self.later = []
            keep = records[-JUMP:]
            self.earlier.extend(records[: len(records) - len(keep)])
            self._replace_window(keep)
        self.following = True

    def on_mount(self) -> None:
        self.follow()

    greeting: Static | None = None

    def greet(self, agent: str, backend: str) -> None:
        """The tutorial's console header, until the first message."""
        from rich.text import Text

        from tui.core.sanitize import safe_text

        text = Text()
        text.append("agents-tui", style="bold")
        text.append(f"  ·  agent {safe_text(agent)}  ·  model {safe_text(backend)}\n\n")
        text.append("Type a message and press Enter. ", style="")
        text.append("Esc cancels a reply · Ctrl+S conversations · Ctrl+T / Ctrl+B panes · ")
        text.append("F1 every key\n")
        text.append(
            "Commands: /help /history /stats /tools /clear /sessions /export /retry "
            "/agent /theme /quit",
            style="dim",
        )
        if self.greeting is None:
            self.greeting = Static(text, classes="greeting")
            self.mount(self.greeting)
        else:
            self.greeting.update(text)

    def _drop_greeting(self) -> None:
        if self.greeting is not None:
            self.greeting.remove()
            self.greeting = None

    def add_user(self, text: str, *, queued: bool = False) -> UserMessage:
        self._drop_greeting()
        message = UserMessage(text, queued=queued)
        self.mount(message)
        return message

    def start_assistant(self, agent_name: str) -> AssistantMessage:
        message = AssistantMessage(agent_name)
        self.mount(message)
        return message

    def add_note(self, title: str, body: str, *, kind: str = "info") -> NoteBlock:
        note = NoteBlock(title, body, kind=kind)
        self.mount(note)
        return note

    def show_past(self, records: list[Record]) -> None:
        """Stored turns go above anything already typed in this run; only the newest are
        mounted, so a conversation of any length opens as fast as a short one."""
        self._drop_greeting()
        keep = records[-JUMP:]
        self.earlier = records[: len(records) - len(keep)] + self.earlier
        widgets = [r.widget() for r in keep]
        first = next((c for c in self.children if not _chrome(c)), None)
        if first is not None:
            self.mount(*widgets, before=first)
        else:
            self.mount(*widgets)
        self._update_marks()

    def clear(self) -> None:
        self.greeting = None
        self.earlier = []
        self.later = []
        self.remove_children()
