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

from rich.console import RenderableType
from rich.segment import Segment
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

# Rendered lines are kept for this many blocks (the ones on screen, and a little more).
LINE_CACHE_BLOCKS = 48
_line_cache: OrderedDict[int, tuple[int, list[Strip]]] = OrderedDict()


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
        console = self.app.console
        options = console.options.update_width(max(1, width))
        lines = console.render_lines(self.renderable, options, pad=False)
        strips = [Strip(Segment.adjust_line_length(line, width), width) for line in lines]
        self._heights[width] = len(strips)
        _line_cache[key] = (width, strips)
        if len(_line_cache) > LINE_CACHE_BLOCKS:
            _line_cache.popitem(last=False)
        return strips

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width not in self._heights:
            self._lines(width)
        return self._heights[width]

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines(width)
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width)

    def on_unmount(self) -> None:
        _line_cache.pop(id(self), None)


class TailBlock(RenderedBlock):
    """The growing end of a streaming reply: re-rendered on every paint, cached in between."""

    _previous: list[Strip] | None = None
    _changed_from = 0

    def show(self, renderable: RenderableType) -> int:
        """Render ``renderable`` now and return its height; the caller decides on layout."""
        self.renderable = renderable
        self._heights.clear()
        _line_cache.pop(id(self), None)
        width = self.content_size.width or self.app.size.width
        lines = self._lines(width)
        # Usually only the last line or two changed: remember where, to repaint just those.
        previous = self._previous or []
        first = 0
        for old, new in zip(previous, lines, strict=False):
            if list(old) != list(new):
                break
            first += 1
        self._changed_from = first
        self._previous = lines
        return len(lines)

    def repaint_changes(self) -> None:
        """Repaint from the first changed line down, not the whole block."""
        width = self.size.width
        height = max(self.size.height - self._changed_from, 1)
        self.refresh(Region(0, self._changed_from, width, height))
