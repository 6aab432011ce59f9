"""The chat pane: user and assistant turns, errors and notes, following the newest line.

Finished messages are records (``tui.widgets.chat_records``: the window one ``Transcript``
widget draws, and the records above and below it); only the turn in progress (and the one
just finished) are widgets.

A streaming reply reserves rows below its newest line so the screen relayouts every few
lines, not on every delta. Textual's own anchor would scroll those blank rows into view
(a gap under the reply), so the pane follows by itself: it keeps the newest *text* line
at the bottom edge or one row above it (``LEAD_ROWS``), and stops following when the
person scrolls up (the status line then says there is more below; Ctrl+End or scrolling
back down follows again).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from tui import textual_patches
from tui.core.i18n import _
from tui.widgets import chat_window
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.chat_records import RecordWindow
from tui.widgets.note_block import NoteBlock
from tui.widgets.record import Record
from tui.widgets.user_message import UserMessage

# While a reply streams into a full pane, the pane scrolls a line ahead of its newest line:
# every other new line lands in that blank row without scrolling. A scroll repaints the whole
# pane (~2.5 ms), a line written in place only itself, so a long reply moves the pane half as
# often; the gap under the newest line is never more than this one row.
LEAD_ROWS = 1


class ChatPane(RecordWindow):
    """The conversation as a person reads it: the records, the live messages after them,
    and the view following the newest line."""

    can_focus = True

    def _hidden_rows(self) -> int:
        last = self.children[-1] if self.children else None
        return last.blank_below if isinstance(last, AssistantMessage) else 0

    def follow_target(self) -> int:
        """The scroll offset that puts the newest text line on the bottom row (the pane may
        be up to ``LEAD_ROWS`` further down while a reply streams)."""
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
                y = round(self.scroll_y)
                if not target <= y <= target + LEAD_ROWS:
                    # A step of one line and the lead: the next line shows in the lead row
                    # without moving the pane (a scroll repaints all of it).
                    lead = min(target + LEAD_ROWS, round(self.max_scroll_y))
                    self.scroll_to(y=lead, animate=False, immediate=True)

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
        if self.following and new_value >= old_value:
            # A view that moves down has not left the newest line: the reader did not
            # scroll up. (When a short chat first overflows, the layout moves the view from
            # its bottom-aligned negative offset to 0 while the reply's reserve is already
            # counted: taken for the reader, it stopped following in about one stream in
            # four, and the reply grew out of sight below the pane.)
            return
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

    def mount(
        self,
        *widgets: Widget,
        before: int | str | Widget | None = None,
        after: int | str | Widget | None = None,
    ) -> AwaitMount:
        if before is None and after is None:
            if self.later:
                self.show_newest()  # something new at the end: the window moves back there
            self.fold()
        return super().mount(*widgets, before=before, after=after)

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

    def add_user(self, text: str, *, queued: bool = False, author: str = "") -> UserMessage:
        self._drop_greeting()
        message = UserMessage(text, queued=queued, author=author)
        self.mount(message)
        return message

    def start_assistant(self, agent_name: str, after: Widget | None = None) -> AssistantMessage:
        """The reply to a prompt, right under its bubble (``after``): prompts queued behind
        it stay below their own replies."""
        message = AssistantMessage(agent_name)
        children = self.children
        if after is not None and after.parent is self and children and children[-1] is not after:
            self.fold()
            self.mount(message, after=after)
        else:
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
