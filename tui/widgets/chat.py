"""The chat pane: user and assistant turns, errors and notes, following the newest line.

Finished messages are records drawn by one ``Transcript`` widget (lines, not widgets);
only the turn in progress (and the one just finished) are widgets. The transcript holds a
window of up to MAX_WINDOW records; the rest of the conversation waits as records above
(``earlier``) or below (``later``) and comes in a page at a time at the window's edges.

A streaming reply reserves rows below its newest line so the screen relayouts every few
lines, not on every delta. Textual's own anchor would scroll those blank rows into view
(a gap under the reply), so the pane follows by itself: it keeps the newest *text* line
at the bottom edge, and stops following when the person scrolls up (the status line then
says there is more below; Ctrl+End or scrolling back down follows again).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from tui import textual_patches
from tui.core.i18n import _
from tui.widgets import chat_window
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.chat_window import JUMP, PAGE
from tui.widgets.note_block import NoteBlock
from tui.widgets.record import Record
from tui.widgets.transcript import Transcript
from tui.widgets.user_message import UserMessage


def _chrome(widget: Widget) -> bool:
    return widget.has_class("trim-note") or widget.has_class("greeting")


def record_of(widget: Widget) -> Record | None:
    """The record of a finished message; None for a live one or for chrome."""
    if isinstance(widget, UserMessage) and not widget.has_class("-queued"):
        return Record("user", widget.source)
    if isinstance(widget, AssistantMessage) and widget.status is not None:
        note, summary = widget.ending
        layout = widget.record_layout()
        return Record("assistant", widget.source, widget.status, note, summary, layout=layout)
    if isinstance(widget, NoteBlock):
        return Record("note", widget.body_text, widget.kind, title=widget.title_text)
    return None


class ChatPane(VerticalScroll):
    can_focus = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.earlier: list[Record] = []  # messages above the mounted window, oldest first
        self.later: list[Record] = []  # messages below it (only after scrolling up)
        self.transcript = Transcript()  # the window: finished messages, drawn as lines
        self.transcript.before_reflow = self._narrow_for_reflow

    following = True
    _auto_scroll = False  # the app is moving the view (not the reader): see ``_app_scrolls``

    @contextmanager
    def _app_scrolls(self) -> Iterator[None]:
        """The view moves because the app moves it: ``watch_scroll_y`` does not take it for
        the reader scrolling (which would stop or start following)."""
        self._auto_scroll = True
        try:
            yield
        finally:
            self._auto_scroll = False

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
        with self._app_scrolls():
            if self._hidden_rows() == 0:
                if not self.is_anchored or textual_patches.anchor_released(self):
                    self.anchor()
                elif round(self.scroll_y) != round(self.max_scroll_y):
                    self.scroll_end(animate=False, immediate=True)
            else:
                self.anchor(False)
                target = self.follow_target()
                if round(self.scroll_y) != target:
                    self.scroll_to(y=target, animate=False, immediate=True)

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
        if self._auto_scroll or self._reflow_anchor is not None:
            return  # the app moved the view, not the reader
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

    def compose(self) -> ComposeResult:
        yield self.transcript

    def mount(self, *widgets: Widget, **kwargs: Any) -> AwaitMount:
        if "before" not in kwargs and "after" not in kwargs:
            if self.later:
                self.show_newest()  # something new at the end: the window moves back there
            self.fold()
        return super().mount(*widgets, **kwargs)

    # --- the window of finished messages ----------------------------------------------------
    def _live(self) -> list[Widget]:
        """Widgets after the transcript: the turn in progress, and the last finished one."""
        return [
            c
            for c in self.children
            if c is not self.transcript and not _chrome(c) and not c.has_class("-folded")
        ]

    def fold(self) -> None:
        """Finished message widgets become transcript records: their widgets go away, their
        lines stay, drawn by the one transcript widget."""
        done: list[tuple[Widget, Record]] = []
        for child in self._live():
            record = record_of(child)
            if record is None:
                break  # a live reply or a queued prompt: it and what follows stay widgets
            done.append((child, record))
        if not done:
            return
        for child, _record in done:
            child.add_class("-folded")  # gone from this frame on; unmounted in the background
            child.display = False
        self.transcript.extend([record for _child, record in done])
        self.remove_children([child for child, _record in done])
        self._trim_top()

    def _trim_top(self) -> None:
        """Keep the window at most MAX_WINDOW records: the oldest become plain records
        (their heights and lines forgotten). Only while following: a reader's view stays."""
        extra = chat_window.overflow(len(self.transcript.records))
        if extra <= 0 or self.later or not self.following:
            return
        self.earlier.extend(self.transcript.take_first(extra))
        self._update_marks()

    def _update_marks(self) -> None:
        note = self.query(".trim-note")
        if self.earlier:
            text = _("↑ {n:,} earlier messages: scroll up or Ctrl+Home to load them").format(
                n=len(self.earlier)
            )
            if note:
                note.first(Static).update(text)
            else:
                super().mount(Static(text, classes="trim-note"), before=0)
        elif note:
            note.remove()

    def _keep_view(self, shift: int) -> None:
        """After the window changed above the view: the same lines stay on screen."""
        top = self.transcript.virtual_region.y
        before = self.scroll_y

        def keep() -> None:
            self.following = False
            self.anchor(False)
            moved = self.transcript.virtual_region.y - top
            y = max(0, round(before + shift + moved))
            with self._app_scrolls():
                self.scroll_to(y=y, animate=False, immediate=True)

        self.call_after_refresh(keep)

    def _narrow_for_reflow(self, starts: list[int]) -> None:
        """The width changed: keep in the window only what is on screen (and a little
        around it), so that only that is laid out again; the rest waits as records."""
        transcript = self.transcript
        records = transcript.records
        count = len(records)
        top_index = None
        if not self.following:
            if self._reflow_anchor is None:  # (a second resize before the first settled
                top = round(self.scroll_y) - transcript.virtual_region.y  # keeps the first)
                index = max(0, min(count - 1, bisect.bisect_right(starts, top) - 1))
                self._reflow_anchor = (records[index], top - starts[index])
                self.call_after_refresh(self._back_to_anchor)
            anchor = self._reflow_anchor[0]
            top_index = next((i for i, r in enumerate(records) if r is anchor), 0)
        start, stop = chat_window.for_reflow(
            count, following=self.following, top=top_index, live=bool(self._live())
        )
        before, after = transcript.narrow(start, stop)
        self.earlier.extend(before)
        self.later[:0] = after
        self.call_later(self._update_marks)

    _reflow_anchor: tuple[Record, int] | None = None  # the record read when the width changed

    def _back_to_anchor(self) -> None:
        """After a reflow: the record that was at the top of the view is there again."""
        if self._reflow_anchor is None:
            return
        record, offset = self._reflow_anchor
        self._reflow_anchor = None
        transcript = self.transcript
        index = next((i for i, r in enumerate(transcript.records) if r is record), None)
        if index is None:
            return
        offset = min(offset, transcript.height_of(record) - 1)
        y = transcript.virtual_region.y + transcript.start_of(index) + offset
        with self._app_scrolls():
            self.scroll_to(y=max(0, y), animate=False, immediate=True)

    def load_earlier(self, count: int = PAGE) -> int:
        """Put up to ``count`` earlier messages above the window; the view stays put."""
        if not self.earlier:
            return 0
        page = self.earlier[-count:]
        del self.earlier[-count:]
        added = self.transcript.prepend(page)
        self._trim_bottom()
        self._update_marks()
        self._keep_view(added)
        return len(page)

    def _trim_bottom(self) -> None:
        """After loading above: the newest records beyond the window become plain records."""
        extra = chat_window.overflow(len(self.transcript.records))
        if extra <= 0 or self._live():
            return  # the turn in progress stays right after the window
        self.later[:0] = self.transcript.take_last(extra)

    def load_later(self, count: int = PAGE) -> int:
        if not self.later:
            return 0
        page, self.later = self.later[:count], self.later[count:]
        self.transcript.extend(page)
        extra = chat_window.overflow(len(self.transcript.records))
        if extra > 0:
            transcript = self.transcript
            height = sum(transcript.height_of(r) for r in transcript.records[:extra])
            self.earlier.extend(transcript.take_first(extra))
            self._update_marks()
            self._keep_view(-height)
        return len(page)

    # --- search ----------------------------------------------------------------------------
    def all_records(self) -> list[Record]:
        """Every message of the conversation, oldest first, whether drawn or not."""
        live = [r for r in map(record_of, self._live()) if r is not None]
        return self.earlier + self.transcript.records + self.later + live

    def message_count(self) -> int:
        """Messages in the chat, finished or not (what a person counts on screen)."""
        return (
            len(self.earlier)
            + len(self.transcript.records)
            + len(self.later)
            + len(
                [
                    c
                    for c in self._live()
                    if isinstance(c, (UserMessage, AssistantMessage, NoteBlock))
                ]
            )
        )

    def matches(self, query: str) -> list[int]:
        """Indexes (in ``all_records``) of the messages whose text contains ``query``."""
        self.fold()
        needle = query.casefold()
        return [i for i, r in enumerate(self.all_records()) if needle in r.text.casefold()]

    def reveal(self, index: int, needle: str = "") -> bool:
        """Put message ``index`` in the window, scroll it to the middle, mark it and the
        words found in it. False when it cannot be shown now (a reply is streaming)."""
        self.fold()
        first = len(self.earlier)
        window = self.transcript.records
        if not first <= index < first + len(window):
            if self._live():
                return False  # the turn in progress must stay right after the window
            records = self.all_records()
            start, stop = chat_window.around(len(records), index)
            self.earlier, self.later = records[:start], records[stop:]
            self.transcript.set_records(records[start:stop])
            self._update_marks()
            first = start
        self.transcript.mark(index - first, needle)
        self.following = False
        self.anchor(False)
        self.call_after_refresh(self._scroll_to_record, index - first, needle)
        return True

    def unmark(self) -> None:
        self.transcript.mark(None)

    def _scroll_to_record(self, index: int, needle: str = "") -> None:
        """Once the window is laid out, put record ``index`` in the middle of the pane; a
        record taller than the pane, with the first line that shows ``needle`` there."""
        transcript = self.transcript
        if not 0 <= index < len(transcript.records):
            return
        height = transcript.height_of(transcript.records[index])
        top = transcript.virtual_region.y + transcript.start_of(index)
        pane = self.scrollable_content_region.height
        row = transcript.row_showing(index, needle) if height > pane and needle else None
        if row is not None:
            top, height = top + row, 1
        y = top - max(0, (pane - height) // 2)
        with self._app_scrolls():
            self.scroll_to(y=max(0, y), animate=False, immediate=True)

    def show_first(self) -> None:
        """Ctrl+Home: the first message of the conversation, however long it is."""
        with self._app_scrolls():  # the rebuild moves the offset; that is not the reader
            self.fold()
            if self.earlier:
                records = self.earlier + self.transcript.records
                self.later = records[JUMP:] + self.later
                self.earlier = []
                self.transcript.set_records(records[:JUMP])
                self._update_marks()
            self.following = False
            self.anchor(False)
        self.call_after_refresh(self.scroll_home, animate=False, immediate=True)

    def show_newest(self) -> None:
        """Ctrl+End (or something new): the newest messages in the window again, followed."""
        if self.later:
            records = self.transcript.records + self.later
            self.later = []
            start, _stop = chat_window.newest(len(records))
            self.earlier.extend(records[:start])
            self.transcript.set_records(records[start:])
            self._update_marks()
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
        text.append(
            _("  ·  agent {agent}  ·  model {model}").format(
                agent=safe_text(agent), model=safe_text(backend)
            )
            + "\n\n"
        )
        text.append(_("Type a message and press Enter. "), style="")
        text.append(_("Esc cancels a reply · Ctrl+S conversations · Ctrl+T / Ctrl+B panes · "))
        text.append(_("F1 every key") + "\n")
        text.append(
            _("Commands:")
            + " /help /history /stats /tools /clear /sessions /export /retry /agent /theme /quit",
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
        in the window, so a conversation of any length opens as fast as a short one."""
        self._drop_greeting()
        start, _stop = chat_window.newest(len(records))
        self.earlier = records[:start] + self.earlier
        self.transcript.prepend(records[start:])
        self._update_marks()

    def clear(self) -> None:
        self.greeting = None
        self.earlier = []
        self.later = []
        self.transcript.set_records([])
        self.remove_children([c for c in self.children if c is not self.transcript])
