"""One attempt of a turn: stream ``Runner.run_streamed``, stop for approvals and resume the
same run, until it ends or fails.

Each SDK stream event goes, in order: ``drain`` (the stall timeout, the injected
faults) -> ``StreamAdapter.convert`` (the core's typed, timestamped events) -> ``deliver``
(the attempt's text so far; a new message of the turn starts a new paragraph) -> ``emit``
(the running turn's stream, ``tui.core.turn.stream``). ``TurnRunner`` (``runner.py``) runs
attempts, retries the ones that fail and ends the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from tui.core import events as ev
from tui.core.models.tap import TextTap, with_tap
from tui.core.turn.adapter import StreamAdapter
from tui.core.turn.approvals import ApprovalDecision, Approver, request_from_item
from tui.core.turn.errors import StreamStalled
from tui.core.turn.faults import FaultInjector
from tui.core.turn.growing_text import GrowingText

if TYPE_CHECKING:
    from agents import Agent, RunConfig, RunState
    from agents.items import ToolApprovalItem, TResponseInputItem
    from agents.result import RunResultStreaming

    from tui.core.turn.nested import NestedTracer

Emit = Callable[[ev.RunEvent], None]


class AttemptHost(Protocol):
    """What an attempt uses of its runner (``TurnRunner``)."""

    agent: Agent
    run_config: RunConfig | None
    max_turns: int
    stall_timeout_s: float
    clock: Callable[[], int]
    tracer: NestedTracer | None
    faults: FaultInjector | None
    approver: Approver | None
    always_approved: set[str]
    result: RunResultStreaming | None  # the running attempt's
    cancelled: asyncio.Event


@dataclass(slots=True)
class Attempt:
    """What one attempt produced before it ended, so the next one can carry it."""

    reply_text: GrowingText  # the whole turn's visible text so far, across attempts
    pending_text: GrowingText = field(default_factory=GrowingText)  # the message that broke
    raw_text: GrowingText = field(default_factory=GrowingText)  # as delivered, for the tap
    new_items: list[TResponseInputItem] = field(default_factory=list)
    tools_running: set[str] = field(default_factory=set)  # call ids issued, not yet answered
    faults_allowed: bool = False  # --inject-faults may cut this attempt (never the last)
    events: int = 0  # stream events of this attempt
    reported: list[int] = field(default_factory=lambda: [0, 0])  # usage in, out (this stream)


async def run_attempt(
    runner: AttemptHost,
    start: RunState | list[TResponseInputItem],
    emit: Emit,
    state: Attempt,
) -> None:
    """One attempt: stream, stop for approvals, resume the same run, until it ends.

    ``start`` is the input list, or a ``RunState`` restored with calls still pending.
    """
    from agents import RunConfig

    tap = TextTap()
    agent, run_config = with_tap(runner.agent, runner.run_config or RunConfig(), tap)
    if runner.tracer is not None:
        import dataclasses

        run_config = dataclasses.replace(run_config, tracing_disabled=False)
        runner.tracer.begin(emit)
    try:
        await run_attempt_stream(runner, agent, run_config, start, tap, emit, state)
    finally:
        if runner.tracer is not None:
            runner.tracer.end()


async def run_attempt_stream(
    runner: AttemptHost,
    agent: Agent,
    run_config: RunConfig,
    start: RunState | list[TResponseInputItem],
    tap: TextTap,
    emit: Emit,
    state: Attempt,
) -> None:
    from agents import Runner

    adapter = StreamAdapter()
    # a restored run with calls still pending: answer them before it goes on
    if not isinstance(start, list) and not await ask(
        runner, list(start.get_interruptions()), start, emit
    ):
        return
    result = Runner.run_streamed(agent, start, run_config=run_config, max_turns=runner.max_turns)
    runner.result = result
    if runner.cancelled.is_set():
        result.cancel()
    try:
        while True:
            await drain(runner, result, adapter, emit, state)
            interruptions = list(getattr(result, "interruptions", None) or [])
            if not interruptions or runner.cancelled.is_set():
                break
            run_state = result.to_state()
            if not await ask(runner, interruptions, run_state, emit):
                break
            result = Runner.run_streamed(
                agent, run_state, run_config=run_config, max_turns=runner.max_turns
            )
            runner.result = result
    except Exception:
        # Words the provider sent that the SDK dropped with its queue are shown now.
        raw_text = str(state.raw_text)
        if tap.text.startswith(raw_text) and len(tap.text) > len(raw_text):
            missing = tap.text[len(raw_text) :]
            deliver(runner, ev.TextDelta(missing, runner.clock()), state, emit)
        # Completed items (tool calls and their outputs) are carried into the retry.
        state.new_items = input_items(runner.result)
        raise
    except BaseException:
        state.new_items = input_items(runner.result)
        raise


async def drain(
    runner: AttemptHost,
    result: RunResultStreaming,
    adapter: StreamAdapter,
    emit: Emit,
    state: Attempt,
) -> None:
    """One SDK stream to its end: each event converted and delivered in order; then the
    tokens the run used that no stream event reported (an agent used as a tool runs its
    own model calls), counted with the turn."""
    stream = result.stream_events().__aiter__()
    state.tools_running.clear()
    state.reported = [0, 0]
    while True:
        # A running tool is the agent's own code, not a silent provider: it may take
        # as long as it needs (Esc still cancels it), so no stall is counted meanwhile.
        timeout = None if state.tools_running else runner.stall_timeout_s
        try:
            # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 wait_for wraps each
            # event in a task, so the turn took one event per loop iteration while the
            # model stream parsed for 4 ms an iteration (82 events/s behind a slow
            # API client, a backlog growing without bound).
            async with asyncio.timeout(timeout):
                sdk_event = await stream.__anext__()
        except StopAsyncIteration:
            break
        except TimeoutError:
            result.cancel()
            raise StreamStalled(
                f"no event for {runner.stall_timeout_s:g} s; abandoned the stream"
            ) from None
        at_ns = runner.clock()
        if sdk_event.type == "agent_updated_stream_event":
            runner.agent = sdk_event.new_agent
        for event in adapter.convert(sdk_event, at_ns):
            deliver(runner, event, state, emit)
        state.events += 1
        if (
            runner.faults is not None
            and state.faults_allowed
            and runner.faults.strikes(state.events)
        ):
            result.cancel()  # dropped as a cut connection would be
            raise runner.faults.fault()
    usage = getattr(getattr(result, "context_wrapper", None), "usage", None)
    extra_in = int(getattr(usage, "input_tokens", 0) or 0) - state.reported[0]
    extra_out = int(getattr(usage, "output_tokens", 0) or 0) - state.reported[1]
    if state.reported != [0, 0] and (extra_in > 0 or extra_out > 0):
        extra_in, extra_out = max(0, extra_in), max(0, extra_out)
        emit(ev.UsageReported(extra_in, extra_out, extra_in + extra_out, runner.clock()))


def deliver(runner: AttemptHost, event: ev.RunEvent, state: Attempt, emit: Emit) -> None:
    if isinstance(event, ev.TextDelta):
        state.raw_text.append(event.text)
        if state.reply_text and not state.pending_text:
            # A new message in the same turn starts a new paragraph.
            event = ev.TextDelta("\n\n" + event.text, event.at_ns)
        state.pending_text.append(event.text)
        state.reply_text.append(event.text)
    elif isinstance(event, ev.MessageCompleted):
        state.pending_text = GrowingText()
    elif isinstance(event, ev.ToolCallIssued):
        state.tools_running.add(event.call_id)
        emit(event)
        if runner.tracer is not None:  # nested rows held until their parent row exists
            runner.tracer.issued(event.call_id, event.name, event.arguments)
        return
    elif isinstance(event, ev.ToolCallFinished):
        state.tools_running.discard(event.call_id)
    elif isinstance(event, ev.UsageReported):
        state.reported[0] += event.input_tokens
        state.reported[1] += event.output_tokens
    emit(event)


async def ask(
    runner: AttemptHost, items: list[ToolApprovalItem], run_state: RunState, emit: Emit
) -> bool:
    """Get an answer for every pending call; False if the person cancelled the turn."""
    import json

    paused_ns = runner.clock()
    emit(ev.RunPaused(json.dumps(run_state.to_json()), len(items), paused_ns))
    for index, item in enumerate(items, 1):
        request = request_from_item(item, index, len(items))
        emit(
            ev.ApprovalRequested(
                request.call_id,
                request.tool_name,
                request.arguments,
                request.agent,
                index,
                len(items),
                runner.clock(),
            )
        )
        decision: ApprovalDecision | None
        if request.tool_name in runner.always_approved:
            decision = ApprovalDecision(True, by="always")
        elif runner.approver is None:
            decision = ApprovalDecision(False, by="flag")
        else:
            decision = await answer_or_cancel(runner, runner.approver(request))
        if decision is None:
            return False
        if decision.approved:
            if decision.always:
                runner.always_approved.add(request.tool_name)
            run_state.approve(item, always_approve=decision.always)
        else:
            run_state.reject(item)
        emit(
            ev.ApprovalResolved(
                request.call_id, decision.approved, decision.by, runner.clock(), decision.always
            )
        )
    now = runner.clock()
    emit(ev.RunResumed((now - paused_ns) / 1e9, now))
    return True


async def answer_or_cancel(
    runner: AttemptHost, answer: Awaitable[ApprovalDecision]
) -> ApprovalDecision | None:
    """The approver's answer, or None when Esc (cancel) came first."""
    answer_task = asyncio.ensure_future(answer)
    cancel_task = asyncio.ensure_future(runner.cancelled.wait())
    try:
        await asyncio.wait({answer_task, cancel_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancel_task.cancel()
    if not answer_task.done() or answer_task.cancelled():
        answer_task.cancel()
        return None
    decision: ApprovalDecision = answer_task.result()
    return decision


def input_items(result: RunResultStreaming | None) -> list[TResponseInputItem]:
    """A result's items as model input; approval placeholders are not input."""
    if result is None:
        return []
    return [
        compact_input_item(item.to_input_item())
        for item in result.new_items
        if getattr(item, "type", None) != "tool_approval_item"
    ]


_MESSAGE_KEYS = frozenset({"id", "content", "role", "status", "type", "provider_data"})
_TEXT_PART_KEYS = frozenset({"annotations", "text", "type", "logprobs"})
# Which model and response a message came from: the SDK's own session store drops it too.
_SOURCE_KEYS = frozenset({"model", "response_id"})


def compact_input_item(item: TResponseInputItem) -> TResponseInputItem:
    """A plain assistant reply as ``{"role": "assistant", "content": text}``.

    The SDK deep-copies and re-dumps the whole input list on every turn (and the store
    parses it back), so the size of each remembered item is paid once per turn for the
    rest of the conversation. An output message with one plain text part says nothing
    more than its text: the nested form costs about four times as much to copy. Messages
    with annotations, log-probabilities, several parts or unknown fields are kept whole.
    """
    if not isinstance(item, dict) or item.get("type") != "message":
        return item
    content = item.get("content")
    if item.get("role") != "assistant" or not item.keys() <= _MESSAGE_KEYS:
        return item
    source = item.get("provider_data", {})
    if not isinstance(source, dict) or not source.keys() <= _SOURCE_KEYS:
        return item
    if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
        return item
    part = content[0]
    if (
        part.get("type") != "output_text"
        or not part.keys() <= _TEXT_PART_KEYS
        or part.get("annotations")
        or part.get("logprobs")
        or not isinstance(part.get("text"), str)
    ):
        return item
    return {"role": "assistant", "content": part["text"]}
