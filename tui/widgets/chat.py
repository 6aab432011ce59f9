"""The chat pane: user and assistant turns, errors and notes, following the newest line.

A streaming reply reserves rows below its newest line so the screen relayouts every few
lines, not on every delta. Textual's own anchor would scroll those blank rows into view
(a gap under the reply), so the pane follows by itself: it keeps the newest *text* line
at the bottom edge, and stops following when the person scrolls up (the status line then
says there is more below; Ctrl+End or scrolling back down follows again).
"""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical, VerticalScroll
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.note_block import NoteBlock
from tui.widgets.user_message import UserMessage

# Only the newest widgets stay mounted: layout cost grows with every child, and what is
# trimmed stays in the store (Ctrl+S, /history, /export).
MAX_MOUNTED = 150


class ChatPane(VerticalScroll):
    can_focus = True
    hidden_count = 0
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
        at_end = round(new_value) >= self.follow_target() - 1
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
        result = super().mount(*widgets, **kwargs)
        if len(self.children) + len(widgets) > MAX_MOUNTED:
            self.call_after_refresh(self._trim)
        return result

    def _trim(self) -> None:
        extra = len(self.children) - MAX_MOUNTED
        if extra <= 0:
            return
        old = [c for c in self.children[:extra] if not c.has_class("trim-note")]
        self.hidden_count += len(old)
        self.remove_children(old)
        note = self.query(".trim-note")
        text = (
            f"{self.hidden_count:,} earlier messages are hidden here; "
            "Ctrl+S, /history and /export have them."
        )
        if note:
            note.first(Static).update(text)
        else:
            super().mount(Static(text, classes="trim-note"), before=0)

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

    def show_past(self, turns: list[list[Widget]]) -> None:
        """Stored turns go above anything already typed in this run."""
        self._drop_greeting()
        history = Vertical(*[w for turn in turns for w in turn], classes="past-turns")
        if self.children:
            self.mount(history, before=0)
        else:
            self.mount(history)

    def clear(self) -> None:
        self.greeting = None
        self.remove_children()
