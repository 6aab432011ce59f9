"""``agents-tui --connect``, one client on screen (Pilot) against a live API over real HTTP:
its own prompts and another player's, with their authors; the stored turns when it joins;
the service's errors as clear lines; Esc cancels whoever's turn runs."""

import asyncio

import aiohttp

from tests.api_fixtures import echo_agent, echo_words
from tests.app.helpers import screen_text, send, wait_until
from tui.app import AgentsTuiApp
from tui.app_remote import Connect
from tui.core.config import Settings
from tui.widgets.assistant_message import AssistantMessage


def attached(url: str, **kw) -> AgentsTuiApp:
    return AgentsTuiApp(Settings(), connect=Connect(url, **kw))


def replies(app: AgentsTuiApp) -> list[str]:
    return [m.source for m in app.chat.query(AssistantMessage)]


async def test_prompts_from_here_and_from_another_player_show_with_their_authors(api):
    server = api(lambda: echo_agent(rate=400))
    app = attached(server.url, name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        session = app.remote.id
        await send(pilot, "I open the door")
        expected = "".join(echo_words("Lan: I open the door"))
        await wait_until(pilot, lambda: expected.strip() in " ".join(replies(app)), "own reply")
        # another player (curl, the page, another terminal) speaks at the same table
        async with aiohttp.ClientSession() as http:
            body = {"message": "I light a torch", "author": "Minh"}
            async with http.post(
                f"{server.url}/v1/sessions/{session}/messages", json=body
            ) as response:
                assert response.status == 200
                await response.read()
        theirs = "".join(echo_words("Minh: I light a torch")).strip()
        await wait_until(pilot, lambda: any(r.strip() == theirs for r in replies(app)), "theirs")
        shown = screen_text(app)
        assert shown.index("Lan: I open the door") < shown.index("Minh: I light a torch")
        assert [m.text.strip() for m in app.history() if m.role == "assistant"] == [
            expected.strip(),
            theirs,
        ]
        assert not app.turn_running
        # the same session joined by a second client shows both turns as stored
    again = attached(server.url, name="Hoa", session=session)
    async with again.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: again.remote is not None, "attached")
        await wait_until(pilot, lambda: "Minh: I light a torch" in screen_text(again), "history")
        assert "Lan: I open the door" in screen_text(again)


async def test_a_wrong_token_reads_as_a_clear_line_and_a_new_table_is_made_by_its_name(api):
    server = api(echo_agent, token="s3cret")
    app = attached(server.url, token="wrong", name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: "401" in screen_text(app), "the 401 line")
        assert "AGENTS_TUI_API_TOKEN" in screen_text(app)
        assert "Traceback" not in screen_text(app)
    # the README's example: every player names the table; the first one there makes it
    app = attached(server.url, token="s3cret", name="Lan", session="table-new")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None, "attached to a new table")
        assert app.remote.id == "table-new"
    app = attached(server.url, token="s3cret", name="Lan", session="no such table!")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: "422" in screen_text(app), "the 422 line")
        assert app.remote is None and "Traceback" not in screen_text(app)


async def test_esc_cancels_the_running_turn_whoever_started_it(api):
    server = api(lambda: echo_agent(rate=5))  # a slow model: the turn is still running
    app = attached(server.url, name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        session = app.remote.id
        async with aiohttp.ClientSession() as http:
            body = {"message": "a long story please", "author": "Minh", "detach": True}
            async with http.post(
                f"{server.url}/v1/sessions/{session}/messages", json=body
            ) as response:
                assert response.status == 200
            await wait_until(pilot, lambda: app.turn_running, "Minh's turn running here")
            await wait_until(pilot, lambda: "Minh's turn" in screen_text(app), "whose turn")
            await asyncio.sleep(0.5)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not app.turn_running, "the turn cancelled")
            async with http.get(f"{server.url}/v1/sessions/{session}/messages") as response:
                stored = (await response.json())["messages"]
        assert stored[-1]["status"] == "interrupted"
        reply = app.chat.query(AssistantMessage).last()
        assert reply.status == "interrupted"
        assert "cancelled by Lan" in screen_text(app)  # the timeline says who


