"""Each of the tutorial's figures is defined once (``tui.core.observe.metrics``) and every
surface that shows it agrees: a real turn through the core, then each surface read back —
the monitor's assessment (sidebar, /stats' line), ``response_complete`` (the API, the
page), the stored turn and the statistics over it, F2's series, the Prometheus series the
alert rules read, and the JSON log line. These fail if one surface computes it its own way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from agents.testing import ModelStep

from tests.scripts import broken_step, connection_error, runner_for, text_step
from tui.core import events as ev
from tui.core.observe.dashboard import load
from tui.core.observe.metrics import (
    SessionMetrics,
    Thresholds,
    assess,
    error_rate_of,
    monitor_error_rate,
    recovery_rate,
    resilience_error_rate,
    turn_error_share,
    tutorial_rate_of,
)
from tui.core.observe.stats import as_json, global_statistics, report, report_of
from tui.core.observe.telemetry import Telemetry
from tui.core.store import Store
from tui.core.turn.conversation import Conversation, Queued
from tui.core.turn.protocol import ProtocolEncoder
from tui.testing.scripted import Text, response_events

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 1.5  # before the first token: 10 fast tokens after it are ~6.6 tokens/s overall


def waited_step(deltas: list[str], wait_s: float) -> ModelStep:
    """A model that thinks ``wait_s`` before it streams its reply at full speed."""
    events = response_events([Text(deltas)])

    async def stream(_call: Any) -> Any:
        yield events[0]  # response.created
        await asyncio.sleep(wait_s)
        for event in events[1:]:
            yield event

    return ModelStep.stream(stream)


async def one_turn(
    store: Store, steps: list[Any], telemetry: Telemetry
) -> tuple[Conversation, list[dict[str, Any]]]:
    """A turn through the core; the protocol objects the API would send for it."""
    runner, _model = runner_for(steps)
    conversation = Conversation(store, runner, telemetry=telemetry, record=False)
    encoder = ProtocolEncoder(conversation.id, metrics_of=lambda: conversation.metrics)
    sent: list[dict[str, Any]] = []
    async for event in conversation.turn("hello"):
        if not isinstance(event, Queued):
            sent += encoder.encode(event)
    conversation.close()
    return conversation, sent


def samples(telemetry: Telemetry) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    assert telemetry.metrics is not None
    text = telemetry.metrics.exposition().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def traced(telemetry: Telemetry) -> Any:
    """Give ``telemetry`` an OpenTelemetry tracer whose spans stay in memory."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.tracer = provider.get_tracer("test")
    return exporter


def root_span_attributes(exporter: Any) -> dict[str, Any]:
    [root] = [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]
    return dict(root.attributes)


def logged(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    [line] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "turn_finished"]
    fields: dict[str, Any] = line.fields  # type: ignore[attr-defined]
    return fields


def alert_expression(name: str) -> str:
    text = (ROOT / "docs" / "prometheus" / "alerts.yml").read_text(encoding="utf-8")
    block = text.split(f"alert: {name}", 1)[1].split("- alert:", 1)[0]
    return block.split("expr: |", 1)[1].split("for:", 1)[0]


