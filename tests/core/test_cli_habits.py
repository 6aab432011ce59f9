"""Command-line habits, as a person runs the command: Ctrl+C, ``| head``, ``-`` for standard
input, a key on the command line, ``OPENAI_BASE_URL``. Real processes, real loopback servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile_server import Behaviour, HostileServer

ROOT = Path(__file__).resolve().parents[2]
ECHO = "tests.fixtures_agents:echo"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui", *args]


def agents_tui(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def slow_server():
    """A reply of 2,000 characters in 400 deltas, 50 ms apart (20 s in all)."""
    server = HostileServer(full_text="word " * 400, delta_size=5, delta_delay_s=0.05)
    url = server.start()
    yield server, url
    server.stop()


def seen(stdout: str) -> list[str]:
    return json.loads(stdout.removeprefix("SEEN "))


def test_dash_reads_the_prompt_from_standard_input():
    done = agents_tui("run", "--agent", ECHO, "-", stdin="a question from a pipe\n")
    assert done.returncode == 0, done.stderr
    assert seen(done.stdout)[-1] == "user: a question from a pipe\n"


def test_words_and_dash_send_the_prompt_and_the_piped_text_together():
    done = agents_tui("run", "--agent", ECHO, "review", "this", "-", stdin="line one\nline two\n")
    assert done.returncode == 0, done.stderr
    assert seen(done.stdout)[-1] == "user: review this\n\nline one\nline two\n"


def test_a_prompt_without_dash_leaves_piped_text_unread_and_says_so():
    done = agents_tui("run", "--agent", ECHO, "summarise", stdin="a long document\n")
    assert done.returncode == 0, done.stderr
    assert seen(done.stdout)[-1] == "user: summarise"
    assert "add - to send it too" in done.stderr


def test_piped_text_that_comes_late_is_never_lost():
    # The old 0.3 s guess dropped it; now the prompt waits for the end of the input.
    process = subprocess.Popen(
        command("run", "--agent", ECHO, "summarise", "-"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    time.sleep(2.0)
    out, err = process.communicate("arrived late\n", timeout=60)
    assert process.returncode == 0, err
    assert seen(out)[-1] == "user: summarise\n\narrived late\n"


def test_ctrl_c_during_a_turn_exits_130_without_a_traceback(slow_server):
    server, url = slow_server
    process = subprocess.Popen(
        command("run", "--base-url", url, "hi"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.read(10)  # the reply is streaming
    assert first.startswith(b"word")
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert b"Traceback" not in err and b"interrupted" in err
    assert len(first + rest) < 2000  # stopped, not finished
    assert len(server.requests) == 1


def test_a_closed_stdout_ends_run_quietly_without_a_retry(slow_server):
    server, url = slow_server
    started = time.monotonic()
    done = subprocess.run(
        [
            "bash",
            "-c",
            '"$@" | head -c 12; exit "${PIPESTATUS[0]}"',
            "sh",
            *command("run", "--base-url", url, "hi"),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == b"word word wo"
    assert done.stderr == b""  # no traceback, no "Broken pipe", no retry notice
    assert len(server.requests) == 1  # the turn stopped: no retry of a "network error"
    assert time.monotonic() - started < 15  # and no 2 s + 4 s of backoff, no full reply


def test_an_api_key_on_the_command_line_is_warned_about_and_never_shown():
    done = agents_tui("run", "--agent", ECHO, "--api-key", "sk-visible-in-ps-123", "hi")
    assert done.returncode == 0, done.stderr
    assert "visible to every user in the process list" in done.stderr
    assert "OPENAI_API_KEY" in done.stderr
    assert "sk-visible-in-ps-123" not in done.stderr + done.stdout


def test_openai_base_url_is_honoured():
    server = HostileServer(full_text="Hello from OPENAI_BASE_URL.")
    url = server.start()
    try:
        done = agents_tui("run", "hi", env={"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-pair-1"})
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello from OPENAI_BASE_URL."
    assert len(server.requests) == 1


def test_a_bad_openai_base_url_is_one_line_with_the_fix():
    done = agents_tui("run", "hi", env={"OPENAI_BASE_URL": "ftp://nowhere"})
    assert done.returncode == 1
    assert "OPENAI_BASE_URL 'ftp://nowhere' is not an http(s) URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_cut_stream_still_recovers_through_run(slow_server):
    # The quiet exit on a closed stdout is not a quiet exit on a network error.
    server = HostileServer(script=[Behaviour("cut", after=3)], full_text="Complete reply.")
    url = server.start()
    try:
        done = agents_tui("run", "--base-url", url, "--retries", "1", "hi")
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Complete reply."
    assert "retrying" in done.stderr


def test_openai_base_url_gives_way_to_an_agents_own_model_and_to_base_url():
    from agents.testing import ScriptedModel

    from tui.core.agents import load_agent
    from tui.core.config import load_settings
    from tui.core.models.providers import choose_backend

    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-pair-12345"}
    agent = load_agent("assistant").clone(model=ScriptedModel([]))
    plain = load_settings({}, environ={})
    assert choose_backend(plain, agent, environ=env).kind == "agent"
    backend = choose_backend(plain, environ=env)
    assert backend.kind == "compat" and backend.base_url == env["OPENAI_BASE_URL"]
    assert backend.api_key == "sk-pair-12345"  # the pair the openai library reads
    flagged = load_settings({"base_url": "http://127.0.0.1:8/v1"}, environ={})
    backend = choose_backend(flagged, agent, environ=env)
    assert backend.kind == "compat" and backend.base_url == "http://127.0.0.1:8/v1"
    assert backend.api_key is None  # OpenAI's key is not sent to a --base-url server


def test_help_shows_examples_environment_variables_and_the_config_file(tmp_path):
    config = tmp_path / "elsewhere.toml"
    done = agents_tui("--help", env={"AGENTS_TUI_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    assert "examples:" in done.stdout and 'agents-tui run "review this" -' in done.stdout
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "AGENTS_TUI_CONFIG"):
        assert name in done.stdout
    assert f"config file: {config}" in done.stdout
