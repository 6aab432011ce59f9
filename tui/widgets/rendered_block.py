"""A block of rich content rendered once per width, then kept as cheap lines.

``Static`` re-renders its Rich renderable whenever the compositor asks for its lines, so
a chat of finished Markdown replies re-parses and re-highlights them on every layout
(when the chat scrolls, when the tail grows). This widget renders once per width, keeps
the height, and keeps the rendered lines only for the few blocks drawn most recently,
so a long history costs little memory and nothing per frame.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

# Rendered lines are kept for this many blocks (the ones on screen, and a little more).
LINE_CACHE_BLOCKS = 48
_line_cache: OrderedDict[int, tuple[int, list[Strip]]] = OrderedDict()


def _gap(above: list[Strip], below: list[Strip], width: int, blank: bool) -> list[Strip]:
    """The blank line between two blocks, when the caller says Rich would put one there."""
    return [Strip.blank(width)] if blank and above and below else []


def render_strips(console: Console, renderable: RenderableType, width: int) -> list[Strip]:
    options = console.options.update_width(max(1, width))
    lines = console.render_lines(renderable, options, pad=False)
    return [Strip(Segment.adjust_line_length(line, width), width) for line in lines]


class RenderedBlock(Widget):
    DEFAULT_CSS = """
    RenderedBlock { height: auto; }
    """

    def __init__(self, renderable: RenderableType, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.renderable = renderable
        self._heights: dict[int, int] = {}

    def _lines(self, width: int) -> list[Strip]:
        key = id(self)
        cached = _line_cache.get(key)
        if cached is not None and cached[0] == width:
            _line_cache.move_to_end(key)
            return cached[1]
        strips = self._render_all(width)
        self._remember(width, strips)
        return strips

    def _remember(self, width: int, strips: list[Strip]) -> None:
        self._heights[width] = len(strips)
        _line_cache[id(self)] = (width, strips)
        _line_cache.move_to_end(id(self))
        if len(_line_cache) > LINE_CACHE_BLOCKS:
            _line_cache.popitem(last=False)

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
        return line.apply_style(self.rich_style)  # the pane's colours where Rich set none

    def on_unmount(self) -> None:
        _line_cache.pop(id(self), None)


class StreamBody(RenderedBlock):
    """A streaming reply as one widget: finished blocks rendered once, plus a growing tail.

    Finished Markdown blocks are rendered once and their lines appended; only the tail
    (the unfinished paragraph, list, table or code block) is rendered again on each paint.
    Committing a block mounts nothing, so it costs no relayout, and a paint repaints only
    the lines that changed. Once the reply is done, its lines live in the shared cache like
    any ``RenderedBlock``, so a long chat keeps few rendered lines in memory.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text(""), **kwargs)
        self.blocks: list[tuple[RenderableType, bool]] = []  # (block, blank line before it)
        self.reserved_lines = 0
        self.done = False
        self._committed: list[Strip] = []
        self._committed_width = 0
        self._block_starts: list[int] = []  # each block's first committed line (its gap's)
        self._tail: RenderableType | None = None
        self._tail_blank = False
        self._tail_lines: list[Strip] = []
        self._tail_gap: list[Strip] = []
        self._dirty: tuple[int, int] | None = None

    def _width(self) -> int:
        return self.content_size.width or self.app.size.width

    def _render_all(self, width: int) -> list[Strip]:
        lines: list[Strip] = []
        self._block_starts = []
        for block, blank in self.blocks:
            self._block_starts.append(len(lines))
            new = render_strips(self.app.console, block, width)
            lines.extend(_gap(lines, new, width, blank))
            lines.extend(new)
        return lines

    def _committed_lines(self, width: int) -> list[Strip]:
        if width != self._committed_width:  # a resize: render every block again, once
            self._committed = self._render_all(width)
            self._committed_width = width
        return self._committed

    def _mark(self, start: int, stop: int) -> None:
        if self._dirty is not None:
            start, stop = min(start, self._dirty[0]), max(stop, self._dirty[1])
        self._dirty = (start, stop)

    def commit(self, renderable: RenderableType, *, blank: bool) -> None:
        """Append a finished block (after a blank line if ``blank``): rendered now, and
        never again at this width."""
        width = self._width()
        committed = self._committed_lines(width)
        start = len(committed)
        new = render_strips(self.app.console, renderable, width)
        committed.extend(_gap(committed, new, width, blank))
        committed.extend(new)
        self.blocks.append((renderable, blank))
        self._block_starts.append(start)
        self._mark(start, len(committed) + len(self._tail_lines) + 1)
        self._tail_lines = []
        self._tail_gap = []
        self._tail = None

    def truncate(self, blocks: int) -> None:
        """Drop the blocks from index ``blocks`` on: drafts about to be replaced by the
        finished block they stood for."""
        committed = self._committed_lines(self._width())
        if blocks >= len(self.blocks):
            return
        start = self._block_starts[blocks]
        self._mark(start, len(committed) + len(self._tail_gap) + len(self._tail_lines) + 1)
        del self.blocks[blocks:], self._block_starts[blocks:], committed[start:]

    def show_tail(self, renderable: RenderableType | None, *, blank: bool) -> int:
        """Render the tail now and return the body's height; the caller decides on layout."""
        width = self._width()
        committed = self._committed_lines(width)
        lines = render_strips(self.app.console, renderable, width) if renderable else []
        self._tail_blank = blank
        self._tail_gap = _gap(committed, lines, width, self._tail_blank)
        offset = len(committed) + len(self._tail_gap)
        previous = self._tail_lines
        first = 0
        for old, new in zip(previous, lines, strict=False):
            if old._segments != new._segments:
                break
            first += 1
        self._mark(offset + first, offset + max(len(previous), len(lines)))
        self._tail = renderable
        self._tail_lines = lines
        return offset + len(lines) if lines else len(committed)

    @property
    def blank_below(self) -> int:
        """Reserved rows under the newest line: kept for layout, never scrolled into view."""
        if self.done:
            return 0
        text = len(self._committed) + len(self._tail_gap) + len(self._tail_lines)
        return max(0, self.reserved_lines - text)

    def repaint_changes(self) -> None:
        """Repaint only the lines that changed since the last paint."""
        if self._dirty is not None:
            start, stop = self._dirty
            self._dirty = None
            self.refresh(Region(0, start, self.size.width, stop - start))

    def finish(self) -> None:
        """From now on a plain ``RenderedBlock``: lines cached only while they are needed.

        The lines already rendered become its cache, so finishing renders nothing again
        (rendering a long reply from scratch took ~100 ms, all of it lag on the last delta).
        """
        self.done = True
        self._heights.clear()
        _line_cache.pop(id(self), None)
        if self._committed_width and self._tail is None:
            self._remember(self._committed_width, self._committed)
        self._committed = []
        self._committed_width = 0
        self._tail = None
        self._tail_lines = []
        self._tail_gap = []
        self.reserved_lines = 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.done:
            return super().get_content_height(container, viewport, width)
        height = len(self._committed_lines(width))
        if self._tail is not None:
            if not self._tail_lines or self._tail_lines[0].cell_length != width:
                self._tail_lines = render_strips(self.app.console, self._tail, width)
                self._tail_gap = _gap(self._committed, self._tail_lines, width, self._tail_blank)
            height += len(self._tail_gap) + len(self._tail_lines)
        return max(height, self.reserved_lines)

    def render_line(self, y: int) -> Strip:
        if self.done:
            return super().render_line(y)
        width = self.content_size.width
        committed = self._committed_lines(width)
        if y < len(committed):
            return committed[y].apply_style(self.rich_style)
        index = y - len(committed) - len(self._tail_gap)
        if self._tail is not None and 0 <= index < len(self._tail_lines):
            line = self._tail_lines[index]
            if line.cell_length == width:
                return line.apply_style(self.rich_style)
        return Strip.blank(width, self.rich_style)
