"""Full collections wait for the end of a turn, then the usual rule is back."""

import gc

from tui.core import heap


def test_full_collections_are_held_during_a_turn_and_restored_after():
    before = gc.get_threshold()
    try:
        heap.hold_full_collections(True)
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2] and full > 1_000_000
        heap.hold_full_collections(True)  # held twice: the normal value is not lost
        heap.hold_full_collections(False)
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)
