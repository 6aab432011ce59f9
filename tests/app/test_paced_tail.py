"""A reply's paced tail (``--pace``; ``tui.screens.chat_pacing``, ``tui.screens.chat_turn_end``):
a reply that arrives whole in one burst before its turn ends (a fast server, the response
cache) still reaches the screen at the pace, within 2 s of its end; the turn's end (its
footer, "ready") is shown when the tail is out, with that turn's own figures, even when the
next prompt was sent meanwhile; Esc and /clear show or leave it as before."""

from __future__ import annotations

import itertools
import statistics
import time

import pytest

from tests.app.helpers import pane_text, screen_text, send, wait_idle, wait_until
from tests.app.test_pace import BURST, SIZE, bursts, paced_app, shown_words
from tests.scripts import text_step
from tui.app import AgentsTuiApp
from tui.screens.chat_pacing import TAIL_MAX_S
from tui.widgets.assistant_message import AssistantMessage

SLACK_S = 0.6  # frames a loaded machine may skip


def status_text(app: AgentsTuiApp) -> str:
    return pane_text(app, app.status)


async def test_a_burst_reply_is_paced_after_its_turn_ends_and_its_end_waits_for_the_tail():
    step, full = bursts(1, gap_s=0.0, tail_s=0.0)  # a fast server: the reply, then its end
    app = paced_app([step], "20")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell a story")
        await wait_until(pilot, lambda: not app.turn_running, "the turn stored", 5)
        ended = time.monotonic()
        assert app.conversation.turns()[0].reply == full  # stored whole at once
        reply = app.query(AssistantMessage).last()
        samples: list[int] = []
        while app.chat_screen.pacing.tail_held and time.monotonic() - ended < 10:
            samples.append(shown_words(app))
            assert reply.status is None, samples  # no footer while the tail is out
            assert "ready" not in status_text(app)
            await pilot.pause(1 / 30)
        took = time.monotonic() - ended
        # paced, not at once: many frames, none with a burst, all of it within the bound
        growth = [b - a for a, b in itertools.pairwise(samples)]
        assert samples[0] < BURST // 2 and sum(1 for g in growth if g > 0) >= 10, samples
        assert max(growth) < BURST // 2, samples
        assert 0.5 < took < TAIL_MAX_S + SLACK_S, took
        await wait_until(pilot, lambda: reply.status == "completed", "the turn's end shown")
        assert reply.source == full
        assert reply.ending[1] is not None and reply.ending[1]["streamed_tokens"] == BURST
        assert f"{BURST} tokens" in screen_text(app)
        assert "ready" in status_text(app)


async def test_a_prompt_sent_during_a_tail_shows_it_at_once_and_each_turn_keeps_its_figures():
    first, full = bursts(1, gap_s=0.0, tail_s=0.0)
    words = [f"short{i} " for i in range(37)]
    app = paced_app([first, text_step(words, rate=400)], "20")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell a story")
        await wait_until(pilot, lambda: not app.turn_running, "the first turn stored", 5)
        await pilot.pause(0.2)
        assert app.chat_screen.pacing.tail_held and 0 < shown_words(app) < BURST
        await send(pilot, "and a short one")  # a person who does not wait for the tail
        await wait_idle(pilot)
        await wait_until(pilot, lambda: "ready" in status_text(app), "ready")
        replies = [r for r in app.chat.all_records() if r.kind == "assistant"]
        assert [r.text for r in replies] == [full, "".join(words)]
        stored = app.conversation.turns()
        # each footer: its own turn's figures, the same the store keeps (one definition)
        for reply, row, tokens in zip(replies, stored, (BURST, 37), strict=True):
            assert reply.status == "completed"
            summary = reply.summary
            assert summary is not None and summary["streamed_tokens"] == tokens
            assert summary["end_to_end_tokens_per_second"] > 0
            for key in ("streamed_tokens", "end_to_end_tokens_per_second", "elapsed_s"):
                assert summary[key] == row.metrics[key], key  # type: ignore[literal-required]
        assert f"{BURST} tokens" in screen_text(app) and "37 tokens" in screen_text(app)
        # the session's averages: both turns, once each, in order
        session = app.session_metrics
        assert [t.tokens for t in session.turns] == [BURST, 37]
        stats = session.global_stats()
        assert stats["total_tokens_processed"] == BURST + 37
        expected = statistics.mean(r.metrics["end_to_end_tokens_per_second"] for r in stored)
        assert stats["average_tokens_per_second"] == pytest.approx(expected, abs=0.01)
        # the sidebar shows the last turn, no longer live
        assert app.sidebar.turn is session.turns[-1] and not app.sidebar.live


async def test_esc_during_a_tail_shows_the_rest_at_once():
    step, full = bursts(1, gap_s=0.0, tail_s=0.0)
    app = paced_app([step], "20")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell a story")
        await wait_until(pilot, lambda: not app.turn_running and shown_words(app) > 0, "end")
        await pilot.pause(0.2)
        assert 0 < shown_words(app) < BURST  # the turn is stored; the screen is at the pace
        await pilot.press("escape")  # the reader does not want to wait
        await pilot.pause(0.1)
        reply = app.query(AssistantMessage).last()
        assert reply.source == full and reply.status == "completed"
        assert app.chat_screen.pacing.waiting == 0 and not app.chat_screen.pacing.tail_held


async def test_clear_during_a_tail_leaves_the_fresh_conversation_empty():
    # the core has stored the turn (/clear is allowed) while the screen still paces its
    # tail: nothing of the old turn may land in the fresh conversation's panes
    step, _full = bursts(1, gap_s=0.0, tail_s=0.0)
    app = paced_app([step], "5")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell a long story")
        await wait_until(pilot, lambda: not app.turn_running, "the turn stored", 5)
        assert app.chat_screen.pacing.tail_held  # words still wait to be shown
        old = app.conversation_id
        await send(pilot, "/clear")
        await wait_idle(pilot)
        assert app.conversation_id != old
        # no reply in the fresh chat, as a widget or as a record (a finished reply is
        # drawn by the transcript), nor on screen
        assert not app.query(AssistantMessage)
        assert [r.kind for r in app.chat.all_records()] == ["note"]
        assert "w0" not in pane_text(app, app.chat)
        assert [row.title for row in app.timeline.rows] == []
        assert app.conversation.turns() == []
        assert [t.tokens for t in app.session_metrics.turns] == [BURST]  # counted once
        assert "ready" in status_text(app)
