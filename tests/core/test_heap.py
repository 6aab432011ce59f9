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


def test_the_held_collection_waits_for_a_pause_in_typing_but_not_forever():
    ended = 100.0
    assert not heap.quiet_enough(ended + 0.1, last_key=ended + 0.05, turn_ended=ended)
    assert heap.quiet_enough(ended + 0.1 + heap.QUIET_S, last_key=ended + 0.1, turn_ended=ended)
    # someone typing without a pause: it runs anyway, LATEST_S after the turn
    late = ended + heap.LATEST_S
    assert heap.quiet_enough(late, last_key=late - 0.01, turn_ended=ended)
