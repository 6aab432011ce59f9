"""The store on a real PostgreSQL behaves as on SQLite; a SQLite store of today's schema
upgrades in place and copies whole into PostgreSQL (``agents-tui migrate``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.store import Store

OLD_STORE = Path(__file__).parent.parent / "data" / "store-2026-12-05.sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        made = Store(tmp_path / "store.db")
    else:
        made = Store(url=request.getfixturevalue("postgres_url"))
    yield made
    made.close()


def _finish(store: Store, conversation: str, prompt: str, reply: str, ttft: float) -> int:
    turn = store.start_turn(conversation, prompt)
    store.save_partial(turn, reply[:3])
    store.finish_turn(
        turn,
        reply=reply,
        status="completed",
        error=None,
        tools=[{"name": "roll_dice", "status": "completed"}],
        metrics={"time_to_first_token_s": ttft, "elapsed_s": 2.0},
    )
    return turn


def test_both_stores_keep_search_and_count_alike(store):
    store.ensure_conversation("a", agent="Assistant", model="m")
    store.ensure_conversation("b")
    _finish(store, "a", "Tell me of wyverns", "A wyvern has two legs.", 0.2)
    _finish(store, "b", "Chào bạn, kể chuyện rồng", "Ngày xửa ngày xưa có một con rồng.", 0.4)
    running = store.start_turn("b", "still streaming")
    store.save_partial(running, "a griffin half-told")
    # prefix search over prompts and finished replies, any language; a running reply is not
    # found until it ends
    assert [c.id for c in store.conversations("wyv")] == ["a"]
    assert [c.id for c in store.conversations("rồng")] == ["b"]
    assert store.conversations("griffin") == []
    assert [c.id for c in store.conversations("Chào")] == ["b"]
    assert {c.id for c in store.conversations("")} == {"a", "b"}
    store.rename("a", "Dragons 100% true_story")
    assert [c.id for c in store.conversations("100%")] == ["a"]
    assert store.conversations("%") != [] and store.conversations("zzz_") == []
    # the kept totals and the median
    totals = store.totals()
    assert (totals.turns, totals.completed) == (2, 2)
    assert totals.median_ttft == pytest.approx(0.3)
    assert store.totals("a").turns == 1
    assert store.global_stats()["total_sessions"] == 2
    # a paused turn keeps its run state; approvals remembered
    store.pause_turn(running, reply="half", state='{"state": 1}')
    paused = store.paused_turn("b")
    assert paused is not None and paused[1] == '{"state": 1}' and paused[0].reply == "half"
    store.approve_always("b", "roll_dice")
    store.approve_always("b", "roll_dice")
    assert store.always_approved("b") == {"roll_dice"}
    # deleting a conversation takes its share out of the totals
    store.delete("a")
    assert store.totals().turns == 1 and store.conversation("a") is None
    assert [t.prompt for t in store.turns("b")] == ["Chào bạn, kể chuyện rồng", "still streaming"]


def test_the_postgresql_schema_is_migrated_once_and_a_newer_one_refused(postgres_url):
    from tui.core.store.db import PostgresDb
    from tui.core.store.postgres import SCHEMA_VERSION, DatabaseError, migrate

    first = Store(url=postgres_url)
    first.ensure_conversation("kept")
    first.close()
    db = PostgresDb(postgres_url)
    assert migrate(db) == SCHEMA_VERSION  # already there: nothing runs again
    second = Store(url=postgres_url)
    assert second.conversation("kept") is not None
    second.close()
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(DatabaseError, match="newer than this agents-tui knows"):
        Store(url=postgres_url)
    db.close()


def test_an_unreachable_database_is_one_clear_line(tmp_path):
    from tui.core.store.postgres import DatabaseError

    with pytest.raises(DatabaseError) as caught:
        Store(url="postgresql://someone:hunter2@127.0.0.1:1/nowhere")
    text = str(caught.value)
    assert "cannot reach postgresql://someone:***@127.0.0.1:1/nowhere" in text
    assert "hunter2" not in text and "\n" not in text


def _everything(store: Store) -> list[tuple]:
    out = []
    for conv in store.conversations():
        agent_key, context = store.api_info(conv.id)
        out.append(
            (
                "conv",
                conv.id,
                conv.title,
                conv.agent,
                conv.model,
                conv.created_at,
                conv.updated_at,
                agent_key,
                json.dumps(context, sort_keys=True),
            )
        )
        for t in store.turns(conv.id):
            out.append(
                (
                    "turn",
                    conv.id,
                    t.started_at,
                    t.prompt,
                    t.reply,
                    t.status,
                    t.error,
                    json.dumps(t.tools),
                    json.dumps(t.metrics, sort_keys=True),
                )
            )
        out.append(("approved", conv.id, sorted(store.always_approved(conv.id))))
        paused = store.paused_turn(conv.id)
        out.append(
            ("paused", conv.id, paused[0].prompt if paused else None, paused[1] if paused else None)
        )
    return sorted(out, key=repr)


async def _memory(store: Store, conversation_id: str) -> list:
    memory = store.memory(conversation_id, per_call=True)
    return list(await memory.get_items())


async def test_a_store_of_todays_schema_upgrades_in_place_and_copies_whole_into_postgresql(
    tmp_path, postgres_url
):
    path = tmp_path / "agents-tui.db"
    shutil.copy(OLD_STORE, path)
    old = Store(path)  # opened by this version: the cut turn is recovered, nothing lost
    assert [t.status for t in old.recovered] == ["interrupted"]
    assert old.recovered[0].reply == "Once upon a time"
    before = _everything(old)
    conversations = [c.id for c in old.conversations()]
    assert len(conversations) == 7 and sum(len(old.turns(c)) for c in conversations) == 23
    memories = {c: await _memory(old, c) for c in conversations}
    assert memories["conv-cut"][-1] == {"role": "assistant", "content": "Once upon a time"}
    stats = old.global_stats()
    old.close()

    copied = _migrate(path, postgres_url)
    assert copied.returncode == 0, copied.stderr
    items = sum(len(m) for m in memories.values())
    assert items == 43  # 42 stored + the cut turn's partial reply
    assert f"copied 7 conversations (23 turns, {items} memory items, 1 paused on approvals)" in (
        copied.stdout
    )
    pg = Store(url=postgres_url)
    assert _everything(pg) == before
    for conversation, items in memories.items():
        assert await _memory(pg, conversation) == items  # the SDK's SQLAlchemySession reads it
    assert pg.global_stats() == stats
    assert [c.id for c in pg.conversations("griffin")] == [
        c.id for c in Store(path).conversations("griffin")
    ]
    pg.close()
    again = _migrate(path, postgres_url)
    assert "copied 0 conversations" in again.stdout and "already there" in again.stdout


def _migrate(path: Path, url: str) -> subprocess.CompletedProcess[str]:
    """``agents-tui migrate`` as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tui", "migrate", "--from", str(path), "--to", url],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_both_coordinations_queue_notify_and_ask_alike(store):
    """``store.coordination`` answers the same on one process (SQLite) and many
    (PostgreSQL): tickets in arrival order, a notification reaching this process's
    listener, approvals asked and answered, the turn running now."""
    import asyncio

    coordination = store.coordination
    heard: list[dict] = []
    moved = asyncio.Event()

    def handle(payload: dict) -> None:
        heard.append(payload)
        moved.set()

    listener = coordination.listen(handle)
    try:
        first, ahead = coordination.enqueue("s")
        second, behind = coordination.enqueue("s")
        assert (ahead, behind) == (0, 1) and coordination.waiting("s") == 2
        assert coordination.ahead("s", second) == 1 and coordination.waiting("other") == 0
        coordination.dequeue("s", first)
        await asyncio.wait_for(moved.wait(), 5)
        assert {"op": "queue", "session": "s"} in heard
        assert coordination.ahead("s", second) == 0 and coordination.waiting("s") == 1
        coordination.dequeue("s", second)

        coordination.ask("s", "call_1")
        assert coordination.asked("s", "call_1") and coordination.pending_approvals("s") == 1
        coordination.answered("s", "call_1")
        assert not coordination.asked("s", "call_1") and coordination.pending_approvals("s") == 0

        store.ensure_conversation("s")
        turn = store.start_turn("s", "go")
        assert coordination.running_turn("s") == turn
        store.save_partial(turn, "half")
        store.finish_turn(turn, reply="done", status="completed", error=None, tools=[], metrics={})
        assert coordination.running_turn("s") is None
        assert store.turns("s")[0].reply == "done"
    finally:
        listener.close()


