"""Tool approvals in the core: ask, approve, reject, always, several at once, cancel, resume."""

import asyncio
import json

from agents import RunConfig

from tests import approval_agents as fx
from tui.core import events as ev
from tui.core.observe.metrics import TurnMetrics
from tui.core.store import Store
from tui.core.turn.approvals import ApprovalDecision, ApprovalRequest, flag_approver
from tui.core.turn.runner import RetryPolicy, TurnRunner


def make_runner(agent=None) -> TurnRunner:
    return TurnRunner(
        agent or fx.cleaner(),
        run_config=RunConfig(tracing_disabled=True),
        retry=RetryPolicy(max_attempts=1),
    )


def scripted_approver(answers: list[ApprovalDecision], asked: list[ApprovalRequest]):
    async def decide(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request)
        await asyncio.sleep(0.05)  # a person takes time to answer
        return answers[len(asked) - 1]

    return decide


async def test_approve_and_reject_resume_the_same_turn():
    fx.DELETED.clear()
    runner = make_runner()
    asked: list[ApprovalRequest] = []
    runner.approver = scripted_approver([ApprovalDecision(True), ApprovalDecision(False)], asked)
    seen: list = []
    outcome = await runner.run("clean up", seen.append)
    assert outcome.status == "completed"
    # One turn: one start, one finish, and the reply holds both model messages.
    assert sum(isinstance(e, ev.TurnStarted) for e in seen) == 1
    assert sum(isinstance(e, ev.TurnFinished) for e in seen) == 1
    assert outcome.text == "Let me clean up.\n\nAll done. "
    assert [(r.tool_name, json.loads(r.arguments)["path"], r.index, r.total) for r in asked] == [
        ("delete_file", "a.txt", 1, 2),
        ("delete_file", "b.txt", 2, 2),
    ]
    assert asked[0].agent == "Cleaner"
    assert fx.DELETED == ["a.txt"]  # the rejected call never ran
    outputs = {e.call_id: e.output for e in seen if isinstance(e, ev.ToolCallFinished)}
    assert outputs["call_1"] == "deleted a.txt"
    assert "not approved" in outputs["call_2"]  # the SDK's rejection reaches the model
    resolved = [(e.call_id, e.approved, e.by) for e in seen if isinstance(e, ev.ApprovalResolved)]
    assert resolved == [("call_1", True, "user"), ("call_2", False, "user")]
    # The model's next call saw the rejection as the tool's output.
    assert "not approved" in str(runner.history)


async def test_waiting_for_a_person_is_not_model_latency():
    runner = make_runner()
    runner.approver = scripted_approver([ApprovalDecision(True)] * 2, [])

    async def slow(request: ApprovalRequest) -> ApprovalDecision:
        await asyncio.sleep(0.4)
        return ApprovalDecision(True)

    runner.approver = slow
    seen: list = []
    await runner.run("clean up", seen.append)
    metrics = TurnMetrics(started_ns=seen[0].at_ns)
    for event in seen:
        metrics.observe(event)
    summary = metrics.summary(seen[-1].at_ns)
    assert summary["approval_wait_s"] >= 0.75  # two answers of 0.4 s
    assert summary["elapsed_s"] >= 0.75
    assert metrics.ttft_s is not None and metrics.ttft_s < 0.3
    assert summary["approvals"] == 2


async def test_always_approves_the_tool_for_the_rest_of_the_conversation():
    fx.DELETED.clear()
    runner = make_runner(fx.cleaner(turns=2))
    asked: list[ApprovalRequest] = []
    runner.approver = scripted_approver([ApprovalDecision(True, always=True)], asked)
    seen: list = []
    await runner.run("clean up", seen.append)
    await runner.run("again", seen.append)
    assert len(asked) == 1  # asked once, then approved by "always"
    bys = [e.by for e in seen if isinstance(e, ev.ApprovalResolved)]
    assert bys == ["user", "always", "always", "always"]
    assert fx.DELETED == ["a.txt", "b.txt", "a.txt", "b.txt"]


async def test_no_approver_means_nothing_runs():
    fx.DELETED.clear()
    runner = make_runner()
    seen: list = []
    outcome = await runner.run("clean up", seen.append)
    assert outcome.status == "completed" and fx.DELETED == []
    assert {e.by for e in seen if isinstance(e, ev.ApprovalResolved)} == {"flag"}


async def test_flag_approver_approves_everything():
    fx.DELETED.clear()
    runner = make_runner()
    runner.approver = flag_approver(True)
    await runner.run("clean up", lambda e: None)
    assert fx.DELETED == ["a.txt", "b.txt"]


async def test_cancel_while_waiting_ends_the_turn_interrupted():
    fx.DELETED.clear()
    runner = make_runner()
    waiting = asyncio.Event()

    async def never(_request: ApprovalRequest) -> ApprovalDecision:
        waiting.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    runner.approver = never
    seen: list = []
    task = asyncio.create_task(runner.run("clean up", seen.append))
    await asyncio.wait_for(waiting.wait(), 5)
    runner.cancel()
    outcome = await asyncio.wait_for(task, 5)
    assert outcome.status == "interrupted"
    assert outcome.text == "Let me clean up."
    assert fx.DELETED == []
    assert isinstance(seen[-1], ev.TurnFinished) and seen[-1].status == "interrupted"


async def test_a_paused_turn_survives_the_process_and_finishes_after_approval(tmp_path):
    """Quit while an approval is pending, open the store again, approve: the turn finishes."""
    fx.DELETED.clear()
    store = Store(tmp_path / "db.sqlite")
    store.ensure_conversation("conv", agent="Cleaner")
    from tui.core.turn.conversation import Conversation

    waiting = asyncio.Event()

    async def person_leaves(_request: ApprovalRequest) -> ApprovalDecision:
        waiting.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def read(turn) -> list:
        return [event async for event in turn]

    first = Conversation(store, make_runner(), "conv", record=False, approver=person_leaves)
    task = asyncio.create_task(read(first.turn("clean up")))
    await asyncio.wait_for(waiting.wait(), 5)
    task.cancel()  # the app quits: its worker is cancelled mid-wait
    await asyncio.gather(task, return_exceptions=True)
    first.close()
    store.close()

    store = Store(tmp_path / "db.sqlite")  # a new process
    paused = store.paused_turn("conv")
    assert paused is not None
    turn, _state = paused
    assert turn.status == "awaiting_approval" and turn.reply == "Let me clean up."
    assert {t["approval"] for t in turn.tools} == {"pending"}

    second = make_runner(fx.cleaner([fx.two_calls_then_text()[1]]))
    conversation = Conversation(store, second, "conv", record=False, approver=flag_approver(True))
    seen = await read(conversation.turn(None))  # only the paused turn, finished
    outcome = seen[-1]
    assert isinstance(outcome, ev.TurnFinished)
    assert outcome.status == "completed", outcome
    assert outcome.final_text == "Let me clean up.\n\nAll done. "
    assert fx.DELETED == ["a.txt", "b.txt"]
    turns = store.turns("conv")
    assert len(turns) == 1 and turns[0].status == "completed"
    assert turns[0].reply == outcome.final_text
    assert {t["approval"] for t in turns[0].tools} == {"approved"}
    assert store.paused_turn("conv") is None
    memory = str(await second.session.get_items())
    assert "deleted a.txt" in memory and "All done." in memory
