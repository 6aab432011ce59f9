"""One conversational turn: drain ``Runner.run_streamed``, cancel, retry and recover.

``TurnRunner.events(prompt)`` is the turn as a stream of the core's events
(``tui.core.turn.stream.RunningTurn``); the conversation (``tui.core.turn.conversation``)
iterates it through its stages. Inside, ``run`` is the only place the SDK's runner is
driven: each attempt drains ``Runner.run_streamed`` (``_drain_events``: SDK event ->
``StreamAdapter`` -> ``_deliver``), stops for approvals (``_ask``), and retries what failed
(``_drive``), so the TUI, the headless ``run`` command, the API, recordings and tests all
see exactly the same sequence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.core import events as ev
from tui.core.models.tap import TextTap, with_tap
from tui.core.turn.adapter import StreamAdapter
from tui.core.turn.approvals import ApprovalDecision, Approver, request_from_item
from tui.core.turn.budget import ContextBudget, Fitted, context_overflow, is_message
from tui.core.turn.errors import Classified, StreamStalled, classify, guardrail_of
from tui.core.turn.faults import FaultInjector
from tui.core.turn.growing_text import GrowingText
from tui.core.turn.stream import RunningTurn

Emit = Callable[[ev.RunEvent], None]
Clock = Callable[[], int]

CONTINUE_INSTRUCTION = (
    "The connection dropped while you were writing the reply above. Continue it exactly "
    "where it stopped: do not repeat any text already written and do not comment on the "
    "interruption."
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Defaults from the source tutorial's ``ResilientStreamingSystem``: 3 attempts in all,
    waiting ``base x 2^attempt`` after each failed one (2 s, then 4 s), at most 10 s."""

    max_attempts: int = 3
    base_delay_s: float = 1.0
    multiplier: float = 2.0
    max_delay_s: float = 10.0

    def delay_s(self, failed_attempts: int, retry_after_s: float | None = None) -> float:
        delay = min(self.base_delay_s * self.multiplier**failed_attempts, self.max_delay_s)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, 60.0))
        return delay


@dataclass(slots=True)
class TurnOutcome:
    status: ev.TurnStatus
    text: str
    attempts: int = 1
    error: Classified | None = None
    recovered: bool = False


@dataclass(slots=True)
class _Attempt:
    """What one attempt produced before it ended, so the next one can carry it."""

    reply_text: GrowingText  # the whole turn's visible text so far, across attempts
    pending_text: GrowingText = field(default_factory=GrowingText)  # the message that broke
    raw_text: GrowingText = field(default_factory=GrowingText)  # as delivered, for the tap
    new_items: list[Any] = field(default_factory=list)
    tools_running: set[str] = field(default_factory=set)  # call ids issued, not yet answered
    faults_allowed: bool = False  # --inject-faults may cut this attempt (never the last)
    events: int = 0  # stream events of this attempt


