"""One conversational turn: drain ``Runner.run_streamed``, cancel, retry and recover.

``TurnRunner.events(prompt)`` is the turn as a stream of the core's events
(``tui.core.turn.stream.RunningTurn``); the conversation (``tui.core.turn.conversation``)
iterates it through its stages. Inside, ``run`` is the only place the SDK's runner is
driven: each attempt (``tui.core.turn.attempt``: ``drain`` -> ``StreamAdapter`` ->
``deliver``, ``ask`` for approvals) streams ``Runner.run_streamed``, and ``_drive`` retries
what failed and ends the turn, so the TUI, the headless ``run`` command, the API,
recordings and tests all see exactly the same sequence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from tui.core import events as ev
from tui.core.models.tap import TextTap, with_tap
from tui.core.sdk_compat import original_input
from tui.core.turn.approvals import Approver
from tui.core.turn.attempt import (
    Attempt,
    input_items,
    run_attempt,
)
from tui.core.turn.budget import ContextBudget, Fitted, context_overflow, is_message
from tui.core.turn.errors import Classified, classify, guardrail_of
from tui.core.turn.faults import FaultInjector
from tui.core.turn.growing_text import GrowingText
from tui.core.turn.stream import RunningTurn

if TYPE_CHECKING:
    from agents import Agent, RunConfig, RunState
    from agents.items import TResponseInputItem
    from agents.result import RunResultStreaming

    from tui.core.models.mcp import McpHub
    from tui.core.store import TurnRow
    from tui.core.turn.nested import NestedTracer

    Items: TypeAlias = list[TResponseInputItem]  # model input, as the SDK takes it

Emit = Callable[[ev.RunEvent], None]
Clock = Callable[[], int]

CONTINUE_INSTRUCTION = (
    "The connection dropped while you were writing the reply above. Continue it exactly "
    "where it stopped: do not repeat any text already written and do not comment on the "
    "interruption."
)


class Memory(Protocol):
    """What the runner needs of a conversation's memory (an SDK ``Session``, or the store's
    ``ShortLivedMemory``): the items the model remembers, and adding the turn's."""

    async def get_items(self) -> Items: ...

    async def add_items(self, items: Items) -> None: ...


class PausedRun(Protocol):
    """A turn stored while it waited for approvals (the conversation's ``PausedTurn``)."""

    @property
    def turn(self) -> TurnRow: ...

    @property
    def state(self) -> str: ...  # its RunState as JSON


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


