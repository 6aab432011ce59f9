"""The one virtual line list (``tui.widgets.line_list``), with strings for lines."""

from __future__ import annotations

from tui.widgets.line_list import LineList


class Item:
    def __init__(self, text: str) -> None:
        self.text = text


def wrap(item: Item, width: int) -> list[str]:
    """Each item's text in lines of ``width`` characters (at least one line)."""
    text = item.text
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def counted() -> tuple[LineList[Item, str], list[str]]:
    drawn: list[str] = []

    def render(item: Item, width: int) -> list[str]:
        drawn.append(item.text)
        return wrap(item, width)

    return LineList(render, keep_items=2), drawn


def test_rows_are_found_across_items_of_different_heights():
    lines, _drawn = counted()
    lines.set_width(4)
    lines.set_items([Item("abcdefgh"), Item("x"), Item("123456789")])
    assert lines.starts() == [0, 2, 3, 6] and lines.height == 6
    assert lines.line_at(0) == (0, "abcd") and lines.line_at(1) == (0, "efgh")
    assert lines.line_at(2) == (1, "x") and lines.line_at(5) == (2, "9")
    assert lines.line_at(6) == (3, None) and lines.line_at(-1) == (-1, None)


def test_only_the_items_drawn_most_recently_keep_their_lines_and_heights_stay():
    lines, drawn = counted()
    lines.set_width(10)
    items = [Item(f"item {n}") for n in range(4)]
    lines.set_items(items)
    assert lines.height == 4 and len(drawn) == 4  # every height learnt once
    drawn.clear()
    lines.line_at(3)
    lines.line_at(2)
    assert drawn == []  # the two newest kept
    lines.line_at(0)
    assert drawn == ["item 0"]  # dropped, drawn again
    assert lines.height == 4 and drawn == ["item 0"]  # heights are not drawn again


def test_a_new_width_learns_heights_again_and_a_changed_item_is_drawn_again():
    lines, _drawn = counted()
    lines.set_width(10)
    item = Item("abcdefghijkl")
    lines.set_items([item])
    assert lines.height == 2
    assert lines.set_width(4) and not lines.set_width(4)
    assert lines.height == 3
    item.text = "ab"
    lines.forget([item])
    lines.changed()
    assert lines.height == 1 and lines.line_at(0) == (0, "ab")


def test_append_with_lines_and_truncate_keep_the_starts_without_drawing():
    lines, drawn = counted()
    lines.set_width(3)
    lines.append(Item("one"), ["one"])
    lines.append(Item("two lines"), ["two", " li", "nes"])
    assert drawn == [] and lines.starts() == [0, 1, 4]
    lines.append(Item("x"), ["x"])
    assert lines.starts() == [0, 1, 4, 5]
    lines.truncate(1)
    assert lines.starts() == [0, 1] and lines.height == 1 and len(lines.items) == 1


def test_lines_kept_are_bounded_by_their_count():
    lines: LineList[Item, str] = LineList(wrap, keep_lines=5)
    lines.set_width(1)
    lines.set_items([Item("abc"), Item("defg"), Item("h")])
    lines.starts()
    assert lines.kept_lines <= 5
    assert lines.line_at(6) == (1, "g")
    assert lines.kept_lines <= 5


def test_taller_than_measures_only_the_items_it_takes_to_know():
    lines, drawn = counted()
    lines.set_width(4)
    lines.set_items([Item("abcdefgh"), Item("x"), Item("123456789"), Item("never")])
    assert lines.taller_than(2)  # 2 + 1 lines: known after the second item
    assert drawn == ["abcdefgh", "x"]
    assert not lines.taller_than(8) and lines.taller_than(7)  # 2 + 1 + 3 + 2
    assert lines.height == 8
