"""The response cache (``tui.core.turn.cache``): its key, TTL and bounds, and its place in
the conversation's pipeline (a fresh conversation's first prompt answered again without a
model request, stored and measured as a cached turn; never a turn with history or tools)."""

import asyncio
import threading
import time

from agents import Agent, RunConfig, function_tool
from agents.testing import ModelStep, ScriptedModel

from tui.core import events as ev
from tui.core.observe.metrics import SessionMetrics
from tui.core.store import Store
from tui.core.turn.cache import (
    REPLAY_BUDGET_S,
    CachedReply,
    ResponseCache,
    cache_key,
)
from tui.core.turn.conversation import Conversation
from tui.core.turn.runner import TurnRunner
from tui.testing.scripted import Call, Text, response_events


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reply(text: str = "hello there", at: float = 0.0, gap_ns: int = 1_000_000) -> CachedReply:
    words = text.split()
    return CachedReply(
        tuple((i * gap_ns, "text", w + " ") for i, w in enumerate(words)), text, False, at
    )


def key(prompt: str = "Hi", agent: str = "A", model: str = "m", instructions: str = "be kind"):
    return cache_key(Agent(name=agent, instructions=instructions), model, prompt)


# --- the key -----------------------------------------------------------------------------------
def test_the_key_ignores_outer_whitespace_only():
    assert key("  what is ttft?\n") == key("what is ttft?")
    assert key("what is  ttft?") != key("what is ttft?")  # inner whitespace counts
    # case counts: "Reply with ABC" and "reply with abc" may ask for different replies
    assert key("Reply with ABC") != key("reply with abc")
    assert key("Straße") != key("STRASSE")
    assert key("what is ttft") != key("what is ttft?")


def test_the_key_holds_the_agent_the_model_the_instructions_and_the_author():
    base = key()
    assert key(agent="B") != base
    assert key(model="other") != base
    assert key(instructions="be terse") != base
    agent = Agent(name="A", instructions="be kind")
    assert cache_key(agent, "m", "Hi", "ann") != cache_key(agent, "m", "Hi", "bob")


def test_an_agent_with_instructions_from_a_function_is_never_cached():
    agent = Agent(name="A", instructions=lambda _ctx, _agent: "now")
    assert cache_key(agent, "m", "Hi") is None


# --- TTL and bounds ------------------------------------------------------------------------------
def test_an_entry_is_served_until_its_ttl_and_then_is_a_miss():
    clock = Clock()
    cache = ResponseCache(10, clock=clock)
    k = key()
    assert cache.lookup(k) is None
    cache.keep(k, reply(at=clock.now))
    clock.now += 9.9
    assert cache.lookup(k) is not None
    clock.now += 0.1
    assert cache.lookup(k) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.bytes) == (1, 2, 0, 0)


def test_the_least_recently_used_entry_goes_first_past_max_entries():
    cache = ResponseCache(60, max_entries=2)
    a, b, c = key("a"), key("b"), key("c")
    cache.keep(a, reply(at=cache.clock()))
    cache.keep(b, reply(at=cache.clock()))
    assert cache.lookup(a) is not None  # a is now the most recently used
    cache.keep(c, reply(at=cache.clock()))
    assert cache.lookup(b) is None
    assert cache.lookup(a) is not None and cache.lookup(c) is not None
    assert cache.stats().entries == 2


def test_bytes_are_bounded_and_a_reply_larger_than_the_cache_is_not_kept():
    big = reply("x" * 400, at=time.monotonic())
    cache = ResponseCache(60, max_bytes=big.size * 2)
    cache.keep(key("one"), big)
    cache.keep(key("two"), big)
    cache.keep(key("three"), big)
    assert cache.stats().entries == 2 and cache.stats().bytes <= big.size * 2
    cache.keep(key("huge"), reply("y" * 5000, at=time.monotonic()))
    assert cache.lookup(key("huge")) is None
    assert cache.stats().bytes <= big.size * 2


