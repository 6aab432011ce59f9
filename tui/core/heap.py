"""The garbage collector around a streaming reply.

After start-up the app freezes its heap (``gc.freeze``), so the collector's "only when the
old generation grew by a quarter" rule sees an almost empty old generation and runs a full
collection every ten young ones. While a long reply streams, each full collection scans
every object the stream made (its rendered lines among them): 100-130 ms pauses, every few
seconds, measured in ``agents-tui bench`` as keys that took half a second to appear. So
while a turn runs only the young generations are collected, and the full collection that
came due runs once the turn is over.
"""

from __future__ import annotations

import gc

_FULL_NEVER = 1 << 30


def hold_full_collections(held: bool) -> None:
    """While ``held``, no automatic full collections (young ones still run)."""
    young, middle, full = gc.get_threshold()
    if held and full != _FULL_NEVER:
        hold_full_collections.normal = full  # type: ignore[attr-defined]
        gc.set_threshold(young, middle, _FULL_NEVER)
    elif not held and full == _FULL_NEVER:
        gc.set_threshold(young, middle, getattr(hold_full_collections, "normal", 10))


def full_collection_due() -> bool:
    """More middle-generation collections than the threshold since the last full one."""
    return gc.get_count()[2] >= gc.get_threshold()[2]


def collect_if_due() -> None:
    if full_collection_due():
        gc.collect()
