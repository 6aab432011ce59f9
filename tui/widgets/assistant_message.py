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
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.markdown import Markdown
    from rich.padding import Padding
    from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Static

from tui import textual_patches
from tui.core.events import TurnStatus
from tui.core.i18n import _, ngettext
from tui.core.observe.metrics import MetricsSummary
from tui.core.sanitize import safe_text
from tui.core.turn.growing_text import GrowingText
from tui.render.blocks import MARKDOWN_LIMIT, Block, BlockSplitter, Retract, Tail, blank_before
from tui.widgets.rendered_block import BlockLayout, RenderedBlock, StreamBody

FRAME_S = 1 / 30  # at most 30 paints a second per reply, whatever the token rate
FLOOD_FRAME_S = 1 / 15  # while text arrives faster than this many characters a second
FLOOD_CHARS_PER_S = 5_000


RESERVE_LINES = 40
MAX_RESERVE_LINES = 120
# A finished reply longer than this hands its blocks to the transcript (drawn a block at a
# time); a shorter one is rendered whole there, as a reopened one is.
LONG_REPLY = 8_000
CODE_THEME = "monokai"


def markdown(
    source: str, *, draft: bool = False, tokens: list[Token] | None = None
) -> Markdown | Text:
    """Rich Markdown; a ``draft`` (the growing tail) skips syntax highlighting; ``tokens``
    are the source's, already parsed (``tui.render.blocks.parse``)."""
    if len(source) > MARKDOWN_LIMIT:
        return Text(source)
    cls = _markdown_classes()[1 if draft else 0]
    rendered = cls(source, hyperlinks=False, code_theme=CODE_THEME)
    if tokens is not None:
        rendered.parsed = tokens  # parsed once, by the splitter
    return rendered


_CLASSES: tuple[type[Markdown], type[Markdown]] | None = None


def _markdown_classes() -> tuple[type[Markdown], type[Markdown]]:
    """Rich's Markdown, built with one shared parser (Rich builds a new ``MarkdownIt`` for
    every document, ~0.8 ms: more than parsing a short tail); and a draft variant whose code
    blocks are plain text, since highlighting a growing block on every paint costs most of
    a frame (it is highlighted once the block is finished). Imported on first use: not on
    the first frame's path."""
    global _CLASSES
    if _CLASSES is None:
        from rich.markdown import CodeBlock, Markdown

        from tui.render.blocks import parse

        class SharedParserMarkdown(Markdown):
            def __init__(self, markup: str, code_theme: str, hyperlinks: bool) -> None:
                self._parsed: list[Token] | None = None  # parsed when first drawn
                if not textual_patches.init_markdown_unparsed(
                    self, markup, code_theme=code_theme, hyperlinks=hyperlinks
                ):  # the patches off: Rich's own, which parses now with a parser of its own
                    super().__init__(markup, code_theme=code_theme, hyperlinks=hyperlinks)

            @property
            def parsed(self) -> list[Token]:
                if self._parsed is None:
                    self._parsed = parse(self.markup)
                return self._parsed

            @parsed.setter
            def parsed(self, tokens: list[Token]) -> None:
                self._parsed = tokens

            def release(self) -> None:
                """Drop the parsed tokens (a committed block keeps its text, not ~15
                objects a paragraph that the collector would scan): parsed again if
                the block is drawn again."""
                self._parsed = None

        class DraftCodeBlock(CodeBlock):
            def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
                code = str(self.text).rstrip()
                yield code_piece(code, "", first=True, last=True, draft=True)

        class DraftMarkdown(SharedParserMarkdown):
            elements = {**Markdown.elements, "fence": DraftCodeBlock, "code_block": DraftCodeBlock}

        _CLASSES = (SharedParserMarkdown, DraftMarkdown)
    return _CLASSES


def _blank_before(renderable: RenderableType | None) -> bool:
    return blank_before(getattr(renderable, "parsed", None))


def code_piece(
    code: str, lexer: str, *, first: bool, last: bool, draft: bool = False
) -> Padding | Syntax:
    """Part of a code block, drawn as Rich's Markdown draws the whole block (one line of
    padding above the first piece and below the last), so the pieces join seamlessly; a
    ``draft`` (still growing) is plain text, highlighted once it is finished."""
    from rich.padding import Padding
    from rich.syntax import Syntax

    padding = (1 if first else 0, 1, 1 if last else 0, 1)
    if draft:
        return Padding(Text(code, style="bright_white"), padding)
    return Syntax(code, lexer, theme=CODE_THEME, word_wrap=True, padding=padding)