async def test_an_approval_is_asked_in_every_terminal_and_answered_by_the_first(api):
    from tests import approval_agents as fx

    fx.DELETED.clear()
    server = api(lambda: fx.cleaner(fx.two_calls_then_text(("a.txt", "b.txt")), turns=2))
    app = attached(server.url, name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        session = app.remote.id
        await send(pilot, "clean up")
        bar = app.approval_bar
        await wait_until(pilot, lambda: bar.asking, "the first approval asked here")
        assert bar.request.call_id == "call_1"
        await pilot.press("y")  # answered here
        await wait_until(pilot, lambda: bar.asking and bar.request.call_id == "call_2", "next")
        # the second is answered in another terminal first: this one stops asking
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.url}/v1/sessions/{session}/approvals/call_2", json={"approve": False}
            ) as response,
        ):
            assert response.status == 200
        await wait_until(pilot, lambda: not bar.asking, "the bar dismissed: answered elsewhere")
        await wait_until(pilot, lambda: not app.turn_running, "the turn's end")
        assert fx.DELETED == ["a.txt"]  # approved here, rejected there


async def test_a_watcher_types_nothing_and_answers_approvals_only_with_approve(api):
    from tests import approval_agents as fx

    fx.DELETED.clear()
    server = api(lambda: fx.cleaner(fx.two_calls_then_text(("w.txt",)), turns=2))
    watcher = attached(server.url, name="ops", watch=True)
    async with watcher.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: watcher.remote is not None, "attached")
        assert watcher.prompt_input.disabled
        session = watcher.remote.id
        async with aiohttp.ClientSession() as http:
            body = {"message": "clean up", "author": "Minh", "detach": True}
            async with http.post(
                f"{server.url}/v1/sessions/{session}/messages", json=body
            ) as response:
                assert response.status == 200
            await wait_until(pilot, lambda: "delete_file" in screen_text(watcher), "the call")
            await asyncio.sleep(0.3)
            assert not watcher.approval_bar.asking  # read-only: the timeline shows it
            async with http.post(
                f"{server.url}/v1/sessions/{session}/approvals/call_1", json={"approve": True}
            ) as response:
                assert response.status == 200
        await wait_until(pilot, lambda: not watcher.turn_running, "the turn's end")
        assert "Minh: clean up" in screen_text(watcher)
    operator = attached(server.url, name="ops", watch=True, approve=True, session=session)
    async with operator.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: operator.remote is not None, "attached")
        await wait_until(pilot, lambda: operator.remote.connected.is_set(), "following")
        async with aiohttp.ClientSession() as http:
            body = {"message": "again", "author": "Minh", "detach": True}
            async with http.post(
                f"{server.url}/v1/sessions/{session}/messages", json=body
            ) as response:
                assert response.status == 200
        await wait_until(pilot, lambda: operator.approval_bar.asking, "asked with --approve")
        await pilot.press("n")
        await wait_until(pilot, lambda: not operator.turn_running, "the turn's end")
    assert fx.DELETED == ["w.txt"]


async def test_ctrl_s_lists_the_services_sessions_and_joins_the_one_chosen(api):
    from tui.screens.remote_sessions import RemoteSessionsScreen

    server = api(lambda: echo_agent(rate=400))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions", json={"session_id": "table-9"}):
            pass
        body = {"message": "hello table", "author": "Minh"}
        async with http.post(f"{server.url}/v1/sessions/table-9/messages", json=body) as response:
            await response.read()
    app = attached(server.url, name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        first = app.remote.id
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, RemoteSessionsScreen), "the list")
        listed = screen_text(app)
        assert "table-9" in listed and "Minh" in listed  # who played there lately
        table = app.screen.query_one("#remote-table")
        row = next(i for i, item in enumerate(app.screen.sessions) if item["id"] == "table-9")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.remote is not None and app.remote.id == "table-9")
        assert first != "table-9"
        await wait_until(pilot, lambda: "Minh: hello table" in screen_text(app), "its history")


