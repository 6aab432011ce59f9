"""The web protocol as a client reads it (``run --jsonl`` and the API share the encoder)."""

from tui.core import events as ev
from tui.core.turn.protocol import ProtocolEncoder


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
    assert sent[1] == ("user_message", {"author": "", "text": "hi", "message_id": ""})
    assert sent[2][0] == "typing_start"
    assert [d["word_count"] for k, d in sent if k == "text_delta"] == [2, 3]
    assert "".join(d["delta"] for k, d in sent if k == "text_delta") == "one two three "


def test_a_players_prompt_is_said_with_its_author_and_id_and_a_resumed_turn_is_not_said_again():
    encoder = ProtocolEncoder("table")
    encoder.message_id = "m-1"
    said = types_and_data(encoder, [ev.TurnStarted("I open the door", "GM", 1, author="Lan")])
    assert [d for k, d in said if k == "user_message"] == [
        {"author": "Lan", "text": "I open the door", "message_id": "m-1"}
    ]
    again = types_and_data(encoder, [ev.TurnStarted("I open the door", "GM", 2, resumed=True)])
    assert [k for k, _ in again] == ["session_update", "typing_start"]


def documented_fields() -> dict[str, set[str]]:
    """The docs' table of the event protocol (docs/api/events.md): each type's top-level
    ``data`` fields."""
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "api" / "events.md"
    table = page.read_text(encoding="utf-8").split("## The event protocol", 1)[1]
    table = table.split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`") or cells[0] == "`type`":
            continue
        text = cells[1]
        while re.search(r"\([^()]*\)", text):  # what is said about a field, not a field
            text = re.sub(r"\([^()]*\)", "", text)
        text = text.split(":", 1)[0] if ": only" in text else text
        out[cells[0].strip("`")] = set(re.findall(r"`([a-z_]+)`", text))
    return out


def test_every_event_type_carries_the_fields_the_docs_document():
    encoder = ProtocolEncoder("s1")
    events: list[ev.RunEvent] = [
        ev.TurnStarted("hi", "A", 1),
        ev.AnsweredFromCache(12.5, 2),
        ev.TextDelta("one ", 2),
        ev.ToolCallIssued("c1", "roll_dice", "{}", 3, "mcp:dice"),
        ev.ToolCallFinished("c1", "4", False, 4),
        ev.ApprovalRequested("c2", "delete", "{}", "A", 1, 1, 5),
        ev.ApprovalResolved("c2", True, "user", 6),
        ev.NestedActivity("c1", "agent", "Helper", "", 7),
        ev.GuardrailTripped("no_secrets", "output", 8),
        ev.HandoffCompleted("A", "B", 9),
        ev.ContextFitted(900, 4096, 6, 2, 0, "window", True, 10),
        ev.RetryScheduled(2, 3, 2.0, "network", "reset", 11),
        ev.RunFailed("network", "reset", 12),
        ev.TurnFinished("completed", "one", 13),
    ]
    sent: dict[str, dict] = {}
    for event in events:
        for message in encoder.encode(event):
            assert set(message) == {"type", "data", "timestamp"}
            sent.setdefault(message["type"], message["data"])
    documented = documented_fields()
    # every type, and no undocumented one (the API adds queued and turn_cancelled itself)
    assert set(documented) - {"queued", "turn_cancelled"} == set(sent)
    for kind, data in sent.items():
        assert set(data) == documented[kind], kind
    assert sent["tool_start"]["source"] == "mcp:dice"
    assert sent["error"] == {"message": "reset", "code": "STREAM_ERROR", "kind": "network"}
    assert sent["response_complete"]["usage"]["source"] == "streamed_deltas"


async def test_the_wire_reports_the_conversations_own_metrics_for_the_turn(tmp_path):
    """``run --jsonl`` and the API read the turn's metrics from the conversation (measured
    once, by the journal): what the wire says is what is stored and what the sidebar shows."""
    from agents import Agent, RunConfig
    from agents.testing import ModelStep, ScriptedModel

    from tui.core.store import Store
    from tui.core.turn.conversation import Conversation
    from tui.core.turn.runner import TurnRunner
    from tui.testing.scripted import Text, response_events

    model = ScriptedModel([ModelStep.stream(response_events([Text(["one ", "two ", "three"])]))])
    runner = TurnRunner(Agent(name="A", model=model), run_config=RunConfig(tracing_disabled=True))
    conversation = Conversation(Store(tmp_path / "s.db"), runner, record=False)
    encoder = ProtocolEncoder(conversation.id, metrics_of=lambda: conversation.metrics)
    sent: list[dict] = []
    async for event in conversation.turn("count"):
        sent.extend(encoder.encode(event))
    assert encoder.metrics is conversation.metrics and conversation.metrics is not None
    finished = next(m["data"] for m in sent if m["type"] == "response_complete")
    stored = conversation.turns()[-1].metrics
    assert finished["metrics"]["streamed_tokens"] == 3 == stored["streamed_tokens"]
    assert finished["metrics"]["time_to_first_token_s"] == stored["time_to_first_token_s"]
    conversation.close()
