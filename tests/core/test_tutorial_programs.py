"""``agents-tui tutorial N``: each of the source tutorial's six programs, run end to end through
the core (a ``Conversation`` on a scripted model), prints the lines a reader compares with
the tutorial's, with the figures the core measured."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from agents.testing import ModelStep

from tests.scripts import Call, Text, broken_step, connection_error, parts_step, runner_for
from tests.scripts import text_step as scripted_text
from tui.core.config import Settings
from tui.core.i18n import set_language
from tui.core.turn.faults import FaultInjector
from tui.core.turn.runner import RetryPolicy, TurnRunner
from tui.tutorial import PROGRAMS, find, menu, run_program
from tui.tutorial_api import serving


@pytest.fixture
def vietnamese():
    set_language("vi")
    yield
    set_language("en")


class Scripted:
    """A runner factory for the programs: the program's agent (from its settings) answering
    with these steps, in order, across every turn of the program."""

    def __init__(self, steps: list[Any], **runner_options: Any) -> None:
        self.steps = steps
        self.options = runner_options
        self.settings: list[Settings] = []
        self.models: list[Any] = []

    def __call__(self, settings: Settings) -> TurnRunner:
        options = dict(self.options)
        faults = options.pop("faults_from_settings", False)
        if faults and settings.inject_faults:
            options["faults"] = FaultInjector(settings.inject_faults, seed=1)
        runner, model = runner_for(self.steps, agent=settings.agent, **options)
        self.settings.append(settings)
        self.models.append(model)
        return runner

    def prompts(self) -> list[str]:
        """What each model call was asked last (the user's newest message)."""
        out = []
        for call in self.models[0].calls:
            items = call.input if isinstance(call.input, list) else [call.input]
            users = [i for i in items if isinstance(i, dict) and i.get("role") == "user"]
            out.append(str(users[-1]["content"]) if users else str(call.input))
        return out


def text_step(deltas: list[str]) -> ModelStep:
    return scripted_text(deltas)


async def run(
    number: int,
    make: Scripted,
    *,
    settings: Settings | None = None,
    read_line: Callable[[str], str | None] | None = None,
) -> tuple[int, str]:
    out = io.StringIO()
    entry = find(str(number))
    assert entry is not None
    kwargs: dict[str, Any] = {"out": out, "make_runner": make, "serve_api": serving}
    if read_line is not None:
        kwargs["read_line"] = read_line
    status = await run_program(settings or Settings(), entry, **kwargs)
    return status, out.getvalue()


def lines(text: str) -> list[str]:
    return text.splitlines()


# --- the menu -----------------------------------------------------------------------------------
def test_the_menu_lists_the_six_programs_in_the_tutorials_order_by_number_and_name():
    assert [p.number for p in PROGRAMS] == [1, 2, 3, 4, 5, 6]
    text = menu()
    for entry in PROGRAMS:
        assert f"  {entry.number}  {entry.name}" in text
        assert find(entry.name) is entry and find(str(entry.number)) is entry
    assert find("7") is None and find("nope") is None


def test_each_program_runs_its_tutorial_agent():
    import importlib

    for entry in PROGRAMS:
        assert entry.agent == importlib.import_module(entry.module).AGENT


# --- 1. basic streaming -------------------------------------------------------------------------
async def test_program_1_streams_the_story_and_counts_its_api_calls():
    make = Scripted([text_step(["Once ", "upon ", "a time, ", "two friends."])])
    status, out = await run(1, make)
    assert status == 0
    assert lines(out)[:2] == [
        "👤 **User:** Tell me a short story about friendship",
        "🤖 **Agent:** Once upon a time, two friends.",
    ]
    assert "\n\n\n📊 **Metadata:** Completed in 1 API calls\n" in out  # print("\n"), then "\n📊"
    assert make.settings[0].agent == "storyteller"
    assert make.prompts() == ["Tell me a short story about friendship"]
    assert "gifted storyteller" in (make.models[0].calls[0].system_instructions or "")


async def test_program_1_under_vietnamese_asks_and_reports_in_the_tutorials_words(vietnamese):
    make = Scripted([text_step(["Ngày ", "xưa..."])])
    status, out = await run(1, make)
    assert status == 0
    assert "👤 **User:** Kể cho tôi một câu chuyện ngắn về tình bạn\n" in out
    assert "📊 **Metadata:** Hoàn thành trong 1 API calls" in out
    assert "Bạn là một kể chuyện tài ba." in (make.models[0].calls[0].system_instructions or "")


# --- 2. the game master -------------------------------------------------------------------------
def game_master_steps() -> list[Any]:
    return [
        parts_step(
            [Text(["Let me roll ", "for the climb."]), Call("roll_dice", "c1", ['{"sides": 20}'])]
        ),
        text_step(["You reach ", "the top!"]),
        parts_step(
            [
                Text(["A coin and the 8-ball."]),
                Call("flip_coin", "c2", ["{}"]),
                Call("magic_answer", "c3", ["{}"]),
            ]
        ),
        text_step(["Take the left road."]),
        parts_step([Call("roll_dice", "c4", ['{"sides": 6}'])]),
        text_step(["Gold glitters!"]),
    ]


async def test_program_2_plays_three_scenarios_with_their_tools_and_counts_them_all():
    make = Scripted(game_master_steps())
    status, out = await run(2, make)
    assert status == 0
    assert make.settings[0].agent == "game-master"
    assert make.prompts()[::2] == [
        "I want to climb a 20-metre cliff. Do I make it?",
        "There are 2 roads ahead of me. Which one should I take?",
        "Will I find the treasure in this cave?",
    ]
    got = lines(out)
    assert got.count("=" * 60) == 3
    assert "🎲 **Scenario:** I want to climb a 20-metre cliff. Do I make it?" in got
    assert "🎭 **Game Master:** Let me roll for the climb." in got
    assert "🔧 **[Tool 1]** Using roll_dice..." in got
    # scenario 2: two tools, numbered within it, as the tutorial's counter
    assert "🔧 **[Tool 2]** Using magic_answer..." in got
    # the tutorial prints "🎭 GM continues: " after each result: two results, one line
    results = re.findall(r"⚡ \*\*\[Result\]\*\* ([^\n]+)\n", out)
    assert len(results) == 4
    assert 1 <= int(results[0]) <= 20 and results[1] in ("heads", "tails")
    assert "🎭 **GM continues:** ⚡ **[Result]** " in out
    assert "🎭 **GM continues:** You reach the top!" in got
    assert "🎭 **GM continues:** Gold glitters!" in got
    assert got[-1] == "🎉 **Adventure complete!** Total tools used across all scenarios: 4"


async def test_program_2_under_vietnamese_asks_the_tutorials_scenarios_and_says_dang_su_dung(
    vietnamese,
):
    make = Scripted(game_master_steps())
    status, out = await run(2, make)
    assert status == 0
    assert "🎲 **Scenario:** Tôi muốn leo lên vách đá cao 20 mét. Tôi có thành công không?" in out
    assert "🔧 **[Tool 1]** Đang sử dụng roll_dice..." in out
    assert re.search(r"⚡ \*\*\[Result\]\*\* (Ngửa|Sấp)\n", out)


# --- 3. the console chat ------------------------------------------------------------------------
async def test_program_3_is_the_console_chat_with_its_header_commands_and_memory():
    typed = iter(
        [
            *("/help", "Hi there", "", "Tell me more", "/history", "/stats", "/clear"),
            *("/history", "/bogus", "/quit", "never read"),
        ]
    )
    asked: list[str] = []

    def read_line(prompt: str) -> str | None:
        asked.append(prompt)
        return next(typed)

    make = Scripted([text_step(["Hello! ", "😊"]), text_step(["More ", "about ", "it."])])
    status, out = await run(3, make, read_line=read_line)
    assert status == 0
    got = lines(out)
    assert got[:9] == [
        "=" * 60,
        "🤖 **STREAMING CHAT INTERFACE** 🤖",
        "=" * 60,
        "💡 Tips:",
        "   • Type '/help' for commands",
        "   • Type '/history' to see conversation",
        "   • Type '/clear' to clear history",
        "   • Type '/quit' to exit",
        "=" * 60,
    ]
    assert asked[0] == "\n👤 **You:** " and len(asked) == 10  # stopped at /quit
    assert "📋 **Available Commands:**" in got and "• /stats - Show chat statistics" in got
    assert "🤖 **Assistant:** Hello! 😊" in got and "🤖 **Assistant:** More about it." in got
    history = [line for line in got if re.match(r" \d\. (👤|🤖) \[\d\d:\d\d\] ", line)]
    assert [h.split("] ", 1)[1] for h in history] == [
        "Hi there",
        "Hello! 😊",
        "Tell me more",
        "More about it.",
    ]
    assert "📊 **Chat Statistics:**" in got
    assert "• Total messages: 4" in got and "• Your messages: 2" in got
    assert "• Assistant messages: 2" in got
    assert "• Average response length: 11 characters" in got  # (8 + 14) // 2
    assert got.count("🗑️ Conversation history cleared.") == 1
    assert "📝 No conversation history yet." in got  # /history after /clear
    assert "❓ Unknown command: /bogus. Type '/help' for available commands." in got
    assert got[-3:] == ["👋 Thanks for chatting! Goodbye!", "", "👋 Chat session ended."]
    # the tutorial pasted the last messages into the prompt; the conversation remembers them
    second = make.models[0].calls[1].input
    assert "Hi there" in str(second) and "Hello! 😊" in str(second)
    assert make.settings[0].history == 6 and make.settings[0].agent == "assistant"


async def test_program_3_ends_at_the_end_of_input():
    make = Scripted([])
    status, out = await run(3, make, read_line=lambda _prompt: None)
    assert status == 0 and lines(out)[-1] == "👋 Chat session ended."


# --- 4. the web streaming service ---------------------------------------------------------------
async def test_program_4_serves_the_api_in_process_and_prints_its_sse_counts_and_statistics():
    from contextlib import asynccontextmanager

    import httpx

    from tests.scripts import text_step as paced_text

    served: list[str] = []
    contexts: dict[str, Any] = {}

    @asynccontextmanager
    async def watched(*args: Any, **kwargs: Any):
        async with serving(*args, **kwargs) as url:
            served.append(url)
            # the demo's session, as the API holds it (created with its user context)
            yield url
            async with httpx.AsyncClient(base_url=url) as http:
                for item in (await http.get("/v1/sessions")).json()["sessions"]:
                    stats = (await http.get(f"/v1/sessions/{item['id']}/stats")).json()
                    contexts[item["id"]] = stats["user_context"]

    make = Scripted(
        [  # paced as a model streams: the API sends each delta as its own event
            paced_text(["Machine ", "learning ", "is ", "**learning** ", "from data."], rate=80),
            paced_text(["Python ", "first."], rate=80),
            paced_text(["Practice ", "daily."], rate=80),
        ]
    )
    out = io.StringIO()
    entry = find("4")
    assert entry is not None
    status = await run_program(Settings(), entry, out=out, make_runner=make, serve_api=watched)
    assert status == 0
    got = lines(out.getvalue())
    assert got[0] == "🌐 **Web Streaming Service Demo**"
    assert re.fullmatch(
        r"📱 Session created: \{'session_id': '[^']+', 'status': 'created', 'timestamp': '[^']+'\}",
        got[2],
    )
    session_id = re.search(r"'session_id': '([^']+)'", got[2]).group(1)  # type: ignore[union-attr]
    assert "💬 **Message 1:** Explain machine learning to me simply" in got
    assert got.count("📡 **Streaming events:**") == 3
    assert got.count("   ⏳ Assistant is thinking...") == 3
    assert "Machine learning is **learning** from data." in got
    assert got.count("📊 Response complete:") == 3
    assert "   • Words: 6" in got and "   • Characters: 43" in got
    assert "   • Words: 2" in got and "   • Characters: 13" in got
    # every SSE event of the API: session_update, typing_start, a text_delta per delta,
    # response_complete (and whatever else the protocol sends: counted, not printed)
    totals = [int(line.rsplit(" ", 1)[1]) for line in got if "📈 Total events: " in line]
    assert totals[0] - totals[1] == 3 and totals[1] == totals[2] and totals[1] >= 5
    assert got[-4:-1] == [
        "📈 **Session Statistics:**",
        "   • Duration: 0.0 minutes",
        "   • Messages: 3",
    ]
    assert got[-1] == "   • Status: idle"  # the API's word between turns
    assert make.settings[0].agent == "web-assistant"
    # it was the API over HTTP: its session, with the demo's user context
    assert contexts == {session_id: {"user_agent": "Demo Browser", "ip": "127.0.0.1"}}
    # and the server is gone: its port refuses
    with pytest.raises(httpx.ConnectError):
        httpx.get(served[0] + "/healthz", timeout=2)


class Writes(io.StringIO):
    """Standard output that remembers each write (what the terminal got, and when)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


async def test_program_4_with_a_pace_releases_the_apis_text_word_by_word_and_counts_the_same():
    reply = [" ".join(f"w{i}" for i in range(12)) + "."]  # one burst of 12 words
    outputs = []
    for pace in (None, 40.0):
        out = Writes()
        entry = find("4")
        assert entry is not None
        make = Scripted([text_step(reply) for _ in range(3)])
        status = await run_program(
            Settings(), entry, out=out, make_runner=make, serve_api=serving, pace=pace
        )
        assert status == 0
        outputs.append(out)
    plain, paced_out = outputs
    assert plain.getvalue().count(reply[0]) == paced_out.getvalue().count(reply[0]) == 3
    totals = [re.findall(r"Total events: (\d+)", o.getvalue()) for o in outputs]
    assert totals[0] == totals[1]  # the service's events, counted as they came
    burst = [w for w in plain.writes if "w5" in w]
    assert burst == [reply[0]] * 3  # one event each reply: printed at once
    assert sum(1 for w in paced_out.writes if w.strip().startswith("w")) >= 3 * 4  # re-cut


# --- 5. resilient streaming ---------------------------------------------------------------------
@pytest.fixture
def waits(monkeypatch):
    """The backoff's waits, recorded instead of slept (2 s then 4 s would slow the suite)."""
    from tui.core.turn import runner as runner_module

    seen: list[float] = []

    async def no_wait(_cancelled: asyncio.Event, delay_s: float) -> bool:
        seen.append(delay_s)
        return False

    monkeypatch.setattr(runner_module, "_wait_or_cancel", no_wait)
    return seen


def long_reply(word: str) -> list[str]:
    return [f"{word}{i} " for i in range(14)]  # past the tenth event: a fault may strike


async def test_program_5_injects_faults_retries_after_2_then_4_seconds_and_reports_statistics(
    waits,
):
    # --inject-faults 1.0: every attempt but the last is cut after its tenth event.
    make = Scripted(
        [text_step(long_reply(w)) for w in "abcdefghi"],
        retry=RetryPolicy(),
        faults_from_settings=True,
    )
    status, out = await run(5, make, settings=Settings(inject_faults=1.0))
    assert status == 0
    got = lines(out)
    assert got[0] == "🛡️ **Resilient Streaming System Demo**"
    assert "💬 **Scenario 1:** Explain quantum computing simply" in got
    assert "📝 **Context:** User is a beginner in technology" in got
    assert got.count("🤖 **Response:**") == 3
    assert got.count("🔄 Attempt 1/3") == 3 and got.count("🔄 Attempt 3/3") == 3
    assert got.count("⏳ Retrying in 2.0 seconds...") == 3
    assert got.count("⏳ Retrying in 4.0 seconds...") == 3
    assert waits == [2.0, 4.0] * 3
    errors = [line for line in got if line.startswith("🌐 Network error: ")]
    assert len(errors) == 6 and "simulated network interruption" in errors[0]
    assert got.count("✅ Recovered successfully after 2 attempts") == 3
    assert got.count("✅ Success (attempts: 3)") == 3
    assert got.count("🔄 Response was recovered from error") == 3
    assert got.count("=" * 70) == 3
    assert got[-7:] == [
        "📊 **Error Statistics:**",
        "   • Total errors: 6",
        "   • Network errors: 6",
        "   • Timeout errors: 0",
        "   • Agent errors: 0",
        "   • Recovery successes: 3",
        "   • Recovery rate: 50.0%",
    ]
    first_prompt = make.prompts()[0]
    assert first_prompt == (
        "User message: Explain quantum computing simply\n"
        "Additional context: User is a beginner in technology\n"
    )


async def test_program_5_injects_the_tutorials_10_percent_unless_told_otherwise(waits):
    make = Scripted([text_step(["ok"]) for _ in range(3)])
    status, _out = await run(5, make)
    assert status == 0 and make.settings[0].inject_faults == 0.1
    assert make.settings[0].agent == "resilient-assistant"


async def test_program_5_a_cut_connection_is_a_network_error_and_a_clean_turn_needs_one_attempt(
    waits,
):
    make = Scripted(
        [
            broken_step(["Qubits "], connection_error()),
            text_step(["are ", "neat."]),
            text_step(["Month ", "one."]),
            text_step(["React, ", "Vue."]),
        ],
        retry=RetryPolicy(),
    )
    status, out = await run(5, make)
    assert status == 0
    got = lines(out)
    assert got.count("🔄 Attempt 2/3") == 1 and waits == [2.0]
    assert "✅ Recovered successfully after 1 attempts" in got
    assert got.count("✅ Success (attempts: 1)") == 2
    assert "   • Network errors: 1" in got and "   • Recovery successes: 1" in got
    assert got[-1] == "   • Recovery rate: 100.0%"


# --- 6. the performance monitor -----------------------------------------------------------------
def failing_step() -> ModelStep:
    async def stream(_call: Any) -> Any:
        raise RuntimeError("the model is gone")
        yield  # pragma: no cover

    return ModelStep.stream(stream)


async def test_program_6_reports_each_query_and_the_global_statistics_with_issues():
    from tests.scripts import text_step as paced_text

    make = Scripted(
        [
            text_step([f"w{i} " for i in range(20)]),
            paced_text(["slow ", "and ", "steady."], rate=2.0),  # ~2 tokens/s: low throughput
            failing_step(),
            text_step(["<ul>", "<li>todo</li>", "</ul>"]),
            text_step(["Normalise."]),
        ]
    )
    status, out = await run(6, make)
    assert status == 1  # one query failed
    got = lines(out)
    assert got[0] == "⚡ **Optimized Streaming Performance Demo**"
    assert "🚀 **Query 1:** A quick explanation of React hooks" in got
    assert got.count("📡 **Streaming response:**") == 5
    assert got.count("📊 **Performance Metrics:**") == 4
    assert got.count("   • Total Tokens: 20") == 1 and got.count("   • Total Tokens: 3") == 2
    assert all(
        re.fullmatch(r"   • Time to First Token: \d+\.\d{3}s", line)
        for line in got
        if line.startswith("   • Time to First Token")
    )
    low = [line for line in got if line.startswith("   ⚠️ Issues: ")]
    assert len(low) == 1 and "Low throughput: " in low[0] and "tok/s < 10" in low[0]
    assert got.count("   ✅ Performance: Good") == 3
    assert any(line.startswith("❌ Error: ") and "the model is gone" in line for line in got)
    assert got.count("=" * 70) == 5
    assert got[-6] == "📈 **Global Performance Statistics:**"
    assert got[-5] == "   • Total Sessions: 5"
    assert re.fullmatch(r"   • Avg Time to First Token: \d+\.\d{3}s", got[-4])
    assert re.fullmatch(r"   • Avg Tokens/Second: \d+\.\d", got[-3])
    assert got[-2] == "   • Total Tokens Processed: 27"
    assert got[-1] == "   • Sessions with Issues: 1"
    assert make.settings[0].agent == "performance-assistant"


# --- the real command over HTTP -----------------------------------------------------------------
def test_tutorial_6_against_a_local_openai_compatible_server_over_http(tmp_path):
    from tui.bench.fast_server import reply_deltas
    from tui.bench.server_stream import fast_server

    per_query = len(reply_deltas(300))
    with fast_server(300, 0.001) as base_url:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "tui", "tutorial", "6", "--base-url", base_url),
                *("--model", "bench", "--api-key", "none", "--lang", "en"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    got = lines(done.stdout)
    assert got.count("📊 **Performance Metrics:**") == 5
    assert got.count(f"   • Total Tokens: {per_query}") == 5
    assert "   • Total Sessions: 5" in got
    assert f"   • Total Tokens Processed: {5 * per_query}" in got
    assert got[-1] == "   • Sessions with Issues: 0"


# --- the tutorial's web service by default ------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "agent"),
    [
        (["api"], "web-assistant"),
        (["api", "--agent", "game-master"], "game-master"),
        (["--agent", "storyteller", "api"], "storyteller"),
    ],
)
def test_the_api_answers_with_the_tutorials_web_assistant_unless_told(monkeypatch, argv, agent):
    import tui.api.server
    from tui.cli import main

    seen: list[Settings] = []
    monkeypatch.setattr(
        tui.api.server, "serve_api", lambda settings, **_kw: seen.append(settings) or 0
    )
    assert main(argv) == 0
    assert [s.agent for s in seen] == [agent]


