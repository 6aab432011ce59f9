"""Work-arounds for Textual bugs the app would otherwise feel, each named by its issue.

Applied once, when the app module is imported; each checks that Textual still has the
shape it was written for and does nothing otherwise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    return (Style(background=base_background + background), Style(background=base_background))


def _get_inner_outer(_cache: StylesCache, base: Color, background: Color) -> tuple[Style, Style]:
    return _inner_outer(base, background)


def free_dead_styles_caches() -> bool:
    """Textual #6665: ``StylesCache.get_inner_outer`` is an ``lru_cache`` on a method, so
    its key holds the last 1,024 ``StylesCache`` objects alive, and with them every line
    their (removed) widgets ever rendered. A long chat removes widgets all the time: about
    85 KB per turn that never came back. The same colours, cached by colour alone."""
    current: Any = StylesCache.__dict__.get("get_inner_outer")
    if current is _get_inner_outer:
        return True
    if not hasattr(current, "cache_info"):
        return False  # Textual changed it; nothing to work around
    StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign,assignment]
    return True


def apply() -> None:
    free_dead_styles_caches()
