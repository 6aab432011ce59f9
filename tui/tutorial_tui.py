"""``agents-tui tutorial N --tui``: the program's scenarios in the TUI, typed for the person.

The app is agents-tui's own (``AgentsTuiApp``), on the program's agent and settings. An
autopilot types each of the program's prompts (``tui.tutorial.autopilot``) into the prompt,
a character at a time at a typing pace, sends it as Enter does, and waits for the reply to
end (and a moment to read it) before the next: the person watches the chat, the timeline
and the sidebar as the tutorial's program runs.

Any key the person presses stops the autopilot for good (the key then does what it always
does; a prompt typed halfway stays for them to finish or change); so does a backend that
cannot start. When the prompts are done, the chat is theirs.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import events, on

from tui.app import AgentsTuiApp
from tui.core.i18n import _

if TYPE_CHECKING:
    from tui.core.config import Settings
    from tui.tutorial import Entry

CHARS_PER_S = 25.0  # a brisk typist: the person can read along
READ_PAUSE_S = 1.5  # after a reply, before the next prompt is typed
START_TIMEOUT_S = 600.0  # the bundled model may take minutes to load on a small machine


class TutorialApp(AgentsTuiApp):
    """The TUI with an autopilot typing ``prompts``; any key hands the prompt over."""

    def __init__(
        self,
        settings: Settings,
        prompts: tuple[str, ...] | list[str],
        *,
        title: str = "",
        chars_per_s: float = CHARS_PER_S,
        read_pause_s: float = READ_PAUSE_S,
        **app_options: Any,
    ) -> None:
        super().__init__(settings, **app_options)
        self.autopilot_prompts = list(prompts)
        self.autopilot_title = title
        self.typing_delay_s = 1.0 / chars_per_s if chars_per_s > 0 else 0.0
        self.read_pause_s = read_pause_s
        self.autopilot_on = True
        self.autopilot_sent: list[str] = []  # the prompts it typed and sent
        self._autopilot: asyncio.Task[None] | None = None

    @on(events.Mount)
    def _start_autopilot(self) -> None:  # beside AgentsTuiApp's own on_mount
        self._autopilot = asyncio.create_task(self._type_prompts())

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and self.autopilot_on:
            self.stop_autopilot(_("Autopilot stopped: the prompt is yours."))
        await super().on_event(event)

    def stop_autopilot(self, why: str) -> None:
        self.autopilot_on = False
        if self._autopilot is not None and self._autopilot is not asyncio.current_task():
            self._autopilot.cancel()
        self.notify(why, title=_("Tutorial"))

    async def _type_prompts(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not (self.model_ready and self.conversation is not None):
            if self.backend_label == _("unavailable") or loop.time() > deadline:
                self.stop_autopilot(_("The model backend did not start: nothing was typed."))
                return
            await asyncio.sleep(0.05)
        self.chat.add_note(
            self.autopilot_title or _("Tutorial"),
            _(
                "The tutorial's prompts are typed for you, one at a time: watch the chat, "
                "the timeline (Ctrl+T) and the sidebar (Ctrl+B). Press any key to take over."
            ),
        )
        for text in self.autopilot_prompts:
            await asyncio.sleep(self.read_pause_s)
            await self._type(text)
            await self._send_and_wait(text)
        self.stop_autopilot(_("The tutorial's prompts are done: the chat is yours."))

    async def _type(self, text: str) -> None:
        prompt = self.prompt_input
        prompt.clear()
        prompt.focus()
        for char in text:
            prompt.insert(char)
            if self.typing_delay_s:
                await asyncio.sleep(self.typing_delay_s)

    async def _send_and_wait(self, text: str) -> None:
        """Send as Enter does; wait for the turn to start and end (a command: a moment)."""
        before = self.chat.message_count()
        self.prompt_input.submit()
        self.autopilot_sent.append(text)
        if text.startswith("/"):
            await asyncio.sleep(0.2)
            return
        while self.chat.message_count() == before and not self.turn_running:
            await asyncio.sleep(0.02)
        # and for its reply to be on screen whole (--pace: the turn ends before its text)
        while self.turn_running or self.chat_screen.queue or self.chat_screen.pacing.waiting:
            await asyncio.sleep(0.05)


def run_in_tui(settings: Settings, entry: Entry) -> int:
    """``agents-tui tutorial N --tui``: program ``entry``'s prompts typed in the TUI (the
    CLI installs Textual's work-arounds first, as for the TUI itself)."""
    from tui.tutorial import autopilot, heading

    plan = autopilot(entry, settings)
    program_settings = replace(settings, agent=plan.agent, **plan.changes)  # type: ignore[arg-type]
    title = f"{entry.number}. {heading(entry)}"
    TutorialApp(program_settings, plan.prompts, title=title).run()
    return 0
