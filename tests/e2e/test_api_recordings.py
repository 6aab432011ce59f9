"""The API's JSONL recordings on a real ``agents-tui api`` process: one per session by
default; none with ``--no-record`` (or ``record = false`` in the config file); those older
than ``record_retention_days`` (config file, environment or ``--record-retention-days``)
deleted when it starts, the newer ones kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.api_process import echo_api, isolated_env
from tui.bench.sse import read_events
from tui.core.config import ConfigError, load_settings

DAY = 86_400


def recordings(home: Path) -> list[str]:
    folder = home / "data" / "agents-tui" / "recordings"
    return sorted(p.name for p in folder.glob("*.jsonl")) if folder.is_dir() else []


async def one_turn(url: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/sessions") as response:
            session = str((await response.json())["session_id"])
        async with http.post(
            f"{url}/v1/sessions/{session}/messages", json={"message": "record me"}
        ) as response:
            events = await read_events(response)
    assert events[-1]["data"]["status"] == "completed"
    return session


async def test_a_session_is_recorded_by_default_and_not_with_no_record(tmp_path: Path) -> None:
    with echo_api(tmp_path / "default") as (url, _):
        session = await one_turn(url)
    [name] = recordings(tmp_path / "default")
    assert name.endswith(f"-{session}.jsonl")
    with echo_api(tmp_path / "off", "--no-record") as (url, _):
        await one_turn(url)
    assert recordings(tmp_path / "off") == []
    (tmp_path / "file").mkdir()
    (tmp_path / "file" / "config.toml").write_text("record = false\n")
    with echo_api(tmp_path / "file") as (url, _):
        await one_turn(url)
    assert recordings(tmp_path / "file") == []


def seed(home: Path, ages_days: dict[str, float]) -> None:
    folder = home / "data" / "agents-tui" / "recordings"
    folder.mkdir(parents=True)
    now = time.time()
    for name, age in ages_days.items():
        path = folder / name
        path.write_text('{"event": "TurnStarted"}\n')
        os.utime(path, (now - age * DAY, now - age * DAY))


async def test_recordings_older_than_the_retention_are_deleted_at_start(tmp_path: Path) -> None:
    seed(tmp_path, {"old.jsonl": 10, "recent.jsonl": 2, "new.jsonl": 0})
    (tmp_path / "config.toml").write_text("record_retention_days = 7\n")
    with echo_api(tmp_path) as (_, child):
        assert recordings(tmp_path) == ["new.jsonl", "recent.jsonl"]
        child.terminate()
        _, stderr = child.communicate(timeout=30)
    assert "deleted 1 recordings older than 7 days" in stderr
    # the flag wins over the config file
    with echo_api(tmp_path, "--record-retention-days", "1.5"):
        assert recordings(tmp_path) == ["new.jsonl"]


def test_a_wrong_retention_or_record_value_is_refused_with_one_line(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    for args, config, said in (
        (["--record-retention-days", "0"], "", "record_retention_days must be a positive"),
        ([], "record_retention_days = -3\n", "record_retention_days must be a positive"),
        ([], 'record = "maybe"\n', "record = 'maybe' is not a valid bool"),
    ):
        (tmp_path / "config.toml").write_text(config)
        run = subprocess.run(
            [sys.executable, "-m", "tui", "api", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert run.returncode == 2, run.stderr
        assert said in run.stderr and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("value", "record"), [("false", False), ("0", False), ("no", False), ("true", True)]
)
def test_record_is_read_from_the_environment(value: str, record: bool, tmp_path: Path) -> None:
    environ = {"AGENTS_TUI_CONFIG": str(tmp_path / "none.toml"), "AGENTS_TUI_RECORD": value}
    assert load_settings(environ=environ).record is record


def test_the_retention_from_the_environment_must_be_positive(tmp_path: Path) -> None:
    environ = {
        "AGENTS_TUI_CONFIG": str(tmp_path / "none.toml"),
        "AGENTS_TUI_RECORD_RETENTION_DAYS": "0",
    }
    with pytest.raises(ConfigError, match="record_retention_days"):
        load_settings(environ=environ)
