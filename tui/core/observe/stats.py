"""The tutorial's statistics, from stored turns: chat statistics, performance statistics and
the monitor's global statistics.

``/stats`` (this conversation), ``agents-tui stats`` and ``GET /v1/stats`` (every stored turn)
show the same table, built here once, from the figures ``tui.core.observe.metrics`` defines.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from tui.core.i18n import _
from tui.core.observe.metrics import MetricsSummary, Thresholds, recovery_rate, turn_error_share


class TurnLike(Protocol):
    prompt: str
    reply: str
    status: str
    metrics: MetricsSummary


@dataclass(frozen=True, slots=True)
class Row:
    """A figure: its key and value for ``--json`` (a number, or None when unknown), its label
    and ``form`` (a ``str.format`` of ``value``) for the table."""

    key: str
    label: str
    value: float | int | str | None
    form: str = "{value:,}"

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        if isinstance(self.value, str):
            return self.value
        return self.form.format(value=self.value)


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    rows: list[Row]


# Kept per conversation and for the whole store, updated when a turn ends (see
# ``Store.totals``): reading statistics costs the same at 10 turns and at 10,000.
COUNTERS = (
    "turns",
    "completed",
    "answered",
    "reply_chars",
    "ttft_n",
    "ttft_sum",
    "rate_n",
    "rate_sum",
    "e2e_rate_n",
    "e2e_rate_sum",
    "streamed",
    "elapsed_n",
    "elapsed_sum",
    "tokens",
    "errors",
    "retries",
    "with_errors",
    "recovered",
    "interrupted",
)
UNFINISHED = ("running", "awaiting_approval")


@dataclass(slots=True)
class Totals:
    """What the statistics are computed from: sums and counts, plus what needs an order
    (the median, counts past a threshold) filled in by whoever holds the values."""

    turns: int = 0
    completed: int = 0
    answered: int = 0
    reply_chars: int = 0
    ttft_n: int = 0
    ttft_sum: float = 0.0
    rate_n: int = 0
    rate_sum: float = 0.0
    e2e_rate_n: int = 0  # the tutorial's tokens/s: over the whole request
    e2e_rate_sum: float = 0.0
    streamed: int = 0  # tokens streamed to the person (the tutorial's total)
    elapsed_n: int = 0
    elapsed_sum: float = 0.0
    tokens: int = 0
    errors: int = 0
    retries: int = 0
    with_errors: int = 0
    recovered: int = 0
    interrupted: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    median_ttft: float | None = None
    slow: int = 0  # first token later than the threshold
    sluggish: int = 0  # the tutorial's tokens/s under the threshold (Thresholds.low_rate)

    def counters(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COUNTERS}


def contribution(status: str, reply: str, metrics: MetricsSummary) -> Totals:
    """One finished turn's share of the totals (nothing for a turn still running)."""
    if status in UNFINISHED:
        return Totals()
    ttft = metrics.get("time_to_first_token_s")
    rate = metrics.get("tokens_per_second")
    e2e = metrics.get("end_to_end_tokens_per_second")
    elapsed = metrics.get("elapsed_s")
    errors = int(metrics.get("errors") or 0)
    return Totals(
        turns=1,
        completed=int(status == "completed"),
        answered=int(bool(reply)),
        reply_chars=len(reply),
        ttft_n=int(bool(ttft)),
        ttft_sum=float(ttft or 0.0),
        rate_n=int(bool(rate)),
        rate_sum=float(rate or 0.0),
        e2e_rate_n=int(bool(e2e)),
        e2e_rate_sum=float(e2e or 0.0),
        streamed=int(metrics.get("streamed_tokens") or 0),
        elapsed_n=int(bool(elapsed)),
        elapsed_sum=float(elapsed or 0.0),
        tokens=int(metrics.get("output_tokens") or metrics.get("streamed_tokens") or 0)
        + int(metrics.get("input_tokens") or 0),
        errors=errors,
        retries=int(metrics.get("retries") or 0),
        with_errors=int(errors > 0),
        recovered=int(errors > 0 and status == "completed"),
        interrupted=int(status == "interrupted"),
        errors_by_kind={k: int(v) for k, v in (metrics.get("errors_by_kind") or {}).items()},
    )


def totals_of(turns: Sequence[TurnLike], limits: Thresholds | None = None) -> Totals:
    """The totals of these turns, computed from each (the store keeps them instead)."""
    limits = limits or Thresholds()
    out = Totals()
    ttfts: list[float] = []
    for turn in turns:
        share = contribution(turn.status, turn.reply, turn.metrics)
        for name in COUNTERS:
            setattr(out, name, getattr(out, name) + getattr(share, name))
        for kind, count in share.errors_by_kind.items():
            out.errors_by_kind[kind] = out.errors_by_kind.get(kind, 0) + count
        if share.ttft_n:
            ttfts.append(share.ttft_sum)
            out.slow += int(limits.slow_first_token(share.ttft_sum))
        # the tutorial's threshold is on its own rate (the store counts the same by index)
        out.sluggish += int(limits.low_rate(share.e2e_rate_sum))
    out.median_ttft = statistics.median(ttfts) if ttfts else None
    return out


def report(turns: Sequence[TurnLike], limits: Thresholds | None = None) -> list[Section]:
    return report_of(totals_of(turns, limits), limits)


