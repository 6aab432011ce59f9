"""Program 1, basic streaming: the Storyteller tells one story, token by token.

The tutorial's ``basic_streaming_demo``: the request, the story as it streams, and
"📊 Metadata: … N API calls" (``len(final_result.raw_responses)``: the turn's model calls,
``TurnMetrics.model_calls``).
"""

from __future__ import annotations

from tui.core import events as ev
from tui.tutorial.common import Program, say

AGENT = "storyteller"


def request() -> str:
    return say(
        "Tell me a short story about friendship",
        "Kể cho tôi một câu chuyện ngắn về tình bạn",
    )


async def run(program: Program) -> int:
    await program.start(AGENT)
    conversation = program.conversation("tutorial 1: basic streaming")
    user_request = request()
    program.line(f"👤 **User:** {user_request}")
    program.label("🤖 **Agent:** ")
    finished: ev.TurnFinished | None = None
    async for event in program.turn(conversation, user_request):
        if isinstance(event, ev.TextDelta):
            program.model_text(event.text)
        elif isinstance(event, ev.TurnFinished):
            finished = event
    program.line("\n")  # print("\n"): a new line after the story
    calls = conversation.metrics.model_calls if conversation.metrics else 0
    if finished is None or finished.status != "completed":
        program.line(f"❌ **Error:** {finished.error if finished else 'the turn did not run'}")
        return 1
    program.line(
        "\n📊 **Metadata:** "
        + say("Completed in {n} API calls", "Hoàn thành trong {n} API calls").format(n=calls)
    )
    return 0
