"""Progressive disclosure: long tool outputs and replies fold in the timeline to their first
lines and a count of what is hidden, Enter (or a click) shows them whole and folds them again;
/summary asks the agent to sum up its last reply, in plain sight."""

from __future__ import annotations

import pytest
from agents import Agent, RunConfig, function_tool
from agents.testing import ScriptedModel
from rich.console import Console

from tests.app.helpers import make_app, pane_text, screen_text, send, wait_idle, wait_until
from tests.scripts import Call, Text, parts_step, text_step
from tui.app import AgentsTuiApp
from tui.core.config import Settings
from tui.core.i18n import set_language
from tui.core.turn.runner import TurnRunner
from tui.messages import TextArrived
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.timeline_row import TimelineRow

SIZE = (160, 45)
LOG = [f"log {i} [bold]x[/bold] \x1b[31m!" for i in range(200)]  # markup and an escape


def _reader_app() -> AgentsTuiApp:
    """An agent whose one tool returns a 200-line log, then a short reply."""

    @function_tool
    def read_log() -> str:
        """Returns the whole log."""
        return "\n".join(LOG)

    model = ScriptedModel(
        [
            parts_step([Text(["Reading ", "the log."]), Call("read_log", "call_log", ["{}"])]),
            text_step(["Done."]),
        ]
    )
    agent = Agent(name="Reader", model=model, tools=[read_log])
    runner = TurnRunner(agent, run_config=RunConfig(tracing_disabled=True))
    return AgentsTuiApp(Settings(), runner=runner, backend_label="scripted")


def _drawn(app: AgentsTuiApp, row: TimelineRow) -> list[str]:
    """The row's lines as the timeline draws them."""
    return [strip.text.strip() for strip in app.timeline._list.lines_of(row)]


async def test_a_200_line_tool_output_folds_to_3_lines_and_enter_shows_it_whole_then_folds():
    app = _reader_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "read the log")
        await wait_idle(pilot)
        timeline = app.timeline
        row = timeline.rows_by_call["call_log"]
        shown = pane_text(app, timeline)
        assert "→ log 0 [bold]x[/bold] ␛[31m!" in shown  # literal: no markup, no escape
        assert "log 2 [bold]x[/bold]" in shown and "log 3 " not in shown
        assert "… 197 more lines (Enter)" in shown
        assert "\x1b" not in screen_text(app)
        folded_height = len(_drawn(app, row))
        assert folded_height == 6  # title, arguments, 3 lines, what is hidden

        blurred = timeline.styles.border_top
        timeline.focus()
        await pilot.pause()
        assert "Enter expand / fold" in pane_text(app, timeline)  # the border says how
        assert timeline.styles.border_top != blurred  # and takes the accent colour
        assert timeline.index is not None  # focused: a row is selected
        await pilot.press("home")
        for _ in range(timeline.rows.index(row)):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert row.expanded
        drawn = _drawn(app, row)
        assert [line for line in drawn if line.startswith("log ")] == [
            line.replace("\x1b", "␛") for line in LOG
        ]
        assert drawn[-1] == "(Enter folds it again)"
        assert "more lines" not in "\n".join(drawn)
        # its end, scrolled to, is on screen
        end = timeline._list.starts()[timeline.rows.index(row) + 1]
        timeline.scroll_to(y=end - 5, animate=False, immediate=True)
        await pilot.pause()
        assert "log 199 [bold]x[/bold]" in pane_text(app, timeline)
        assert "(Enter folds it again)" in pane_text(app, timeline)

        await pilot.press("enter")
        await pilot.pause()
        assert not row.expanded
        assert len(_drawn(app, row)) == folded_height
        await wait_until(pilot, lambda: "… 197 more lines (Enter)" in pane_text(app, timeline))


async def test_a_click_on_a_folded_row_unfolds_it():
    app = _reader_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "read the log")
        await wait_idle(pilot)
        timeline = app.timeline
        row = timeline.rows_by_call["call_log"]
        top = timeline._list.starts()[timeline.rows.index(row)] - round(timeline.scroll_y)
        assert 0 <= top < timeline.scrollable_content_region.height  # in view
        await pilot.click(timeline, offset=(4, 1 + top + 2))  # below the border: its output
        await pilot.pause()
        assert row.expanded
        assert timeline.index == timeline.rows.index(row)
        assert "log 10 [bold]x[/bold]" in pane_text(app, timeline)


def _text_of(row: TimelineRow, width: int = 40) -> list[str]:
    console = Console(width=width, color_system=None, force_terminal=False)
    with console.capture() as capture:
        console.print(row.renderable(width))
    return capture.get().rstrip("\n").split("\n")


def test_a_long_reply_folds_by_its_lines_and_trailing_blank_lines_hide_nothing():
    reply = TimelineRow("message", "message", detail="# Title\n\nOne.\n\nTwo.\n\n\n")
    assert _text_of(reply) == ["✉ message", "  → # Title", "    One.", "    Two."]
    long = TimelineRow("message", "message", detail="\n".join(f"p{i}" for i in range(40)))
    assert _text_of(long)[-1] == "    … 37 more lines (Enter)"
    short = TimelineRow("message", "message", detail="The rope holds!")
    assert _text_of(short) == ["✉ message", "  → The rope holds!"]


