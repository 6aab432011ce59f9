"""The one virtual list of rendered lines: items drawn one after another, each as some
lines at the current width, without keeping every item's lines.

The transcript (finished messages), the timeline (tool-call rows), a streaming reply's
committed blocks and a long reply's pieces are all such a list. Each item's height is
learnt when it is first drawn (or given, when it is committed already rendered) and kept
per width; the lines themselves are kept only for the items drawn most recently, bounded by
items or by lines, and rendered again (by ``render``) when drawn after they were dropped.
The line at a row is found by bisecting the items' first lines. Pure Python, no Textual:
a line is whatever ``render`` returns (Textual's ``Strip`` in the widgets, ``str`` in the
unit tests).
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

Item = TypeVar("Item")
Line = TypeVar("Line")


class LineList(Generic[Item, Line]):
    def __init__(
        self,
        render: Callable[[Item, int], Sequence[Line]],
        *,
        keep_items: int | None = None,
        keep_lines: int | None = None,
    ) -> None:
        self.items: list[Item] = []
        self.width = 0
        self._render = render
        self._keep_items = keep_items
        self._keep_lines = keep_lines
        self._heights: dict[int, tuple[Item, int]] = {}  # id(item) -> (item, its lines)
        self._kept: OrderedDict[int, tuple[Item, Sequence[Line]]] = OrderedDict()
        self._kept_lines = 0
        self._starts: list[int] | None = None  # each item's first line, and the total

    # --- the items ------------------------------------------------------------------------
    def changed(self) -> None:
        """Items came, went or changed height: their first lines are found again."""
        self._starts = None

    def set_items(self, items: Iterable[Item]) -> None:
        items = list(items)
        staying = {id(item) for item in items}
        self.forget(item for item in self.items if id(item) not in staying)
        self.items = items
        self._starts = None

    def append(self, item: Item, lines: Sequence[Line] | None = None) -> None:
        """Add ``item`` at the end; with ``lines`` (already rendered at this width) its
        height is known at once and its lines are kept."""
        self.items.append(item)
        if lines is not None:
            self._heights[id(item)] = (item, len(lines))
            self._put(item, lines)
        if self._starts is not None:
            self._starts.append(self._starts[-1] + self.height_of(item))

    def truncate(self, count: int) -> None:
        """Keep the first ``count`` items."""
        self.forget(self.items[count:])
        del self.items[count:]
        if self._starts is not None:
            del self._starts[count + 1 :]

    def forget(self, items: Iterable[Item]) -> None:
        """Items that left (or changed): their heights and lines go with them."""
        for item in items:
            self._heights.pop(id(item), None)
            self.drop_lines(item)

    def drop_lines(self, item: Item) -> None:
        """Draw ``item`` afresh next time (its look changed, not its height)."""
        kept = self._kept.pop(id(item), None)
        if kept is not None:
            self._kept_lines -= len(kept[1])

    def drop_all_lines(self) -> None:
        """Draw every item afresh next time (a selection changed the look of all)."""
        self._kept.clear()
        self._kept_lines = 0

    # --- geometry -------------------------------------------------------------------------
    def set_width(self, width: int) -> bool:
        """At a new width every height is learnt again as items are drawn; True if it
        changed."""
        if width == self.width:
            return False
        self.width = width
        self._heights.clear()
        self._kept.clear()
        self._kept_lines = 0
        self._starts = None
        return True

    def height_of(self, item: Item) -> int:
        known = self._heights.get(id(item))
        if known is not None and known[0] is item:
            return known[1]
        return len(self.lines_of(item))

    def know_height(self, item: Item, height: int) -> None:
        """``item`` is ``height`` lines at this width (known without drawing it)."""
        self._heights[id(item)] = (item, height)

    def known_height(self, item: Item) -> int | None:
        known = self._heights.get(id(item))
        return known[1] if known is not None and known[0] is item else None

    def starts(self) -> list[int]:
        """Each item's first line, then the total height."""
        if self._starts is None:
            self._starts = list(accumulate(map(self.height_of, self.items), initial=0))
        return self._starts

    def taller_than(self, height: int) -> bool:
        """Whether the items take more than ``height`` lines, measuring no more of them
        than it takes to know."""
        if self._starts is not None:
            return self._starts[-1] > height
        total = 0
        for item in self.items:
            total += self.height_of(item)
            if total > height:
                return True
        return False

    @property
    def height(self) -> int:
        return self.starts()[-1]

    def index_at(self, row: int) -> int:
        """The item drawn at ``row`` (-1 above the first, ``len(items)`` past the last)."""
        return bisect.bisect_right(self.starts(), row) - 1

    def line_at(self, row: int) -> tuple[int, Line | None]:
        """The item at ``row`` and its line there (None past its lines or the list)."""
        index = self.index_at(row)
        if not 0 <= index < len(self.items):
            return index, None
        lines = self.lines_of(self.items[index])
        offset = row - self.starts()[index]
        return index, lines[offset] if 0 <= offset < len(lines) else None

    # --- lines ----------------------------------------------------------------------------
    def lines_of(self, item: Item) -> Sequence[Line]:
        kept = self._kept.get(id(item))
        if kept is not None and kept[0] is item:
            self._kept.move_to_end(id(item))
            return kept[1]
        lines = self._render(item, max(1, self.width))
        self._heights[id(item)] = (item, len(lines))
        self._put(item, lines)
        return lines

    def _put(self, item: Item, lines: Sequence[Line]) -> None:
        self.drop_lines(item)
        self._kept[id(item)] = (item, lines)
        self._kept_lines += len(lines)
        while len(self._kept) > 1 and (
            (self._keep_items is not None and len(self._kept) > self._keep_items)
            or (self._keep_lines is not None and self._kept_lines > self._keep_lines)
        ):
            _, (_, dropped) = self._kept.popitem(last=False)
            self._kept_lines -= len(dropped)

    @property
    def kept_lines(self) -> int:
        return self._kept_lines


class RecentLines(Generic[Item, Line]):
    """What each of the last ``size`` widgets drew (a reopened reply is a widget of its
    own), by object identity, the least recently drawn dropped. The object is kept with
    its lines, so an id reused by a new object never matches."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[int, tuple[Item, Line]] = OrderedDict()

    def get(self, owner: Item) -> Line | None:
        kept = self._kept.get(id(owner))
        if kept is None or kept[0] is not owner:
            return None
        self._kept.move_to_end(id(owner))
        return kept[1]

    def put(self, owner: Item, lines: Line) -> None:
        self._kept[id(owner)] = (owner, lines)
        self._kept.move_to_end(id(owner))
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def drop(self, owner: Item) -> None:
        self._kept.pop(id(owner), None)

    def clear(self) -> None:
        self._kept.clear()
