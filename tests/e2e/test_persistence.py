"""Conversations across processes, crashes, the TUI reopening them, replays and exports."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.app.helpers import make_app, screen_text, send, wait_for_text, wait_idle, wait_until
from tests.scripts import game_master_steps
from tui.core.store import Store, default_db_path


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def test_two_processes_form_one_conversation_that_the_second_request_carries():
    first = run_cli(
        "run", "--session", "trip", "--agent", "tests.fixtures_agents:echo", "My name is Ann"
    )
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "run", "--session", "trip", "--agent", "tests.fixtures_agents:echo", "What is my name?"
    )
    assert second.returncode == 0, second.stderr
    seen = json.loads(second.stdout.strip().removeprefix("SEEN "))
    assert seen[0] == "user: My name is Ann"
    assert seen[1].startswith("assistant: SEEN")
    assert seen[-1] == "user: What is my name?"
    store = Store()
    assert [t.prompt for t in store.turns("trip")] == ["My name is Ann", "What is my name?"]
    assert store.conversation("trip").agent == "Echo"


def test_kill_9_mid_turn_loses_nothing_and_corrupts_nothing():
    done = run_cli("run", "--session", "k", "--agent", "tests.fixtures_agents:echo", "hello")
    assert done.returncode == 0
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "run",
            "--session",
            "k",
            "--agent",
            "tests.fixtures_agents:slow",
            "tell me a long story",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    db = default_db_path()
    deadline = time.monotonic() + 30
    partial = ""
    while time.monotonic() < deadline and len(partial.split()) < 5:
        time.sleep(0.1)
        try:
            row = (
                sqlite3.connect(db)
                .execute("SELECT reply FROM turns WHERE prompt = 'tell me a long story'")
                .fetchone()
            )
        except sqlite3.OperationalError:
            row = None
        partial = row[0] if row else ""
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert partial.startswith("word0 word1")
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Store()
    turns = store.turns("k")
    assert [t.status for t in turns] == ["completed", "interrupted"]
    assert turns[1].reply.startswith(partial)
    # the next turn's request carries the interrupted turn's prompt and partial text
    after = run_cli("run", "--session", "k", "--agent", "tests.fixtures_agents:echo", "go on")
    seen = json.loads(after.stdout.strip().removeprefix("SEEN "))
    assert "user: tell me a long story" in seen
    assert any(s.startswith("assistant: word0 word1") for s in seen)


async def test_tui_reopens_a_stored_conversation_with_tools_and_exports_it(tmp_path):
    app, _ = make_app(game_master_steps(), agent="game-master")
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "I climb the cliff")
        await wait_idle(pilot)
        conversation = app.conversation_id
    # a new app, a new process in real life: --session reopens it
    from tests.scripts import runner_for
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings

    runner, _ = runner_for([], agent="game-master")
    app2 = AgentsTuiApp(
        Settings(), runner=runner, backend_label="scripted", session_id=conversation
    )
    async with app2.run_test(size=(160, 45)) as pilot:
        screen = await wait_for_text(pilot, "The rope holds!")
        assert "I climb the cliff" in screen and "The rope holds!" in screen
        assert "roll_dice" in screen and "flip_coin" in screen
        assert "tok/s" in screen  # the stored turn's metrics
        await send(pilot, f"/export md {tmp_path / 'out.md'}")
        await wait_until(pilot, lambda: (tmp_path / "out.md").exists(), "the export")
        text = (tmp_path / "out.md").read_text()
        assert "roll_dice" in text and "The rope holds!" in text


async def test_sessions_screen_search_rename_delete():
    store = Store()
    for cid, prompt in (("s1", "dragons and dice"), ("s2", "weather today")):
        store.ensure_conversation(cid, agent="Assistant")
        turn = store.start_turn(cid, prompt)
        store.finish_turn(turn, reply="ok", status="completed", error=None, tools=[], metrics={})
    app, _ = make_app([])
    async with app.run_test(size=(160, 45)) as pilot:
        from textual.widgets import DataTable, Input

        from tui.screens.confirm import ConfirmScreen
        from tui.screens.sessions import SessionsScreen
        from tui.screens.text_prompt import TextPromptScreen

        await wait_until(pilot, lambda: app.store is not None, "the store")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen), "the sessions")
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 3  # two stored + the current empty conversation
        screen.query_one(Input).value = "dragons"
        await wait_until(pilot, lambda: table.row_count == 1, "the search to filter")
        table.focus()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, TextPromptScreen), "rename")
        app.screen.query_one(Input).value = "Dragon game"
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.conversation("s1").title == "Dragon game", "rename")
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: store.conversation("s1") is None, "the delete")
        screen.query_one(Input).value = ""
        await wait_until(pilot, lambda: table.row_count == 2, "the search to clear")
        table.focus()
        table.move_cursor(row=table.get_row_index("s2"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.conversation_id == "s2", "s2 to open")
        await wait_for_text(pilot, "weather today")


async def test_a_recording_replays_faithfully():
    app, _ = make_app(game_master_steps(rate=4), agent="game-master")
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "I climb the cliff")
        await wait_idle(pilot)
        original_text = app.query_one("AssistantMessage").source
        original_rows = [
            (r.title, r.arguments, r.output, r.status) for r in app.timeline.rows_by_call.values()
        ]
        first = app.session_metrics.turns[0]
        original_s = (first.last_token_ns - first.first_token_ns) / 1e9
        recording = app.conversation.recorder.path
        app.conversation.recorder.close()
    lines = Path(recording).read_text().splitlines()
    assert json.loads(lines[0])["event"] == "TurnStarted"
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.core.turn.recording import ReplayRunner

    runner = ReplayRunner(Path(recording), speed=4.0)
    replay = AgentsTuiApp(
        Settings(), runner=runner, backend_label="replay", autoplay=runner.prompts
    )
    async with replay.run_test(size=(160, 45)) as pilot:
        await wait_until(pilot, lambda: replay.session_metrics.turns, "the replayed turn")
        await wait_idle(pilot)
        assert replay.query_one("AssistantMessage").source == original_text
        rows = [
            (r.title, r.arguments, r.output, r.status)
            for r in replay.timeline.rows_by_call.values()
        ]
        assert rows == original_rows
        again = replay.session_metrics.turns[0]
        replay_s = (again.last_token_ns - again.first_token_ns) / 1e9
        assert original_s > 1.5
        # the original timing, scaled by --speed 4 (loose: a 2-core CI box has hiccups)
        assert 0.15 < replay_s / original_s < 0.75
        assert replay.store is None  # a replay writes nothing


def test_stats_command_and_api_keys_never_stored():
    done = run_cli(
        "run",
        "--session",
        "x",
        "--agent",
        "tests.fixtures_agents:echo",
        "--api-key",
        "sk-very-secret-key-123",
        "hi",
    )
    assert done.returncode == 0, done.stderr
    stats = run_cli("stats", "--json")
    numbers = json.loads(stats.stdout)
    assert numbers["chat_statistics"]["your_messages"] == 1
    assert numbers["performance_statistics"]["turns"] == 1
    table = run_cli("stats").stdout
    assert "Chat statistics" in table and "Average response length" in table
    data_dir = default_db_path().parent
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert b"sk-very-secret-key-123" not in path.read_bytes(), path


async def test_deleting_the_open_conversation_starts_a_fresh_one_and_the_next_turn_works():
    from tests.scripts import text_step
    from tui.widgets.assistant_message import AssistantMessage

    app, _ = make_app([text_step(["first ", "reply"]), text_step(["second ", "reply"])])
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "remember the first thing")
        await wait_idle(pilot)
        deleted = app.conversation_id
        from textual.widgets import DataTable

        from tui.screens.confirm import ConfirmScreen
        from tui.screens.sessions import SessionsScreen

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen), "the sessions")
        table = app.screen.query_one(DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(deleted))
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen), "back")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.conversation_id != deleted, "a fresh conversation")
        store = Store()
        assert store.conversation(deleted) is None
        assert app.conversation_id != deleted
        assert "remember the first thing" not in screen_text(app)
        await send(pilot, "a new start")
        await wait_idle(pilot)
        replies = app.query(AssistantMessage)
        assert [r.status for r in replies] == ["completed"]
        assert replies.last().source == "second reply"
        assert "Internal error" not in screen_text(app)
        turns = store.turns(app.conversation_id)
        assert [t.prompt for t in turns] == ["a new start"] and turns[0].status == "completed"


def test_export_import_export_round_trip_and_the_model_remembers(tmp_path):
    first = run_cli(
        "run", "--session", "orig", "--agent", "tests.fixtures_agents:echo", "My name is Ann"
    )
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "run", "--session", "orig", "--agent", "tests.fixtures_agents:echo", "I like <dice>"
    )
    assert second.returncode == 0, second.stderr
    exported = tmp_path / "orig.json"
    done = run_cli("export", "orig", "--format", "json", "-o", str(exported))
    assert done.returncode == 0, done.stderr
    imported = run_cli("import", str(exported))
    assert imported.returncode == 0, imported.stderr
    new_id = imported.stdout.strip()
    assert new_id and new_id != "orig"  # the id was taken: a new one
    again = run_cli("export", new_id, "--format", "json")
    assert again.returncode == 0
    before, after = json.loads(exported.read_text()), json.loads(again.stdout)
    assert after["turns"] == before["turns"]
    assert (after["title"], after["agent"], after["model"]) == (
        before["title"],
        before["agent"],
        before["model"],
    )
    # The model's memory came along: the next turn's input holds the imported messages.
    recall = run_cli(
        "run", "--session", new_id, "--agent", "tests.fixtures_agents:echo", "What is my name?"
    )
    assert recall.returncode == 0, recall.stderr
    seen = json.loads(recall.stdout.removeprefix("SEEN "))
    assert seen[0] == "user: My name is Ann" and "user: I like <dice>" in seen
    assert seen[-1] == "user: What is my name?"
    markdown = run_cli("export", new_id)
    assert "My name is Ann" in markdown.stdout
    assert run_cli("export", "nosuch").returncode == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failed = run_cli("import", str(broken))
    assert failed.returncode == 1 and "is not JSON" in failed.stderr
