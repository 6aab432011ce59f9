"""Scrollbars drawn cheaply: the same geometry and colours give the same segments, and a
vertical bar's lines are made straight from them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

_render_bar: Any = ScrollBarRender.render_bar.__func__  # type: ignore[attr-defined]
_DEFAULT_BACK = Color.parse("#555555")
_DEFAULT_BAR = Color.parse("bright_magenta")


@lru_cache(maxsize=32)  # a bar per pane, a few states each; segments are ~3 KB a bar
def _cached_bar(*args: Any, **kwargs: Any) -> Any:
    return _render_bar(ScrollBarRender, *args, **kwargs)


class CachedScrollBarRender(ScrollBarRender):
    """Textual builds a scrollbar's segments anew on every repaint, with new styles (they
    carry mouse actions as meta, so no style cache after them hits): ~43 us a line, for
    both panes' bars on every full repaint of a long session (the chat and the timeline
    scroll on every turn). Cached by their arguments: ~24 us a line. Installed as
    ``ScrollBar.renderer``, Textual's own hook for a custom scrollbar renderer."""

    @classmethod
    def render_bar(cls, *args: Any, **kwargs: Any) -> Any:
        return _cached_bar(*args, **kwargs)


def vertical_bar_lines(bar: ScrollBar, crop: Region) -> list[Strip] | None:
    """A vertical scrollbar's lines made from its segments (one per line, at most five
    different ones), or None when Textual's own path must draw it.

    Textual draws a scrollbar like any widget: the Rich renderable through a console,
    then every line through the widget's style cache, which a scroll empties (the thumb
    moved). That was ~0.8 ms a bar and the largest single cost of a frame late in a long
    session (the chat and the timeline scroll on every turn). The same lines, with the
    same line filters, tested against Textual's own render.
    """
    styles = bar.styles
    if not bar.vertical or styles.opacity < 1 or styles.tint.a or styles.text_opacity < 1:
        return None
    renderable = bar.render()
    if not isinstance(renderable, ScrollBarRender) or not isinstance(renderable.style, Style):
        return None
    width, height = bar.size
    if not width or not height:
        return None
    style = renderable.style
    segments = _cached_bar(
        size=height,
        virtual_size=renderable.virtual_size,
        window_size=renderable.window_size,
        position=renderable.position,
        thickness=width,
        vertical=True,
        back_color=style.bgcolor or _DEFAULT_BACK,
        bar_color=style.color or _DEFAULT_BAR,
    ).segments
    filters = bar.get_line_filters()
    background = bar.background_colors[1]
    base = bar.visual_style.rich_style  # what Textual puts under a widget's content
    made: dict[int, Strip] = {}
    lines: list[Strip] = []
    for segment in segments[crop.y : crop.bottom]:
        strip = made.get(id(segment))
        if strip is None:
            strip = Strip([Segment(segment.text, base + segment.style)], width)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            if crop.x or crop.right < width:
                strip = strip.crop(crop.x, crop.right)
            made[id(segment)] = strip
        lines.append(strip)
    return lines


_widget_render_lines = Widget.render_lines


def _scrollbar_render_lines(self: ScrollBar, crop: Region) -> list[Strip]:
    lines = vertical_bar_lines(self, crop)
    return lines if lines is not None else _widget_render_lines(self, crop)


def install() -> None:
    """Textual's hook for the segments; the lines of a vertical bar made directly."""
    ScrollBar.renderer = CachedScrollBarRender
    ScrollBar.render_lines = _scrollbar_render_lines  # type: ignore[method-assign,assignment]
