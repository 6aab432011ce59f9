"""Reading the chat from the keyboard, whatever has focus: the page keys, the first and the
newest message, and search (Ctrl+F). The chat screen (``tui.screens.chat``) is built on it;
what it moves is the chat pane's view and its window of records."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

from tui.core.i18n import N_, _
from tui.widgets.chat import ChatPane
from tui.widgets.search_bar import SearchBar


class ChatReading(Screen[None]):
    """The keys that scroll and search the chat pane."""

    # The chat scrolls from the keyboard whatever has focus (the prompt, usually): the
    # prompt is one line or a few, so its own page keys are worth less than the chat's.
    BINDINGS = [
        Binding("pageup", "chat_page(-1)", N_("page up"), show=False, priority=True),
        Binding("pagedown", "chat_page(1)", N_("page down"), show=False, priority=True),
        Binding("ctrl+home", "chat_first", N_("first message"), show=False, priority=True),
        Binding("ctrl+end", "chat_newest", N_("newest"), show=False, priority=True),
        Binding("ctrl+f", "find", N_("find"), show=False, priority=True),
    ]
    _search: tuple[str, int] = ("", -1)  # the query and the position among its matches

    def action_find(self) -> None:
        self.query_one(SearchBar).open()

    def on_search_bar_step(self, message: SearchBar.Step) -> None:
        chat, bar = self._chat(), self.query_one(SearchBar)
        hits = chat.matches(message.query)
        if not hits:
            bar.show_count(_("no match"))
            self._search = (message.query, -1)
            return
        query, position = self._search
        if query != message.query:
            position = -1 if message.direction > 0 else 0  # start from the first / last
        position = (position + message.direction) % len(hits)
        self._search = (message.query, position)
        if not chat.reveal(hits[position], message.query):
            bar.show_count(_("wait for the reply to finish"))
            return
        bar.show_count(_("{n} of {total}").format(n=position + 1, total=len(hits)))

    def on_search_bar_closed(self, _message: SearchBar.Closed) -> None:
        self._chat().unmark()
        self._search = ("", -1)
        self.app.query_one("#prompt").focus()

    def _chat(self) -> ChatPane:
        return self.query_one(ChatPane)

    def action_chat_page(self, direction: int) -> None:
        chat = self._chat()
        if direction < 0 and round(chat.scroll_y) <= 0 and chat.earlier:
            chat.load_earlier()  # at the top of what is mounted: the page before it
            return
        if direction > 0 and round(chat.scroll_y) >= round(chat.max_scroll_y) and chat.later:
            chat.load_later()
            return
        step = max(1, chat.scrollable_content_region.height - 1)
        chat.scroll_to(y=chat.scroll_y + direction * step, animate=False, immediate=True)

    def action_chat_first(self) -> None:
        self._chat().show_first()

    def action_chat_newest(self) -> None:
        chat = self._chat()
        chat.show_newest()
        chat.follow_again()