def test_a_sqlite_store_of_any_earlier_version_upgrades_in_place(tmp_path):
    """Each schema version a store may have been left at (the ALTERs of later versions not
    yet run, its search index and totals not yet built) is brought to today's."""
    import sqlite3
    from contextlib import closing

    from tui.core.store.db import SqliteDb
    from tui.core.store.sqlite import MIGRATIONS, SCHEMA_VERSION

    for version in range(1, SCHEMA_VERSION):
        path = tmp_path / f"v{version}.db"
        with closing(sqlite3.connect(path)) as conn:
            db = SqliteDb(conn)
            with db.tx():
                for step in MIGRATIONS[:version]:
                    step(db)
                db.execute(
                    "INSERT INTO conversations(id, title, created_at, updated_at)"
                    " VALUES ('a', 'Old', 1.0, 2.0)"
                )
                db.execute(
                    "INSERT INTO turns(conversation_id, started_at, finished_at, prompt, reply,"
                    " status, metrics) VALUES ('a', 1.0, 2.0, 'of wyverns', 'two legs',"
                    " 'completed', ?)",
                    (json.dumps({"time_to_first_token_s": 0.5, "elapsed_s": 1.0}),),
                )
                if version >= 4:  # from version 4 on, the app keeps the totals as it stores
                    from tui.core.store import totals as kept

                    kept.rebuild(db)
            conn.execute(f"PRAGMA user_version = {version}")
        store = Store(path)
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [c.id for c in store.conversations("legs")] == ["a"]
        assert store.api_info("a") == ("", {})
        totals = store.totals()
        assert (totals.turns, totals.completed, totals.median_ttft) == (1, 1, 0.5)
        store.close()


