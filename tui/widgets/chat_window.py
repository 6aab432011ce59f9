"""Which messages of a long conversation the chat keeps in its window, as pure arithmetic.

The chat draws a window of finished messages (the transcript); the rest wait as records
above (``earlier``) or below (``later``). These functions say where the window goes when the
conversation opens, on Ctrl+Home, on a search hit, on a resize and when it overflows; the
chat pane (``tui.widgets.chat``) moves the records. No Textual: unit-tested in
``tests/core/test_chat_window.py``.
"""

from __future__ import annotations

# The window's size: each record in it has a known height (rendered once at this width).
MAX_WINDOW = 400
PAGE = 40
JUMP = 30  # put in the window on opening or on a jump: a screenful and then some


def around(count: int, index: int, size: int = JUMP) -> tuple[int, int]:
    """The window (start, stop) of ``size`` messages with message ``index`` in its middle,
    kept inside the conversation's ``count`` messages."""
    start = max(0, min(index - size // 2, count - size))
    return start, min(count, start + size)


def newest(count: int, size: int = JUMP) -> tuple[int, int]:
    """The window of the newest ``size`` messages (opening, Ctrl+End)."""
    return max(0, count - size), count


def overflow(count: int, limit: int = MAX_WINDOW) -> int:
    """How many messages the window holds beyond its limit (0 if none)."""
    return max(0, count - limit)


def for_reflow(
    count: int, *, following: bool, top: int | None, live: bool, page: int = PAGE
) -> tuple[int, int]:
    """What stays in the window while the width changes (only that is laid out again):
    the newest messages while following; else from a little above the message at the top
    of the view (``top``) to a screenful below it, or to the end while a turn is in progress
    (it must stay right after the window)."""
    if following or top is None:
        return newest(count)
    start = max(0, top - page // 4)
    stop = count if live else min(count, top + JUMP)
    return start, stop
