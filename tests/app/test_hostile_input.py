"""Hostile text from the model, tools and the user: shown literally, harmless, app responsive."""

import asyncio
import time

from agents import Agent, function_tool
from agents.testing import ScriptedModel

from tests.app.helpers import pane_text, screen_text, send, wait_idle, wait_until
from tests.scripts import Call, Text, parts_step, text_step
from tui.app import AgentsTuiApp
from tui.core.config import Settings
from tui.core.turn.runner import TurnRunner
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.prompt import PromptInput

SIZE = (160, 45)


async def _responsive(app) -> float:
    """Seconds the app takes to show a typed key in the prompt."""
    from textual import events

    prompt = app.query_one(PromptInput)
    before = prompt.text
    started = time.perf_counter()
    prompt.post_message(events.Key("z", "z"))
    while prompt.text == before and time.perf_counter() - started < 5:
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


async def test_a_megabyte_reply_with_a_long_unbroken_line_emoji_and_rtl():
    line = "x" * 100_000
    chunk = ("🎲👍🏽 שלום مرحبا [red]x[/red] \x1b[2J\x1b]52;c;AAAA\x07\x00 " * 40 + "\n") * 4
    deltas = [line] + [chunk] * (1_000_000 // len(chunk))
    runner_model = ScriptedModel([text_step(deltas)])
    runner = TurnRunner(Agent(name="Flood", model=runner_model))
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "flood me")
        await wait_idle(pilot, timeout=60)
        reply = app.query_one(AssistantMessage)
        assert reply.status == "completed"
        assert len(reply.source) > 1_000_000
        assert "\x1b" not in reply.source and "\x00" not in reply.source
        assert await _responsive(app) < 0.5
        # the end of the reply comes into view (markup literal) once its last layout is done
        await wait_until(pilot, lambda: "[red]x[/red]" in pane_text(app, app.chat), "the end")
        chat = pane_text(app, app.chat)
        assert "\x1b" not in screen_text(app)
        assert "␛" in chat  # control characters shown as visible symbols


async def test_a_tool_that_raises_shows_a_failed_row_with_the_error():
    @function_tool(failure_error_function=lambda _c, e: f"Tool failed: {type(e).__name__}: {e}")
    def explode() -> str:
        """Always fails."""
        raise RuntimeError("the dice fell off the table")

    model = ScriptedModel(
        [parts_step([Call("explode", "call_x", ["{}"])]), text_step(["It broke."])]
    )
    runner = TurnRunner(Agent(name="Breaker", model=model, tools=[explode]))
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go")
        await wait_idle(pilot)
        row = app.timeline.rows_by_call["call_x"]
        assert row.status == "failed"
        assert "the dice fell off the table" in row.output
        shown = pane_text(app, app.timeline)
        assert "RuntimeError: the dice" in shown and "fell off the table" in shown
        assert row.look == "failed"  # drawn in the error colour


async def test_tool_output_with_escape_sequences_is_literal_in_the_timeline():
    @function_tool
    def shout() -> str:
        """Returns hostile text."""
        return "\x1b]0;pwned\x07[bold]loud[/bold]\x1b[31m"

    model = ScriptedModel([parts_step([Call("shout", "call_s", ["{}"])]), text_step(["ok"])])
    runner = TurnRunner(Agent(name="S", model=model, tools=[shout]))
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go")
        await wait_idle(pilot)
        timeline = pane_text(app, app.timeline)
        assert "␛]0;pwned␇[bold]loud[/bold]␛[31m" in timeline


async def test_a_megabyte_paste_is_refused_clearly_and_the_app_stays_responsive():
    from textual import events

    runner = TurnRunner(Agent(name="A", model=ScriptedModel([text_step(["fine"])])))
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.text = "my draft "
        prompt.move_cursor(prompt.document.end)
        started = time.perf_counter()
        prompt.post_message(events.Paste("word " * 220_000))  # 1.1 MB
        await wait_until(pilot, lambda: app._notifications, "the refusal notice")
        assert time.perf_counter() - started < 2
        assert prompt.text == "my draft "  # refused, and the draft is intact
        notices = [n.message for n in app._notifications]
        assert any("limit is 256,000" in m for m in notices)
        assert await _responsive(app) < 0.5
        # a large but acceptable paste (200 KB) is taken and sent
        prompt.post_message(events.Paste("y" * 200_000))
        await wait_until(pilot, lambda: len(prompt.text) > 200_000, "the paste")
        assert len(prompt.text) > 200_000
        prompt.submit()
        await wait_idle(pilot)
        assert app.query_one(AssistantMessage).source == "fine"


async def test_unknown_text_items_do_not_break_the_stream():
    model = ScriptedModel([parts_step([Text(["\u202eevil rtl override\u202c ", "tail"])])])
    runner = TurnRunner(Agent(name="A", model=model))
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "x")
        await wait_idle(pilot)
        assert app.query_one(AssistantMessage).source.endswith("tail")
