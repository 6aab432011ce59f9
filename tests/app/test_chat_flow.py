"""The real app, headless, with the SDK's ScriptedModel: what a person sees and can do."""

import asyncio
import re

import pytest
from agents.exceptions import ModelBehaviorError

from tests.app.helpers import make_app, pane_text, screen_text, send, wait_idle, wait_until
from tests.scripts import game_master_steps, text_step
from tui.core import events as ev
from tui.messages import RunEventPosted, TextArrived
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.note_block import NoteBlock
from tui.widgets.record import Record
from tui.widgets.timeline import TimelinePane
from tui.widgets.user_message import UserMessage

SIZE = (160, 45)


async def test_final_chat_text_equals_joined_deltas():
    deltas = [
        "# Title\n\n",
        "Some ",
        "**bold** ",
        "text.\n\n",
        "- one\n",
        "- two\n\n",
        "```python\n",
        "print('hi')\n",
        "\n",
        "x = 1\n",
        "```\n\n",
        "| a | b |\n",
        "|---|---|\n",
        "| 1 | 2 |\n",
    ]
    app, _ = make_app([text_step(deltas)])
    seen: list = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await send(pilot, "show me markdown")
        await wait_idle(pilot)
        reply = app.query_one(AssistantMessage)
        assert reply.source == "".join(deltas)
        # the deltas reach the chat in order, a frame's worth to a message
        batches = [m.parts for m in seen if isinstance(m, TextArrived)]
        assert [part for batch in batches for part in batch] == deltas
        chat = pane_text(app, app.chat)
        assert "Title" in chat and "print('hi')" in chat and "one" in chat
        assert "**bold**" not in chat  # rendered as Markdown, not shown as source
        assert "bold" in chat


async def test_a_fast_stream_reaches_the_chat_in_few_messages_and_in_order():
    """Each delta of a fast stream arrives on its own turn of the event loop (as from a
    local server at full speed); a message per delta cost more than drawing them."""
    deltas = [f"w{i} " for i in range(3_000)]
    app, _ = make_app([text_step(deltas, rate=5_000)])
    seen: list = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await send(pilot, "go fast")
        await wait_idle(pilot, timeout=20)
        batches = [m.parts for m in seen if isinstance(m, TextArrived)]
        assert [part for batch in batches for part in batch] == deltas
        assert len(batches) < len(deltas) / 5
        assert app.query_one(AssistantMessage).source == "".join(deltas)


async def test_game_master_timeline_rows_in_order_with_live_arguments():
    app, _ = make_app(game_master_steps(rate=200), agent="game-master")
    seen: list = []
    partial_args: list[str] = []

    def hook(message):
        seen.append(message)
        if isinstance(message, RunEventPosted) and isinstance(message.event, ev.ToolArgumentsDelta):
            timeline = app.query_one(TimelinePane)
            row = timeline.rows_by_call.get(message.event.call_id)
            if row is not None:
                partial_args.append(row.arguments)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await send(pilot, "I climb the cliff")
        await wait_idle(pilot)
        rows = list(app.timeline.rows)
        tools = [r for r in rows if r.kind == "tool"]
        assert [r.title for r in tools] == ["roll_dice", "flip_coin"]
        assert [r.call_id for r in tools] == ["call_a", "call_b"]
        assert tools[0].arguments == '{"sides": 20}'
        assert all(r.status == "done" for r in tools)
        assert tools[0].duration_s is not None
        assert 1 <= int(tools[0].output) <= 20
        assert tools[1].output in ("heads", "tails")
        # the row existed before its arguments were complete, and filled in live
        assert partial_args[0] == "" and '{"sid' in partial_args
        # a row per finished message, after the tool rows
        kinds = [r.kind for r in rows]
        assert kinds.index("message") > kinds.index("tool")
        screen = screen_text(app)
        assert "roll_dice" in screen and "flip_coin" in screen and "The rope holds!" in screen


