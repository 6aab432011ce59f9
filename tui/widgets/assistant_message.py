"""One assistant reply, streamed cheaply and kept cheaply.

While streaming, deltas are buffered and painted at most once per frame (``FRAME_S``).
Each finished Markdown block (up to a blank line outside a code fence) is rendered once
and kept as lines; only the unfinished block at the end is rendered again on a paint.
The reply is one widget from first delta to last, so streaming mounts nothing.
All text is sanitised and never parsed as Rich markup.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Static

from tui.core.events import TurnStatus
from tui.core.sanitize import safe_text
from tui.widgets.rendered_block import RenderedBlock, StreamBody

FRAME_S = 1 / 30  # at most 30 paints a second per reply, whatever the token rate


# Past these sizes Markdown parsing per frame (or once, at the end) would stall the app:
# a huge tail is committed early, and a huge reply is shown as plain text.
TAIL_MARKDOWN_LIMIT = 8_000
RESERVE_LINES = 10
MAX_RESERVE_LINES = 30
MARKDOWN_LIMIT = 100_000


def markdown(source: str, *, draft: bool = False) -> Markdown | Text:
    """Rich Markdown; a ``draft`` (the growing tail) skips syntax highlighting."""
    if len(source) > MARKDOWN_LIMIT:
        return Text(source)
    cls = _markdown_classes()[1 if draft else 0]
    return cls(source, hyperlinks=False, code_theme="monokai")


_CLASSES: tuple[type[Markdown], type[Markdown]] | None = None


def _markdown_classes() -> tuple[type[Markdown], type[Markdown]]:
    """Rich's Markdown, built with one shared parser (Rich builds a new ``MarkdownIt`` for
    every document, ~0.8 ms: more than parsing a short tail); and a draft variant whose code
    blocks are plain text, since highlighting a growing block on every paint costs most of
    a frame (it is highlighted once the block is finished). Imported on first use: not on
    the first frame's path."""
    global _CLASSES
    if _CLASSES is None:
        from markdown_it import MarkdownIt
        from rich.markdown import CodeBlock, Markdown
        from rich.padding import Padding

        parser = MarkdownIt().enable("strikethrough").enable("table")

        class SharedParserMarkdown(Markdown):
            def __init__(self, markup: str, code_theme: str, hyperlinks: bool) -> None:
                self.markup = markup
                self.parsed = parser.parse(markup)
                self.code_theme = code_theme
                self.justify = None
                self.style = "none"
                self.hyperlinks = hyperlinks
                self.inline_code_lexer = None
                self.inline_code_theme = code_theme

        class DraftCodeBlock(CodeBlock):
            def __rich_console__(self, console: Any, options: Any) -> Any:
                yield Padding(Text(str(self.text).rstrip(), style="bright_white"), 1)

        class DraftMarkdown(SharedParserMarkdown):
            elements = {**Markdown.elements, "fence": DraftCodeBlock, "code_block": DraftCodeBlock}

        _CLASSES = (SharedParserMarkdown, DraftMarkdown)
    return _CLASSES


def _fence_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.lstrip().startswith(("```", "~~~")))


