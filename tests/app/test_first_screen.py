"""A reply growing inside the first screen lays the screen out once per new line (#39).

Textual lays a widget out again after a layout changed its height (``virtual_size`` is a
layout reactive): twice per line of a reply in a short chat, where each line moves every
row of the chat. ``textual_patches.lay_out_once`` takes the reply's new size without it.
"""

from __future__ import annotations

import pytest
from textual.screen import Screen
from textual.widget import Widget

from tests.app.helpers import make_app, send, wait_idle
from tests.scripts import text_step
from tui import textual_patches
from tui.widgets.assistant_message import AssistantMessage

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
