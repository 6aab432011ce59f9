"""Reading a whole conversation: no blank band under a streaming reply, keys that scroll
the chat while the prompt has focus, and a stream that does not pull a reader down."""

from __future__ import annotations

from textual.widget import Widget

from tests.app.helpers import make_app, pane_text, send, wait_idle, wait_until
from tests.scripts import text_step
from tui.widgets.assistant_message import AssistantMessage

SIZE = (120, 30)


def _rows_below_newest_text(app) -> int:
    """Blank chat rows between the newest non-blank line and the status line."""
    rows = pane_text(app, app.chat).split("\n")
    filled = [i for i, row in enumerate(rows) if row.strip()]
    return len(rows) - 1 - filled[-1] if filled else len(rows)


def _text_rows(app) -> list[str]:
    """The chat's rows without the scrollbar column (its thumb moves as the reply grows)."""
    return [row[:-2] for row in pane_text(app, app.chat).split("\n")]


def _lines(n: int, word: str) -> list[str]:
    return [f"{word} line {i}\n\n" for i in range(n)]


async def _while_streaming(pilot, app, check, samples: int = 8) -> list:
    """Run ``check`` at several moments while the reply streams."""
    seen = []
    reply = app.query(AssistantMessage).last()
    while reply.status is None and len(seen) < samples:
        await pilot.pause(0.05)
        if reply.source.count("\n") > 4 and reply.status is None:
            seen.append(check())
    return seen


async def test_no_blank_band_opens_under_a_streaming_reply():
    app, _ = make_app(
        [text_step(_lines(40, "early")), text_step(_lines(120, "streamed"), rate=300)]
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "fill the screen first")
        await wait_idle(pilot)
        await send(pilot, "now stream")
        gaps = await _while_streaming(pilot, app, lambda: _rows_below_newest_text(app))
        await wait_idle(pilot)
    assert len(gaps) >= 4
    # One blank row at most: the blank line between two paragraphs of the reply itself.
    assert max(gaps) <= 1, gaps


async def test_a_short_first_reply_streams_just_above_the_prompt():
    app, _ = make_app([text_step(_lines(12, "short"), rate=40)])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "a short reply")
        gaps = await _while_streaming(pilot, app, lambda: _rows_below_newest_text(app))
        await wait_idle(pilot)
        assert max(gaps) <= 1, gaps
        assert _rows_below_newest_text(app) == 0  # the footer sits on the last row


async def test_page_keys_scroll_the_chat_while_typing_and_ctrl_home_end_jump():
    app, _ = make_app([text_step(_lines(60, "first")), text_step(_lines(60, "second"))])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "one")
        await wait_idle(pilot)
        await send(pilot, "two")
        await wait_idle(pilot)
        app.prompt_input.focus()
        app.prompt_input.text = "a draft"
        assert "second line 59" in pane_text(app, app.chat)
        await pilot.press("pageup")
        await wait_until(pilot, lambda: "second line 59" not in pane_text(app, app.chat))
        assert app.focused is app.prompt_input and app.prompt_input.text == "a draft"
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "one" in pane_text(app, app.chat).split("\n")[1])
        assert "first line 0" in pane_text(app, app.chat)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: "first line 0" not in pane_text(app, app.chat))
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: "second line 59" in pane_text(app, app.chat))
        assert app.prompt_input.text == "a draft"


async def test_a_reader_scrolled_up_is_not_pulled_down_and_is_told_of_new_lines():
    app, _ = make_app([text_step(_lines(40, "old")), text_step(_lines(150, "new"), rate=100)])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "fill")
        await wait_idle(pilot)
        await send(pilot, "stream")
        reply = app.query(AssistantMessage).last()
        await wait_until(pilot, lambda: reply.source.count("\n") > 20, "the stream")
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "fill" in pane_text(app, app.chat), "the top")
        top = _text_rows(app)
        await wait_until(pilot, lambda: "new messages" in pane_text(app, app.status), "marker")
        await pilot.pause(0.3)  # more lines arrive: the reader stays where they are
        assert _text_rows(app) == top
        await pilot.press("ctrl+end")
        await wait_idle(pilot)
        assert "new line 149" in pane_text(app, app.chat)
        assert "new messages" not in pane_text(app, app.status)


def _stored_conversation(turns: int) -> str:
    from tui.core.store import Store

    store = Store()
    store.ensure_conversation("long", agent="Assistant")
    for i in range(turns):
        turn = store.start_turn("long", f"question {i}")
        store.finish_turn(
            turn, reply=f"answer {i}", status="completed", error=None, tools=[], metrics={}
        )
    store.close()
    return "long"