async def test_a_fast_stream_after_a_long_wait_is_under_10_tokens_per_second_everywhere(
    tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="agents_tui.turns")
    store = Store(tmp_path / "db.sqlite")
    telemetry = Telemetry(metrics=True)
    spans = traced(telemetry)
    deltas = [f"w{i} " for i in range(10)]
    conversation, sent = await one_turn(store, [waited_step(deltas, WAIT_S)], telemetry)
    turn = conversation.metrics
    assert turn is not None and turn.finished_ns is not None
    rate = turn.end_to_end_tokens_per_s(turn.finished_ns)
    assert 0 < rate < 10 < turn.tokens_per_s()  # the tutorial's rate low, the decode rate fast
    limits = Thresholds()

    # the monitor's assessment (the sidebar's alert and its red figure read the same rule)
    issues = assess(turn, SessionMetrics(), turn.finished_ns)
    assert any(i.startswith("Low throughput: ") for i in issues)
    assert turn.low_rate(limits, turn.finished_ns)
    # response_complete (the API's stream, the page): the same issue, the same figure
    [complete] = [e for e in sent if e["type"] == "response_complete"]
    assert any(i.startswith("Low throughput: ") for i in complete["data"]["performance_issues"])
    summary = complete["data"]["metrics"]
    assert tutorial_rate_of(summary) == pytest.approx(rate, rel=1e-3)
    # the stored turn, /stats and agents-tui stats (counted by the store's index, and from turns)
    [row] = store.turns(conversation.id)
    assert tutorial_rate_of(row.metrics) == pytest.approx(rate, rel=1e-3)
    assert store.totals(conversation.id).sluggish == 1
    perf = as_json(report([row]))["performance_statistics"]
    assert "1 under 10 tokens/s" in str(perf["performance_issues"])
    perf_kept = as_json(report_of(store.totals(conversation.id)))["performance_statistics"]
    assert perf_kept["performance_issues"] == perf["performance_issues"]
    # F2's series, drawn under its 10 tokens/s line
    assert load(store, conversation.id).rate.y == [pytest.approx(rate, rel=1e-3)]
    # Prometheus: the series the alert reads holds the tutorial's rate, and the alert reads it
    figures = samples(telemetry)
    assert figures["agents_tui_tokens_per_second_count"] == 1
    assert figures["agents_tui_tokens_per_second_sum"] == pytest.approx(rate, rel=1e-3)
    assert figures["agents_tui_decode_tokens_per_second_sum"] > 10
    low_rule = alert_expression("AgentsTuiLowTokenRate")
    assert "agents_tui_tokens_per_second_sum" in low_rule and "decode" not in low_rule
    assert re.search(r"<\s*10\b", low_rule)
    # the JSON log line and the OpenTelemetry span
    fields = logged(caplog)
    assert fields["tokens_per_second"] == pytest.approx(rate, rel=1e-3)
    assert fields["decode_tokens_per_second"] > 10
    attributes = root_span_attributes(spans)
    assert attributes["agents_tui.tokens_per_second"] == pytest.approx(rate, rel=1e-3)
    assert attributes["agents_tui.decode_tokens_per_second"] > 10
    store.close()


async def test_the_monitors_error_rate_is_the_same_on_every_surface_that_shows_it(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="agents_tui.turns")
    store = Store(tmp_path / "db.sqlite")
    telemetry = Telemetry(metrics=True)
    spans = traced(telemetry)
    steps = [broken_step(["Half "], connection_error()), text_step(["a ", "reply."])]
    conversation, sent = await one_turn(store, steps, telemetry)
    turn = conversation.metrics
    assert turn is not None and turn.errors == 1 and turn.status == "completed"
    rate = turn.error_rate()
    assert rate == monitor_error_rate(turn.errors, turn.events) and rate > 0.05
    shown = f"High error rate: {rate:.1%} > 5%"

    assert shown in assess(turn, SessionMetrics(), turn.finished_ns or 0)
    [complete] = [e for e in sent if e["type"] == "response_complete"]
    assert shown in complete["data"]["performance_issues"]
    assert error_rate_of(complete["data"]["metrics"]) == rate
    [row] = store.turns(conversation.id)
    assert error_rate_of(row.metrics) == rate
    assert logged(caplog)["error_rate"] == round(rate, 6)
    assert root_span_attributes(spans)["agents_tui.error_rate"] == rate
    figures = samples(telemetry)  # what the AgentsTuiHighErrorRate rule divides
    assert figures["agents_tui_errors_total"] / figures["agents_tui_stream_events_total"] == rate
    rule = alert_expression("AgentsTuiHighErrorRate")
    assert "agents_tui_errors_total" in rule and "agents_tui_stream_events_total" in rule
    assert "0.05" in rule
    # /stats shows agents-tui's own share of turns with an error, under its own name
    perf = as_json(report([row]))["performance_statistics"]
    assert "error_rate" not in perf
    assert perf["turns_with_errors_share"] == turn_error_share(1, 1) == 1.0
    store.close()


