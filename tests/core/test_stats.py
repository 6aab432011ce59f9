"""The statistics by the source tutorial's definitions, and ``--json`` as numbers."""

import json
from dataclasses import dataclass, field
from typing import Any

from tui.core import events as ev
from tui.core.observe.metrics import SessionMetrics, Thresholds, TurnMetrics, assess
from tui.core.observe.stats import as_json, as_text, report

MS = 1_000_000


@dataclass
class Turn:
    prompt: str
    reply: str
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)


def streamed_turn(first_ms: int, count: int, gap_ms: int, errors: int = 0) -> TurnMetrics:
    turn = TurnMetrics(started_ns=0)
    turn.observe(ev.TurnStarted("p", "a", 0))
    turn.observe(ev.ModelCallStarted(0))
    for _ in range(errors):
        turn.observe(ev.RunFailed("network", "cut", 0))
    for i in range(count):
        turn.observe(ev.TextDelta("x", (first_ms + i * gap_ms) * MS))
    turn.observe(ev.TurnFinished("completed", "x" * count, (first_ms + (count - 1) * gap_ms) * MS))
    return turn


def test_both_token_rates_the_tutorials_counts_the_wait_for_the_first_token():
    # 21 tokens 50 ms apart after a 3 s wait: the model decodes at 20 tok/s, but the
    # person got 21 tokens in 4 s: the tutorial's 5.25 tok/s, under its threshold of 10.
    turn = streamed_turn(3000, 21, 50)
    assert abs(turn.tokens_per_s() - 20.0) < 1e-9
    assert abs(turn.end_to_end_tokens_per_s() - 21 / 4.0) < 1e-9
    summary = turn.summary(turn.finished_ns or 0)
    assert summary["tokens_per_second"] == 20.0 and summary["end_to_end_tokens_per_second"] == 5.25
    session = SessionMetrics(Thresholds(max_ttft_s=5.0, min_tokens_per_s=10))
    session.add(turn)
    issues = assess(turn, session, turn.finished_ns or 0)
    assert issues == ["Low throughput: 5.2 tok/s < 10"]


def test_recovery_rate_is_recoveries_over_errors_and_tokens_processed_are_the_streamed_ones():
    session = SessionMetrics()
    session.add(streamed_turn(100, 10, 10, errors=2))  # recovered after two failed attempts
    session.add(streamed_turn(100, 10, 10))
    stats = session.global_stats()
    assert stats["total_errors"] == 2 and stats["recovery_successes"] == 1
    assert stats["recovery_rate"] == 0.5  # the tutorial's: 1 recovery over 2 errors
    assert session.recovered_turn_share() == 1.0  # the one turn with errors completed
    assert stats["total_tokens_processed"] == 20  # streamed, not input + output


def test_stats_json_gives_numbers_under_stable_keys_and_the_table_labels_them():
    rows = [
        Turn(
            "a",
            "hello",
            "completed",
            {
                "time_to_first_token_s": 0.5,
                "tokens_per_second": 40.0,
                "end_to_end_tokens_per_second": 8.0,
                "elapsed_s": 2.0,
                "streamed_tokens": 16,
                "input_tokens": 100,
                "output_tokens": 16,
                "errors": 2,
                "retries": 2,
                "errors_by_kind": {"network": 2},
            },
        ),
        Turn("b", "", "interrupted", {"time_to_first_token_s": 1.5, "elapsed_s": 1.5}),
    ]
    sections = report(rows)
    data = json.loads(json.dumps(as_json(sections)))
    perf = data["performance_statistics"]
    assert data["chat_statistics"]["your_messages"] == 2
    assert data["chat_statistics"]["assistant_messages"] == 1
    assert perf["turns"] == 2 and perf["median_time_to_first_token_s"] == 1.0
    assert perf["average_tokens_per_second"] == 8.0
    assert perf["average_decode_tokens_per_second"] == 40.0
    assert perf["total_tokens_processed"] == 16 and perf["total_tokens_with_input"] == 116
    assert perf["recovery_rate"] == 0.5 and perf["recovered_turn_share"] == 1.0
    assert perf["errors_network"] == 2 and perf["interrupted_turns"] == 1
    assert "under 10 tokens/s" in perf["performance_issues"]
    table = as_text(sections)
    lines = {line.split("  ")[1]: line.split()[-1] for line in table.splitlines() if "  " in line}
    assert lines["Recovery rate (recoveries / errors)"] == "50%"
    assert lines["Average tokens/second (over the whole request)"] == "8.0"
    assert lines["Average decode tokens/second (while streaming)"] == "40.0"
    assert isinstance(perf["average_time_to_first_token_s"], float)
