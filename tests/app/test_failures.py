"""The app when things it depends on fail: the backend cannot start, a worker raises."""

import asyncio

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


async def test_a_worker_that_raises_fails_the_turn_with_one_message_and_the_app_goes_on():
    app, _ = make_app([text_step(["after ", "the ", "failure"])])
    original = app.runner.run
    calls = 0

    async def broken_once(prompt, emit):
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(0)
            raise RuntimeError("the runner broke its promise")
        return await original(prompt, emit)

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
