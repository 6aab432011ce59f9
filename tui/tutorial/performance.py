"""Program 6, the performance monitor: the tutorial's ``demo_optimized_streaming``.

Five queries, each its own session with the High Performance Assistant, each followed by
"📊 Performance Metrics" (time to first token, total time, tokens/s, tokens, and the
monitor's issues or "✅ Performance: Good"), then "📈 Global Performance Statistics". Every
figure is the turn's ``TurnMetrics`` as ``tui.core.observe.metrics`` defines it (the
tutorial's tokens/s: tokens over the time since the request; its per-request error rate),
and the global statistics are ``SessionMetrics.global_stats`` over the five.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core import events as ev
from tui.tutorial.common import Program, say

if TYPE_CHECKING:
    from tui.core.observe.metrics import SessionMetrics, TurnMetrics

AGENT = "performance-assistant"


def queries() -> list[str]:
    return [
        say("A quick explanation of React hooks", "Giải thích nhanh về React hooks"),
        say(
            "Compare Python and JavaScript for beginners",
            "So sánh Python và JavaScript cho beginners",
        ),
        say(
            "Make a simple TODO list in HTML/CSS/JS",
            "Tạo một TODO list đơn giản bằng HTML/CSS/JS",
        ),
        say("Explain machine learning in 2 minutes", "Explain machine learning trong 2 phút"),
        say("Best practices for database design", "Best practices cho database design"),
    ]


async def run(program: Program) -> int:
    from tui.core.observe.metrics import SessionMetrics

    program.line("⚡ **Optimized Streaming Performance Demo**\n")
    await program.start(AGENT)
    monitor = SessionMetrics()
    failed = 0
    for i, query in enumerate(queries(), 1):
        program.line(f"🚀 **Query {i}:** {query}")
        program.line("📡 **Streaming response:**")
        conversation = program.conversation(f"tutorial 6: {query}")
        finished: ev.TurnFinished | None = None
        async for event in program.turn(conversation, query):
            if isinstance(event, ev.TextDelta):
                program.model_text(event.text)
            elif isinstance(event, ev.ToolCallIssued):
                program.write(f"\n🔧 [{event.name}]")
            elif isinstance(event, ev.TurnFinished):
                finished = event
        program.line()
        turn = conversation.metrics
        if turn is not None:
            monitor.add(turn)
        if finished is not None and finished.status == "completed" and turn is not None:
            report(program, monitor, turn)
        else:
            failed += 1
            program.line(f"\n❌ Error: {finished.error if finished else 'the turn did not run'}")
        program.line("=" * 70 + "\n")
    stats = monitor.global_stats()
    program.line("📈 **Global Performance Statistics:**")
    program.line(f"   • Total Sessions: {stats['total_sessions']}")
    program.line(f"   • Avg Time to First Token: {stats['average_time_to_first_token']:.3f}s")
    program.line(f"   • Avg Tokens/Second: {stats['average_tokens_per_second']:.1f}")
    program.line(f"   • Total Tokens Processed: {stats['total_tokens_processed']}")
    program.line(f"   • Sessions with Issues: {stats['sessions_with_issues']}")
    return 1 if failed else 0


def report(program: Program, monitor: SessionMetrics, turn: TurnMetrics) -> None:
    """One query's "📊 Performance Metrics", by the monitor's thresholds."""
    from tui.core.observe.metrics import assess

    end = turn.finished_ns or turn.started_ns
    ttft = turn.ttft_s
    program.line("\n📊 **Performance Metrics:**")
    program.line(
        "   • Time to First Token: " + (f"{ttft:.3f}s" if ttft is not None else "— (no text)")
    )
    program.line(f"   • Total Response Time: {turn.elapsed_s(end):.3f}s")
    program.line(f"   • Tokens per Second: {turn.end_to_end_tokens_per_s(end):.1f}")
    program.line(f"   • Total Tokens: {turn.tokens}")
    issues = assess(turn, monitor, end)
    if issues:
        program.line(f"   ⚠️ Issues: {', '.join(issues)}")
    else:
        program.line("   ✅ Performance: Good")
