"""``agents-tui tutorial N`` on the real bundled model, in a fresh process: each program runs
to its summary (the model's words vary; the tutorial's lines and figures do not)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.local_model


def tutorial(*args: str, stdin: str = "") -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "tutorial", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_program_1_on_the_bundled_model_tells_a_story_and_counts_one_api_call():
    got = tutorial("1")
    assert got[0] == "👤 **User:** Tell me a short story about friendship"
    assert got[1].startswith("🤖 **Agent:** ") and len(got[1]) > 40
    assert got[-1] == "📊 **Metadata:** Completed in 1 API calls"


def test_program_2_on_the_bundled_model_in_vietnamese_plays_the_three_scenarios():
    got = tutorial("2", "--lang", "vi", "--seed", "7")
    scenarios = [line for line in got if line.startswith("🎲 **Scenario:** ")]
    assert len(scenarios) == 3 and "vách đá" in scenarios[0]
    assert got.count("=" * 60) == 3
    total = re.fullmatch(
        r"🎉 \*\*Adventure complete!\*\* Total tools used across all scenarios: (\d+)", got[-1]
    )
    assert total is not None
    assert int(total.group(1)) == sum(1 for line in got if "🔧 **[Tool " in line)


def test_program_3_on_the_bundled_model_answers_and_shows_its_statistics():
    got = tutorial("3", stdin="Hello!\n/stats\n/quit\n")
    assert "🤖 **STREAMING CHAT INTERFACE** 🤖" in got
    assert "• Your messages: 1" in got and "• Assistant messages: 1" in got
    assert got[-1] == "👋 Chat session ended."


# --- every program, in both languages, in-process on one loaded model ------------------------
@pytest.fixture(scope="module")
def engine():
    """The bundled model, loaded once for the module's programs."""
    from tui.core.models.local_model import LlamaEngine, bundled_model_path

    shared = LlamaEngine(bundled_model_path())
    shared.load()
    return shared


@pytest.fixture
def short_replies(engine, monkeypatch):
    """Every program's runner on the loaded model, its replies at most 48 tokens (the
    programs' lines and figures are the same for a short reply; the suite is minutes
    shorter), the backoff's waits not slept (tests/e2e/test_tutorial_server.py times them)."""
    from tui.core.models import local_model
    from tui.core.turn import runner as runner_module

    monkeypatch.setattr(local_model, "LlamaEngine", lambda _path: engine)
    monkeypatch.setitem(local_model.LocalLlamaModel.__init__.__kwdefaults__, "max_tokens", 48)

    async def no_wait(_cancelled, _delay_s):
        return False

    monkeypatch.setattr(runner_module, "_wait_or_cancel", no_wait)


SUMMARIES = {
    1: r"📊 \*\*Metadata:\*\* (Completed in|Hoàn thành trong) 1 API calls",
    2: r"🎉 \*\*Adventure complete!\*\* Total tools used across all scenarios: \d+",
    3: r"👋 Chat session ended\.",
    4: r"   • Status: idle",
    5: r"   • Recovery rate: \d+\.\d%",
    6: r"   • Sessions with Issues: \d",
}


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
async def test_each_program_runs_to_its_summary_on_the_bundled_model(short_replies, number, lang):
    import io

    from tui.core.config import Settings
    from tui.core.i18n import set_language
    from tui.tutorial import find, run_program
    from tui.tutorial_api import serving

    typed = iter(["Hello!", "/stats", "/quit"])
    out = io.StringIO()
    entry = find(str(number))
    assert entry is not None
    set_language(lang)
    try:
        status = await run_program(
            Settings(seed=7),
            entry,
            out=out,
            read_line=lambda _prompt: next(typed, None),
            serve_api=serving,
        )
    finally:
        set_language("en")
    got = out.getvalue().splitlines()
    assert status == 0, out.getvalue()[-2000:]
    assert re.fullmatch(SUMMARIES[number], got[-1]), got[-12:]
    counts = {  # the program's reports, one per prompt
        1: ("🤖 **Agent:** ", 1),
        2: ("🎲 **Scenario:** ", 3),
        3: ("• Your messages: 1", 1),
        4: ("📊 Response complete:", 3),
        5: ("🔄 Attempt 1/3", 3),
        6: ("📊 **Performance Metrics:**", 5),
    }
    start, count = counts[number]
    assert sum(line.startswith(start) for line in got) == count
    if number == 2:  # the small model may narrate a scenario without a tool: the total
        # counts what it called (a tool each: tests/e2e/test_tutorial_server.py)
        tools = sum("🔧 **[Tool " in line for line in got)
        assert got[-1].endswith(f": {tools}")
    if number == 6:
        assert "   • Total Sessions: 5" in got
