"""Slash commands a person types: typos, /tools with MCP servers."""

from agents import Agent, RunConfig
from agents.testing import ModelStep, ScriptedModel

from tests.app.helpers import make_app, pane_text, screen_text, send, wait_idle, wait_until
from tests.mcp_servers import notes_http_server
from tests.scripts import text_step
from tui.app import AgentsTuiApp
from tui.core.config import McpSpec, Settings
from tui.core.models.mcp import McpHub, attach
from tui.core.turn.runner import TurnRunner
from tui.widgets.note_block import NoteBlock
from tui.widgets.prompt import PromptInput

SIZE = (160, 45)


async def test_a_mistyped_command_is_not_sent_and_the_nearest_is_suggested():
    app, model = make_app([text_step(["never"])])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/hsitory")
        await wait_until(pilot, lambda: app._notifications, "the unknown-command notice")
        assert app.chat.message_count() == 0 and not app.turn_running
        assert len(model.calls) == 0  # nothing reached the model
        notices = [n.message for n in app._notifications]
        assert any("Unknown command /hsitory. Did you mean /history?" in n for n in notices)
        assert app.query_one(PromptInput).text == "/hsitory"  # the draft stays to be fixed
        # A path is a prompt, not a command.
        await send(pilot, "/etc/hosts: what is this file?")
        await wait_idle(pilot)
        assert [r.kind for r in app.chat.all_records()] == ["user", "assistant"]


async def test_tools_lists_function_tools_and_mcp_tools_with_their_source():
    url, http = notes_http_server()
    try:
        agent = attach(
            Agent(name="Helper", model=ScriptedModel([ModelStep.stream([])])),
            (McpSpec.from_url(url),),
        )
        from tui.core.agents import load_agent

        game_master = load_agent("game-master", seed=1)
        agent = agent.clone(tools=game_master.tools)
        runner = TurnRunner(agent, run_config=RunConfig(tracing_disabled=True))
        runner.mcp = McpHub(agent)
        app = AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, "/tools")
            await wait_until(pilot, lambda: app.query(NoteBlock), "the tools note")
            note = app.query_one(NoteBlock)
            assert note.title_text.startswith("Tools of Helper (")
            body = note.body_text
            assert "roll_dice" in body and "[function]" in body
            assert "add_note" in body and f"[mcp: {McpSpec.from_url(url).name}]" in body
            assert "Keep a note." in body
            assert "roll_dice" in pane_text(app, app.chat)
            await runner.close()
    finally:
        http.should_exit = True


def test_every_registered_command_has_a_handler_and_the_palette_offers_them():
    from tui import slash
    from tui.commands import SlashCommandProvider

    for command in slash.COMMANDS:
        assert callable(command.handler), command.name
    offered = [name for name, _ in SlashCommandProvider._commands(None)]  # type: ignore[arg-type]
    assert set(offered) >= {c.name for c in slash.COMMANDS if c.name != "/agent"}
    assert "/agent game-master" in offered


async def test_each_command_does_what_its_help_says(tmp_path):
    from textual.screen import Screen

    from tui.screens.dashboard import DashboardScreen
    from tui.screens.help import HelpScreen
    from tui.screens.sessions import SessionsScreen

    app, _ = make_app([text_step(["hello"]), text_step(["again"])], agent="assistant")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await wait_idle(pilot)

        async def run(line: str) -> None:
            await send(pilot, line)
            await pilot.pause()

        async def opens(line: str, screen: type[Screen]) -> None:
            await send(pilot, line)
            await wait_until(pilot, lambda: isinstance(app.screen, screen), line)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, screen), "closed")

        await opens("/help", HelpScreen)
        await opens("/sessions", SessionsScreen)
        await opens("/dashboard", DashboardScreen)
        await run("/stats")
        assert "Chat statistics" in pane_text(app, app.chat)
        target = tmp_path / "out.md"
        await run(f"/export md {target}")
        assert "hello" in target.read_text()
        await run("/theme agents-light")
        assert app.theme == "agents-light"
        await run("/retry")
        await wait_idle(pilot)
        assert app.history()[-1].text == "again"
        await run("/history")
        assert "History (4 messages)" in pane_text(app, app.chat)
        await run("/agent game-master")
        assert app.runner.agent_name == "Game Master"
        app.status.set_alert("⚠ Slow first token: 3.00s > 2s")  # what the last turn left
        await run("/clear")
        assert app.history() == []
        assert "Started a fresh conversation" in pane_text(app, app.chat)  # said in the chat
        assert "Slow first token" not in screen_text(app)  # and the old warning is gone
        await run("/cancel")  # idle: nothing to cancel, nothing breaks
        await run("/quit")
        await wait_until(pilot, lambda: "Goodbye!" in pane_text(app, app.chat), "a goodbye")
        await wait_until(pilot, lambda: app.return_code is not None, "the app to quit")
    assert app.return_code == 0


async def test_ctrl_t_and_ctrl_b_hide_and_show_the_panes():
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.timeline.display and app.sidebar.display
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.timeline.region.width == 0 and app.sidebar.region.width == 0
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.timeline.region.width > 0 and app.sidebar.region.width > 0
