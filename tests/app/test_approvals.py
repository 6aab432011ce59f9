"""Tool approvals in the TUI: the bar, y / n / a / Y, Esc while waiting, quit and resume."""

import asyncio

from agents import RunConfig

from tests import approval_agents as fx
from tests.app.helpers import pane_text, send, wait_idle, wait_until
from tui.app import AgentsTuiApp
from tui.core import events as ev
from tui.core.config import Settings
from tui.core.store import Store
from tui.core.turn.runner import RetryPolicy, TurnRunner
from tui.messages import ApprovalAsked, RunEventPosted
from tui.widgets.approval_bar import ApprovalBar
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.prompt import PromptInput
from tui.widgets.timeline import TimelinePane

SIZE = (160, 45)


def cleaner_app(agent=None) -> AgentsTuiApp:
    runner = TurnRunner(
        agent or fx.cleaner(),
        run_config=RunConfig(tracing_disabled=True),
        retry=RetryPolicy(max_attempts=1),
    )
    return AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")


def run_events(seen: list) -> list:
    return [m.event for m in seen if isinstance(m, RunEventPosted)]


async def test_approve_one_and_reject_the_other_in_the_same_turn():
    fx.DELETED.clear()
    seen: list = []
    app = cleaner_app()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await send(pilot, "clean up")
        bar = app.query_one(ApprovalBar)
        await wait_until(pilot, lambda: bar.asking)
        assert app.focused is bar  # y / n never reach the prompt
        shown = pane_text(app, bar)
        assert "Cleaner wants to run delete_file (1 of 2)" in shown
        assert '{"path": "a.txt"}' in shown
        assert "y approve" in shown and "a always" in shown and "Y approve all 2" in shown
        timeline = pane_text(app, app.timeline)
        assert "⏸ delete_file" in timeline and "awaiting approval · asked by Cleaner" in timeline
        assert "waiting for your approval" in pane_text(app, app.status)
        await pilot.press("y")
        await wait_until(pilot, lambda: bar.asking and bar.request.index == 2)
        assert '{"path": "b.txt"}' in pane_text(app, bar)
        await pilot.press("n")
        await wait_idle(pilot)
        assert not bar.asking and app.focused is app.query_one(PromptInput)
        replies = app.query(AssistantMessage)
        assert len(replies) == 1  # one turn, one reply
        assert replies.first().source == "Let me clean up.\n\nAll done. "
        timeline = pane_text(app, app.timeline)
        assert "approved (user)" in timeline and "rejected (user)" in timeline
        assert "⊘ delete_file" in timeline
    assert fx.DELETED == ["a.txt"]
    events = run_events(seen)
    assert sum(isinstance(e, ev.TurnStarted) for e in events) == 1
    assert [type(m).__name__ for m in seen].count("ApprovalAsked") == 2
    stored = app.store.turns(app.conversation_id)
    assert [t["approval"] for t in stored[0].tools] == ["approved", "rejected"]


async def test_always_approves_the_tool_for_the_rest_of_the_conversation():
    fx.DELETED.clear()
    seen: list = []
    app = cleaner_app(fx.cleaner(turns=2))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await send(pilot, "clean up")
        bar = app.query_one(ApprovalBar)
        await wait_until(pilot, lambda: bar.asking)
        await pilot.press("a")
        await wait_idle(pilot)
        await send(pilot, "and again")
        await wait_idle(pilot)
        assert "approved (always)" in pane_text(app, app.timeline)
        assert app.store.always_approved(app.conversation_id) == {"delete_file"}
    assert sum(isinstance(m, ApprovalAsked) for m in seen) == 1
    assert fx.DELETED == ["a.txt", "b.txt", "a.txt", "b.txt"]


async def test_shift_y_approves_every_pending_call_at_once():
    fx.DELETED.clear()
    app = cleaner_app(fx.cleaner(fx.two_calls_then_text(("a", "b", "c"))))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "clean up")
        bar = app.query_one(ApprovalBar)
        await wait_until(pilot, lambda: bar.asking)
        assert "(1 of 3)" in pane_text(app, bar) and "Y approve all 3" in pane_text(app, bar)
        await pilot.press("Y")
        await wait_idle(pilot)
        assert not bar.asking
    assert fx.DELETED == ["a", "b", "c"]