async def test_enter_on_a_row_expands_its_full_arguments_and_output():
    app, _ = make_app(game_master_steps(), agent="game-master")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go")
        await wait_idle(pilot)
        timeline = app.query_one(TimelinePane)
        timeline.focus()
        timeline.index = 0
        await pilot.press("enter")
        await pilot.pause()
        row = timeline.rows_by_call["call_a"]
        assert row.expanded
        assert '"sides": 20' in screen_text(app)


async def test_escape_mid_stream_keeps_partial_text_and_next_prompt_works():
    app, _ = make_app(
        [text_step([f"word{i} " for i in range(300)], rate=100), text_step(["second ", "reply"])]
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell a long story")
        while len(app.query_one(AssistantMessage).source.split()) < 5:
            await pilot.pause(0.02)
        await pilot.press("escape")
        await wait_idle(pilot)
        first = app.query(AssistantMessage).first()
        assert first.status == "interrupted"
        assert first.source.startswith("word0 word1 word2")
        assert len(first.source.split()) < 300
        assert "interrupted" in screen_text(app)
        assert app.session_metrics.interruptions == 1
        await send(pilot, "again")
        await wait_idle(pilot)
        assert app.query(AssistantMessage).last().source == "second reply"


async def test_prompt_sent_during_a_turn_is_queued_then_sent():
    app, model = make_app(
        [text_step([f"t{i} " for i in range(100)], rate=100), text_step(["queued ", "answer"])]
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        assert app.turn_running
        await send(pilot, "second")
        users = list(app.query(UserMessage))
        assert users[-1].has_class("-queued")
        for _ in range(100):
            if "(queued)" in screen_text(app):
                break
            await asyncio.sleep(0.01)
        assert "(queued)" in screen_text(app)
        await wait_idle(pilot)
        assert not users[-1].has_class("-queued")
        replies = [r for r in app.chat.all_records() if r.kind == "assistant"]
        assert [r.status for r in replies] == ["completed", "completed"]
        assert replies[1].text == "queued answer"
        second_input = str(model.calls[1].input)
        assert "second" in second_input
        # the queued turn starts only once the first is in the conversation's memory
        assert "t0 t1 t2" in second_input


async def test_two_queued_prompts_each_get_their_reply_right_under_them():
    """Found in tmux: the first queued prompt's reply was drawn under the second bubble."""
    app, _model = make_app(
        [
            text_step([f"t{i} " for i in range(60)], rate=100),
            text_step(["answer ", "two"]),
            text_step(["answer ", "three"]),
        ]
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "one")
        await send(pilot, "two")
        await send(pilot, "three")
        await wait_idle(pilot)
        records = [(r.kind, r.text) for r in app.chat.all_records()]
        assert [text for _kind, text in records][2:] == [
            "two",
            "answer two",
            "three",
            "answer three",
        ]
        assert [kind for kind, _text in records] == ["user", "assistant"] * 3


async def test_markup_and_escape_sequences_are_shown_literally():
    hostile = "[bold red]not red[/] [link=http://x]l[/link] \x1b[31mCSI\x1b]52;c;SGk=\x07 \x00end"
    app, _ = make_app([text_step([hostile])])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "[b]user markup[/b] \x1b]0;title\x07")
        await wait_idle(pilot)
        screen = screen_text(app)
        assert "[bold red]not red[/]" in screen
        assert "[link=http://x]l[/link]" in screen
        assert "␛[31mCSI␛]52;c;SGk=␇" in screen
        assert "␀end" in screen
        assert "[b]user markup[/b] ␛]0;title␇" in screen
        assert "\x1b" not in screen and "\x07" not in screen


async def test_model_exception_becomes_an_error_block():
    app, _ = make_app([ModelBehaviorError("invalid JSON in tool arguments")])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await wait_idle(pilot)
        notes = [n for n in app.query(NoteBlock) if n.has_class("-error")]
        assert notes and "invalid JSON in tool arguments" in notes[0].body_text
        replies = [r for r in app.chat.all_records() if r.kind == "assistant"]
        assert [r.status for r in replies] == ["failed"]
        assert any(r.kind == "error" for r in app.timeline.rows)
        assert "Traceback" not in screen_text(app)
        assert app.session_metrics.errors == 1


async def test_metrics_sidebar_shows_the_turn():
    app, _ = make_app([text_step([f"x{i} " for i in range(20)], rate=500)])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "count")
        await wait_idle(pilot)
        turn = app.session_metrics.turns[0]
        assert turn.tokens == 20 and turn.ttft_s is not None
        screen = screen_text(app)
        assert "TTFT" in screen and "tokens/s" in screen and "interruptions" in screen


