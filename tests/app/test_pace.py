"""Adaptive streaming in the chat (``--pace``, ``/pace``; ``tui.screens.chat_pacing``): a
model that streams in bursts of 200 tokens is shown at a steady pace, the rest within 2 s
of the turn's end (``tests/app/test_paced_tail.py``), the stored reply unchanged; ``/pace``
changes it and the sidebar says it; ``off`` shows the text as it always did."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from agents.testing import ModelStep

from tests.app.helpers import pane_text, screen_text, send, wait_idle, wait_until
from tests.scripts import runner_for, text_step
from tui.app import AgentsTuiApp
from tui.core.config import Settings
from tui.testing.scripted import Text, response_events
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.metrics import MetricsSidebar

SIZE = (160, 45)
BURST = 200


def bursts(count: int, gap_s: float, tail_s: float) -> tuple[ModelStep, str]:
    """A stream of ``count`` bursts of 200 one-word tokens, each delivered at once, ``gap_s``
    apart, and the end of the response ``tail_s`` after the last; and the whole text."""
    deltas = [f"w{i} " for i in range(count * BURST)]
    events = response_events([Text(deltas)])

    async def stream(_call: Any) -> Any:
        seen = 0
        for event in events:
            if event.type == "response.output_text.delta":
                if seen and seen % BURST == 0:
                    await asyncio.sleep(gap_s)  # a server's next chunk of tokens
                seen += 1
            elif event.type == "response.completed":
                await asyncio.sleep(tail_s)
            yield event

    return ModelStep.stream(stream), "".join(deltas)


def paced_app(steps: list[Any], pace: str) -> AgentsTuiApp:
    runner, _model = runner_for(steps)
    return AgentsTuiApp(Settings(pace=pace), runner=runner, backend_label="scripted")


def shown_words(app: AgentsTuiApp) -> int:
    replies = app.query(AssistantMessage)
    return len(replies.last().source.split()) if replies else 0


def sidebar_pace(app: AgentsTuiApp) -> str:
    line = next(
        (row for row in pane_text(app, app.query_one(MetricsSidebar)).split("\n") if "pace" in row),
        "",
    )
    return " ".join(line.strip(" │").split())


async def test_bursts_of_200_tokens_reach_the_screen_at_a_steady_pace():
    step, full = bursts(2, gap_s=1.5, tail_s=1.0)
    app = paced_app([step], "20")
    async with app.run_test(size=SIZE) as pilot:
        assert sidebar_pace(app) == "pace 20 w/s"
        await send(pilot, "tell a long story")
        samples: list[int] = []  # words on screen, frame by frame, while the turn streams
        started = time.monotonic()
        while app.turn_running and time.monotonic() - started < 15:
            samples.append(shown_words(app))
            await pilot.pause(1 / 30)
        await wait_idle(pilot)
        growth = [b - a for a, b in itertools.pairwise(samples)]
        # a steady release: the count grew in many frames, never by a burst at once
        assert sum(1 for g in growth if g > 0) >= 20, samples
        assert max(growth) < BURST // 2, samples  # (a loaded machine may skip frames)
        assert all(g >= 0 for g in growth)
        # 2.5 s of release at ~67 words a second (200 words within 3 s): not everything yet
        assert 60 <= samples[-1] < 2 * BURST, samples
        reply = app.query(AssistantMessage).last()
        assert reply.source == full  # the rest within 2 s of the turn's end
        assert "w399" in screen_text(app)
        stored = app.conversation.turns()[0]
        assert (stored.status, stored.reply) == ("completed", full)  # stored unchanged
        metrics = app.session_metrics.turns[-1]
        assert metrics.tokens == 2 * BURST  # counted as the model delivered them


async def test_pace_off_shows_a_burst_at_once_as_before():
    step, full = bursts(2, gap_s=1.0, tail_s=0.0)
    app = paced_app([step], "off")
    async with app.run_test(size=SIZE) as pilot:
        assert sidebar_pace(app) == "pace off"
        await send(pilot, "tell a long story")
        # the first burst whole, while the model still waits to send the second
        await wait_until(pilot, lambda: shown_words(app) >= BURST, "the first burst", 3)
        assert app.turn_running and shown_words(app) == BURST
        await wait_idle(pilot)
        assert app.query(AssistantMessage).last().source == full
        assert app.chat_screen.pacing._timer is None  # off: no timer ever ran


async def test_slash_pace_changes_the_pace_and_the_sidebar_shows_it():
    step, full = bursts(1, gap_s=0.0, tail_s=1.0)
    app = paced_app([step], "off")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/pace fast")
        await wait_for_notice(pilot, "Unknown pace 'fast'")
        assert sidebar_pace(app) == "pace off"
        await send(pilot, "/pace 30")
        await wait_until(pilot, lambda: sidebar_pace(app) == "pace 30 w/s", "pace 30")
        await send(pilot, "/pace")
        await wait_for_notice(pilot, "Pace: 30 words a second.")
        await send(pilot, "/pace auto")
        await wait_until(pilot, lambda: sidebar_pace(app) == "pace auto 8 w/s", "pace auto")
        # the next reply is paced: a 200-token burst is not on screen at once
        await send(pilot, "tell a story")
        await wait_until(pilot, lambda: shown_words(app) > 0, "the reply's first words")
        await pilot.pause(0.3)
        assert 0 < shown_words(app) < BURST // 2
        await wait_idle(pilot)
        assert app.query(AssistantMessage).last().source == full
        await send(pilot, "/pace off")
        await wait_until(pilot, lambda: sidebar_pace(app) == "pace off", "pace off")


def trickle(words: int, every_s: float) -> ModelStep:
    """A slow stream: one word every ``every_s`` seconds (the reader waits for each)."""
    events = response_events([Text([f"t{i} " for i in range(words)])])

    async def stream(_call: Any) -> Any:
        for event in events:
            if event.type == "response.output_text.delta":
                await asyncio.sleep(every_s)
            yield event

    return ModelStep.stream(stream)


async def test_auto_rises_while_the_reader_waits_at_the_bottom_and_holds_while_they_read():
    long_reply = [f"line {i}\n\n" for i in range(80)]  # taller than the chat pane
    app = paced_app([text_step(long_reply), trickle(12, 0.25), trickle(12, 0.25)], "off")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "a long answer")
        await wait_idle(pilot)
        await send(pilot, "/pace auto")
        await wait_until(pilot, lambda: sidebar_pace(app) == "pace auto 8 w/s", "pace auto")
        await pilot.press("pageup", "pageup")  # the reader scrolls up to read
        assert not app.chat.following
        await send(pilot, "go on, slowly")
        await wait_idle(pilot)
        assert app.chat_screen.pacing.pacer.wps == 8.0  # held while they read above
        assert sidebar_pace(app) == "pace auto 8 w/s"
        await pilot.press("ctrl+end")  # back at the bottom, waiting for each word
        assert app.chat.following
        await send(pilot, "go on, slowly")
        await wait_idle(pilot)
        wps = app.chat_screen.pacing.pacer.wps
        assert 8.0 < wps <= 40.0  # it rose
        assert sidebar_pace(app) == f"pace auto {wps:.0f} w/s"
        assert app.conversation.turns()[-1].reply == "".join(f"t{i} " for i in range(12))


async def wait_for_notice(pilot: Any, text: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: any(text in n.message for n in app._notifications), text)


def test_a_bad_pace_is_one_line_and_exit_2(capsys):
    from tui.cli import main

    assert main(["--pace", "fast"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "agents-tui: --pace 'fast': use auto, off or words a second (e.g. 12)"


def test_an_infinite_pace_is_refused_like_any_bad_value():
    # accepted, "inf" words a second crashed the app at its first paced frame
    # (OverflowError: int() of an infinite allowance)
    from tui.core.pace import PaceError, parse_pace

    for value in ("inf", "-inf", "Infinity", "1e999"):
        with pytest.raises(PaceError, match="words a second must be"):
            parse_pace(value)
    assert parse_pace("1e6") == 1e6


class _Timer:
    def __init__(self) -> None:
        self.running = False

    def resume(self) -> None:
        self.running = True

    def pause(self) -> None:
        self.running = False


class _Screen:
    """What the pacing uses of the chat screen, recorded: what it shows, in order."""

    def __init__(self) -> None:
        self.shown: list[Any] = []
        self.timer = _Timer()
        self.frame: Any = None
        self.pace_row: tuple[float | None, bool] | None = None
        chat = type("Chat", (), {"following": True})()
        sidebar = type("Sidebar", (), {"show_pace": self._pace})()
        self.host = type("Host", (), {"chat": chat, "sidebar": sidebar})()

    def _pace(self, wps: float | None, *, auto: bool = False) -> None:
        self.pace_row = (wps, auto)

    def emit(self, event: Any) -> None:
        self.shown.append(event)

    def set_interval(self, _interval: float, callback: Any, *, pause: bool = True) -> _Timer:
        self.frame = callback
        return self.timer


def test_events_wait_behind_the_text_before_them_and_the_turn_end_behind_its_tail():
    from tui.core import events as ev
    from tui.screens.chat_pacing import ReplyPacing

    now = [0.0]
    screen = _Screen()
    pacing = ReplyPacing(screen, clock=lambda: now[0])  # type: ignore[arg-type]
    assert not pacing.holds(ev.TextDelta("shown at once while off ", 1))
    pacing.set_pace(10.0)
    assert screen.pace_row == (10.0, False)
    assert not pacing.holds(ev.TurnStarted("p", "a", 2))  # nothing waits: shown now
    text = "".join(f"w{i} " for i in range(20))
    assert pacing.holds(ev.TextDelta(text, 3))
    assert pacing.holds(ev.ToolCallIssued("c1", "roll_dice", "{}", 4))  # behind the text
    assert screen.timer.running and pacing.waiting == 20
    shown: list[str] = []
    for _ in range(15):  # half a second at 30 frames a second: 10 words a second
        now[0] += 1 / 30
        screen.frame()
        shown.append("".join(e.text for e in screen.shown if isinstance(e, ev.TextDelta)))
    assert shown[-1] == text[: len(shown[-1])] and 4 <= len(shown[-1].split()) <= 6
    assert not any(isinstance(e, ev.ToolCallIssued) for e in screen.shown)
    # the turn's end waits behind its text, which goes on, faster if need be: all of it
    # within 2 s of the end (TAIL_MAX_S)
    assert pacing.holds(ev.TurnFinished("completed", text, 5)) and pacing.tail_held
    now[0] += 1 / 30
    screen.frame()
    assert not any(isinstance(e, ev.TurnFinished) for e in screen.shown)
    for _ in range(60):
        now[0] += 1 / 30
        screen.frame()
    kinds = [type(e).__name__ for e in screen.shown]
    assert kinds[-2:] == ["ToolCallIssued", "TurnFinished"] and "".join(
        e.text for e in screen.shown if isinstance(e, ev.TextDelta)
    ) == (text)
    assert not screen.timer.running and pacing.waiting == 0  # idle: no frames
    assert not pacing.tail_held
    # the next turn never starts under a paced tail: its start shows what is held at once
    assert pacing.holds(ev.TextDelta("tail of the last reply ", 7))
    assert pacing.holds(ev.TurnFinished("completed", "tail of the last reply ", 8))
    assert not pacing.holds(ev.TurnStarted("next", "a", 9))
    assert [type(e).__name__ for e in screen.shown[-2:]] == ["TextDelta", "TurnFinished"]
    assert pacing.waiting == 0 and not pacing.tail_held
    pacing.set_pace(None)
    assert screen.pace_row == (None, False) and not pacing.holds(ev.TextDelta("x", 6))