async def test_escape_sequences_from_another_player_never_reach_the_terminal(api):
    """Found by an attacker: a reply holding control characters was redrawn unsanitised at
    its end (the stored text never equals the sanitised one shown), so another player could
    set the window title, wipe the screen or write the clipboard (OSC 52)."""
    server = api(lambda: echo_agent(rate=400))  # repeats the prompt: a model told to
    app = attached(server.url, name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        hostile = "look \x1b]0;OWNED\x07 \x1b[2J \x1b]52;c;cm0gLXJmIH4K\x07 done"
        async with aiohttp.ClientSession() as http:
            body = {"message": hostile, "author": "Mallory"}
            async with http.post(
                f"{server.url}/v1/sessions/{app.remote.id}/messages", json=body
            ) as response:
                await response.read()
        await wait_until(pilot, lambda: not app.turn_running and "done" in screen_text(app))
        await wait_until(pilot, lambda: len(app.history()) == 2, "the reply's end")
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "␛]0;OWNED" in shown  # shown literally, inert
        rendered = [m.source for m in app.chat.query(AssistantMessage)]
        assert all("\x1b" not in text for text in rendered)
        assert "\x1b" not in app.sub_title


async def test_a_watcher_cannot_cancel_a_running_turn(api):
    server = api(lambda: echo_agent(rate=5))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions", json={"session_id": "ops"}):
            pass
        watcher = attached(server.url, name="ops-watch", session="ops", watch=True)
        async with watcher.run_test(size=(140, 40)) as pilot:
            await wait_until(pilot, lambda: watcher.remote is not None, "attached")
            await wait_until(pilot, lambda: watcher.remote.connected.is_set(), "following")
            question = "a customer's long question " + "and more words " * 10
            body = {"message": question, "detach": True}
            async with http.post(f"{server.url}/v1/sessions/ops/messages", json=body) as r:
                assert r.status == 200
            await wait_until(pilot, lambda: watcher.turn_running, "the customer's turn")
            await pilot.press("escape")
            await asyncio.sleep(1.0)
            assert watcher.turn_running  # not cancelled: a watcher is read-only
            async with http.post(f"{server.url}/v1/sessions/ops/cancel", json={}) as r:
                assert r.status == 200
            await wait_until(pilot, lambda: not watcher.turn_running, "stopped by the service")


async def test_turns_that_ran_while_the_link_was_down_are_shown_once_it_is_back(api):
    """Found by an attacker: a terminal that had seen no live event yet, cut off while
    another player's whole turn ran, never showed that turn."""
    from tests.e2e.test_play_together import CuttingProxy

    server = api(lambda: echo_agent(rate=400))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions", json={"session_id": "t"}):
            pass
        body = {"message": "before you came", "author": "Minh"}
        async with http.post(f"{server.url}/v1/sessions/t/messages", json=body) as response:
            await response.read()
        proxy = CuttingProxy(server.port)
        try:
            app = attached(f"http://127.0.0.1:{proxy.port}", name="Hoa", session="t")
            async with app.run_test(size=(140, 40)) as pilot:
                await wait_until(pilot, lambda: app.remote is not None, "attached")
                await wait_until(pilot, lambda: app.remote.connected.is_set(), "following")
                proxy.cut(3.0)
                await wait_until(pilot, lambda: "reconnecting" in screen_text(app), "the cut")
                for text in ("while Hoa is away", "and once more"):
                    body = {"message": text, "author": "Minh"}
                    async with http.post(
                        f"{server.url}/v1/sessions/t/messages", json=body
                    ) as response:
                        await response.read()
                await wait_until(
                    pilot, lambda: "Minh: and once more" in screen_text(app), "both turns"
                )
                shown = screen_text(app)  # each prompt once in its bubble, once echoed
                assert shown.count("Minh: while Hoa is away") == 2
                # a turn that ends in the frame it began: its text above its status line
                assert shown.rindex("You said: Minh: and once more") < shown.rindex("TTFT")
                prompts = [m.text for m in app.history() if m.role == "user"]
                assert prompts == ["before you came", "while Hoa is away", "and once more"]
                replies = [m.text for m in app.history() if m.role == "assistant"]
                assert [r.strip() for r in replies] == [
                    "".join(echo_words(f"Minh: {t}")).strip()
                    for t in ("before you came", "while Hoa is away", "and once more")
                ]
        finally:
            proxy.close()


async def test_export_writes_the_attached_session_as_this_terminal_has_it(api, tmp_path):
    server = api(lambda: echo_agent(rate=400))
    app = attached(server.url, name="Lan")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.remote is not None and app.remote.connected.is_set())
        await send(pilot, "I open the door")
        await wait_until(pilot, lambda: len(app.history()) == 2, "the reply")
        await wait_until(pilot, lambda: not app.turn_running, "the turn's end")
        target = tmp_path / "table.md"
        await send(pilot, f"/export md {target}")
        await wait_until(pilot, target.exists, "the export")
    text = target.read_text()
    assert "I open the door" in text and "You said: Lan: I open the door" in text
