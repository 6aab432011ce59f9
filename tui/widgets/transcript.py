"""Finished messages as lines: one widget for any number of them, drawing only what is seen.

A finished message needs no widget of its own: it is a record (its text, status and
footer) that renders to lines at the pane's width. This widget keeps the records of a
window of the conversation, knows each one's height at the current width, and renders
the lines of a record only when one of them is drawn (kept for the most recently drawn
records). Mounting, unmounting and laying out a message costs nothing here, so a long
chat does not grow heavier, and a jump to the first message renders one screenful.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import overload

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Offset, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from tui.core.sanitize import safe_text
from tui.render.blocks import MARKDOWN_LIMIT
from tui.widgets.assistant_message import markdown, status_texts
from tui.widgets.line_list import LineList
from tui.widgets.record import Record
from tui.widgets.rendered_block import render_strips

# Rendered lines are kept for this many records (a few screens' worth).
LINE_CACHE_RECORDS = 64
# A resize with more records than this in the window first narrows the window to what is
# on screen and a little more: a reflow costs what is visible, not the whole window.
REFLOW = 60
# A huge plain-text reply is drawn in runs of this many source lines.
TEXT_PIECE_LINES = 200
# A long reply keeps the lines of its most recently drawn pieces, about this many.
KEEP_LINES = 400


class _Piece:
    """One piece of a long reply (its blocks, or a run of its lines), by position."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class LazyLines(Sequence[Strip]):
    """A long reply's lines: its height known, its lines rendered a piece at a time as they
    are drawn (a ``LineList`` of its pieces). Rendered whole, a 1 MB reply took 1.9 s (the
    next prompt waited for it when the reply became a record) and kept 20,000 lines,
    ~280,000 objects that every full collection scanned."""

    def __init__(
        self, render: Callable[[int], list[Strip]], heights: list[int] | None, count: int
    ) -> None:
        self._list: LineList[_Piece, Strip] = LineList(
            lambda piece, _width: render(piece.index), keep_lines=KEEP_LINES
        )
        self._list.set_width(1)  # pieces are drawn at the record's width, fixed here
        pieces = [_Piece(index) for index in range(count)]
        if heights is not None:
            for piece, height in zip(pieces, heights, strict=True):
                self._list.know_height(piece, height)
        self._list.set_items(pieces)  # heights not given: each piece is rendered once
        self.heights = [self._list.height_of(piece) for piece in pieces]

    def __len__(self) -> int:
        return self._list.height

    @overload
    def __getitem__(self, row: int) -> Strip: ...
    @overload
    def __getitem__(self, row: slice) -> Sequence[Strip]: ...
    def __getitem__(self, row: int | slice) -> Strip | Sequence[Strip]:
        if isinstance(row, slice):
            return [self[index] for index in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        index, line = self._list.line_at(row)
        if line is None:  # a piece shorter than its height said: its last line
            return self._list.lines_of(self._list.items[index])[-1]
        return line


def _highlight(strip: Strip, needle: str, style: Style) -> Strip:
    """``strip`` with every occurrence of ``needle`` (case-insensitive) in ``style``."""
    text = strip.text.casefold()
    spans = []
    start = text.find(needle)
    while start != -1 and needle:
        spans.append((start, start + len(needle)))
        start = text.find(needle, start + len(needle))
    return _restyle(strip, spans, style) if spans else strip


def _restyle(strip: Strip, spans: list[tuple[int, int]], style: Style) -> Strip:
    """``strip`` with the cells in ``spans`` (start, end) drawn in ``style`` as well."""
    cuts = sorted({cut for span in spans for cut in span})
    pieces = strip.divide([*cuts, strip.cell_length])
    out: list[Segment] = []
    position = 0
    for piece in pieces:
        hit = any(a <= position < b for a, b in spans)
        segments = list(piece)
        out.extend(Segment.apply_style(segments, post_style=style) if hit else segments)
        position += piece.cell_length
    return Strip(out, strip.cell_length)


class Transcript(Widget):
    DEFAULT_CSS = """
    Transcript { height: auto; }
    Transcript > .transcript--bar { color: $accent; }
    Transcript > .transcript--user { color: $text; }
    Transcript > .transcript--muted { color: $text-muted; }
    Transcript > .transcript--interrupted { color: $warning; }
    Transcript > .transcript--failed { color: $error; }
    Transcript > .transcript--frame { color: $panel-lighten-2; }
    Transcript > .transcript--error-frame { color: $error; }
    Transcript > .transcript--hit { background: $warning-muted; }
    Transcript > .transcript--match { background: $warning; color: $background; }
    """
    COMPONENT_CLASSES = {
        "transcript--bar",
        "transcript--user",
        "transcript--muted",
        "transcript--interrupted",
        "transcript--failed",
        "transcript--frame",
        "transcript--error-frame",
        "transcript--hit",
        "transcript--match",
    }
    ALLOW_SELECT = True

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # the records as lines: heights per width, lines kept for the records drawn last
        self._list: LineList[Record, Strip] = LineList(
            self._draw_record, keep_items=LINE_CACHE_RECORDS
        )
        # a long reply's heights per piece at _width: kept when its lines are dropped
        self._heights_of_pieces: dict[int, tuple[Record, list[int]]] = {}
        self.hit: int | None = None  # the record found by search, marked
        self.needle = ""  # what search looks for, highlighted in the marked record
        # called with the line starts at the old width when the width changes
        self.before_reflow: Callable[[list[int]], None] | None = None

    @property
    def records(self) -> list[Record]:
        return self._list.items

    @records.setter
    def records(self, records: list[Record]) -> None:
        self._list.items = records
        self._list.changed()

    @property
    def _width(self) -> int:
        return self._list.width

    # --- the records -------------------------------------------------------------------------
    def _changed(self) -> None:
        self._list.changed()
        self.refresh(layout=True)

    def set_records(self, records: list[Record]) -> None:
        self._forget(self.records)
        self.records = list(records)
        self.hit = None
        self._changed()

    def _forget(self, records: list[Record]) -> None:
        """Records that leave the window take their heights and lines with them."""
        self._list.forget(records)
        for record in records:
            self._heights_of_pieces.pop(id(record), None)

    def extend(self, records: list[Record]) -> None:
        self.records.extend(records)
        self._changed()

    def prepend(self, records: list[Record]) -> int:
        """Put ``records`` first; return their height, so the caller can keep the view."""
        self.records[:0] = records
        if self.hit is not None:
            self.hit += len(records)
        self._changed()
        return sum(self.height_of(r) for r in records)

    def take_first(self, count: int) -> list[Record]:
        taken, self.records = self.records[:count], self.records[count:]
        if self.hit is not None:
            self.hit = self.hit - count if self.hit >= count else None
        self._forget(taken)
        self._changed()
        return taken

    def take_last(self, count: int) -> list[Record]:
        if count <= 0:
            return []
        taken, self.records = self.records[-count:], self.records[:-count]
        if self.hit is not None and self.hit >= len(self.records):
            self.hit = None
        self._forget(taken)
        self._changed()
        return taken

    def mark(self, index: int | None, needle: str = "") -> None:
        """Mark record ``index`` as the search hit and highlight ``needle`` in it."""
        for old in (self.hit, index):
            if old is not None and 0 <= old < len(self.records):
                self._list.drop_lines(self.records[old])
        self.hit, self.needle = index, needle.casefold()
        self.refresh()

    # --- geometry ----------------------------------------------------------------------------
    def _set_width(self, width: int) -> None:
        if width != self._width:  # a resize: heights are found again as they are needed
            if self._width and self.before_reflow is not None and len(self.records) > REFLOW:
                self.before_reflow(self._line_starts())  # may narrow the window first
            self._list.set_width(width)
            self._heights_of_pieces.clear()

    def narrow(self, start: int, stop: int) -> tuple[list[Record], list[Record]]:
        """Keep records ``start:stop`` only, now (in the middle of a layout: no refresh);
        return the ones before and after."""
        before, after = self.records[:start], self.records[stop:]
        self.records = self.records[start:stop]
        self._forget(before + after)
        if self.hit is not None:
            self.hit = self.hit - start if start <= self.hit < stop else None
        return before, after

    def height_of(self, record: Record) -> int:
        width = self._width or self.content_size.width or self.app.size.width
        self._set_width(width)
        return self._list.height_of(record)

    def row_showing(self, index: int, needle: str) -> int | None:
        """The first line of record ``index`` that shows ``needle`` (case-insensitive), or
        None (not on one line: wrapped across two). A long reply renders its pieces only
        up to the match."""
        wanted = needle.casefold()
        lines = self._record_lines(self.records[index])
        for row in range(len(lines)):
            if wanted in lines[row].text.casefold():
                return row
        return None

    def start_of(self, index: int) -> int:
        """The first line of record ``index`` within this widget."""
        starts = self._line_starts()
        return starts[index] if index < len(starts) else sum(self._line_starts()[-1:])

    def _line_starts(self) -> list[int]:
        if not self._width:
            self._set_width(self.content_size.width or self.app.size.width)
        return self._list.starts()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._set_width(width)
        return self._line_starts()[-1]

    # --- drawing -----------------------------------------------------------------------------
    def _record_lines(self, record: Record) -> Sequence[Strip]:
        return self._list.lines_of(record)

    def _draw_record(self, record: Record, width: int) -> Sequence[Strip]:
        lines = self._long_reply_lines(record)
        return lines if lines is not None else self._render_record(record, width)

    def _style(self, name: str) -> Style:
        """A component's style, its colours blended over the pane's background."""
        return self.get_component_rich_style(f"transcript--{name}")

    def _render_record(self, record: Record, width: int) -> list[Strip]:
        """A message as the widgets of a live turn draw it: a blank line above, then the
        user's bar, the reply with its footer, or the framed note."""
        console = self.app.console
        head = [Strip.blank(width).apply_style(self.rich_style)]
        if record.kind == "user":
            bar = Segment("█", self._style("bar"))
            body = render_strips(console, Text(safe_text(record.text)), max(1, width - 3))
            pad = Segment(" ")
            lines = [Strip([bar, pad, *line, pad], width) for line in body]
            return head + self._dress(record, lines, width)
        if record.kind == "note":
            frame = self._style("error-frame" if record.status == "error" else "frame")
            content = Text.assemble(
                Text(safe_text(record.title) + "\n", style="bold"), Text(safe_text(record.text))
            )
            panel = Panel(content, box=box.ROUNDED, border_style=frame, padding=(0, 1))
            return head + self._dress(record, render_strips(console, panel, width), width)
        inner = max(1, width - 2)
        body = (
            # stored replies come back as the model sent them: made inert here too
            render_strips(console, markdown(safe_text(record.text)), inner)
            if record.text.strip()
            else []
        )
        body += self._footer(record, inner)
        return head + self._dress(record, self._pad(body, width), width)

    def _footer(self, record: Record, inner: int) -> list[Strip]:
        """A reply's footer, in the colour of how it ended, as the live reply shows it."""
        footer = status_texts(record.status, record.note, record.summary)
        if not footer:
            return []
        style = self._style(record.status if record.status != "completed" else "muted")
        texts = [Text(line, style=style) for line in footer]
        return render_strips(self.app.console, Group(*texts), inner)

    @staticmethod
    def _pad(lines: list[Strip], width: int) -> list[Strip]:
        pad = Segment(" ")
        return [Strip([pad, *line, pad], width) for line in lines]

    def _dress(self, record: Record, lines: list[Strip], width: int) -> list[Strip]:
        """A record's lines (all but its blank first line) as drawn: marked if it is the
        search hit, on the pane's colours where Rich left cells unstyled."""
        if self.hit is not None and self.records[self.hit] is record:
            hit = self._style("hit")
            match = self._style("match")
            lines = [Strip(Segment.apply_style(list(s), post_style=hit), width) for s in lines]
            if self.needle:
                lines = [_highlight(s, self.needle, match) for s in lines]
        base = self.rich_style
        return [line.adjust_cell_length(width).apply_style(base) for line in lines]

    def _long_reply_lines(self, record: Record) -> LazyLines | None:
        """A long reply drawn a piece at a time: the blocks it was streamed in (heights
        known when the width is the same), or a huge plain-text reply in runs of lines.
        None for anything short enough to render whole."""
        width = self._width
        inner = max(1, width - 2)
        console = self.app.console
        layout = record.layout
        pieces: list[Callable[[], list[Strip]]] = []
        heights: list[int] | None = None
        if layout is not None:
            for block, gap in zip(layout.blocks, layout.gaps, strict=True):

                def piece(block: RenderableType = block, gap: bool = gap) -> list[Strip]:
                    lines = render_strips(console, block, inner)
                    return [Strip.blank(inner), *lines] if gap else lines

                pieces.append(piece)
            if layout.width == inner:
                heights = list(layout.heights)
        elif record.kind == "assistant" and len(record.text) > MARKDOWN_LIMIT:
            # Rich draws a text this long as plain Text, each source line on its own:
            # runs of lines draw the same lines.
            source = safe_text(record.text).split("\n")
            for start in range(0, len(source), TEXT_PIECE_LINES):

                def run(
                    chunk: str = "\n".join(source[start : start + TEXT_PIECE_LINES]),
                ) -> list[Strip]:
                    return render_strips(console, Text(chunk), inner)

                pieces.append(run)
        else:
            return None
        footer = self._footer(record, inner)
        pieces.append(lambda: footer)
        if heights is not None:
            heights.append(len(footer))

        def dressed(index: int) -> list[Strip]:
            if index == 0:
                return [Strip.blank(width).apply_style(self.rich_style)]
            return self._dress(record, self._pad(pieces[index - 1](), width), width)

        known = self._heights_of_pieces.get(id(record))
        if heights is None and known is not None and known[0] is record:
            heights = known[1]
        lines = LazyLines(dressed, None if heights is None else [1, *heights], len(pieces) + 1)
        self._heights_of_pieces[id(record)] = (record, lines.heights[1:])  # without the head
        return lines

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self._set_width(width)
        index, found = self._list.line_at(y)
        if not 0 <= index < len(self.records):
            return Strip.blank(width)
        line = found if found is not None else Strip.blank(width)
        selection = self.text_selection
        span = selection.get_span(y) if selection is not None else None
        if span is not None:
            start, end = span
            end = line.cell_length if end == -1 else end
            style = self.screen.get_component_rich_style("screen--selection")
            line = _restyle(line, [(start, end)], style)
        return line.apply_offsets(0, y)

    # --- selection ---------------------------------------------------------------------------
    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text: the plain text of the lines under the selection."""
        starts = self._line_starts()
        first = selection.start.y if selection.start else 0
        last = selection.end.y if selection.end else starts[-1] - 1
        rows = [self.render_line(y).text.rstrip() for y in range(first, last + 1)]
        shift = Offset(0, -first)
        shifted = Selection(
            selection.start + shift if selection.start else None,
            selection.end + shift if selection.end else None,
        )
        return shifted.extract("\n".join(rows)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._list.drop_all_lines()
        self.refresh()
