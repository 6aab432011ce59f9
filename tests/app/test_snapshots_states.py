"""SVG snapshots of every screen and state a person sees, built the way the CLI builds the app
(``AgentsTuiApp(settings, runner=...)``) with a stepping clock so numbers never drift."""

import pytest
from agents import RunConfig
from agents.exceptions import ModelBehaviorError

from tests import approval_agents as fx
from tests.app.helpers import make_app, pane_text, send, stepping_clock, wait_idle, wait_until
from tests.app.test_snapshots import _freeze_clock
from tests.scripts import broken_step, connection_error, game_master_steps, text_step
from tui.app import AgentsTuiApp
from tui.core.config import Settings
from tui.core.turn.runner import RetryPolicy, TurnRunner

SIZE = (140, 40)


async def _settle(pilot, app, *, sidebar: bool = False) -> None:
    await pilot.pause()
    _freeze_clock(app)
    app.status._shown = ""
    app.status._tick()  # repaint the status line without its clock
    await pilot.pause(0.2)
    app.chat.scroll_to(y=app.chat.max_scroll_y, animate=False, immediate=True)
    await pilot.pause(0.1)
    if sidebar:
        app.sidebar.display = True
        app.sidebar.render_now()
    await pilot.pause()


@pytest.mark.parametrize("theme", ["agents-dark", "agents-light", "agents-high-contrast"])
def test_snapshot_each_theme_with_a_reply(snap_compare, theme):
    app, _ = make_app([text_step(["**Bold** ", "and `code`."])], clock=stepping_clock())

    async def run_before(pilot):
        app.theme = theme
        await send(pilot, "show me the theme")
        await wait_idle(pilot)
        await _settle(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_help_screen(snap_compare):
    app, _ = make_app([])

    async def run_before(pilot):
        await _settle(pilot, app)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_sessions_screen(snap_compare):
    app, _ = make_app([text_step(["stored"])], clock=stepping_clock())

    async def run_before(pilot):
        await send(pilot, "a conversation to list")
        await wait_idle(pilot)
        for row in app.store.conversations():
            app.store.set_times(row.id, created_at=1_790_000_000.0, updated_at=1_790_000_000.0)
        await _settle(pilot, app)
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_quit_confirm_dialog(snap_compare):
    app, _ = make_app([])

    async def run_before(pilot):
        await _settle(pilot, app)
        await pilot.press("ctrl+c")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_narrow_layout(snap_compare):
    app, _ = make_app(game_master_steps(), agent="game-master", clock=stepping_clock())

    async def run_before(pilot):
        await send(pilot, "I climb the cliff")
        await wait_idle(pilot)
        await _settle(pilot, app)

    assert snap_compare(app, terminal_size=(100, 36), run_before=run_before)


def test_snapshot_sidebar_with_frozen_values(snap_compare):
    app, _ = make_app(game_master_steps(), agent="game-master", clock=stepping_clock())

    async def run_before(pilot):
        await send(pilot, "I climb the cliff")
        await wait_idle(pilot)
        await _settle(pilot, app, sidebar=True)

    assert snap_compare(app, terminal_size=(160, 45), run_before=run_before)


def test_snapshot_approval_request(snap_compare):
    runner = TurnRunner(
        fx.cleaner(),
        run_config=RunConfig(tracing_disabled=True),
        retry=RetryPolicy(max_attempts=1),
        clock=stepping_clock(),
    )
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")

    async def run_before(pilot):
        await send(pilot, "clean up")
        await wait_until(pilot, lambda: app.approval_bar.asking, "the approval bar")
        await wait_until(pilot, lambda: "awaiting approval" in pane_text(app, app.timeline))
        await _settle(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_failed_turn(snap_compare):
    app, _ = make_app(
        [ModelBehaviorError("the model called a tool that does not exist")], clock=stepping_clock()
    )

    async def run_before(pilot):
        await send(pilot, "do the impossible")
        await wait_idle(pilot)
        await _settle(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_recovered_turn(snap_compare):
    app, _ = make_app(
        [
            broken_step(["The ", "first ", "half "], connection_error()),
            text_step(["and the rest."]),
        ],
        clock=stepping_clock(),
    )

    async def run_before(pilot):
        await send(pilot, "tell me")
        await wait_idle(pilot)
        await _settle(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_dashboard(snap_compare):
    app, _ = make_app(
        [text_step(["one ", "two ", "three"]), text_step(["four ", "five"])],
        clock=stepping_clock(),
    )

    async def run_before(pilot):
        await send(pilot, "first")
        await wait_idle(pilot)
        await send(pilot, "second")
        await wait_idle(pilot)
        await _settle(pilot, app)
        await pilot.press("f2")
        from tui.screens.dashboard import DashboardScreen

        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await pilot.pause(0.2)  # the plots draw on the next refresh

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