def failing_step() -> ModelStep:
    async def stream(_call: Any) -> Any:
        raise RuntimeError("the model is gone")
        yield  # pragma: no cover

    return ModelStep.stream(stream)


async def test_recovery_rate_and_sessions_with_issues_agree_in_the_monitor_the_store_and_stats(
    capsys,
):
    """Three sessions (one clean, one recovered, one failed): the tutorial programs' figures
    (``SessionMetrics``), ``Store.global_stats``, ``agents-tui stats --json``."""
    store = Store()
    telemetry = Telemetry()
    monitor = SessionMetrics()
    for steps in (
        [text_step(["fine."])],
        [broken_step(["Half "], connection_error()), text_step(["whole."])],
        [failing_step()],
    ):
        conversation, _sent = await one_turn(store, steps, telemetry)
        assert conversation.metrics is not None
        monitor.add(conversation.metrics)
    own = monitor.global_stats()
    resilience = monitor.resilience_statistics()
    assert own["sessions_with_issues"] == 2 and own["recovery_successes"] == 1
    assert resilience["recovery_rate"] == recovery_rate(1, 2) == 0.5
    assert resilience["error_rate"] == resilience_error_rate(2, 1) == pytest.approx(2 / 3)
    # the tutorial counts any other exception (here a RuntimeError) as a network error
    assert resilience["network_errors"] == 2 and resilience["agent_errors"] == 0

    kept = store.global_stats()
    assert kept["total_sessions"] == own["total_sessions"] == 3
    assert kept["sessions_with_issues"] == own["sessions_with_issues"]
    assert kept["recovery_rate"] == own["recovery_rate"] == resilience["recovery_rate"]
    perf = as_json(report_of(store.totals()))["performance_statistics"]
    assert perf["recovery_rate"] == own["recovery_rate"]
    store.close()

    from tui.cli import main

    assert main(["stats", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    glob = shown["global_statistics"]
    assert glob["total_sessions"] == 3 and glob["sessions_with_issues"] == 2
    assert glob["total_turns"] == 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", glob["last_updated"])
    assert shown["performance_statistics"]["recovery_rate"] == 0.5
    assert main(["stats"]) == 0
    text = capsys.readouterr().out
    assert "Global statistics" in text and "Sessions with issues" in text
    assert "Last updated" in text


def test_the_global_statistics_section_names_the_tutorials_keys():
    section = global_statistics({"total_sessions": 4, "total_turns": 9, "sessions_with_issues": 1})
    assert [row.key for row in section.rows] == [
        "total_sessions",
        "total_turns",
        "sessions_with_issues",
        "last_updated",
    ]


def test_the_thresholds_rules_are_the_tutorials():
    limits = Thresholds()
    assert limits.slow_first_token(2.01) and not limits.slow_first_token(2.0)
    assert not limits.slow_first_token(None)
    assert limits.low_rate(9.9) and not limits.low_rate(10.0)
    assert not limits.low_rate(0.0)  # not measured: never "low"
    assert limits.high_error_rate(0.051) and not limits.high_error_rate(0.05)
    # one rule for the live turn too: a second of streaming before a live rate counts
    from tui.core.observe.metrics import NS, TurnMetrics

    turn = TurnMetrics(started_ns=0)
    turn.observe(ev.TextDelta("a", 0))
    turn.observe(ev.TextDelta("b", NS // 2))
    assert not turn.low_rate(limits, NS // 2)  # half a second: too early to say
    assert turn.low_rate(limits, 2 * NS)  # 2 tokens in 2 s
