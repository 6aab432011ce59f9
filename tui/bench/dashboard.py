"""F2 on a big store: time from the key to the dashboard's first painted frame."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def fill_store(path: Path, conversation_id: str, turns: int) -> None:
    """``turns`` finished turns with realistic metrics, written in one transaction."""
    from tui.core.store import Store

    store = Store(path)
    store.ensure_conversation(conversation_id, agent="Bench")
    now = time.time()
    rows = []
    for i in range(turns):
        metrics = {
            "time_to_first_token_s": 0.3 + (i % 17) / 10,
            "tokens_per_second": 40.0 + (i % 23),
            "inter_token_latency_p50_ms": 20.0,
            "inter_token_latency_p95_ms": 45.0,
            "errors": 1 if i % 50 == 0 else 0,
            "errors_by_kind": {"network": 1} if i % 50 == 0 else {},
            "retries": 1 if i % 50 == 0 else 0,
            "elapsed_s": 2.0,
        }
        rows.append(
            (
                conversation_id,
                now + i,
                now + i + 1,
                f"prompt {i}",
                "reply " * 40,
                "completed",
                json.dumps(metrics),
            )
        )
    with store._tx() as db:
        db.conn.executemany(  # type: ignore[attr-defined]  # SQLite here
            "INSERT INTO turns(conversation_id, started_at, finished_at, prompt, reply, status,"
            " metrics) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    store.close()


async def dashboard_open_ms(turns: int = 10_000) -> dict[str, Any]:
    """Open the dashboard on ``turns`` stored turns: F2 to the first frame that shows it,
    median of three opens, for this conversation and for all stored turns."""
    import statistics

    from tui.app import AgentsTuiApp
    from tui.bench.harness import _scripted_runner
    from tui.core.config import Settings
    from tui.core.store import default_db_path
    from tui.screens.dashboard import DashboardScreen

    fill_store(default_db_path(), "bench-dashboard", turns)
    # The app shows a fresh conversation; the dashboard reads the 10,000 stored turns.
    app = AgentsTuiApp(Settings(), runner=_scripted_runner(["x"], 0), backend_label="bench")
    frames: list[tuple[int, Any]] = []
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append((time.perf_counter_ns(), app.screen))
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    timings: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.5)
        for _ in range(5):
            frames.clear()
            started = time.perf_counter_ns()
            assert app.store is not None
            app.push_screen(DashboardScreen(app.store, None, None, all_turns=True))
            for _ in range(1000):
                await pilot.pause(0.002)
                shown = [t for t, screen in frames if isinstance(screen, DashboardScreen)]
                if shown:
                    timings.append((shown[0] - started) / 1e6)
                    break
            await pilot.press("escape")
            await pilot.pause(0.05)
    return {
        "dashboard_open_ms": round(statistics.median(timings), 1),
        "dashboard_open_ms_first": round(timings[0], 1),
        "dashboard_turns": turns,
    }
