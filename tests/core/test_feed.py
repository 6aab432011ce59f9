"""A finished turn's events, compacted in memory, still give a resuming client exactly what
it has not seen, whatever event it saw last."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api.feed import TurnLog, parse_event_id

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
