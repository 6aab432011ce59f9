"""SVG snapshots of the main screen in distinct states (pytest-textual-snapshot)."""

from tests.app.helpers import make_app, send, stepping_clock, wait_idle
from tests.scripts import game_master_steps, text_step

SIZE = (140, 40)


def _freeze_clock(app):
    """Elapsed times and rates differ run to run; snapshots must not."""
    from tui.widgets.metrics import MetricsSidebar
    from tui.widgets.prompt import PromptInput
    from tui.widgets.status_line import StatusLine

    app.query_one(PromptInput).cursor_blink = False
    app.query_one(StatusLine).since = None
    app.query_one(MetricsSidebar).display = False
    for row in app.timeline.rows:
        if row.duration_s is not None:
            row.duration_s = 0.004
            row.refresh_row()


def test_snapshot_empty_screen(snap_compare):
    app, _ = make_app([])

    async def run_before(pilot):
        _freeze_clock(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_after_game_master_turn(snap_compare):
    app, _ = make_app(game_master_steps(), agent="game-master", clock=stepping_clock())

    async def run_before(pilot):
        await send(pilot, "I climb the cliff")
        await wait_idle(pilot)
        _freeze_clock(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_error_and_markdown(snap_compare):
    from agents.exceptions import ModelBehaviorError

    app, _ = make_app(
        [
            text_step(["## Plan\n\n", "1. first\n", "2. second\n"]),
            ModelBehaviorError("bad tool call"),
        ],
        clock=stepping_clock(),
    )

    async def run_before(pilot):
        await send(pilot, "plan it")
        await wait_idle(pilot)
        await send(pilot, "again")
        await wait_idle(pilot)
        _freeze_clock(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
