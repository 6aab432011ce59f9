"""What the six programs share: a runner for the program's agent on the usual backend, a
store, conversations, and printing as the tutorial's ``print(..., flush=True)`` does.

A program never calls the SDK: each prompt is a turn of a ``Conversation`` (the same object
the TUI, ``agents-tui run`` and the API drive), whose events it prints in the tutorial's
words. Its figures are the conversation's own ``TurnMetrics``, defined once in
``tui.core.observe.metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TextIO

from tui.core import events as ev
from tui.core.i18n import language
from tui.core.sanitize import safe_text

if TYPE_CHECKING:
    from tui.core.config import Settings
    from tui.core.store import Store
    from tui.core.turn.conversation import Conversation
    from tui.core.turn.runner import TurnRunner

# A test (or a tool) builds the runner itself: ``make_runner(settings)`` for the program's
# settings (its agent, its faults); the default builds it as ``agents-tui run`` does.
RunnerFactory = Callable[["Settings"], "TurnRunner"]
ReadLine = Callable[[str], "str | None"]  # the console chat's input(); None at the end
# Program 4's service: ``agents-tui api``'s app serving (store, runner, model label) while
# the block runs, at the base URL it yields (``tui.tutorial_api.serving``, which the CLI
# hands over: the programs import no HTTP server).
ServeApi = Callable[["Store", "TurnRunner", str], AbstractAsyncContextManager[str]]


class ProgramError(Exception):
    """The program cannot start (no model, a bad agent): a one-line reason."""


def say(en: str, vi: str) -> str:
    """The tutorial's own words under ``--lang vi``, their translation otherwise."""
    return vi if language() == "vi" else en


def read_terminal_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


@dataclass(slots=True)
class Program:
    """One run of one program: its settings, where it prints, its runner and store."""

    settings: Settings
    out: TextIO = field(default_factory=lambda: sys.stdout)
    make_runner: RunnerFactory | None = None
    read_line: ReadLine = read_terminal_line
    runner: TurnRunner | None = None
    store: Store | None = None
    model_label: str = ""
    current: Conversation | None = None  # one at a time: they share the runner
    after_label: bool = False  # the reply goes on right after a label ("🎭 GM continues: ")
    pace: float | None = None  # --pace: None off, 0.0 auto, else words a second
    serve_api: ServeApi | None = None  # program 4's API, started in-process

    # --- printing -----------------------------------------------------------------------------
    def write(self, text: str) -> None:
        """``print(text, end="", flush=True)``; model text is neutralised on a terminal."""
        self.out.write(text)
        self.out.flush()

    def line(self, text: str = "") -> None:
        self.write(text + "\n")

    def label(self, text: str) -> None:
        """A label the reply follows on the same line, as ``print(label, end="")``."""
        self.write(text)
        self.after_label = True

    def model_text(self, text: str) -> None:
        """Streamed model text. The core starts a second message of a turn on a new
        paragraph; after a label the tutorial's text follows the label at once."""
        if self.after_label:
            text = text.lstrip("\n")
            self.after_label = not text
        isatty = getattr(self.out, "isatty", None)
        self.write(safe_text(text) if callable(isatty) and isatty() else text)

    # --- the run --------------------------------------------------------------------------
    async def start(self, agent: str, **changes: object) -> None:
        """The runner for ``agent`` on the usual backend (``--model``, ``--base-url``, the
        bundled model by default), with the program's own settings (``changes``)."""
        settings = replace(self.settings, agent=agent, **changes)  # type: ignore[arg-type]
        if self.make_runner is not None:
            self.runner = self.make_runner(settings)
            self.model_label = settings.model or ""
        else:
            from tui.core.agents import AgentLoadError
            from tui.core.models.providers import ProviderError, build_runner

            try:
                self.runner, backend = build_runner(settings)
                self.model_label = backend.label
                if backend.engine is not None:
                    await asyncio.to_thread(backend.engine.load)
            except (AgentLoadError, ProviderError) as error:
                raise ProgramError(str(error)) from None
        from tui.core.store import Store

        try:
            self.store = Store()
        except Exception as error:
            raise ProgramError(f"cannot open the conversation store: {error}") from None

    def conversation(self, title: str) -> Conversation:
        """A new stored conversation (the tutorial's fresh ``Runner.run_streamed`` call, or
        its session), named after the program; the one before it is closed."""
        from tui.core.turn.conversation import Conversation

        assert self.runner is not None and self.store is not None, "start() first"
        self.end_conversation()
        self.current = Conversation(
            self.store, self.runner, model_label=self.model_label, title=title
        )
        return self.current

    def end_conversation(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    async def turn(self, conversation: Conversation, prompt: str) -> AsyncIterator[ev.RunEvent]:
        """The prompt's turn, event by event (the conversation's stages already passed);
        with ``--pace`` its text comes at the pacer's rate (``tui.tutorial.paced``)."""
        events = _run_events(conversation, prompt)
        if self.pace is not None:
            from tui.core.pace import Pacer
            from tui.tutorial.paced import paced

            events = paced(events, Pacer.of(self.pace))
        async with contextlib.aclosing(events) as shown:
            async for event in shown:
                yield event

    async def close(self) -> None:
        self.end_conversation()
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.close()


async def _run_events(conversation: Conversation, prompt: str) -> AsyncGenerator[ev.RunEvent]:
    from tui.core.turn.conversation import Queued

    async with contextlib.aclosing(conversation.turn(prompt)) as events:
        async for event in events:
            if not isinstance(event, Queued):
                yield event
