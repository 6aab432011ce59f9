"""The tutorial's statistics, from stored turns: chat statistics and performance statistics.

``/stats`` (this conversation) and ``agents-tui stats`` (every stored turn) print the same
table, built here once.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tui.core.metrics import Thresholds


class TurnLike(Protocol):
    prompt: str
    reply: str
    status: str
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: list[tuple[str, str]]


def _seconds(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f} s" if values else "—"


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
    sluggish: int = 0  # fewer tokens a second than the threshold

    def counters(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in COUNTERS}


def contribution(status: str, reply: str, metrics: dict[str, Any]) -> Totals:
    """One finished turn's share of the totals (nothing for a turn still running)."""
    if status in UNFINISHED:
        return Totals()
    ttft = metrics.get("time_to_first_token_s")
    rate = metrics.get("tokens_per_second")
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
            out.slow += int(share.ttft_sum > limits.max_ttft_s)
        if share.rate_n:
            out.sluggish += int(share.rate_sum < limits.min_tokens_per_s)
    out.median_ttft = statistics.median(ttfts) if ttfts else None
    return out


def report(turns: Sequence[TurnLike], limits: Thresholds | None = None) -> list[Section]:
    return report_of(totals_of(turns, limits), limits)


def report_of(t: Totals, limits: Thresholds | None = None) -> list[Section]:
    """The tutorial's two tables, over finished turns."""
    limits = limits or Thresholds()
    chat = Section(
        "Chat statistics",
        [
            ("Total messages", f"{t.turns + t.answered:,}"),
            ("Your messages", f"{t.turns:,}"),
            ("Assistant messages", f"{t.answered:,}"),
            (
                "Average response length",
                f"{t.reply_chars // max(t.answered, 1):,} characters",
            ),
        ],
    )
    error_rate = t.with_errors / t.turns if t.turns else 0.0
    issues = []
    if t.slow:
        issues.append(f"{t.slow} with first token over {limits.max_ttft_s:g} s")
    if t.sluggish:
        issues.append(f"{t.sluggish} under {limits.min_tokens_per_s:g} tokens/s")
    if error_rate > limits.max_error_rate:
        issues.append(f"error rate over {limits.max_error_rate:.0%}")

    def mean(total: float, count: int, unit: str = " s", digits: int = 2) -> str:
        return f"{total / count:.{digits}f}{unit}" if count else "—"

    rows = [
        ("Turns", f"{t.turns:,}"),
        ("Average time to first token", mean(t.ttft_sum, t.ttft_n)),
        (
            "Median time to first token",
            f"{t.median_ttft:.2f} s" if t.median_ttft is not None else "—",
        ),
        ("Average tokens/second", mean(t.rate_sum, t.rate_n, "", 1)),
        ("Average total time", mean(t.elapsed_sum, t.elapsed_n)),
        ("Total tokens processed", f"{t.tokens:,}"),
        ("Errors", f"{t.errors:,}"),
    ]
    rows += [(f"  {kind}", f"{count:,}") for kind, count in sorted(t.errors_by_kind.items())]
    rows += [
        ("Error rate (turns with an error)", f"{error_rate:.1%}"),
        ("Retries", f"{t.retries:,}"),
        (
            "Recovery rate",
            f"{t.recovered / t.with_errors:.0%} ({t.recovered} of {t.with_errors})"
            if t.with_errors
            else "—",
        ),
        ("Interrupted turns", f"{t.interrupted:,}"),
        ("Performance issues", "; ".join(issues) if issues else "none"),
    ]
    return [chat, Section("Performance statistics", rows)]


def as_text(sections: list[Section]) -> str:
    """Aligned plain text: label, then value (the TUI note and the terminal share it)."""
    width = max((len(label) for s in sections for label, _ in s.rows), default=0)
    blocks = []
    for section in sections:
        lines = [section.title]
        lines += [f"  {label.ljust(width)}  {value}" for label, value in section.rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def as_json(sections: list[Section]) -> dict[str, dict[str, str]]:
    return {s.title: dict(s.rows) for s in sections}
