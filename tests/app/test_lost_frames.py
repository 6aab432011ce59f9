"""Frames written while the local model loads are lost (llama-cpp-python points fds 1 and 2
at /dev/null for the load, docs/upstream.md): once it is loaded the screen is whole again."""

from tests.app.helpers import make_app, wait_idle, wait_until
from tui.bench.harness import PaintedScreen
from tui.messages import ModelLoaded

SIZE = (160, 45)


async def test_a_conversation_opened_while_the_model_loads_is_on_the_terminal_after(tmp_path):
    from tui.core.store import Store

    store = Store(tmp_path / "s.db")
    store.ensure_conversation("old", agent="Assistant", model="test")
    turn = store.start_turn("old", "where did we stop?")
    store.finish_turn(
        turn,
        reply="We stopped at the ANCIENT-BRIDGE.",
        status="completed",
        error=None,
        tools=[],
        metrics={},
    )
    app, _ = make_app([])
    app.store = store
    painted = PaintedScreen(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(pilot)
        assert "Type a message" in painted.text()  # the greeting is on the terminal
        drop = app._display
        app._display = lambda screen, renderable: None  # the load: frames go to /dev/null
        app.open_conversation("old")
        await wait_until(pilot, lambda: app.chat.message_count() == 2, "the reopened turn")
        await pilot.pause(0.2)
        app._display = drop
        assert "ANCIENT-BRIDGE" not in painted.text()  # what the person saw: the old frame
        app.post_message(ModelLoaded(0.0))
        await wait_until(pilot, lambda: "ANCIENT-BRIDGE" in painted.text(), "the repaint")
        assert "Type a message" not in painted.text()
