"""The main screen, with a compositor that renders only the rows a partial update needs.

Textual's compositor answers a partial update (a few dirty lines of the streaming reply)
by asking every widget whose clip touches the update for *all* of its visible lines, then
throws away the rows it did not need. Docked widgets and whole panes have the screen as
their clip, so each frame of a stream re-renders the header, footer, sidebar and timeline
from their caches: about a third of the app's CPU at 100 tokens/s. Asking only the widgets
under the update, and only for its rows, writes the same bytes to the terminal for about
a fifth less CPU (``agents-tui bench``; ``tests/app/test_chat_screen.py`` compares the
output with Textual's own compositor).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable

from textual._compositor import Compositor
from textual.binding import Binding
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip

from tui.core.i18n import N_, _
from tui.localized import localized
from tui.widgets.chat import ChatPane
from tui.widgets.search_bar import SearchBar


class RowCropCompositor(Compositor):
    """Renders, for a partial update, only the rows of each widget inside the update."""

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        assert crop is not None  # Textual 8.2 always passes the region it updates
        top, bottom, left, right = crop.y, crop.bottom, crop.x, crop.right
        for widget, (region, clip) in self.visible_widgets.items():
            x, y, width, height = region.intersection(clip)
            if not (width and height) or x >= right or x + width <= left:
                continue  # nothing of it is in the update: its columns are not written
            first, last = max(y, top), min(y + height, bottom)
            if first >= last:
                continue
            # Whole rows: a frame is cut into columns at widget edges, so a render keeps
            # its full width for the cuts to line up.
            rows = Region(x, first, width, last - first)
            yield region, rows, widget.render_lines(rows.translate(-region.offset))


# The private method this overrides, as the tested Textual (8.2) declares it.
KNOWN_SIGNATURE = (
    "(self, crop: 'Region | None' = None) -> 'Iterable[tuple[Region, Region, list[Strip]]]'"
)
log = logging.getLogger(__name__)


def row_crop_supported(method: object = None) -> bool:
    """True when Textual's ``Compositor._get_renders`` is the one the override was built on."""
    target = method if method is not None else Compositor._get_renders
    try:
        return str(inspect.signature(target)) == KNOWN_SIGNATURE  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def make_compositor() -> Compositor:
    """The row-cropping compositor, or Textual's own if Textual changed underneath it."""
    if row_crop_supported():
        return RowCropCompositor()
    log.warning(
        "Textual's Compositor._get_renders is not the known one; using Textual's compositor "
        "(correct, somewhat more CPU while streaming)"
    )
    return Compositor()


@localized
class ChatScreen(Screen[None]):
    """The app's default screen: the three panes, composed by the app."""

    def __init__(self) -> None:
        super().__init__(id="_default")
        self._compositor = make_compositor()

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