def report_of(t: Totals, limits: Thresholds | None = None) -> list[Section]:
    """The tutorial's two tables, over finished turns, by the tutorial's definitions (its
    tokens/s over the whole request, its recovery rate over errors, its token count of what
    was streamed), with agents-tui's own figures beside them, labelled."""
    limits = limits or Thresholds()
    chat = Section(
        "chat_statistics",
        _("Chat statistics"),
        [
            Row("total_messages", _("Total messages"), t.turns + t.answered),
            Row("your_messages", _("Your messages"), t.turns),
            Row("assistant_messages", _("Assistant messages"), t.answered),
            Row(
                "average_response_length",
                _("Average response length"),
                t.reply_chars // max(t.answered, 1),
                _("{value:,} characters"),
            ),
        ],
    )
    # Ours, not the monitor's error rate (errors over a request's events, judged per request
    # in the sidebar and response_complete): the share of turns that met an error.
    with_errors_share = turn_error_share(t.with_errors, t.turns)
    issues = []
    if t.slow:
        issues.append(_("{n} with first token over {s:g} s").format(n=t.slow, s=limits.max_ttft_s))
    if t.sluggish:
        issues.append(_("{n} under {r:g} tokens/s").format(n=t.sluggish, r=limits.min_tokens_per_s))
    if t.with_errors:
        issues.append(_("{n} with an error").format(n=t.with_errors))

    def mean(total: float, count: int) -> float | None:
        return total / count if count else None

    seconds, rate = _("{value:.2f} s"), _("{value:.1f}")
    rows = [
        Row("turns", _("Turns"), t.turns),
        Row(
            "average_time_to_first_token_s",
            _("Average time to first token"),
            mean(t.ttft_sum, t.ttft_n),
            seconds,
        ),
        Row(
            "median_time_to_first_token_s", _("Median time to first token"), t.median_ttft, seconds
        ),
        Row(
            "average_tokens_per_second",
            _("Average tokens/second (over the whole request)"),
            mean(t.e2e_rate_sum, t.e2e_rate_n),
            rate,
        ),
        Row(
            "average_decode_tokens_per_second",
            _("Average decode tokens/second (while streaming)"),
            mean(t.rate_sum, t.rate_n),
            rate,
        ),
        Row(
            "average_total_time_s",
            _("Average total time"),
            mean(t.elapsed_sum, t.elapsed_n),
            seconds,
        ),
        Row("total_tokens_processed", _("Total tokens processed (streamed)"), t.streamed),
        Row("total_tokens_with_input", _("Tokens read and written (with input)"), t.tokens),
        Row("errors", _("Errors"), t.errors),
    ]
    rows += [
        Row(f"errors_{kind}", f"  {kind}", count)
        for kind, count in sorted(t.errors_by_kind.items())
    ]
    rows += [
        Row(
            "turns_with_errors_share",
            _("Turns with an error (ours, not the monitor's error rate)"),
            with_errors_share,
            "{value:.1%}",
        ),
        Row("retries", _("Retries"), t.retries),
        Row("recovery_successes", _("Recovered turns"), t.recovered),
        Row(
            "recovery_rate",
            _("Recovery rate (recoveries / errors)"),
            recovery_rate(t.recovered, t.errors) if t.errors else None,
            "{value:.0%}",
        ),
        Row(
            "recovered_turn_share",
            _("Turns with an error that completed"),
            t.recovered / t.with_errors if t.with_errors else None,
            f"{{value:.0%}} ({t.recovered}/{t.with_errors})",
        ),
        Row("interrupted_turns", _("Interrupted turns"), t.interrupted),
        Row(
            "performance_issues",
            _("Performance issues"),
            "; ".join(issues) if issues else _("none"),
        ),
    ]
    return [chat, Section("performance_statistics", _("Performance statistics"), rows)]


def global_statistics(figures: Mapping[str, float | int], now: datetime | None = None) -> Section:
    """The tutorial monitor's ``get_global_stats`` counts over the whole store
    (``Store.global_stats``): its sessions (conversations), the turns, the sessions with
    issues (an error, or a turn that did not complete) and ``last_updated``: when these
    figures were read (ISO 8601, UTC), as the tutorial stamps them."""
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return Section(
        "global_statistics",
        _("Global statistics"),
        [
            Row("total_sessions", _("Total sessions"), int(figures.get("total_sessions", 0))),
            Row("total_turns", _("Turns"), int(figures.get("total_turns", 0))),
            Row(
                "sessions_with_issues",
                _("Sessions with issues"),
                int(figures.get("sessions_with_issues", 0)),
            ),
            Row("last_updated", _("Last updated"), stamp),
        ],
    )


def as_text(sections: list[Section]) -> str:
    """Aligned plain text: label, then value (the TUI note and the terminal share it)."""
    width = max((len(row.label) for s in sections for row in s.rows), default=0)
    blocks = []
    for section in sections:
        lines = [section.title]
        lines += [f"  {row.label.ljust(width)}  {row.text}" for row in section.rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def as_json(sections: list[Section]) -> dict[str, dict[str, float | int | str | None]]:
    """Numbers as numbers (seconds, tokens/s, fractions), keys that do not change with the
    interface's language; ``null`` for a figure with nothing to measure yet."""
    out: dict[str, dict[str, float | int | str | None]] = {}
    for section in sections:
        values: dict[str, float | int | str | None] = {}
        for row in section.rows:
            value = row.value
            values[row.key] = round(value, 6) if isinstance(value, float) else value
        out[section.key] = values
    return out