@textual_patches.lay_out_once
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
        # everything received, sanitised, byte for byte as shown, and what of it is finished
        self._split = BlockSplitter()
        self._reasoning = GrowingText()
        self._flush_pending = False
        self._body = StreamBody(classes="block")
        self._reasoning_view: Static | None = None
        self.status: TurnStatus | None = None
        self._extra: list[Static] = []
        self._last_flush = 0.0
        self._flushed_size = 0
        self._frame_s = FRAME_S
        self._growth_mark = (time.monotonic(), 0)
        self._final: RenderedBlock | None = None
        self._paused = False  # waiting for a person: no lines reserved ahead
        self.ending: tuple[str | None, MetricsSummary | None] = (None, None)  # note, summary
        self._composed = False

    @property
    def source(self) -> str:
        return self._split.source

    @source.setter
    def source(self, text: str) -> None:
        self._split = BlockSplitter()
        self._split.append(text)

    @property
    def reasoning(self) -> str:
        return str(self._reasoning)

    def compose(self) -> ComposeResult:
        self._composed = True
        yield self._final if self._final is not None else self._body
        yield from self._extra

    def record_layout(self) -> BlockLayout | None:
        """A long finished reply's blocks, for the transcript (None: render it whole)."""
        if self._final is not None or self.status is None or len(self.source) < LONG_REPLY:
            return None
        return self._body.block_layout()

    def _final_body(self) -> Markdown | Text:
        return markdown(self.source) if self.source.strip() else Text("")

    # --- streaming -------------------------------------------------------------------------
    def append(self, text: str) -> None:
        self._split.append(safe_text(text))
        self._paused = False
        self._schedule_flush()

    def append_reasoning(self, text: str) -> None:
        self._reasoning.append(safe_text(text))
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
            wait = self._last_flush + self._frame_s - time.monotonic()
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
        now = time.monotonic()
        size = len(self.source)
        if now > self._last_flush:
            # Faster than anyone reads (a local server at full speed): fewer paints, more
            # of the CPU for the stream itself. Measured: 1.37x -> 1.25x of run --text.
            rate = (size - self._flushed_size) / (now - self._last_flush)
            self._frame_s = FLOOD_FRAME_S if rate > FLOOD_CHARS_PER_S else FRAME_S
        self._last_flush, self._flushed_size = now, size
        self._apply(self._split.commit())
        body = self._body
        shape = self._split.tail()
        tail = _tail_renderable(shape)
        height = body.show_tail(tail, blank=shape.blank and _blank_before(tail))
        if self._paused:
            if height != body.reserved_lines:  # no lines ahead while nothing streams
                body.reserved_lines = height
                body.refresh(layout=True)
            else:
                body.repaint_changes()
        elif height > body.reserved_lines:
            # The body outgrew the lines it reserves: reserve a few more, so the costly
            # relayout of the screen happens every few lines, not on every delta.
            # Fast streams grow faster: reserve about half a second of lines ahead.
            now = time.monotonic()
            since, lines_then = self._growth_mark
            rate = (height - lines_then) / (now - since) if now > since else 0.0
            self._growth_mark = (now, height)
            ahead = max(RESERVE_LINES, min(MAX_RESERVE_LINES, int(rate * 1.0)))
            chat = self.parent
            if chat is not None and getattr(chat, "max_scroll_y", 0) > 0:
                # A full pane: reserve rows, and the pane (not the anchor) keeps them below
                # its bottom edge. A short chat lays out cheaply, so it reserves none.
                body.reserved_lines = height + ahead
                if hasattr(chat, "reserve_coming"):
                    chat.reserve_coming()
            else:
                body.reserved_lines = height
            body.refresh(layout=True)
        else:
            body.repaint_changes()  # same size: repaint just the lines that changed
            self._keep_in_view()

    @property
    def blank_below(self) -> int:
        """Reserved blank rows at the very end of this message (none once it is done)."""
        if self._final is not None or self._extra or self.status is not None:
            return 0
        return self._body.blank_below

    def _keep_in_view(self) -> None:
        chat = self.parent
        if chat is not None and hasattr(chat, "content_grew"):
            chat.content_grew()

    def _apply(self, changes: list[Block | Retract]) -> None:
        """Draw what the splitter committed (each block rendered once, here)."""
        for change in changes:
            if isinstance(change, Retract):
                self._body.truncate(change.keep)
            else:
                self._body.commit(_block_renderable(change), blank=change.blank)

    def pause(self) -> None:
        """The run waits (for a person's approval): drop the lines reserved ahead for a fast
        stream, so no blank band separates the text from the approval bar."""
        self._paused = True
        if self.status is None and self._body.reserved_lines:
            self._body.reserved_lines = 0
            self._growth_mark = (time.monotonic(), 0)
            self._body.refresh(layout=True)
            self.call_after_refresh(self._keep_in_view)

    # --- end of turn -----------------------------------------------------------------------
    def finish(
        self, status: TurnStatus, note: str | None = None, summary: MetricsSummary | None = None
    ) -> None:
        """Show how the turn ended. Committed blocks stay as they are (already rendered once);
        only the tail is rendered again, with full highlighting, so the end costs little."""
        self.status = status
        self.ending = (note, summary)
        self.add_class(f"-{status}")
        self._apply(self._split.finish())
        self._body.finish()
        self._body.refresh(layout=True)
        lines = _status_lines(status, note, summary)
        if lines and not self._composed:
            # A turn that ends in the frame it began (a burst; a turn replayed from the
            # store): its text is composed first, the status lines after it.
            self._extra = [*self._extra, *lines]
        elif lines:
            self.mount_all(lines)
        self.call_after_refresh(self._keep_in_view)  # no reserve now: the anchor takes over

    @classmethod
    def finished(
        cls, source: str, status: TurnStatus, note: str | None, summary: MetricsSummary
    ) -> AssistantMessage:
        """A stored reply: built complete, so it can be composed before it is mounted."""
        message = cls()
        message.source = safe_text(source)  # as a streamed reply's text is
        message.status = status
        message.ending = (note, summary)
        message.add_class(f"-{status}")
        message._final = RenderedBlock(message._final_body(), classes="block")
        message._extra = _status_lines(status, note, summary)
        return message


