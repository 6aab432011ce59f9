"""A block of rich content rendered once per width, then kept as cheap lines.

``Static`` re-renders its Rich renderable whenever the compositor asks for its lines, so
a chat of finished Markdown replies re-parses and re-highlights them on every layout
(when the chat scrolls, when the tail grows). This widget renders once per width, keeps
the height, and keeps the rendered lines only for the few blocks drawn most recently,
so a long history costs little memory and nothing per frame.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tui import textual_patches
from tui.widgets.line_list import LineList, RecentLines

# Rendered lines are kept for this many blocks (the ones on screen, and a little more).
LINE_CACHE_BLOCKS = 48
_line_cache: RecentLines[RenderedBlock, tuple[int, list[Strip]]] = RecentLines(LINE_CACHE_BLOCKS)
# A streaming reply keeps the lines of its most recently drawn blocks, about this many.
KEEP_LINES = 400


def render_strips(console: Console, renderable: RenderableType, width: int) -> list[Strip]:
    options = console.options.update_width(max(1, width))
    lines = console.render_lines(renderable, options, pad=False)
    return [Strip(Segment.adjust_line_length(line, width), width) for line in lines]


@dataclass(slots=True)
class BlockLayout:
    """A long reply as it was streamed: its blocks and their heights at the width it was
    drawn at, so the transcript can draw it a block at a time without rendering it whole."""

    blocks: list[RenderableType]
    gaps: list[bool]  # a blank line above the block
    width: int
    heights: list[int]  # lines per block, its gap included


@textual_patches.lay_out_once
class RenderedBlock(Widget):
    DEFAULT_CSS = """
    RenderedBlock { height: auto; }
    """

    def __init__(
        self,
        renderable: RenderableType,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.renderable = renderable
        self._heights: dict[int, int] = {}
        self._line_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines the compositor asks for, each with the widget's style under it: one
        style for the whole render. Textual's ``rich_style`` walks every ancestor's styles
        on each read, and it was read for every line drawn (~5 % of the CPU of a reply
        streamed at 100 tokens/s, whose every new line repaints the whole pane)."""
        self._line_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._line_style = None

    def _style(self) -> Style:
        """The pane's colours where Rich set none (read once per render, see above)."""
        return self._line_style if self._line_style is not None else self.rich_style

    def _lines(self, width: int) -> list[Strip]:
        cached = _line_cache.get(self)
        if cached is not None and cached[0] == width:
            return cached[1]
        strips = self._render_all(width)
        self._remember(width, strips)
        return strips

    def _remember(self, width: int, strips: list[Strip]) -> None:
        self._heights[width] = len(strips)
        _line_cache.put(self, (width, strips))

    def _render_all(self, width: int) -> list[Strip]:
        return render_strips(self.app.console, self.renderable, width)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width not in self._heights:
            self._lines(width)
        return self._heights[width]

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines(width)
        line = lines[y] if 0 <= y < len(lines) else Strip.blank(width)
        return line.apply_style(self._style())

    def on_unmount(self) -> None:
        _line_cache.drop(self)


@dataclass(slots=True, eq=False)
class _Committed:
    """A committed block of a streaming reply, and whether a blank line stands above it."""

    renderable: RenderableType
    gap: bool


