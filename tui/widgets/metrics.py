"""The live metrics sidebar: this turn, this session, and what is wrong.

Attributes down: the chat screen binds the turn's metrics (the conversation's
``TurnMetrics``, computed in the core) to ``turn`` when a turn starts and sets ``live``
while it runs; the sidebar draws on each change. While a turn is live it also redraws on a
clock, at most 4 times a second (``REFRESH_S``), because most of what it shows (rates,
elapsed time, approval wait) changes with time, not only with events; so a fast stream
never costs more than four sidebar paints a second, and an idle app none.

The pace row says how a reply's text reaches the screen (``--pace``, ``/pace``): ``off``, a
fixed number of words a second, or ``auto`` with the words a second it has reached; the chat
screen's pacing (``tui.screens.chat_pacing``) sets it with ``show_pace``.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Label, Sparkline, Static

from tui.core.i18n import _, ngettext
from tui.core.observe.metrics import SessionMetrics, TurnMetrics, assess

REFRESH_S = 0.25  # 4 paints a second while a turn runs


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


class MetricsSidebar(VerticalScroll):
    BORDER_TITLE = "Metrics"

    # The running (or last) turn's metrics; every new turn is drawn at once.
    turn: var[TurnMetrics | None] = var(None, always_update=True, init=False)
    # A turn is running: redraw on the clock (values that change with time).
    live: var[bool] = var(False, init=False)

    def __init__(
        self,
        session: SessionMetrics,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.session = session
        self._clock: Timer | None = None
        self._rows_shown: dict[str, int] = {}  # rows each view shows: relayout when it changes
        self._shown_session: tuple[int, int, int] | None = None
        self._alert_text: str | None = None
        self._turn_view = Static(id="turn-metrics")
        self._session_view = Static(id="session-metrics")
        self._alerts = Static(id="metric-alerts")
        self._pace_view = Static(id="pace")
        self._pace_text: str | None = None
        self._spark = Sparkline([], id="tps-sparkline")

    def compose(self) -> ComposeResult:
        yield Label(_("This turn"), classes="section")
        yield self._turn_view
        yield self._pace_view
        yield Label(_("Session"), classes="section")
        yield self._session_view
        yield Label(_("tokens/s, recent turns"), classes="section")
        yield self._spark
        yield self._alerts

    def on_mount(self) -> None:
        self.border_title = _("Metrics")
        self.render_now()
        if self._pace_text is None:
            self.show_pace(None)  # until the chat screen says otherwise
        self._clock = self.set_interval(REFRESH_S, self.render_now, pause=not self.live)

    def show_pace(self, wps: float | None, *, auto: bool = False) -> None:
        """The pace row: ``wps`` None is off; ``auto`` names the rate it has reached."""
        if wps is None:
            value = _("off")
        elif auto:
            value = _("auto {wps:.0f} w/s").format(wps=wps)
        else:
            value = _("{wps:g} w/s").format(wps=wps)
        if value == self._pace_text:
            return  # the same words: no repaint
        self._pace_text = value
        rows = _Rows()
        rows.add(_("pace"), value)
        self._pace_view.update(rows.text)

    def watch_turn(self) -> None:
        if self.is_mounted:
            self.render_now()

    def watch_live(self, live: bool) -> None:
        if self._clock is None:
            return  # not mounted yet: the clock starts in the state ``live`` says
        if live:
            self._clock.resume()
        else:
            self._clock.pause()

    def _update(self, view: Static, rows: _Rows) -> None:
        """Relayout only when the number of rows changes; values alone repaint in place."""
        key = view.id or ""
        same = self._rows_shown.get(key) == rows.count
        self._rows_shown[key] = rows.count
        view.update(rows.text, layout=not same)

    def render_now(self) -> None:
        now = time.perf_counter_ns()
        limits = self.session.thresholds
        turn = self.turn
        rows = _Rows()
        if turn is None:
            rows.add(_("waiting"), _("for a prompt"))
        else:
            ttft = turn.ttft_s
            rate = turn.end_to_end_tokens_per_s(now)  # the tutorial's, and its threshold's
            slow = limits.slow_first_token(ttft)
            low = turn.low_rate(limits, now)  # the same rule as the alert below
            rows.add(_("TTFT"), _fmt_s(ttft), "bold red" if slow else "bold")
            if turn.cached:  # replayed from the response cache: no rates were measured
                for label in (_("tokens/s"), _("decode tok/s"), _("ITL p50"), _("ITL p95")):
                    rows.add(label, _("cached"))
            else:
                rows.add(_("tokens/s"), f"{rate:,.1f}", "bold red" if low else "bold")
                rows.add(_("decode tok/s"), f"{turn.tokens_per_s(now):,.1f}")
                rows.add(_("ITL p50"), f"{turn.itl_ms(0.5):.1f} ms")
                rows.add(_("ITL p95"), f"{turn.itl_ms(0.95):.1f} ms")
            rows.add(_("tokens"), f"{turn.tokens:,}")
            rows.add(_("events"), f"{turn.events:,} ({turn.events_per_s(now):,.0f}/s)")
            rows.add(_("model calls"), str(turn.model_calls))
            rows.add(_("tool calls"), str(turn.tool_calls))
            rows.add(_("usage in/out"), f"{turn.input_tokens:,} / {turn.output_tokens:,}")
            rows.add(_("errors"), str(turn.errors), "bold red" if turn.errors else "")
            rows.add(_("retries"), str(turn.retries))
            if turn.context_tokens:
                rows.add(_("context sent"), context_size(turn))
                left_out = context_left_out(turn)
                if left_out:
                    rows.add(_("left out"), left_out, "yellow")
            waited = turn.approval_wait_s(now)
            if waited or turn.approvals or turn.rejections:
                style = "bold yellow" if turn.waiting else ""
                rows.add(_("approval wait"), _fmt_s(waited), style)
                rows.add(_("approved"), f"{turn.approvals} ✔ {turn.rejections} ✖")
            rows.add(_("elapsed"), _fmt_s(turn.elapsed_s(now)))
        self._update(self._turn_view, rows)
        if self._session_key() != self._shown_session:
            self._render_session()
        issues = assess(turn, self.session, now)
        alert_text = "\n".join(f"⚠ {issue}" for issue in issues)
        if alert_text != self._alert_text:  # changes rarely; relayout then
            self._alert_text = alert_text
            self._alerts.set_class(bool(issues), "-alert")
            self._alerts.update(Text(alert_text))

    def _session_key(self) -> tuple[int, int, int]:
        return (len(self.session.turns), self.session.errors, self.session.interruptions)

    def _render_session(self) -> None:
        """Session numbers change only when a turn ends."""
        self._shown_session = self._session_key()
        stats = self.session.global_stats()
        rows = _Rows()
        rows.add(_("turns"), str(stats["total_sessions"]))
        rows.add(_("avg TTFT"), _fmt_s(float(stats["average_time_to_first_token"]) or None))
        rows.add(_("median TTFT"), _fmt_s(float(stats["median_time_to_first_token"]) or None))
        rows.add(_("avg tokens/s"), f"{stats['average_tokens_per_second']:,.1f}")
        rows.add(_("avg decode tok/s"), f"{stats['average_decode_tokens_per_second']:,.1f}")
        rows.add(_("total tokens"), f"{stats['total_tokens_processed']:,}")
        errors = self.session.errors
        rows.add(_("errors"), str(errors), "bold red" if errors else "")
        for kind, count in sorted(self.session.errors_by_kind().items()):
            rows.add(f"  {kind}", str(count), "red")
        rows.add(_("retries"), str(self.session.retries))
        if errors:
            rate = self.session.recovery_rate()  # the tutorial's: recoveries over errors
            rows.add(
                _("recovered"),
                _("{n} ({rate:.0%} of errors)").format(n=self.session.recoveries, rate=rate),
            )
        rows.add(_("interruptions"), str(self.session.interruptions))
        # the tutorial monitor's "sessions with issues" (here each turn is one of its sessions)
        issues = int(stats["sessions_with_issues"])
        rows.add(_("with issues"), str(issues), "yellow" if issues else "")
        self._update(self._session_view, rows)
        rates = self.session.rates()[-30:]
        self._spark.set_class(not rates, "hidden")
        self._spark.data = rates


def context_size(turn: TurnMetrics) -> str:
    """Tokens the last request carried, and of how many (``~`` when estimated)."""
    sent = f"{turn.context_tokens:,}"
    return f"{sent} / {turn.context_window:,}" if turn.context_window else sent


def context_left_out(turn: TurnMetrics) -> str:
    if turn.context_dropped_turns:
        count = turn.context_dropped_turns
        return ngettext("{n} earlier turn", "{n} earlier turns", count).format(n=count)
    if turn.context_dropped_messages:
        count = turn.context_dropped_messages
        return ngettext("{n} message", "{n} messages", count).format(n=count)
    return ""


class _Rows:
    """Label/value lines as one Text: a fraction of a Rich Table's cost at 4 paints a second."""

    LABEL = 14
    WIDTH = 29  # label and value together: the sidebar's inner width, less one

    def __init__(self) -> None:
        self.text = Text()
        self.count = 0

    def add(self, label: str, value: str, style: str = "") -> None:
        if self.count:
            self.text.append("\n")
        self.text.append(label.ljust(self.LABEL), style="dim")
        # a longer label (a translation, "avg decode tok/s") takes from the value's padding
        width = max(len(value), self.WIDTH - max(self.LABEL, len(label)))
        self.text.append(value.rjust(width), style=style)
        self.count += 1