async def test_slash_commands_history_stats_clear_and_help():
    app, _ = make_app([text_step(["hello ", "there"])])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await wait_idle(pilot)
        await send(pilot, "/history")
        await pilot.pause()
        assert "History (2 messages)" in screen_text(app)
        await send(pilot, "/stats")
        await pilot.pause()
        shown = screen_text(app)
        assert "Chat statistics" in shown and "Performance statistics" in shown
        assert re.search(r"Total messages\s+2\b", shown)
        assert re.search(r"Your messages\s+1\b", shown)
        assert re.search(r"Average response length\s+11 characters", shown)  # "hello there"
        assert re.search(r"Average time to first token\s+\d+\.\d\d s", shown)
        assert "Performance issues" in shown
        await send(pilot, "/clear")
        await pilot.pause()
        assert not app.query(AssistantMessage) and app.runner.history == []
        await send(pilot, "/help")
        await pilot.pause()
        assert "Slash commands" in screen_text(app)
        await pilot.press("escape")


async def test_prompt_history_recall_and_tab_completion():
    app, _ = make_app([text_step(["a"]), text_step(["b"])])
    async with app.run_test(size=SIZE) as pilot:
        from tui.widgets.prompt import PromptInput

        prompt = app.query_one(PromptInput)
        await pilot.press(*"first", "shift+enter", *"prompt", "enter")  # real key presses
        await wait_idle(pilot)
        assert [r.text for r in app.chat.all_records() if r.kind == "user"] == ["first\nprompt"]
        await pilot.press("up")
        assert prompt.text == "first\nprompt"
        await pilot.press("down")
        assert prompt.text == ""
        prompt.text = "/hi"
        prompt.move_cursor(prompt.document.end)
        await pilot.pause()
        await pilot.press("tab")
        assert prompt.text == "/history "
        prompt.text = "line one"
        prompt.move_cursor(prompt.document.end)
        await pilot.press("ctrl+j")
        assert prompt.text == "line one\n"


async def test_ctrl_c_when_idle_asks_before_quitting():
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        from tui.screens.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)


async def test_finished_reply_reflows_when_the_terminal_narrows():
    words = [f"word{i} " for i in range(60)] + ["\n\nlast-paragraph-marker\n"]
    app, _ = make_app([text_step(words)])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "a long paragraph")
        await wait_idle(pilot)
        reply = app.query_one(AssistantMessage)
        wide_height = reply.region.height
        await pilot.resize_terminal(90, 45)
        await wait_until(pilot, lambda: reply.region.height > wide_height, "the reply to reflow")
        chat = pane_text(app, app.chat)
        assert reply.region.height > wide_height  # the same text wrapped to more lines
        assert "word59" in chat and "last-paragraph-marker" in chat
        assert all(len(line) <= 90 for line in chat.split("\n"))


def _streamed_lines(reply: AssistantMessage) -> list[str]:
    """What the live reply shows: its body's lines, then its footer lines."""
    body = [reply._body.render_line(y).text.rstrip() for y in range(reply._body.size.height)]
    return body + [s.render_line(0).text.strip() for s in reply.query(".status")]


