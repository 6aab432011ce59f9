"""Adaptive streaming (``tui.core.pace``): bursts released at a steady pace, a pace that rises
while the reader waits and holds while they read, and ``agents-tui tutorial --pace``."""

from __future__ import annotations

import io

import pytest

from tests.core.test_tutorial_programs import Scripted, text_step
from tui.core import events as ev
from tui.core.config import Settings
from tui.core.pace import MAX_LAG_S, PaceError, Pacer, parse_pace, take_words, words_in
from tui.tutorial import find, run_program
from tui.tutorial.paced import paced

FRAME = 1 / 60


def released_per_frame(pacer: Pacer, bursts: dict[int, int], frames: int) -> list[int]:
    """Words shown each frame when ``bursts[frame]`` words arrive at those frames."""
    backlog, shown = 0, []
    for frame in range(frames):
        now = frame * FRAME
        if frame in bursts:
            backlog += bursts[frame]
            pacer.arrived(backlog, now)
        words = pacer.allowance(now, backlog)
        backlog -= words
        shown.append(words)
    return shown


def test_bursts_of_200_words_are_released_steadily_within_the_lag_bound():
    pacer = Pacer(wps=8.0)
    shown = released_per_frame(pacer, {0: 200, 600: 200}, 1200)
    assert sum(shown) == 400
    for start in (0, 600):
        window = shown[start + 1 : start + 600]
        busy = [n for n in window if n]
        # one constant rate: every frame shows 1 or 2 words (200 words over 3 s at 60 Hz)
        assert set(busy) <= {1, 2} and len(busy) > 150
        last = max(i for i, n in enumerate(window) if n)
        assert last * FRAME <= MAX_LAG_S + FRAME  # never more than 3 s behind
    # steady, not a rush that slows down: the first and the last second show the same
    first_second, last_second = sum(shown[1:61]), sum(shown[121:181])
    assert abs(first_second - last_second) <= 2


def test_a_slow_stream_is_shown_at_the_pace_not_faster():
    pacer = Pacer(wps=10.0)
    shown = released_per_frame(pacer, {0: 5}, 120)
    assert sum(shown[:31]) == 5  # 10 words a second: 5 words within half a second
    assert sum(shown[:20]) < 5  # ...but not all at once


def test_auto_rises_while_the_reader_waits_at_the_bottom_and_holds_while_they_read():
    pacer = Pacer.of(parse_pace("auto") or 0.0)
    assert pacer.auto and pacer.wps == 8.0
    pacer.reader(at_bottom=False)  # scrolled up, reading
    for frame in range(120):
        pacer.allowance(frame * FRAME, 0)
    assert pacer.wps == 8.0
    pacer.reader(at_bottom=True)  # caught up, waiting for more
    for frame in range(120, 240):
        pacer.allowance(frame * FRAME, 0)
    assert 12.0 < pacer.wps <= 40.0
    fixed = Pacer(wps=8.0)
    for frame in range(240):
        fixed.allowance(frame * FRAME, 0)
    assert fixed.wps == 8.0  # a number given is kept


def test_parse_pace_and_words():
    assert parse_pace("off") is None and parse_pace("AUTO") == 0.0 and parse_pace("12") == 12.0
    for bad in ("fast", "0", "-3"):
        with pytest.raises(PaceError):
            parse_pace(bad)
    assert words_in("  two words\n\n") == 2
    assert take_words("one two  three", 2) == ("one two  ", "three")
    assert take_words("  lead", 1) == ("  lead", "")


async def _events(items: list[ev.RunEvent]):
    for item in items:
        yield item


async def test_paced_events_keep_the_text_and_the_order_and_cut_a_burst_in_frames():
    burst = "".join(f"w{i} " for i in range(60))
    items: list[ev.RunEvent] = [
        ev.TurnStarted("p", "a", 0),
        ev.TextDelta(burst, 1),
        ev.ToolCallIssued("c1", "roll_dice", "{}", 2),
        ev.TextDelta("after the tool.", 3),
        ev.TurnFinished("completed", burst + "after the tool.", 4),
    ]
    out = [e async for e in paced(_events(items), Pacer(wps=600.0, max_lag_s=0.1))]
    kinds = [type(e).__name__ for e in out]
    assert kinds[0] == "TurnStarted" and kinds[-1] == "TurnFinished"
    texts = [e.text for e in out if isinstance(e, ev.TextDelta)]
    assert "".join(texts) == burst + "after the tool."
    assert len(texts) > 3  # the burst came out over several frames
    tool = kinds.index("ToolCallIssued")
    before = "".join(e.text for e in out[:tool] if isinstance(e, ev.TextDelta))
    assert before == burst  # the tool call follows all the text before it


async def test_tutorial_with_a_pace_prints_the_same_lines():
    out = {}
    for pace in (None, 500.0):
        make = Scripted([text_step([f"word{i} " for i in range(30)])])
        buffer = io.StringIO()
        entry = find("1")
        assert entry is not None
        assert await run_program(Settings(), entry, out=buffer, make_runner=make, pace=pace) == 0
        out[pace] = buffer.getvalue()
    assert out[None] == out[500.0]


def test_a_bad_pace_is_refused_with_the_fix(capsys):
    from tui.cli import main

    assert main(["tutorial", "1", "--pace", "fast"]) == 2
    assert "use auto, off or words a second" in capsys.readouterr().err


def test_text_without_spaces_between_words_is_paced_a_character_at_a_time():
    # a Chinese or Japanese reply has no spaces: as one "word" a burst of it was shown at once
    assert words_in("日本語のテキストです") == 10
    assert take_words("日本語のテキスト", 3) == ("日本語", "のテキスト")
    assert take_words("hello 世界 ok", 2) == ("hello 世", "界 ok")
    assert words_in("안녕하세요 world") == 6
