"""``agents-tui api`` as a real process for end-to-end tests: the benchmark's scripted echo
agent (``tui.bench.scale_agent:echo``: no network, its text known from the prompt), its own
config and data directories under a temporary folder, no provider key in its environment
(a session that names a built-in agent fails at once instead of calling anyone)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.test_api_limits import wait_for_server
from tests.mcp_servers import free_port

ECHO = "tui.bench.scale_agent:echo"


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child that touches nothing outside ``home``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY")
        and not k.startswith(("OTEL_", "AGENTS_TUI_"))
        and k != "OPENAI_BASE_URL"
    }
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        AGENTS_TUI_CONFIG=str(home / "config.toml"),
        AGENTS_TUI_ECHO_RATE="1000",
        AGENTS_TUI_ECHO_DELTAS="5",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def echo_api(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m tui api --agent ECHO ...`` on a free port; yields its URL and process,
    stopped afterwards (SIGTERM; killed if it has not exited within 30 s)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "tui", "api", "--agent", ECHO, "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**isolated_env(home), **(env or {})},
        cwd=home,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, child)
        yield url, child
    finally:
        if child.poll() is None:
            child.terminate()
        try:
            child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
