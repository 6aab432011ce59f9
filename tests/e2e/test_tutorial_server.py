"""``agents-tui tutorial 1`` … ``6``, the real command in a fresh process, against a local
OpenAI-compatible server over HTTP (tests.hostile_server, scripted per program), in English
and under ``--lang vi``: each runs to its summary, asks the tutorial's prompts, and prints
the tutorial's lines with the figures the core measured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.hostile_server import Behaviour, HostileServer

REPLY = "Streaming shows each word as it comes."  # 38 characters, 10 deltas of 4


def tutorial(server: HostileServer, number: int, lang: str, *args: str, stdin: str = ""):
    base_url = server.start()
    try:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "tui", "tutorial", str(number), "--lang", lang),
                *("--base-url", base_url, "--model", "hostile", *args),
            ],
            env={**os.environ, "AGENTS_TUI_API_KEY": "none"},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    return done.stdout.splitlines()


def asked(server: HostileServer) -> list[str]:
    """The newest user message of each request the server got."""
    out = []
    for request in server.requests:
        users = [m for m in request.get("messages", []) if m.get("role") == "user"]
        out.append(str(users[-1]["content"]) if users else "")
    return out


def words(en: str, vi: str, lang: str) -> str:
    return vi if lang == "vi" else en


LANGS = pytest.mark.parametrize("lang", ["en", "vi"])


@LANGS
def test_program_1_tells_the_story_and_counts_its_api_call(lang):
    server = HostileServer(full_text=REPLY)
    got = tutorial(server, 1, lang)
    ask = words(
        "Tell me a short story about friendship", "Kể cho tôi một câu chuyện ngắn về tình bạn", lang
    )
    assert got[0] == f"👤 **User:** {ask}" and asked(server) == [ask]
    assert got[1] == f"🤖 **Agent:** {REPLY}"
    done = words("Completed in 1 API calls", "Hoàn thành trong 1 API calls", lang)
    assert got[-1] == f"📊 **Metadata:** {done}"


@LANGS
def test_program_2_plays_three_scenarios_a_tool_each_and_totals_them(lang):
    tools = [("roll_dice", '{"sides": 20}'), ("flip_coin", "{}"), ("magic_answer", "{}")]
    script = []
    for name, args in tools:
        script += [Behaviour("tool", tool=(name, args)), Behaviour("ok", text=f"After {name}.")]
    server = HostileServer(script=script)
    got = tutorial(server, 2, lang, "--seed", "7")
    scenarios = [line for line in got if line.startswith("🎲 **Scenario:** ")]
    assert len(scenarios) == 3 and got.count("=" * 60) == 3
    assert asked(server)[::2] == [s.removeprefix("🎲 **Scenario:** ") for s in scenarios]
    using = words("Using", "Đang sử dụng", lang)
    for number, (name, _args) in enumerate(tools):
        assert f"🔧 **[Tool 1]** {using} {name}..." in got  # numbered within its scenario
        assert f"🎭 **GM continues:** After {name}." in "\n".join(got)
        assert scenarios[number] in got
    results = [line for line in got if line.startswith("⚡ **[Result]** ")]
    assert len(results) == 3 and 1 <= int(results[0].rsplit(" ", 1)[1]) <= 20
    assert got[-1] == "🎉 **Adventure complete!** Total tools used across all scenarios: 3"


@LANGS
def test_program_3_chats_and_answers_its_commands(lang):
    server = HostileServer(full_text=REPLY)
    got = tutorial(server, 3, lang, stdin="Hello!\n/history\n/stats\n/quit\n")
    assert "🤖 **STREAMING CHAT INTERFACE** 🤖" in got and asked(server) == ["Hello!"]
    assert any(line.endswith(REPLY.strip()) for line in got)
    assert "• Your messages: 1" in got and "• Assistant messages: 1" in got
    assert got[-1] == "👋 Chat session ended."


@LANGS
def test_program_4_streams_the_services_events_through_the_api(lang):
    server = HostileServer(full_text=REPLY)
    got = tutorial(server, 4, lang)
    first = words(
        "Explain machine learning to me simply",
        "Giải thích cho tôi về machine learning một cách đơn giản",
        lang,
    )
    assert f"💬 **Message 1:** {first}" in got and asked(server)[0] == first
    assert len(server.requests) == 3
    assert got.count("📊 Response complete:") == 3
    assert got.count("   • Words: 7") == 3 and got.count("   • Characters: 38") == 3
    totals = [int(line.rsplit(" ", 1)[1]) for line in got if "📈 Total events: " in line]
    assert len(totals) == 3 and all(t >= 5 for t in totals)
    assert got[-2:] == ["   • Messages: 3", "   • Status: idle"]


@LANGS
def test_program_5_retries_injected_faults_after_2_then_4_seconds_and_reports_statistics(lang):
    # the program's own --inject-faults 0.1 on a 30-delta reply: a fault is all but certain
    # (which events it strikes depends on how the stream arrives: checked as a rule)
    server = HostileServer(full_text=(REPLY + " ") * 3)
    got = tutorial(server, 5, lang)
    first = words(
        "Explain quantum computing simply",
        "Giải thích về quantum computing một cách đơn giản",
        lang,
    )
    assert asked(server)[0].startswith(f"User message: {first}\nAdditional context: ")
    assert got.count("🔄 Attempt 1/3") == 3
    assert sum(line.startswith("✅ Success (attempts: ") for line in got) == 3
    waits, attempt, recovered = [], 0, 0
    for line in got:
        if line.startswith("🔄 Attempt "):
            attempt = int(line.split()[2].split("/")[0])
        elif line.startswith("⏳ Retrying in "):  # the tutorial's backoff: 2 s, then 4 s
            assert line == f"⏳ Retrying in {2.0 * 2 ** (attempt - 1)} seconds...", line
            waits.append(2.0 * 2 ** (attempt - 1))
        elif line.startswith("✅ Recovered successfully after "):
            assert line == f"✅ Recovered successfully after {attempt - 1} attempts"
            recovered += 1
    assert waits and recovered >= 1
    # the waits, as the server saw the attempts come (each attempt is a new request)
    gaps = [b - a for a, b in zip(server.request_times, server.request_times[1:], strict=False)]
    for wait in (2.0, 4.0):
        assert sum(wait <= gap < wait + 1.0 for gap in gaps) >= waits.count(wait)
    stats = got[got.index("📊 **Error Statistics:**") :]
    assert stats[1:] == [
        f"   • Total errors: {len(waits)}",
        f"   • Network errors: {len(waits)}",
        "   • Timeout errors: 0",
        "   • Agent errors: 0",
        f"   • Recovery successes: {recovered}",
        f"   • Recovery rate: {recovered / len(waits):.1%}",
    ]


@LANGS
def test_program_6_reports_five_queries_and_the_global_statistics(lang):
    server = HostileServer(full_text=REPLY)
    started = time.monotonic()
    got = tutorial(server, 6, lang)
    assert time.monotonic() - started < 60
    first = words("A quick explanation of React hooks", "Giải thích nhanh về React hooks", lang)
    assert f"🚀 **Query 1:** {first}" in got and len(server.requests) == 5
    assert got.count("📊 **Performance Metrics:**") == 5
    assert got.count("   • Total Tokens: 10") == 5
    assert all(
        re.fullmatch(r"   • Tokens/Second: \d+\.\d", line)
        for line in got
        if line.startswith("   • Tokens/Second")
    )
    assert got[-6] == "📈 **Global Performance Statistics:**"
    assert got[-5] == "   • Total Sessions: 5"
    assert got[-2] == "   • Total Tokens Processed: 50"
    assert got[-1] == "   • Sessions with Issues: 0"
