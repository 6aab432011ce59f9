"""``agents-tui --connect`` (Pilot against a live API over real HTTP): Ctrl+Enter while the
session's reply streams sends the prompt with ``"interrupt": true``; the service stops the
reply (its partial text kept, interrupted) and runs the new prompt next."""

import aiohttp

from tests.api_fixtures import echo_agent, echo_words
from tests.app.helpers import wait_until
from tui.app import AgentsTuiApp
from tui.app_remote import Connect
from tui.core.config import Settings
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.prompt import PromptInput
from tui.widgets.timeline import TimelinePane

LONG = " ".join(f"w{i}" for i in range(300))


def streamed(app: AgentsTuiApp) -> str:
    return " ".join(m.source for m in app.chat.query(AssistantMessage))


async def test_ctrl_enter_when_attached_interrupts_the_services_turn(api):
    server = api(lambda: echo_agent(rate=40))
    app = AgentsTuiApp(Settings(), connect=Connect(server.url, name="Lan"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        session = app.remote.id
        prompt = app.query_one(PromptInput)
        prompt.text = LONG
        prompt.submit()
        await wait_until(pilot, lambda: "w5 " in streamed(app), "the reply streaming")
        prompt.text = "stop"
        prompt.focus()
        await pilot.press("ctrl+enter")
        answer = "".join(echo_words("Lan: stop")).strip()
        await wait_until(pilot, lambda: answer in streamed(app), "the new reply", timeout=15)
        await wait_until(pilot, lambda: not app.turn_running, "the end of the turn")
        rows = app.query_one(TimelinePane).rows
        assert any(r.title == "interrupted by a new prompt" for r in rows)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/v1/sessions/{session}/messages") as response,
    ):
        messages = (await response.json())["messages"]
    assert [(m["role"], m.get("status")) for m in messages] == [
        ("user", None),
        ("assistant", "interrupted"),
        ("user", None),
        ("assistant", "completed"),
    ]
    assert messages[2]["text"] == "stop" and messages[3]["text"].strip() == answer
    assert 0 < len(messages[1]["text"]) < len("".join(echo_words("Lan: " + LONG)))
