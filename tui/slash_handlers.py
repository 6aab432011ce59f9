"""What each slash command does. The table of commands is ``tui.slash``; this is its behaviour.

The handlers act on the app through its panes and its conversation state; the app keeps
only what keys are bound to (help, cancel, sessions, copy, dashboard), which the table
names too. ``run`` is the one entry point: the prompt, the palette and F1 all come here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui import slash
from tui.core.agents import BUILTIN_AGENTS
from tui.core.i18n import _
from tui.core.run import TurnRunner
from tui.messages import PromptSubmitted

if TYPE_CHECKING:
    from tui.app import AgentsTuiApp


QUIT_AFTER_S = 0.4  # long enough to read the goodbye


class SlashHandlers:
    def __init__(self, app: AgentsTuiApp) -> None:
        self.app = app

    def run(self, line: str) -> None:
        """Carry out a command line; a name that is no command is answered, never sent."""
        if not slash.dispatch((self, self.app), line):
            self.unknown_command(line.strip().split(" ", 1)[0])

    def unknown_command(self, name: str) -> None:
        """The tutorial answers "Unknown command"; a typo is never sent to the model."""
        app = self.app
        close = slash.nearest(name)
        hint = (
            " " + _("Did you mean {name}?").format(name=close)
            if close
            else " " + _("/help lists them.")
        )
        app.notify(_("Unknown command {name}.").format(name=name) + hint, severity="warning")
        app.prompt_input.text = name  # the draft stays, to be fixed
        app.prompt_input.move_cursor(app.prompt_input.document.end)

    def quit_soon(self) -> None:
        """The tutorial's console chat says goodbye; so does /quit, then exits."""
        self.app.chat.add_note(_("Goodbye!"), _("Your conversation is kept: agents-tui --resume"))
        self.app.set_timer(QUIT_AFTER_S, self.app.action_quit)

    def show_context(self) -> None:
        from tui.core.budget import describe_context

        runner = self.app.runner
        if not isinstance(runner, TurnRunner):
            self.app.notify(_("The agent is not ready yet."), severity="warning")
            return
        title, body = describe_context(runner.budget, runner.last_context)
        self.app.chat.add_note(title, body)

    def show_tools(self) -> None:
        self.app.run_worker(self._list_tools(), exclusive=True, group="tools", exit_on_error=False)

    async def _list_tools(self) -> None:
        from tui.core.mcp import list_tools

        app, runner = self.app, self.app.runner
        if not isinstance(runner, TurnRunner):
            app.notify(_("The agent is not ready yet."), severity="warning")
            return
        await runner.prepare()
        tools = await list_tools(runner.agent)
        if not tools:
            app.chat.add_note(
                _("Tools"), _("{agent} has no tools.").format(agent=runner.agent_name)
            )
            return
        width = max(len(t.name) for t in tools)
        lines = [f"{t.name.ljust(width)}  [{t.source}]  {t.description}" for t in tools]
        app.chat.add_note(
            _("Tools of {agent} ({n})").format(agent=runner.agent_name, n=len(tools)),
            "\n".join(lines),
        )

    def clear_conversation(self) -> None:
        app = self.app
        if app.turn_running:
            app.notify(_("A reply is streaming: press Esc first, then /clear."), severity="warning")
            return
        if app.runner is not None:
            app.runner.reset()
        app.transcript.clear()
        app.chat.clear()
        app.timeline.clear_rows()
        if app.store is not None and app.runner is not None:
            from tui.core.store import new_conversation_id

            app.open_conversation(new_conversation_id())
        app.status.set_alert("")  # the last turn's warnings belong to the old conversation
        app.chat.add_note(
            _("Fresh conversation"),
            _("Started a fresh conversation; the old one is kept (Ctrl+S)."),
        )

    def export(self, argument: str) -> None:
        from pathlib import Path

        app = self.app
        fmt, _sep, path = argument.partition(" ")
        fmt = fmt or "md"
        if app.conversation is None:
            app.notify(_("Nothing to export yet."), severity="warning")
            return
        try:
            target = app.conversation.export(
                fmt, Path(path.strip()).expanduser() if path.strip() else None
            )
        except (OSError, ValueError) as error:
            app.chat.add_note(_("Export failed"), str(error), kind="error")
            return
        app.notify(_("Exported to {path}").format(path=target))
        app.chat.add_note(_("Exported"), str(target))

    def switch_theme(self, name: str) -> None:
        app = self.app
        if name not in app.available_themes:
            ours = sorted(n for n in app.available_themes if n.startswith("agents-"))
            app.notify(
                _("Unknown theme {name!r}. Try: {names} (Ctrl+P lists all).").format(
                    name=name, names=", ".join(ours)
                ),
                severity="warning",
            )
            return
        app.theme = name
        app.notify(_("Theme: {name}").format(name=name))

    def retry_last(self) -> None:
        app = self.app
        last = next((e for e in reversed(app.transcript) if e.role == "user"), None)
        if last is None:
            app.notify(_("No prompt to retry yet."), severity="warning")
            return
        app.post_message(PromptSubmitted(last.text))

    def show_history(self) -> None:
        app = self.app
        if not app.transcript:
            app.chat.add_note(_("History"), _("No messages yet."))
            return
        lines = []
        for number, entry in enumerate(app.transcript, 1):
            mark = "" if entry.status == "completed" else f" [{entry.status}]"
            text = entry.text if len(entry.text) < 400 else entry.text[:399] + "…"
            lines.append(f"{number}. {entry.at:%H:%M:%S} {entry.role}{mark}: {text}")
        app.chat.add_note(
            _("History ({n} messages)").format(n=len(app.transcript)), "\n".join(lines)
        )

    def show_stats(self) -> None:
        from tui.core.stats import as_text, report_of

        app = self.app
        if app.store is None or app.conversation_id is None:
            app.notify(_("The conversation store is not open yet."), severity="warning")
            return
        totals = app.store.totals(app.conversation_id)
        app.chat.add_note(_("Statistics of this conversation"), as_text(report_of(totals)))

    def switch_agent(self, spec: str) -> None:
        app = self.app
        if not spec:
            app.notify(
                _("Usage: /agent NAME ({names}, or module:attribute)").format(
                    names=", ".join(BUILTIN_AGENTS)
                ),
                severity="warning",
            )
            return
        if not isinstance(app.runner, TurnRunner):
            app.notify(_("The backend is not ready yet."), severity="warning")
            return
        from tui.core.agents import AgentLoadError, load_agent

        try:
            agent = load_agent(spec, seed=app.settings.seed)
        except AgentLoadError as error:
            app.chat.add_note(_("Cannot switch agent"), str(error), kind="error")
            return
        app.runner.switch_agent(agent)
        if app.runner.mcp is not None:
            app.connect_mcp()  # its own servers, now; failures reported as at start-up
        app.update_header()
        app.timeline.note("agent", _("agent: {name}").format(name=app.runner.agent_name))
        app.notify(_("Now talking to {name}.").format(name=app.runner.agent_name))