def test_one_long_line_counts_the_characters_it_hides_and_json_shows_its_fields():
    line = TimelineRow("message", "message", detail="x" * 500)
    text = _text_of(line)
    assert text[1] == "  → " + "x" * 35 + "…"
    assert text[2] == "    … 465 more characters (Enter)"  # 35 shown of 500
    # a 5 MB line: what is hidden is counted in the output, not in the 50,000 read of it
    huge = _text_of(TimelineRow("message", "message", detail="x" * 5_000_000))
    assert huge[2] == "    … 4,999,965 more characters (Enter)"
    fields = (
        '{"name": "Ann", "age": 7, "city": "Hanoi", "tags": ["a", "b"], "notes": "tea", "pets": 2}'
    )
    data = TimelineRow("message", "tool", detail=fields)
    assert _text_of(data, width=30)[1:] == [
        '  → "name": "Ann",',  # a field a line, not the bracket alone
        '    "age": 7,',
        '    "city": "Hanoi",',
        "    … 7 more lines (Enter)",  # of 11 in all
    ]


@pytest.fixture
def vietnamese():
    set_language("vi")
    yield
    set_language("en")


def test_what_is_hidden_is_said_in_vietnamese(vietnamese):
    long = TimelineRow("message", "message", detail="\n".join(f"p{i}" for i in range(40)))
    assert _text_of(long)[-1] == "    … còn 37 dòng (Enter)"


async def test_summary_sends_its_request_as_a_prompt_and_the_summary_streams():
    long_reply = [f"Paragraph {i} of a long answer.\n\n" for i in range(60)]
    summary = ["In ", "short: ", "sixty ", "paragraphs."]
    app, model = make_app([text_step(long_reply), text_step(summary, rate=200)])
    seen: list[object] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await send(pilot, "tell me everything")
        await wait_idle(pilot)
        await send(pilot, "/summary")
        await wait_idle(pilot)
        assert len(model.calls) == 2
        asked = model.calls[-1].input
        assert isinstance(asked, list)
        last = asked[-1]
        assert isinstance(last, dict)
        assert last["content"] == "Sum up your last reply in one short paragraph."
        assert any("Paragraph 59" in str(item) for item in asked)  # the reply is in context
        replies = app.query(AssistantMessage)
        assert replies.last().source == "".join(summary)
        parts = [p for m in seen if isinstance(m, TextArrived) for p in m.parts]
        assert parts[-len(summary) :] == summary  # streamed, delta by delta
        shown = screen_text(app)
        assert "Sum up your last reply in one short paragraph." in shown  # what was sent
        assert "In short: sixty paragraphs." in shown


async def test_summary_with_no_reply_yet_says_so_and_sends_nothing():
    app, model = make_app([text_step(["never"])])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/summary")
        await pilot.pause(0.1)
        assert model.calls == ()
        assert app.chat.message_count() == 0
        notices = [n.message for n in app._notifications]
        assert any(m.startswith("No reply to sum up yet") for m in notices)


async def test_500_folded_rows_of_long_outputs_draw_only_what_is_on_screen():
    """Each row folded is a few lines, whatever its output: 500 rows of 200-line outputs
    make a timeline of 2,750 lines, not 100,000; each row is measured once (at the width
    beside the scrollbar they bring), and scrolling draws only the rows in view."""
    long = "\n".join(f"line {i}: lorem ipsum dolor sit amet" for i in range(200))
    app, _ = make_app([])
    async with app.run_test(size=SIZE) as pilot:
        timeline = app.timeline
        drawn: list[TimelineRow] = []
        render = timeline._list._render

        def counting(row: TimelineRow, width: int) -> object:
            drawn.append(row)
            return render(row, width)

        timeline._list._render = counting  # type: ignore[assignment]
        for i in range(250):
            timeline.past_tool(
                {"call_id": f"c{i}", "name": "read", "arguments": "{}", "output": long}
            )
            timeline.note("message", "message", detail=long)
        # the scrollbar came: the rows are measured at the width they are drawn at
        await wait_until(
            pilot,
            lambda: (
                timeline.show_vertical_scrollbar
                and timeline._list.width == timeline.scrollable_content_region.width
            ),
            "the scrollbar",
        )
        assert timeline._list.height == 250 * 6 + 250 * 5
        on_screen = timeline.scrollable_content_region.height
        assert len(drawn) <= 500 + on_screen  # once each, and the few that told of the bar
        drawn.clear()
        for page in range(20):  # 20 pages from the top
            timeline.scroll_to(y=page * on_screen, animate=False, immediate=True)
            await pilot.pause()
        assert 20 * on_screen // 6 <= len(set(map(id, drawn))) <= 20 * on_screen // 5 + 10


async def test_f1_lists_enter_on_the_timeline_and_summary():
    app, _ = make_app([])
    async with app.run_test(size=(160, 100)) as pilot:  # the whole help in view
        await pilot.press("f1")
        await pilot.pause()
        shown = " ".join(screen_text(app).split())  # table cells wrap: words, not lines
        assert "Timeline: Up/Down, Enter, click" in shown
        assert "or fold it again" in shown
        assert "/summary" in shown and "sum up its last reply in one paragraph" in shown


async def test_an_output_nested_too_deep_for_json_folds_as_literal_text():
    # hostile or broken output: 3,000 nested brackets make json.loads raise RecursionError,
    # not ValueError; the row is drawn (and expanded) as text instead of the app failing
    deep = "[" * 3000 + "]" * 3000
    app, _model = make_app([text_step([deep])])
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "nest")
        await wait_idle(pilot)
        row = next(r for r in app.timeline.rows if r.title == "message")
        folded = _drawn(app, row)
        assert "[[[[" in folded[1] and folded[-1] == "… 5,965 more characters (Enter)"
        row.toggle()
        await pilot.pause()
        assert any("[[[[" in line for line in _drawn(app, row)[1:])


def test_a_long_output_of_brackets_alone_still_shows_its_first_lines():
    from tui.widgets.timeline_row import _preview, _readable

    text = "]" * 500  # not JSON; only the characters a JSON fold skips
    lines = [line.plain for line in _preview(text, _readable(text)[0], 40)]
    assert lines[0].startswith("  → ]]]") and "more character" in lines[-1]
