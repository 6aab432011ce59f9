"""The store's one interface, ``Store``, with the SQL both databases run to write:
conversations, per-turn rows (prompt, reply, tool calls, metrics) as a turn starts,
streams, pauses on approvals and ends, the tools approved for good, the kept statistics,
and the recovery of turns whose process has gone (``recover_crashed_turns``); what it
answers is its base, ``tui.core.store.reads.StoreReads``. ``Store(path)`` opens the SQLite
store (``tui.core.store.sqlite``), ``Store(url=...)`` the PostgreSQL one
(``tui.core.store.postgres``): each backend subclass opens its connections, migrates its
schema, takes its lease, and says how to search, where the model's memory lives and how the
processes sharing it coordinate (``store.coordination``). A turn row is written when the
turn starts and its partial reply saved as it streams, so a crash leaves it behind as
``running``; the next open marks it ``interrupted`` and puts its partial text into the
model's memory. API keys never reach the store: only prompts, replies, tool calls and
numbers do.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, Self, cast

from tui.core.observe.metrics import MetricsSummary
from tui.core.observe.stats import contribution
from tui.core.paths import data_dir
from tui.core.store import totals as kept
from tui.core.store.coordination import Coordination
from tui.core.store.db import Db, Param, is_postgres
from tui.core.store.reads import StoreReads, TurnRow, turn_from
from tui.core.tool_calls import StoredToolCall

if TYPE_CHECKING:
    from agents.memory import Session


class Lease(Protocol):
    """This process's claim on the turns it runs (``tui.core.store.lease``)."""

    instance_id: str

    def alive(self, db: Db, owner: str | None) -> bool: ...
    def detach(self, user: object) -> None: ...
    def held(self) -> bool: ...


def default_db_path() -> Path:
    return data_dir() / "agents-tui.db"


def new_conversation_id() -> str:
    """Time-ordered and unguessable: 64 random bits (6 hex digits collided within 10,000
    API sessions made in a few seconds, and two clients shared one conversation)."""
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(8)


_BACKENDS: dict[str, type[Store]] = {}  # dialect -> the store class that opens it


