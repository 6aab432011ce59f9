"""What the store answers, in SQL both databases run (``StoreReads``, the reading half of
``tui.core.store.base.Store``): conversations and their search, turns (on the main
connection, or on the reading one from worker threads), a run paused on approvals, the
tools approved for good, and the kept statistics; with the rows they come as
(``ConversationRow``, ``TurnRow``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from tui.core.observe.metrics import MetricsSummary, Thresholds
from tui.core.observe.stats import Totals
from tui.core.store import totals as kept
from tui.core.store.db import Db, DbRow, Param
from tui.core.tool_calls import StoredToolCall


@dataclass(slots=True)
class ConversationRow:
    id: str
    title: str
    agent: str
    model: str
    created_at: float
    updated_at: float
    turns: int = 0


@dataclass(slots=True)
class ListedConversation:
    """A conversation as the API lists it: its row, the agent an API client asked for
    (``''``: none), and the status of its latest unfinished turn (``running`` or
    ``awaiting_approval``), if one is."""

    row: ConversationRow
    agent_key: str
    unfinished: str | None


@dataclass(slots=True)
class TurnRow:
    id: int
    conversation_id: str
    started_at: float
    finished_at: float | None
    prompt: str
    reply: str
    status: str
    error: str | None
    tools: list[StoredToolCall] = field(default_factory=list)
    metrics: MetricsSummary = field(default_factory=lambda: MetricsSummary())
    author: str = ""  # who typed the prompt ("" when one person chats)


def turn_from(r: DbRow) -> TurnRow:
    return TurnRow(
        r["id"],
        r["conversation_id"],
        r["started_at"],
        r["finished_at"],
        r["prompt"],
        r["reply"],
        r["status"],
        r["error"],
        json.loads(r["tools"]),
        json.loads(r["metrics"]),
        r["author"] or "",
    )


class StoreReads:
    """The queries of a store; ``Store`` adds what writes, and each backend how it opens."""

    _db: Db
    _reader: Db  # statistics and histories are read on their own connection, from threads
    _reader_lock: threading.Lock

    def _search(self, search: str) -> tuple[str, tuple[Param, ...]]:
        """The conversations whose turns hold every word (as a prefix) or whose title holds
        the text, as a ``WHERE`` clause over ``conversations c``."""
        raise NotImplementedError

    # --- statistics, kept -------------------------------------------------------------------
    def totals(
        self, conversation_id: str | None = None, limits: Thresholds | None = None
    ) -> Totals:
        """The statistics' totals for one conversation or the whole store, read from the
        kept rows and three index lookups: safe to call from a worker thread."""
        with self._reader_lock, self._reader.tx() as db:
            return kept.read(db, conversation_id, limits or Thresholds())

    def global_stats(self) -> dict[str, float | int]:
        """The tutorial's global statistics, from the kept totals."""
        t = self.totals()
        with self._reader_lock:
            return kept.global_stats(self._reader, t)

    def recent_metrics(self, conversation_id: str, limit: int = 100) -> list[MetricsSummary]:
        """The last ``limit`` turns' metrics, oldest first."""
        with self._reader_lock:
            rows = self._reader.execute(
                "SELECT metrics FROM turns WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                (conversation_id, limit),
            ).fetchall()
        return [json.loads(r[0]) for r in reversed(rows)]

    def turn_metrics(self, conversation_id: str | None = None) -> list[MetricsSummary]:
        """Every turn's metrics, of one conversation or the whole store, oldest first: the
        metrics column alone (the dashboard's charts), on the reading connection. A row
        that is not JSON reads as no metrics."""
        where, args = (
            ("WHERE conversation_id = ?", (conversation_id,)) if conversation_id else ("", ())
        )
        with self._reader_lock:
            rows = self._reader.execute(
                f"SELECT metrics FROM turns {where} ORDER BY id", args
            ).fetchall()
        out: list[MetricsSummary] = []
        for (raw,) in rows:
            try:
                out.append(json.loads(raw or "{}"))
            except ValueError:
                out.append({})
        return out

    # --- conversations -----------------------------------------------------------------------
    def conversation(self, conversation_id: str) -> ConversationRow | None:
        rows = self._conversations("WHERE c.id = ?", (conversation_id,))
        return rows[0] if rows else None

    def conversations(self, search: str = "") -> list[ConversationRow]:
        if not search.strip():
            return self._conversations("", ())
        return self._conversations(*self._search(search))

    def _conversations(self, where: str, args: tuple[Param, ...]) -> list[ConversationRow]:
        rows = self._db.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n"
            f" FROM conversations c {where} ORDER BY c.updated_at DESC",
            args,
        ).fetchall()
        return [_conversation_row(r) for r in rows]

    def conversation_page(
        self,
        *,
        search: str = "",
        agent_key: str | None = None,
        conversation_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
        after: tuple[float, str] | None = None,
    ) -> list[ListedConversation]:
        """A page of conversations, the most recently active first (``updated_at``, then
        id, descending): those ``search`` finds (as ``conversations``), of the API agent
        ``agent_key``, or the one ``conversation_id``; past the ``offset`` first, or past
        ``after`` (``updated_at``, id: a cursor). On the reading connection: safe from a
        worker thread."""
        clauses: list[str] = []
        args: list[Param] = []
        if search.strip():
            where, found = self._search(search)
            clauses.append(f"({where.removeprefix('WHERE ')})")
            args += found
        if agent_key is not None:
            clauses.append("c.agent_key = ?")
            args.append(agent_key)
        if conversation_id is not None:
            clauses.append("c.id = ?")
            args.append(conversation_id)
        if after is not None:
            clauses.append("(c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))")
            args += [after[0], after[0], after[1]]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._reader_lock:
            rows = self._reader.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n,"
                " (SELECT t.status FROM turns t WHERE t.conversation_id = c.id"
                " AND t.status IN ('running', 'awaiting_approval') ORDER BY t.id DESC LIMIT 1)"
                f" AS busy FROM conversations c {where}"
                " ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [
            ListedConversation(
                _conversation_row(r),
                str(r["agent_key"]),
                r["busy"],
            )
            for r in rows
        ]

    def participants(self, conversation_ids: list[str], since: float) -> dict[str, list[str]]:
        """Who typed prompts in each conversation since ``since`` (a table of players), the
        most recent first. On the reading connection: safe from a worker thread."""
        if not conversation_ids:
            return {}
        marks = ", ".join("?" for _ in conversation_ids)
        with self._reader_lock:
            rows = self._reader.execute(
                "SELECT conversation_id, author, MAX(started_at) AS seen FROM turns"
                f" WHERE conversation_id IN ({marks}) AND author <> '' AND started_at >= ?"
                " GROUP BY conversation_id, author ORDER BY seen DESC, author",
                (*conversation_ids, since),
            ).fetchall()
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(str(r["conversation_id"]), []).append(str(r["author"]))
        return out

    def latest_conversation(self) -> str | None:
        row = self._db.execute(
            "SELECT id FROM conversations ORDER BY updated_at DESC LIMIT 1"
        ).fetchone()
        return str(row["id"]) if row else None

    def api_info(self, conversation_id: str) -> tuple[str, dict[str, object]]:
        """What an API session was created with: the agent asked for and its user_context
        (a session let go of while idle is rebuilt from these)."""
        row = self._db.execute(
            "SELECT agent_key, user_context FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None:
            return "", {}
        context = json.loads(row["user_context"])
        return str(row["agent_key"]), context if isinstance(context, dict) else {}

    # --- approvals --------------------------------------------------------------------------
    def paused_turn(self, conversation_id: str) -> tuple[TurnRow, str] | None:
        """The conversation's turn still awaiting approval, with its stored RunState."""
        row = self._db.execute(
            "SELECT t.id, p.state FROM turns t JOIN pending_runs p ON p.turn_id = t.id"
            " WHERE t.conversation_id = ? AND t.status = 'awaiting_approval'"
            " ORDER BY t.id DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        turn = next((t for t in self.turns(conversation_id) if t.id == row["id"]), None)
        return (turn, str(row["state"])) if turn is not None else None

    def always_approved(self, conversation_id: str) -> set[str]:
        rows = self._db.execute(
            "SELECT tool FROM always_approved WHERE conversation_id = ?", (conversation_id,)
        ).fetchall()
        return {str(r["tool"]) for r in rows}

    # --- reading turns ---------------------------------------------------------------------
    def turns(self, conversation_id: str | None = None) -> list[TurnRow]:
        where, args = (
            ("WHERE conversation_id = ?", (conversation_id,)) if conversation_id else ("", ())
        )
        rows = self._db.execute(f"SELECT * FROM turns {where} ORDER BY id", args).fetchall()
        return [turn_from(r) for r in rows]

    def read_turns(self, conversation_id: str) -> list[TurnRow]:
        """``turns(conversation_id)`` on the reading connection: safe from a worker thread
        (the API reads a long conversation's history off the event loop)."""
        with self._reader_lock:
            rows = self._reader.execute(
                "SELECT * FROM turns WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
        return [turn_from(r) for r in rows]

    def turn_outcome(self, conversation_id: str, turn_id: int) -> tuple[str, str] | None:
        """The turn's status and reply, if it is this conversation's."""
        with self._reader_lock:
            row = self._reader.execute(
                "SELECT status, reply FROM turns WHERE id = ? AND conversation_id = ?",
                (turn_id, conversation_id),
            ).fetchone()
        return (str(row[0]), str(row[1])) if row is not None else None

    def latest_turn_id(self, conversation_id: str) -> int:
        row = self._db.execute(
            "SELECT COALESCE(MAX(id), 0) FROM turns WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        return int(row[0])

    def turn_count(self, conversation_id: str) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
        )

    def unfinished(self, conversation_id: str) -> int:
        """Turns of the conversation running or waiting for approval now."""
        with self._reader_lock:
            return int(
                self._reader.execute(
                    "SELECT COUNT(*) FROM turns WHERE conversation_id = ?"
                    " AND status IN ('running', 'awaiting_approval')",
                    (conversation_id,),
                ).fetchone()[0]
            )


def _conversation_row(r: DbRow) -> ConversationRow:
    """A conversation row read with its turn count as ``n``."""
    return ConversationRow(
        r["id"], r["title"], r["agent"], r["model"], r["created_at"], r["updated_at"], r["n"]
    )
