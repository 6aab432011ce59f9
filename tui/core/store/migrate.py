"""``agents-tui migrate --to postgresql://...``: a SQLite store copied whole into PostgreSQL.

Every conversation (title, agent, times, what an API session was created with), every turn
(prompt, reply, status, error, tool calls, metrics, times), the turns paused on approvals
with their stored run state, the tools approved for good, and the model's memory (the
SDK's session items, in order) are copied in one transaction; the statistics' totals are
rebuilt from the copied turns. A conversation already in the target is left as it is and
reported (running the copy twice copies nothing twice). Turns still ``running`` in the
source (a process that stopped) arrive ``interrupted``, as opening the store would make
them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.store import Store, migrate_sqlite
from tui.core.store.db import Db


@dataclass(slots=True)
class CopyReport:
    conversations: int = 0
    turns: int = 0
    memory_items: int = 0
    paused: int = 0
    skipped: list[str] = field(default_factory=list)  # already in the target


def copy_store(source: Path, target: Store) -> CopyReport:
    """Copy the SQLite store at ``source`` into ``target`` (a PostgreSQL store)."""
    report = CopyReport()
    with closing(sqlite3.connect(source, timeout=10)) as src:
        migrate_sqlite(src)  # a store of an earlier version reads as this one's
        src.row_factory = sqlite3.Row
        has_memory = all(
            src.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (t,)
            ).fetchone()
            for t in ("agent_sessions", "agent_messages")
        )
        db = target._db
        with db.tx():
            for conv in src.execute("SELECT * FROM conversations ORDER BY created_at"):
                inserted = db.execute(
                    "INSERT INTO conversations(id, title, agent, model, created_at, updated_at,"
                    " user_context, agent_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    (
                        conv["id"],
                        conv["title"],
                        conv["agent"],
                        conv["model"],
                        conv["created_at"],
                        conv["updated_at"],
                        conv["user_context"],
                        conv["agent_key"],
                    ),
                ).fetchone()
                if inserted is None:
                    report.skipped.append(str(conv["id"]))
                    continue
                report.conversations += 1
                _copy_turns(src, db, str(conv["id"]), report)
                for row in src.execute(
                    "SELECT tool FROM always_approved WHERE conversation_id = ?", (conv["id"],)
                ):
                    db.execute(
                        "INSERT INTO always_approved(conversation_id, tool) VALUES (?, ?)"
                        " ON CONFLICT DO NOTHING",
                        (conv["id"], row["tool"]),
                    )
                if has_memory:
                    items = src.execute(
                        "SELECT message_data FROM agent_messages WHERE session_id = ?"
                        " ORDER BY created_at, id",
                        (conv["id"],),
                    ).fetchall()
                    if items:
                        db.execute(
                            "INSERT INTO agent_sessions(session_id) VALUES (?)"
                            " ON CONFLICT DO NOTHING",
                            (conv["id"],),
                        )
                    for item in items:
                        db.execute(
                            "INSERT INTO agent_messages(session_id, message_data) VALUES (?, ?)",
                            (conv["id"], item["message_data"]),
                        )
                        report.memory_items += 1
        if report.conversations:
            target.rebuild_totals()
    return report


def _copy_turns(src: sqlite3.Connection, db: Db, conversation_id: str, report: CopyReport) -> None:
    turns = src.execute(
        "SELECT t.*, p.state AS paused_state, p.saved_at AS paused_at FROM turns t"
        " LEFT JOIN pending_runs p ON p.turn_id = t.id WHERE t.conversation_id = ? ORDER BY t.id",
        (conversation_id,),
    ).fetchall()
    for turn in turns:
        status, error, finished = turn["status"], turn["error"], turn["finished_at"]
        if status == "running":  # its process is gone: as opening the store would say
            status, error = "interrupted", error or "the app stopped during this turn"
            finished = finished or turn["started_at"]
        new_id = db.execute(
            "INSERT INTO turns(conversation_id, started_at, finished_at, prompt, reply, status,"
            " error, tools, metrics, ttft_s, rate, author)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                conversation_id,
                turn["started_at"],
                finished,
                turn["prompt"],
                turn["reply"],
                status,
                error,
                turn["tools"],
                turn["metrics"],
                turn["ttft_s"],
                turn["rate"],
                turn["author"],
            ),
        ).fetchone()[0]
        report.turns += 1
        if turn["paused_state"] is not None and status == "awaiting_approval":
            db.execute(
                "INSERT INTO pending_runs(turn_id, state, saved_at) VALUES (?, ?, ?)",
                (new_id, turn["paused_state"], turn["paused_at"]),
            )
            report.paused += 1