@pytest.fixture
def stoppable_postgres():
    """A PostgreSQL server of this test's own, to stop and start: a database's URL and
    the server's control (``tests.e2e.test_pg_outage.PgControl``)."""
    from tests.e2e.test_pg_outage import PgControl
    from tui.bench.pg import new_database, pg_bin, postgres_server

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    with postgres_server() as base:
        yield new_database(base), PgControl(base)


def test_the_postgresql_store_survives_its_server_stopping_and_starting(stoppable_postgres):
    """While the server is away the store says ``StoreUnavailable`` at once (no address in
    it), keeps a turn's end, the model's memory and its queue ticket for later and stops
    renewing its lease; once it is back every connection reopens by itself, what was kept
    is written in order, and no turn is left running nor a ticket held."""
    import time

    from tui.core.store import StoreUnavailable

    database, server = stoppable_postgres
    store = Store(url=database)
    try:
        store.ensure_conversation("s")
        ticket, _ = store.coordination.enqueue("s")
        turn = store.start_turn("s", "a long one")
        store.save_partial(turn, "half")
        server.stop()

        began = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            store.ensure_conversation("t")
        assert "127.0.0.1" not in str(caught.value) and time.monotonic() - began < 1
        with pytest.raises(StoreUnavailable):
            store.turns("s")  # the reader's connection too
        assert store.unready() == "the store does not answer"
        assert store.coordination.ahead("s", ticket + 1) == 1  # a waiting prompt waits on
        # the turn asks, then ends while the server is away: nothing raises, all is kept
        store.save_partial(turn, "half and more")
        store.coordination.ask("s", "call_1")
        store.save_tools(turn, [{"name": "roll_dice", "status": "completed"}])
        store.finish_turn(
            turn, reply="the whole reply", status="failed", error="away", tools=[], metrics={}
        )
        store.coordination.dequeue("s", ticket)
        assert store.coordination.writer.behind
        assert not store.reachable()  # the lease is not renewed meanwhile

        server.start()
        back = time.monotonic()
        while store.coordination.writer.behind:
            assert time.monotonic() - back < 10, "what was kept is not written"
            time.sleep(0.05)
        (stored,) = store.turns("s")
        assert (stored.reply, stored.status) == ("the whole reply", "failed")
        assert stored.tools == [] and store.coordination.asked("s", "call_1")  # in order
        assert store.coordination.waiting("s") == 0
        store.ensure_conversation("t")  # the main connection is back
        assert store.unready() is None  # the lease renewed again
        assert time.monotonic() - back < 10
    finally:
        store.close()


