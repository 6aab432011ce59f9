"""The streaming Markdown splitter (``tui.render.blocks``), with no Textual: what it
commits, when, and the promise that the committed blocks look like the whole reply."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType

from tui.render.blocks import (
    DRAFT_LINES,
    FENCE_PIECE_LINES,
    Block,
    BlockSplitter,
    Change,
    Retract,
    Tail,
)
from tui.widgets.assistant_message import _block_renderable, markdown

WIDTH = 60


def feed(chunks: list[str]) -> tuple[BlockSplitter, list[Block], list[list[Block]]]:
    """Stream ``chunks``; the blocks committed at the end, and what each commit added."""
    splitter = BlockSplitter()
    blocks: list[Block] = []
    steps: list[list[Block]] = []

    def apply(changes: list[Change]) -> None:
        added = []
        for change in changes:
            if isinstance(change, Retract):
                del blocks[change.keep :]
            else:
                blocks.append(change)
                added.append(change)
        steps.append(added)

    for chunk in chunks:
        splitter.append(chunk)
        apply(splitter.commit())
    apply(splitter.finish())
    return splitter, blocks, steps


def lines_of(renderable: RenderableType) -> list[str]:
    console = Console(width=WIDTH, color_system=None, force_terminal=False, legacy_windows=False)
    options = console.options.update_width(WIDTH)
    return [
        "".join(segment.text for segment in line).rstrip()
        for line in console.render_lines(renderable, options, pad=False)
    ]


def drawn(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if block.blank:
            out.append("")
        out.extend(lines_of(_block_renderable(block)))
    return out


def test_a_paragraph_is_committed_when_a_blank_line_ends_it() -> None:
    splitter = BlockSplitter()
    splitter.append("First paragraph,\nstill the first")
    assert splitter.commit() == []
    assert splitter.tail().kind == "markdown"
    splitter.append(".\n\nSecond")
    [block] = splitter.commit()
    assert isinstance(block, Block) and block.kind == "markdown"
    assert block.text == "First paragraph,\nstill the first."
    assert splitter.tail().text == "Second" and splitter.tail().blank


def test_a_blank_line_inside_a_code_fence_ends_nothing() -> None:
    splitter = BlockSplitter()
    splitter.append("```python\nx = 1\n\ny = 2\n")
    assert splitter.commit() == []
    splitter.append("```\n\nafter")
    [block] = splitter.commit()
    assert isinstance(block, Block) and "y = 2" in block.text and block.kind == "markdown"


def test_a_long_code_block_is_committed_in_pieces_of_whole_lines() -> None:
    code = "".join(f"line_{n} = {n}\n" for n in range(3 * FENCE_PIECE_LINES))
    _splitter, blocks, steps = feed(["Intro\n\n```python\n", code, "```\n"])
    pieces = [b for b in blocks if b.kind == "code"]
    assert len(pieces) >= 2 and pieces[0].first and pieces[-1].last
    assert {b.lexer for b in pieces} == {"python"}
    assert "\n".join(p.text for p in pieces) == code.rstrip("\n")
    assert any(b.kind == "code" for b in steps[1])  # committed while the fence was open


def test_a_long_table_is_drafted_as_rows_then_laid_out_once() -> None:
    rows = "".join(f"| {n} | {n * n} |\n" for n in range(DRAFT_LINES + 10))
    source = "| n | square |\n|---|---|\n" + rows
    splitter = BlockSplitter()
    splitter.append(source)
    drafted = splitter.commit()
    assert drafted and all(isinstance(c, Block) and c.kind == "text" for c in drafted)
    splitter.append("\nAfter the table.\n")
    changes = splitter.commit()
    assert isinstance(changes[0], Retract) and changes[0].keep == 0
    table = changes[1]
    assert (
        isinstance(table, Block) and table.kind == "markdown" and table.text == source.rstrip("\n")
    )


def test_a_loose_list_waits_for_what_follows() -> None:
    splitter = BlockSplitter()
    splitter.append("- one\n\n")
    assert splitter.commit() == []  # the next item may follow after the blank line
    splitter.append("- two\n\nA paragraph.")
    [block] = splitter.commit()
    assert isinstance(block, Block) and block.text == "- one\n\n- two"


def test_a_huge_paragraph_is_drawn_as_plain_text_while_it_streams() -> None:
    splitter = BlockSplitter()
    splitter.append("word " * 3_000)
    [piece] = splitter.commit()
    assert isinstance(piece, Block) and piece.kind == "text"
    splitter.append(" and more")
    assert splitter.commit() == []
    assert splitter.tail() == Tail("text", " and more", False)  # plain, until the paragraph ends
    changes = splitter.finish()
    assert isinstance(changes[0], Retract)
    assert isinstance(changes[1], Block) and changes[1].kind == "markdown"


# --- the promise, for any reply cut anywhere ------------------------------------------------
WORDS = st.sampled_from(["alpha", "beta", "gamma", "**bold**", "`code`", "δέλτα", "[x]", "a|b"])
PARAGRAPH = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
CODE_LINE = st.sampled_from(
    ["x = 1", "", "    return x", "print('a')", "# note", "  ", "```python", "~~~"]
)


@st.composite
def piece(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["para", "heading", "fence", "list", "olist", "table", "hr", "quote"])
    )
    if kind == "para":
        return "\n".join(draw(st.lists(PARAGRAPH, min_size=1, max_size=3)))
    if kind == "heading":
        return "#" * draw(st.integers(1, 3)) + " " + draw(PARAGRAPH)
    if kind == "fence":
        lines = draw(st.lists(CODE_LINE, max_size=FENCE_PIECE_LINES * 3))
        lang = draw(st.sampled_from(["", "python", "text"]))
        fence = draw(st.sampled_from(["```", "~~~", "````"]))
        closed = draw(st.booleans())
        above = draw(st.sampled_from(["", "Just above the code:\n"]))  # no blank line between
        body = "\n".join(lines)
        return above + fence + lang + "\n" + body + ("\n" + fence if closed else "")
    if kind in ("list", "olist"):
        items = draw(st.lists(PARAGRAPH, min_size=1, max_size=DRAFT_LINES + 5))
        loose = draw(st.booleans())
        marks = [("- " if kind == "list" else f"{n}. ") for n in range(1, len(items) + 1)]
        return ("\n\n" if loose else "\n").join(m + i for m, i in zip(marks, items, strict=True))
    if kind == "table":
        rows = draw(st.lists(st.tuples(WORDS, WORDS), min_size=1, max_size=DRAFT_LINES + 5))
        return "| a | b |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    if kind == "hr":
        return "---"
    return "> " + draw(PARAGRAPH)


@st.composite
def streamed_reply(draw: st.DrawFn) -> tuple[str, list[str]]:
    pieces = draw(st.lists(piece(), min_size=1, max_size=6))
    gaps = draw(
        st.lists(st.sampled_from(["\n\n", "\n\n\n"]), min_size=len(pieces), max_size=len(pieces))
    )
    source = "".join(p + g for p, g in zip(pieces, gaps, strict=True))
    if draw(st.booleans()):
        source = source.rstrip("\n")  # the reply may end without a newline
    cuts = sorted(set(draw(st.lists(st.integers(0, len(source)), max_size=40))))
    bounds = [0, *cuts, len(source)]
    return source, [source[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def assert_covered_and_whole(source: str, chunks: list[str]) -> None:
    splitter, blocks, _steps = feed(chunks)
    assert splitter.source == source
    # every character is in exactly one block, in order (only blank text between blocks)
    position = 0
    for block in blocks:
        assert not source[position : block.start].strip(), (position, block)
        assert block.end >= block.start >= position
        position = block.end
    assert not source[position:].strip()
    # and drawn block by block, with their blank lines, they are the whole reply drawn once
    whole = lines_of(markdown(source)) if source.strip() else []
    assert drawn(blocks) == whole


@settings(max_examples=300, deadline=None)
@given(streamed_reply())
# an empty fence, an unclosed one after it closing it, then indented code across a blank line
@example(
    reply=(
        "# alpha\n\n```\n\n\n```\n    return x\n\n    return x\n\n",
        ["# alpha\n\n```\n\n\n```\n    return x\n\n    return x\n\n"],
    )
)
def test_committed_blocks_cover_the_reply_and_look_like_it_whole(
    reply: tuple[str, list[str]],
) -> None:
    assert_covered_and_whole(*reply)


@pytest.mark.parametrize(
    "source",
    [
        # indented code right after a fence, a heading, a rule, a table: a blank line inside
        # it does not end it
        "```\n```\n    return x\n\n    return x\n\nafter",
        "# note\n    return x\n\n    return x",
        "---\n    a\n\n    b",
        "| a | b |\n|---|---|\n| x | y |\n    a\n\n    b",
        "x = 1\n    return x\n\n    return x",
        # a list after a heading or a paragraph, loose: one list
        "para\n- item\n\n- item2\n\nend",
        "# h\n- item\n\n- item2\n\nend",
        # more than one blank line, then more of the list
        "- item\n\n\n\n    ```",
        # a fence line indented four columns is code: it neither opens nor closes a fence
        "    ```\n\n```\ncode\n\nmore\n```\n",
        "\t```\n\n```\ncode\n\nmore\n```\n",
        "```\n    ```\n\nstill code\n```\n\nafter",
    ],
)
def test_a_blank_line_ends_no_block_that_goes_on_past_it(source: str) -> None:
    assert_covered_and_whole(source, [source])
    assert_covered_and_whole(source, list(source))  # and one character at a time
