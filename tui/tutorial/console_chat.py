"""Program 3, the console chat: the tutorial's ``StreamingChatInterface``.

Its header and tips, its prompt "👤 You:", the reply streamed after "🤖 Assistant:", tool
calls as "🔧 [Using tool: …]" / "✅ [Tool completed]", and its commands /help, /history,
/clear, /stats and /quit with their outputs. The tutorial pasted its last six messages into
each prompt; here the conversation's memory carries them (``--history 6`` unless given), and
/stats reads the stored turns through ``tui.core.observe.stats`` (the same figures as the
TUI's /stats).
"""

from __future__ import annotations

from tui.core import events as ev
from tui.tutorial.common import Program

AGENT = "assistant"
HISTORY = 6  # the tutorial's "Last 3 exchanges"
TITLE = "tutorial 3: console chat"

HELP = """
📋 **Available Commands:**
• /help - Show this help message
• /history - Show conversation history
• /clear - Clear conversation history
• /stats - Show chat statistics
• /quit - Exit the chat
"""


def header(program: Program) -> None:
    program.line("=" * 60)
    program.line("🤖 **STREAMING CHAT INTERFACE** 🤖")
    program.line("=" * 60)
    program.line("💡 Tips:")
    program.line("   • Type '/help' for commands")
    program.line("   • Type '/history' to see conversation")
    program.line("   • Type '/clear' to clear history")
    program.line("   • Type '/quit' to exit")
    program.line("=" * 60)


async def run(program: Program) -> int:
    await program.start(AGENT, history=program.settings.history or HISTORY)
    program.conversation(TITLE)
    header(program)
    try:
        while True:
            try:
                given = program.read_line("\n👤 **You:** ")
            except KeyboardInterrupt:
                program.line("\n\n👋 Chat interrupted. Goodbye!")
                return 0
            if given is None:  # end of input: as /quit
                break
            user_input = given.strip()
            if not user_input:
                continue
            if user_input.startswith("/"):
                if not handle_command(program, user_input):
                    break
                continue
            try:
                await stream_agent_response(program, user_input)
            except KeyboardInterrupt:
                program.line("\n\n⏸️ Response interrupted by user.")
    finally:
        program.line("\n👋 Chat session ended.")
    return 0


async def stream_agent_response(program: Program, user_message: str) -> str:
    conversation = program.current
    assert conversation is not None
    program.label("🤖 **Assistant:** ")
    response_text = ""
    async for event in program.turn(conversation, user_message):
        if isinstance(event, ev.TextDelta):
            program.model_text(event.text)
            response_text += event.text
        elif isinstance(event, ev.ToolCallIssued):
            program.write(f"\n   🔧 [Using tool: {event.name}]")
        elif isinstance(event, ev.ToolCallFinished):
            program.write("\n   ✅ [Tool completed]")
            program.label("\n🤖 **Assistant:** ")
        elif isinstance(event, ev.TurnFinished) and event.status == "failed":
            program.line(f"\n❌ **Error:** {event.error}")
            program.write("🔄 Please try again or type '/help' for assistance.")
    program.line()
    return response_text


def handle_command(program: Program, command: str) -> bool:
    """The tutorial's commands; False when the chat should end."""
    if command == "/help":
        program.line(HELP)
    elif command == "/history":
        show_history(program)
    elif command == "/clear":
        program.conversation(TITLE)  # a new conversation; the old one stays stored
        program.line("🗑️ Conversation history cleared.")
    elif command == "/stats":
        show_stats(program)
    elif command == "/quit":
        program.line("👋 Thanks for chatting! Goodbye!")
        return False
    else:
        program.line(f"❓ Unknown command: {command}. Type '/help' for available commands.")
    return True


def show_history(program: Program) -> None:
    messages = program.current.history() if program.current is not None else []
    if not messages:
        program.line("📝 No conversation history yet.")
        return
    program.line("\n📖 **Conversation History:**")
    for i, msg in enumerate(messages, 1):
        icon = "👤" if msg.role == "user" else "🤖"
        cut = "..." if len(msg.text) > 80 else ""
        program.line(f"{i:2d}. {icon} [{msg.at.strftime('%H:%M')}] {msg.text[:80]}{cut}")


def show_stats(program: Program) -> None:
    """The tutorial's chat statistics, as ``tui.core.observe.stats`` defines them."""
    from tui.core.observe.stats import report

    turns = program.current.turns() if program.current is not None else []
    chat = {row.key: row.value for row in report(turns)[0].rows}
    program.line(
        f"""
📊 **Chat Statistics:**
• Total messages: {chat["total_messages"]}
• Your messages: {chat["your_messages"]}
• Assistant messages: {chat["assistant_messages"]}
• Average response length: {chat["average_response_length"]} characters
"""
    )