def test_a_lease_whose_process_lost_only_the_server_is_alive_while_it_reconnects(
    stoppable_postgres, monkeypatch
):
    """A restarted server knows none of the connections the leases name: for a lease's
    time to live after its start every lease counts as alive (a survivor takes over no
    turn whose process is only reconnecting), then the ordinary rule holds again."""
    import time

    from tui.core.store.lease import alive_sql

    database, server = stoppable_postgres
    monkeypatch.setenv("AGENTS_TUI_LEASE_TTL", "2")
    store = Store(url=database)
    try:
        store.ensure_conversation("s")
        db = store._db
        time.sleep(2.1)  # the server has run longer than a lease's time to live
        db.execute(
            "INSERT INTO leases(instance_id, host, pid, backend_pid, started_at, heartbeat_at)"
            " VALUES ('other', 'h', 1, 999999, 0, extract(epoch FROM clock_timestamp()))"
        )
        assert not store.lease.alive(db, "other")  # renewed, but its backend is gone
        server.stop()
        server.start()
        assert store.reachable()
        assert store.lease.alive(db, "other")  # the server restarted: it may reconnect
        time.sleep(2.1)
        assert not store.lease.alive(db, "other")  # it did not: gone
        # this process's lease renewed over its new connection: alive by the ordinary rule
        mine = db.execute(f"SELECT {alive_sql('?', 2)}", (store.lease.instance_id,)).fetchone()
        assert mine[0] and store.unready() is None
    finally:
        store.close()


def test_a_process_whose_store_cannot_reach_the_database_stops_renewing_its_lease(
    postgres_url, monkeypatch
):
    """The lease's own connection works but the store's does not (the defect: a process
    whose main connection was lost kept its lease, so no survivor took over its turns):
    the lease is not renewed, lapses after its time to live, and is renewed again once
    the store reaches the database."""
    import time

    from tui.core.store.lease import alive_sql

    monkeypatch.setenv("AGENTS_TUI_LEASE_TTL", "1")
    store = Store(url=postgres_url)
    other = Store(url=postgres_url)  # another reader of the same database
    try:
        reaches = [True]
        monkeypatch.setattr(store, "reachable", lambda: reaches[0])
        store.lease.attach(store)  # its check as patched
        mine = store.lease.instance_id

        def alive() -> bool:
            return bool(other._db.execute(f"SELECT {alive_sql('?', 1)}", (mine,)).fetchone()[0])

        time.sleep(1.2)
        assert alive() and store.lease.held()
        reaches[0] = False
        time.sleep(1.5)
        assert not alive() and not store.lease.held()
        assert store.unready() == "the store's lease is not renewed"
        reaches[0] = True
        time.sleep(0.6)
        assert alive() and store.unready() is None
    finally:
        other.close()
        store.close()