class AssistantMessage(Vertical):
    DEFAULT_CSS = """
    AssistantMessage { height: auto; margin: 1 0 0 0; padding: 0 1; }
    AssistantMessage > .block { height: auto; }
    AssistantMessage > .status { color: $text-muted; height: auto; }
    AssistantMessage.-interrupted > .status { color: $warning; }
    AssistantMessage.-failed > .status { color: $error; }
    AssistantMessage > Collapsible { color: $text-muted; }
    """

    def __init__(self, agent_name: str = "") -> None:
        super().__init__()
        self.agent_name = agent_name
        self.source = ""  # everything received, sanitised, byte for byte as shown
        self.reasoning = ""
        self._committed_upto = 0
        self._committed_fences = 0
        self._flush_pending = False
        self._body = StreamBody(classes="block")
        self._reasoning_view: Static | None = None
        self.status: TurnStatus | None = None
        self._extra: list[Static] = []
        self._last_flush = 0.0
        self._growth_mark = (time.monotonic(), 0)
        self._final: RenderedBlock | None = None

    def compose(self) -> ComposeResult:
        yield self._final if self._final is not None else self._body
        yield from self._extra

    def _final_body(self) -> Markdown | Text:
        return markdown(self.source) if self.source.strip() else Text("")

    # --- streaming -------------------------------------------------------------------------
    def append(self, text: str) -> None:
        self.source += safe_text(text)
        self._schedule_flush()

    def append_reasoning(self, text: str) -> None:
        self.reasoning += safe_text(text)
        if self._reasoning_view is None:
            self._reasoning_view = Static(Text(self.reasoning), classes="reasoning")
            collapsible = Collapsible(self._reasoning_view, title="reasoning", collapsed=False)
            self.mount(collapsible, before=0)
        else:
            self._reasoning_view.update(Text(self.reasoning))

    def _schedule_flush(self) -> None:
        """Paint soon: at once after a quiet spell, else one frame after the last paint.
        A plain event-loop timer: a Textual timer starts a task each time, which at 30
        paints a second costs more than the paint's bookkeeping."""
        if not self._flush_pending:
            self._flush_pending = True
            wait = self._last_flush + FRAME_S - time.monotonic()
            loop = asyncio.get_running_loop()
            if wait <= 0:
                loop.call_soon(self.flush)
            else:
                loop.call_later(wait, self.flush)

    def flush(self) -> None:
        """Paint what arrived since the last frame (one paint per frame, whatever the rate)."""
        self._flush_pending = False
        if self.status is not None or not self.is_attached:
            return
        self._last_flush = time.monotonic()
        self._commit_finished_blocks()
        tail = self.source[self._committed_upto :]
        body = self._body
        height = body.show_tail(markdown(tail, draft=True) if tail.strip() else None)
        if height > body.reserved_lines:
            # The body outgrew the lines it reserves: reserve a few more, so the costly
            # relayout of the screen happens every few lines, not on every delta.
            # Fast streams grow faster: reserve about half a second of lines ahead.
            now = time.monotonic()
            since, lines_then = self._growth_mark
            rate = (height - lines_then) / (now - since) if now > since else 0.0
            self._growth_mark = (now, height)
            ahead = max(RESERVE_LINES, min(MAX_RESERVE_LINES, int(rate * 1.0)))
            body.reserved_lines = height + ahead
            body.refresh(layout=True)
        else:
            body.repaint_changes()  # same size: repaint just the lines that changed

    def _commit_finished_blocks(self) -> None:
        """Commit every block that a blank line (outside a code fence) has finished."""
        search = self._committed_upto
        while (cut := self.source.find("\n\n", search)) >= 0:
            block = self.source[self._committed_upto : cut]
            fences = self._committed_fences + _fence_lines(block)
            if fences % 2:  # inside an open code fence a blank line ends nothing
                search = cut + 2
                continue
            self._commit(block, cut + 2, fences, as_markdown=True)
            search = self._committed_upto
        if len(self.source) - self._committed_upto > TAIL_MARKDOWN_LIMIT:
            # A huge paragraph, code block or unbroken line: commit it as plain text in
            # pieces, so that no frame has to render more than the limit again.
            end = self.source.rfind("\n", self._committed_upto)
            if end <= self._committed_upto:
                end = len(self.source)
            block = self.source[self._committed_upto : end]
            self._commit(
                block, end, self._committed_fences + _fence_lines(block), as_markdown=False
            )

    def _commit(self, block: str, upto: int, fences: int, *, as_markdown: bool) -> None:
        if block.strip():
            self._body.commit(markdown(block) if as_markdown else Text(block))
        self._committed_upto = upto
        self._committed_fences = fences

    # --- end of turn -----------------------------------------------------------------------
    def finish(
        self, status: TurnStatus, note: str | None = None, summary: dict[str, Any] | None = None
    ) -> None:
        """Show how the turn ended. Committed blocks stay as they are (already rendered once);
        only the tail is rendered again, with full highlighting, so the end costs little."""
        self.status = status
        self.add_class(f"-{status}")
        tail = self.source[self._committed_upto :]
        if tail.strip():
            self._body.commit(markdown(tail))
        self._committed_upto = len(self.source)
        self._body.finish()
        self._body.refresh(layout=True)
        lines = _status_lines(status, note, summary)
        if lines:
            self.mount_all(lines)

    @classmethod
    def finished(
        cls, source: str, status: TurnStatus, note: str | None, summary: dict[str, Any]
    ) -> AssistantMessage:
        """A stored reply: built complete, so it can be composed before it is mounted."""
        message = cls()
        message.source = source
        message.status = status
        message.add_class(f"-{status}")
        message._final = RenderedBlock(message._final_body(), classes="block")
        message._extra = _status_lines(status, note, summary)
        return message


def _status_lines(
    status: TurnStatus, note: str | None, summary: dict[str, Any] | None
) -> list[Static]:
    lines = []
    if status != "completed":
        label = {"interrupted": "⏹ interrupted", "failed": "✖ failed"}[status]
        text = f"{label}: {note}" if note else label
        lines.append(Static(Text(safe_text(text)), classes="status"))
    if summary:
        ttft = summary.get("time_to_first_token_s")
        parts = [
            f"TTFT {ttft * 1000:.0f} ms" if isinstance(ttft, float) else "TTFT —",
            f"{summary.get('tokens_per_second', 0):.1f} tok/s",
            f"{summary.get('streamed_tokens', 0)} tokens",
            f"{summary.get('tool_calls', 0)} tool calls",
        ]
        lines.append(Static(Text(" · ".join(parts)), classes="status"))
    return lines
