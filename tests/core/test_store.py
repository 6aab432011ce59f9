"""The store: conversations, turns, search, stats, safety."""

import os
import sqlite3
import stat
import time

from tui.core.store import Store
from tui.core.store.export import export


def _turn(store, conv, prompt, reply, status="completed", tools=(), metrics=None):
    turn = store.start_turn(conv, prompt)
    store.finish_turn(
        turn,
        reply=reply,
        status=status,
        error=None,
        tools=list(tools),
        metrics=metrics
        or {
            "time_to_first_token_s": 0.2,
            "tokens_per_second": 50.0,
            "elapsed_s": 1.0,
            "output_tokens": 10,
        },
    )
    return turn


def test_database_is_private_and_in_wal_mode(tmp_path):
    store = Store(tmp_path / "data" / "agents-tui" / "db.sqlite")
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_conversations_titles_search_rename_delete(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.ensure_conversation("a", agent="Game Master", model="m")
    _turn(store, "a", "I climb the dragon's cliff", "You rolled a 17 and made it.")
    store.ensure_conversation("b", agent="Assistant", model="m")
    _turn(store, "b", "What is TTFT?", "Time to first token.")
    rows = store.conversations()
    assert [r.id for r in rows] == ["b", "a"]  # latest first
    assert rows[1].title == "I climb the dragon's cliff" and rows[1].turns == 1
    assert [r.id for r in store.conversations("dragon")] == ["a"]
    assert [r.id for r in store.conversations("first tok")] == ["b"]  # prefix search on replies
    store.rename("a", "Cliff adventure")
    assert store.conversation("a").title == "Cliff adventure"
    store.delete("a")
    assert store.conversation("a") is None and store.turns("a") == []
    assert store.conversations("dragon") == []


def test_global_stats_over_all_stored_turns(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.ensure_conversation("a")
    _turn(store, "a", "p1", "r1")
    _turn(
        store,
        "a",
        "p2",
        "r2",
        status="interrupted",
        metrics={"time_to_first_token_s": 0.4, "tokens_per_second": 30.0, "elapsed_s": 2.0},
    )
    stats = store.global_stats()
    assert stats["total_sessions"] == 1 and stats["total_turns"] == 2
    assert abs(stats["average_time_to_first_token"] - 0.3) < 1e-9
    assert stats["sessions_with_issues"] == 1


def test_running_turn_left_by_a_crash_becomes_interrupted_with_its_text(tmp_path):
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.ensure_conversation("a")
    turn = store.start_turn("a", "tell me")
    store.save_partial(turn, "Once upon")
    # no finish_turn: the process "died" (its pid is one that has exited)
    _owned_by_a_dead_process(store, turn)
    reopened = Store(path)
    [row] = reopened.turns("a")
    assert row.status == "interrupted" and row.reply == "Once upon"
    assert [t.id for t in reopened.recovered] == [turn]


def _index_matches_the_turns(store):
    """FTS5's own check of an external-content index against the turns table."""
    store._db.execute("INSERT INTO turns_fts(turns_fts) VALUES ('integrity-check')")


def test_a_streaming_reply_is_searchable_once_its_turn_ends(tmp_path):
    """Partial saves do not re-index the growing reply; the finished (or crashed) turn is
    found by its reply, and the index stays consistent through every step."""
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.ensure_conversation("a")
    turn = store.start_turn("a", "tell me a tale")
    for text in ("Once", "Once upon a time", "Once upon a time a dragon"):
        store.save_partial(turn, text)
    assert [r.id for r in store.conversations("tale")] == ["a"]  # the prompt at once
    assert store.conversations("dragon") == []  # not while it streams
    store.finish_turn(
        turn,
        reply="Once upon a time a dragon slept.",
        status="completed",
        error=None,
        tools=[],
        metrics={},
    )
    assert [r.id for r in store.conversations("dragon")] == ["a"]
    _index_matches_the_turns(store)
    crashed = store.start_turn("a", "and then?")
    store.save_partial(crashed, "The knight arrived")
    _owned_by_a_dead_process(store, crashed)
    reopened = Store(path)
    assert [r.id for r in reopened.conversations("knight")] == ["a"]  # interrupted: indexed
    _index_matches_the_turns(reopened)
    reopened.delete("a")
    assert reopened.conversations("dragon") == [] and reopened.conversations("knight") == []
    _index_matches_the_turns(reopened)


def test_a_store_from_an_earlier_version_gets_the_new_index(tmp_path):
    """Stores made with the old triggers (every partial save indexed) are re-indexed once."""
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.ensure_conversation("a")
    _turn(store, "a", "old prompt", "an old wyvern reply")
    db = store._db
    db.executescript(
        """
        DROP TRIGGER turns_au;
        CREATE TRIGGER turns_au AFTER UPDATE OF prompt, reply ON turns BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, prompt, reply)
            VALUES ('delete', old.id, old.prompt, old.reply);
            INSERT INTO turns_fts(rowid, prompt, reply) VALUES (new.id, new.prompt, new.reply);
        END;
        PRAGMA user_version = 0;
        """
    )
    running = store.start_turn("a", "still going")
    store.save_partial(running, "a griffin half-told")  # indexed by the old trigger
    store.close()
    reopened = Store(path)
    assert reopened._db.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert [r.id for r in reopened.conversations("wyvern")] == ["a"]
    reopened.finish_turn(
        running, reply="a griffin, told.", status="completed", error=None, tools=[], metrics={}
    )
    assert [r.id for r in reopened.conversations("griffin")] == ["a"]
    _index_matches_the_turns(reopened)


def test_export_markdown_and_json_with_tools_and_metrics(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.ensure_conversation("a", agent="Game Master")
    _turn(
        store,
        "a",
        "roll",
        "A 4!",
        tools=[
            {
                "call_id": "c1",
                "name": "roll_dice",
                "arguments": '{"sides": 6}',
                "output": "4",
                "failed": False,
            }
        ],
    )
    md = export(store.conversation("a"), store.turns("a"), "md", tmp_path / "t.md").read_text()
    assert "roll_dice" in md and '{"sides": 6}' in md and "A 4!" in md and "TTFT 0.200 s" in md
    import json

    data = json.loads(
        export(store.conversation("a"), store.turns("a"), "json", tmp_path / "t.json").read_text()
    )
    assert data["turns"][0]["tool_calls"][0]["output"] == "4"
    assert data["turns"][0]["metrics"]["tokens_per_second"] == 50.0


def _owned_by_a_dead_process(store: Store, turn_id: int) -> None:
    """A process that took a lease on this store, started the turn's owner, and exited."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from tui.core.store import Store;"
        "print(Store(Path(sys.argv[1])).lease.instance_id)"
    )
    gone = subprocess.run(
        [sys.executable, "-c", code, str(store.path)], capture_output=True, text=True, check=True
    )
    with store._tx() as db:
        db.execute("UPDATE turns SET owner = ? WHERE id = ?", (gone.stdout.strip(), turn_id))


def test_a_turn_another_live_process_is_running_is_left_alone(tmp_path):
    """`agents-tui run` opening the store while the TUI streams must not cut the TUI's turn."""
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.ensure_conversation("a")
    store.start_turn("a", "still streaming")
    reopened = Store(path)  # a second opener while the owner (this process) lives
    assert reopened.recovered == []
    assert reopened.turns("a")[0].status == "running"


def _lease_row(store: Store, instance: str, age_s: float) -> None:
    """An instance seen only through its heartbeat (another machine: no lock file here)."""
    with store._tx() as db:
        db.execute(
            "INSERT INTO leases(instance_id, host, pid, started_at, heartbeat_at)"
            " VALUES (?, 'elsewhere', 1, ?, ?)",
            (instance, time.time() - age_s, time.time() - age_s),
        )


def test_a_turn_is_owned_by_a_lease_not_a_pid(tmp_path, monkeypatch):
    """Same PID or not, a turn whose owner's lease expired is interrupted with its text;
    one whose owner renews its lease is left alone, and the owner's own turns too."""
    import os

    from tui.core.store import sweep

    monkeypatch.setenv("AGENTS_TUI_LEASE_TTL", "30")
    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.ensure_conversation("a")
    mine = store.start_turn("a", "mine")
    fresh = store.start_turn("a", "fresh")
    stale = store.start_turn("a", "stale")
    store.save_partial(stale, "half a")
    _lease_row(store, "fresh-owner", age_s=2)
    _lease_row(store, "stale-owner", age_s=31)
    with store._tx() as db:
        # the stale owner had this very PID: a PID says nothing about who runs a turn
        db.execute("UPDATE turns SET owner = 'fresh-owner' WHERE id = ?", (fresh,))
        db.execute(
            "UPDATE turns SET owner = 'stale-owner', owner_pid = ? WHERE id = ?",
            (os.getpid(), stale),
        )
    reopened = Store(path)
    assert [t.id for t in reopened.recovered] == [stale]
    status = {t.id: (t.status, t.reply) for t in reopened.turns("a")}
    assert status == {
        mine: ("running", ""),
        fresh: ("running", ""),
        stale: ("interrupted", "half a"),
    }
    # the fresh owner stops renewing: the lease thread's sweep closes its turn
    with store._tx() as db:
        db.execute(
            "UPDATE leases SET heartbeat_at = heartbeat_at - 60 WHERE instance_id = ?",
            ("fresh-owner",),
        )
    sweep(path)
    assert {t.id: t.status for t in store.turns("a")}[fresh] == "interrupted"
    assert {t.id: t.status for t in store.turns("a")}[mine] == "running"


def test_kept_totals_equal_the_statistics_computed_from_every_turn(tmp_path):
    """Turns finished, failed, interrupted, imported, recovered after a crash, finished
    again, and a conversation deleted: the kept totals always equal a full count."""
    from tui.core.observe.stats import as_json, report, report_of, totals_of

    path = tmp_path / "db.sqlite"
    store = Store(path)
    for name in ("a", "b", "c"):
        store.ensure_conversation(name)
    for i in range(30):
        conversation = "abc"[i % 3]
        status = ("completed", "failed", "interrupted")[i % 4 % 3]
        metrics = {
            "time_to_first_token_s": 0.1 * (i % 7) or None,
            "tokens_per_second": float(i % 5) * 10 or None,
            "elapsed_s": 1.0 + i,
            "output_tokens": i,
            "input_tokens": 2,
            "errors": i % 3,
            "retries": i % 2,
            "errors_by_kind": {"network": i % 3} if i % 3 else {},
        }
        _turn(store, conversation, f"p{i}", f"reply {i}" * (i % 2), status=status, metrics=metrics)
    store.import_turn(
        "b",
        started_at=1.0,
        prompt="imported",
        reply="old",
        status="completed",
        error=None,
        tools=[],
        metrics={"time_to_first_token_s": 9.0, "elapsed_s": 3.0},
    )
    crashed = store.start_turn("c", "cut")
    store.save_partial(crashed, "half")
    _owned_by_a_dead_process(store, crashed)
    store.start_turn("a", "still running")  # not counted until it ends
    store = Store(path)  # recovers the cut turn
    # the owner was only thought gone: its own end replaces what recovery counted
    store.finish_turn(
        crashed,
        reply="half and whole",
        status="completed",
        error=None,
        tools=[],
        metrics={"time_to_first_token_s": 0.5, "errors": 1, "errors_by_kind": {"timeout": 1}},
    )

    def check() -> None:
        finished = [t for t in store.turns() if t.status not in ("running",)]
        assert report_of(store.totals()) == report(finished)
        for name in ("a", "b", "c"):
            mine = [t for t in finished if t.conversation_id == name]
            assert as_json(report_of(store.totals(name))) == as_json(report(mine)), name
        assert store.totals() == totals_of(finished)

    check()
    store.delete("b")
    check()
    # a store from before the totals were kept gets them on open
    with store._tx() as db:
        db.execute("DELETE FROM turn_totals")
        db.execute("PRAGMA user_version = 2")
    store = Store(path)
    check()


def test_a_store_kept_before_the_tutorials_rate_gets_its_counters_on_open(tmp_path):
    """A store of the last schema (no end-to-end rate, no streamed count kept) gains the
    columns and recounts every finished turn, so its statistics are the tutorial's at once."""
    from tui.core.observe.stats import as_json, report_of

    path = tmp_path / "db.sqlite"
    store = Store(path)
    store.ensure_conversation("c")
    for rate in (4.0, 40.0):
        turn = store.start_turn("c", "p")
        metrics = {"end_to_end_tokens_per_second": rate, "streamed_tokens": 12, "errors": 0}
        store.finish_turn(
            turn, reply="r", status="completed", error=None, tools=[], metrics=metrics
        )
    with store._tx() as db:  # as the last session's schema left it
        for column in ("e2e_rate_n", "e2e_rate_sum", "streamed"):
            db.execute(f"ALTER TABLE turn_totals DROP COLUMN {column}")
        db.execute("UPDATE turns SET rate = NULL")
        db.execute("PRAGMA user_version = 3")
    store.close()
    store = Store(path)
    figures = as_json(report_of(store.totals("c")))["performance_statistics"]
    assert figures["average_tokens_per_second"] == 22.0
    assert figures["total_tokens_processed"] == 24
    assert "1 under 10 tokens/s" in str(figures["performance_issues"])  # the index, rebuilt
