"""Memory of a chat drawn in a real terminal (the ``ansi_by_look`` work-around in
tui/textual_patches): every line a terminal draws goes through ``Strip.render``."""

from __future__ import annotations

import functools

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui import textual_patches

patched = pytest.mark.skipif(
    not textual_patches.installed().get("ansi_by_look"), reason="Textual patches are off"
)


def _line() -> Strip:
    return Strip(
        [
            Segment("▌ ", Style(color="#33aaff")),
            Segment("a reply", Style(color="red", bold=True, italic=True)),
            Segment(" on its background", Style(color="#dddddd", bgcolor="#102030")),
            Segment(" plain"),
        ]
    )


@patched
def test_lines_drawn_at_new_rows_keep_no_style_each_and_draw_the_same_bytes():
    """A long chat draws each new line at a new row (its offset is in its styles); what the
    terminal is sent must not cost a cache entry per line ever drawn."""
    console = Console(color_system="truecolor", width=160)
    original = textual_patches._original_render_ansi.__func__.__wrapped__
    expected = "".join(
        text
        if style is None
        else f"\x1b[{original(Strip, style, console._color_system)}m{text}\x1b[0m"
        for text, style, _ in _line()._segments
    )
    before = len(textual_patches._ansi_of_look)
    drawn = {_line().apply_offsets(0, row).render(console) for row in range(20_000)}
    assert drawn == {expected}  # 20,000 rows, the same escape codes as Textual's own
    assert len(textual_patches._ansi_of_look) - before <= 4  # one per look (4), not per row
    assert len(textual_patches._ansi_of_look) <= textual_patches.ANSI_LOOKS


@patched
def test_textual_own_cache_would_have_kept_a_style_per_row():
    """The measure above is not vacuous: Textual's own function, cached as it ships,
    keeps an entry for every row's style."""
    cached = functools.lru_cache(maxsize=16384)(
        textual_patches._original_render_ansi.__func__.__wrapped__
    )
    console = Console(color_system="truecolor", width=160)
    for row in range(2_000):
        for _text, style, _ in _line().apply_offsets(0, row)._segments:
            if style is not None:
                cached(Strip, style, console._color_system)
    assert cached.cache_info().currsize >= 2_000
