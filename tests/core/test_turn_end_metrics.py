"""A turn's end carries that turn's own metrics (``ev.TurnFinished.metrics``): a front end
that shows it late (a paced tail, after the next turn began) reads that turn's figures, the
same the store keeps and ``response_complete`` sends, never the next turn's."""

from __future__ import annotations

from agents import Agent, RunConfig
from agents.testing import ScriptedModel

from tests.scripts import text_step
from tui.core import events as ev
from tui.core.observe.metrics import metrics_of
from tui.core.store import Store
from tui.core.turn.conversation import Conversation
from tui.core.turn.protocol import ProtocolEncoder
from tui.core.turn.recording import event_to_json
from tui.core.turn.runner import TurnRunner


async def test_each_turn_end_carries_its_own_metrics_after_the_next_turn_ran(tmp_path):
    model = ScriptedModel([text_step(["a ", "b ", "c "]), text_step(["one"])])
    runner = TurnRunner(Agent(name="A", model=model), run_config=RunConfig(tracing_disabled=True))
    store = Store(tmp_path / "s.db")
    conversation = Conversation(store, runner, record=False)
    try:
        ends: list[ev.TurnFinished] = []
        for prompt in ("three words", "one word"):
            async for event in conversation.turn(prompt):
                if isinstance(event, ev.TurnFinished):
                    ends.append(event)
        first, second = ends
        # read after the second turn ran: still the first turn's own figures
        one, two = metrics_of(first), metrics_of(second)
        assert one is not None and two is not None
        assert (one.tokens, two.tokens) == (3, 1)
        assert two is conversation.metrics and one is not two
        stored = [t.metrics for t in conversation.turns()]
        for end, row in zip(ends, stored, strict=True):
            measured = metrics_of(end)
            assert measured is not None
            assert measured.summary(end.at_ns) == row  # the figures the store keeps
        # the protocol's response_complete reads the event's, not the conversation's now
        encoder = ProtocolEncoder("s", metrics_of=lambda: conversation.metrics)
        (complete,) = encoder.encode(first)
        assert complete["data"]["metrics"]["streamed_tokens"] == 3
        assert complete["data"]["usage"]["output_tokens"] in (3, one.output_tokens)
        # not part of the event's value: equality and recordings are unchanged
        assert first == ev.TurnFinished(first.status, first.final_text, first.at_ns)
        assert '"metrics"' not in event_to_json(first, 0)
    finally:
        conversation.close()
        store.close()