async def test_every_one_of_1000_messages_is_reachable_by_scrolling():
    from tui.widgets.transcript import Transcript

    app = _app_on_stored(500)  # 1,000 messages
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "answer 499" in pane_text(app, app.chat), "the newest")
        # one transcript widget draws the finished messages: not 1,000 widgets
        assert len(app.chat.query(Widget)) <= 3 and len(app.chat.query(Transcript)) == 1
        assert "earlier messages" in str(app.chat.children[0].render())
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "question 0" in pane_text(app, app.chat), "the first")
        assert "answer 0" in pane_text(app, app.chat)
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: "answer 499" in pane_text(app, app.chat), "the newest")
        # Page by page from the newest, the way a reader scrolls: every message passes by.
        seen: set[int] = set()
        for _ in range(400):
            text = pane_text(app, app.chat)
            seen.update(int(w.split()[1]) for w in _answers(text))
            if "question 0" in text:
                break
            await pilot.press("pageup")
            await pilot.pause()
        assert "question 0" in pane_text(app, app.chat)
        assert seen == set(range(500))
        assert len(app.chat.query(Widget)) <= 3


def _app_on_stored(turns: int):
    """The app opened on a stored conversation of ``turns`` turns."""
    from tests.scripts import runner_for
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings

    conversation = _stored_conversation(turns)
    runner, _ = runner_for([])
    return AgentsTuiApp(
        Settings(), runner=runner, backend_label="scripted", session_id=conversation
    )


def _shows(app, line: str) -> bool:
    return any(row.strip() == line for row in pane_text(app, app.chat).split("\n"))


def _answers(text: str) -> list[str]:
    import re

    return re.findall(r"answer \d+", text)


def _marked(app) -> str | None:
    transcript = app.chat.transcript
    return None if transcript.hit is None else transcript.records[transcript.hit].text


def _highlighted(app) -> list[str]:
    """The on-screen runs of text drawn in the search-match style."""
    match = app.chat.transcript._style("match")
    runs = []
    for strip in app.screen._compositor.render_strips():
        runs += [seg.text for seg in strip if seg.style and seg.style.bgcolor == match.bgcolor]
    return ["".join(runs)] if runs else []


async def test_ctrl_f_finds_any_message_of_a_long_conversation():
    from textual.widgets import Input

    app = _app_on_stored(500)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "answer 499" in pane_text(app, app.chat), "the newest")
        await pilot.press("ctrl+f")
        search = app.query_one("#search")
        assert app.focused is search.query_one(Input)
        for key in "answer 0":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await wait_until(pilot, lambda: _shows(app, "answer 0"), "the hit")
        assert "1 of 1" in pane_text(app, search)
        assert _marked(app) == "answer 0"
        assert _highlighted(app) == ["answer 0"]  # the words found, not just the message
        search.query_one(Input).value = "answer 49"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "1 of 11" in pane_text(app, search), "11 matches")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "2 of 11" in pane_text(app, search), "the next")
        assert _marked(app) == "answer 490"
        await wait_until(pilot, lambda: _shows(app, "answer 490"), "answer 490 on screen")
        await pilot.press("shift+enter")
        await wait_until(pilot, lambda: "1 of 11" in pane_text(app, search), "the previous")
        assert _marked(app) == "answer 49"
        search.query_one(Input).value = "no such words"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "no match" in pane_text(app, search), "no match")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.focused is app.prompt_input, "the prompt")
        assert _marked(app) is None and _highlighted(app) == []
        assert not app.query(".-search-hit") and not search.display


async def test_a_resize_reflows_what_is_read_and_keeps_it_in_view():
    from tui.widgets.transcript import REFLOW

    app = _app_on_stored(300)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "answer 299" in pane_text(app, app.chat), "the newest")
        for _ in range(40):  # read well above the newest: the window grows page by page
            await pilot.press("pageup")
            await pilot.pause()
        assert len(app.chat.transcript.records) > REFLOW
        reading = _answers(pane_text(app, app.chat))[2]
        await pilot.resize_terminal(90, 30)
        await wait_until(pilot, lambda: app.chat.size.width < 90, "the narrower layout")
        await wait_until(pilot, lambda: reading in pane_text(app, app.chat), "the same message")
        # only the neighbourhood of the view was laid out again at the new width
        assert len(app.chat.transcript.records) <= REFLOW
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "question 0" in pane_text(app, app.chat), "the first")
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: "answer 299" in pane_text(app, app.chat), "the newest")