class TurnRunner:
    """Holds the conversation's input list and runs turns against one agent."""

    def __init__(
        self,
        agent: Any,
        *,
        run_config: Any = None,
        max_turns: int = 10,
        retry: RetryPolicy | None = None,
        stall_timeout_s: float = 30.0,
        clock: Clock = time.perf_counter_ns,
        session: Any = None,
        budget: ContextBudget | None = None,
        faults: FaultInjector | None = None,
        mcp: Any = None,
        tracer: Any = None,
    ) -> None:
        self.agent = agent
        self.run_config = run_config
        self.max_turns = max_turns
        self.retry = retry or RetryPolicy()
        self.stall_timeout_s = stall_timeout_s
        self.clock = clock
        self.session = session
        self.history: list[Any] = []
        # Who answers tool approvals; without one every call that needs approval is refused.
        self.approver: Approver | None = None
        # Tools the person approved for the rest of the conversation ("a" in the bar).
        self.always_approved: set[str] = set()
        self.mcp: Any = mcp  # McpHub for the agent's MCP servers, connected before turn 1
        self.tracer: Any = tracer  # NestedTracer: rows for agents used as tools
        # What of the history fits the model's window; None sends it all (and still trims
        # once by itself if the model refuses a request as too long).
        self.budget = budget if budget is not None else ContextBudget()
        self.faults = faults  # --inject-faults: the tutorial's demo
        self.last_context: Fitted | None = None  # what the last request carried (/context)
        self._result: Any = None
        self._cancelled = asyncio.Event()
        self._mcp_task: asyncio.Future[list[str]] | None = None

    def for_session(self, agent: Any, budget: ContextBudget) -> TurnRunner:
        """A runner for another conversation of this process: the same backend, retry
        policy, MCP servers (connected once, for every session) and stream of injected
        faults; its own agent (``None``: this one's), history and context budget."""
        sibling = TurnRunner(
            self.agent if agent is None else agent,
            run_config=self.run_config,
            max_turns=self.max_turns,
            retry=self.retry,
            stall_timeout_s=self.stall_timeout_s,
            clock=self.clock,
            budget=budget,
            faults=self.faults,
            mcp=self.mcp,
        )
        sibling._mcp_task = self._mcp_task
        return sibling

    @property
    def agent_name(self) -> str:
        return str(getattr(self.agent, "name", "agent"))

    def cancel(self) -> None:
        """Stop the running turn; ``run`` keeps draining the SDK stream and then returns."""
        self._cancelled.set()
        if self._result is not None:
            self._result.cancel()

    def reset(self) -> None:
        self.history = []
        self.always_approved = set()
        self.last_context = None
        self.budget.reset()

    # --- bound to one conversation (``Conversation`` calls these) ---------------------------
    def begin_conversation(
        self, memory: Any, *, always_approved: set[str], approver: Approver | None = None
    ) -> None:
        """Talk within a conversation from now on: its memory (the SDK session the model
        reads and writes), the tools approved for good in it, and who answers approvals."""
        self.session = memory
        self.reset()
        self.always_approved = set(always_approved)
        if approver is not None:
            self.approver = approver

    def end_conversation(self) -> None:
        memory, self.session = self.session, None
        if memory is not None and hasattr(memory, "close"):
            memory.close()

    def events(self, prompt: str) -> RunningTurn:
        """The turn for ``prompt`` as a stream of events (started when first iterated)."""
        return RunningTurn(lambda emit: self.run(prompt, emit))

    def resumed(self, paused: Any) -> RunningTurn:
        """A turn stored while it waited for approvals (``PausedTurn``), finished."""
        turn = paused.turn
        return RunningTurn(lambda emit: self.resume(paused.state, turn.prompt, turn.reply, emit))

    async def run(self, prompt: str, emit: Emit) -> TurnOutcome:
        """Run one turn to its end (completed, interrupted or failed); never raises."""
        self._cancelled = asyncio.Event()
        self._finished_event: ev.TurnFinished | None = None
        try:
            user_item = {"role": "user", "content": prompt}
            if self.session is not None:
                # The stored conversation is the model's memory; the prompt is kept before
                # the run starts so that a crash mid-turn cannot lose it.
                self.history = list(await self.session.get_items())
                await self.session.add_items([user_item])
        except Exception as error:
            emit(ev.TurnStarted(prompt, self.agent_name, self.clock()))
            failure = classify(error)
            emit(ev.RunFailed(failure.kind, failure.message, self.clock()))
            outcome = self._finish(emit, "failed", "", None, 0, failure)
            if self._finished_event is not None:
                emit(self._finished_event)
                self._finished_event = None
            return outcome
        emit(ev.TurnStarted(prompt, self.agent_name, self.clock()))
        await self._mcp_ready(emit)
        return await self._drive([*self.history, user_item], None, "", emit)

    async def prepare(self) -> list[str]:
        """Connect the MCP servers not connected yet (front ends start it early; a switch
        of agent brings new ones); one line per failure.

        A second caller waits for the connect under way and gets no lines: the first
        caller reports them."""
        if self.mcp is None:
            return []
        if self._mcp_task is not None and not self._mcp_task.done():
            await asyncio.shield(self._mcp_task)
            if not self.mcp.pending:
                return []
        if self._mcp_task is None or self.mcp.pending:
            self._mcp_task = asyncio.ensure_future(self.mcp.start())
            problems: list[str] = await asyncio.shield(self._mcp_task)
            return problems
        return []

    def switch_agent(self, agent: Any) -> None:
        """Talk to ``agent`` from the next turn on. MCP servers attached from flags stay
        attached; the new agent's own servers connect at the next ``prepare`` (the front end
        calls it at once to report failures; the next turn would)."""
        from tui.core.models.mcp import McpHub

        if self.mcp is None:
            hub = McpHub(agent)
            self.mcp = hub if hub.needed else None
        else:
            agent = self.mcp.switch(agent)
        self.agent = agent

    async def close(self) -> None:
        if self.mcp is not None:
            await self.mcp.close()

    async def _mcp_ready(self, emit: Emit) -> None:
        if self.mcp is None:
            return
        if self._mcp_task is None or not self._mcp_task.done() or self.mcp.pending:
            problems = await self.prepare()
        else:
            problems = await self.mcp.check()
        for line in problems:
            emit(ev.RunFailed("mcp", line, self.clock()))

    async def resume(
        self, state_json: str, prompt: str, reply_so_far: str, emit: Emit
    ) -> TurnOutcome:
        """Finish a turn stored while it waited for approvals (after a restart); never raises."""
        import json

        from agents import RunConfig, RunState

        self._cancelled = asyncio.Event()
        self._finished_event = None
        emit(ev.TurnStarted(prompt, self.agent_name, self.clock(), resumed=True))
        await self._mcp_ready(emit)
        try:
            agent, _ = with_tap(self.agent, self.run_config or RunConfig(), TextTap())
            run_state = await RunState.from_json(agent, json.loads(state_json))
            original = run_state._original_input
            base_input = (
                list(original)
                if isinstance(original, list)
                else [{"role": "user", "content": str(original)}]
            )
        except Exception as error:
            failure = classify(error)
            emit(
                ev.RunFailed(
                    failure.kind, f"cannot restore the paused run: {failure.message}", self.clock()
                )
            )
            outcome = self._finish(emit, "failed", reply_so_far, None, 0, failure)
            if self._finished_event is not None:
                emit(self._finished_event)
                self._finished_event = None
            return outcome
        return await self._drive(base_input, run_state, reply_so_far, emit)

    async def _drive(
        self, base_input: list[Any], paused: Any, reply_text: str, emit: Emit
    ) -> TurnOutcome:
        """Attempts, retries and the end of one turn; ``paused`` is a restored RunState."""
        carried: list[Any] = []
        pending_text = ""
        attempt = 0
        last_error: Classified | None = None
        overflow_retried = False
        try:
            while True:
                attempt += 1
                scaffolding: list[Any] = []
                if pending_text:
                    scaffolding = [
                        {"role": "assistant", "content": pending_text},
                        {"role": "user", "content": CONTINUE_INSTRUCTION},
                    ]
                run_input = self._fit([*base_input, *carried], scaffolding, emit)
                state = _Attempt(GrowingText(reply_text), GrowingText(pending_text))
                state.faults_allowed = attempt < self.retry.max_attempts
                start: Any = paused if paused is not None else run_input
                paused = None  # a retry starts from what was carried, not the old pause
                try:
                    await self._attempt(start, emit, state)
                except Exception as error:  # every failure is classified and shown
                    overflow, window = context_overflow(error)
                    if (
                        overflow
                        and not overflow_retried
                        and not self._cancelled.is_set()
                        and not str(state.reply_text)[len(reply_text) :]
                        and self._shrink(window, emit)
                    ):
                        # Too long for the model: trim and try again, not a failure.
                        overflow_retried = True
                        carried += state.new_items
                        attempt -= 1
                        continue
                    last_error = classify(error)
                    if overflow:
                        last_error = Classified(
                            "context",
                            "The newest prompt alone does not fit the model's context window"
                            f"{f' ({window:,} tokens)' if window else ''}: "
                            "shorten it, or use a model with a larger window.",
                        )
                    if last_error.kind == "guardrail":
                        name, stage = guardrail_of(error)
                        emit(ev.GuardrailTripped(name, stage, self.clock()))
                    emit(ev.RunFailed(last_error.kind, last_error.message, self.clock()))
                    carried += state.new_items
                    pending_text = str(state.pending_text)
                    reply_text = str(state.reply_text)
                    if self._cancelled.is_set():
                        return self._finish(emit, "interrupted", reply_text, base_input, attempt)
                    if not last_error.transient or attempt >= self.retry.max_attempts:
                        outcome = self._finish(
                            emit, "failed", reply_text, base_input, attempt, last_error
                        )
                        return outcome
                    delay = self.retry.delay_s(attempt, last_error.retry_after_s)
                    emit(
                        ev.RetryScheduled(
                            attempt + 1,
                            self.retry.max_attempts,
                            delay,
                            last_error.kind,
                            last_error.message,
                            self.clock(),
                        )
                    )
                    if await self._wait_or_cancel(delay):
                        return self._finish(emit, "interrupted", reply_text, base_input, attempt)
                    continue
                reply_text = str(state.reply_text)
                if self._cancelled.is_set():
                    return self._finish(emit, "interrupted", reply_text, base_input, attempt)
                self.history = self._history_after_success(base_input, carried, pending_text)
                reply_text, structured = self._structured_reply(reply_text)
                outcome = self._finish(
                    emit, "completed", reply_text, None, attempt, structured=structured
                )
                outcome.recovered = attempt > 1
                return outcome
        finally:
            self._result = None
            try:
                if self.session is not None:
                    await self.session.add_items(self.history[len(base_input) :])
            finally:
                if self._finished_event is not None:
                    emit(self._finished_event)
                    self._finished_event = None

    def _fit(self, items: list[Any], tail: list[Any], emit: Emit) -> list[Any]:
        """The input one request carries: the newest turns that fit the model's window."""
        fitted = self.budget.fit(items, fixed=_fixed_text(self.agent), tail=tail)
        self.last_context = fitted
        emit(
            ev.ContextFitted(
                fitted.tokens,
                fitted.window,
                sum(1 for item in fitted.items if is_message(item)),
                fitted.dropped_turns,
                fitted.dropped_messages,
                fitted.reason if fitted.trimmed else "",
                fitted.counted,
                self.clock(),
            )
        )
        return fitted.items

    def _shrink(self, window: int | None, emit: Emit) -> bool:
        """The model refused the request as too long: learn its window for the rest of the
        conversation. False when nothing older is left to drop."""
        last = self.last_context
        if last is None or last.turns_sent <= 1:
            return False  # the newest prompt alone: nothing older to leave out
        self.budget.learn_window(window, last.tokens)
        emit(
            ev.ContextFitted(
                last.tokens,
                self.budget.window,
                sum(1 for item in last.items if is_message(item)),
                last.dropped_turns,
                last.dropped_messages,
                "overflow",
                self.budget.counted,
                self.clock(),
            )
        )
        return True

    async def _attempt(self, start: Any, emit: Emit, state: _Attempt) -> None:
        """One attempt: stream, stop for approvals, resume the same run, until it ends.

        ``start`` is the input list, or a ``RunState`` restored with calls still pending.
        """
        from agents import RunConfig

        tap = TextTap()
        agent, run_config = with_tap(self.agent, self.run_config or RunConfig(), tap)
        if self.tracer is not None:
            import dataclasses

            run_config = dataclasses.replace(run_config, tracing_disabled=False)
            self.tracer.begin(emit)
        try:
            await self._run_attempt(agent, run_config, start, tap, emit, state)
        finally:
            if self.tracer is not None:
                self.tracer.end()

    async def _run_attempt(
        self, agent: Any, run_config: Any, start: Any, tap: TextTap, emit: Emit, state: _Attempt
    ) -> None:
        from agents import Runner

        adapter = StreamAdapter()
        run_state: Any = None
        if not isinstance(start, list):
            run_state = start
            if not await self._ask(list(run_state.get_interruptions()), run_state, emit):
                return
            start = run_state
        result = Runner.run_streamed(agent, start, run_config=run_config, max_turns=self.max_turns)
        self._result = result
        if self._cancelled.is_set():
            result.cancel()
        try:
            while True:
                await self._drain(result, adapter, emit, state)
                interruptions = list(getattr(result, "interruptions", None) or [])
                if not interruptions or self._cancelled.is_set():
                    break
                run_state = result.to_state()
                if not await self._ask(interruptions, run_state, emit):
                    break
                result = Runner.run_streamed(
                    agent, run_state, run_config=run_config, max_turns=self.max_turns
                )
                self._result = result
        except Exception:
            # Words the provider sent that the SDK dropped with its queue are shown now.
            raw_text = str(state.raw_text)
            if tap.text.startswith(raw_text) and len(tap.text) > len(raw_text):
                missing = tap.text[len(raw_text) :]
                self._deliver(ev.TextDelta(missing, self.clock()), state, emit)
            # Completed items (tool calls and their outputs) are carried into the retry.
            state.new_items = _input_items(self._result)
            raise
        except BaseException:
            state.new_items = _input_items(self._result)
            raise

    async def _drain(
        self, result: Any, adapter: StreamAdapter, emit: Emit, state: _Attempt
    ) -> None:
        reported = [0, 0]

        def counted(event: ev.RunEvent) -> None:
            if isinstance(event, ev.UsageReported):
                reported[0] += event.input_tokens
                reported[1] += event.output_tokens
            emit(event)

        await self._drain_events(result, adapter, counted, state)
        # Tokens the run used that no stream event reported (an agent used as a tool runs
        # its own model calls) are counted with the turn.
        usage = getattr(getattr(result, "context_wrapper", None), "usage", None)
        extra_in = int(getattr(usage, "input_tokens", 0) or 0) - reported[0]
        extra_out = int(getattr(usage, "output_tokens", 0) or 0) - reported[1]
        if reported != [0, 0] and (extra_in > 0 or extra_out > 0):
            extra_in, extra_out = max(0, extra_in), max(0, extra_out)
            emit(ev.UsageReported(extra_in, extra_out, extra_in + extra_out, self.clock()))

    async def _drain_events(
        self, result: Any, adapter: StreamAdapter, emit: Emit, state: _Attempt
    ) -> None:
        stream = result.stream_events().__aiter__()
        state.tools_running.clear()
        while True:
            # A running tool is the agent's own code, not a silent provider: it may take
            # as long as it needs (Esc still cancels it), so no stall is counted meanwhile.
            timeout = None if state.tools_running else self.stall_timeout_s
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
                    f"no event for {self.stall_timeout_s:g} s; abandoned the stream"
                ) from None
            at_ns = self.clock()
            if sdk_event.type == "agent_updated_stream_event":
                self.agent = sdk_event.new_agent
            for event in adapter.convert(sdk_event, at_ns):
                self._deliver(event, state, emit)
            state.events += 1
            if (
                self.faults is not None
                and state.faults_allowed
                and self.faults.strikes(state.events)
            ):
                result.cancel()  # dropped as a cut connection would be
                raise self.faults.fault()

    async def _ask(self, items: list[Any], run_state: Any, emit: Emit) -> bool:
        """Get an answer for every pending call; False if the person cancelled the turn."""
        import json

        paused_ns = self.clock()
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
                    self.clock(),
                )
            )
            decision: ApprovalDecision | None
            if request.tool_name in self.always_approved:
                decision = ApprovalDecision(True, by="always")
            elif self.approver is None:
                decision = ApprovalDecision(False, by="flag")
            else:
                decision = await self._answer_or_cancel(self.approver(request))
            if decision is None:
                return False
            if decision.approved:
                if decision.always:
                    self.always_approved.add(request.tool_name)
                run_state.approve(item, always_approve=decision.always)
            else:
                run_state.reject(item)
            emit(
                ev.ApprovalResolved(
                    request.call_id, decision.approved, decision.by, self.clock(), decision.always
                )
            )
        now = self.clock()
        emit(ev.RunResumed((now - paused_ns) / 1e9, now))
        return True

    async def _answer_or_cancel(self, answer: Any) -> ApprovalDecision | None:
        """The approver's answer, or None when Esc (cancel) came first."""
        answer_task = asyncio.ensure_future(answer)
        cancel_task = asyncio.ensure_future(self._cancelled.wait())
        try:
            await asyncio.wait({answer_task, cancel_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancel_task.cancel()
        if not answer_task.done() or answer_task.cancelled():
            answer_task.cancel()
            return None
        decision: ApprovalDecision = answer_task.result()
        return decision

    def _deliver(self, event: ev.RunEvent, state: _Attempt, emit: Emit) -> None:
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
            if self.tracer is not None:  # nested rows held until their parent row exists
                self.tracer.issued(event.call_id, event.name, event.arguments)
            return
        elif isinstance(event, ev.ToolCallFinished):
            state.tools_running.discard(event.call_id)
        emit(event)

    async def _wait_or_cancel(self, delay_s: float) -> bool:
        """Sleep through a backoff; True if the person cancelled meanwhile."""
        try:
            await asyncio.wait_for(self._cancelled.wait(), delay_s)
        except TimeoutError:
            return False
        return True

    def _history_after_success(
        self, base_input: list[Any], carried: list[Any], continued_from: str
    ) -> list[Any]:
        """The turn as the model should remember it, without the retry scaffolding."""
        if self._result is None:
            return self.history
        # Not ``result.to_input_list()``: it re-dumps the whole conversation every turn.
        new_items = _input_items(self._result)
        prefix = [{"role": "assistant", "content": continued_from}] if continued_from else []
        return [*base_input, *carried, *prefix, *new_items]

    def _structured_reply(self, reply_text: str) -> tuple[str, bool]:
        """An agent with ``output_type`` ends with an object: show it as formatted JSON."""
        import json

        final = getattr(self._result, "final_output", None)
        if final is None or isinstance(final, str):
            return reply_text, False
        try:
            if hasattr(final, "model_dump"):
                data = final.model_dump(mode="json")
            elif hasattr(final, "__dataclass_fields__"):
                import dataclasses

                data = dataclasses.asdict(final)
            else:
                data = final
            pretty = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return reply_text, False
        return f"```json\n{pretty}\n```", True

    def _finish(
        self,
        emit: Emit,
        status: ev.TurnStatus,
        text: str,
        base_input: list[Any] | None,
        attempts: int,
        error: Classified | None = None,
        *,
        structured: bool = False,
    ) -> TurnOutcome:
        if base_input is not None:
            # Keep the context of an unfinished turn: the prompt and what was said so far.
            self.history = list(base_input)
            if text:
                self.history.append({"role": "assistant", "content": text})
        # Emitted by ``run`` once the turn is in the conversation's memory, so that a prompt
        # queued behind this turn never starts without it.
        self._finished_event = ev.TurnFinished(
            status,
            text,
            self.clock(),
            error_kind=error.kind if error else None,
            error=error.message if error else None,
            structured=structured,
        )
        return TurnOutcome(status, text, attempts, error)


_FIXED_TEXT: dict[int, tuple[Any, str]] = {}


def _fixed_text(agent: Any) -> str:
    """What every request to ``agent`` carries besides the conversation: its instructions
    and its tools' schemas (counted against the window, never dropped)."""
    known = _FIXED_TEXT.get(id(agent))
    if known is not None and known[0] is agent:
        return known[1]
    import json

    parts: list[str] = []
    instructions = getattr(agent, "instructions", None)
    if isinstance(instructions, str):
        parts.append(instructions)
    for tool in getattr(agent, "tools", None) or ():
        schema = getattr(tool, "params_json_schema", None)
        parts.append(str(getattr(tool, "name", "")))
        parts.append(str(getattr(tool, "description", "") or ""))
        if schema is not None:
            parts.append(json.dumps(schema))
    text = "\n".join(parts)
    if len(_FIXED_TEXT) > 64:
        _FIXED_TEXT.clear()
    _FIXED_TEXT[id(agent)] = (agent, text)
    return text


def _input_items(result: Any) -> list[Any]:
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


def compact_input_item(item: Any) -> Any:
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
