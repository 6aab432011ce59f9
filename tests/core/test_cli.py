"""The command line as a person types it: options anywhere, piped prompts, --approve, --mcp."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_server import HostileServer

ROOT = Path(__file__).resolve().parents[2]


def agents_tui(
    *args: str, stdin: str | None = "", timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def server():
    started = HostileServer(full_text="Hello from the server.")
    url = started.start()
    yield started, url
    started.stop()


@pytest.mark.parametrize("before", [True, False])
def test_backend_options_mean_the_same_before_and_after_run(server, before):
    hostile, url = server
    options = ["--base-url", url, "--model", "plain"]
    args = [*options, "run", "hi"] if before else ["run", "hi", *options]
    done = agents_tui(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello from the server."
    assert hostile.requests and hostile.requests[0]["model"] == "plain"


@pytest.mark.parametrize("before", [True, False])
def test_a_bad_agent_fails_wherever_it_is_given(before):
    args = ["--agent", "nosuch:x", "run", "hi"] if before else ["run", "hi", "--agent", "nosuch:x"]
    done = agents_tui(*args)
    assert done.returncode == 1
    assert "cannot import module 'nosuch'" in done.stderr
    assert done.stdout == ""


def test_backend_options_on_a_subcommand_without_a_model_are_refused():
    done = agents_tui("--model", "x", "stats")
    assert done.returncode == 2
    assert "--model has no effect on 'stats'" in done.stderr


def test_prompt_from_standard_input():
    done = agents_tui(
        "run", "--agent", "tests.fixtures_agents:echo", stdin="question from a pipe\n"
    )
    assert done.returncode == 0, done.stderr
    assert "user: question from a pipe" in done.stdout


def test_prompt_and_piped_text_are_sent_together():
    done = agents_tui(
        "run",
        "summarise",
        "-",
        "--agent",
        "tests.fixtures_agents:echo",
        stdin="line one\nline two\n",
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.removeprefix("SEEN "))
    assert seen[-1] == "user: summarise\n\nline one\nline two\n"


def test_no_prompt_at_all_is_a_clear_message():
    done = agents_tui("run", "--agent", "tests.fixtures_agents:echo", stdin="")
    assert done.returncode == 2
    assert "no prompt" in done.stderr


@pytest.mark.parametrize(
    ("flag", "stdin", "approved", "by"),
    [
        (["--approve", "all"], "", True, "flag"),
        (["--approve", "none"], "", False, "flag"),
        ([], "", False, "flag"),  # not a terminal: the default is none
        (["--approve", "ask"], "y\n", True, "user"),
        (["--approve", "ask"], "n\n", False, "user"),
    ],
)
def test_run_approve_modes(tmp_path, monkeypatch, flag, stdin, approved, by):
    marker = tmp_path / "marker.txt"
    marker.write_text("keep me")
    monkeypatch.setenv("MARKER_PATH", str(marker))
    done = agents_tui(
        "run",
        "--jsonl",
        "--agent",
        "tests.approval_agents:cleaner_for_child",
        *flag,
        "delete the marker",
        stdin=stdin,
    )
    assert done.returncode == 0, done.stderr
    objs = events(done.stdout)
    required = [o["data"] for o in objs if o["type"] == "approval_required"]
    resolved = [o["data"] for o in objs if o["type"] == "approval_resolved"]
    assert required == [
        {
            "call_id": "call_1",
            "tool_name": "delete_file",
            "arguments": json.dumps({"path": str(marker)}),
            "agent": "Cleaner",
            "index": 1,
            "total": 1,
        }
    ]
    assert resolved == [{"call_id": "call_1", "approved": approved, "by": by}]
    assert marker.read_text() == ("deleted" if approved else "keep me")
    complete = objs[-1]
    assert complete["type"] == "response_complete"
    assert complete["data"]["final_response"].endswith("Deleted it. ")
    if flag[-1:] == ["ask"]:
        assert "wants to run delete_file" in done.stderr


def test_bench_targets_say_met_or_missed_and_only_ratio_misses_fail_check():
    from tui.bench.run import targets_of

    targets = {
        t["measure"]: t
        for t in targets_of(
            {
                "throughput_ratio_vs_stock": 1.5,  # a ratio missed: --check fails on it
                "cpu_ratio_vs_stock_at_100tps": 0.2,
                "conversation_jump_first_ms": 120.0,  # a time missed: informational
            }
        )
    }
    assert set(targets) == {
        "throughput_ratio_vs_stock",
        "cpu_ratio_vs_stock_at_100tps",
        "conversation_jump_first_ms",
    }
    assert targets["throughput_ratio_vs_stock"]["met"] is False
    assert targets["cpu_ratio_vs_stock_at_100tps"]["met"] is True
    missed_time = targets["conversation_jump_first_ms"]
    assert missed_time["met"] is False and missed_time["kind"] == "time"
