"""A finished turn's events, compacted in memory, still give a resuming client exactly what
it has not seen, whatever event it saw last."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api.feed import KEPT_TURNS, MAX_EVENT_TEXT, Feed, TurnLog, parse_event_id

events = st.lists(
    st.one_of(
        st.text(alphabet="ab \nđ", max_size=4).map(lambda t: ("text", t)),
        st.integers(0, 9).map(lambda n: ("tool", n)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_what_follows_any_event_is_exactly_the_rest(kinds):
    log = TurnLog("s", 7)
    for seq, (kind, value) in enumerate(kinds, 1):
        data = {"delta": value, "word_count": seq} if kind == "text" else {"n": value}
        log.events.append(
            {"type": "text_delta" if kind == "text" else "tool", "data": data, "id": f"7-{seq}"}
        )
    whole = [dict(e, data=dict(e["data"])) for e in log.events]
    log.compact()
    assert log.events == []  # the per-delta objects are let go of

    def text(evs):
        return "".join(e["data"].get("delta", "") for e in evs)

    def others(evs):
        return [e["data"] for e in evs if e["type"] != "text_delta"]

    for seen in range(len(whole) + 1):
        rest = log.after(seen)
        assert text(rest) == text(whole[seen:])
        assert others(rest) == others(whole[seen:])
        if rest:
            assert rest[-1]["id"] == whole[-1]["id"]
        ids = [parse_event_id(e["id"]) for e in rest]
        assert all(i is not None and i[1] > seen for i in ids) and ids == sorted(ids)


def test_event_ids_parse_strictly():
    assert parse_event_id("12-3") == (12, 3)
    for bad in ("", None, "12", "a-1", "1-2-3", "-1-2", "1 - 2", "9" * 30 + "-1"):
        assert parse_event_id(bad) is None


@settings(max_examples=200, deadline=None)
@given(events, st.integers(1, 6), st.integers(1, 12))
def test_read_in_pieces_and_by_budget_a_follower_gets_exactly_the_rest(kinds, limit, budget):
    """A joined run cut into events of at most ``limit`` characters (at a delta's end), read
    ``budget`` characters at a time: every read goes on where the last one ended, and the
    reads together are exactly what came after."""
    log = TurnLog("s", 7)
    for seq, (kind, value) in enumerate(kinds, 1):
        data = {"delta": value, "word_count": seq} if kind == "text" else {"n": value}
        log.events.append(
            {"type": "text_delta" if kind == "text" else "tool", "data": data, "id": f"7-{seq}"}
        )
    whole = [dict(e, data=dict(e["data"])) for e in log.events]
    deltas = {e["id"]: e["data"]["delta"] for e in whole if e["type"] == "text_delta"}
    log.compact()
    for start in range(len(whole) + 1):
        seen, read = start, []
        while True:
            got = log.after(seen, limit=limit, budget=budget)
            if not got:
                break
            texts = [e["data"].get("delta", "") for e in got]
            longest = max((len(deltas[e["id"]]) for e in got if e["id"] in deltas), default=0)
            assert all(len(t) <= max(limit, longest) for t in texts)
            assert sum(map(len, texts)) <= max(budget, len(texts[0]))
            read += got
            seen = int(got[-1]["id"].split("-")[1])
        assert "".join(e["data"].get("delta", "") for e in read) == "".join(
            e["data"].get("delta", "") for e in whole[start:]
        )
        assert [e["data"] for e in read if e["type"] != "text_delta"] == [
            e["data"] for e in whole[start:] if e["type"] != "text_delta"
        ]


def test_a_long_reply_is_resumed_in_events_of_at_most_64_k_characters():
    """A finished turn of 1 MB in 5-character deltas: a follower resuming it gets it in
    events of at most ``MAX_EVENT_TEXT`` characters, each with the id of its last delta and
    the running word count there, a read at a time."""
    log = TurnLog("s", 3)
    words = [f"w{n:03d} " for n in range(200_000)]
    for seq, word in enumerate(words, 1):
        log.events.append(
            {"type": "text_delta", "data": {"delta": word, "word_count": seq}, "id": f"3-{seq}"}
        )
    log.events.append({"type": "response_complete", "data": {}, "id": f"3-{len(words) + 1}"})
    log.compact()
    first = log.after(1, budget=MAX_EVENT_TEXT)
    assert len(first) == 1 and len(first[0]["data"]["delta"]) <= MAX_EVENT_TEXT
    every = log.after(1)
    assert all(len(e["data"].get("delta", "")) <= MAX_EVENT_TEXT for e in every)
    assert "".join(e["data"].get("delta", "") for e in every) == "".join(words[1:])
    for event in every[:-2]:
        last = int(event["id"].split("-")[1])
        assert event["data"]["word_count"] == last  # one word a delta
    assert every[-1]["type"] == "response_complete"


class _Coordination:
    def record_events(self, _events: object) -> None:
        pass


class _Store:
    coordination = _Coordination()


def test_the_follower_cache_is_bounded_whatever_is_unfinished():
    """One turn waiting for an approval, then 20,000 finished turns of other sessions: the
    cache keeps the unfinished one and the newest finished ones, ``KEPT_TURNS`` in all, or
    as many as are unfinished (before: every turn after the unfinished one, 20,001)."""
    feed = Feed(_Store())
    waiting = feed.begin("asks", 1)
    for n in range(20_000):
        turn = feed.begin(f"s{n}", n + 2)
        feed.record(turn, {"type": "text_delta", "data": {"delta": "hi ", "word_count": 1}})
        feed.end(turn)
    assert len(feed.turns) == KEPT_TURNS
    assert feed.turns["asks"] is waiting and not waiting.ended
    assert f"s{19_999}" in feed.turns and "s0" not in feed.turns
    unfinished = [feed.begin(f"u{n}", 30_000 + n) for n in range(100)]
    assert len(feed.turns) == 100 + 1  # every finished one made room; no unfinished one did
    for turn in unfinished:
        feed.end(turn)
    feed.begin("next", 40_000)
    assert len(feed.turns) == KEPT_TURNS and "asks" in feed.turns and "next" in feed.turns