@textual_patches.lay_out_once
class StreamBody(RenderedBlock):
    """A streaming reply as one widget: finished blocks rendered once, plus a growing tail.

    Finished Markdown blocks are rendered once, for their height; only the tail (the
    unfinished paragraph, list, table or code block) is rendered again on each paint.
    Committing a block mounts nothing, so it costs no relayout, and a paint repaints only
    the lines that changed. Lines are kept only for the blocks drawn most recently (about
    ``KEEP_LINES``): a 1 MB reply kept all of its 22,000 lines, 280,000 objects that the
    collector scanned for 0.25 s after the turn while keys waited. A block scrolled back
    into view is rendered again (~35 us a line).
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(Text(""), name=name, id=id, classes=classes)
        self.reserved_lines = 0
        self.done = False
        # the committed blocks as lines: heights per width, lines kept for the blocks drawn
        # most recently (about KEEP_LINES)
        self._list: LineList[_Committed, Strip] = LineList(
            self._render_block, keep_lines=KEEP_LINES
        )
        self._tail: RenderableType | None = None
        self._tail_blank = False
        self._tail_lines: list[Strip] = []
        self._tail_gap: list[Strip] = []
        self._dirty: tuple[int, int] | None = None

    @property
    def blocks(self) -> list[_Committed]:
        return self._list.items

    @property
    def _height(self) -> int:
        return self._list.height

    def _width(self) -> int:
        return self.content_size.width or self.app.size.width

    def _render_block(self, block: _Committed, width: int) -> list[Strip]:
        lines = render_strips(self.app.console, block.renderable, width)
        return [Strip.blank(width), *lines] if block.gap else lines

    def _lay_out(self, width: int) -> None:
        """Heights at ``width``: at a new width (a resize) every block is rendered again
        once, for its height; the newest keep their lines (on screen while following)."""
        if self._list.set_width(width):
            self._list.starts()

    def block_layout(self) -> BlockLayout:
        """The committed blocks and their heights, for the transcript record."""
        starts = self._list.starts()
        heights = [end - start for start, end in itertools.pairwise(starts)]
        blocks = [block.renderable for block in self.blocks]
        gaps = [block.gap for block in self.blocks]
        return BlockLayout(blocks, gaps, self._list.width, heights)

    def _mark(self, start: int, stop: int) -> None:
        if self._dirty is not None:
            start, stop = min(start, self._dirty[0]), max(stop, self._dirty[1])
        self._dirty = (start, stop)

    def commit(self, renderable: RenderableType, *, blank: bool) -> None:
        """Append a finished block (after a blank line if ``blank``): rendered now, and
        again only if it is drawn after its lines were dropped."""
        width = self._width()
        self._lay_out(width)
        start = self._height
        new = render_strips(self.app.console, renderable, width)
        gap = blank and start > 0 and bool(new)
        lines = [Strip.blank(width), *new] if gap else new
        self._list.append(_Committed(renderable, gap), lines)
        release = getattr(renderable, "release", None)
        if release is not None:
            release()  # parsed Markdown tokens: parsed again if the block is drawn again
        self._mark(start, self._height + len(self._tail_lines) + 1)
        self._tail_lines = []
        self._tail_gap = []
        self._tail = None

    def truncate(self, blocks: int) -> None:
        """Drop the blocks from index ``blocks`` on: drafts about to be replaced by the
        finished block they stood for."""
        self._lay_out(self._width())
        if blocks >= len(self.blocks):
            return
        start = self._list.starts()[blocks]
        self._mark(start, self._height + len(self._tail_gap) + len(self._tail_lines) + 1)
        self._list.truncate(blocks)

    def show_tail(self, renderable: RenderableType | None, *, blank: bool) -> int:
        """Render the tail now and return the body's height; the caller decides on layout."""
        width = self._width()
        self._lay_out(width)
        lines = render_strips(self.app.console, renderable, width) if renderable else []
        self._tail_blank = blank
        self._tail_gap = [Strip.blank(width)] if blank and self._height and lines else []
        offset = self._height + len(self._tail_gap)
        previous = self._tail_lines
        first = 0
        for old, new in zip(previous, lines, strict=False):
            if old != new:  # a Strip equals another with the same segments
                break
            first += 1
        self._mark(offset + first, offset + max(len(previous), len(lines)))
        self._tail = renderable
        self._tail_lines = lines
        return offset + len(lines) if lines else self._height

    @property
    def blank_below(self) -> int:
        """Reserved rows under the newest line: kept for layout, never scrolled into view."""
        if self.done:
            return 0
        text = self._height + len(self._tail_gap) + len(self._tail_lines)
        return max(0, self.reserved_lines - text)

    def repaint_changes(self) -> None:
        """Repaint only the lines that changed since the last paint."""
        if self._dirty is not None:
            start, stop = self._dirty
            self._dirty = None
            self.refresh(Region(0, start, self.size.width, stop - start))

    def finish(self) -> None:
        """No tail and no reserve from now on: the committed blocks are the reply (the
        caller committed the tail), so finishing renders nothing again."""
        self.done = True
        self._tail = None
        self._tail_lines = []
        self._tail_gap = []
        self.reserved_lines = 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._lay_out(width)
        height = self._height
        if self._tail is not None:
            if not self._tail_lines or self._tail_lines[0].cell_length != width:
                self._tail_lines = render_strips(self.app.console, self._tail, width)
                blank = self._tail_blank and self._height > 0 and bool(self._tail_lines)
                self._tail_gap = [Strip.blank(width)] if blank else []
            height += len(self._tail_gap) + len(self._tail_lines)
        return max(height, self.reserved_lines)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self._lay_out(width)
        if y < self._height:
            _index, found = self._list.line_at(y)
            line = found if found is not None else Strip.blank(width)
            return line.apply_style(self._style())
        index = y - self._height - len(self._tail_gap)
        if self._tail is not None and 0 <= index < len(self._tail_lines):
            line = self._tail_lines[index]
            if line.cell_length == width:
                return line.apply_style(self._style())
        return Strip.blank(width, self._style())
