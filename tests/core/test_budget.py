"""The context budget: what of a conversation one request carries."""

from __future__ import annotations

import itertools
import json

import pytest
from agents import RunConfig
from agents.testing import ScriptedModel

from tests.scripts import runner_for, text_step
from tui.core import events as ev
from tui.core.turn.budget import (
    ContextBudget,
    context_overflow,
    describe_context,
    split_turns,
)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def tool_turn(n: int) -> list[dict[str, str]]:
    call = f"call_{n}"
    return [
        user(f"roll {n}"),
        {"type": "function_call", "call_id": call, "name": "roll_dice", "arguments": "{}"},
        {"type": "function_call_output", "call_id": call, "output": str(n)},
        assistant(f"You rolled {n}. " + "story " * 30),
    ]


def conversation(turns: int) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    for n in range(turns):
        items += tool_turn(n) if n % 2 else [user(f"question {n}"), assistant("word " * 60)]
    return items


def by_words(text: str) -> int:
    return len(text.split())


def test_everything_fits_nothing_left_out():
    budget = ContextBudget(window=10_000, reserve=100, counter=by_words)
    items = [*conversation(4), user("newest")]
    fitted = budget.fit(items)
    assert fitted.items == items
    assert not fitted.trimmed and fitted.reason == ""


def test_oldest_whole_turns_give_way_and_a_tool_call_keeps_its_result():
    budget = ContextBudget(window=400, reserve=50, counter=by_words)
    items = [*conversation(20), user("the newest prompt")]
    fitted = budget.fit(items, fixed="You are a game master.")
    assert fitted.trimmed and fitted.reason == "window"
    assert fitted.items[-1] == user("the newest prompt")
    assert fitted.tokens <= budget.limit()  # type: ignore[operator]
    # the request starts on a user message: no orphan reply, tool call or tool result
    assert fitted.items[0]["role"] == "user"
    calls = {i["call_id"] for i in fitted.items if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in fitted.items if i.get("type") == "function_call_output"}
    assert calls == outputs and calls
    # what was sent is the newest turns, in order, unchanged
    assert items[-len(fitted.items) :] == fitted.items
    _, turns = split_turns(items)
    assert fitted.dropped_turns + fitted.turns_sent == len(turns)


def test_cuts_move_in_steps_so_requests_share_their_beginning():
    budget = ContextBudget(window=600, reserve=50, counter=by_words)
    items = conversation(10)
    starts = []
    for n in range(30):
        items = [*items, user(f"prompt {n}")]
        fitted = budget.fit(items)
        starts.append(json.dumps(fitted.items[0]))
        items = [*items, assistant("reply " * 40)]
    # the first item sent changes only when the history overflows again, not every turn
    changes = sum(1 for a, b in itertools.pairwise(starts) if a != b)
    assert 1 <= changes <= 10


def test_the_newest_prompt_always_goes_even_alone_too_long():
    budget = ContextBudget(window=300, reserve=50, counter=by_words)
    huge = user("word " * 1_000)
    fitted = budget.fit([*conversation(3), huge])
    assert fitted.items == [huge]
    assert fitted.turns_sent == 1


def test_history_sends_the_last_n_messages_like_the_tutorial():
    budget = ContextBudget(history=6)
    items = []
    for n in range(10):
        items += [user(f"q{n}"), assistant(f"a{n}")]
    items.append(user("newest"))
    fitted = budget.fit(items)
    assert [i["content"] for i in fitted.items] == ["a7", "q8", "a8", "q9", "a9", "newest"]
    assert fitted.dropped_messages == 15 and fitted.reason == "history"


def test_history_never_opens_on_a_tool_result_without_its_call():
    budget = ContextBudget(history=2)
    items = [*tool_turn(1), *tool_turn(3)]
    fitted = budget.fit(items)
    kinds = [i.get("type") or i["role"] for i in fitted.items]
    assert kinds == ["function_call", "function_call_output", "assistant"] or kinds[0] == "user"
    calls = {i["call_id"] for i in fitted.items if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in fitted.items if i.get("type") == "function_call_output"}
    assert outputs <= calls


@pytest.mark.parametrize(
    ("message", "window"),
    [
        ("Requested tokens (6464) exceed context window of 4096", 4096),
        (
            "Error code: 400 - {'error': {'message': \"This model's maximum context length is "
            '8192 tokens. However, you requested 9000 tokens", '
            "'code': 'context_length_exceeded'}}",
            8192,
        ),
        ("the request exceeds the available context size, try increasing it", None),
    ],
)
def test_context_errors_are_recognised_with_their_window(message, window):
    assert context_overflow(ValueError(message)) == (True, window)


def test_other_errors_are_not_context_errors():
    assert context_overflow(ValueError("connection reset by peer")) == (False, None)


def _too_long_model(limit_chars: int) -> ScriptedModel:
    """A model that refuses, as a server does, any request whose text is over a size."""

    class Refusing(ScriptedModel):
        async def _check(self, input):  # type: ignore[no-untyped-def]
            text = json.dumps(input)
            if len(text) > limit_chars:
                raise ValueError(
                    f"This model's maximum context length is {limit_chars // 3} tokens "
                    "(context_length_exceeded)"
                )

        async def get_response(self, system_instructions, input, *args, **kwargs):  # type: ignore[no-untyped-def]
            await self._check(input)
            return await super().get_response(system_instructions, input, *args, **kwargs)

        def stream_response(self, system_instructions, input, *args, **kwargs):  # type: ignore[no-untyped-def]
            parent = super().stream_response

            async def gen():  # type: ignore[no-untyped-def]
                await self._check(input)
                async for event in parent(system_instructions, input, *args, **kwargs):
                    yield event

            return gen()

    return Refusing([text_step([f"reply {n} ", "word " * 40]) for n in range(40)])


async def test_a_refused_request_is_trimmed_and_sent_again_not_a_failure():
    model = _too_long_model(3_000)
    runner, _ = runner_for([], run_config=RunConfig(model=model, tracing_disabled=True))
    seen: list[ev.RunEvent] = []
    for n in range(12):
        outcome = await runner.run(f"prompt {n}", seen.append)
        assert outcome.status == "completed", outcome.error
    trims = [e for e in seen if isinstance(e, ev.ContextFitted) and e.reason == "overflow"]
    assert len(trims) == 1  # learned once, then every request fits
    assert not [e for e in seen if isinstance(e, ev.RunFailed)]
    assert runner.last_context is not None and runner.last_context.dropped_turns > 0
    assert runner.last_context.items[-1] == user("prompt 11")
    # the memory keeps every turn: nothing was deleted
    assert sum(1 for i in runner.history if i.get("role") == "user") == 12
    _title, body = describe_context(runner.budget, runner.last_context)
    assert "prompt 11" in body and "left out" in body


def test_every_api_session_fits_its_own_history_to_the_configured_window():
    from tui.api.server import runner_factory
    from tui.core.config import Settings

    make, _label, _base = runner_factory(
        Settings(base_url="http://127.0.0.1:9/v1", context_window=8_000, history=6)
    )
    first, second = make(None), make("game-master")
    assert first.budget.window == 8_000 and first.budget.history == 6
    assert second.budget.history == 6 and first.budget is not second.budget
