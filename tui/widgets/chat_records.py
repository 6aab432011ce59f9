"""The chat's records: every finished message of the conversation, oldest first, in three
parts. A window of up to MAX_WINDOW records is drawn by one ``Transcript`` widget (lines,
not widgets); the rest waits as plain records above it (``earlier``) or below it
(``later``) and comes in a page at a time at the window's edges. Searching finds a record
among all three and brings it into the window. ``ChatPane`` (``tui.widgets.chat``) adds
the live messages and following the newest line on top of this.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

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
        author = widget.author  # a player of a shared table: named, as the bubble showed it
        return Record("user", f"{author}: {widget.source}" if author else widget.source)
    if isinstance(widget, AssistantMessage) and widget.status is not None:
        note, summary = widget.ending
        layout = widget.record_layout()
        return Record("assistant", widget.source, widget.status, note, summary, layout=layout)
    if isinstance(widget, NoteBlock):
        return Record("note", widget.body_text, widget.kind, title=widget.title_text)
    return None


class RecordWindow(VerticalScroll):
    """A scroll of records: the window the transcript draws, and the records around it."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
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