class Store(StoreReads):
    """Everything the app keeps between runs. Safe to open from several processes.

    ``Store()`` / ``Store(path)``: the SQLite file (default: the data dir's);
    ``Store(url="postgresql://USER@HOST:PORT/DB")``: the PostgreSQL database many
    processes share. Either way the object is the backend's subclass."""

    dialect: ClassVar[str]
    url: str | None = None  # the PostgreSQL database, or None
    path: Path | None = None  # the SQLite file, or None
    lease: Lease
    coordination: Coordination  # what the processes sharing the store tell each other
    recovered: list[TurnRow]

    def __init_subclass__(cls, *, dialect: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if dialect:
            cls.dialect = dialect
            _BACKENDS[dialect] = cls

    def __new__(cls, path: Path | None = None, *, url: str | None = None) -> Self:
        chosen: type[Store] = cls
        if cls is Store:
            chosen = _BACKENDS["postgresql" if is_postgres(url) else "sqlite"]
        return cast(Self, object.__new__(chosen))

    def _opened(self, db: Db, reader: Db, lease: Lease, coordination: Coordination) -> None:
        """What every backend does once its connections are open and its schema current:
        the turns left running by a process that has gone are recovered."""
        self._db, self._reader, self.lease, self.coordination = db, reader, lease, coordination
        self._reader_lock = threading.Lock()
        self.recovered = recover_crashed_turns(self._db, self.lease.alive)

    # --- what each backend says --------------------------------------------------------------
    def memory(self, conversation_id: str, *, per_call: bool = False) -> Session:
        """The model's memory of the conversation (the SDK's session, in this store's
        database); with ``per_call`` nothing is held between calls."""
        raise NotImplementedError

    @property
    def where(self) -> str:
        """Where the store is, for messages (a URL without its password)."""
        raise NotImplementedError

    def unready(self) -> str | None:
        """Why the store cannot serve now, or ``None``: its main connection answers a
        trivial query and this process's lease is renewed. It blocks (a database that is
        away): call it from a worker thread. The reason names no URL or error detail."""
        try:
            self._db.execute("SELECT 1").fetchone()
        except Exception:
            return "the store does not answer"
        if not self.lease.held():
            return "the store's lease is not renewed"
        return None

    def close(self) -> None:
        self.coordination.close()
        self._db.close()
        self._reader.close()
        self.lease.detach(self)

    @contextmanager
    def _tx(self) -> Iterator[Db]:
        with self._db.tx() as db:
            yield db

    # --- statistics, kept -------------------------------------------------------------------
    def rebuild_totals(self) -> None:
        """Every stored turn counted afresh (after turns were copied in)."""
        with self._tx() as db:
            kept.rebuild(db)

    # --- conversations -----------------------------------------------------------------------
    def ensure_conversation(
        self, conversation_id: str, *, agent: str = "", model: str = ""
    ) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO conversations(id, agent, model, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (conversation_id, agent, model, now, now),
            )
            if agent or model:
                db.execute(
                    "UPDATE conversations SET agent = COALESCE(NULLIF(?, ''), agent),"
                    " model = COALESCE(NULLIF(?, ''), model) WHERE id = ?",
                    (agent, model, conversation_id),
                )

    def set_api_info(
        self, conversation_id: str, *, agent_key: str, user_context: Mapping[str, object]
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE conversations SET agent_key = ?, user_context = ? WHERE id = ?",
                (agent_key, json.dumps(user_context, ensure_ascii=False), conversation_id),
            )

    def rename(self, conversation_id: str, title: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def set_times(self, conversation_id: str, *, created_at: float, updated_at: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE conversations SET created_at = ?, updated_at = ? WHERE id = ?",
                (created_at, updated_at, conversation_id),
            )

    def delete(self, conversation_id: str) -> None:
        with self._tx() as db:
            kept.subtract_conversation(db, conversation_id)
            db.execute(
                "DELETE FROM pending_runs WHERE turn_id IN"
                " (SELECT id FROM turns WHERE conversation_id = ?)",
                (conversation_id,),
            )
            db.execute("DELETE FROM always_approved WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            for table in ("agent_messages", "agent_sessions"):  # the SDK's memory tables
                if db.has_table(table):
                    db.execute(f"DELETE FROM {table} WHERE session_id = ?", (conversation_id,))

    # --- turns -----------------------------------------------------------------------------
    def start_turn(self, conversation_id: str, prompt: str, author: str = "") -> int:
        now = time.time()
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO turns(conversation_id, started_at, prompt, author, owner_pid, owner)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (conversation_id, now, prompt, author, os.getpid(), self.lease.instance_id),
            )
            turn_id = int(cursor.fetchone()[0])
            db.execute(
                "UPDATE conversations SET updated_at = ?,"
                " title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                (now, title_from(prompt), conversation_id),
            )
        self.coordination.turn_started(conversation_id, turn_id)
        return turn_id

    def import_turn(
        self,
        conversation_id: str,
        *,
        started_at: float,
        prompt: str,
        reply: str,
        status: str,
        error: str | None,
        tools: list[StoredToolCall],
        metrics: MetricsSummary,
    ) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO turns(conversation_id, started_at, finished_at, prompt, reply,"
                " status, error, tools, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    conversation_id,
                    started_at,
                    started_at + float(metrics.get("elapsed_s") or 0.0),
                    prompt,
                    reply,
                    status,
                    error,
                    json.dumps(tools),
                    json.dumps(metrics),
                ),
            )
            turn_id = int(cursor.fetchone()[0])
            share = contribution(status, reply, metrics)
            kept.account(db, conversation_id, share)
            kept.index_values(db, turn_id, share)
        return turn_id

    def save_partial(self, turn_id: int, reply: str) -> None:
        self.coordination.save_partial(turn_id, reply)

    def finish_turn(
        self,
        turn_id: int,
        *,
        reply: str,
        status: str,
        error: str | None,
        tools: list[StoredToolCall],
        metrics: MetricsSummary,
    ) -> None:
        self.coordination.turn_ended(turn_id)
        with self._tx() as db:
            before = db.execute(
                "SELECT conversation_id, status, reply, metrics FROM turns WHERE id = ?",
                (turn_id,),
            ).fetchone()
            db.execute(
                "UPDATE turns SET reply = ?, status = ?, error = ?, tools = ?, metrics = ?,"
                " finished_at = ? WHERE id = ?",
                (
                    reply,
                    status,
                    error,
                    json.dumps(tools),
                    json.dumps(metrics),
                    time.time(),
                    turn_id,
                ),
            )
            db.execute("DELETE FROM pending_runs WHERE turn_id = ?", (turn_id,))
            if before is not None:
                # A turn ends once; if it was counted already (closed as interrupted while
                # its owner was thought gone), its earlier share is taken back first.
                earlier = contribution(
                    before["status"], before["reply"], json.loads(before["metrics"])
                )
                share = contribution(status, reply, metrics)
                kept.account(db, before["conversation_id"], share, earlier)
                kept.index_values(db, turn_id, share)

    def save_tools(self, turn_id: int, tools: list[StoredToolCall]) -> None:
        with self._tx() as db:
            db.execute("UPDATE turns SET tools = ? WHERE id = ?", (json.dumps(tools), turn_id))

    # --- approvals: a run paused on tool calls survives the process -------------------------
    def pause_turn(self, turn_id: int, *, reply: str, state: str) -> None:
        """The turn waits for a person: keep the SDK's RunState so a restart can finish it."""
        self.coordination.turn_ended(turn_id)
        with self._tx() as db:
            db.execute(
                "UPDATE turns SET reply = ?, status = 'awaiting_approval' WHERE id = ?",
                (reply, turn_id),
            )
            db.execute(
                "INSERT INTO pending_runs(turn_id, state, saved_at) VALUES (?, ?, ?)"
                " ON CONFLICT(turn_id) DO UPDATE SET state = excluded.state,"
                " saved_at = excluded.saved_at",
                (turn_id, state, time.time()),
            )

    def unpause_turn(self, turn_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM pending_runs WHERE turn_id = ?", (turn_id,))
            resumed = db.execute(
                "UPDATE turns SET status = 'running', owner = ? WHERE id = ?"
                " AND status = 'awaiting_approval' RETURNING conversation_id",
                (self.lease.instance_id, turn_id),
            ).fetchone()
        if resumed is not None:
            self.coordination.turn_started(str(resumed[0]), turn_id)

    def approve_always(self, conversation_id: str, tool: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO always_approved(conversation_id, tool) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (conversation_id, tool),
            )

    def recover(self, conversation_id: str | None = None) -> list[TurnRow]:
        """Mark the turns whose owner has gone ``interrupted`` now (before a new turn of a
        conversation, so the model never sees two user messages in a row)."""
        found = recover_crashed_turns(self._db, self.lease.alive, conversation_id)
        self.recovered.extend(found)
        return found


def recover_crashed_turns(
    db: Db, alive: Callable[[Db, str | None], bool], conversation_id: str | None = None
) -> list[TurnRow]:
    """Turns left ``running`` by an instance that has gone (``alive``: the lease's rule)
    become ``interrupted``, their partial reply joining the model's memory in the same
    transaction. A turn another live process runs (the TUI while ``agents-tui run`` opens
    the store; another API process) is left alone."""
    where = "status = 'running'" + (" AND conversation_id = ?" if conversation_id else "")
    args: tuple[Param, ...] = (conversation_id,) if conversation_id else ()
    rows = db.execute(
        f"SELECT id, conversation_id, reply, owner, metrics FROM turns WHERE {where}", args
    ).fetchall()
    owners: dict[str | None, bool] = {}
    crashed = []
    for turn_id, conversation, reply, owner, metrics in rows:
        if owner not in owners:
            owners[owner] = alive(db, owner)
        if not owners[owner]:
            crashed.append((int(turn_id), str(conversation), str(reply), str(metrics)))
    if not crashed:
        return []
    memory = all(db.has_table(t) for t in ("agent_messages", "agent_sessions"))
    done = []
    with db.tx():
        for turn_id, conversation, reply, metrics in crashed:
            updated = db.execute(
                "UPDATE turns SET status = 'interrupted', error = ?, finished_at = ?"
                " WHERE id = ? AND status = 'running'",
                ("the app stopped during this turn", time.time(), turn_id),
            ).rowcount
            if not updated:
                continue  # another process recovered it first
            done.append(turn_id)
            share = contribution("interrupted", reply, json.loads(metrics))
            kept.account(db, conversation, share)
            kept.index_values(db, turn_id, share)
            if memory and reply:
                # The prompt reached the model's memory when the turn started; its partial
                # reply joins it.
                db.execute(
                    "INSERT INTO agent_sessions(session_id) VALUES (?) ON CONFLICT DO NOTHING",
                    (conversation,),
                )
                db.execute(
                    "INSERT INTO agent_messages(session_id, message_data) VALUES (?, ?)",
                    (conversation, json.dumps({"role": "assistant", "content": reply})),
                )
    if not done:
        return []
    marks = ",".join("?" * len(done))
    rows = db.execute(f"SELECT * FROM turns WHERE id IN ({marks}) ORDER BY id", done).fetchall()
    return [turn_from(r) for r in rows]


def title_from(prompt: str) -> str:
    words = " ".join(prompt.split())
    return words if len(words) <= 60 else words[:59] + "…"
