"""A strip's caches are made when first used (the ``strip_caches`` work-around in
tui/textual_patches): the lines a long chat keeps cost a fraction of the memory, and every
strip operation gives what Textual's own strips give."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import Monochrome
from textual.strip import Strip

from tui import textual_patches

patched = pytest.mark.skipif(
    not textual_patches.installed().get("strip_caches"), reason="Textual patches are off"
)


def _segments(n: int) -> list[Segment]:
    return [
        Segment(f"line {n} ", Style(color="#33aaff")),
        Segment("bold words", Style(bold=True)),
        Segment(" and a tail of plain text", Style()),
    ]


def _textuals_own(segments: list[Segment]) -> Strip:
    """A strip made by Textual's own constructor (all seven caches made at once)."""
    strip = Strip.__new__(Strip)
    textual_patches._original_strip_init(strip, segments)
    return strip


def _ops(strip: Strip) -> list[Any]:
    style = Style(bgcolor="#102030")
    results: list[Any] = []
    for _ in range(2):  # the second round is answered from the caches
        results += [
            list(strip.crop(3, 17)),
            [list(s) for s in strip.divide([5, 12, strip.cell_length])],
            list(strip.apply_style(style)),
            list(strip.adjust_cell_length(60, style)),
            list(strip.crop_extend(2, 50, style)),
            list(strip.apply_offsets(4, 9)),
            list(strip.apply_filter(Monochrome(), Color(0, 0, 0))),
            strip.text,
            strip.cell_length,
        ]
    return results


@patched
def test_every_operation_gives_what_textuals_own_strip_gives() -> None:
    for n in range(20):
        assert _ops(Strip(_segments(n))) == _ops(_textuals_own(_segments(n)))


@patched
def test_a_cache_is_made_when_first_used_and_then_answers() -> None:
    strip = Strip(_segments(1))
    for name in textual_patches.STRIP_CACHES:
        with pytest.raises(AttributeError):  # not made by the constructor
            Strip.__dict__[name].slot.__get__(strip, Strip)
    first = strip.crop(3, 17)
    assert strip.crop(3, 17) is first  # cached: the same strip, as Textual's cache gives
    assert Strip.__dict__["_crop_cache"].slot.__get__(strip, Strip) is not None


@patched
def test_kept_lines_cost_a_fraction_of_textuals_own() -> None:
    """10,000 kept lines (a long chat's): the strips alone, as a chat keeps them."""

    def measure(make: Any) -> int:
        segments = [_segments(n) for n in range(10_000)]
        tracemalloc.start()
        try:
            kept = [make(s) for s in segments]
            size, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(kept) == 10_000
        return size

    ours, theirs = measure(Strip), measure(_textuals_own)
    assert ours * 4 < theirs, (ours, theirs)  # ~0.15 KB against ~1 KB a line
