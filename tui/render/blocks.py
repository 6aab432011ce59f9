"""A streaming Markdown reply split into committed blocks, without Textual or Rich.

As text arrives, ``BlockSplitter`` decides which part of it is finished and will never be
drawn differently: a block up to a blank line outside a code fence (a loose list waits
until what follows shows it is over), a long code block in pieces of whole lines, a long
table or list as raw draft lines (taken back and committed as one block when it ends), a
huge unbroken paragraph as plain text. What is not committed is the tail, drawn again on
every paint. The widget (``tui.widgets.assistant_message``) turns each ``Block`` into a
Rich renderable and draws it once; the splitter only says what and where.

Its promise, tested with hypothesis in ``tests/core/test_blocks.py``: whatever the text
and however it is cut into deltas, the committed blocks cover the reply exactly, in order,
and drawn with their blank lines they look the same as the whole reply drawn at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from tui.core.turn.growing_text import GrowingText

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# Past this size Markdown parsing per frame (or once, at the end) would stall the app:
# a huge tail is committed early, as plain text.
TAIL_MARKDOWN_LIMIT = 8_000
# A block longer than this is drawn as plain text, never parsed as Markdown.
MARKDOWN_LIMIT = 100_000
# An open code block is committed in pieces of at least this many lines, so a long program
# costs a frame the same as a short one (rendering is ~35 us per line).
FENCE_PIECE_LINES = 24
# A table or list longer than this is drawn as raw lines while it streams (in batches).
DRAFT_LINES = 40
DRAFT_BATCH = 20

# Where Rich's Markdown puts a blank line between two top-level blocks: always, except
# after a rule, and before a list, table or quote (they bring their own).
_OWN_LEADING_BLANK = {"bullet_list_open", "ordered_list_open", "table_open", "blockquote_open"}
_ITEM = r"(?:[-*+]|\d{1,9}[.)])(?:[ \t\n]|$)"  # a list item's marker
_LIST_ITEM = re.compile(_ITEM)
_ITEM_LINE = re.compile(r"^ {0,3}" + _ITEM, re.MULTILINE)  # an item on any line
_PARTIAL_ITEM = re.compile(r"[-*+]|\d{1,9}[.)]?")  # a marker not yet followed by its space
# The start of a table (a header row, then its delimiter row; each delimiter cell after the
# first starts with a pipe, so a hostile line is matched in linear time) or of a list, at
# the start of the tail (which may begin with the newline that ended the block above).
_TABLE_START = re.compile(r"\n? {0,3}\|.*\n {0,3}\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *\n")
_LIST_START = re.compile(r"\n? {0,3}" + _ITEM)

BlockKind = Literal["markdown", "code", "text"]

_PARSER: MarkdownIt | None = None


def parse(source: str) -> list[Token]:
    """markdown-it's tokens for ``source``, with one shared parser (building one costs
    ~0.8 ms, more than parsing a short block); the widget's Rich Markdown reuses them."""
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt

        _PARSER = MarkdownIt().enable("strikethrough").enable("table")
    return _PARSER.parse(source)


def blank_before(tokens: list[Token] | None) -> bool:
    """Whether Rich draws a blank line above a block that starts with these tokens."""
    top = [token.type for token in tokens or () if token.level == 0]
    return not top or top[0] not in _OWN_LEADING_BLANK


def joins_next(tokens: list[Token] | None) -> bool:
    """Whether the block ends with a rule (Rich puts no blank line after one)."""
    top = [token.type for token in tokens or () if token.level == 0]
    return bool(top) and top[-1] == "hr"


def fence_opener(line: str) -> str | None:
    """The run of ` or ~ that opens a code fence on this line, or None. (A backtick
    fence's info string holds no backtick: such a line is text, as CommonMark says; a
    line indented four columns or more is indented code.)"""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or not stripped.startswith(("```", "~~~")):
        return None
    marker = stripped[: len(stripped) - len(stripped.lstrip(stripped[0]))]
    if marker[0] == "`" and "`" in stripped[len(marker) :]:
        return None
    return marker


