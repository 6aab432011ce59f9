"""What each slash command does. The table of commands is ``tui.slash``; this is its behaviour.

Each handler is ``handler(ctx, argument)``, written against ``CommandContext`` (what a
command may use of the app), so this module never imports the app; ``tui.slash.run`` is the
one entry point: the prompt, the palette and F1 all come there.
"""

from __future__ import annotations

from tui.command_context import CommandContext
from tui.core.agents import BUILTIN_AGENTS
from tui.core.i18n import _
from tui.core.turn.runner import TurnRunner
from tui.messages import PromptSubmitted

QUIT_AFTER_S = 0.4  # long enough to read the goodbye


def quit_soon(ctx: CommandContext, _argument: str = "") -> None:
    """The tutorial's console chat says goodbye; so does /quit, then exits."""
    ctx.chat.add_note(_("Goodbye!"), _("Your conversation is kept: agents-tui --resume"))
    ctx.app.set_timer(QUIT_AFTER_S, ctx.action_quit)


def show_context(ctx: CommandContext, _argument: str = "") -> None:
    from tui.core.turn.budget import describe_context

    runner = ctx.runner
    if not isinstance(runner, TurnRunner):
        ctx.app.notify(_("The agent is not ready yet."), severity="warning")
        return
    title, body = describe_context(runner.budget, runner.last_context)
    ctx.chat.add_note(title, body)


def show_tools(ctx: CommandContext, _argument: str = "") -> None:
    ctx.app.run_worker(_list_tools(ctx), exclusive=True, group="tools", exit_on_error=False)


async def _list_tools(ctx: CommandContext) -> None:
    from tui.core.models.mcp import list_tools

    runner = ctx.runner
    if not isinstance(runner, TurnRunner):
        ctx.app.notify(_("The agent is not ready yet."), severity="warning")
        return
    await runner.prepare()
    tools = await list_tools(runner.agent)
    if not tools:
        ctx.chat.add_note(_("Tools"), _("{agent} has no tools.").format(agent=runner.agent_name))
        return
    width = max(len(t.name) for t in tools)
    lines = [f"{t.name.ljust(width)}  [{t.source}]  {t.description}" for t in tools]
    ctx.chat.add_note(
        _("Tools of {agent} ({n})").format(agent=runner.agent_name, n=len(tools)),
        "\n".join(lines),
    )


def clear_conversation(ctx: CommandContext, _argument: str = "") -> None:
    if ctx.turn_running:
        ctx.app.notify(_("A reply is streaming: press Esc first, then /clear."), severity="warning")
        return
    if ctx.runner is not None:
        ctx.runner.reset()
    note = (
        _("Fresh conversation"),
        _("Started a fresh conversation; the old one is kept (Ctrl+S)."),
    )
    ctx.status.set_alert("")  # the last turn's warnings belong to the old conversation
    if ctx.store is not None and ctx.runner is not None:
        from tui.core.store import new_conversation_id

        ctx.open_conversation(new_conversation_id(), note=note)  # cleared, then the note
        return
    ctx.chat.clear()
    ctx.timeline.clear_rows()
    ctx.chat.add_note(*note)


def export(ctx: CommandContext, argument: str = "") -> None:
    from pathlib import Path

    fmt, _sep, path = argument.partition(" ")
    fmt = fmt or "md"
    source = getattr(ctx, "remote", None) or ctx.conversation  # attached: the session shown
    if source is None:
        ctx.app.notify(_("Nothing to export yet."), severity="warning")
        return
    try:
        target = source.export(fmt, Path(path.strip()).expanduser() if path.strip() else None)
    except (OSError, ValueError) as error:
        ctx.chat.add_note(_("Export failed"), str(error), kind="error")
        return
    ctx.app.notify(_("Exported to {path}").format(path=target))
    ctx.chat.add_note(_("Exported"), str(target))


def switch_theme(ctx: CommandContext, name: str = "") -> None:
    if name not in ctx.app.available_themes:
        ours = sorted(n for n in ctx.app.available_themes if n.startswith("agents-"))
        ctx.app.notify(
            _("Unknown theme {name!r}. Try: {names} (Ctrl+P lists all).").format(
                name=name, names=", ".join(ours)
            ),
            severity="warning",
        )
        return
    ctx.app.theme = name
    ctx.app.notify(_("Theme: {name}").format(name=name))


