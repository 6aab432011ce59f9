"""A reply growing inside the first screen (#39): one layout of the screen per new line, and
the chat still follows it every time it outgrows the pane.

Textual lays a widget out again after a layout changed its height (``virtual_size`` is a
layout reactive): twice per line of a reply in a short chat, where each line moves every
row of the chat. ``textual_patches.lay_out_once`` lets the reply's own widgets take their
new size without it. The chat pane is left to Textual: taking its scroll height the same
way left ``max_scroll_y`` stale when the reply first outgrew the pane, and the reply grew
out of sight in 3 of 20 streams (reverted in b13337b); the second test is that case.
"""

from __future__ import annotations

import pytest
from textual.screen import Screen
from textual.widget import Widget

from tests.app.helpers import make_app, pane_text, send, wait_idle
from tests.scripts import text_step
from tui import textual_patches
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.chat import ChatPane

SIZE = (120, 40)
PARAGRAPHS = 8


async def _layouts_for_a_short_reply(monkeypatch: pytest.MonkeyPatch) -> int:
    """Layouts of the screen (not scrolls) while a reply of PARAGRAPHS paragraphs streams
    inside the first screen."""
    layouts: list[bool] = []
    counting = False
    original = Screen._refresh_layout

    def counted(screen: Screen, size: object = None, scroll: bool = False) -> None:
        if counting:
            layouts.append(not (scroll and not screen._layout_widgets))
        original(screen, size, scroll)  # type: ignore[arg-type]

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    steps = [text_step([f"paragraph {i}\n\n" for i in range(PARAGRAPHS)], rate=8)]
    app, _ = make_app(steps)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        counting = True
        await send(pilot, "a short reply")
        await wait_idle(pilot)
        counting = False
        assert app.chat.max_scroll_y == 0  # it stayed inside the first screen
        assert app.query(AssistantMessage).last().source.count("paragraph") == PARAGRAPHS
    monkeypatch.setattr(Screen, "_refresh_layout", original)
    return sum(layouts)


async def test_each_new_line_of_a_short_reply_costs_one_layout(monkeypatch):
    if not textual_patches.installed().get("layout_once"):
        pytest.skip("the Textual patches are off: Textual lays out as it does")
    once = await _layouts_for_a_short_reply(monkeypatch)
    monkeypatch.setattr(Widget, "_size_updated", textual_patches._original_size_updated)
    twice = await _layouts_for_a_short_reply(monkeypatch)
    # measured: 15 against 22 (a paragraph's blank line and text come in one paint; the
    # turn's start, its end and the footer lay out too)
    assert once <= 2 * PARAGRAPHS and once < twice - PARAGRAPHS // 2, (once, twice)


def _newest_lines_shown(app, chat: ChatPane, last: int) -> bool:
    """One of the reply's ``last`` newest lines is on screen (a frame may be on its way)."""
    reply = app.query(AssistantMessage).last()
    lines = [line.strip() for line in reply.source.split("\n") if line.strip()]
    shown = {row.strip() for row in pane_text(app, chat).split("\n")}
    return len(lines) < 2 or any(line in shown for line in lines[-last:])


async def test_a_short_chat_follows_its_reply_past_the_pane_edge_in_every_stream():
    """The layout that first finds the reply taller than the pane (its rows reserved ahead
    counted at once) must leave the view on the newest line: checked every 20 ms in ten
    streams, the reply crossing the edge of a 30-row terminal at 20 lines a second."""
    lost = []
    for stream in range(10):
        app, _ = make_app(
            [text_step([f"line {i} of stream {stream}\n\n" for i in range(30)], rate=20)]
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await send(pilot, "a reply that outgrows the pane")
            reply = app.query(AssistantMessage).last()
            chat = app.chat
            while reply.status is None:
                await pilot.pause(0.02)
                if not chat.following or not _newest_lines_shown(app, chat, 3):
                    lost.append((stream, reply.source.count("line "), pane_text(app, chat)))
            await wait_idle(pilot)
            assert chat.max_scroll_y > 0  # it did outgrow the pane
            if not _newest_lines_shown(app, chat, 1):
                lost.append((stream, "at the end", pane_text(app, chat)))
    assert not lost, lost[0]
