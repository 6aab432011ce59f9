"""The web protocol as a client reads it (``run --jsonl`` and the API share the encoder)."""

from tui.core import events as ev
from tui.core.protocol import ProtocolEncoder


def types_and_data(encoder: ProtocolEncoder, events: list[ev.RunEvent]) -> list[tuple[str, dict]]:
    out = []
    for event in events:
        out += [(m["type"], m["data"]) for m in encoder.encode(event)]
    return out


def test_agent_updated_only_when_the_answering_agent_changes_and_says_from_whom():
    encoder = ProtocolEncoder("s1")
    sent = types_and_data(
        encoder,
        [
            ev.TurnStarted("hi", "Triage", 1),
            ev.AgentSwitched("Triage", 2),  # the SDK restates the agent at every run start
            ev.RetryScheduled(1, 3, 2.0, "network", "reset", 3),
            ev.AgentSwitched("Triage", 4),  # and again at the retry's run
            ev.HandoffCompleted("Triage", "Billing", 5),
            ev.AgentSwitched("Billing", 6),  # the SDK's own notice of the same handoff
            ev.TextDelta("ok", 7),
        ],
    )
    updates = [data for kind, data in sent if kind == "agent_updated"]
    assert updates == [{"agent": "Billing", "from": "Triage"}]
    retry = next(data for kind, data in sent if kind == "retry")
    assert retry["attempt"] == 1 and retry["max_attempts"] == 3 and retry["delay_s"] == 2.0


def test_an_agent_switch_without_a_handoff_event_still_names_the_previous_agent():
    encoder = ProtocolEncoder("s1")
    sent = types_and_data(encoder, [ev.TurnStarted("hi", "A", 1), ev.AgentSwitched("B", 2)])
    assert [d for k, d in sent if k == "agent_updated"] == [{"agent": "B", "from": "A"}]


def test_text_delta_carries_the_running_word_count_and_session_update_the_message_count():
    encoder = ProtocolEncoder("s9", message_count=3)
    sent = types_and_data(
        encoder,
        [ev.TurnStarted("hi", "A", 1), ev.TextDelta("one two ", 2), ev.TextDelta("three ", 3)],
    )
    assert sent[0] == ("session_update", {"session_id": "s9", "message_count": 3, "agent": "A"})
    assert sent[1][0] == "typing_start"
    assert [d["word_count"] for k, d in sent if k == "text_delta"] == [2, 3]
    assert "".join(d["delta"] for k, d in sent if k == "text_delta") == "one two three "