def set_pace(ctx: CommandContext, argument: str = "") -> None:
    """``/pace auto|off|N``: how the next replies (and the one streaming) reach the screen;
    ``/pace`` alone says the pace."""
    from tui.core.pace import PaceError, parse_pace

    pacing = ctx.chat_screen.pacing
    if argument:
        try:
            pace = parse_pace(argument)
        except PaceError:
            ctx.app.notify(
                _("Unknown pace {value!r}: use auto, off or words a second (/pace 12).").format(
                    value=argument
                ),
                severity="warning",
            )
            return
        pacing.set_pace(pace)
    ctx.app.notify(pacing.describe())


def retry_last(ctx: CommandContext, _argument: str = "") -> None:
    last = next((m for m in reversed(ctx.history()) if m.role == "user"), None)
    if last is None:
        ctx.app.notify(_("No prompt to retry yet."), severity="warning")
        return
    ctx.app.post_message(PromptSubmitted(last.text))


def summarize(ctx: CommandContext, _argument: str = "") -> None:
    """``/summary``: a turn of its own, in plain sight. The request is sent as a prompt and
    shown as one (what the model is asked, word for word); the summary streams as a reply."""
    if not any(m.role != "user" and m.text.strip() for m in ctx.history()):
        ctx.app.notify(
            _("No reply to sum up yet: /summary asks the agent to sum up its last reply."),
            severity="warning",
        )
        return
    ctx.app.post_message(PromptSubmitted(_("Sum up your last reply in one short paragraph.")))


def show_history(ctx: CommandContext, _argument: str = "") -> None:
    history = ctx.history()
    if not history:
        ctx.chat.add_note(_("History"), _("No messages yet."))
        return
    lines = []
    for number, entry in enumerate(history, 1):
        mark = "" if entry.status == "completed" else f" [{entry.status}]"
        text = entry.text if len(entry.text) < 400 else entry.text[:399] + "…"
        lines.append(f"{number}. {entry.at:%H:%M:%S} {entry.role}{mark}: {text}")
    ctx.chat.add_note(_("History ({n} messages)").format(n=len(history)), "\n".join(lines))


def show_stats(ctx: CommandContext, _argument: str = "") -> None:
    from tui.core.observe.stats import as_text, report_of

    if ctx.store is None or ctx.conversation_id is None:
        ctx.app.notify(_("The conversation store is not open yet."), severity="warning")
        return
    totals = ctx.store.totals(ctx.conversation_id)
    ctx.chat.add_note(_("Statistics of this conversation"), as_text(report_of(totals)))


def switch_agent(ctx: CommandContext, spec: str = "") -> None:
    if not spec:
        ctx.app.notify(
            _("Usage: /agent NAME ({names}, or module:attribute)").format(
                names=", ".join(BUILTIN_AGENTS)
            ),
            severity="warning",
        )
        return
    if not isinstance(ctx.runner, TurnRunner):
        ctx.app.notify(_("The backend is not ready yet."), severity="warning")
        return
    from tui.core.agents import AgentLoadError, load_agent

    try:
        agent = load_agent(spec, seed=ctx.settings.seed)
    except AgentLoadError as error:
        ctx.chat.add_note(_("Cannot switch agent"), str(error), kind="error")
        return
    ctx.runner.switch_agent(agent)
    if ctx.runner.mcp is not None:
        ctx.connect_mcp()  # its own servers, now; failures reported as at start-up
    ctx.update_header()
    ctx.timeline.note("agent", _("agent: {name}").format(name=ctx.runner.agent_name))
    ctx.app.notify(_("Now talking to {name}.").format(name=ctx.runner.agent_name))


# The app's own key actions, as commands.
def show_help(ctx: CommandContext, _argument: str = "") -> None:
    ctx.action_help()


def cancel_turn(ctx: CommandContext, _argument: str = "") -> None:
    ctx.action_cancel_turn()


def open_sessions(ctx: CommandContext, _argument: str = "") -> None:
    ctx.action_sessions()


def copy_last(ctx: CommandContext, _argument: str = "") -> None:
    ctx.action_copy_last()


def open_dashboard(ctx: CommandContext, _argument: str = "") -> None:
    ctx.action_dashboard()