def test_the_bytes_counted_are_the_memory_a_reply_holds():
    """A reply of 10,000 one-word deltas: ``size`` (what ``max_bytes`` bounds) is within a
    tenth of the memory its objects take (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        parts = tuple((i * 1000, "text", f"w{i} ") for i in range(10_000))
        kept = CachedReply(parts, "".join(p[2] for p in parts), False, 0.0)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.9 * held <= kept.size <= 1.1 * held


def test_threads_keeping_and_looking_up_at_once_keep_the_counts_exact():
    cache = ResponseCache(60, max_entries=8)

    def work(n: int) -> None:
        for i in range(300):
            k = key(f"p{(n * 7 + i) % 20}")
            if cache.lookup(k) is None:
                cache.keep(k, reply(at=cache.clock()))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = cache.stats()
    assert stats.hits + stats.misses == 4 * 300
    assert stats.entries <= 8
    assert stats.bytes == sum(r.size for r in cache._entries.values())


def test_a_replay_keeps_the_pacing_compressed_within_its_budget():
    slow = reply("one two three four", gap_ns=2_000_000_000)  # 6 s of reply
    gaps = slow.gaps_s()
    assert gaps[0] == 0 and len(set(gaps[1:])) == 1  # the same shape, scaled
    assert abs(sum(gaps) - REPLAY_BUDGET_S) < 1e-9
    fast = reply("one two three", gap_ns=10_000_000)  # 20 ms: a tenth of it
    assert abs(sum(fast.gaps_s()) - 0.002) < 1e-9


async def test_a_replay_of_many_tiny_deltas_waits_in_few_steps_and_loses_none(monkeypatch):
    """A 150 KB reply of one-word deltas replayed slower than the model streamed it (a wait
    per part); the gaps add up to waits of at least MIN_WAIT_S instead."""
    from tui.core.turn import cache as module

    parts = 30_000
    long = reply(" ".join(f"w{i}" for i in range(parts)), gap_ns=100_000)  # 3 s of reply
    waits: list[float] = []
    real_wait_for = asyncio.wait_for

    async def counted(awaitable, timeout):  # type: ignore[no-untyped-def]
        waits.append(timeout)
        return await real_wait_for(awaitable, timeout)

    monkeypatch.setattr(module.asyncio, "wait_for", counted)

    class Runner:
        cancelled = None
        session = None
        agent_name = "A"

        def clock(self) -> int:
            return time.perf_counter_ns()

    shown: list[ev.RunEvent] = []
    await module.replay(long, 1.0, "p", "", Runner(), shown.append)
    text = "".join(e.text for e in shown if isinstance(e, ev.TextDelta))
    assert text == "".join(t for _, _, t in long.parts)  # every delta, in order
    assert sum(isinstance(e, ev.TextDelta) for e in shown) == parts
    assert isinstance(shown[-1], ev.TurnFinished) and shown[-1].status == "completed"
    assert len(waits) <= REPLAY_BUDGET_S / module.MIN_WAIT_S + 1  # not one a part
    assert abs(sum(waits) - sum(long.gaps_s())) < 0.01  # the same pacing in all


# --- in the conversation -------------------------------------------------------------------
class Counting(ScriptedModel):
    """A scripted model that counts the requests it answered."""

    def __init__(self, steps: list[ModelStep]) -> None:
        super().__init__(steps)
        self.requests = 0

    def stream_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.requests += 1
        return super().stream_response(*args, **kwargs)


def words_step(words: list[str]) -> ModelStep:
    async def stream(_call):
        for event in response_events([Text(words)]):
            await asyncio.sleep(0.002)
            yield event

    return ModelStep.stream(stream)


def conversation(store: Store, model: Counting, cache: ResponseCache, tools=()) -> Conversation:
    agent = Agent(name="A", instructions="be kind", model=model, tools=list(tools))
    runner = TurnRunner(agent, run_config=RunConfig(tracing_disabled=True))
    return Conversation(store, runner, model_label="m", record=False, cache=cache)


async def turn(conv: Conversation, prompt: str) -> list[ev.RunEvent]:
    return [e async for e in conv.turn(prompt) if not isinstance(e, type(None))]


async def test_a_fresh_conversation_asking_again_is_answered_from_the_cache(tmp_path):
    store = Store(tmp_path / "s.db")
    model = Counting([words_step(["Hello ", "there."]) for _ in range(4)])
    cache = ResponseCache(60)
    first = conversation(store, model, cache)
    asked = await turn(first, "Hi")
    second = conversation(store, model, cache)
    answered = await turn(second, "  Hi ")
    assert model.requests == 1
    deltas = [e.text for e in answered if isinstance(e, ev.TextDelta)]
    assert deltas == [e.text for e in asked if isinstance(e, ev.TextDelta)]
    assert any(isinstance(e, ev.AnsweredFromCache) for e in answered)
    end = answered[-1]
    assert isinstance(end, ev.TurnFinished) and end.final_text == "Hello there."
    # stored like any turn, its metrics marked cached: no TTFT, no rates
    (row,) = second.turns()
    assert row.reply == "Hello there." and row.metrics.get("cached") is True
    assert row.metrics.get("time_to_first_token_s") is None
    assert second.metrics is not None and second.metrics.cached
    session = SessionMetrics()
    session.add(first.metrics)  # type: ignore[arg-type]
    session.add(second.metrics)
    assert session.ttfts() == [first.metrics.ttft_s]  # type: ignore[union-attr]
    assert len(session.end_to_end_rates()) == 1
    # the conversation goes on from it: the model reads the cached reply as history
    await turn(second, "and then?")
    assert model.requests == 2
    remembered = await second.runner.session.get_items()  # type: ignore[union-attr]
    assert [item["role"] for item in remembered] == ["user", "assistant", "user", "assistant"]
    assert remembered[1]["content"] == "Hello there."
    assert cache.stats().hits == 1
    for c in (first, second):
        c.close()
    store.close()


async def test_a_second_turn_and_other_instructions_are_not_served(tmp_path):
    store = Store(tmp_path / "s.db")
    model = Counting([words_step(["Yes."]) for _ in range(5)])
    cache = ResponseCache(60)
    first = conversation(store, model, cache)
    await turn(first, "Hi")
    await turn(first, "Hi")  # a second turn: history, never from the cache
    assert model.requests == 2
    other = Conversation(
        store,
        TurnRunner(
            Agent(name="A", instructions="be terse", model=model),
            run_config=RunConfig(tracing_disabled=True),
        ),
        model_label="m",
        record=False,
        cache=cache,
    )
    events = await turn(other, "Hi")
    assert model.requests == 3
    assert not any(isinstance(e, ev.AnsweredFromCache) for e in events)
    for c in (first, other):
        c.close()
    store.close()


async def test_a_turn_that_called_a_tool_is_never_kept(tmp_path):
    @function_tool
    def clock() -> str:
        """The time."""
        return "noon"

    store = Store(tmp_path / "s.db")

    def tool_turn(n: int) -> list[ModelStep]:
        return [
            ModelStep.stream(response_events([Call("clock", f"c{n}", ["{}"])])),
            words_step(["It ", "is ", "noon."]),
        ]

    model = Counting([*tool_turn(1), *tool_turn(2)])
    cache = ResponseCache(60)
    first = conversation(store, model, cache, tools=[clock])
    await turn(first, "Time?")
    second = conversation(store, model, cache, tools=[clock])
    events = await turn(second, "Time?")
    assert first.turns()[0].status == "completed" and first.turns()[0].reply == "It is noon."
    assert any(isinstance(e, ev.ToolCallFinished) for e in events)
    assert model.requests == 4  # both turns asked the model (a tool call and a reply each)
    assert not any(isinstance(e, ev.AnsweredFromCache) for e in events)
    assert cache.stats().entries == 0
    for c in (first, second):
        c.close()
    store.close()


async def test_an_interrupted_turn_is_never_kept(tmp_path):
    store = Store(tmp_path / "s.db")
    model = Counting([words_step(["a "] * 200), words_step(["b."])])
    cache = ResponseCache(60)
    first = conversation(store, model, cache)
    async for event in first.turn("Hi"):
        if isinstance(event, ev.TextDelta):
            first.cancel()
    assert first.turns()[0].status == "interrupted"
    assert cache.stats().entries == 0
    first.close()
    store.close()


def test_an_attached_terminal_reads_the_cached_mark_from_the_protocol():
    """``agents-tui --connect`` (tui.remote) turns ``response_cached`` back into the event
    its timeline draws, and its metrics say cached."""
    from tui.core.observe.metrics import TurnMetrics
    from tui.core.turn.protocol import ProtocolEncoder
    from tui.remote.decode import Decoder

    encoder, decoder = ProtocolEncoder("s1"), Decoder()
    turn = [
        ev.TurnStarted("hi", "A", 1),
        ev.AnsweredFromCache(42.0, 2),
        ev.TextDelta("Hello", 3),
        ev.TurnFinished("completed", "Hello", 4),
    ]
    sent = [obj for event in turn for obj in encoder.encode(event)]
    assert sent[-1]["data"]["cached"] is True
    items = [item for obj in sent for item in decoder.decode(obj)]
    marks = [item for item in items if isinstance(item, ev.AnsweredFromCache)]
    assert [mark.age_s for mark in marks] == [42.0]
    metrics = TurnMetrics(started_ns=0)
    for item in items:
        if isinstance(item, ev.AnsweredFromCache | ev.TextDelta | ev.TurnFinished):
            metrics.observe(item)
    assert metrics.cached and metrics.ttft_s is None and metrics.tokens == 1


async def test_prometheus_counts_a_cached_turn_but_keeps_it_out_of_ttft_and_rates(tmp_path):
    from tui.core.observe.telemetry import Telemetry

    telemetry = Telemetry(metrics=True)
    cache = ResponseCache(60)
    assert telemetry.metrics is not None
    telemetry.metrics.watch_cache(cache)
    store = Store(tmp_path / "s.db")
    model = Counting([words_step(["Hello ", "there."]) for _ in range(2)])
    talks = []
    for _ in range(2):
        agent = Agent(name="A", instructions="be kind", model=model)
        runner = TurnRunner(agent, run_config=RunConfig(tracing_disabled=True))
        talk = Conversation(
            store, runner, model_label="m", record=False, cache=cache, telemetry=telemetry
        )
        await turn(talk, "Hi")
        talks.append(talk)
    text = telemetry.metrics.exposition().decode()

    def value(name: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith(name + " "))
        return float(line.rsplit(" ", 1)[1])

    assert value('agents_tui_turns_total{status="completed"}') == 2
    assert value("agents_tui_time_to_first_token_seconds_count") == 1  # the model's turn only
    assert value("agents_tui_tokens_per_second_count") == 1
    assert value("agents_tui_response_cache_hits_total") == 1
    assert value("agents_tui_response_cache_misses_total") == 1
    assert value("agents_tui_response_cache_entries") == 1
    for talk in talks:
        talk.close()
    store.close()
