"""The tutorial's alerts fire on what the core measured, not on series written by hand: a real
turn's Prometheus samples (``tui.core.observe.telemetry``'s exposition, as ``GET /metrics``
serves it) become ``promtool test rules`` input series, one such turn a minute, against
``docs/prometheus/alerts.yml``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.core.test_figures_once import WAIT_S, one_turn, samples, waited_step
from tests.e2e.test_monitoring import PROMTOOL, needs_promtool
from tests.scripts import broken_step, connection_error, text_step
from tui.core.observe.telemetry import Telemetry
from tui.core.store import Store

ROOT = Path(__file__).resolve().parents[2]
SERIES = (
    "agents_tui_tokens_per_second_sum",
    "agents_tui_tokens_per_second_count",
    "agents_tui_decode_tokens_per_second_sum",
    "agents_tui_decode_tokens_per_second_count",
    "agents_tui_errors_total",
    "agents_tui_stream_events_total",
)


async def measured(tmp_path: Path, steps: list) -> dict[str, float]:
    """One real turn through the core: its Prometheus samples."""
    store = Store(tmp_path / "db.sqlite")
    telemetry = Telemetry(metrics=True)
    try:
        await one_turn(store, steps, telemetry)
    finally:
        store.close()
    return samples(telemetry)


def fired(tmp_path: Path, figures: dict[str, float], alert: str) -> bool:
    """Whether ``alert`` fires at 15 minutes when such a turn comes every minute."""
    series = [
        {"series": f'{name}{{instance="measured"}}', "values": f"0+{figures.get(name, 0.0)!r}x20"}
        for name in SERIES
    ]
    test = {
        "rule_files": [str(ROOT / "docs" / "prometheus" / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [{"eval_time": "15m", "alertname": alert, "exp_alerts": []}],
            }
        ],
    }
    path = tmp_path / f"{alert}.json"  # YAML's superset: promtool reads JSON
    path.write_text(json.dumps(test), encoding="utf-8")
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)
    output = done.stdout + done.stderr
    if done.returncode == 0:
        assert "SUCCESS" in output, output
        return False
    # promtool expected silence: it lists the alert it got instead (nothing else went wrong)
    assert f"alertname: {alert}" in output and "got:" in output, output
    return True


@needs_promtool
async def test_a_fast_stream_after_a_long_wait_fires_the_low_rate_alert_and_a_prompt_one_not(
    tmp_path,
):
    deltas = [f"w{i} " for i in range(10)]
    waited = await measured(tmp_path / "a", [waited_step(deltas, WAIT_S)])
    # the decode rate is fast: an alert that read it would stay quiet
    assert waited["agents_tui_decode_tokens_per_second_sum"] > 10
    assert waited["agents_tui_tokens_per_second_sum"] < 10
    assert fired(tmp_path, waited, "AgentsTuiLowTokenRate")
    prompt = await measured(tmp_path / "b", [waited_step(deltas, 0.0)])
    assert prompt["agents_tui_tokens_per_second_sum"] > 10
    assert not fired(tmp_path, prompt, "AgentsTuiLowTokenRate")


@needs_promtool
async def test_the_high_error_rate_alert_fires_on_the_monitors_rate_of_a_real_turn(tmp_path):
    broken = await measured(
        tmp_path / "a", [broken_step(["Half "], connection_error()), text_step(["a ", "reply."])]
    )
    errors, events = broken["agents_tui_errors_total"], broken["agents_tui_stream_events_total"]
    assert errors == 1 and errors / events > 0.05
    assert fired(tmp_path, broken, "AgentsTuiHighErrorRate")
    clean = await measured(tmp_path / "b", [text_step(["a ", "clean ", "reply."])])
    assert clean.get("agents_tui_errors_total", 0.0) == 0
    assert not fired(tmp_path, clean, "AgentsTuiHighErrorRate")


def test_the_helper_sees_a_firing_alert_as_fired(tmp_path):
    """``fired`` is no test that cannot fail: hand-made series below the rule fire."""
    if PROMTOOL is None:
        pytest.skip("promtool is not installed")
    slow = {"agents_tui_tokens_per_second_sum": 5.0, "agents_tui_tokens_per_second_count": 1.0}
    fast = {"agents_tui_tokens_per_second_sum": 50.0, "agents_tui_tokens_per_second_count": 1.0}
    assert fired(tmp_path, slow, "AgentsTuiLowTokenRate")
    assert not fired(tmp_path, fast, "AgentsTuiLowTokenRate")
