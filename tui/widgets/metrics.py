"""The live metrics sidebar: this turn, this session, and what is wrong.

It reads the core's metric objects (attributes down) on its own 10 Hz timer, so a
fast stream never costs more than ten sidebar paints a second.
"""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Sparkline, Static

from tui.core.metrics import SessionMetrics, TurnMetrics, assess

REFRESH_S = 0.1


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


class MetricsSidebar(VerticalScroll):
    BORDER_TITLE = "Metrics"

    def __init__(self, session: SessionMetrics, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.session = session
        self.turn: TurnMetrics | None = None
        self.live = False
        self._turn_view = Static(id="turn-metrics")
        self._session_view = Static(id="session-metrics")
        self._alerts = Static(id="metric-alerts")
        self._spark = Sparkline([], id="tps-sparkline")

    def compose(self) -> ComposeResult:
        yield Label("This turn", classes="section")
        yield self._turn_view
        yield Label("Session", classes="section")
        yield self._session_view
        yield Label("tokens/s, recent turns", classes="section")
        yield self._spark
        yield self._alerts

    def on_mount(self) -> None:
        self.render_now()
        self.set_interval(REFRESH_S, self._tick)

    def _tick(self) -> None:
        if self.live:
            self.render_now()

    def render_now(self) -> None:
        now = time.perf_counter_ns()
        limits = self.session.thresholds
        turn = self.turn
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim")
        table.add_column(justify="right")
        if turn is None:
            table.add_row("waiting", "for a prompt")
        else:
            ttft = turn.ttft_s
            rate = turn.tokens_per_s(now)
            slow = ttft is not None and ttft > limits.max_ttft_s
            low = turn.tokens > 1 and rate < limits.min_tokens_per_s
            table.add_row("TTFT", Text(_fmt_s(ttft), style="bold red" if slow else "bold"))
            table.add_row("tokens/s", Text(f"{rate:,.1f}", style="bold red" if low else "bold"))
            table.add_row("ITL p50", f"{turn.itl_ms(0.5):.1f} ms")
            table.add_row("ITL p95", f"{turn.itl_ms(0.95):.1f} ms")
            table.add_row("tokens", f"{turn.tokens:,}")
            table.add_row("events", f"{turn.events:,} ({turn.events_per_s(now):,.0f}/s)")
            table.add_row("model calls", str(turn.model_calls))
            table.add_row("tool calls", str(turn.tool_calls))
            table.add_row("usage in/out", f"{turn.input_tokens:,} / {turn.output_tokens:,}")
            table.add_row("errors", Text(str(turn.errors), style="bold red" if turn.errors else ""))
            table.add_row("retries", str(turn.retries))
            table.add_row("elapsed", _fmt_s(turn.elapsed_s(now)))
        self._turn_view.update(table)

        stats = self.session.global_stats()
        sess = Table.grid(padding=(0, 1))
        sess.add_column(style="dim")
        sess.add_column(justify="right")
        sess.add_row("turns", str(stats["total_sessions"]))
        sess.add_row("avg TTFT", _fmt_s(float(stats["average_time_to_first_token"]) or None))
        sess.add_row("median TTFT", _fmt_s(float(stats["median_time_to_first_token"]) or None))
        sess.add_row("avg tokens/s", f"{stats['average_tokens_per_second']:,.1f}")
        sess.add_row("total tokens", f"{stats['total_tokens_processed']:,}")
        errors = self.session.errors
        sess.add_row("errors", Text(str(errors), style="bold red" if errors else ""))
        for kind, count in sorted(self.session.errors_by_kind().items()):
            sess.add_row(f"  {kind}", Text(str(count), style="red"))
        sess.add_row("retries", str(self.session.retries))
        if errors:
            rate = self.session.recovery_rate()
            sess.add_row("recovered", f"{self.session.recoveries} ({rate:.0%})")
        sess.add_row("interruptions", str(self.session.interruptions))
        self._session_view.update(sess)
        rates = self.session.rates()[-30:]
        self._spark.set_class(not rates, "hidden")
        self._spark.data = rates

        issues = assess(turn, self.session, now)
        self._alerts.set_class(bool(issues), "-alert")
        self._alerts.update(Text("\n".join(f"⚠ {issue}" for issue in issues)))
