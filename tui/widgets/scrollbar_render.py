"""Scrollbars drawn from a cache: the same geometry and colours give the same segments."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual.scrollbar import ScrollBarRender

_render_bar: Any = ScrollBarRender.render_bar.__func__  # type: ignore[attr-defined]


@lru_cache(maxsize=512)
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
