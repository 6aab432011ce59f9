"""A reply streaming into a full pane moves the pane every other line (#39): the pane keeps
one blank row under the newest line, the next line is written there in place, and the gap
under the newest line is never more than that row. A scroll repaints the whole pane, so a
long reply costs about half the repaints it did."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.helpers import make_app, pane_text, send, wait_idle
from tests.scripts import text_step
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.chat import LEAD_ROWS, ChatPane

LINES = 60  # list items: one row each, no blank line between them


def _rows_under_the_newest_line(app: Any, chat: ChatPane) -> tuple[int, bool]:
    """Rows of the pane under the reply's newest line (its footer's, once it is there), and
    whether that line (or the one before it, a frame being on its way) is on screen."""
    reply = app.query(AssistantMessage).last()
    items = [line.strip("- ").strip() for line in reply.source.split("\n") if line.strip()]
    rows = pane_text(app, chat).split("\n")[: chat.region.height]
    at = [i for i, row in enumerate(rows) if any(item in row for item in items[-2:])]
    if not at:
        return 0, False
    return len(rows) - 1 - at[-1], True


async def test_a_long_reply_moves_the_pane_every_other_line_with_one_row_of_lead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, _ = make_app([text_step([f"- item {i} of the list\n" for i in range(LINES)], rate=25)])
    async with app.run_test(size=(100, 30)) as pilot:
        chat = app.chat
        moves: list[tuple[float, float]] = []
        original = ChatPane.watch_scroll_y

        def counted(pane: ChatPane, old: float, new: float) -> None:
            if pane is chat and round(new) != round(old) and round(old) > 0:
                moves.append((old, new))  # past the first screen
            original(pane, old, new)

        monkeypatch.setattr(ChatPane, "watch_scroll_y", counted)
        await send(pilot, "a long list")
        reply = app.query(AssistantMessage).last()
        gaps: list[int] = []
        lost: list[str] = []
        while reply.status is None:
            await pilot.pause(0.02)
            if chat.max_scroll_y > 0 and reply.source.count("item") > 30:
                blank, shown = _rows_under_the_newest_line(app, chat)
                gaps.append(blank)
                if not shown or not chat.following:
                    lost.append(pane_text(app, chat))
        await wait_idle(pilot)
        assert reply.source.count("item") == LINES
        assert not lost, lost[0]
        assert gaps and max(gaps) <= LEAD_ROWS + 1, gaps  # a frame may be on its way
        # the lines past the first screen: about half as many moves of the pane
        past = LINES - chat.region.height
        assert 0 < len(moves) <= past * 0.6 + 2, (len(moves), past)
        under, shown = _rows_under_the_newest_line(app, chat)
        assert shown and under <= 2  # at the end: the footer's rows
