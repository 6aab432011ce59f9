"""What the person sees, as the source tutorial shows it: greeting, thresholds, recoveries."""

import asyncio

from agents.testing import ModelStep

from tests.app.helpers import make_app, pane_text, screen_text, send, wait_idle, wait_until
from tests.scripts import broken_step, connection_error, text_step
from tui.testing.scripted import Text, response_events
from tui.widgets.note_block import NoteBlock

NARROW = (100, 40)  # below 110 columns the sidebar is hidden


async def test_empty_chat_greets_like_the_tutorial_header_until_the_first_message():
    app, _ = make_app([text_step(["hi"])])
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: "/stats" in pane_text(app, app.chat), "the greeting")
        chat = pane_text(app, app.chat)
        assert "agent Assistant" in chat and "model scripted" in chat
        assert "Esc cancels a reply" in chat and "/help" in chat and "/stats" in chat
        await send(pilot, "hello")
        await wait_idle(pilot)
        assert "Esc cancels a reply" not in pane_text(app, app.chat)


def slow_first_token_step(delay_s: float) -> ModelStep:
    events = response_events([Text(["late ", "but ", "here"])])

    async def stream(_call):
        await asyncio.sleep(delay_s)
        for event in events:
            yield event

    return ModelStep.stream(stream)


async def test_a_slow_first_token_shows_in_the_status_line_even_without_the_sidebar():
    app, _ = make_app([slow_first_token_step(2.2)])
    async with app.run_test(size=NARROW) as pilot:
        await wait_until(pilot, lambda: app.model_ready, "the runner")
        assert not app.sidebar.display or app.sidebar.region.width == 0
        await send(pilot, "take your time")
        await wait_idle(pilot)
        status = pane_text(app, app.status)
        assert "⚠ Slow first token: 2." in status and "> 2s" in status
        notes = [n.message for n in app._notifications if n.title == "Performance"]
        assert len(notes) == 1 and "Slow first token" in notes[0]


async def test_a_recovered_stream_says_so_in_the_chat_and_the_timeline():
    app, _ = make_app(
        [broken_step(["The ", "first ", "half "], connection_error()), text_step(["and the rest."])]
    )
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "tell me")
        await wait_idle(pilot)
        assert "↻ recovered after 1 retry" in pane_text(app, app.chat)
        assert "recovered after 1 retry" in pane_text(app, app.timeline)
        assert "TTFT" in pane_text(app, app.chat)  # the live reply's footer
        assert "Internal error" not in screen_text(app)


async def test_a_fast_stream_after_a_long_wait_is_under_10_tokens_per_second_in_the_tui():
    """The tutorial's rate (tokens over the time since the request) in the status line, the
    sidebar and /stats; the decode rate, fast, beside it and never the one judged."""
    from tests.core.test_figures_once import WAIT_S, waited_step

    app, _ = make_app([waited_step([f"w{i} " for i in range(10)], WAIT_S)])
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: app.model_ready, "the runner")
        await send(pilot, "take your time, then hurry")
        await wait_idle(pilot)
        status = pane_text(app, app.status)
        assert "⚠ Low throughput: " in status and "< 10" in status
        assert "Slow first token" not in status  # 1.5 s: under the tutorial's 2 s
        sidebar = pane_text(app, app.sidebar)
        rates = {}
        for line in sidebar.splitlines():
            row = line.strip("│ ").split()
            for name in ("tokens/s", "decode tok/s"):
                if row[:-1] == name.split() and name not in rates:  # this turn's, first
                    rates[name] = float(row[-1].replace(",", ""))
        assert "⚠ Low throughput: " in sidebar
        assert rates["tokens/s"] < 10 < rates["decode tok/s"], sidebar
        await send(pilot, "/stats")  # its note, as it scrolls into view
        await wait_until(pilot, lambda: app.chat.query(NoteBlock), "/stats")
        assert "1 under 10 tokens/s" in app.chat.query(NoteBlock).last().body_text
