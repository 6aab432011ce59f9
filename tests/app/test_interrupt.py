"""Smart interruption: Ctrl+Enter (or Alt+Enter) while a reply streams stops it, its partial
text kept (status interrupted, in the chat, the store and the model's memory), and the new
prompt runs next, ahead of what was queued; the timeline marks it."""

from tests.app.helpers import make_app, screen_text, send, wait_idle
from tests.scripts import text_step
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.prompt import PromptInput
from tui.widgets.timeline import TimelinePane

SIZE = (160, 45)


async def interrupt(pilot, text: str, key: str = "ctrl+enter") -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.text = text
    prompt.focus()
    await pilot.press(key)


async def test_ctrl_enter_interrupts_the_reply_and_sends_the_prompt_first():
    app, _ = make_app(
        [
            text_step([f"word{i} " for i in range(300)], rate=100),
            text_step(["the ", "new ", "answer"]),
            text_step(["the ", "queued ", "one"]),
        ]
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell a long story")
        while len(app.query_one(AssistantMessage).source.split()) < 5:
            await pilot.pause(0.02)
        await send(pilot, "queued before")  # waits behind the running turn
        await interrupt(pilot, "stop, answer this")
        await wait_idle(pilot, timeout=20)
        # the interrupting prompt ran before the one queued earlier
        turns = app.conversation.turns()
        assert [(t.prompt, t.status, t.reply) for t in turns[1:]] == [
            ("stop, answer this", "completed", "the new answer"),
            ("queued before", "completed", "the queued one"),
        ]
        first = turns[0]
        assert (first.prompt, first.status) == ("tell a long story", "interrupted")
        assert first.reply.startswith("word0 word1 word2 word3 word4")
        assert len(first.reply.split()) < 300
        rows = app.query_one(TimelinePane).rows
        assert any(r.title == "interrupted by a new prompt" for r in rows)
        assert app.session_metrics.interruptions == 1
        # the model's memory: the partial reply answers its prompt, never two users in a row
        items = await app.conversation.runner.session.get_items()
        said = [(i.get("role"), str(i.get("content"))) for i in items if i.get("role")]
        assert [role for role, _ in said] == ["user", "assistant"] * 3
        assert "word0 word1 word2" in said[1][1]
        assert "interrupted" in screen_text(app)


async def test_alt_enter_interrupts_and_without_a_turn_sends_as_enter():
    app, _ = make_app(
        [
            text_step(["plain ", "reply"]),
            text_step([f"w{i} " for i in range(300)], rate=100),
            text_step(["after"]),
        ]
    )
    async with app.run_test(size=SIZE) as pilot:
        await interrupt(pilot, "nothing runs", key="alt+enter")  # sent as Enter sends
        await wait_idle(pilot)
        await send(pilot, "long one")
        while len(app.query(AssistantMessage).last().source.split()) < 3:
            await pilot.pause(0.02)
        await interrupt(pilot, "enough", key="alt+enter")
        await wait_idle(pilot, timeout=20)
        turns = app.conversation.turns()
        assert [(t.prompt, t.status) for t in turns] == [
            ("nothing runs", "completed"),
            ("long one", "interrupted"),
            ("enough", "completed"),
        ]
        assert turns[-1].reply == "after"
