"""The numbers behind the performance dashboard (F2), from stored turns' metrics (read
through the store's public face, ``Store.turn_metrics``, on either backend); no drawing
here.

Series are thinned to at most ``MAX_POINTS`` buckets (means per bucket) so that a chart of
10,000 turns costs what a chart of a few hundred does: a terminal cannot show more anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tui.core.i18n import _
from tui.core.observe.metrics import (
    ITL_EDGES_MS,
    MetricsSummary,
    itl_bucket_labels,
    tutorial_rate_of,
)

MAX_POINTS = 240


@dataclass(slots=True)
class Series:
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)


@dataclass(slots=True)
class DashboardData:
    turns: int
    ttft: Series
    rate: Series
    errors_by_kind: dict[str, Series]
    retries: Series
    itl_ms: list[float]  # the last turn's inter-token gaps, or its stored p50 and p95
    itl_source: str
    itl_percentiles: bool = False  # True: itl_ms is [p50, p95], not the gaps themselves
    # Gaps of every turn in scope, counted per bucket (tui.core.observe.metrics.ITL_EDGES_MS).
    itl_histogram: list[int] = field(default_factory=list)
    itl_labels: list[str] = field(default_factory=list)


def thin(xs: list[float], ys: list[float], limit: int = MAX_POINTS) -> Series:
    """Bucket means: the shape of a long series in at most ``limit`` points."""
    if len(xs) <= limit:
        return Series(list(xs), list(ys))
    out = Series()
    size = len(xs) / limit
    for bucket in range(limit):
        lo, hi = int(bucket * size), max(int((bucket + 1) * size), int(bucket * size) + 1)
        out.x.append(sum(xs[lo:hi]) / (hi - lo))
        out.y.append(sum(ys[lo:hi]) / (hi - lo))
    return out


class MetricsSource(Protocol):
    """Where the turns' metrics come from: the store (``Store.turn_metrics``)."""

    def turn_metrics(self, conversation_id: str | None = None) -> list[MetricsSummary]: ...


def load(
    store: MetricsSource, conversation_id: str | None, live_gaps_s: list[float] | None = None
) -> DashboardData:
    """Read only the metrics column (not replies or tool calls): fast on a big store."""
    metrics = store.turn_metrics(conversation_id)
    index = [float(i + 1) for i in range(len(metrics))]
    ttft = [
        (i, float(t))
        for i, m in zip(index, metrics, strict=True)
        if (t := m.get("time_to_first_token_s"))
    ]
    rate = [  # the tutorial's tokens/s, the rate its 10 tokens/s line is drawn for
        (i, float(r)) for i, m in zip(index, metrics, strict=True) if (r := tutorial_rate_of(m))
    ]
    ttft_x, ttft_y = [i for i, _t in ttft], [t for _i, t in ttft]
    rate_x, rate_y = [i for i, _r in rate], [r for _i, r in rate]
    kinds = sorted({k for m in metrics for k in (m.get("errors_by_kind") or {})})
    errors = {
        kind: thin(index, [float((m.get("errors_by_kind") or {}).get(kind, 0)) for m in metrics])
        for kind in kinds
    }
    retries = thin(index, [float(m.get("retries") or 0) for m in metrics])
    histogram = [0] * (len(ITL_EDGES_MS) + 1)
    counted = 0
    for m in metrics:
        counts = m.get("itl_histogram")
        if isinstance(counts, list) and len(counts) == len(histogram):
            counted += 1
            for i, count in enumerate(counts):
                histogram[i] += int(count or 0)
    if live_gaps_s:
        itl = [gap * 1000 for gap in live_gaps_s]
        source = _("last turn of this session")
    else:
        last: MetricsSummary = next(
            (m for m in reversed(metrics) if m.get("inter_token_latency_p50_ms")),
            MetricsSummary(),
        )
        itl = [
            float(last.get("inter_token_latency_p50_ms") or 0),
            float(last.get("inter_token_latency_p95_ms") or 0),
        ]
        itl = [v for v in itl if v]
        source = _("last stored turn (p50 and p95 only)")
    gaps = sum(histogram)
    if gaps:  # every stored turn's real gaps, in place of one turn's
        itl, source = [], _("{gaps:,} gaps of {turns:,} turns").format(gaps=gaps, turns=counted)
    return DashboardData(
        turns=len(metrics),
        ttft=thin(ttft_x, ttft_y),
        rate=thin(rate_x, rate_y),
        errors_by_kind=errors,
        retries=retries,
        itl_ms=itl,
        itl_source=source,
        itl_histogram=histogram if gaps else [],
        itl_labels=itl_bucket_labels() if gaps else [],
    )
