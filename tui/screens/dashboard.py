"""F2 / /dashboard: the tutorial's performance dashboard as charts (textual-plotext)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from tui.core.i18n import N_, _
from tui.core.observe.dashboard import DashboardData, load
from tui.core.observe.metrics import Thresholds
from tui.localized import localized

if TYPE_CHECKING:
    from tui.core.store import Store


@localized
class DashboardScreen(ModalScreen[None]):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("escape,f2,q", "close", N_("close")),
        Binding("a", "toggle_scope", N_("this conversation / all turns")),
    ]

    def __init__(
        self,
        store: Store,
        conversation_id: str | None,
        live_gaps_s: list[float] | None,
        *,
        all_turns: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.conversation_id = conversation_id
        self.live_gaps_s = live_gaps_s
        self.all_turns = all_turns or conversation_id is None
        self.limits = Thresholds()

    def compose(self) -> ComposeResult:
        yield Static("", id="dashboard-title")
        with Grid(id="charts"):
            yield PlotextPlot(id="ttft")
            yield PlotextPlot(id="rate")
            yield PlotextPlot(id="itl")
            yield PlotextPlot(id="errors")
        yield Footer()

    def on_mount(self) -> None:
        self.draw()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_scope(self) -> None:
        if self.conversation_id is not None:
            self.all_turns = not self.all_turns
            self.draw()

    def draw(self) -> None:
        scope = None if self.all_turns else self.conversation_id
        data = load(self.store, scope, self.live_gaps_s)
        label = _("all stored turns") if scope is None else _("this conversation")
        self.query_one("#dashboard-title", Static).update(
            _("Performance dashboard · {scope} · {n:,} turns   (a: switch, Esc: close)").format(
                scope=label, n=data.turns
            )
        )
        self._ttft(data)
        self._rate(data)
        self._itl(data)
        self._errors(data)

    def _ttft(self, data: DashboardData) -> None:
        widget = self.query_one("#ttft", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(_("Time to first token per turn (s)"))
        if data.ttft.x:
            plt.plot(data.ttft.x, data.ttft.y, marker="braille", label="TTFT")
            plt.hline(self.limits.max_ttft_s, "red")
        plt.xlabel("turn")
        widget.refresh()

    def _rate(self, data: DashboardData) -> None:
        widget = self.query_one("#rate", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(_("Tokens per second per turn"))
        if data.rate.x:
            plt.plot(data.rate.x, data.rate.y, marker="braille", label="tokens/s")
            plt.hline(self.limits.min_tokens_per_s, "red")
        plt.xlabel("turn")
        widget.refresh()

    def _itl(self, data: DashboardData) -> None:
        widget = self.query_one("#itl", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(_("Inter-token latency, ms ({source})").format(source=data.itl_source))
        if data.itl_histogram:  # every stored turn's gaps, counted per bucket
            # horizontal: a row per bucket, every label shown (a vertical chart drops some,
            # and which ones moved from one draw to the next)
            plt.bar(data.itl_labels, data.itl_histogram, orientation="horizontal")
            plt.ylabel(_("ms between tokens"))
        elif data.itl_ms and not data.itl_percentiles:
            plt.hist(data.itl_ms, bins=min(30, max(1, len(data.itl_ms))))
            plt.xlabel(_("ms between tokens"))
        elif data.itl_ms:
            plt.bar(["p50", "p95"][: len(data.itl_ms)], data.itl_ms)
        else:
            plt.title(_("Inter-token latency: no streamed turn yet"))
        widget.refresh()

    def _errors(self, data: DashboardData) -> None:
        widget = self.query_one("#errors", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(_("Errors by class and retries per turn"))
        if not data.errors_by_kind and not any(data.retries.y):
            plt.title(_("Errors by class and retries per turn: none"))
        for kind, series in data.errors_by_kind.items():
            plt.plot(series.x, series.y, marker="braille", label=kind)
        if data.retries.x and any(data.retries.y):
            plt.plot(data.retries.x, data.retries.y, marker="braille", label=_("retries"))
        plt.xlabel("turn")
        widget.refresh()
