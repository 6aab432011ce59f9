"""Per-turn and per-session streaming metrics, computed from event timestamps: every figure
of the source tutorial defined once, here, and read by every surface (the sidebar, /stats,
F2, ``agents-tui stats``, ``/v1/stats``, ``response_complete``, Prometheus, OTel, logs).

Every number comes from the ``at_ns`` stamped on events when the SDK delivered them,
never from when a frame was painted, so the metrics can be unit-tested with
controlled timestamps. "Tokens" while streaming are text deltas (one per token for
OpenAI-style streams); the provider's usage numbers are reported beside them.

Each figure, its formula and whose it is:

- **tokens/s** (the tutorial's ``calculate_latencies``): tokens / (end - request start -
  a person's approval wait), ``TurnMetrics.end_to_end_tokens_per_s``. The "under 10
  tokens/s" rule is on it, and only on it: ``Thresholds.low_rate``, ``TurnMetrics.low_rate``.
- **decode tokens/s** (ours, labelled "decode"): (tokens - 1) / time spent streaming,
  ``TurnMetrics.tokens_per_s``; a stored summary's ``tokens_per_second``.
- **error rate** (the tutorial monitor's, per request): errors / events of one request,
  ``monitor_error_rate``; over 5 % is "High error rate" (``Thresholds.high_error_rate``).
- **turns with an error** (ours, never called the error rate): ``turn_error_share``.
- **resilience error rate** (the tutorial's resilient system): errors / (errors +
  recoveries), ``resilience_error_rate``; its **recovery rate**: recoveries / errors,
  ``recovery_rate``; its three groups of errors: ``resilience_group``.
- **sessions with issues** (the tutorial monitor's): sessions with an error or a turn that
  did not complete, ``SessionMetrics.sessions_with_issues`` (``Store.global_stats`` counts
  the same over stored conversations).

- **a cached turn** (``--cache-ttl``, ``tui.core.turn.cache``): a reply replayed from the
  response cache asked no model, so it has no time to first token (None), no tokens/s (0:
  not measured) and no inter-token gaps: ``TurnMetrics.cached`` is true and its summary
  says ``cached``; the averages over turns (TTFT, tokens/s) leave it out, while it counts
  as a turn and its streamed tokens count.

A stored turn's figures are read back with ``tutorial_rate_of``, ``decode_rate_of`` and
``error_rate_of``.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field, replace
from typing import TypedDict

from tui.core import events as ev
from tui.core.i18n import _

NS = 1_000_000_000


MIN_RATE_WINDOW_S = 1.0  # a live throughput alert needs this much streaming behind it


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[rank]


KEPT_PERCENTILES = (0.5, 0.95, 0.99)

# Inter-token gaps kept as counts per bucket (upper edges in ms; the last bucket is open):
# 13 numbers a turn, stored with its metrics, so F2 draws the distribution over every stored
# turn from real gaps, not from each turn's two percentiles.
ITL_EDGES_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def itl_bucket_labels() -> list[str]:
    """Short labels (a bucket's upper edge in ms): all 13 fit under a narrow chart."""

    def short(ms: int) -> str:
        return f"{ms // 1000}k" if ms >= 1000 else str(ms)

    return [f"<{short(edge)}" for edge in ITL_EDGES_MS] + [f"≥{short(ITL_EDGES_MS[-1])}"]


class MetricsSummary(TypedDict, total=False):
    """A turn's metrics as the store keeps them (``TurnMetrics.summary``), as JSON: what a
    turn reads back (``TurnRow.metrics``), exports, the API and the statistics read. Every
    key may be missing: a turn stored by an earlier version, still running, or imported
    from a file holds only some of them."""

    status: ev.TurnStatus | None
    time_to_first_token_s: float | None
    tokens_per_second: float
    end_to_end_tokens_per_second: float
    inter_token_latency_p50_ms: float
    inter_token_latency_p95_ms: float
    itl_histogram: list[int]  # counts per ITL_EDGES_MS bucket
    streamed_tokens: int
    events: int
    events_per_second: float
    model_calls: int
    tool_calls: int
    tool_failures: int
    input_tokens: int
    output_tokens: int
    errors: int
    errors_by_kind: dict[str, int]
    retries: int
    context_tokens: int
    context_window: int | None
    context_dropped_turns: int
    context_dropped_messages: int
    context_trims: int
    approvals: int
    rejections: int
    approval_wait_s: float
    elapsed_s: float
    cached: bool  # replayed from the response cache: no TTFT, no rates


def tutorial_rate_of(summary: MetricsSummary) -> float | None:
    """A stored turn's tokens/s by the tutorial's definition (``end_to_end_tokens_per_s``;
    the summary's ``tokens_per_second`` is the decode rate); None when not measured."""
    rate = summary.get("end_to_end_tokens_per_second")
    return float(rate) if rate else None


def decode_rate_of(summary: MetricsSummary) -> float | None:
    """A stored turn's decode rate (``TurnMetrics.tokens_per_s``); None when not measured."""
    rate = summary.get("tokens_per_second")
    return float(rate) if rate else None


def error_rate_of(summary: MetricsSummary) -> float:
    """A stored turn's error rate by the tutorial monitor's definition (``monitor_error_rate``)."""
    return monitor_error_rate(int(summary.get("errors") or 0), int(summary.get("events") or 0))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The tutorial monitor's ``performance_thresholds``, and its three rules."""

    max_ttft_s: float = 2.0
    min_tokens_per_s: float = 10.0
    max_error_rate: float = 0.05

    def slow_first_token(self, ttft_s: float | None) -> bool:
        """ "Slow first token": the time to the first token over ``max_ttft_s`` (2 s)."""
        return ttft_s is not None and ttft_s > self.max_ttft_s

    def low_rate(self, tokens_per_s: float | None) -> bool:
        """ "Low throughput": the tutorial's tokens/s (over the time since the request:
        ``TurnMetrics.end_to_end_tokens_per_s``, never the decode rate) under
        ``min_tokens_per_s`` (10). 0 is "not measured" (no text, or all of it within one
        clock tick), never low."""
        return tokens_per_s is not None and 0 < tokens_per_s < self.min_tokens_per_s

    def high_error_rate(self, error_rate: float) -> bool:
        """ "High error rate": the monitor's per-request error rate (``monitor_error_rate``)
        over ``max_error_rate`` (5 %)."""
        return error_rate > self.max_error_rate


def monitor_error_rate(errors: int, events: int) -> float:
    """The tutorial monitor's error rate, for one request (``_assess_performance``):
    ``error_count / total_events``, the failures over the events the request streamed
    (0 when it streamed none). Over 5 % is its "High error rate"."""
    return errors / events if events > 0 else 0.0


def turn_error_share(turns_with_errors: int, turns: int) -> float:
    """agents-tui's own figure, not the tutorial's: the share of turns that met at least one
    error, ``turns_with_errors / turns`` (``/stats``: "Turns with an error")."""
    return turns_with_errors / turns if turns > 0 else 0.0


def resilience_error_rate(total_errors: int, recoveries: int) -> float:
    """The tutorial's resilient system's error rate (``get_error_statistics``):
    ``total_errors / (total_errors + recovery_successes)``, failed attempts over failed
    attempts and recoveries (0 without errors)."""
    return total_errors / (total_errors + recoveries) if total_errors > 0 else 0.0


def recovery_rate(recoveries: int, total_errors: int) -> float:
    """The tutorial's recovery rate (``get_error_statistics``): ``recovery_successes /
    total_errors``, turns that recovered over failed attempts (0 without errors)."""
    return recoveries / total_errors if total_errors > 0 else 0.0


# The tutorial's resilient system sorts its failures in three: ``asyncio.TimeoutError``,
# ``AgentsException`` (the SDK's own: max turns, model behaviour, guardrails, tools, a bad
# configuration) and everything else, "network" (our classified kinds, ``tui.core.turn.errors``).
TIMEOUT_KINDS = frozenset({"timeout", "stall"})
AGENT_KINDS = frozenset({"max_turns", "model_behavior", "guardrail", "tool", "config"})


def resilience_group(kind: str) -> str:
    """``timeout``, ``agent`` or ``network``: where the tutorial counts a failure of ``kind``."""
    if kind in TIMEOUT_KINDS:
        return "timeout"
    return "agent" if kind in AGENT_KINDS else "network"


@dataclass(slots=True)
class TurnMetrics:
    """Accumulates one turn's numbers as events arrive."""

    started_ns: int
    first_token_ns: int | None = None
    last_token_ns: int | None = None
    finished_ns: int | None = None
    status: ev.TurnStatus | None = None
    tokens: int = 0
    events: int = 0
    model_calls: int = 0
    tool_calls: int = 0
    tool_failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    errors: int = 0
    retries: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    gaps_s: list[float] = field(default_factory=list)
    itl_counts: list[int] = field(default_factory=lambda: [0] * (len(ITL_EDGES_MS) + 1))
    _sorted_gaps: list[float] = field(default_factory=list, repr=False)
    _sorted_upto: int = 0
    approvals: int = 0
    # The last request's context: tokens it carried, turns and messages left out of it.
    context_tokens: int = 0
    context_window: int | None = None
    context_dropped_turns: int = 0
    context_dropped_messages: int = 0
    context_trims: int = 0  # requests the model refused as too long, trimmed and sent again
    rejections: int = 0
    # Time spent waiting for a person's approval: shown, never counted as model latency.
    waited_ns: int = 0
    _paused_at_ns: int | None = None
    _waited_before_first_token_ns: int = 0
    # Streaming time summed per model call, so tool execution does not dilute tokens/s.
    _closed_stream_ns: int = 0
    _call_first_ns: int | None = None
    _call_last_ns: int | None = None
    _kept_itl_ms: dict[float, float] | None = None  # set by compact(): gaps no longer kept
    cached: bool = False  # replayed from the response cache (the module's docstring)

    def observe(self, event: ev.RunEvent) -> None:
        self.events += 1
        if isinstance(event, ev.TextDelta):
            self._on_token(event.at_ns)
        elif isinstance(event, ev.AnsweredFromCache):
            self.cached = True
        elif isinstance(event, ev.ModelCallStarted):
            self.model_calls += 1
            self._close_call()
        elif isinstance(event, ev.ToolCallIssued):
            self.tool_calls += 1
        elif isinstance(event, ev.ToolCallFinished):
            self.tool_failures += int(event.failed)
        elif isinstance(event, ev.UsageReported):
            self.input_tokens += event.input_tokens
            self.output_tokens += event.output_tokens
        elif isinstance(event, ev.ContextFitted):
            if event.reason == "overflow":
                self.context_trims += 1
            else:
                self.context_tokens = event.sent_tokens
                self.context_dropped_turns = event.dropped_turns
                self.context_dropped_messages = event.dropped_messages
            self.context_window = event.window
        elif isinstance(event, ev.RunFailed):
            self.errors += 1
            self.errors_by_kind[event.error_kind] = self.errors_by_kind.get(event.error_kind, 0) + 1
        elif isinstance(event, ev.RetryScheduled):
            self.retries += 1
            self._close_call()
        elif isinstance(event, ev.RunPaused):
            self._close_call()
            if self._paused_at_ns is None:
                self._paused_at_ns = event.at_ns
        elif isinstance(event, ev.ApprovalResolved):
            if event.approved:
                self.approvals += 1
            else:
                self.rejections += 1
        elif isinstance(event, ev.RunResumed):
            self._end_pause(event.at_ns)
        elif isinstance(event, ev.TurnFinished):
            self._end_pause(event.at_ns)
            self.finished_ns = event.at_ns
            self.status = event.status
            self._close_call()

    def _end_pause(self, at_ns: int) -> None:
        if self._paused_at_ns is not None:
            self.waited_ns += max(0, at_ns - self._paused_at_ns)
            self._paused_at_ns = None

    @property
    def waiting(self) -> bool:
        return self._paused_at_ns is not None

    def _on_token(self, at_ns: int) -> None:
        self.tokens += 1
        if self.first_token_ns is None:
            self.first_token_ns = at_ns
            self._waited_before_first_token_ns = self.waited_ns
        if self._call_last_ns is not None and not self.cached:
            gap_s = (at_ns - self._call_last_ns) / NS
            self.gaps_s.append(gap_s)
            self.itl_counts[bisect.bisect_right(ITL_EDGES_MS, gap_s * 1000)] += 1
        if self._call_first_ns is None:
            self._call_first_ns = at_ns
        self._call_last_ns = at_ns
        self.last_token_ns = at_ns

    def _close_call(self) -> None:
        if self._call_first_ns is not None and self._call_last_ns is not None:
            self._closed_stream_ns += self._call_last_ns - self._call_first_ns
        self._call_first_ns = self._call_last_ns = None

    @property
    def ttft_s(self) -> float | None:
        if self.first_token_ns is None or self.cached:
            return None
        waited = self._waited_before_first_token_ns
        return (self.first_token_ns - self.started_ns - waited) / NS

    def approval_wait_s(self, now_ns: int) -> float:
        live = now_ns - self._paused_at_ns if self._paused_at_ns is not None else 0
        return (self.waited_ns + max(0, live)) / NS

    def elapsed_s(self, now_ns: int) -> float:
        end = self.finished_ns if self.finished_ns is not None else now_ns
        return max(0.0, (end - self.started_ns) / NS)

    def tokens_per_s(self, now_ns: int | None = None) -> float:
        """Tokens over time spent streaming; live when ``now_ns`` is given mid-call."""
        stream_ns = self._closed_stream_ns
        if self._call_first_ns is not None:
            end = self._call_last_ns or self._call_first_ns
            if now_ns is not None and self.finished_ns is None:
                end = max(end, now_ns)
            stream_ns += end - self._call_first_ns
        if stream_ns <= 0 or self.tokens < 2 or self.cached:
            return 0.0
        # n deltas span n-1 gaps; counting the first token would overstate the rate.
        return (self.tokens - 1) / (stream_ns / NS)

    def end_to_end_tokens_per_s(self, now_ns: int | None = None) -> float:
        """The source tutorial's tokens/s: tokens over the time since the request started
        (the wait for the first token included, a person's approval wait not), live when
        ``now_ns`` is given. ``tokens_per_s`` is the model's decode rate while it streams."""
        if self.tokens < 1 or self.cached:
            return 0.0
        end = self.finished_ns
        if end is None:
            end = now_ns if now_ns is not None else (self.last_token_ns or self.started_ns)
        span_ns = end - self.started_ns - int(self.approval_wait_s(end) * NS)
        return self.tokens / (span_ns / NS) if span_ns > 0 else 0.0

    def itl_ms(self, fraction: float) -> float:
        """A percentile of the inter-token gaps. The sorted gaps are kept and the new ones
        merged in (one linear pass): sorting 200,000 gaps on every sidebar refresh of a
        long reply cost more than drawing it."""
        if self._kept_itl_ms is not None:
            kept = self._kept_itl_ms
            return kept[min(kept, key=lambda known: abs(known - fraction))]
        new = self.gaps_s[self._sorted_upto :]
        if new:
            # Timsort merges two sorted runs in linear time (in place: no copy of the list).
            self._sorted_gaps.extend(sorted(new))
            self._sorted_gaps.sort()
            self._sorted_upto = len(self.gaps_s)
        return percentile(self._sorted_gaps, fraction) * 1000

    def compact(self) -> None:
        """An older turn of the session keeps its ITL percentiles, not its gaps: a 1 MB
        reply's 196,000 gaps (kept twice, raw and sorted) were ~6 MB for the session."""
        if self._kept_itl_ms is None:
            self._kept_itl_ms = {f: self.itl_ms(f) for f in KEPT_PERCENTILES}
            self.gaps_s = []
            self._sorted_gaps = []
            self._sorted_upto = 0

    def error_rate(self) -> float:
        """The tutorial monitor's error rate of this request (``monitor_error_rate``)."""
        return monitor_error_rate(self.errors, self.events)

    def low_rate(self, limits: Thresholds, now_ns: int) -> bool:
        """The "under 10 tokens/s" rule (``Thresholds.low_rate``) on this turn: its tokens/s
        once the turn has ended, or live after a second of streaming (a live rate over less
        is noise, not a slow model)."""
        first = self.first_token_ns if self.first_token_ns is not None else now_ns
        streamed_s = ((self.finished_ns or now_ns) - first) / NS
        settled = self.finished_ns is not None or streamed_s >= MIN_RATE_WINDOW_S
        return self.tokens > 1 and settled and limits.low_rate(self.end_to_end_tokens_per_s(now_ns))

    def events_per_s(self, now_ns: int) -> float:
        elapsed = self.elapsed_s(now_ns)
        return self.events / elapsed if elapsed > 0 else 0.0

    def summary(self, now_ns: int) -> MetricsSummary:
        """A flat, JSON-ready view (JSONL output, store, exports)."""
        return {
            "status": self.status,
            "time_to_first_token_s": self.ttft_s,
            "tokens_per_second": round(self.tokens_per_s(now_ns), 3),
            "end_to_end_tokens_per_second": round(self.end_to_end_tokens_per_s(now_ns), 3),
            "inter_token_latency_p50_ms": round(self.itl_ms(0.5), 3),
            "inter_token_latency_p95_ms": round(self.itl_ms(0.95), 3),
            "itl_histogram": list(self.itl_counts),  # counts per ITL_EDGES_MS bucket
            "streamed_tokens": self.tokens,
            "events": self.events,
            "events_per_second": round(self.events_per_s(now_ns), 3),
            "model_calls": self.model_calls,
            "tool_calls": self.tool_calls,
            "tool_failures": self.tool_failures,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "errors": self.errors,
            "errors_by_kind": dict(self.errors_by_kind),
            "retries": self.retries,
            "context_tokens": self.context_tokens,
            "context_window": self.context_window,
            "context_dropped_turns": self.context_dropped_turns,
            "context_dropped_messages": self.context_dropped_messages,
            "context_trims": self.context_trims,
            "approvals": self.approvals,
            "rejections": self.rejections,
            "approval_wait_s": round(self.approval_wait_s(now_ns), 3),
            "elapsed_s": round(self.elapsed_s(now_ns), 6),
            "cached": self.cached,
        }


def metrics_of(event: ev.TurnFinished) -> TurnMetrics | None:
    """The metrics of the turn ``event`` ends (``ev.TurnFinished.metrics``), if measured."""
    metrics = event.metrics
    return metrics if isinstance(metrics, TurnMetrics) else None


def with_metrics(event: ev.RunEvent, metrics: TurnMetrics | None) -> ev.RunEvent:
    """``event``; a turn's end with the metrics of the turn it ends (measured up to it)."""
    if isinstance(event, ev.TurnFinished) and event.metrics is None and metrics is not None:
        return replace(event, metrics=metrics)
    return event


@dataclass(slots=True)
class SessionMetrics:
    """Aggregates finished turns, with the tutorial's global statistics."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    turns: list[TurnMetrics] = field(default_factory=list)

    def add(self, turn: TurnMetrics) -> None:
        if self.turns:
            self.turns[-1].compact()  # the newest turn keeps its gaps (the dashboard shows them)
        self.turns.append(turn)

    @property
    def interruptions(self) -> int:
        return sum(1 for t in self.turns if t.status == "interrupted")

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.turns)

    @property
    def retries(self) -> int:
        return sum(t.retries for t in self.turns)

    @property
    def recoveries(self) -> int:
        """Turns that failed at least once and still completed (the tutorial's successes)."""
        return sum(1 for t in self.turns if t.errors and t.status == "completed")

    @property
    def turns_with_errors(self) -> int:
        return sum(1 for t in self.turns if t.errors)

    def recovery_rate(self) -> float:
        """The tutorial's recovery rate: recoveries over errors (every failed attempt)."""
        return recovery_rate(self.recoveries, self.errors)

    def recovered_turn_share(self) -> float:
        """Turns that completed after an error, over the turns that met one."""
        failed_once = self.turns_with_errors
        return self.recoveries / failed_once if failed_once else 0.0

    def errors_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for turn in self.turns:
            for kind, count in turn.errors_by_kind.items():
                out[kind] = out.get(kind, 0) + count
        return out

    @property
    def total_tokens(self) -> int:
        """The tutorial's "total tokens processed": the tokens streamed to the person."""
        return sum(t.tokens for t in self.turns)

    @property
    def total_tokens_with_input(self) -> int:
        """Tokens the model read and wrote (its usage report, or the streamed count)."""
        return sum(max(t.output_tokens, t.tokens) + t.input_tokens for t in self.turns)

    def ttfts(self) -> list[float]:
        return [t.ttft_s for t in self.turns if t.ttft_s is not None]

    def rates(self) -> list[float]:
        return [t.tokens_per_s() for t in self.turns if t.tokens > 1 and not t.cached]

    def end_to_end_rates(self) -> list[float]:
        return [t.end_to_end_tokens_per_s() for t in self.turns if t.tokens > 0 and not t.cached]

    def errors_in(self, group: str) -> int:
        """Errors the tutorial's resilient system counts as ``group`` (``resilience_group``)."""
        return sum(
            n for kind, n in self.errors_by_kind().items() if resilience_group(kind) == group
        )

    def resilience_statistics(self) -> dict[str, float | int]:
        """The tutorial's "📊 Error Statistics" (``get_error_statistics``) over these turns:
        failed attempts by group, turns that recovered, its error rate and recovery rate."""
        return {
            "total_errors": self.errors,
            "network_errors": self.errors_in("network"),
            "timeout_errors": self.errors_in("timeout"),
            "agent_errors": self.errors_in("agent"),
            "recovery_successes": self.recoveries,
            "error_rate": resilience_error_rate(self.errors, self.recoveries),
            "recovery_rate": self.recovery_rate(),
        }

    def sessions_with_issues(self) -> int:
        """The tutorial's "sessions with issues": an error, or a turn that did not complete
        (interrupted, failed)."""
        return sum(1 for t in self.turns if t.errors or t.status in ("interrupted", "failed"))

    def global_stats(self) -> dict[str, float | int]:
        ttfts = self.ttfts()
        totals = [t.elapsed_s(t.finished_ns or t.started_ns) for t in self.turns]
        rates = self.rates()
        e2e = self.end_to_end_rates()
        return {
            "total_sessions": len(self.turns),
            "average_time_to_first_token": statistics.mean(ttfts) if ttfts else 0.0,
            "median_time_to_first_token": statistics.median(ttfts) if ttfts else 0.0,
            "average_total_time": statistics.mean(totals) if totals else 0.0,
            # the tutorial's (tokens over the whole request) and the model's decode rate
            "average_tokens_per_second": statistics.mean(e2e) if e2e else 0.0,
            "average_decode_tokens_per_second": statistics.mean(rates) if rates else 0.0,
            "total_tokens_processed": self.total_tokens,
            "total_tokens_with_input": self.total_tokens_with_input,
            "total_errors": self.errors,
            "total_retries": self.retries,
            "recovery_successes": self.recoveries,
            "recovery_rate": self.recovery_rate(),
            "turns_with_errors": self.turns_with_errors,
            "sessions_with_issues": self.sessions_with_issues(),
        }


def assess(turn: TurnMetrics | None, session: SessionMetrics, now_ns: int) -> list[str]:
    """What is wrong with this request, by the session's thresholds (the tutorial monitor's
    ``_assess_performance``: its first token, its tokens/s, its own error rate)."""
    limits = session.thresholds
    issues: list[str] = []
    if turn is None:
        return issues
    ttft = turn.ttft_s
    if limits.slow_first_token(ttft):
        issues.append(
            _("Slow first token: {t:.2f}s > {limit:g}s").format(t=ttft, limit=limits.max_ttft_s)
        )
    if turn.low_rate(limits, now_ns):
        issues.append(
            _("Low throughput: {rate:.1f} tok/s < {limit:g}").format(
                rate=turn.end_to_end_tokens_per_s(now_ns), limit=limits.min_tokens_per_s
            )
        )
    error_rate = turn.error_rate()
    if limits.high_error_rate(error_rate):
        issues.append(
            _("High error rate: {rate:.1%} > {limit:.0%}").format(
                rate=error_rate, limit=limits.max_error_rate
            )
        )
    return issues