def _block_renderable(block: Block) -> RenderableType:
    if block.kind == "code":
        return code_piece(block.text, block.lexer, first=block.first, last=block.last)
    if block.kind == "text":
        return Text(block.text)
    return markdown(block.text, tokens=block.tokens)


def _tail_renderable(tail: Tail) -> RenderableType | None:
    """The unfinished end of the reply, drawn cheaply (it is drawn again next paint)."""
    if tail.kind == "code":
        return code_piece(tail.text, "", first=False, last=True, draft=True)
    if tail.kind == "text":
        return Text(tail.text)
    if tail.kind == "markdown":
        return markdown(tail.text, draft=True)
    return None


def _status_lines(
    status: TurnStatus, note: str | None, summary: MetricsSummary | None
) -> list[Static]:
    return [Static(Text(line), classes="status") for line in status_texts(status, note, summary)]


def status_texts(status: str, note: str | None, summary: MetricsSummary | None) -> list[str]:
    """The footer lines under a reply: how it ended, its numbers, its retries."""
    lines = []
    if status != "completed":
        label = {"interrupted": "⏹ " + _("interrupted"), "failed": "✖ " + _("failed")}.get(
            status, status
        )
        lines.append(safe_text(f"{label}: {note}" if note else label))
    if summary:
        ttft = summary.get("time_to_first_token_s")
        rates = (  # a reply from the response cache had no rate measured: it says cached
            [_("cached")]
            if summary.get("cached")
            else [
                _("{n:.1f} tok/s").format(n=summary.get("tokens_per_second", 0)),
                _("{n:.1f} overall").format(n=summary.get("end_to_end_tokens_per_second", 0)),
            ]
        )
        parts = [
            f"TTFT {ttft * 1000:.0f} ms" if isinstance(ttft, float) else "TTFT —",
            *rates,
            _("{n} tokens").format(n=summary.get("streamed_tokens", 0)),
            _("{n} tool calls").format(n=summary.get("tool_calls", 0)),
        ]
        lines.append(" · ".join(parts))
        retries = int(summary.get("retries") or 0)
        if retries and status == "completed":
            lines.append(
                "↻ "
                + ngettext(
                    "recovered after {n} retry", "recovered after {n} retries", retries
                ).format(n=retries)
            )
    return lines
