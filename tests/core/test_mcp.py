"""MCP servers others wrote (from the package registry) and our own, over stdio and HTTP."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agents import Agent, RunConfig
from agents.testing import ModelStep, ScriptedModel

from tests.mcp_servers import notes_http_server
from tui.core import events as ev
from tui.core.config import ConfigError, McpSpec, load_settings
from tui.core.models.mcp import McpHub, attach, list_tools
from tui.core.turn.runner import RetryPolicy, TurnRunner
from tui.testing.scripted import Call, Text, response_events


def registry_server(name: str) -> str:
    """The console script of an MCP server installed from PyPI (a dev dependency)."""
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    assert Path(found).exists(), f"{name} is not installed: pip install -e '.[dev]'"
    return found


def calling(*calls: Call, reply: str = "Done.") -> list[ModelStep]:
    return [
        ModelStep.stream(response_events(list(calls))),
        ModelStep.stream(response_events([Text([reply])])),
    ]


async def run_turns(agent: Agent, prompts: list[str]) -> tuple[list, TurnRunner, list[str]]:
    runner = TurnRunner(
        agent, run_config=RunConfig(tracing_disabled=True), retry=RetryPolicy(max_attempts=1)
    )
    runner.mcp = McpHub(agent)
    problems = await runner.prepare()
    seen: list = []
    try:
        for prompt in prompts:
            await runner.run(prompt, seen.append)
    finally:
        await runner.close()
    return seen, runner, problems


def finished(seen: list) -> dict[str, ev.ToolCallFinished]:
    return {e.call_id: e for e in seen if isinstance(e, ev.ToolCallFinished)}


async def test_agent_with_its_own_stdio_server_mcp_server_time():
    from agents.mcp import MCPServerStdio

    server = MCPServerStdio(
        params={"command": registry_server("mcp-server-time"), "args": ["--local-timezone", "UTC"]},
        name="time",
    )
    steps = calling(Call("get_current_time", "c1", ['{"timezone": ', '"Asia/Tokyo"}']))
    agent = Agent(name="Clock", mcp_servers=[server], model=ScriptedModel(steps))
    seen, _, problems = await run_turns(agent, ["What time is it in Tokyo?"])
    assert problems == []
    issued = next(e for e in seen if isinstance(e, ev.ToolCallIssued))
    assert issued.source == "mcp:time"
    output = finished(seen)["c1"]
    assert not output.failed
    assert "Asia/Tokyo" in output.output and "+09:00" in output.output
    assert seen[-1].status == "completed"


async def test_flag_attaches_mcp_server_git_to_a_builtin_agent(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "hello.txt").write_text("hi")
    spec = McpSpec.from_command_line(f"{registry_server('mcp-server-git')} --repository {repo}")
    assert spec.name == "mcp-server-git"
    steps = calling(Call("git_status", "c1", [json.dumps({"repo_path": str(repo)})]))
    agent = attach(Agent(name="Dev", model=ScriptedModel(steps)), (spec,))
    tools = {t.name: t.source for t in await _listed(agent)}
    assert tools["git_status"] == "mcp: mcp-server-git"
    seen, _, _ = await run_turns(agent, ["status?"])
    output = finished(seen)["c1"]
    assert not output.failed and "hello.txt" in output.output


async def _listed(agent: Agent) -> list:
    hub = McpHub(agent)
    await hub.start()
    try:
        return await list_tools(agent)
    finally:
        await hub.close()


async def test_streamable_http_server_from_the_mcp_package():
    url, http = notes_http_server()
    try:
        steps = [
            *calling(Call("add_note", "c1", ['{"text": "buy milk"}'])),
            *calling(Call("count_notes", "c2", ["{}"]), reply="One note."),
        ]
        agent = attach(Agent(name="Notes", model=ScriptedModel(steps)), (McpSpec.from_url(url),))
        seen, _, _ = await run_turns(agent, ["note it", "how many?"])
    finally:
        http.should_exit = True
    outputs = finished(seen)
    assert "noted (1 notes)" in outputs["c1"].output
    assert "1" in outputs["c2"].output and not outputs["c2"].failed


async def test_a_server_that_cannot_start_is_a_notice_and_the_rest_works():
    url, http = notes_http_server()
    try:
        steps = calling(Call("add_note", "c1", ['{"text": "x"}']))
        specs = (McpSpec.from_command_line("no-such-mcp-server --flag"), McpSpec.from_url(url))
        agent = attach(Agent(name="Notes", model=ScriptedModel(steps)), specs)
        seen, runner, problems = await run_turns(agent, ["note it"])
    finally:
        http.should_exit = True
    assert len(problems) == 1 and "'no-such-mcp-server' did not start" in problems[0]
    assert [s.name for s in runner.agent.mcp_servers] == [McpSpec.from_url(url).name]
    assert not finished(seen)["c1"].failed
    assert seen[-1].status == "completed"


async def test_a_server_that_dies_mid_conversation_fails_its_row_and_is_dropped():
    crashy = McpSpec.from_command_line(f"{sys.executable} -m tests.mcp_servers crashy")
    steps = [
        *calling(Call("echo", "c1", ['{"text": "hi"}'])),
        *calling(Call("crash", "c2", ["{}"])),
        ModelStep.stream(response_events([Text(["Still ", "here."])])),
    ]
    agent = attach(Agent(name="Fragile", model=ScriptedModel(steps)), (crashy,))
    seen, runner, _ = await run_turns(agent, ["echo", "crash", "are you there?"])
    outputs = finished(seen)
    assert outputs["c1"].output.count("echo: hi") == 1 and not outputs["c1"].failed
    assert outputs["c2"].failed  # the call that killed the server is a failed row
    notices = [e for e in seen if isinstance(e, ev.RunFailed) and e.error_kind == "mcp"]
    assert len(notices) == 1 and "'tests.mcp_servers' stopped answering" in notices[0].message
    finishes = [e for e in seen if isinstance(e, ev.TurnFinished)]
    assert [f.status for f in finishes] == ["completed", "completed", "completed"]
    assert finishes[2].final_text == "Still here."
    assert runner.agent.mcp_servers == []


def test_config_file_mcp_tables_and_flags_join(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[[mcp]]\nname = "time"\ncommand = "mcp-server-time"\nargs = ["--local-timezone", "UTC"]\n'
        '[[mcp]]\nurl = "http://127.0.0.1:9/mcp"\n'
    )
    settings = load_settings(
        {"mcp": (McpSpec.from_command_line("mcp-server-git"),)},
        environ={"AGENTS_TUI_CONFIG": str(config)},
    )
    assert [(s.name, s.command, s.args, s.url) for s in settings.mcp] == [
        ("time", "mcp-server-time", ("--local-timezone", "UTC"), None),
        ("127.0.0.1:9", None, (), "http://127.0.0.1:9/mcp"),
        ("mcp-server-git", "mcp-server-git", (), None),
    ]
    config.write_text('[[mcp]]\nname = "broken"\n')
    with pytest.raises(ConfigError, match="exactly one of command or url"):
        load_settings({}, environ={"AGENTS_TUI_CONFIG": str(config)})


async def test_switching_agents_keeps_flag_servers_and_connects_the_new_agents_own(tmp_path):
    """`/agent NAME`: the servers attached with --mcp stay attached (still connected), and
    the servers the new agent carries are connected before its first turn."""
    from agents.mcp import MCPServerStdio

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "hello.txt").write_text("hi")
    git = McpSpec.from_command_line(f"{registry_server('mcp-server-git')} --repository {repo}")
    first = attach(
        Agent(name="Dev", model=ScriptedModel(calling(Call("git_status", "c1", ["{}"])))),
        (git,),
    )
    runner = TurnRunner(
        first, run_config=RunConfig(tracing_disabled=True), retry=RetryPolicy(max_attempts=1)
    )
    runner.mcp = McpHub(first, attached=list(first.mcp_servers))
    seen: list = []
    try:
        assert await runner.prepare() == []
        time_server = MCPServerStdio(
            params={"command": registry_server("mcp-server-time"), "args": []}, name="time"
        )
        steps = [
            ModelStep.stream(
                response_events(
                    [
                        Call("get_current_time", "c2", ['{"timezone": "UTC"}']),
                        Call("git_status", "c3", [json.dumps({"repo_path": str(repo)})]),
                    ]
                )
            ),
            ModelStep.stream(response_events([Text(["Both."])])),
        ]
        second = Agent(name="Clock", model=ScriptedModel(steps), mcp_servers=[time_server])
        runner.switch_agent(second)
        assert runner.agent_name == "Clock"
        assert await runner.prepare() == []  # the new agent's own server, connected now
        await runner.run("time and status?", seen.append)
    finally:
        await runner.close()
    outputs = finished(seen)
    assert not outputs["c2"].failed and "UTC" in outputs["c2"].output
    assert not outputs["c3"].failed and "hello.txt" in outputs["c3"].output
    assert seen[-1].status == "completed"