async def test_escape_while_waiting_cancels_the_turn_and_keeps_the_text():
    fx.DELETED.clear()
    app = cleaner_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "clean up")
        bar = app.query_one(ApprovalBar)
        await wait_until(pilot, lambda: bar.asking)
        await pilot.press("escape")
        await wait_idle(pilot)
        assert not bar.asking
        reply = app.query_one(AssistantMessage)
        assert reply.status == "interrupted" and reply.source == "Let me clean up."
        assert "interrupted" in pane_text(app, app.chat)
        assert app.store.turns(app.conversation_id)[0].status == "interrupted"
        assert app.store.paused_turn(app.conversation_id) is None
    assert fx.DELETED == []


async def quit_while_waiting() -> tuple[str, AgentsTuiApp]:
    """A turn paused on two approvals, the app quit; and the app that resumes it (a new
    process: the model now only owes the reply that follows the tool results)."""
    fx.DELETED.clear()
    first = cleaner_app()
    async with first.run_test(size=SIZE) as pilot:
        await send(pilot, "clean up")
        bar = first.query_one(ApprovalBar)
        await wait_until(pilot, lambda: bar.asking)
        conversation = first.conversation_id
        await pilot.press("ctrl+q")
    assert conversation is not None and Store().paused_turn(conversation) is not None
    second = cleaner_app(fx.cleaner([fx.two_calls_then_text()[1]]))
    second.resume = True
    return conversation, second


async def test_quit_while_waiting_then_resume_offers_it_again_and_finishes_the_turn():
    conversation, second = await quit_while_waiting()
    async with second.run_test(size=SIZE) as pilot:
        bar = second.query_one(ApprovalBar)
        await wait_until(pilot, lambda: bar.asking)
        assert second.conversation_id == conversation
        assert "delete_file (1 of 2)" in pane_text(second, bar)
        # The stored prompt and partial reply are back on screen (after the layout settles).
        await wait_until(pilot, lambda: "clean up" in pane_text(second, second.chat))
        assert "Let me clean up." in pane_text(second, second.chat)
        await pilot.press("Y")
        await wait_idle(pilot)
        reply = second.query_one(AssistantMessage)
        assert reply.source == "Let me clean up.\n\nAll done. "
    turns = Store().turns(conversation)
    assert len(turns) == 1 and turns[0].status == "completed"
    assert turns[0].reply == "Let me clean up.\n\nAll done. "
    assert fx.DELETED == ["a.txt", "b.txt"]


async def test_resumed_approval_takes_the_keys_as_soon_as_the_call_is_on_screen():
    """The stored call is shown at once; the run is restored later (the bundled model loads
    for seconds): a ``y`` typed in between approves the call, it does not land in the prompt."""
    conversation, second = await quit_while_waiting()
    restore = second.runner.resume
    restored = asyncio.Event()

    async def slow_resume(*args, **kwargs):
        await asyncio.sleep(0.5)  # the model still loading
        restored.set()
        return await restore(*args, **kwargs)

    second.runner.resume = slow_resume  # type: ignore[method-assign]
    async with second.run_test(size=SIZE) as pilot:
        timeline = second.query_one(TimelinePane)
        await wait_until(pilot, lambda: "delete_file" in pane_text(second, timeline))
        assert not restored.is_set()
        await pilot.press("y")  # the first call, as soon as it is on screen
        await pilot.press("n")  # the second
        prompt = second.query_one(PromptInput)
        assert prompt.text == ""
        await wait_idle(pilot)
        assert restored.is_set()
        assert prompt.text == ""
    turns = Store().turns(conversation)
    assert turns[0].status == "completed"
    assert fx.DELETED == ["a.txt"]
    approvals = {t["name"] + t["arguments"]: t.get("approval") for t in turns[0].tools}
    assert sorted(approvals.values()) == ["approved", "rejected"]
