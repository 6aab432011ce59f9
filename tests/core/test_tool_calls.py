"""Every transition of the tool-call model, from the run's events."""

from tui.core import events as ev
from tui.core.tool_calls import ToolCall, ToolCallLog


def test_a_call_streams_its_arguments_is_issued_and_finishes():
    log = ToolCallLog()
    call = log.apply(ev.ToolCallStarted("c1", "roll_dice", 1_000))
    assert call is not None and call.status == "running" and not call.issued
    log.apply(ev.ToolArgumentsDelta("c1", '{"sid', 2_000))
    log.apply(ev.ToolArgumentsDelta("c1", 'es": 20}', 3_000))
    assert call.arguments == '{"sides": 20}'
    assert log.stored() == []  # not issued yet: a cut stream stores no half call
    log.apply(ev.ToolCallIssued("c1", "roll_dice", '{"sides": 20}', 4_000, "mcp:dice"))
    log.apply(ev.ToolArgumentsDelta("c1", "late", 4_500))  # after issue: ignored
    assert call.issued and call.arguments == '{"sides": 20}' and call.source == "mcp:dice"
    log.apply(ev.ToolCallFinished("c1", "17", False, 1_001_000))
    assert call.status == "done" and call.output == "17"
    assert call.duration_s == 0.000997  # from its issue: the arguments' streaming is not its time
    assert log.stored() == [
        {
            "call_id": "c1",
            "name": "roll_dice",
            "arguments": '{"sides": 20}',
            "output": "17",
            "failed": False,
            "source": "mcp:dice",
        }
    ]


def test_a_failing_tool_is_failed():
    log = ToolCallLog()
    log.apply(ev.ToolCallIssued("c1", "roll_dice", "{}", 1))
    call = log.apply(ev.ToolCallFinished("c1", "Tool failed: ValueError: no", True, 2))
    assert call is not None and call.status == "failed"


def test_approval_asked_answered_and_rejected():
    log = ToolCallLog()
    asked = log.apply(ev.ApprovalRequested("c1", "delete_file", '{"p": "x"}', "Ops", 1, 2, 1))
    assert asked is not None and asked.status == "approval" and asked.agent == "Ops"
    assert asked.issued and asked.name == "delete_file"
    log.apply(ev.ApprovalResolved("c1", False, "user", 2))
    assert asked.status == "rejected" and asked.approved_by == "user"
    log.apply(ev.ToolCallFinished("c1", "Tool call rejected by the user", False, 3))
    assert asked.status == "rejected"  # the output is the SDK's refusal, not a result
    other = log.apply(ev.ApprovalRequested("c2", "send_mail", "{}", "Ops", 2, 2, 4))
    assert other is not None
    log.apply(ev.ApprovalResolved("c2", True, "always", 5))
    assert other.status == "running" and other.approval == "approved"
    assert log.apply(ev.ApprovalResolved("unknown", True, "user", 6)) is None


def test_a_pause_marks_every_issued_call_not_yet_run_as_waiting():
    log = ToolCallLog()
    log.apply(ev.ToolCallIssued("ran", "a", "{}", 1))
    log.apply(ev.ToolCallFinished("ran", "ok", False, 2))
    log.apply(ev.ToolCallIssued("waits", "b", "{}", 3))
    log.apply(ev.ToolCallStarted("cut", "c", 4))  # never issued
    log.pause()
    assert [c.status for c in log.calls.values()] == ["done", "approval", "running"]
    assert [row["call_id"] for row in log.stored()] == ["ran", "waits"]


def test_stored_calls_come_back_the_same():
    log = ToolCallLog()
    log.apply(ev.ApprovalRequested("c1", "delete_file", "{}", "Ops", 1, 1, 1))
    log.apply(ev.ApprovalResolved("c1", True, "user", 2))
    log.apply(ev.ToolCallFinished("c1", "deleted", False, 3))
    again = ToolCallLog.from_stored(log.stored())
    assert again.stored() == log.stored()
    assert again.get("c1") == ToolCall.from_stored(log.stored()[0])
    assert ToolCall.from_stored({"call_id": "x", "approval": "maybe"}).approval is None


def test_events_about_no_call_change_nothing():
    log = ToolCallLog()
    assert log.apply(ev.TextDelta("hi", 1)) is None and len(log) == 0