# --- the tutorial's own prompts under --lang vi ----------------------------------------------
@pytest.mark.parametrize(
    ("number", "first_prompt", "line"),
    [
        (
            4,
            "Giải thích cho tôi về machine learning một cách đơn giản",
            "💬 **Message 1:** Giải thích cho tôi về machine learning một cách đơn giản",
        ),
        (
            5,
            "User message: Giải thích về quantum computing một cách đơn giản\n"
            "Additional context: User is a beginner in technology\n",
            "📝 **Context:** User có background về toán học",
        ),
        (
            6,
            "Giải thích nhanh về React hooks",
            "🚀 **Query 5:** Best practices cho database design",
        ),
    ],
)
async def test_under_vietnamese_programs_4_to_6_send_the_tutorials_own_prompts(
    vietnamese, waits, number, first_prompt, line
):
    make = Scripted([text_step(["Xin ", "chào."]) for _ in range(5)])
    status, out = await run(number, make)
    assert status == 0
    assert make.prompts()[0] == first_prompt
    assert line in lines(out)


async def test_program_5_a_failed_scenario_says_why_and_exits_1(waits):
    make = Scripted(
        [
            broken_step(["Qubits ", "are "], connection_error()),
            broken_step(["Qubits ", "are "], connection_error()),
            broken_step(["Qubits ", "are "], connection_error()),
            text_step(["Month ", "one."]),
            text_step(["React."]),
        ],
        retry=RetryPolicy(),
    )
    status, out = await run(5, make)
    assert status == 1
    got = lines(out)
    assert "❌ All 3 attempts failed" in got and waits == [2.0, 4.0]
    assert any(line.startswith("❌ Failed: The connection failed") for line in got)
    # the partial reply the turn kept (each scripted attempt streamed its two words again)
    assert any(line.startswith("📝 Partial content: Qubits are ") for line in got)
    assert "   • Total errors: 3" in got and "   • Recovery successes: 0" in got
    assert got[-1] == "   • Recovery rate: 0.0%"
