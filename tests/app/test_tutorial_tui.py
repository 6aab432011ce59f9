"""``agents-tui tutorial N --tui``: the program's prompts typed in the TUI for the person, who
watches the chat, the timeline and the sidebar, and takes over with any key."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import tui.app as tui_app
from tests.app.helpers import pane_text, wait_until
from tests.scripts import Call, Text, parts_step, runner_for, text_step
from tui.core.config import Settings
from tui.tutorial import autopilot, find
from tui.tutorial_tui import TutorialApp

SIZE = (160, 45)


def last_user_text(call) -> str:
    items = call.input if isinstance(call.input, list) else [call.input]
    users = [i for i in items if isinstance(i, dict) and i.get("role") == "user"]
    return str(users[-1]["content"]) if users else str(call.input)


def plan(number: int, settings: Settings | None = None):
    entry = find(str(number))
    assert entry is not None
    return autopilot(entry, settings or Settings())


def game_master_app(**options):
    """Program 2's autopilot on a scripted game master: a dice roll per scenario."""
    steps = []
    for i in range(3):
        steps.append(
            parts_step(
                [
                    Text([f"Scene {i}: ", "I roll."]),
                    Call("roll_dice", f"call_{i}", ['{"sides": 20}']),
                ],
                rate=200,
            )
        )
        steps.append(text_step([f"Outcome {i} ", "told."], rate=200))
    runner, model = runner_for(steps, agent="game-master")
    prompts = plan(2).prompts
    app = TutorialApp(
        Settings(agent="game-master"),
        prompts,
        runner=runner,
        backend_label="scripted",
        chars_per_s=options.pop("chars_per_s", 600),
        read_pause_s=0.05,
        **options,
    )
    return app, model, prompts


async def test_tutorial_2_in_the_tui_types_the_three_scenarios_and_the_tools_show_in_the_timeline():
    app, model, prompts = game_master_app()
    assert prompts[0] == "I want to climb a 20-metre cliff. Do I make it?" and len(prompts) == 3
    typing: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        # typed visibly: the prompt holds the first scenario's start before it is sent
        await wait_until(pilot, lambda: len(app.prompt_input.text) > 5, "the typing", 10)
        typing.append(app.prompt_input.text)
        await wait_until(pilot, lambda: not app.autopilot_on, "the three scenarios", 30)
        assert app.autopilot_sent == list(prompts)
        # the model was asked each scenario, in order (then once more after each tool)
        asked = [last_user_text(call) for call in model.calls]
        assert asked == [p for p in prompts for _ in range(2)]
        tools = [r for r in app.timeline.rows if r.kind == "tool"]
        assert [r.title for r in tools] == ["roll_dice"] * 3
        assert all(r.status == "done" and 1 <= int(r.output) <= 20 for r in tools)
        assert "roll_dice" in pane_text(app, app.timeline)
        chat = pane_text(app, app.chat)
        assert "Outcome 2 told." in chat
        assert "the chat is yours" in " ".join(n.message for n in app._notifications)
    assert prompts[0].startswith(typing[0]) and typing[0] != prompts[0]


async def test_any_key_stops_the_autopilot_and_leaves_the_half_typed_prompt_to_the_person():
    app, model, prompts = game_master_app(chars_per_s=40)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.prompt_input.text) > 3, "the typing", 10)
        await pilot.press("x")
        await pilot.pause(0.3)
        assert not app.autopilot_on and app.autopilot_sent == []
        held = app.prompt_input.text
        assert held.endswith("x") and prompts[0].startswith(held[:-1])
        await asyncio.sleep(0.3)  # nothing more is typed
        assert app.prompt_input.text == held and not model.calls
        assert "the prompt is yours" in " ".join(n.message for n in app._notifications)


def test_each_program_types_the_same_prompts_as_the_program_sends_and_5_injects_faults():
    from tui.tutorial import game_master, performance, storyteller, web_service

    assert plan(1).prompts == (storyteller.request(),)
    assert plan(2).prompts == tuple(game_master.scenarios())
    assert plan(3).prompts[1:] == ("/history", "/stats") and plan(3).changes == {"history": 6}
    assert plan(4).prompts == tuple(web_service.messages())
    five = plan(5)
    assert len(five.prompts) == 3 and five.prompts[0].startswith("User message: ")
    assert five.changes == {"inject_faults": 0.1}
    assert plan(5, replace(Settings(), inject_faults=0.3)).changes == {"inject_faults": 0.3}
    assert plan(6).prompts == tuple(performance.queries())
    assert [plan(n).agent for n in range(1, 7)] == [
        "storyteller",
        "game-master",
        "assistant",
        "web-assistant",
        "resilient-assistant",
        "performance-assistant",
    ]


def test_the_command_opens_the_tui_on_the_programs_agent_settings_and_prompts(monkeypatch):
    from tui.cli import main
    from tui.core.i18n import set_language

    started: list[TutorialApp] = []
    monkeypatch.setattr(TutorialApp, "run", lambda self, *a, **k: started.append(self))
    try:
        assert main(["tutorial", "5", "--tui", "--lang", "vi", "--seed", "3"]) == 0
        [app] = started
        assert app.settings.agent == "resilient-assistant"
        assert app.settings.inject_faults == 0.1 and app.settings.seed == 3
        assert app.autopilot_prompts[0].startswith(
            "User message: Giải thích về quantum computing một cách đơn giản\n"
        )
        assert app.autopilot_title == "5. Robust Streaming với Error Recovery"
        assert main(["tutorial", "9", "--tui"]) == 2 and len(started) == 1  # no such program
    finally:
        set_language("en")


async def test_with_a_pace_the_next_prompt_waits_until_the_reply_has_been_shown_whole():
    # the turn ends in the core before its paced text is on screen (--pace): typing the next
    # prompt then cut the reply short (the rest shown at once as the next turn started)
    words = [f"w{i} " for i in range(60)]  # one burst: ~3 s of release at 20 words a second
    runner, _model = runner_for([text_step(words), text_step(["Done."])])
    waiting_at_send: list[int] = []

    class Watched(TutorialApp):
        CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))  # (relative to tui/)

        async def _send_and_wait(self, text: str) -> None:
            waiting_at_send.append(self.chat_screen.pacing.waiting)  # words not shown yet
            await super()._send_and_wait(text)

    app = Watched(
        Settings(pace="20"),
        ["first", "second"],
        runner=runner,
        backend_label="scripted",
        chars_per_s=0,
        read_pause_s=0.0,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not app.autopilot_on, "both prompts", 30)
    assert waiting_at_send == [0, 0]  # nothing of the first reply still waited to be shown