@pytest.mark.parametrize("rate", [700, 4000])
async def test_streamed_reply_looks_exactly_like_the_same_reply_reopened(rate):
    """Streaming renders block by block, long code in pieces and long tables as drafts; the
    result must be the reply a person sees when the conversation is reopened (rendered as
    one document)."""
    from tui.bench.corpus import mixed_markdown, split_tokens

    code = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(40))
    rows = "".join(f"| row{i} | {i} | {i / 7:.3f} |\n" for i in range(60))
    table = "| name | count | ratio |\n|---|---:|---:|\n" + rows
    source = (
        "# Plan\n\nIntro paragraph.\n```python\n" + code + "```\n\n" + table + "\n"
        "- one\n- two\n\n- three, same loose list\n\n  continued under three\n\n"
        "---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n\n"
        + mixed_markdown(300)
        + "\n\n~~~\nunclosed at the end\n~~~\n\n"
        + "".join(f"- tight item {i}\n" for i in range(60))
        + "\nA paragraph ends the list.\n\n"
        + "".join(f"{i}. loose item {i}\n\n" for i in range(1, 46))
        + "- a list with code inside\n\n  ```python\n"
        + "".join(f"  x{i} = {i}\n" for i in range(30))
        + "  ```\n\n"
        + table  # a long table that the end of the reply closes
    )
    app, _ = make_app([text_step(split_tokens(source), rate=rate)])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "show me everything")
        await wait_idle(pilot)
        streamed = app.query_one(AssistantMessage)
        assert streamed.source == source
        assert len(streamed._body.blocks) > 10  # it really was built in pieces
        live = _streamed_lines(streamed)
        # Reopened, the reply is a record drawn by the transcript, with the same footer
        # (TTFT, tokens/s, tokens) as the live one.
        turn = app.session_metrics.turns[-1]
        record = Record("assistant", source, "completed", None, turn.summary(turn.finished_ns))
        transcript = app.chat.transcript
        drawn = transcript._render_record(record, transcript.content_size.width)
        reopened = [line.text[1:].rstrip() for line in drawn[1:]]  # no margin, no padding
        assert [line.strip() for line in live] == [line.strip() for line in reopened]
        assert live == [line.rstrip() for line in reopened]
        # The live reply keeps lines only for the blocks drawn last; the ones it dropped
        # were drawn again above, the same. Once it becomes a record, the transcript draws
        # it from the same blocks, a piece at a time, and still the same lines.
        assert streamed._body._list.kept_lines < len(live)
        app.chat.fold()
        await pilot.pause()
        folded = transcript.records[-1]
        assert folded.layout is not None and folded.text == source
        lines = transcript._record_lines(folded)
        assert len(lines) == len(drawn)
        assert [line.text for line in lines] == [line.text for line in drawn]


async def test_every_timeline_row_of_a_long_session_is_reachable_and_expandable():
    """Rows are lines drawn by the pane, not widgets: hundreds stay reachable with the
    keys, and a click expands the row under the pointer."""
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.timeline
        for i in range(300):
            timeline.note("message", f"note {i}", detail=f"the text of message {i}")
        await pilot.pause()
        assert "note 299" in pane_text(app, timeline)  # it follows the newest row
        timeline.focus()
        await pilot.press("home")
        await pilot.pause()
        assert "note 0" in pane_text(app, timeline) and "note 299" not in pane_text(app, timeline)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert timeline.rows[1].expanded
        assert "output (" not in pane_text(app, timeline)  # short: shown whole, no size
        await pilot.press("end")
        await pilot.pause()
        assert "note 299" in pane_text(app, timeline)
        region = timeline.content_region
        await pilot.click(timeline, offset=(region.x - timeline.region.x + 2, 1))
        await pilot.pause()
        clicked = [row for row in timeline.rows if row.expanded and row is not timeline.rows[1]]
        assert clicked and clicked[0].title in pane_text(app, timeline)


@pytest.mark.parametrize("rate", [0, 1_000])
async def test_a_fast_first_reply_in_a_fresh_conversation_is_painted(rate):
    """A fresh conversation, one prompt, a reply at full speed (80 deltas): its last line is
    on the terminal (what was written to it, not a fresh render of the widgets)."""
    from tui.bench.harness import PaintedScreen

    deltas = [f"w{i} " for i in range(79)] + ["LAST-WORD."]
    app, _ = make_app([text_step(deltas, rate=rate)])
    painted = PaintedScreen(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_idle(pilot)
        await wait_until(pilot, lambda: "ready" in painted.text(), "ready painted")
        assert "LAST-WORD." in painted.text(), painted.text()
        assert "hello" in painted.text()
