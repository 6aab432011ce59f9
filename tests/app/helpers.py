"""Drive the real app headless with a scripted model."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.scripts import runner_for
from tui.app import AgentsTuiApp
from tui.bench.harness import PaintedScreen
from tui.core.config import Settings
from tui.widgets.prompt import PromptInput

__all__ = ["PaintedScreen"]


def make_app(steps: list[Any], agent: str = "assistant", **kw: Any) -> tuple[AgentsTuiApp, Any]:
    runner, model = runner_for(steps, agent=agent, **kw)
    return AgentsTuiApp(Settings(agent=agent), runner=runner, backend_label="scripted"), model


async def send(pilot: Any, text: str) -> None:
    """Type ``text`` and press Enter (without waiting for the reply, as a person would)."""
    prompt = pilot.app.query_one(PromptInput)
    prompt.text = text
    prompt.focus()
    before = pilot.app.chat.message_count()
    prompt.submit()  # what Enter does; pilot.press would wait for the whole stream
    for _ in range(100):  # until the app has shown the prompt (slash commands show none)
        await asyncio.sleep(0.01)
        if text.startswith("/") or pilot.app.chat.message_count() > before:
            break


async def wait_idle(pilot: Any, timeout: float = 10.0) -> None:
    """Until no turn runs, nothing is queued, no paced text waits (``--pace``), and the last
    frame is painted."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    await pilot.pause()
    while app.turn_running or app.chat_screen.queue or app.chat_screen.pacing.waiting:
        if loop.time() > deadline:
            raise TimeoutError("the turn did not finish")
        await pilot.pause(0.02)
    await pilot.pause(0.05)


async def wait_until(
    pilot: Any, condition: Any, what: str = "a condition", timeout: float = 10.0
) -> None:
    """Until ``condition()`` is true (then one more frame); fail with the screen otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what}; screen:\n"
                + screen_text(pilot.app)
            )
        await pilot.pause(0.02)
    await pilot.pause()


async def wait_for_text(pilot: Any, text: str, timeout: float = 10.0) -> str:
    """Until ``text`` is on screen; returns the screen."""
    await wait_until(pilot, lambda: text in screen_text(pilot.app), f"{text!r} on screen", timeout)
    return screen_text(pilot.app)


def screen_text(app: AgentsTuiApp) -> str:
    """Everything visible on screen, as plain text, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def pane_text(app: AgentsTuiApp, widget: Any) -> str:
    """The visible text inside one widget's region of the screen."""
    region = widget.region
    lines = screen_text(app).split("\n")[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


def stepping_clock(step_ms: float = 10.0) -> Any:
    """A run clock that advances a fixed step per reading: metrics the same every run."""
    now = [0]

    def clock() -> int:
        now[0] += int(step_ms * 1_000_000)
        return now[0]

    return clock
