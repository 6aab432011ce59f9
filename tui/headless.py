"""``agents-tui run``: one turn without the TUI, as plain text or JSONL on stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any, TextIO

from tui.core import events as ev
from tui.core.config import Settings
from tui.core.sanitize import safe_text
from tui.core.secrets import redact
from tui.core.turn.protocol import ProtocolEncoder

# Stopped by Ctrl+C: 128 + SIGINT, as a shell reports a program the signal ended.
EXIT_INTERRUPTED = 130


def _fail(reason: str, code: int = 1) -> int:
    print(f"agents-tui: {redact(str(reason))}", file=sys.stderr)
    return code


async def run_turn_headless(
    settings: Settings,
    prompt: str,
    *,
    jsonl: bool,
    out: TextIO,
    runner: Any = None,
    session_id: str | None = None,
    approve: str | None = None,
    stdin_is_terminal: bool | None = None,
) -> int:
    from tui.core.agents import AgentLoadError
    from tui.core.models.providers import ProviderError, build_runner

    model_label = settings.model or ""
    if runner is None:
        try:
            runner, backend = build_runner(settings)
            model_label = backend.label
            if backend.engine is not None:
                await asyncio.to_thread(backend.engine.load)
        except (AgentLoadError, ProviderError) as error:
            return _fail(str(error))
        except Exception as error:
            return _fail(f"{type(error).__name__}: {error}")
    from tui.core.store import Store
    from tui.core.turn.approvals import approver_for_mode
    from tui.core.turn.conversation import Conversation, Queued

    interactive = sys.stdin.isatty() if stdin_is_terminal is None else stdin_is_terminal
    try:
        store = Store()
        conversation = Conversation(
            store,
            runner,
            session_id,
            model_label=model_label,
            approver=approver_for_mode(approve, interactive=interactive),  # type: ignore[arg-type]
        )
    except Exception as error:
        return _fail(f"cannot open the conversation store: {error}")
    encoder = ProtocolEncoder(
        session_id=conversation.id,
        message_count=len(conversation.turns()) + 1,
        metrics_of=lambda: conversation.metrics,  # the journal's own, not measured again
    )
    neutralise = not jsonl and out.isatty()

    def show(event: ev.RunEvent) -> None:
        if isinstance(event, ev.TurnStarted) and event.resumed:
            # A turn of this conversation still waited for approvals: it is finished first.
            shown = event.prompt[:60]
            print(f"agents-tui: finishing the paused turn {shown!r}", file=sys.stderr)
        if jsonl:
            for obj in encoder.encode(event):
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
        elif isinstance(event, ev.TextDelta):
            out.write(safe_text(event.text) if neutralise else event.text)
            out.flush()
        elif isinstance(event, ev.RunFailed) and event.error_kind == "mcp":
            print(f"agents-tui: {event.message}", file=sys.stderr)
        elif isinstance(event, ev.ApprovalResolved) and event.by != "user":
            verdict = "approved" if event.approved else "rejected"
            print(f"agents-tui: {verdict} {event.call_id} ({event.by})", file=sys.stderr)
        elif isinstance(event, ev.RetryScheduled):
            print(
                f"agents-tui: {event.message}; retrying in {event.delay_s:.1f} s "
                f"(attempt {event.attempt}/{event.max_attempts})",
                file=sys.stderr,
            )

    outcome: ev.TurnFinished | None = None
    try:
        async with contextlib.aclosing(conversation.turn(prompt)) as turn:
            async for event in turn:
                if isinstance(event, Queued):
                    continue  # nothing else runs in this process
                show(event)
                if isinstance(event, ev.TurnFinished):
                    outcome = event
    finally:
        conversation.close()
        store.close()
        if hasattr(runner, "close"):
            await runner.close()
    if outcome is None:
        return _fail("the turn did not run")
    if neutralise and outcome.final_text and not outcome.final_text.endswith("\n"):
        # A terminal gets its prompt back on a fresh line; a pipe gets exactly the reply.
        out.write("\n")
        out.flush()
    if outcome.status == "completed":
        return 0
    if outcome.status == "interrupted":
        return _fail("interrupted", EXIT_INTERRUPTED)
    return _fail(outcome.error or "the turn failed")


def run_headless(
    settings: Settings,
    prompt: str,
    *,
    jsonl: bool,
    session_id: str | None = None,
    approve: str | None = None,
) -> int:
    try:
        return asyncio.run(
            run_turn_headless(
                settings,
                prompt,
                jsonl=jsonl,
                out=sys.stdout,
                session_id=session_id,
                approve=approve,
            )
        )
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
