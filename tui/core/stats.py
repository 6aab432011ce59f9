"""The tutorial's statistics, from stored turns: chat statistics and performance statistics.

``/stats`` (this conversation) and ``agents-tui stats`` (every stored turn) print the same
table, built here once.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
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


def report(turns: Sequence[TurnLike], limits: Thresholds | None = None) -> list[Section]:
    limits = limits or Thresholds()
    answered = [t for t in turns if t.reply]
    chat = Section(
        "Chat statistics",
        [
            ("Total messages", f"{len(turns) + len(answered):,}"),
            ("Your messages", f"{len(turns):,}"),
            ("Assistant messages", f"{len(answered):,}"),
            (
                "Average response length",
                f"{sum(len(t.reply) for t in answered) // max(len(answered), 1):,} characters",
            ),
        ],
    )
    metrics = [t.metrics for t in turns if t.metrics]
    ttfts = [float(m["time_to_first_token_s"]) for m in metrics if m.get("time_to_first_token_s")]
    rates = [float(m["tokens_per_second"]) for m in metrics if m.get("tokens_per_second")]
    totals = [float(m["elapsed_s"]) for m in metrics if m.get("elapsed_s")]
    tokens = sum(
        int(m.get("output_tokens") or m.get("streamed_tokens") or 0)
        + int(m.get("input_tokens") or 0)
        for m in metrics
    )
    by_kind: dict[str, int] = {}
    for m in metrics:
        for kind, count in (m.get("errors_by_kind") or {}).items():
            by_kind[kind] = by_kind.get(kind, 0) + int(count)
    errors = sum(int(m.get("errors") or 0) for m in metrics)
    with_errors = [t for t in turns if int(t.metrics.get("errors") or 0)]
    recovered = [t for t in with_errors if t.status == "completed"]
    error_rate = len(with_errors) / len(turns) if turns else 0.0
    slow = sum(1 for v in ttfts if v > limits.max_ttft_s)
    sluggish = sum(1 for v in rates if v < limits.min_tokens_per_s)
    issues = []
    if slow:
        issues.append(f"{slow} with first token over {limits.max_ttft_s:g} s")
    if sluggish:
        issues.append(f"{sluggish} under {limits.min_tokens_per_s:g} tokens/s")
    if error_rate > limits.max_error_rate:
        issues.append(f"error rate over {limits.max_error_rate:.0%}")
    rows = [
        ("Turns", f"{len(turns):,}"),
        ("Average time to first token", _seconds(ttfts)),
        ("Median time to first token", f"{statistics.median(ttfts):.2f} s" if ttfts else "—"),
        ("Average tokens/second", f"{statistics.mean(rates):.1f}" if rates else "—"),
        ("Average total time", _seconds(totals)),
        ("Total tokens processed", f"{tokens:,}"),
        ("Errors", f"{errors:,}"),
    ]
    rows += [(f"  {kind}", f"{count:,}") for kind, count in sorted(by_kind.items())]
    rows += [
        ("Error rate (turns with an error)", f"{error_rate:.1%}"),
        ("Retries", f"{sum(int(m.get('retries') or 0) for m in metrics):,}"),
        (
            "Recovery rate",
            f"{len(recovered) / len(with_errors):.0%} ({len(recovered)} of {len(with_errors)})"
            if with_errors
            else "—",
        ),
        ("Interrupted turns", f"{sum(1 for t in turns if t.status == 'interrupted'):,}"),
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
