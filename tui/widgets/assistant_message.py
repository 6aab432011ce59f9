"""One assistant reply, streamed cheaply and kept cheaply.

While streaming, deltas are buffered and painted at most once per frame (``FRAME_S``).
Each finished Markdown block (up to a blank line outside a code fence) is rendered once
and kept as lines; only the unfinished block at the end is rendered again on a paint.
The reply is one widget from first delta to last, so streaming mounts nothing.
All text is sanitised and never parsed as Rich markup.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Static

from tui.core.events import TurnStatus
from tui.core.growing_text import GrowingText
from tui.core.i18n import _, ngettext
from tui.core.sanitize import safe_text
from tui.widgets.rendered_block import BlockLayout, RenderedBlock, StreamBody

FRAME_S = 1 / 30  # at most 30 paints a second per reply, whatever the token rate
FLOOD_FRAME_S = 1 / 15  # while text arrives faster than this many characters a second
FLOOD_CHARS_PER_S = 5_000


# Past these sizes Markdown parsing per frame (or once, at the end) would stall the app:
# a huge tail is committed early, and a huge reply is shown as plain text.
TAIL_MARKDOWN_LIMIT = 8_000
# An open code block is committed in pieces of at least this many lines, so a long program
# costs a frame the same as a short one (rendering is ~35 us per line).
FENCE_PIECE_LINES = 24
# A table or list longer than this is drawn as raw lines while it streams (in batches).
DRAFT_LINES = 40
DRAFT_BATCH = 20
RESERVE_LINES = 10
MAX_RESERVE_LINES = 120
MARKDOWN_LIMIT = 100_000
# A finished reply longer than this hands its blocks to the transcript (drawn a block at a
# time); a shorter one is rendered whole there, as a reopened one is.
LONG_REPLY = 8_000
CODE_THEME = "monokai"


def markdown(source: str, *, draft: bool = False) -> Markdown | Text:
    """Rich Markdown; a ``draft`` (the growing tail) skips syntax highlighting."""
    if len(source) > MARKDOWN_LIMIT:
        return Text(source)
    cls = _markdown_classes()[1 if draft else 0]
    return cls(source, hyperlinks=False, code_theme=CODE_THEME)


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

        parser = MarkdownIt().enable("strikethrough").enable("table")

        class SharedParserMarkdown(Markdown):
            def __init__(self, markup: str, code_theme: str, hyperlinks: bool) -> None:
                self.markup = markup
                self._parsed: list[Any] | None = parser.parse(markup)
                self.code_theme = code_theme
                self.justify = None
                self.style = "none"
                self.hyperlinks = hyperlinks
                self.inline_code_lexer = None
                self.inline_code_theme = code_theme

            @property
            def parsed(self) -> list[Any]:  # type: ignore[override]
                if self._parsed is None:
                    self._parsed = parser.parse(self.markup)
                return self._parsed

            def release(self) -> None:
                """Drop the parsed tokens (a committed block keeps its text, not ~15
                objects a paragraph that the collector would scan): parsed again if
                the block is drawn again."""
                self._parsed = None

        class DraftCodeBlock(CodeBlock):
            def __rich_console__(self, console: Any, options: Any) -> Any:
                code = str(self.text).rstrip()
                yield code_piece(code, "", first=True, last=True, draft=True)

        class DraftMarkdown(SharedParserMarkdown):
            elements = {**Markdown.elements, "fence": DraftCodeBlock, "code_block": DraftCodeBlock}

        _CLASSES = (SharedParserMarkdown, DraftMarkdown)
    return _CLASSES


def _fence_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.lstrip().startswith(("```", "~~~")))


# Where Rich's Markdown puts a blank line between two top-level blocks: always, except
# after a rule, and before a list, table or quote (they bring their own).
_OWN_LEADING_BLANK = {"bullet_list_open", "ordered_list_open", "table_open", "blockquote_open"}
_ITEM = r"(?:[-*+]|\d{1,9}[.)])(?:[ \t\n]|$)"  # a list item's marker
_LIST_ITEM = re.compile(_ITEM)


def _top_level(renderable: Any) -> list[str]:
    return [token.type for token in getattr(renderable, "parsed", ()) if token.level == 0]


def _blank_before(renderable: Any) -> bool:
    tokens = _top_level(renderable)
    return not tokens or tokens[0] not in _OWN_LEADING_BLANK


def _joins_next(renderable: Any) -> bool:
    tokens = _top_level(renderable)
    return bool(tokens) and tokens[-1] == "hr"


def _may_end_with_list(block: str) -> bool:
    """Whether the block's last part is a list item or indented under one (a cheap look
    at the text: parsing every pending block on every paint would cost more)."""
    last = block[block.rfind("\n\n") + 1 :].lstrip("\n")
    return last[:1] in (" ", "\t") or _LIST_ITEM.match(last) is not None


# The start of a table (a header row, then its delimiter row; each delimiter cell after the
# first starts with a pipe, so a hostile line is matched in linear time) or of a list, at
# the start of the tail (which may begin with the newline that ended the block above).
_TABLE_START = re.compile(r"\n? {0,3}\|.*\n {0,3}\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *\n")
_LIST_START = re.compile(r"\n? {0,3}" + _ITEM)


@dataclass
class _Draft:
    """A long table or list drawn as its raw lines while it streams."""

    start: int  # where its source starts
    first_block: int  # the body's first draft block
    blank_before: bool  # whether the block itself follows a blank line


@dataclass
class _OpenFence:
    """A code block being committed in pieces: how it closes, and how to highlight it."""

    marker: str  # the opening run of ` or ~; a closing line has at least as many
    lexer: str

    def closes(self, line: str) -> bool:
        stripped = line.strip()
        run = len(stripped) - len(stripped.lstrip(self.marker[0]))
        return run >= len(self.marker) and not stripped[run:].strip()


def code_piece(code: str, lexer: str, *, first: bool, last: bool, draft: bool = False) -> Any:
    """Part of a code block, drawn as Rich's Markdown draws the whole block (one line of
    padding above the first piece and below the last), so the pieces join seamlessly; a
    ``draft`` (still growing) is plain text, highlighted once it is finished."""
    from rich.padding import Padding
    from rich.syntax import Syntax

    padding = (1 if first else 0, 1, 1 if last else 0, 1)
    if draft:
        return Padding(Text(code, style="bright_white"), padding)
    return Syntax(code, lexer, theme=CODE_THEME, word_wrap=True, padding=padding)


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
        self._source = GrowingText()  # everything received, sanitised, byte for byte as shown
        self._reasoning = GrowingText()
        self._committed_upto = 0
        self._committed_fences = 0
        self._blank_before_next = False  # whether the next block follows a blank line
        self._fence: _OpenFence | None = None
        self._draft: _Draft | None = None  # a long table or list drawn as raw lines
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
        self.ending: tuple[str | None, dict[str, Any] | None] = (None, None)  # note, summary

    @property
    def source(self) -> str:
        return str(self._source)

    @source.setter
    def source(self, text: str) -> None:
        self._source = GrowingText(text)

    @property
    def reasoning(self) -> str:
        return str(self._reasoning)

    def compose(self) -> ComposeResult:
        yield self._final if self._final is not None else self._body
        yield from self._extra

    def record_layout(self) -> BlockLayout | None:
        """A long finished reply's blocks, for the transcript (None: render it whole)."""
        if self._final is not None or self.status is None or len(self._source) < LONG_REPLY:
            return None
        return self._body.block_layout()

    def _final_body(self) -> Markdown | Text:
        return markdown(self.source) if self.source.strip() else Text("")

    # --- streaming -------------------------------------------------------------------------
    def append(self, text: str) -> None:
        self._source.append(safe_text(text))
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
        size = len(self._source)
        if now > self._last_flush:
            # Faster than anyone reads (a local server at full speed): fewer paints, more
            # of the CPU for the stream itself. Measured: 1.37x -> 1.25x of run --text.
            rate = (size - self._flushed_size) / (now - self._last_flush)
            self._frame_s = FLOOD_FRAME_S if rate > FLOOD_CHARS_PER_S else FRAME_S
        self._last_flush, self._flushed_size = now, size
        self._commit_finished_blocks()
        body = self._body
        tail = self._tail_renderable()
        height = body.show_tail(tail, blank=self._blank_before_next and _blank_before(tail))
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

    def _tail_renderable(self) -> Any:
        """The unfinished end of the reply, drawn cheaply (it is drawn again next paint)."""
        tail = self.source[self._committed_upto :]
        if self._fence is not None:
            return code_piece(tail.rstrip("\n"), "", first=False, last=True, draft=True)
        if not tail.strip():
            return None
        if self._draft is not None:
            return Text(tail.removeprefix("\n"))
        return markdown(tail, draft=True)

    def _commit_finished_blocks(self) -> None:
        """Commit every block that a blank line (outside a code fence) has finished, and
        long open code blocks in pieces."""
        if self._fence is not None and not self._continue_fence():
            return
        search = self._committed_upto
        fences = self._committed_fences
        while (cut := self.source.find("\n\n", search)) >= 0:
            fences += _fence_lines(self.source[search:cut])  # whole lines: counted once
            search = cut + 2
            if fences % 2:  # inside an open code fence a blank line ends nothing
                continue
            block = self.source[self._draft.start if self._draft else self._committed_upto : cut]
            if not block.strip():
                self._committed_upto, self._committed_fences = cut + 2, fences
                continue
            if _may_end_with_list(block) and not self._list_is_over(cut + 2):
                continue  # the next block may be more of this list (a loose list is one list)
            if self._draft is not None:
                self._end_draft()
            self._committed_fences = fences
            self._commit_markdown(markdown(block), cut + 2)
        if (fences + _fence_lines(self.source[search:])) % 2 and self._start_fence():
            return
        upto = self._committed_upto
        if (
            self._draft
            or _TABLE_START.match(self.source, upto)
            or _LIST_START.match(self.source, upto)
        ):
            self._draft_rows()
        if self._draft is None and len(self.source) - self._committed_upto > TAIL_MARKDOWN_LIMIT:
            # A huge paragraph or unbroken line: drawn as plain text in pieces while it
            # streams, so that no frame renders more than the limit again; a draft, so that
            # when it ends it is laid out as Markdown once, as it is when reopened.
            self._draft = _Draft(
                self._committed_upto, len(self._body.blocks), self._blank_before_next
            )
            end = self.source.rfind("\n", self._committed_upto) + 1
            if end <= self._committed_upto:
                end = len(self.source)
            block = self.source[self._committed_upto : end]
            self._commit(Text(block.removesuffix("\n")), end, joins_next=True)
            self._committed_fences += _fence_lines(block)

    def _draft_rows(self) -> None:
        """A long table or list is drawn as its raw lines while it streams: a table is laid
        out from all its rows (so it cannot be committed in pieces) and laying out a few
        hundred rows or items on every paint costs more than a frame. When it ends, the
        drafts are replaced by the block, laid out once. A draft stops before its last
        newline, so a blank line after it is still seen as the end of the block."""
        start = self._committed_upto
        last_newline = self.source.rfind("\n")
        if last_newline <= start:
            if self._draft is not None and len(self.source) - start > TAIL_MARKDOWN_LIMIT:
                # one huge unfinished row or item: drafted as it is
                self._commit(
                    Text(self.source[start:].removeprefix("\n")), len(self.source), joins_next=True
                )
            return
        finished = self.source[start:last_newline]
        if self._draft is None:
            if finished.count("\n") + 1 < DRAFT_LINES:
                return
            self._draft = _Draft(start, len(self._body.blocks), self._blank_before_next)
        elif finished.count("\n") < DRAFT_BATCH:
            return
        self._commit(Text(finished.removeprefix("\n")), last_newline, joins_next=True)

    def _end_draft(self) -> None:
        """Take the drafts back: the table's or list's source is committed again as one
        block."""
        assert self._draft is not None
        self._body.truncate(self._draft.first_block)
        self._committed_upto = self._draft.start
        self._blank_before_next = self._draft.blank_before
        self._draft = None

    def _commit_markdown(self, rendered: Any, upto: int) -> None:
        self._commit(
            rendered, upto, joins_next=_joins_next(rendered), blank=_blank_before(rendered)
        )

    def _list_is_over(self, start: int) -> bool:
        """Whether the text after a blank line ends the list above it (False while unknown:
        nothing yet, more blank lines, an indented line or another item)."""
        rest = self.source[start:].lstrip("\n")
        if not rest:
            return False
        return not (rest[0] in " \t" or _LIST_ITEM.match(rest))

    def _commit(self, renderable: Any, upto: int, *, joins_next: bool, blank: bool = True) -> None:
        self._body.commit(renderable, blank=blank and self._blank_before_next)
        self._blank_before_next = not joins_next
        self._committed_upto = upto

    def _start_fence(self) -> bool:
        """The tail holds an open code block: once it has enough finished lines, commit
        the text before it and its first piece, and go on in pieces. False if this block
        is not for pieces (a fence indented inside a list, or inside a draft)."""
        if self._draft is not None:
            return False
        tail_start = self._committed_upto
        opener = -1
        position = tail_start
        for line in self.source[tail_start:].split("\n"):
            if line.lstrip().startswith(("```", "~~~")):
                opener = position
            position += len(line) + 1
        if opener < 0 or self.source[opener] in " \t":
            return False
        code_start = self.source.find("\n", opener) + 1
        if code_start <= 0:
            return True
        end = self._piece_end(code_start)
        if end < 0:
            return True
        if self.source[tail_start:opener].strip():  # a paragraph right above the fence
            self._commit_markdown(markdown(self.source[tail_start:opener]), opener)
        info = self.source[opener:code_start].strip()
        marker_char = info[0]
        marker = info[: len(info) - len(info.lstrip(marker_char))]
        lexer = info[len(marker) :].strip().partition(" ")[0] or "text"
        self._fence = _OpenFence(marker, lexer)
        self._commit(
            code_piece(self.source[code_start : end - 1], lexer, first=True, last=False),
            end,
            joins_next=True,
        )
        return True

    def _piece_end(self, start: int) -> int:
        """Where a piece of code from ``start`` may end, or -1 if fewer than
        ``FENCE_PIECE_LINES`` lines are finished. A piece ends after a non-blank line and
        leaves the last finished non-blank line in the tail, so no piece is empty and the
        blank lines at the block's end (which Rich drops) are never committed."""
        finished = self.source[start : self.source.rfind("\n") + 1]
        if finished.count("\n") < FENCE_PIECE_LINES:
            return -1
        kept = finished.rstrip("\n")
        kept = kept[: max(kept.rfind("\n"), 0)].rstrip("\n")
        return start + len(kept) + 1 if kept.strip() else -1

    def _continue_fence(self, *, final: bool = False) -> bool:
        """Inside a code block committed in pieces: commit its closing piece once the
        closing line arrives (True: back to Markdown), else another piece if it is long."""
        assert self._fence is not None
        start = self._committed_upto
        position = start
        lines = self.source[start:].split("\n")
        if not final:
            lines = lines[:-1]  # the last line is not finished yet
        for line in lines:
            if self._fence.closes(line):
                code = self.source[start:position].rstrip("\n")
                after = min(position + len(line) + 1, len(self.source))
                lexer = self._fence.lexer
                self._fence = None
                self._commit(
                    code_piece(code, lexer, first=False, last=True), after, joins_next=False
                )
                return True
            position += len(line) + 1
        if final:
            code = self.source[start:].rstrip("\n")
            self._commit(
                code_piece(code, self._fence.lexer, first=False, last=True),
                len(self.source),
                joins_next=False,
            )
            self._fence = None
            return True
        end = self._piece_end(start)
        if end >= 0:
            code, upto = self.source[start : end - 1], end
        elif len(self.source) - start > TAIL_MARKDOWN_LIMIT:  # one huge unfinished line
            code, upto = self.source[start:], len(self.source)
        else:
            return False
        self._commit(
            code_piece(code, self._fence.lexer, first=False, last=False), upto, joins_next=True
        )
        return False

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
        self, status: TurnStatus, note: str | None = None, summary: dict[str, Any] | None = None
    ) -> None:
        """Show how the turn ended. Committed blocks stay as they are (already rendered once);
        only the tail is rendered again, with full highlighting, so the end costs little."""
        self.status = status
        self.ending = (note, summary)
        self.add_class(f"-{status}")
        if self._fence is not None:
            self._continue_fence(final=True)
        if self._draft is not None:
            self._end_draft()
        tail = self.source[self._committed_upto :]
        if tail.strip():
            self._commit_markdown(markdown(tail), len(self.source))
        self._committed_upto = len(self.source)
        self._body.finish()
        self._body.refresh(layout=True)
        lines = _status_lines(status, note, summary)
        if lines:
            self.mount_all(lines)
        self.call_after_refresh(self._keep_in_view)  # no reserve now: the anchor takes over

    @classmethod
    def finished(
        cls, source: str, status: TurnStatus, note: str | None, summary: dict[str, Any]
    ) -> AssistantMessage:
        """A stored reply: built complete, so it can be composed before it is mounted."""
        message = cls()
        message.source = source
        message.status = status
        message.ending = (note, summary)
        message.add_class(f"-{status}")
        message._final = RenderedBlock(message._final_body(), classes="block")
        message._extra = _status_lines(status, note, summary)
        return message


def _status_lines(
    status: TurnStatus, note: str | None, summary: dict[str, Any] | None
) -> list[Static]:
    return [Static(Text(line), classes="status") for line in status_texts(status, note, summary)]


def status_texts(status: str, note: str | None, summary: dict[str, Any] | None) -> list[str]:
    """The footer lines under a reply: how it ended, its numbers, its retries."""
    lines = []
    if status != "completed":
        label = {"interrupted": "⏹ " + _("interrupted"), "failed": "✖ " + _("failed")}.get(
            status, status
        )
        lines.append(safe_text(f"{label}: {note}" if note else label))
    if summary:
        ttft = summary.get("time_to_first_token_s")
        parts = [
            f"TTFT {ttft * 1000:.0f} ms" if isinstance(ttft, float) else "TTFT —",
            _("{n:.1f} tok/s").format(n=summary.get("tokens_per_second", 0)),
            _("{n:.1f} overall").format(n=summary.get("end_to_end_tokens_per_second", 0)),
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