def fence_closes(marker: str, line: str) -> bool:
    """Whether ``line`` closes a fence opened by ``marker``: the same character, at least
    as many, and nothing after them (``` ```python ``` inside a fence is code), indented
    less than four columns."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False
    stripped = stripped.rstrip()
    run = len(stripped) - len(stripped.lstrip(marker[0]))
    return run >= len(marker) and not stripped[run:].strip()


def fence_after(text: str, open_marker: str | None) -> str | None:
    """The fence still open after ``text``'s lines, given the one open before them."""
    for line in text.split("\n"):
        if open_marker is None:
            open_marker = fence_opener(line)
        elif fence_closes(open_marker, line):
            open_marker = None
    return open_marker


def _may_go_on(block: str) -> bool:
    """Whether the block may end with a list or an indented code block, which a blank
    line does not end: its last part (after its last blank line) holds a list item on any
    of its lines (a list may follow a heading or interrupt a paragraph) or starts indented
    (under an item), or its last line is indented (indented code may follow a heading, a
    rule, a table or a fence with no blank line between). A cheap look at the text, erring
    towards waiting: parsing every pending block on every paint would cost more."""
    end = block.rstrip()  # a block may end with more blank lines (after a waiting list)
    last = end[end.rfind("\n\n") + 1 :].lstrip("\n")
    last_line = end[end.rfind("\n") + 1 :]
    return (
        last[:1] in (" ", "\t")
        or last_line[:1] in (" ", "\t")
        or _ITEM_LINE.search(last) is not None
    )


@dataclass(frozen=True, slots=True)
class Block:
    """A committed part of the reply: ``source[start:end]`` drawn as ``kind``.

    ``text`` is what is drawn (for code: the lines of this piece, without the fence or the
    newline that ends the piece; for a draft: the raw lines). ``blank`` says whether a
    blank line is drawn above it."""

    kind: BlockKind
    text: str
    start: int
    end: int
    blank: bool
    lexer: str = ""  # code: the fence's language ("text" when it names none)
    first: bool = False  # code: the first piece of its block (padding above)
    last: bool = False  # code: the last piece (padding below)
    tokens: list[Token] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Retract:
    """Take back the committed blocks from ``keep`` on (a long table's or list's draft
    lines, replaced by the block laid out once it ends)."""

    keep: int


Change = Block | Retract


@dataclass(frozen=True, slots=True)
class Tail:
    """The unfinished end of the reply, drawn again on the next paint."""

    kind: BlockKind | None  # None: nothing to draw
    text: str
    blank: bool  # a blank line may go above it (if its own first tokens allow one)


@dataclass(slots=True)
class _Draft:
    start: int  # where its source starts
    first_block: int  # the first draft block
    blank_before: bool  # whether the block itself follows a blank line


@dataclass(slots=True)
class _OpenFence:
    marker: str  # the opening run of ` or ~; a closing line has at least as many
    lexer: str

    def closes(self, line: str) -> bool:
        return fence_closes(self.marker, line)


