"""Metric values from controlled timestamps."""

from tui.core import events as ev
from tui.core.observe.metrics import NS, SessionMetrics, Thresholds, TurnMetrics, assess, percentile

MS = 1_000_000


def _turn(deltas_at_ms, *, start_ms=0, finish_ms=None, status="completed", usage=(0, 0)):
    turn = TurnMetrics(started_ns=start_ms * MS)
    turn.observe(ev.TurnStarted("p", "a", start_ms * MS))
    turn.observe(ev.ModelCallStarted(start_ms * MS))
    for t in deltas_at_ms:
        turn.observe(ev.TextDelta("x", t * MS))
    if usage != (0, 0):
        turn.observe(ev.UsageReported(usage[0], usage[1], sum(usage), deltas_at_ms[-1] * MS))
    end = finish_ms if finish_ms is not None else deltas_at_ms[-1]
    turn.observe(ev.TurnFinished(status, "x" * len(deltas_at_ms), end * MS))
    return turn


def test_ttft_tokens_per_second_and_inter_token_latency():
    # first token at 500 ms, then 10 more every 100 ms: 10 gaps over 1 s
    turn = _turn([500 + 100 * i for i in range(11)], usage=(12, 11))
    assert turn.ttft_s == 0.5
    assert abs(turn.tokens_per_s() - 10.0) < 1e-9
    assert turn.itl_ms(0.5) == 100.0
    assert turn.itl_ms(0.95) == 100.0
    assert turn.tokens == 11
    assert turn.input_tokens == 12 and turn.output_tokens == 11
    assert turn.elapsed_s(0) == 1.5


def test_tool_time_between_model_calls_does_not_dilute_tokens_per_second():
    turn = TurnMetrics(started_ns=0)
    for t in (100, 200, 300):  # first call: 2 gaps in 200 ms
        turn.observe(ev.TextDelta("a", t * MS))
    turn.observe(ev.ToolCallIssued("c", "roll_dice", "{}", 310 * MS))
    turn.observe(ev.ToolCallFinished("c", "4", False, 5_000 * MS))  # a slow tool
    turn.observe(ev.ModelCallStarted(5_000 * MS))
    for t in (5_100, 5_200, 5_300):  # second call: 2 gaps in 200 ms
        turn.observe(ev.TextDelta("b", t * MS))
    turn.observe(ev.TurnFinished("completed", "", 5_300 * MS))
    # 5 gaps over 400 ms of streaming; the inter-call gap is not an inter-token latency
    assert abs(turn.tokens_per_s() - 5 / 0.4) < 1e-6
    assert max(turn.gaps_s) == 0.1
    assert turn.tool_calls == 1


def test_live_rate_uses_now_while_streaming():
    turn = TurnMetrics(started_ns=0)
    turn.observe(ev.TextDelta("a", 0))
    turn.observe(ev.TextDelta("a", 100 * MS))
    assert abs(turn.tokens_per_s(now_ns=200 * MS) - 5.0) < 1e-9


def test_session_statistics_and_threshold_alerts():
    session = SessionMetrics(Thresholds(max_ttft_s=2.0, min_tokens_per_s=10, max_error_rate=0.05))
    fast = _turn([100 + 10 * i for i in range(21)])  # ttft .1 s, 100 tok/s
    slow = _turn([3_000, 3_500, 4_000])  # ttft 3 s, 2 tok/s
    interrupted = _turn([200, 300], status="interrupted")
    for t in (fast, slow, interrupted):
        session.add(t)
    stats = session.global_stats()
    assert stats["total_sessions"] == 3
    assert abs(stats["average_time_to_first_token"] - (0.1 + 3.0 + 0.2) / 3) < 1e-9
    assert stats["median_time_to_first_token"] == 0.2
    assert session.interruptions == 1
    assert stats["sessions_with_issues"] == 1
    issues = assess(slow, session, 4_000 * MS)
    assert any("Slow first token" in i for i in issues)
    assert any("Low throughput" in i for i in issues)
    assert assess(fast, session, 0) == []


def test_error_rate_alert():
    session = SessionMetrics()
    turn = TurnMetrics(started_ns=0)
    turn.observe(ev.RunFailed("network", "cut", 1))
    turn.observe(ev.TurnFinished("failed", "", NS))
    session.add(turn)
    assert session.errors == 1
    # the tutorial monitor's figure: this request's errors over its events (1 of 2: 50 %)
    assert turn.error_rate() == 0.5
    assert any("High error rate: 50.0% > 5%" in i for i in assess(turn, session, NS))
    assert assess(None, session, 0) == []  # no request, nothing to assess


def test_inter_token_latency_stays_right_while_the_reply_grows():
    """The sidebar asks for ITL percentiles again and again mid-stream."""
    turn = TurnMetrics(started_ns=0)
    turn.observe(ev.TurnStarted("p", "a", 0))
    turn.observe(ev.ModelCallStarted(0))
    at = 0
    gaps = [7, 1, 30, 2, 2, 90, 5, 3, 11, 4, 60, 1] * 10
    for i, gap in enumerate(gaps):
        at += gap
        turn.observe(ev.TextDelta("x", at * MS))
        if i % 7 == 0:  # asked mid-stream, as the live sidebar does
            for fraction in (0.5, 0.95):
                expected = percentile(sorted(turn.gaps_s), fraction) * 1000
                assert turn.itl_ms(fraction) == expected
    assert len(turn.gaps_s) == len(gaps) - 1  # n tokens, n - 1 gaps
    assert turn.itl_ms(0.5) == 4.0 and turn.itl_ms(0.95) == 90.0


def test_older_turns_keep_their_percentiles_not_their_gaps():
    """A session keeps every turn's numbers; only the newest keeps its inter-token gaps (a
    long reply has hundreds of thousands), so a long session does not grow by them."""
    session = SessionMetrics()
    first = _turn([100 + 10 * i for i in range(500)] + [6000])  # gaps of 10 ms, one of 1 s
    before = {f: first.itl_ms(f) for f in (0.5, 0.95, 0.99)}
    summary = first.summary(first.finished_ns or 0)
    session.add(first)
    assert first.gaps_s  # the newest turn still has them
    session.add(_turn([7000, 7010, 7020]))
    assert first.gaps_s == [] and first._sorted_gaps == []
    assert {f: first.itl_ms(f) for f in (0.5, 0.95, 0.99)} == before
    assert first.summary(first.finished_ns or 0) == summary
