"""The app when things it depends on fail: the backend cannot start, a worker raises."""

import asyncio
import time

from tests.app.helpers import make_app, pane_text, screen_text, send, wait_idle, wait_until
from tests.scripts import text_step
from tui.app import AgentsTuiApp
from tui.core.config import Settings
from tui.widgets.user_message import UserMessage


async def test_a_backend_that_cannot_start_is_a_message_and_prompts_are_refused():
    app = AgentsTuiApp(Settings(agent="nosuch_module:agent"))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_until(  # the SDK loads after the first frame
            pilot, lambda: app.backend_label == "unavailable", "the backend to fail", 15
        )
        chat = pane_text(app, app.chat)
        assert "Cannot start the model backend" in chat
        assert "cannot import module 'nosuch_module'" in chat
        assert "backend unavailable" in pane_text(app, app.status)
        await send(pilot, "hello?")
        await wait_until(pilot, lambda: app._notifications, "the refusal notice")
        assert len(app.query(UserMessage)) == 0  # refused with a notice, nothing queued forever
        assert any("No model backend" in n.message for n in app._notifications)
        assert "Traceback" not in screen_text(app)


async def test_text_shown_just_before_a_worker_raises_is_kept_in_the_failed_reply():
    """The last few milliseconds of text wait to be posted together; a worker that raises
    right after them still leaves them in the reply it fails."""
    from tui.core import events as ev

    app, _ = make_app([])

    async def emits_then_raises(prompt, emit, *_rest):
        emit(ev.TurnStarted(prompt, "assistant", 0))
        emit(ev.TextDelta("the first words ", 1))  # after a quiet spell: posted at once
        await asyncio.sleep(0.05)
        app.chat_screen.text._posted_at = time.monotonic()  # as if a batch had just gone
        emit(ev.TextDelta("and the last", 2))  # so this one waits (<= 5 ms) to be posted
        for _ in range(3):  # the turn's stream hands it to the screen (a loop iteration)
            await asyncio.sleep(0)
        assert app.chat_screen.text._timer is not None
        raise RuntimeError("the runner broke its promise")

    app.runner.run = emits_then_raises
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "go")
        await wait_idle(pilot)
        await pilot.pause(0.05)
        shown = pane_text(app, app.chat)
        assert "the first words and the last" in shown, shown
        assert "Internal error" in shown and "Traceback" not in screen_text(app)


async def test_text_of_a_message_queued_behind_the_failure_is_taken_once():
    """When the batch's message was already queued (behind the worker's failure), the
    failed reply takes the text and the message arrives with nothing to add."""
    app, _ = make_app([])
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_idle(pilot)
        app.chat_screen.text.batch = ["late words"]
        app.chat_screen.text.flush()  # queued, not yet handled
        assert app.chat_screen.text.take() == "late words"
        assert app.chat_screen.text.take() == ""
        await pilot.pause()
        assert "writing" not in pane_text(app, app.status)


async def test_a_worker_that_raises_fails_the_turn_with_one_message_and_the_app_goes_on():
    app, _ = make_app([text_step(["after ", "the ", "failure"])])
    original = app.runner.run
    calls = 0

    async def broken_once(prompt, emit, *rest):
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(0)
            raise RuntimeError("the runner broke its promise")
        return await original(prompt, emit, *rest)

    app.runner.run = broken_once
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "first")
        await wait_idle(pilot)
        shown = pane_text(app, app.chat)
        assert "Internal error" in shown and "RuntimeError: the runner broke its promise" in shown
        assert not app.turn_running
        await send(pilot, "second")
        await wait_idle(pilot)
        assert "after the failure" in pane_text(app, app.chat)
        assert "Traceback" not in screen_text(app)
