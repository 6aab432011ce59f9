"""``agents-tui run``: one turn without the TUI, as plain text or JSONL on stdout."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any, TextIO

from tui.core import events as ev
from tui.core.config import Settings
from tui.core.protocol import ProtocolEncoder
from tui.core.sanitize import safe_text


def _fail(reason: str) -> int:
    print(f"agents-tui: {reason}", file=sys.stderr)
    return 1


async def run_turn_headless(
    settings: Settings, prompt: str, *, jsonl: bool, out: TextIO, runner: Any = None
) -> int:
    from tui.core.agents import AgentLoadError, load_agent
    from tui.core.providers import ProviderError, choose_backend
    from tui.core.run import RetryPolicy, TurnRunner

    if runner is None:
        try:
            agent = load_agent(settings.agent, seed=settings.seed)
            backend = choose_backend(settings, agent)
            if backend.engine is not None:
                await asyncio.to_thread(backend.engine.load)
            runner = TurnRunner(
                agent,
                run_config=backend.run_config(),
                max_turns=settings.max_turns,
                retry=RetryPolicy(max_attempts=settings.max_retries + 1),
                stall_timeout_s=settings.stall_timeout,
            )
        except (AgentLoadError, ProviderError) as error:
            return _fail(str(error))
        except Exception as error:
            return _fail(f"{type(error).__name__}: {error}")
    encoder = ProtocolEncoder(session_id=uuid.uuid4().hex[:12])
    neutralise = not jsonl and out.isatty()

    def emit(event: ev.RunEvent) -> None:
        if jsonl:
            for obj in encoder.encode(event):
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
        elif isinstance(event, ev.TextDelta):
            out.write(safe_text(event.text) if neutralise else event.text)
            out.flush()
        elif isinstance(event, ev.RunFailed | ev.RetryScheduled):
            print(f"agents-tui: {getattr(event, 'message', '')}", file=sys.stderr)

    outcome = await runner.run(prompt, emit)
    if not jsonl and outcome.text and not outcome.text.endswith("\n"):
        out.write("\n")
        out.flush()
    if outcome.status == "completed":
        return 0
    if outcome.status == "interrupted":
        return _fail("interrupted")
    return _fail(outcome.error.message if outcome.error else "the turn failed")


def run_headless(settings: Settings, prompt: str, *, jsonl: bool) -> int:
    try:
        return asyncio.run(run_turn_headless(settings, prompt, jsonl=jsonl, out=sys.stdout))
    except KeyboardInterrupt:
        return _fail("interrupted")
