"""Rendered lines kept for the objects drawn most recently (records, timeline rows)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

Key = TypeVar("Key")
Lines = TypeVar("Lines")


class RecentLines(Generic[Key, Lines]):
    """Lines by object identity, at most ``size`` objects, least recently drawn dropped.
    The object is kept with its lines, so an id reused by a new object never matches."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[int, tuple[Key, Lines]] = OrderedDict()

    def get(self, owner: Key) -> Lines | None:
        kept = self._kept.get(id(owner))
        if kept is None or kept[0] is not owner:
            return None
        self._kept.move_to_end(id(owner))
        return kept[1]

    def put(self, owner: Key, lines: Lines) -> None:
        self._kept[id(owner)] = (owner, lines)
        self._kept.move_to_end(id(owner))
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def drop(self, owner: Key) -> None:
        self._kept.pop(id(owner), None)

    def clear(self) -> None:
        self._kept.clear()
