"""A reply that outgrows the first screen stays in view (issue #39's "stall").

When a short chat first overflows, Textual's layout moves the view from its bottom-aligned
(negative) offset down to 0 while the reply's reserved rows are already counted. The pane
took that move for the reader scrolling up and stopped following, in about one stream in
four: the reply went on growing below the pane, out of sight, and the bench counted the
frames that did not show it as late ones (p50 75-95 ms instead of 25).
"""

from __future__ import annotations

from tests.app.helpers import make_app, pane_text, send, wait_idle, wait_until
from tests.scripts import text_step
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.chat import ChatPane

SIZE = (120, 30)


def _lines(n: int, word: str) -> list[str]:
    return [f"{word} line {i}\n\n" for i in range(n)]


def _newest_line_shown(app) -> bool:
    """The reply's newest line (or the one before: a frame may be on its way) on screen."""
    reply = app.query(AssistantMessage).last()
    lines = [line.strip() for line in reply.source.split("\n") if line.strip()]
    shown = pane_text(app, app.chat).split("\n")
    return len(lines) < 2 or any(line in (row.strip() for row in shown) for line in lines[-2:])


async def test_a_view_moved_down_by_the_layout_keeps_following_the_reply():
    app, _ = make_app([text_step(_lines(40, "first")), text_step(_lines(30, "second"), rate=10)])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "fill the pane")
        await wait_idle(pilot)
        chat = app.chat
        assert chat.following
        end = round(chat.max_scroll_y)
        # The view a row short of the end, moved there from above by a layout (not by the
        # reader, who scrolls up from the end): as when a short chat first overflows.
        chat.set_reactive(ChatPane.scroll_y, float(end - 3))
        chat.scroll_y = float(end - 2)
        assert chat.following
        await send(pilot, "stream more")
        await wait_until(
            pilot, lambda: "second line 5" in app.query(AssistantMessage).last().source
        )
        await pilot.pause(0.1)
        assert _newest_line_shown(app), pane_text(app, chat)
        await wait_idle(pilot)
        assert _newest_line_shown(app), pane_text(app, chat)


async def test_a_reply_crossing_the_first_screen_is_always_followed():
    for _ in range(3):  # the race came once in about four streams
        app, _ = make_app([text_step(_lines(24, "streamed"), rate=10)])
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "a reply that outgrows the pane")
            reply = app.query(AssistantMessage).last()
            followed = []
            while reply.status is None:
                await pilot.pause(0.03)
                followed.append(app.chat.following)  # nobody scrolled: always following
            await wait_idle(pilot)
            assert all(followed), followed
            assert _newest_line_shown(app), pane_text(app, app.chat)
