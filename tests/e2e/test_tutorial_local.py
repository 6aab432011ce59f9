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
