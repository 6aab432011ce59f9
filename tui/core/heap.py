"""The garbage collector around a streaming reply.

After start-up the app freezes its heap (``gc.freeze``), so the collector's "only when the
old generation grew by a quarter" rule sees an almost empty old generation and runs a full
collection every ten young ones. While a long reply streams, each full collection scans
every object the stream made (its rendered lines among them): 100-130 ms pauses, every few
seconds, measured in ``agents-tui bench`` as keys that took half a second to appear. So
while a turn runs only the young generations are collected, and the full collection that
came due runs once the turn is over, at the first quiet moment: after a 1 MB reply it
still scans ~85,000 objects (60-100 ms), and run the moment the turn ended it delayed the
keys typed then (185 ms measured); so it waits until no key has come for ``QUIET_S``
(at most ``LATEST_S`` after the turn).
"""

from __future__ import annotations

import gc

_FULL_NEVER = 1 << 30
QUIET_S = 0.25  # no key for this long: a pause now delays nobody's typing
LATEST_S = 3.0  # after a turn, the held collection runs by then even if keys keep coming
_normal_full = 10  # the full-collection threshold to go back to (Python's default)


def hold_full_collections(held: bool) -> None:
    """While ``held``, no automatic full collections (young ones still run)."""
    global _normal_full
    young, middle, full = gc.get_threshold()
    if held and full != _FULL_NEVER:
        _normal_full = full
        gc.set_threshold(young, middle, _FULL_NEVER)
    elif not held and full == _FULL_NEVER:
        gc.set_threshold(young, middle, _normal_full)


def quiet_enough(now: float, last_key: float, turn_ended: float) -> bool:
    """Whether the held full collection may run now (times in seconds, one clock)."""
    return now - last_key >= QUIET_S or now - turn_ended >= LATEST_S


def collect_if_due() -> None:
    """The full collection held back during the turn, if one came due meanwhile."""
    if gc.get_count()[2] >= gc.get_threshold()[2]:
        gc.collect()