class TurnRunner:
    """Holds the conversation's input list and runs turns against one agent."""

    def __init__(
        self,
        agent: Agent,
        *,
        run_config: RunConfig | None = None,
        max_turns: int = 10,
        retry: RetryPolicy | None = None,
        stall_timeout_s: float = 30.0,
        clock: Clock = time.perf_counter_ns,
        session: Memory | None = None,
        budget: ContextBudget | None = None,
        faults: FaultInjector | None = None,
        mcp: McpHub | None = None,
        tracer: NestedTracer | None = None,
    ) -> None:
        self.agent = agent
        self.run_config = run_config
        self.max_turns = max_turns
        self.retry = retry or RetryPolicy()
        self.stall_timeout_s = stall_timeout_s
        self.clock = clock
        self.session = session
        self.history: Items = []
        # Who answers tool approvals; without one every call that needs approval is refused.
        self.approver: Approver | None = None
        self.always_approved: set[str] = set()  # tools approved for good ("a" in the bar)
        self.mcp: Any = mcp  # McpHub | None (Any: tui/app_startup.py reads .alive unchecked)
        self.tracer = tracer  # rows for agents used as tools
        # What of the history fits the model's window (None: all, trimmed once if refused)
        self.budget = budget if budget is not None else ContextBudget()
        self.faults = faults  # --inject-faults: the tutorial's demo
        self.last_context: Fitted | None = None  # what the last request carried (/context)
        self.result: RunResultStreaming | None = None
        self.cancelled = asyncio.Event()

    def for_session(self, agent: Agent | None, budget: ContextBudget) -> TurnRunner:
        """A runner for another conversation of this process: the same backend, retry
        policy, MCP servers (connected once, for every session) and stream of injected
        faults; its own agent (``None``: this one's), history and context budget."""
        return TurnRunner(
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

    @property
    def agent_name(self) -> str:
        return str(getattr(self.agent, "name", "agent"))

    def cancel(self) -> None:
        """Stop the running turn; ``run`` keeps draining the SDK stream and then returns."""
        self.cancelled.set()
        if self.result is not None:
            self.result.cancel()

    def reset(self) -> None:
        self.history = []
        self.always_approved = set()
        self.last_context = None
        self.budget.reset()

    # --- bound to one conversation (``Conversation`` calls these) ---------------------------
    def begin_conversation(
        self, memory: Memory, *, always_approved: set[str], approver: Approver | None = None
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

    def events(self, prompt: str, author: str = "") -> RunningTurn:
        """The turn for ``prompt`` (by ``author``) as a stream, started when first iterated."""
        return RunningTurn(lambda emit: self.run(prompt, emit, author))

    def resumed(self, paused: PausedRun) -> RunningTurn:
        """A turn stored while it waited for approvals, finished."""
        t = paused.turn
        return RunningTurn(lambda e: self.resume(paused.state, t.prompt, t.reply, e, t.author))

    async def run(self, prompt: str, emit: Emit, author: str = "") -> TurnOutcome:
        """Run one turn to its end (completed, interrupted or failed); never raises."""
        self.cancelled = asyncio.Event()
        self._finished_event: ev.TurnFinished | None = None
        try:
            user_item: TResponseInputItem = {"role": "user", "content": spoken(author, prompt)}
            if self.session is not None:
                # The stored conversation is the model's memory; the prompt is kept before
                # the run starts so that a crash mid-turn cannot lose it.
                self.history = list(await self.session.get_items())
                await self.session.add_items([user_item])
        except Exception as error:
            emit(ev.TurnStarted(prompt, self.agent_name, self.clock(), author=author))
            failure = classify(error)
            emit(ev.RunFailed(failure.kind, failure.message, self.clock()))
            outcome = self._finish(emit, "failed", "", None, 0, failure)
            if self._finished_event is not None:
                emit(self._finished_event)
                self._finished_event = None
            return outcome
        emit(ev.TurnStarted(prompt, self.agent_name, self.clock(), author=author))
        await self._mcp_ready(emit)
        return await self._drive([*self.history, user_item], None, "", emit)

    async def prepare(self) -> list[str]:
        """Connect the agent's MCP servers not connected yet; one line per failure."""
        return await self.mcp.prepare() if self.mcp is not None else []

    def switch_agent(self, agent: Agent) -> None:
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
        for line in await self.mcp.ready() if self.mcp is not None else []:
            emit(ev.RunFailed("mcp", line, self.clock()))

    async def resume(
        self, state_json: str, prompt: str, reply_so_far: str, emit: Emit, author: str = ""
    ) -> TurnOutcome:
        """Finish a turn stored while it waited for approvals (after a restart); never raises."""
        import json

        from agents import RunConfig, RunState

        self.cancelled = asyncio.Event()
        self._finished_event = None
        emit(ev.TurnStarted(prompt, self.agent_name, self.clock(), resumed=True, author=author))
        await self._mcp_ready(emit)
        try:
            agent, _ = with_tap(self.agent, self.run_config or RunConfig(), TextTap())
            run_state = await RunState.from_json(agent, json.loads(state_json))
            original = original_input(run_state)
            base_input: Items = (
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
        self, base_input: Items, paused: RunState | None, reply_text: str, emit: Emit
    ) -> TurnOutcome:
        """Attempts, retries and the end of one turn; ``paused`` is a restored RunState."""
        carried: Items = []
        pending_text = ""
        attempt = 0
        last_error: Classified | None = None
        overflow_retried = False
        try:
            while True:
                attempt += 1
                scaffolding: Items = []
                if pending_text:
                    scaffolding = [
                        {"role": "assistant", "content": pending_text},
                        {"role": "user", "content": CONTINUE_INSTRUCTION},
                    ]
                run_input = self._fit([*base_input, *carried], scaffolding, emit)
                state = Attempt(GrowingText(reply_text), GrowingText(pending_text))
                state.faults_allowed = attempt < self.retry.max_attempts
                start = paused if paused is not None else run_input
                paused = None  # a retry starts from what was carried, not the old pause
                try:
                    await run_attempt(self, start, emit, state)
                except Exception as error:  # every failure is classified and shown
                    overflow, window = context_overflow(error)
                    if (
                        overflow
                        and not overflow_retried
                        and not self.cancelled.is_set()
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
                    if self.cancelled.is_set():
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
                    if await _wait_or_cancel(self.cancelled, delay):
                        return self._finish(emit, "interrupted", reply_text, base_input, attempt)
                    continue
                reply_text = str(state.reply_text)
                if self.cancelled.is_set():
                    return self._finish(emit, "interrupted", reply_text, base_input, attempt)
                if self.result is not None:  # the turn as the model should remember it
                    self.history = [
                        *base_input,
                        *carried,
                        *([_assistant(pending_text)] if pending_text else []),
                        *input_items(self.result),  # not to_input_list(): it re-dumps all
                    ]
                reply_text, structured = structured_reply(self.result, reply_text)
                outcome = self._finish(
                    emit, "completed", reply_text, None, attempt, structured=structured
                )
                outcome.recovered = attempt > 1
                return outcome
        finally:
            self.result = None
            try:
                if self.session is not None:
                    await self.session.add_items(self.history[len(base_input) :])
            except Exception as error:  # the memory's database went away: the turn fails
                self._finished_event = unkept(self._finished_event, error, emit, self.clock())
            finally:
                if self._finished_event is not None:
                    emit(self._finished_event)
                    self._finished_event = None

    def _fit(self, items: Items, tail: Items, emit: Emit) -> Items:
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

    def _finish(
        self,
        emit: Emit,
        status: ev.TurnStatus,
        text: str,
        base_input: Items | None,
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


def unkept(
    finished: ev.TurnFinished | None, error: Exception, emit: Emit, at_ns: int
) -> ev.TurnFinished | None:
    """The turn's end could not be kept in the model's memory (its store keeps it for
    later, or it is lost): said as a failure (``RunFailed``), and a turn that completed
    ends failed."""
    failure = classify(error)
    emit(ev.RunFailed(failure.kind, failure.message, at_ns))
    if finished is None or finished.status != "completed":
        return finished
    return replace(finished, status="failed", error_kind=failure.kind, error=failure.message)


_FIXED_TEXT: dict[int, tuple[Agent, str]] = {}


def spoken(author: str, prompt: str) -> str:
    """The prompt as the model reads it: ``NAME: text`` when a player of a shared table typed
    it (so the model knows who speaks), the text alone when one person chats."""
    return f"{author}: {prompt}" if author else prompt


def _fixed_text(agent: Agent) -> str:
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


def structured_reply(result: RunResultStreaming | None, reply_text: str) -> tuple[str, bool]:
    """An agent with ``output_type`` ends with an object: show it as formatted JSON."""
    import json

    final = getattr(result, "final_output", None)
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


def _assistant(text: str) -> TResponseInputItem:
    return {"role": "assistant", "content": text}


async def _wait_or_cancel(cancelled: asyncio.Event, delay_s: float) -> bool:
    """Sleep through a backoff; True if the person cancelled meanwhile."""
    try:
        await asyncio.wait_for(cancelled.wait(), delay_s)
    except TimeoutError:
        return False
    return True
