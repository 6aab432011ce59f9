"""Every slash command once: name, help, and the name of the handler that carries it out.

The prompt's completion and hint, the command palette (Ctrl+P), F1, ``/help`` and the
dispatcher all read this table, so a command added here shows up everywhere. Handlers live in
``tui.slash_handlers`` (or are the app's key actions); they
are named, not imported: this module imports nothing of the app (no import circle).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tui.core.i18n import N_, _


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    help_en: str  # marked for translation; ``help`` is it in the interface's language
    handler: str  # the app method; called with the argument when ``takes_argument``
    takes_argument: bool = False

    @property
    def help(self) -> str:
        return _(self.help_en)


COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("/help", N_("show keys and commands"), "action_help"),
    SlashCommand("/history", N_("list this conversation's messages"), "show_history"),
    SlashCommand("/clear", N_("start a fresh conversation"), "clear_conversation"),
    SlashCommand("/stats", N_("chat and performance statistics"), "show_stats"),
    SlashCommand("/cancel", N_("cancel the running turn"), "action_cancel_turn"),
    SlashCommand("/agent", N_("switch agent: /agent NAME"), "switch_agent", takes_argument=True),
    SlashCommand(
        "/sessions", N_("find, open, rename, delete stored conversations"), "action_sessions"
    ),
    SlashCommand(
        "/export", N_("write the transcript: /export md|json [PATH]"), "export", takes_argument=True
    ),
    SlashCommand("/copy", N_("copy the last reply to the clipboard"), "action_copy_last"),
    SlashCommand("/retry", N_("try the last prompt again"), "retry_last"),
    SlashCommand(
        "/theme", N_("switch theme: /theme agents-light"), "switch_theme", takes_argument=True
    ),
    SlashCommand(
        "/context", N_("what the model receives: messages, tokens, left out"), "show_context"
    ),
    SlashCommand("/tools", N_("list every tool the agent can call, with its source"), "show_tools"),
    SlashCommand(
        "/dashboard",
        N_("performance charts: TTFT, tokens/s, latency, errors (F2)"),
        "action_dashboard",
    ),
    SlashCommand("/quit", N_("quit agents-tui"), "quit_soon"),
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


def handler_of(targets: tuple[object, ...], command: SlashCommand) -> Callable[..., object]:
    """The first target that carries ``command`` (the handlers, then the app's key actions)."""
    for target in targets:
        method: Callable[..., object] | None = getattr(target, command.handler, None)
        if callable(method):
            return method
    raise LookupError(f"no handler {command.handler!r} for {command.name}")


def dispatch(targets: tuple[object, ...], line: str) -> bool:
    """Run ``line`` on the first of ``targets`` that handles it; False when it names none."""
    name, _sep, argument = line.strip().partition(" ")
    command = BY_NAME.get(name)
    if command is None:
        return False
    method = handler_of(targets, command)
    if command.takes_argument:
        method(argument.strip())
    else:
        method()
    return True
