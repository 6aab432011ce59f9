"""``agents-tui run``: one turn without the TUI, as plain text or JSONL on stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from tui.core import events as ev
from tui.core.config import Settings
from tui.core.protocol import ProtocolEncoder
from tui.core.sanitize import safe_text


def _fail(reason: str) -> int:
    print(f"agents-tui: {reason}", file=sys.stderr)
    return 1


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
    from tui.core.providers import ProviderError, build_runner

    if runner is None:
        try:
            runner, backend = build_runner(settings)
            if backend.engine is not None:
                await asyncio.to_thread(backend.engine.load)
        except (AgentLoadError, ProviderError) as error:
            return _fail(str(error))
        except Exception as error:
            return _fail(f"{type(error).__name__}: {error}")
    from tui.core.journal import Recorder, TurnJournal, open_memory, recorder_path
    from tui.core.store import Store, new_conversation_id

    try:
        store = Store()
    except Exception as error:
        return _fail(f"cannot open the conversation store: {error}")
    from tui.core.approvals import approver_for_mode

    conversation_id = session_id or new_conversation_id()
    store.ensure_conversation(conversation_id, agent=runner.agent_name, model=settings.model or "")
    runner.session = open_memory(store, conversation_id)
    runner.always_approved = store.always_approved(conversation_id)
    interactive = sys.stdin.isatty() if stdin_is_terminal is None else stdin_is_terminal
    runner.approver = approver_for_mode(approve, interactive=interactive)  # type: ignore[arg-type]
    journal = TurnJournal(store, conversation_id, Recorder(recorder_path(conversation_id)))
    encoder = ProtocolEncoder(
        session_id=conversation_id, message_count=len(store.turns(conversation_id)) + 1
    )
    neutralise = not jsonl and out.isatty()

    def emit(event: ev.RunEvent) -> None:
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

    try:
        paused = store.paused_turn(conversation_id)
        if paused is not None:
            # A turn of this conversation still waits for approvals: finish it first.
            turn, state = paused
            journal.resume_turn_id = turn.id
            print(f"agents-tui: finishing the paused turn {turn.prompt[:60]!r}", file=sys.stderr)
            await runner.resume(state, turn.prompt, turn.reply, journal.wrap(emit))
        outcome = await runner.run(prompt, journal.wrap(emit))
    finally:
        if journal.recorder is not None:
            journal.recorder.close()
        store.close()
        await runner.close()
    if neutralise and outcome.text and not outcome.text.endswith("\n"):
        # A terminal gets its prompt back on a fresh line; a pipe gets exactly the reply.
        out.write("\n")
        out.flush()
    if outcome.status == "completed":
        return 0
    if outcome.status == "interrupted":
        return _fail("interrupted")
    return _fail(outcome.error.message if outcome.error else "the turn failed")


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
        return _fail("interrupted")
