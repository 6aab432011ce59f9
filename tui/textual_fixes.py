"""Work-arounds for Textual bugs the app would otherwise feel, each named by its issue.

Applied once, when the app module is imported; each checks that Textual still has the
shape it was written for and does nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.strip import Strip
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


_original_divide = Strip.divide


def _divide(strip: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    if len(cuts) == 1 and cuts[0] == strip.cell_length:
        return [strip]  # not cached: a cache entry holding the strip itself is a cycle
    return _original_divide(strip, cuts)


def strips_free_without_the_collector() -> bool:
    """``Strip.divide`` at the strip's own width (the compositor does it for every line it
    draws) caches ``[self]`` in the strip: a reference cycle, so every drawn line became
    garbage only the cycle collector could free. A 1 MB reply left ~270,000 such objects and
    the full collection after it paused the app for 0.65 s."""
    if Strip.__dict__.get("divide") is _divide:
        return True
    if Strip.__dict__.get("divide") is not _original_divide:
        return False
    Strip.divide = _divide  # type: ignore[method-assign,assignment]
    return True


def apply() -> None:
    free_dead_styles_caches()
    strips_free_without_the_collector()
