"""F2: the performance dashboard draws real charts from the store."""

from tests.app.helpers import make_app, send, wait_idle, wait_until
from tests.scripts import text_step
from tui.core.observe.dashboard import load, thin
from tui.core.store import Store


def test_thinning_keeps_the_shape_in_few_points():
    xs = [float(i) for i in range(10_000)]
    series = thin(xs, [x * 2 for x in xs], limit=100)
    assert len(series.x) == 100
    assert series.y[0] < 200 and series.y[-1] > 19_700  # still rises end to end


async def test_f2_opens_the_dashboard_with_this_conversations_turns():
    app, _ = make_app([text_step(["a ", "b ", "c"]), text_step(["d ", "e"])])
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "one")
        await wait_idle(pilot)
        await send(pilot, "two")
        await wait_idle(pilot)
        await pilot.press("f2")
        from textual_plotext import PlotextPlot

        from tui.screens.dashboard import DashboardScreen

        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")

        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        title = str(screen.query_one("#dashboard-title").render())
        assert "this conversation · 2 turns" in title
        plots = screen.query(PlotextPlot)
        assert len(plots) == 4
        text = "\n".join(
            line.text for plot in plots for line in plot.render_lines(plot.region.reset_offset)
        )
        assert "Time to first token per turn" in text and "Tokens per second" in text
        assert "Inter-token latency" in text
        await pilot.press("a")
        title = screen.query_one("#dashboard-title")
        await wait_until(pilot, lambda: "all stored turns" in str(title.render()), "scope: all")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, DashboardScreen), "closed")


def test_dashboard_data_reads_only_metrics_and_counts_errors(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.ensure_conversation("c")
    for i in range(300):
        turn = store.start_turn("c", f"p{i}")
        metrics = {
            "time_to_first_token_s": 0.5 + (i % 5),
            "tokens_per_second": 20.0,
            "errors_by_kind": {"network": 1} if i % 10 == 0 else {},
            "retries": 1 if i % 10 == 0 else 0,
        }
        store.finish_turn(
            turn, reply="r", status="completed", error=None, tools=[], metrics=metrics
        )
    data = load(store, "c")
    assert data.turns == 300
    assert len(data.ttft.x) == 240  # thinned
    assert max(data.ttft.y) > 2.0  # the slow turns are visible above the 2 s line
    assert sum(data.errors_by_kind["network"].y) > 0 and sum(data.retries.y) > 0


def test_the_latency_distribution_counts_the_real_gaps_of_every_stored_turn(tmp_path):
    from tui.core import events as ev
    from tui.core.observe.metrics import TurnMetrics

    store = Store(tmp_path / "db.sqlite")
    store.ensure_conversation("c")
    ms = 1_000_000
    for gaps_ms in ([3] * 50, [3] * 10 + [700] * 5):  # a fast turn, then one with long gaps
        metrics = TurnMetrics(started_ns=0)
        metrics.observe(ev.ModelCallStarted(0))
        at = 0
        metrics.observe(ev.TextDelta("x", at))
        for gap in gaps_ms:
            at += gap * ms
            metrics.observe(ev.TextDelta("x", at))
        metrics.observe(ev.TurnFinished("completed", "", at))
        turn = store.start_turn("c", "p")
        store.finish_turn(
            turn, reply="r", status="completed", error=None, tools=[], metrics=metrics.summary(at)
        )
    data = load(store, "c")
    counts = dict(zip(data.itl_labels, data.itl_histogram, strict=True))
    assert counts["<5"] == 60 and counts["<1k"] == 5 and sum(counts.values()) == 65
    assert data.itl_source == "65 gaps of 2 turns"  # not the last turn's two percentiles
