"""The event protocol read back into the app's events (``tui.remote.decode``), and a remote
session's stream: nothing shown twice across reconnections."""

import json

from hypothesis import given
from hypothesis import strategies as st

from tui.core import events as ev
from tui.core.turn.protocol import ProtocolEncoder
from tui.remote.decode import Decoder, Said, ServiceMeasured
from tui.remote.session import RemoteTable


def a_turn(author: str = "Lan") -> list[ev.RunEvent]:
    return [
        ev.TurnStarted("I open the door", "Game Master", 1, author=author),
        ev.TextDelta("Rolling ", 2),
        ev.ToolCallIssued("c1", "roll_dice", '{"sides": 20}', 3),
        ev.ToolCallFinished("c1", "17", False, 4),
        ev.ApprovalRequested("c2", "magic_answer", "{}", "Game Master", 1, 1, 5),
        ev.ApprovalResolved("c2", True, "user", 6),
        ev.RetryScheduled(1, 3, 2.0, "network", "cut", 7),
        ev.RunFailed("network", "cut", 8),
        ev.TextDelta("a 17: the door opens.", 9),
        ev.TurnFinished("completed", "Rolling a 17: the door opens.", 10),
    ]


def wire(events: list[ev.RunEvent]) -> list[dict]:
    """What the service sends: the encoder's objects, through JSON, with ids."""
    encoder = ProtocolEncoder("table-1")
    out = []
    for event in events:
        for obj in encoder.encode(event):
            obj["id"] = f"7-{len(out) + 1}"
            out.append(json.loads(json.dumps(obj)))
    return out


def test_a_turn_decodes_to_the_events_the_panes_present_with_who_said_it():
    decoder = Decoder(clock=lambda: 0)
    items = [item for obj in wire(a_turn()) for item in decoder.decode(obj)]
    said = [i for i in items if isinstance(i, Said)]
    assert said == [Said("Lan", "I open the door", "")]
    started = next(i for i in items if isinstance(i, ev.TurnStarted))
    assert (started.prompt, started.author, started.agent, started.resumed) == (
        "I open the door",
        "Lan",
        "Game Master",
        False,
    )
    kinds = [type(i).__name__ for i in items if not isinstance(i, (Said, ServiceMeasured))]
    assert kinds == [
        "TurnStarted",
        "TextDelta",
        "ToolCallIssued",
        "ToolCallFinished",
        "ApprovalRequested",
        "ApprovalResolved",
        "RetryScheduled",
        "RunFailed",
        "TextDelta",
        "TurnFinished",
    ]
    text = "".join(i.text for i in items if isinstance(i, ev.TextDelta))
    finished = items[-1]
    assert isinstance(finished, ev.TurnFinished)
    assert text == finished.final_text == "Rolling a 17: the door opens."
    issued = next(i for i in items if isinstance(i, ev.ToolCallIssued))
    assert (issued.name, issued.arguments, issued.source) == ("roll_dice", '{"sides": 20}', "")


def test_an_unknown_or_malformed_object_is_skipped_never_a_crash():
    decoder = Decoder()
    assert decoder.decode({"type": "from_a_newer_service", "data": {}}) == []
    assert decoder.decode({"type": "text_delta", "data": {"no": "delta"}}) == []
    assert decoder.decode({"type": "tool_start", "data": "not an object"}) == []
    assert decoder.decode({"data": {}}) == []


@given(st.lists(st.integers(min_value=0, max_value=14), max_size=12))
def test_resumes_that_overlap_never_show_an_event_twice_nor_lose_one(cuts):
    """However the stream is cut and resumed (the service sends again from any earlier
    point), the text presented is the turn's text, once."""
    objects = wire(a_turn())
    table = RemoteTable(None, "table-1", "Lan")  # type: ignore[arg-type]
    presented: list = []
    sent_upto = 0
    for cut in cuts:
        start = min(cut, sent_upto)  # a resume from at or before what was seen
        for obj in objects[start : start + 3]:
            presented += table._take(obj)
        sent_upto = max(sent_upto, min(start + 3, len(objects)))
    for obj in objects[sent_upto:]:
        presented += table._take(obj)
    text = "".join(i.text for i in presented if isinstance(i, ev.TextDelta))
    assert text == "Rolling a 17: the door opens."
    assert sum(isinstance(i, ev.TurnFinished) for i in presented) == 1
    assert not table.busy and table.metrics is not None


def test_the_services_refusals_read_as_one_clear_line_each():
    from tui.remote.client import ServiceProblem

    assert "AGENTS_TUI_API_TOKEN" in ServiceProblem(401, "UNAUTHORIZED", "x").line()
    assert ServiceProblem(404, "SESSION_NOT_FOUND", "no session 'x'").line() == (
        "not found (404): no session 'x'"
    )
    busy = ServiceProblem(429, "TOO_MANY_STREAMS", "x", retry_after=2.0)
    assert busy.line() == "the service is busy (429 TOO_MANY_STREAMS); retrying in 2 s"
    assert busy.passing
    away = ServiceProblem(503, "STORE_UNAVAILABLE", "x", retry_after=5.0)
    assert "unavailable (503 STORE_UNAVAILABLE)" in away.line() and away.passing
    assert not ServiceProblem(401, "UNAUTHORIZED", "x").passing
    assert not ServiceProblem(422, "INVALID_REQUEST", "x").passing


def test_a_service_that_numbers_its_turns_afresh_is_followed_not_ignored():
    """Found by an attacker: a service restarted on another store sends lower ids; every
    event was dropped as seen while the status said connected."""
    table = RemoteTable(None, "table-1", "Lan")  # type: ignore[arg-type]
    first = [{**obj, "id": obj["id"].replace("7-", "9-")} for obj in wire(a_turn())]
    shown = [item for obj in first for item in table._take(obj)]
    again = [item for obj in wire(a_turn("Minh")) for item in table._take(obj)]  # ids 7-…
    assert sum(isinstance(i, ev.TurnFinished) for i in shown) == 1
    assert [i for i in again if isinstance(i, Said)] == [Said("Minh", "I open the door", "")]
    assert sum(isinstance(i, ev.TurnFinished) for i in again) == 1
