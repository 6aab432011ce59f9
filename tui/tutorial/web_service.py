"""Program 4, the web streaming service: the tutorial's ``demo_web_streaming``.

A session is created, three messages are sent to the Web Assistant, and each reply arrives
as the service's events (``session_update``, ``typing_start``, ``text_delta``,
``tool_start``, ``tool_complete``, ``response_complete``), encoded by the protocol
``agents-tui api`` streams (``tui.core.turn.protocol``: its SSE ``data``), printed as the
demo prints them: the text, "📊 Response complete" with its words and characters,
"📈 Total events", then the session statistics.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from tui.tutorial.common import Program, say

AGENT = "web-assistant"


def messages() -> list[str]:
    return [
        say(
            "Explain machine learning to me simply",
            "Giải thích cho tôi về machine learning một cách đơn giản",
        ),
        say(
            "Should I learn Python or JavaScript first?",
            "Tôi có nên học Python hay JavaScript trước?",
        ),
        say("How do I become a good developer?", "Làm thế nào để trở thành một developer giỏi?"),
    ]


async def run(program: Program) -> int:
    from tui.core.turn.protocol import ProtocolEncoder

    program.line("🌐 **Web Streaming Service Demo**\n")
    await program.start(AGENT)
    conversation = program.conversation("tutorial 4: web streaming service")
    session_info = {
        "session_id": conversation.id,
        "status": "created",
        "timestamp": datetime.now().isoformat(),
    }
    program.line(f"📱 Session created: {session_info}")
    failed = 0
    for i, message in enumerate(messages(), 1):
        program.line(f"\n💬 **Message {i}:** {message}")
        program.line("📡 **Streaming events:**")
        encoder = ProtocolEncoder(
            conversation.id, message_count=i, metrics_of=lambda: conversation.metrics
        )
        event_count = 0
        async for event in program.turn(conversation, message):
            for sent in encoder.encode(event):
                event_count += 1
                failed += show(program, sent)
        program.line(f"\n   📈 Total events: {event_count}")
        program.line("=" * 60)
    minutes = (time.monotonic() - conversation.created_monotonic) / 60
    program.line("\n📈 **Session Statistics:**")
    program.line(f"   • Duration: {minutes:.1f} minutes")
    program.line(f"   • Messages: {len(conversation.turns())}")
    program.line("   • Status: active")
    return 1 if failed else 0


def show(program: Program, event: dict[str, Any]) -> int:
    """One protocol event, as the demo's loop prints it; 1 for a failed reply."""
    kind, data = event["type"], event["data"]
    if kind == "typing_start":
        program.line(f"   ⏳ {data['message']}")
    elif kind == "text_delta":
        program.model_text(data["delta"])
    elif kind == "tool_start":
        program.line(f"\n   🔧 {data['message']}")
    elif kind == "tool_complete":
        program.line(f"\n   ✅ {data['message']}")
    elif kind == "error":  # the demo printed nothing; a reader should see why
        program.line(f"\n   ❌ {data['message']}")
    elif kind == "response_complete":
        program.line("\n\n📊 Response complete:")
        program.line(f"   • Words: {data['word_count']}")
        program.line(f"   • Characters: {data['character_count']}")
        return int(data["status"] == "failed")
    return 0