async def test_text_of_finished_messages_can_be_selected_and_copied():
    app = _app_on_stored(5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "answer 4" in pane_text(app, app.chat), "the newest")
        transcript = app.chat.transcript
        rows = [transcript.render_line(y).text for y in range(transcript.size.height)]
        y = next(i for i, row in enumerate(rows) if "answer 3" in row)
        x = rows[y].index("answer 3")
        # drag across "answer 3" with the mouse, as a person selects text
        await pilot.mouse_down(transcript, offset=(x, y))
        await pilot.hover(transcript, offset=(x + len("answer 3"), y))
        await pilot.mouse_up(transcript, offset=(x + len("answer 3"), y))
        await pilot.pause()
        assert app.screen.get_selected_text() == "answer 3"


def _app_on_one_stored_turn(conversation: str, prompt: str, reply: str):
    """The app opened on a stored conversation of one finished turn."""
    from tests.scripts import runner_for
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.core.store import Store

    store = Store()
    store.ensure_conversation(conversation, agent="Assistant")
    turn = store.start_turn(conversation, prompt)
    store.finish_turn(turn, reply=reply, status="completed", error=None, tools=[], metrics={})
    store.close()
    runner, _ = runner_for([])
    return AgentsTuiApp(
        Settings(), runner=runner, backend_label="scripted", session_id=conversation
    )


async def test_a_reopened_reply_shows_markup_and_escape_sequences_literally():
    hostile = "[bold red]not red[/] \x1b[31mCSI\x1b]52;c;SGk=\x07 end"
    app = _app_on_one_stored_turn("hostile", "[b]asked[/b] \x1b]0;title\x07", hostile)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "end" in pane_text(app, app.chat), "the stored reply")
        shown = pane_text(app, app.chat)
        assert "[bold red]not red[/]" in shown and "␛[31mCSI␛]52;c;SGk=␇" in shown
        assert "[b]asked[/b] ␛]0;title␇" in shown
        assert "\x1b" not in shown and "\x07" not in shown


async def test_a_huge_reopened_reply_is_drawn_a_piece_at_a_time_and_looks_the_same():
    """A reply past Markdown's limit (drawn as plain text) is not rendered whole to open
    the conversation: it is drawn in runs of lines, the same lines as the whole render
    (wrapped lines, blank lines and the trailing newline included)."""
    from tui.render.blocks import MARKDOWN_LIMIT
    from tui.widgets.transcript import LazyLines

    words = " ".join(f"w{i}" for i in range(60))  # wraps at this width
    rows = [f"huge line {i}" if i % 7 else f"huge line {i} {words}" for i in range(4_000)]
    rows[1234] = ""
    reply = "\n".join(rows) + "\n"
    assert len(reply) > MARKDOWN_LIMIT
    app = _app_on_one_stored_turn("huge", "everything", reply)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "huge line 3999" in pane_text(app, app.chat), "its end")
        transcript = app.chat.transcript
        record = transcript.records[-1]
        lines = transcript._record_lines(record)
        assert isinstance(lines, LazyLines)
        assert lines._list.kept_lines < 1_000 < len(lines)  # only what was drawn is kept
        whole = transcript._render_record(record, transcript.content_size.width)
        assert [line.text for line in lines] == [line.text for line in whole]
        # Marked as a search hit, it is drawn again from the heights it already knows.
        transcript.mark(len(transcript.records) - 1, "huge line 17")
        marked = transcript._record_lines(record)
        assert marked is not lines and len(marked) == len(whole)
        assert [line.text for line in marked] == [line.text for line in whole]
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "huge line 0 w0" in pane_text(app, app.chat), "its top")


async def test_ctrl_f_shows_the_matched_line_of_a_reply_taller_than_the_pane():
    """A match deep inside a long reply is brought on screen, not the reply's middle."""
    from textual.widgets import Input

    rows = [f"row {i} of the long reply" for i in range(300)]
    rows[270] = "the needle is here"
    app = _app_on_one_stored_turn("tall", "a long one", "\n\n".join(rows))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "row 299" in pane_text(app, app.chat), "its end")
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: "a long one" in pane_text(app, app.chat), "the top")
        await pilot.press("ctrl+f")
        app.query_one("#search").query_one(Input).value = "needle"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "the needle is here" in pane_text(app, app.chat), "hit")
        assert _highlighted(app) == ["needle"]
