"""Every slash command once: name, help, and the handler that carries it out.

The prompt's completion and hint, the command palette (Ctrl+P), F1, ``/help`` and the
dispatcher all read this table, so a command added here shows up everywhere. Handlers live in
``tui.slash_handlers``, each ``handler(ctx, argument)`` against ``CommandContext``: neither
module imports the app (no import circle), and no handler is looked up by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tui import slash_handlers as h
from tui.command_context import CommandContext, PromptHost
from tui.core.i18n import N_, _

Handler = Callable[[CommandContext, str], None]


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    help_en: str  # marked for translation; ``help`` is it in the interface's language
    handler: Handler  # ``handler(ctx, argument)``; argument "" for a command that takes none
    takes_argument: bool = False

    @property
    def help(self) -> str:
        return _(self.help_en)


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("/help", N_("show keys and commands"), h.show_help),
    SlashCommand("/history", N_("list this conversation's messages"), h.show_history),
    SlashCommand("/clear", N_("start a fresh conversation"), h.clear_conversation),
    SlashCommand("/stats", N_("chat and performance statistics"), h.show_stats),
    SlashCommand("/cancel", N_("cancel the running turn"), h.cancel_turn),
    SlashCommand("/agent", N_("switch agent: /agent NAME"), h.switch_agent, takes_argument=True),
    SlashCommand(
        "/sessions", N_("find, open, rename, delete stored conversations"), h.open_sessions
    ),
    SlashCommand(
        "/export", N_("write the transcript: /export md|json [PATH]"), h.export, takes_argument=True
    ),
    SlashCommand("/copy", N_("copy the last reply to the clipboard"), h.copy_last),
    SlashCommand("/retry", N_("try the last prompt again"), h.retry_last),
    SlashCommand(
        "/summary", N_("ask the agent to sum up its last reply in one paragraph"), h.summarize
    ),
    SlashCommand(
        "/theme", N_("switch theme: /theme agents-light"), h.switch_theme, takes_argument=True
    ),
    SlashCommand(
        "/pace",
        N_("reply text at a steady pace: /pace auto|off|WORDS_PER_S"),
        h.set_pace,
        takes_argument=True,
    ),
    SlashCommand(
        "/context", N_("what the model receives: messages, tokens, left out"), h.show_context
    ),
    SlashCommand("/tools", N_("list every tool the agent can call, with its source"), h.show_tools),
    SlashCommand(
        "/dashboard",
        N_("performance charts: TTFT, tokens/s, latency, errors (F2)"),
        h.open_dashboard,
    ),
    SlashCommand("/quit", N_("quit agents-tui"), h.quit_soon),
)

BY_NAME = {command.name: command for command in COMMANDS}


class CommandTarget(Protocol):
    """What the palette needs of the app: run a command line."""

    def run_slash_command(self, command: str) -> None: ...


def completions(prefix: str) -> list[str]:
    if not prefix.startswith("/") or " " in prefix or "\n" in prefix:
        return []
    return [name for name in BY_NAME if name.startswith(prefix)]


def looks_like_command(text: str) -> bool:
    """ "/hsitory" is a mistyped command; "/etc/hosts: what is it?" is a prompt."""
    first = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return re.fullmatch(r"/[A-Za-z][\w-]*", first) is not None


def nearest(name: str) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(BY_NAME), n=1, cutoff=0.5)
    return close[0] if close else None


def dispatch(ctx: CommandContext, line: str) -> bool:
    """Run ``line``'s command; False when it names none."""
    name, _sep, argument = line.strip().partition(" ")
    command = BY_NAME.get(name)
    if command is None:
        return False
    command.handler(ctx, argument.strip() if command.takes_argument else "")
    return True


def run(ctx: CommandContext, line: str) -> None:
    """Carry out a command line; a name that is no command is answered, never sent."""
    if not dispatch(ctx, line):
        unknown_command(ctx, line.strip().split(" ", 1)[0])


def unknown_command(ctx: PromptHost, name: str) -> None:
    """The tutorial answers "Unknown command"; a typo is never sent to the model."""
    close = nearest(name)
    if close:
        hint = " " + _("Did you mean {name}?").format(name=close)
    else:
        hint = " " + _("/help lists them.")
    ctx.app.notify(_("Unknown command {name}.").format(name=name) + hint, severity="warning")
    ctx.prompt_input.text = name  # the draft stays, to be fixed
    ctx.prompt_input.move_cursor(ctx.prompt_input.document.end)
