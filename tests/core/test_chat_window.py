"""Where the chat's window of finished messages goes (``tui.widgets.chat_window``)."""

from tui.widgets.chat_window import JUMP, PAGE, around, for_reflow, newest, overflow


def test_a_search_hit_sits_in_the_middle_of_the_window_inside_the_conversation():
    assert around(1000, 500) == (500 - JUMP // 2, 500 - JUMP // 2 + JUMP)
    assert around(1000, 3) == (0, JUMP)  # near the start: the window starts at the start
    assert around(1000, 999) == (1000 - JUMP, 1000)  # near the end: it ends at the end
    assert around(10, 5) == (0, 10)  # a short conversation: all of it


def test_opening_and_ctrl_end_show_the_newest_messages():
    assert newest(10_000) == (10_000 - JUMP, 10_000)
    assert newest(5) == (0, 5)


def test_overflow_counts_what_is_beyond_the_limit():
    assert overflow(401, 400) == 1 and overflow(400, 400) == 0 and overflow(3, 400) == 0


def test_a_resize_keeps_what_the_reader_sees_or_the_newest_when_following():
    assert for_reflow(1000, following=True, top=10, live=False) == newest(1000)
    start, stop = for_reflow(1000, following=False, top=500, live=False)
    assert start == 500 - PAGE // 4 and stop == 500 + JUMP
    assert start <= 500 < stop  # the message at the top of the view stays in the window
    assert for_reflow(1000, following=False, top=500, live=True)[1] == 1000  # a turn runs
    assert for_reflow(1000, following=False, top=2, live=False)[0] == 0
