"""Program 2, streaming with run item events: the Game Master plays three scenarios.

The tutorial's ``advanced_streaming_demo``: each scenario streams the narration, announces
each tool call ("🔧 [Tool N] …", numbered within the scenario as the tutorial's counter is),
its result ("⚡ [Result] …") and "🎭 GM continues:", then a rule of 60 "=". The closing
"🎉 Adventure complete!" counts the tools of every scenario, as its words say (the
tutorial's variable restarts at each scenario, so it printed the last one's count).
"""

from __future__ import annotations

from tui.core import events as ev
from tui.tutorial.common import Program, say

AGENT = "game-master"


def scenarios() -> list[str]:
    return [
        say(
            "I want to climb a 20-metre cliff. Do I make it?",
            "Tôi muốn leo lên vách đá cao 20 mét. Tôi có thành công không?",
        ),
        say(
            "There are 2 roads ahead of me. Which one should I take?",
            "Có 2 con đường trước mặt. Tôi nên chọn đường nào?",
        ),
        say(
            "Will I find the treasure in this cave?",
            "Liệu tôi có tìm được kho báu trong hang động này không?",
        ),
    ]


async def run(program: Program) -> int:
    await program.start(AGENT)
    total_tools = 0
    failed = 0
    for scenario in scenarios():
        conversation = program.conversation("tutorial 2: " + scenario)
        program.line(f"\n🎲 **Scenario:** {scenario}")
        program.label("🎭 **Game Master:** ")
        tool_calls_made = 0
        async for event in program.turn(conversation, scenario):
            if isinstance(event, ev.TextDelta):
                program.model_text(event.text)
            elif isinstance(event, ev.ToolCallIssued):
                tool_calls_made += 1
                using = say("Using {name}...", "Đang sử dụng {name}...").format(name=event.name)
                program.line(f"\n🔧 **[Tool {tool_calls_made}]** {using}")
            elif isinstance(event, ev.ToolCallFinished):
                program.line(f"⚡ **[Result]** {event.output}")
                program.label("🎭 **GM continues:** ")
            elif isinstance(event, ev.TurnFinished) and event.status != "completed":
                failed += 1
                program.write(f"\n❌ **Error:** {event.error or event.status}")
        # The turn's own count (TurnMetrics.tool_calls), the same as the lines above.
        total_tools += conversation.metrics.tool_calls if conversation.metrics else 0
        program.line("\n" + "=" * 60)
    program.line(
        f"\n🎉 **Adventure complete!** Total tools used across all scenarios: {total_tools}"
    )
    return 1 if failed else 0
