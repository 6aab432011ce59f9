"""The real app against a hostile OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import json
import time

import pytest

from tests.hostile_server import Behaviour, HostileServer
from tui.core.config import load_settings
from tui.core.store import Store
from tui.headless import run_turn_headless

FULL = HostileServer().full_text


@pytest.fixture
def hostile():
    servers = []

    def make(*script: Behaviour, **kw) -> tuple[HostileServer, str]:
        server = HostileServer(script=list(script), **kw)
        servers.append(server)
        return server, server.start()

    yield make
    for server in servers:
        server.stop()


async def headless(
    url: str, *extra: str, jsonl: bool = False, agent: str = "assistant", session: str | None = None
) -> tuple[int, str]:
    flags: dict = {"base_url": url, "agent": agent, "stall_timeout": 1.0, "max_retries": 2}
    flags.update(inject_faults=0.0, seed=0)
    for pair in extra:
        key, _, value = pair.partition("=")
        flags[key] = type(flags.get(key, ""))(value) if key in flags else value
    out = io.StringIO()
    code = await run_turn_headless(
        load_settings(flags, environ={}), "tell me", jsonl=jsonl, out=out, session_id=session
    )
    return code, out.getvalue()


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour("cut", after=5),
        Behaviour("truncated", after=4),
        Behaviour("malformed", after=3),
        Behaviour("status", status=500),
        Behaviour("status", status=503),
        Behaviour("stall", after=6, stall_s=3),
        Behaviour("ended", after=7),
    ],
    ids=["cut", "truncated-sse", "malformed-sse", "500", "503", "stall", "ended-early"],
)
async def test_broken_stream_recovers_to_exactly_the_full_reply(hostile, behaviour):
    server, url = hostile(behaviour)
    code, out = await headless(url)
    assert code == 0
    assert out == FULL  # exactly the reply an unbroken stream gives: nothing lost or repeated
    assert len(server.requests) == 2
    if behaviour.kind in ("cut", "stall", "truncated", "malformed", "ended"):
        # the retry carried the partial reply and asked for the rest of it
        continued = server.requests[1]["messages"]
        assert continued[-2]["role"] == "assistant" and FULL.startswith(continued[-2]["content"])
        assert continued[-2]["content"] != ""


async def test_jsonl_reports_error_and_retry_and_the_store_counts_them(hostile):
    _server, url = hostile(Behaviour("cut", after=5))
    code, out = await headless(url, jsonl=True, session="hostile-1")
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [e["type"] for e in events]
    assert code == 0
    assert kinds.index("error") < kinds.index("retry") < kinds.index("response_complete")
    error = next(e for e in events if e["type"] == "error")["data"]
    assert error["code"] == "STREAM_ERROR" and error["kind"] == "network"
    final = events[-1]["data"]
    assert final["final_response"] == FULL
    assert "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta") == FULL
    assert final["metrics"]["retries"] == 1 and final["metrics"]["errors"] == 1
    assert final["usage"]["source"] == "provider"
    [turn] = Store().turns("hostile-1")
    assert turn.status == "completed" and turn.reply == FULL
    assert turn.metrics["retries"] == 1


async def test_429_honours_retry_after(hostile):
    server, url = hostile(Behaviour("status", status=429, retry_after=1.5))
    code, out = await headless(url)
    assert code == 0 and out == FULL
    gap = server.request_times[1] - server.request_times[0]
    assert gap >= 1.4


async def test_all_attempts_failing_keeps_partial_text_and_exits_non_zero(hostile, capsys):
    server, url = hostile(*[Behaviour("cut", after=3) for _ in range(3)])
    code, out = await headless(url, "max_retries=2", session="fail-1")
    assert code == 1
    assert out.startswith(FULL[:12])  # every word received is still there
    assert len(server.requests) == 3
    [turn] = Store().turns("fail-1")
    assert turn.status == "failed" and turn.reply.startswith(FULL[:12])
    assert "connection failed" in capsys.readouterr().err.lower()


async def test_invalid_tool_arguments_and_unknown_tools_are_clear_not_fatal(hostile):
    _server, url = hostile(Behaviour("bad_args"))
    code, out = await headless(url, jsonl=True, agent="game-master")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    complete = next(e for e in events if e["type"] == "tool_complete")["data"]
    assert complete["failed"] is True
    _server, url = hostile(Behaviour("unknown_tool"))
    code, out = await headless(url, jsonl=True, agent="game-master")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    error = next(e for e in events if e["type"] == "error")["data"]
    assert error["kind"] == "model_behavior" and "summon_dragon" in error["message"]


async def test_tui_recovers_on_screen_counts_it_and_answers_keys_during_backoff(hostile):
    from tests.app.helpers import pane_text, send, wait_idle
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.widgets.assistant_message import AssistantMessage

    _server, url = hostile(Behaviour("cut", after=5), Behaviour("status", status=503))
    from tui.core.models.providers import build_runner
    from tui.core.turn.runner import RetryPolicy

    runner, backend = build_runner(Settings(base_url=url, stall_timeout=2))
    runner.retry = RetryPolicy(max_attempts=3, base_delay_s=1.0)
    app = AgentsTuiApp(Settings(), runner=runner, backend_label=backend.label)
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "tell me")
        while app.status.deadline is None:  # the backoff countdown is on screen
            await asyncio.sleep(0.02)
        # during the backoff the app answers each key press at once
        prompt = app.query_one("PromptInput")
        from textual import events

        latencies = []
        for key in "xyz":
            started = time.perf_counter()
            prompt.post_message(events.Key(key, key))
            while not prompt.text.endswith(key) and time.perf_counter() - started < 1:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            assert prompt.text.endswith(key)
            await asyncio.sleep(0.1)
        assert sorted(latencies)[1] < 0.1, latencies  # median of three presses
        assert app.status.deadline is not None  # all three were inside the backoff
        assert app.turn_running  # still inside the backoff
        await wait_idle(pilot, timeout=20)
        reply = app.query_one(AssistantMessage)
        assert reply.source == FULL and reply.status == "completed"
        session = app.session_metrics
        assert session.errors == 2 and session.retries == 2
        assert session.errors_by_kind() == {"network": 1, "server": 1}
        assert session.recoveries == 1
        sidebar = pane_text(app, app.sidebar)
        assert "recovered" in sidebar and "network" in sidebar
        assert "quick brown fox" in pane_text(app, app.chat)


async def test_a_body_that_keeps_ending_early_fails_with_its_text_never_completed(hostile):
    """No finish_reason and no [DONE], every attempt: the turn is failed, the text kept."""
    _server, url = hostile(*[Behaviour("ended", after=7)] + [Behaviour("ended", after=0)] * 2)
    code, out = await headless(url, session="ended-1")
    assert code == 1
    assert out == FULL[:28]  # the seven deltas received, shown and kept
    turn = Store().turns("ended-1")[-1]
    assert turn.status == "failed" and turn.reply == FULL[:28]


@pytest.mark.parametrize("style", ["openai", "llama.cpp"])
@pytest.mark.parametrize("window_flag", [False, True], ids=["learned", "context-window"])
async def test_a_conversation_past_a_servers_window_keeps_answering(hostile, style, window_flag):
    server, url = hostile(context_chars=2_400, context_style=style, delta_delay_s=0)
    extra = ("context_window=600",) if window_flag else ()
    settings = {"base_url": url, "stall_timeout": 2.0, "max_retries": 2}
    if window_flag:
        settings["context_window"] = 600
    for n in range(25):
        out = io.StringIO()
        code = await run_turn_headless(
            load_settings(settings, environ={}),
            f"prompt number {n}: tell me more",
            jsonl=True,
            out=out,
            session_id="window-1",
        )
        events = [json.loads(line) for line in out.getvalue().splitlines()]
        done = events[-1]["data"]
        assert code == 0 and done["status"] == "completed" and done["final_response"] == FULL
        # the newest prompt always reached the model
        assert server.requests[-1]["messages"][-1]["content"] == f"prompt number {n}: tell me more"
        if n >= 16:
            trimmed = [e["data"] for e in events if e["type"] == "context_trimmed"]
            assert trimmed and trimmed[-1]["dropped_turns"] > 0
    assert not extra or server.refused == 0  # with the window known, nothing is refused
    if not window_flag:
        assert server.refused >= 1
    # nothing was deleted: the store has every turn, and the model's memory too
    assert len(Store().turns("window-1")) == 25
    # a dropped turn never splits a tool call from its result: requests start on a user message
    for request in server.requests:
        assert request["messages"][1]["role"] == "user"


async def test_a_server_that_always_fails_gets_the_tutorials_three_attempts_two_then_four_s(
    hostile,
):
    """The source tutorial's ResilientStreamingSystem: 3 attempts in all, waiting
    1 s x 2^attempt between them (2 s, then 4 s)."""
    server, url = hostile(*[Behaviour("status", status=503) for _ in range(4)])
    flags = {"base_url": url, "agent": "assistant"}  # the default retry settings
    out = io.StringIO()
    code = await run_turn_headless(load_settings(flags, environ={}), "hi", jsonl=True, out=out)
    assert code != 0
    assert len(server.request_times) == 3
    times = server.request_times
    first, second = times[1] - times[0], times[2] - times[1]
    assert 1.9 <= first < 2.8 and 3.9 <= second < 4.8, (first, second)
    retries = [json.loads(line)["data"] for line in out.getvalue().splitlines()]
    retries = [r for r in retries if "max_attempts" in r]
    assert [(r["attempt"], r["max_attempts"], r["delay_s"]) for r in retries] == [
        (2, 3, 2.0),
        (3, 3, 4.0),
    ]


async def test_inject_faults_shows_retries_and_an_exact_final_reply(hostile):
    """The tutorial's demo (10 % of stream events fail) against a server that streams
    fine: the faults are named as injected in the events, and the reply is whole."""
    text = "Once upon a time, two friends crossed a river of stars together. " * 4
    server, url = hostile(full_text=text, delta_delay_s=0.001)
    code, out = await headless(url, "inject_faults=0.1", "seed=5", jsonl=True)
    events = [json.loads(line) for line in out.splitlines()]
    retries = [e["data"] for e in events if e["type"] == "retry"]
    errors = [e["data"] for e in events if e["type"] == "error"]
    assert code == 0 and retries, [e["type"] for e in events]
    assert all(r["code"] == "injected" and r["max_attempts"] == 3 for r in retries)
    assert all(e["kind"] == "injected" and "simulated network" in e["message"] for e in errors)
    assert [r["delay_s"] for r in retries] == [2.0, 4.0][: len(retries)]
    assert "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta") == text
    assert len(server.requests) == len(retries) + 1  # each fault dropped a real stream
