"""``agents-tui import`` / ``agents-tui export``: conversations in and out as files. Import
takes what ``/export json`` writes, makes a new stored conversation (a new id when
the file's id is taken) and fills the model's memory (the SDK's session) with its messages,
so the model remembers them on the next turn.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from tui.core.observe.metrics import MetricsSummary
from tui.core.store import Store, new_conversation_id
from tui.core.store.export import Exported

if TYPE_CHECKING:
    from agents.items import TResponseInputItem


class TransferError(Exception):
    """A one-line reason why a file cannot be imported."""


def _timestamp(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value not in ("", "—"):
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").timestamp()
        except ValueError:
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                pass
    return time.time()


def read_export(path: Path) -> Exported:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TransferError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise TransferError(f"{path} is not JSON: {error}") from None
    if not _has_turns(data):
        raise TransferError(f"{path} is not an agents-tui export (no 'turns' list)")
    for number, turn in enumerate(data["turns"], 1):
        if not isinstance(turn, dict) or not isinstance(turn.get("prompt"), str):
            raise TransferError(f"{path}: turn {number} has no prompt")
    return data


def _has_turns(data: object) -> TypeGuard[Exported]:
    """An object with a list of turns: an export (its turns are checked one by one)."""
    return isinstance(data, dict) and isinstance(data.get("turns"), list)


async def import_conversation(store: Store, data: Exported) -> str:
    """Store the conversation and its memory; returns the new conversation's id."""
    wanted = str(data.get("id") or "")
    conversation_id = (
        wanted if wanted and store.conversation(wanted) is None else new_conversation_id()
    )
    store.ensure_conversation(
        conversation_id, agent=str(data.get("agent") or ""), model=str(data.get("model") or "")
    )
    memory: list[TResponseInputItem] = []
    for turn in data["turns"]:
        started = _timestamp(turn.get("started_at"))
        reply = str(turn.get("reply") or "")
        store.import_turn(
            conversation_id,
            started_at=started,
            prompt=turn["prompt"],
            reply=reply,
            status=str(turn.get("status") or "completed"),
            error=turn.get("error"),
            tools=list(turn.get("tool_calls") or []),
            metrics=MetricsSummary(**(turn.get("metrics") or {})),
        )
        memory.append({"role": "user", "content": turn["prompt"]})
        if reply:
            memory.append({"role": "assistant", "content": reply})
    store.rename(conversation_id, str(data.get("title") or ""))
    store.set_times(
        conversation_id,
        created_at=_timestamp(data.get("created_at")),
        updated_at=_timestamp(data.get("updated_at")),
    )
    session = store.memory(conversation_id)
    if memory:
        await session.add_items(memory)
    return conversation_id
