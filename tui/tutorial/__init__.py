"""``agents-tui tutorial N``: the source tutorial's six programs, run as it shows them.

Each program is one module with a ``run(program)`` coroutine: it sends the tutorial's
prompts through a ``Conversation`` of the core (as ``agents-tui run`` does) on whatever
backend the usual flags choose, and prints what the tutorial's program prints. A front end
like ``tui.headless``: it imports the core, never Textual or the HTTP server.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from tui.tutorial.common import (
    Program,
    ProgramError,
    ReadLine,
    RunnerFactory,
    ServeApi,
    read_terminal_line,
    say,
)

if TYPE_CHECKING:
    from tui.core.config import Settings


@dataclass(frozen=True, slots=True)
class Entry:
    number: int
    name: str
    agent: str
    title: str  # the tutorial's heading over the program (its "với" translated)
    module: str

    def runner(self) -> Callable[[Program], Awaitable[int]]:
        import importlib

        run: Callable[[Program], Awaitable[int]] = importlib.import_module(self.module).run
        return run


# The tutorial's programs, in its order, under its own section headings.
PROGRAMS = (
    Entry(
        1,
        "storyteller",
        "storyteller",
        "Basic Streaming Implementation",
        "tui.tutorial.storyteller",
    ),
    Entry(
        2,
        "game-master",
        "game-master",
        "Advanced Streaming with Run Item Events",
        "tui.tutorial.game_master",
    ),
    Entry(
        3, "console-chat", "assistant", "Console-based Chat Interface", "tui.tutorial.console_chat"
    ),
    Entry(
        4,
        "web-service",
        "web-assistant",
        "Web-based Streaming Interface",
        "tui.tutorial.web_service",
    ),
    Entry(
        5,
        "resilient",
        "resilient-assistant",
        "Robust Streaming with Error Recovery",
        "tui.tutorial.resilient",
    ),
    Entry(
        6,
        "performance",
        "performance-assistant",
        "Streaming Performance Monitoring",
        "tui.tutorial.performance",
    ),
)


@dataclass(frozen=True, slots=True)
class Autopilot:
    """What ``agents-tui tutorial N --tui`` types for the person, in order, and the
    settings the program runs with (its agent, program 5's faults, program 3's history)."""

    agent: str
    prompts: tuple[str, ...]
    changes: dict[str, object]


def autopilot(entry: Entry, settings: Settings) -> Autopilot:
    """Program ``entry``'s prompts as the TUI types them: the same scenarios and queries as
    ``agents-tui tutorial N`` sends (program 3, which reads the person's lines, types a
    greeting and two of its commands; program 4's messages go to the Web Assistant in the
    TUI, not through the API; program 5's with their context, under its injected faults)."""
    from tui.tutorial import game_master, resilient, storyteller, web_service
    from tui.tutorial.console_chat import HISTORY
    from tui.tutorial.performance import queries

    changes: dict[str, object] = {}
    if entry.number == 1:
        prompts = [storyteller.request()]
    elif entry.number == 2:
        prompts = game_master.scenarios()
    elif entry.number == 3:
        hello = say("Hello! What can you help me with?", "Xin chào! Bạn có thể giúp gì cho tôi?")
        prompts = [hello, "/history", "/stats"]
        changes["history"] = settings.history or HISTORY
    elif entry.number == 4:
        prompts = web_service.messages()
    elif entry.number == 5:
        prompts = [resilient.recovery_context(m, c) for m, c in resilient.scenarios()]
        changes["inject_faults"] = settings.inject_faults or resilient.FAULT_RATE
    else:
        prompts = queries()
    return Autopilot(entry.agent, tuple(prompts), changes)


def find(choice: str) -> Entry | None:
    """A program by its number (1-6) or its name."""
    wanted = choice.strip().lower().replace("_", "-")
    return next((p for p in PROGRAMS if wanted in (str(p.number), p.name)), None)


def heading(entry: Entry) -> str:
    """The tutorial's heading, in its own words under ``--lang vi``."""
    return say(entry.title, entry.title.replace(" with ", " với "))


def menu() -> str:
    lines = ["The source tutorial's programs (agents-tui tutorial N):"]
    lines += [f"  {p.number}  {p.name:<13} {heading(p)} ({p.agent})" for p in PROGRAMS]
    lines.append("Backend: the bundled model, or --model/--base-url; --lang vi for its Vietnamese.")
    return "\n".join(lines)


async def run_program(
    settings: Settings,
    entry: Entry,
    *,
    out: TextIO | None = None,
    make_runner: RunnerFactory | None = None,
    read_line: ReadLine = read_terminal_line,
    pace: float | None = None,
    serve_api: ServeApi | None = None,
) -> int:
    """Run one program to its summary; its exit status (1 when a turn failed). ``pace``:
    ``tui.core.pace.parse_pace``'s (None: the text as it streams); ``serve_api``: program
    4's service (``tui.tutorial_api.serving``)."""
    program = Program(
        settings,
        out or sys.stdout,
        make_runner=make_runner,
        read_line=read_line,
        pace=pace,
        serve_api=serve_api,
    )
    try:
        return await entry.runner()(program)
    except ProgramError as error:
        from tui.core.secrets import redact

        print(f"agents-tui: {redact(str(error))}", file=sys.stderr)
        return 1
    finally:
        await program.close()


def run_tutorial(
    settings: Settings,
    choice: str | None,
    *,
    list_only: bool = False,
    pace: str = "off",
    serve_api: ServeApi | None = None,
) -> int:
    """``agents-tui tutorial [N]``: the menu, or program N (``--pace``: its text's pace;
    ``serve_api``: program 4's service)."""
    from tui.core.pace import PaceError, parse_pace

    try:
        words_per_s = parse_pace(pace)
    except PaceError as error:
        print(f"agents-tui: {error}", file=sys.stderr)
        return 2
    if list_only or choice is None:
        print(menu())
        return 0
    entry = find(choice)
    if entry is None:
        print(
            f"agents-tui: no tutorial program {choice!r}: give 1-6 or a name "
            "(agents-tui tutorial --list)",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(run_program(settings, entry, pace=words_per_s, serve_api=serve_api))
    except KeyboardInterrupt:
        print("\nagents-tui: interrupted", file=sys.stderr)
        return 130


__all__ = [
    "PROGRAMS",
    "Autopilot",
    "Entry",
    "Program",
    "autopilot",
    "find",
    "menu",
    "run_program",
    "run_tutorial",
]
