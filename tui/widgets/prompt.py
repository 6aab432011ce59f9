"""The multi-line prompt: Enter sends, Ctrl+Enter / Alt+Enter send now (stopping the
reply that streams), Shift+Enter / Ctrl+J add a newline, Up/Down recall.

Tab completes a slash command; the hint line under the prompt lists the matches.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.binding import Binding
from textual.widgets import TextArea

from tui.core.i18n import N_, _
from tui.localized import localized
from tui.messages import PromptSubmitted

# Larger prompts make every keystroke re-wrap the whole document (0.5 s at 1 MB on 2 cores).
MAX_PROMPT_CHARS = 256_000
# Send now, stopping the running reply. Textual names Ctrl+Enter only where the terminal
# reports it apart from Enter (the kitty keyboard protocol, or xterm's modifyOtherKeys);
# Alt+Enter the same: most terminals and tmux send Alt+Enter as ESC CR, which Textual 8
# reads as a plain Enter.
INTERRUPT_KEYS = ("ctrl+enter", "alt+enter")


@localized
class PromptInput(TextArea):
    BINDINGS = [Binding("ctrl+j", "newline", N_("newline"), show=False)]
    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 10; border: tall $accent 40%; }
    PromptInput:focus { border: tall $accent; }
    """

    def __init__(
        self, complete: Callable[[str], list[str]] = lambda _text: [], **kwargs: object
    ) -> None:
        """``complete(text)``: the commands that ``text`` may complete to (Tab)."""
        super().__init__(
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            **kwargs,  # type: ignore[arg-type]
        )
        self.complete = complete
        self.sent_prompts: list[str] = []
        self._recall_index: int | None = None
        self._draft = ""

    async def _on_paste(self, event: events.Paste) -> None:
        size = len(self.text) + len(event.text)
        if size > MAX_PROMPT_CHARS:
            event.stop()
            event.prevent_default()
            self.notify(
                _(
                    "That paste would make the prompt {size:,} characters long; the limit is "
                    "{limit:,}. Nothing was inserted; your prompt is unchanged."
                ).format(size=size, limit=MAX_PROMPT_CHARS),
                severity="warning",
                timeout=8,
            )
            return
        # Accepted: Textual goes on to TextArea's own paste handler (handlers run up the MRO).

    def action_newline(self) -> None:
        self.insert("\n")

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key in ("enter", *INTERRUPT_KEYS):
            event.stop()
            event.prevent_default()
            self.submit(interrupt=key in INTERRUPT_KEYS)
            return
        if key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        matches = self.complete(self.text) if key == "tab" else []
        if matches:
            event.stop()
            event.prevent_default()
            common = matches[0] if len(matches) == 1 else _common_prefix(matches)
            self.text = common + (" " if len(matches) == 1 else "")
            self.move_cursor(self.document.end)
            return
        if key == "up" and self.cursor_location[0] == 0 and self.sent_prompts:
            event.stop()
            event.prevent_default()
            self._recall(-1)
            return
        if (
            key == "down"
            and self._recall_index is not None
            and (self.cursor_location[0] == self.document.line_count - 1)
        ):
            event.stop()
            event.prevent_default()
            self._recall(+1)
            return
        # Anything else: Textual calls TextArea._on_key next (handlers run up the MRO).

    def _recall(self, step: int) -> None:
        if self._recall_index is None:
            self._draft = self.text
            index = len(self.sent_prompts)
        else:
            index = self._recall_index
        index = max(0, min(len(self.sent_prompts), index + step))
        self._recall_index = None if index == len(self.sent_prompts) else index
        self.text = self._draft if self._recall_index is None else self.sent_prompts[index]
        self.move_cursor(self.document.end)

    def submit(self, *, interrupt: bool = False) -> None:
        """Send the prompt (``interrupt``: stopping the running reply, which it follows)."""
        text = self.text
        if not text.strip():
            return
        if len(text) > MAX_PROMPT_CHARS:
            self.notify(
                _(
                    "That prompt has {size:,} characters; the limit is {limit:,}. "
                    "Nothing was sent and your text is still here."
                ).format(size=len(text), limit=MAX_PROMPT_CHARS),
                severity="warning",
            )
            return
        if not self.sent_prompts or self.sent_prompts[-1] != text:
            self.sent_prompts.append(text)
        self._recall_index = None
        self._draft = ""
        self.clear()
        self.post_message(PromptSubmitted(text, interrupt=interrupt))


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]
