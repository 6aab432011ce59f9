"""A conversation far longer than the bundled model's window (``agents-tui bench --long N``).

Turns go through ``run_turn_headless`` with a stored session, the path of
``agents-tui run --session ID`` (the model loaded once, not once per turn), so the model's
memory is the SDK's SQLite session and every turn is fitted to the 4,096-token window.
Without the budget, a conversation of about 20 turns failed every later turn ("Requested
tokens (6464) exceed context window of 4096").
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import time
from typing import Any

PROMPTS = (
    "Tell me one fact about the moon.",
    "What is a good name for a cat?",
    "Give me a tip for writing clean code.",
    "What should I cook tonight?",
    "Describe the sea in one sentence.",
    "Why is the sky blue?",
    "Suggest a short book to read.",
    "How do I stay focused while studying?",
    "What is your favourite season and why?",
    "Explain what a prime number is.",
    "Write a two-line poem about rain.",
    "What is the capital of France?",
    "How can I sleep better?",
    "Tell me a fun fact about octopuses.",
    "What does TTFT mean?",
    "Give me a word that rhymes with light.",
    "What is a good morning routine?",
    "How do plants make food?",
    "Name three colours of the rainbow.",
    "What makes a good friend?",
)


async def _turns(turns: int) -> dict[str, Any]:
    from tui.core.config import Settings
    from tui.core.models.providers import build_runner
    from tui.headless import run_turn_headless

    settings = Settings(provider="local")
    runner, backend = build_runner(settings)
    await asyncio.to_thread(backend.engine.load)
    rows: list[dict[str, Any]] = []
    for turn in range(1, turns + 1):
        out = io.StringIO()
        started = time.perf_counter()
        code = await run_turn_headless(
            settings,
            PROMPTS[(turn - 1) % len(PROMPTS)],
            jsonl=True,
            out=out,
            runner=runner,
            session_id="long-local",
        )
        seconds = time.perf_counter() - started
        done = json.loads(out.getvalue().splitlines()[-1])["data"]
        metrics = done.get("metrics", {})
        rows.append(
            {
                "code": code,
                "status": done.get("status"),
                "s": seconds,
                "context_tokens": metrics.get("context_tokens", 0),
                "dropped_turns": metrics.get("context_dropped_turns", 0),
                "ttft_s": metrics.get("time_to_first_token_s") or 0.0,
            }
        )
    return _summary(rows)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str, part: list[dict[str, Any]]) -> float:
        return round(float(statistics.median(r[key] for r in part)), 2)

    early, late = rows[10:20], rows[-10:]
    return {
        "long_local_turns": len(rows),
        "long_local_failed_turns": sum(r["status"] != "completed" for r in rows),
        "long_local_s_turns_11_20": median("s", early),
        "long_local_s_last_10": median("s", late),
        "long_local_late_vs_early_ratio": round(median("s", late) / median("s", early), 2),
        "long_local_ttft_s_turns_11_20": median("ttft_s", early),
        "long_local_ttft_s_last_10": median("ttft_s", late),
        "long_local_context_tokens_max": max(r["context_tokens"] for r in rows),
        "long_local_dropped_turns_last": rows[-1]["dropped_turns"],
    }


async def _tui_turns(turns: int) -> dict[str, Any]:
    """The same length of conversation in the TUI, on the bundled model (real backend)."""
    from tui.app import AgentsTuiApp
    from tui.bench.harness import timed_turns
    from tui.core.config import Settings

    app = AgentsTuiApp(Settings(provider="local"))
    session = await timed_turns(app, turns)
    stored = app.store.turns(app.conversation_id) if app.store is not None else []
    done = app.session_metrics.turns
    ttft = [t.ttft_s or 0.0 for t in done]
    took = [t.elapsed_s(t.finished_ns or t.started_ns) for t in done]
    failed = sum(t.status != "completed" for t in stored) + turns - len(stored)
    return {
        "long_local_tui_turns": turns,
        "long_local_tui_failed_turns": failed,
        "long_local_tui_shown_ms_first_10": session["shown_ms_median_first_10"],
        "long_local_tui_shown_ms_last_10": session["shown_ms_median_last_10"],
        "long_local_tui_late_vs_early_ratio": session["late_vs_early_ratio"],
        "long_local_tui_kb_per_turn": session["kb_per_turn"],
        # Prompt evaluation (time to first token) and the whole turn, turns 11-20 against
        # the last 10: a turn's length is mostly how long a reply the model chose to write.
        "long_local_tui_ttft_s_turns_11_20": round(statistics.median(ttft[10:20]), 2),
        "long_local_tui_ttft_s_last_10": round(statistics.median(ttft[-10:]), 2),
        "long_local_tui_s_turns_11_20": round(statistics.median(took[10:20]), 2),
        "long_local_tui_s_last_10": round(statistics.median(took[-10:]), 2),
    }


def long_local(turns: int = 200) -> dict[str, Any]:
    import os
    import tempfile

    tmp = tempfile.mkdtemp(prefix="agents-tui-long-")
    os.environ["XDG_DATA_HOME"] = tmp
    os.environ["XDG_CONFIG_HOME"] = tmp
    results = asyncio.run(_turns(turns))
    results.update(asyncio.run(_tui_turns(turns)))
    return results


if __name__ == "__main__":
    import sys

    print(json.dumps(long_local(int(sys.argv[1]) if len(sys.argv) > 1 else 200), indent=2))
