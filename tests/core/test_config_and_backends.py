"""Settings precedence, one-line config errors, backend choice and its failure messages."""

import json
import subprocess
import sys

import pytest

from tui.core.agents import AgentLoadError, load_agent
from tui.core.config import ConfigError, load_settings
from tui.core.models.providers import ProviderError, choose_backend


def test_flags_beat_env_beat_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('agent = "game-master"\nmodel = "from-file"\nmax_retries = 5\n')
    env = {"AGENTS_TUI_CONFIG": str(cfg), "AGENTS_TUI_MODEL": "from-env"}
    s = load_settings({"model": None}, environ=env)
    assert (s.agent, s.model, s.max_retries) == ("game-master", "from-env", 5)
    s = load_settings({"model": "from-flag"}, environ=env)
    assert s.model == "from-flag"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("agent = \n", "invalid TOML"),
        ("colour = 'red'\n", "unknown option 'colour'"),
        ("max_retries = 'many'\n", "max_retries"),
        ("base_url = 'localhost:8080'\n", "not an http(s) URL"),
    ],
)
def test_bad_config_file_gets_one_line_naming_the_problem(tmp_path, content, expected):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings({}, environ={"AGENTS_TUI_CONFIG": str(cfg)})
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_reports_bad_config_without_traceback(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[[[")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--print-config"],
        capture_output=True,
        text=True,
        env={"AGENTS_TUI_CONFIG": str(cfg), "PATH": "/usr/bin"},
    )
    assert done.returncode == 2
    assert str(cfg) in done.stderr and "Traceback" not in done.stderr


def test_print_config_masks_the_key(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--print-config", "--api-key", "sk-secret-value-123"],
        capture_output=True,
        text=True,
        env={"AGENTS_TUI_CONFIG": str(tmp_path / "none.toml"), "PATH": "/usr/bin"},
    )
    shown = json.loads(done.stdout)
    assert "secret" not in done.stdout and shown["api_key"].startswith("sk-")


def test_backend_choice_order():
    s = load_settings({}, environ={})
    assert choose_backend(s, environ={"OPENAI_API_KEY": "k"}).kind == "openai"
    assert choose_backend(s, environ={}).kind in ("local",)
    s = load_settings({"base_url": "http://127.0.0.1:9/v1"}, environ={})
    backend = choose_backend(s, environ={"OPENAI_API_KEY": "k", "AGENTS_TUI_API_KEY": "srv"})
    assert backend.kind == "compat" and backend.api_key == "srv"
    assert "127.0.0.1:9" in backend.label


def test_agent_with_its_own_model_keeps_it():
    from agents.testing import ScriptedModel

    agent = load_agent("assistant").clone(model=ScriptedModel([]))
    s = load_settings({}, environ={})
    assert choose_backend(s, agent, environ={"OPENAI_API_KEY": "k"}).kind == "agent"
    forced = load_settings({"provider": "openai"}, environ={})
    assert choose_backend(forced, agent, environ={"OPENAI_API_KEY": "k"}).kind == "openai"


def test_backend_failure_messages_say_how_to_fix():
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        choose_backend(load_settings({"provider": "openai"}, environ={}), environ={})
    with pytest.raises(ProviderError, match="needs --base-url"):
        choose_backend(load_settings({"provider": "compat"}, environ={}), environ={})
    with pytest.raises(ProviderError, match="model file not found"):
        choose_backend(
            load_settings({"provider": "local", "model_path": "/nope/x.gguf"}, environ={}),
            environ={},
        )


def test_agent_spec_errors_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(AgentLoadError, match="unknown agent 'wizard'"):
        load_agent("wizard")
    with pytest.raises(AgentLoadError, match="cannot import module 'no_such_mod'"):
        load_agent("no_such_mod:agent")
    (tmp_path / "my_agents.py").write_text(
        "from agents import Agent\n"
        "triage = Agent(name='Triage')\n"
        "not_agent = 42\n"
        "def factory():\n    return Agent(name='Built')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_agent("my_agents:triage").name == "Triage"
    assert load_agent("my_agents:factory").name == "Built"
    with pytest.raises(AgentLoadError, match=r"not an agents\.Agent"):
        load_agent("my_agents:not_agent")
    with pytest.raises(AgentLoadError, match="has no attribute 'missing'"):
        load_agent("my_agents:missing")


def test_seeded_game_master_is_reproducible():
    import asyncio

    from agents import RunContextWrapper  # noqa: F401

    def rolls(seed):
        agent = load_agent("game-master", seed=seed)
        tool = next(t for t in agent.tools if t.name == "roll_dice")
        from agents.tool_context import ToolContext

        async def call():
            ctx = ToolContext(
                context=None,
                tool_name="roll_dice",
                tool_call_id="c",
                tool_arguments='{"sides": 20}',
            )
            return [await tool.on_invoke_tool(ctx, '{"sides": 20}') for _ in range(5)]

        return asyncio.run(call())

    assert rolls(42) == rolls(42)
    assert rolls(42) != rolls(43)


def test_game_master_registers_every_call_a_player_can_ask_for():
    from tui.core.agents.game_master import STANDARD_DICE, build_game_master
    from tui.core.models.tool_pick import catalogue_for

    agent = build_game_master(seed=1)
    calls = catalogue_for(tool.name for tool in agent.tools)
    assert calls is not None
    sides = {c.arguments["sides"] for c in calls if c.tool == "roll_dice"}
    assert sides == set(STANDARD_DICE)
    assert {c.tool for c in calls} == {"roll_dice", "flip_coin", "magic_answer", ""}
    assert next(c for c in calls if not c.tool).says  # "no call": the story goes on
    assert catalogue_for(["roll_dice"]) is None  # another agent's tools are not guessed at


def test_local_narration_prompt_names_the_tool_result_twice():
    from tui.core.models.local_model import _tool_result_messages

    messages = [
        {"role": "user", "content": "roll a d20"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "function": {"name": "roll_dice", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "14"},
    ]
    rewritten = _tool_result_messages(messages)
    assert [m["role"] for m in rewritten] == ["user", "user"]
    assert rewritten[-1]["content"].count("14") == 2 and "roll_dice" in rewritten[-1]["content"]


def test_the_database_comes_from_the_file_the_env_or_the_flag_and_is_shown_without_password(
    tmp_path,
):
    config = tmp_path / "config.toml"
    config.write_text('database = "postgresql://file@127.0.0.1:5432/a"\n')
    env = {"AGENTS_TUI_CONFIG": str(config)}
    assert load_settings({}, env).database == "postgresql://file@127.0.0.1:5432/a"
    env["AGENTS_TUI_DATABASE_URL"] = "postgresql://env:s3cret@127.0.0.1:5432/b"
    settings = load_settings({}, env)
    assert settings.database == "postgresql://env:s3cret@127.0.0.1:5432/b"
    assert settings.masked()["database"] == "postgresql://env:***@127.0.0.1:5432/b"
    flagged = load_settings({"database": "postgresql://flag@h/c"}, env)
    assert flagged.database == "postgresql://flag@h/c"
    with pytest.raises(ConfigError, match="use postgresql://USER@HOST:PORT/DB"):
        load_settings({"database": "mysql://root:pw@h/d"}, {})
    printed = subprocess.run(
        [sys.executable, "-m", "tui", "--print-config"],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    assert "s3cret" not in printed.stdout + printed.stderr
    assert json.loads(printed.stdout)["database"] == "postgresql://env:***@127.0.0.1:5432/b"


@pytest.mark.parametrize("ttl", [float("nan"), -1.0])
def test_a_cache_ttl_that_is_not_0_or_more_seconds_is_refused(ttl):
    # nan passed the "< 0" check and then silently meant no cache at all
    from dataclasses import replace

    from tui.core.config import Settings, validated

    with pytest.raises(ConfigError, match="cache_ttl must be 0"):
        validated(replace(Settings(), cache_ttl=ttl))