class BlockSplitter:
    """Feed it the reply as it streams (``append``); ``commit()`` returns what is now
    finished, ``tail()`` what is not; ``finish()`` commits the rest when the turn ends."""

    def __init__(self) -> None:
        self._source = GrowingText()
        self.committed_upto = 0
        self._committed_fence: str | None = None  # a fence open where the commits end
        self._blank_before_next = False  # whether the next block follows a blank line
        self._fence: _OpenFence | None = None
        self._draft: _Draft | None = None
        self.blocks = 0  # how many blocks are committed (retracted ones not counted)
        self._changes: list[Change] = []

    @property
    def source(self) -> str:
        return str(self._source)

    def append(self, text: str) -> None:
        self._source.append(text)

    # --- what is finished -------------------------------------------------------------------
    def commit(self) -> list[Change]:
        """Commit every block that a blank line (outside a code fence) has finished, and
        long open code blocks, tables, lists and paragraphs in pieces."""
        self._changes = []
        self._commit_finished()
        return self._changes

    def finish(self) -> list[Change]:
        """The reply is complete: commit the tail, whatever it holds."""
        self._changes = []
        if self._fence is not None:
            self._continue_fence(final=True)
        if self._draft is not None:
            self._end_draft()
        tail = self.source[self.committed_upto :]
        if tail.strip():
            self._commit_markdown(tail, len(self.source))
        self.committed_upto = len(self.source)
        return self._changes

    def tail(self) -> Tail:
        tail = self.source[self.committed_upto :]
        if self._fence is not None:
            return Tail("code", tail.rstrip("\n"), self._blank_before_next)
        if not tail.strip():
            return Tail(None, "", self._blank_before_next)
        if self._draft is not None:
            return Tail("text", tail.removeprefix("\n"), self._blank_before_next)
        return Tail("markdown", tail, self._blank_before_next)

    # --- the state machine --------------------------------------------------------------------
    def _commit_finished(self) -> None:
        source = self.source
        if self._fence is not None and not self._continue_fence():
            return
        search = self.committed_upto
        fence = self._committed_fence
        while (cut := source.find("\n\n", search)) >= 0:
            fence = fence_after(source[search:cut], fence)  # whole lines: read once
            search = cut + 2
            if fence is not None:  # inside an open code fence a blank line ends nothing
                continue
            block = source[self._draft.start if self._draft else self.committed_upto : cut]
            if not block.strip():
                self.committed_upto, self._committed_fence = cut + 2, fence
                continue
            if _may_go_on(block) and not self._list_is_over(cut + 2):
                continue  # the next block may be more of this list or indented code
            if self._draft is not None:
                self._end_draft()
            self._committed_fence = fence
            self._commit_markdown(block, cut + 2)
        if fence_after(source[search:], fence) is not None and self._start_fence():
            return
        upto = self.committed_upto
        if self._draft or _TABLE_START.match(source, upto) or _LIST_START.match(source, upto):
            self._draft_rows()
        if self._draft is None and len(source) - self.committed_upto > TAIL_MARKDOWN_LIMIT:
            # A huge paragraph or unbroken line: drawn as plain text in pieces while it
            # streams, so that no frame renders more than the limit again; a draft, so that
            # when it ends it is laid out as Markdown once, as it is when reopened.
            self._draft = _Draft(self.committed_upto, self.blocks, self._blank_before_next)
            end = source.rfind("\n", self.committed_upto) + 1
            if end <= self.committed_upto:
                end = len(source)
            block = source[self.committed_upto : end]
            self._commit_text(block.removesuffix("\n"), end)
            self._committed_fence = fence_after(block, self._committed_fence)

    def _draft_rows(self) -> None:
        """A long table or list is drawn as its raw lines while it streams: a table is laid
        out from all its rows (so it cannot be committed in pieces) and laying out a few
        hundred rows or items on every paint costs more than a frame. When it ends, the
        drafts are replaced by the block, laid out once. A draft stops before its last
        newline, so a blank line after it is still seen as the end of the block."""
        source = self.source
        start = self.committed_upto
        last_newline = source.rfind("\n")
        if last_newline <= start:
            if self._draft is not None and len(source) - start > TAIL_MARKDOWN_LIMIT:
                # one huge unfinished row or item: drafted as it is
                self._commit_text(source[start:].removeprefix("\n"), len(source))
            return
        finished = source[start:last_newline]
        if self._draft is None:
            if finished.count("\n") + 1 < DRAFT_LINES:
                return
            self._draft = _Draft(start, self.blocks, self._blank_before_next)
        elif finished.count("\n") < DRAFT_BATCH:
            return
        self._commit_text(finished.removeprefix("\n"), last_newline)

    def _end_draft(self) -> None:
        """Take the drafts back: the table's or list's source is committed again as one
        block."""
        assert self._draft is not None
        self._changes.append(Retract(self._draft.first_block))
        self.blocks = self._draft.first_block
        self.committed_upto = self._draft.start
        self._blank_before_next = self._draft.blank_before
        self._draft = None

    def _list_is_over(self, start: int) -> bool:
        """Whether the text after a blank line ends the list above it (False while unknown:
        nothing yet, more blank lines, an indented line or another item)."""
        rest = self.source[start:].lstrip("\n")
        if not rest or _PARTIAL_ITEM.fullmatch(rest):
            return False  # nothing yet, or the start of a marker: "2" may become "2. "
        return not (rest[0] in " \t" or _LIST_ITEM.match(rest))

    def _add(self, block: Block, *, joins: bool) -> None:
        self._changes.append(block)
        self.blocks += 1
        self._blank_before_next = not joins
        self.committed_upto = block.end

    def _commit_markdown(self, text: str, upto: int) -> None:
        tokens = parse(text) if len(text) <= MARKDOWN_LIMIT else None
        blank = self._blank_before_next and blank_before(tokens)
        block = Block("markdown", text, self.committed_upto, upto, blank, tokens=tokens)
        self._add(block, joins=joins_next(tokens))

    def _commit_text(self, text: str, upto: int) -> None:
        self._add(
            Block("text", text, self.committed_upto, upto, self._blank_before_next), joins=True
        )

    def _commit_code(
        self, code: str, upto: int, lexer: str, *, first: bool, last: bool, start: int
    ) -> None:
        blank = self._blank_before_next
        block = Block("code", code, start, upto, blank, lexer=lexer, first=first, last=last)
        self._add(block, joins=not last)

    def _start_fence(self) -> bool:
        """The tail holds an open code block: once it has enough finished lines, commit
        the text before it and its first piece, and go on in pieces. False if this block
        is not for pieces (a fence indented inside a list, or inside a draft)."""
        if self._draft is not None:
            return False
        source = self.source
        tail_start = self.committed_upto
        opener = -1
        position = tail_start
        open_marker: str | None = None
        for line in source[tail_start:].split("\n"):
            if open_marker is None:
                open_marker = fence_opener(line)
                if open_marker is not None:
                    opener = position
            elif fence_closes(open_marker, line):
                open_marker = None
            position += len(line) + 1
        if open_marker is None:
            return False
        if opener < 0 or source[opener] in " \t":
            return False
        code_start = source.find("\n", opener) + 1
        if code_start <= 0:
            return True
        end = self._piece_end(code_start)
        if end < 0:
            return True
        if source[tail_start:opener].strip():  # a paragraph right above the fence
            self._commit_markdown(source[tail_start:opener], opener)
        info = source[opener:code_start].strip()
        marker_char = info[0]
        marker = info[: len(info) - len(info.lstrip(marker_char))]
        lexer = info[len(marker) :].strip().partition(" ")[0] or "text"
        self._fence = _OpenFence(marker, lexer)
        code = source[code_start : end - 1]
        self._commit_code(code, end, lexer, first=True, last=False, start=self.committed_upto)
        return True

    def _piece_end(self, start: int) -> int:
        """Where a piece of code from ``start`` may end, or -1 if fewer than
        ``FENCE_PIECE_LINES`` lines are finished. A piece ends after a non-blank line and
        leaves the last finished non-blank line in the tail, so no piece is empty and the
        blank lines at the block's end (which Rich drops) are never committed."""
        source = self.source
        finished = source[start : source.rfind("\n") + 1]
        if finished.count("\n") < FENCE_PIECE_LINES:
            return -1
        lines = finished.split("\n")[:-1]
        filled = [n for n, line in enumerate(lines) if line.strip()]  # spaces are blank too
        if len(filled) < 2:
            return -1
        return start + sum(len(line) + 1 for line in lines[: filled[-2] + 1])

    def _continue_fence(self, *, final: bool = False) -> bool:
        """Inside a code block committed in pieces: commit its closing piece once the
        closing line arrives (True: back to Markdown), else another piece if it is long."""
        assert self._fence is not None
        source = self.source
        start = self.committed_upto
        position = start
        lexer = self._fence.lexer
        lines = source[start:].split("\n")
        if not final:
            lines = lines[:-1]  # the last line is not finished yet
        for line in lines:
            if self._fence.closes(line):
                code = source[start:position].rstrip()  # as Rich strips a block's end
                after = min(position + len(line) + 1, len(source))
                self._fence = None
                self._commit_code(code, after, lexer, first=False, last=True, start=start)
                return True
            position += len(line) + 1
        if final:
            code = source[start:].rstrip()
            self._fence = None
            self._commit_code(code, len(source), lexer, first=False, last=True, start=start)
            return True
        end = self._piece_end(start)
        if end >= 0:
            code, upto = source[start : end - 1], end
        elif len(source) - start > TAIL_MARKDOWN_LIMIT:  # one huge unfinished line
            code, upto = source[start:], len(source)
        else:
            return False
        self._commit_code(code, upto, lexer, first=False, last=False, start=start)
        return False
