"""Program 5, resilient streaming: the tutorial's ``demo_resilient_streaming``.

Three scenarios, each with its context, answered by the Resilient Assistant while
``--inject-faults 0.1`` cuts the stream as the tutorial's "Simulated network interruption"
does (10 % of the events after the tenth). The turn's own retries (``RetryPolicy``: 3
attempts, waiting 2 s then 4 s) print as the tutorial's: "🔄 Attempt 1/3", the error,
"⏳ Retrying in 2.0 seconds...", "✅ Recovered successfully after N attempts" (N: the failed
ones, as the tutorial counts). "📊 Error Statistics" are the resilience statistics of
``tui.core.observe.metrics`` over the three turns' ``TurnMetrics``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core import events as ev
from tui.tutorial.common import Program, say

if TYPE_CHECKING:
    from tui.core.turn.conversation import Conversation

AGENT = "resilient-assistant"
FAULT_RATE = 0.1  # the tutorial's 10 % chance


def scenarios() -> list[tuple[str, str]]:
    return [
        (
            say(
                "Explain quantum computing simply",
                "Giải thích về quantum computing một cách đơn giản",
            ),
            say("User is a beginner in technology", "User is a beginner in technology"),
        ),
        (
            say(
                "Make a 6-month plan to learn programming",
                "Tạo một plan học lập trình trong 6 tháng",
            ),
            say("The user has a background in mathematics", "User có background về toán học"),
        ),
        (
            say(
                "Compare the popular JavaScript frameworks",
                "So sánh các framework JavaScript phổ biến",
            ),
            say("The user is learning web development", "User đang tìm hiểu về web development"),
        ),
    ]


def recovery_context(message: str, context: str) -> str:
    """The tutorial's ``_build_recovery_context`` for the first attempt (the turn's retries
    carry the partial reply and ask the model to continue it)."""
    return f"User message: {message}\nAdditional context: {context}\n"


async def run(program: Program) -> int:
    from tui.core.observe.metrics import SessionMetrics

    program.line("🛡️ **Resilient Streaming System Demo**\n")
    await program.start(AGENT, inject_faults=program.settings.inject_faults or FAULT_RATE)
    session = SessionMetrics()
    failed = 0
    for i, (message, context) in enumerate(scenarios(), 1):
        program.line(f"💬 **Scenario {i}:** {message}")
        program.line(f"📝 **Context:** {context}")
        program.line("🤖 **Response:**")
        conversation = program.conversation(f"tutorial 5: {message}")
        finished = await stream_with_recovery(program, conversation, message, context)
        metrics = conversation.metrics
        if metrics is not None:
            session.add(metrics)
        retries = metrics.retries if metrics is not None else 0
        if finished is not None and finished.status == "completed":
            program.line(f"\n✅ Success (attempts: {retries + 1})")
            if retries:
                program.line("🔄 Response was recovered from error")
        else:
            failed += 1
            error = finished.error if finished is not None else "the turn did not run"
            program.line(f"\n❌ Failed: {error}")
            if finished is not None and finished.final_text:
                program.line(f"📝 Partial content: {finished.final_text[:100]}...")
        program.line("=" * 70 + "\n")
    stats = session.resilience_statistics()
    program.line("📊 **Error Statistics:**")
    program.line(f"   • Total errors: {stats['total_errors']}")
    program.line(f"   • Network errors: {stats['network_errors']}")
    program.line(f"   • Timeout errors: {stats['timeout_errors']}")
    program.line(f"   • Agent errors: {stats['agent_errors']}")
    program.line(f"   • Recovery successes: {stats['recovery_successes']}")
    program.line(f"   • Recovery rate: {stats['recovery_rate']:.1%}")
    return 1 if failed else 0


async def stream_with_recovery(
    program: Program, conversation: Conversation, message: str, context: str
) -> ev.TurnFinished | None:
    """One scenario's turn, its attempts and waits printed as the tutorial prints them."""
    from tui.core.observe.metrics import resilience_group

    assert program.runner is not None
    most = program.runner.retry.max_attempts
    mid_line = False
    finished: ev.TurnFinished | None = None
    async for event in program.turn(conversation, recovery_context(message, context)):
        if isinstance(event, ev.TurnStarted):
            program.line(f"🔄 Attempt 1/{most}")
        elif isinstance(event, ev.TextDelta):
            program.model_text(event.text)
            mid_line = not event.text.endswith("\n")
        elif isinstance(event, ev.RunFailed):
            if mid_line:
                program.line()
                mid_line = False
            group = resilience_group(event.error_kind)
            icon, label = {
                "timeout": ("⏰", "Timeout error"),
                "agent": ("🤖", "Agent error"),
            }.get(group, ("🌐", "Network error"))
            program.line(f"{icon} {label}: {event.message}")
        elif isinstance(event, ev.RetryScheduled):
            program.line(f"⏳ Retrying in {event.delay_s:.1f} seconds...")
            program.line(f"🔄 Attempt {event.attempt}/{event.max_attempts}")
        elif isinstance(event, ev.TurnFinished):
            finished = event
            if mid_line:
                program.line()  # the tutorial's print() after the response
            failures = conversation.metrics.retries if conversation.metrics else 0
            if event.status == "completed" and failures:
                program.line(f"✅ Recovered successfully after {failures} attempts")
            elif event.status == "failed" and failures + 1 >= most:
                program.line(f"❌ All {most} attempts failed")
    return finished