async def test_the_postgresql_memory_reads_and_writes_the_rows_the_sdks_session_does(
    postgres_url,
):
    """The store's own memory replaced the SDK's SQLAlchemySession on PostgreSQL (one
    statement a call, off the event loop): the rows stay the SDK's, both ways."""
    from agents.extensions.memory import SQLAlchemySession
    from sqlalchemy.ext.asyncio import create_async_engine

    store = Store(url=postgres_url)
    engine = create_async_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        store.ensure_conversation("c1")
        memory = store.memory("c1")
        items = [
            {"role": "user", "content": 'héllo "q"'},
            {"role": "assistant", "content": "x" * 5},
            {"role": "user", "content": "third"},
        ]
        await memory.add_items(items[:2])
        await memory.add_items(items[2:])
        assert await memory.get_items() == items
        assert await memory.get_items(2) == items[-2:]
        sdk = SQLAlchemySession("c1", engine=engine, create_tables=False)
        assert await sdk.get_items() == items  # the SDK reads what the store wrote
        await sdk.add_items([{"role": "assistant", "content": "from the sdk"}])
        assert await memory.pop_item() == {"role": "assistant", "content": "from the sdk"}
        assert await sdk.get_items() == items
        await memory.clear_session()
        assert await sdk.get_items() == [] and await memory.pop_item() is None
        await sdk.add_items([{"role": "user", "content": "é"}])
        await memory.add_items([{"role": "user", "content": "é"}])
        rows = store._reader.execute(
            "SELECT message_data FROM agent_messages WHERE session_id = 'c1' ORDER BY id"
        ).fetchall()
        assert rows[-1][0] == rows[-2][0]  # byte for byte the SDK's row
    finally:
        await engine.dispose()
        store.close()


def test_a_turns_one_statement_end_on_postgresql_leaves_what_the_general_path_does(
    postgres_base,
):
    from tui.bench.pg import new_database
    from tui.core.store.base import Store as General
    from tui.core.store.postgres import PostgresStore

    def scenario(store: Store) -> tuple:
        ids = []
        for conversation in ("a", "b"):
            store.ensure_conversation(conversation)
            endings = [
                ("completed", None, {"elapsed_s": 1.5, "time_to_first_token_s": 0.2,
                                     "tokens_per_second": 30.0, "streamed_tokens": 40,
                                     "output_tokens": 41, "input_tokens": 7}),
                ("failed", "boom", {"elapsed_s": 0.5, "errors": 1,
                                    "errors_by_kind": {"store": 1}}),
                ("interrupted", None, {"elapsed_s": 0.3}),
                ("completed", None, {}),
            ]  # fmt: skip
            for i, (status, error, metrics) in enumerate(endings):
                turn = store.start_turn(conversation, f"p{i}")
                store.finish_turn(
                    turn, reply="r" * i, status=status, error=error, tools=[], metrics=metrics
                )
                ids.append(turn)
        store.finish_turn(  # a finished turn finished again: its share taken back first
            ids[0], reply="again", status="failed", error="x", tools=[], metrics={"elapsed_s": 2}
        )
        store.coordination.writer.flush()
        read = store._reader.execute
        try:
            return (
                [tuple(r) for r in read("SELECT * FROM turn_totals ORDER BY scope").fetchall()],
                [tuple(r) for r in read("SELECT * FROM turn_error_kinds ORDER BY scope, kind")],
                [
                    tuple(r)
                    for r in read(
                        "SELECT conversation_id, prompt, reply, status, error, tools, ttft_s,"
                        " rate, finished_at IS NOT NULL FROM turns ORDER BY id"
                    )
                ],
                store.totals(),
                store.global_stats()["total_sessions"],
            )
        finally:
            store.close()

    fast = scenario(Store(url=new_database(postgres_base)))
    original = PostgresStore._finish
    PostgresStore._finish = lambda self, turn_id, **kw: General.finish_turn(self, turn_id, **kw)  # type: ignore[method-assign]
    try:
        general = scenario(Store(url=new_database(postgres_base)))
    finally:
        PostgresStore._finish = original  # type: ignore[method-assign]
    assert fast == general
