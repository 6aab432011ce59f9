"""Opening another conversation (Ctrl+S) while a paced reply's tail is still going out
(``--pace``; ``tui.screens.chat_pacing``): the conversation opened shows its newest turn,
as it does when no tail is held. Found by hand in tmux: the chat kept the old conversation's
scroll offset, part way up the one opened, until Ctrl+End."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable

from tests.app.helpers import send, wait_idle, wait_until
from tests.app.test_pace import bursts, paced_app
from tui.app import AgentsTuiApp
from tui.screens import chat_pacing


async def choose(app: AgentsTuiApp, pilot: Any, conversation_id: str) -> None:
    """Ctrl+S, the row of ``conversation_id``, Enter: as a person opens a conversation."""
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.screen.query(DataTable), "the list of conversations")
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(conversation_id))
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.conversation_id == conversation_id, "opened")


async def test_a_conversation_opened_during_a_tail_shows_its_newest_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chat_pacing, "TAIL_MAX_S", 20.0)  # the tail outlasts the list's opening
    steps = [bursts(3, 0.0, 0.0)[0] for _ in range(4)]
    app = paced_app(steps, "40")
    async with app.run_test(size=(120, 40)) as pilot:
        for prompt in ("one", "two", "three"):  # a long conversation: pages of it
            await send(pilot, prompt)
            await wait_idle(pilot)
            app.chat_screen.pacing.release_all()
        await wait_idle(pilot)
        first = app.conversation_id
        assert first is not None
        await send(pilot, "/clear")
        await wait_idle(pilot)
        await send(pilot, "another story")
        await wait_until(pilot, lambda: not app.turn_running, "the turn stored", 5)
        pacing = app.chat_screen.pacing
        assert pacing.tail_held  # its reply still goes out at the pace, a few lines shown
        await choose(app, pilot, first)
        await wait_idle(pilot)
        await pilot.pause(0.3)
        chat = app.chat
        assert not pacing.tail_held and chat.max_scroll_y > 3 * chat.size.height
        assert round(chat.scroll_y) == round(chat.max_scroll_y), "not at the newest turn"
        assert chat.following
