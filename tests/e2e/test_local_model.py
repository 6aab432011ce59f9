"""End to end with the real bundled model and a real HTTP server: no mocks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

pytestmark = pytest.mark.local_model


def run_cli(*args: str, timeout: float = 240, env_extra: dict | None = None):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "tui", "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_bundled_model_streams_many_deltas():
    done = run_cli("--jsonl", "--max-turns", "3", "Write two sentences about the sea.")
    assert done.returncode == 0, done.stderr
    events = events_of(done.stdout)
    assert all("timestamp" in e for e in events)
    deltas = [e["data"]["delta"] for e in events if e["type"] == "text_delta"]
    assert len(deltas) >= 10
    final = events[-1]
    assert final["type"] == "response_complete"
    assert final["data"]["final_response"] == "".join(deltas)
    assert final["data"]["usage"]["output_tokens"] > 0
    assert final["data"]["usage"]["input_tokens"] > 0
    assert final["data"]["usage"]["source"] == "provider"
    assert final["data"]["metrics"]["time_to_first_token_s"] > 0
    assert final["data"]["metrics"]["tokens_per_second"] > 0


def test_text_mode_prints_exactly_the_reply():
    jsonl = run_cli("--jsonl", "--seed", "1", "Say hi.")
    assert jsonl.returncode == 0
    done = run_cli("--text", "Say hi.")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != ""
    assert "{" not in done.stdout.splitlines()[0][:1]  # text, not JSON


def test_game_master_makes_the_asked_tool_call_and_narrates_its_result():
    done = run_cli(
        "--jsonl", "--agent", "game-master", "--seed", "3", "I try to climb the cliff, roll a d20"
    )
    assert done.returncode == 0, done.stderr
    events = events_of(done.stdout)
    kinds = [e["type"] for e in events]
    assert "tool_start" in kinds and "tool_complete" in kinds
    start = next(e for e in events if e["type"] == "tool_start")["data"]
    assert start["tool_name"] == "roll_dice"
    assert json.loads(start["arguments"]) == {"sides": 20}
    complete = next(e for e in events if e["type"] == "tool_complete")["data"]
    assert complete["call_id"] == start["call_id"] and complete["tool_output"] != ""
    after = kinds.index("tool_complete")
    narration = [e for e in events[after:] if e["type"] == "text_delta"]
    assert len(narration) >= 5
    assert events[-1]["data"]["metrics"]["tool_calls"] == 1


# The two accuracy tests took 292 s of a 300 s timeout together (163 s and 226 s apart, with
# other work on both cores). The picks are now scored in one batch (all candidates, their
# prefixes evaluated once) and the narration is held to its word budget: 115 s and 165 s
# with other work on both cores (load 4.5 on 2 cores; 172 s of CPU for both), a quarter of
# their 600 s timeouts or less.


@pytest.mark.timeout(600)
def test_game_master_picks_the_asked_call_in_at_least_90_percent_of_requests():
    """The bundled model scores the candidate calls; a keyword router would not be measured."""
    from tui.bench.game_master import REQUESTS, TARGET_RATE, pick_rate

    assert len(REQUESTS) >= 30
    result = pick_rate(with_sessions=False)
    assert result["game_master_pick_rate"] >= TARGET_RATE, result["game_master_misses"]
    named, turns = map(int, result["game_master_narration_names_result"].split("/"))
    assert named >= turns - 2, "the narration should name the roll's result"


SESSION_TARGET = 0.85


@pytest.mark.timeout(600)
def test_game_master_sessions_make_the_asked_call_turn_after_turn():
    """Whole sessions: the asked call turn after turn, however many tool turns came before,
    none on story turns, and no reply copying an earlier one. (A test of its own: with the
    picks above it took 292 s of a 300 s timeout on a quiet machine.)"""
    from tui.bench.game_master import session_rate
    from tui.core.models.local_model import LlamaEngine, bundled_model_path

    engine = LlamaEngine(bundled_model_path())
    engine.load()
    result = session_rate(engine)
    assert result["game_master_session_turns"] >= 40
    assert result["game_master_session_failed_turns"] == 0
    # A session's later turns read the narration sampled before them, so over its ~40 calls
    # the rate moves run to run (0.875 and 0.94 seen on the same code): the single requests
    # above hold the 90 % target; sessions hold 85 % (a broken picker scores under half).
    assert result["game_master_session_rate"] >= SESSION_TARGET, result[
        "game_master_session_misses"
    ]
    right, story = map(int, result["game_master_session_no_call"].split("/"))
    assert right >= story - 1, result["game_master_session_misses"]
    repeats, total = map(int, result["game_master_session_repeats"].split("/"))
    assert repeats <= total // 10


def test_the_bundled_model_neither_loops_nor_runs_on():
    """Three asks whose replies looped before the sampling was tuned (a story, the game
    master and the assistant in Vietnamese): none repeats an 8-word passage of itself, none
    runs past 300 words. ``agents-tui bench --loops`` asks all 30."""
    from tui.bench.loops import MAX_WORDS, PROMPTS, loops

    chosen = tuple(
        p
        for p in PROMPTS
        if p[2].startswith(("Tell me a funny story", "Tôi mở cánh cửa", "Tối nay tôi nên"))
    )
    assert len(chosen) == 3
    result = loops(prompts=chosen, texts=True)
    assert result["looping"] == 0, result["flagged"]
    assert result["words_max"] <= MAX_WORDS and result["failed"] == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    """llama-cpp-python's own OpenAI-compatible server on loopback, with the bundled model."""
    from tui.core.models.local_model import bundled_model_path

    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            # the server with the app's AMX work-around (tui/core/models/llama_workarounds.py)
            "import runpy, sys; from tui.core.models import llama_workarounds; "
            "llama_workarounds.install(); sys.argv[0] = 'llama_cpp.server'; "
            "runpy.run_module('llama_cpp.server', run_name='__main__')",
            "--model",
            str(bundled_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/models", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("llama_cpp.server exited at start")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start within 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_base_url_streams_text_and_usage_over_real_http(llama_server):
    done = run_cli("--jsonl", "--base-url", llama_server, "Name three colours.")
    assert done.returncode == 0, done.stderr
    events = events_of(done.stdout)
    deltas = [e for e in events if e["type"] == "text_delta"]
    assert len(deltas) >= 3
    final = events[-1]["data"]
    # llama-cpp-python's server ignores stream_options.include_usage (checked with curl),
    # so the count comes from the streamed deltas and says so.
    assert final["usage"]["output_tokens"] == len(deltas)
    assert final["usage"]["source"] == "streamed_deltas"
    assert final["metrics"]["streamed_tokens"] == len(deltas)
    assert final["metrics"]["tokens_per_second"] > 0


def test_unreachable_server_gives_one_line_without_traceback():
    port = _free_port()
    done = run_cli(
        "--base-url", f"http://127.0.0.1:{port}/v1", "--max-retries", "0", "hi", timeout=60
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "connection failed" in done.stderr.lower()


async def test_tui_chats_with_the_bundled_model():
    from tests.app.helpers import screen_text, send, wait_idle
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.widgets.assistant_message import AssistantMessage

    app = AgentsTuiApp(Settings(provider="local", max_turns=3))
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "Hello! Who are you?")  # sent before the model is loaded: queued
        for _ in range(600):
            if app.model_ready:
                break
            await pilot.pause(0.1)
        await wait_idle(pilot, timeout=120)
        reply = app.query_one(AssistantMessage)
        assert reply.status == "completed" and len(reply.source) > 5
        assert "SmolLM2" in app.sub_title
        assert app.session_metrics.turns[0].tokens > 3
        assert "TTFT" in screen_text(app)


async def test_tui_game_master_on_the_bundled_model_calls_a_tool_then_narrates():
    from tests.app.helpers import pane_text, send, wait_idle
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.widgets.assistant_message import AssistantMessage

    app = AgentsTuiApp(Settings(provider="local", agent="game-master", seed=4, max_turns=4))
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(600):  # loaded, then warmed for this agent's tools
            if app.model_ready:
                break
            await pilot.pause(0.1)
        await send(pilot, "I try to climb the cliff, roll a d20")
        await wait_idle(pilot, timeout=120)
        rows = list(app.timeline.rows_by_call.values())
        assert rows and rows[0].title in ("roll_dice", "flip_coin", "magic_answer")
        assert rows[0].status == "done" and rows[0].output
        reply = app.query_one(AssistantMessage)
        assert reply.status == "completed" and len(reply.source) > 10
        assert rows[0].title in pane_text(app, app.timeline)


def test_the_bundled_model_reads_the_conversation_verbatim():
    """llama-cpp-python's function-calling template HTML-escaped every message (the model
    saw ``It&#39;s``); the prompt it is given now holds the text as typed."""
    from tui.core.models.local_model import LlamaEngine, bundled_model_path

    engine = LlamaEngine(bundled_model_path())
    engine.load()
    prompts: list[str] = []
    complete = engine._llm.create_completion

    def capture(*args, **kwargs):
        prompts.append(kwargs.get("prompt", args[0] if args else ""))
        return complete(*args, **kwargs)

    engine._llm.create_completion = capture
    said = 'It\'s <b>bold</b> & "quoted"'
    list(
        engine.chat(
            threading.Event(),
            messages=[
                {"role": "user", "content": said},
                {"role": "assistant", "content": "Isn't it?"},
                {"role": "user", "content": "Yes"},
            ],
            max_tokens=1,
        )
    )
    assert prompts and said in prompts[0] and "Isn't it?" in prompts[0]
    assert "&#39;" not in prompts[0] and "&lt;" not in prompts[0]


async def test_a_conversation_past_the_window_keeps_answering_on_the_bundled_model():
    """Every turn fitted to the window (a small one here, so the test is short): the oldest
    turns give way, counted by the model's own tokenizer, and no turn fails."""
    import io

    from tui.core.config import Settings
    from tui.core.models.providers import build_runner
    from tui.core.store import Store
    from tui.headless import run_turn_headless

    settings = Settings(provider="local", context_window=700)
    runner, backend = build_runner(settings)
    backend.engine.load()
    trimmed = []
    for n in range(14):
        out = io.StringIO()
        code = await run_turn_headless(
            settings,
            f"Tell me one short fact about the number {n}.",
            jsonl=True,
            out=out,
            runner=runner,
            session_id="past-window",
        )
        events = events_of(out.getvalue())
        done = events[-1]["data"]
        assert code == 0 and done["status"] == "completed", done
        trimmed += [e["data"] for e in events if e["type"] == "context_trimmed"]
        assert done["metrics"]["context_tokens"] <= runner.budget.limit()
    assert trimmed and trimmed[-1]["dropped_turns"] > 0 and trimmed[-1]["tokens_counted"]
    assert runner.last_context.items[-1]["content"] == "Tell me one short fact about the number 13."
    assert len(Store().turns("past-window")) == 14  # nothing deleted
