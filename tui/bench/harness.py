"""Measure the app's chat pane and stock Textual streaming on the same text, in one process.

Timestamps: a delta "arrives" when the SDK hands it to the app (or when the stock feeder
writes it); it is "on screen" at the first frame the compositor renders after the widget
was updated to include it. Frames are taken from ``App._display``, which Textual calls
with every rendered update (headless too; only the terminal write is skipped).
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tui.core import heap
from tui.core.observe.metrics import percentile

NS = 1_000_000_000
SIZE = (160, 45)


@dataclass
class StreamResult:
    rate: float
    tokens: int
    nominal_s: float
    duration_s: float = 0.0
    lag_ms: float = 0.0  # last delta to its frame
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_s: float = 0.0
    identical: bool = False  # every delta arrived, in order
    screen_identical: bool | None = None  # the lines on screen equal a fresh render of the text
    shown_chars: int = 0
    # while it streamed, the time the app's thread was ready to run but waited for a CPU
    # (other processes' load): a late frame with a long wait here is the machine, not the app
    waited_for_cpu_ms: float = 0.0

    @property
    def effective_tps(self) -> float:
        """Tokens over the time from the first delta's arrival to the last one on screen."""
        span = self.duration_s + self.lag_ms / 1000
        return self.tokens / span if span > 0 else 0.0

    @property
    def cpu_s_per_1000_tokens(self) -> float:
        return self.cpu_s / self.tokens * 1000 if self.tokens else 0.0


@dataclass
class _Probe:
    arrivals: list[tuple[int, int]] = field(default_factory=list)  # (t_ns, cumulative chars)
    shown: list[tuple[int, int]] = field(default_factory=list)  # (t_ns, chars in widget)
    frames: list[int] = field(default_factory=list)

    def hook_frames(self, app: App[Any]) -> None:
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.frames.append(time.perf_counter_ns())
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    def watch_replies(self) -> Callable[[], None]:
        """Note what every reply holds each time it is drawn (its flushes and its end);
        returns what puts the reply's methods back."""
        from tui.widgets.assistant_message import AssistantMessage

        original_flush, original_finish = AssistantMessage.flush, AssistantMessage.finish

        def flush(reply: AssistantMessage) -> None:
            original_flush(reply)
            if getattr(reply.parent, "following", True):  # else drawn below the view
                self.shown.append((time.perf_counter_ns(), len(reply.source)))

        def finish(reply: AssistantMessage, *args: Any, **kwargs: Any) -> None:
            original_finish(reply, *args, **kwargs)
            self.shown.append((time.perf_counter_ns(), len(reply.source)))

        AssistantMessage.flush = flush  # type: ignore[method-assign,assignment]
        AssistantMessage.finish = finish  # type: ignore[method-assign,assignment]

        def restore() -> None:
            AssistantMessage.flush = original_flush  # type: ignore[method-assign]
            AssistantMessage.finish = original_finish  # type: ignore[method-assign]

        return restore

    def latencies_ms(self) -> list[float]:
        """Per delta: arrival to the first frame after the widget contained it."""
        import bisect

        out: list[float] = []
        shown_chars = [c for _, c in self.shown]
        running_max = []
        best = 0
        for chars in shown_chars:
            best = max(best, chars)
            running_max.append(best)
        for t_arrive, chars in self.arrivals:
            index = bisect.bisect_left(running_max, chars)
            if index >= len(self.shown):
                out.append(float("inf"))
                continue
            t_shown = max(self.shown[index][0], t_arrive)
            frame_index = bisect.bisect_left(self.frames, t_shown)
            if frame_index >= len(self.frames):
                out.append(float("inf"))
                continue
            out.append((self.frames[frame_index] - t_arrive) / 1e6)
        return out


async def paced_strings(deltas: list[str], rate: float) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, delta in enumerate(deltas):
        wait = start + index / rate - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        yield delta


def waited_for_cpu_ns() -> int:
    """This thread's time on a run queue, ready but not running (Linux schedstat; 0 where
    there is none)."""
    try:
        with open("/proc/thread-self/schedstat") as handle:
            return int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _finish(
    result: StreamResult,
    probe: _Probe,
    text: str,
    shown_text: str,
    cpu_start: float,
    waited_start: int | None = None,
) -> StreamResult:
    result.cpu_s = time.process_time() - cpu_start
    if waited_start is not None:
        result.waited_for_cpu_ms = (waited_for_cpu_ns() - waited_start) / 1e6
    if probe.arrivals:
        result.duration_s = (probe.arrivals[-1][0] - probe.arrivals[0][0]) / NS
    lat = probe.latencies_ms()
    result.lag_ms = lat[-1] if lat else float("inf")
    finite = sorted(x for x in lat if x != float("inf"))
    result.p50_ms = percentile(finite, 0.50)
    result.p95_ms = percentile(finite, 0.95)
    result.p99_ms = percentile(finite, 0.99)
    if len(finite) < len(lat):
        result.p99_ms = result.p95_ms = float("inf")
    result.identical = shown_text == text
    result.shown_chars = len(shown_text)
    return result


# --- the app ----------------------------------------------------------------------------------
def _scripted_runner(
    deltas: list[str], rate: float, *, burst: int = 0, first: list[str] | None = None
) -> Any:
    """The measured reply at ``rate``; ``first``, if given, is a reply before it, at full
    speed (a turn of its own)."""
    from agents import Agent, RunConfig
    from agents.testing import ModelStep, ScriptedModel

    from tui.core.turn.runner import TurnRunner
    from tui.testing.scripted import Text, response_events

    events = response_events([Text(deltas)])

    async def full_speed(_call: Any) -> AsyncIterator[Any]:
        for index, event in enumerate(response_events([Text(first or [])])):
            if index % 50 == 0:
                await asyncio.sleep(0)  # a local server's pace: the loop turns between
            yield event

    async def stream(_call: Any) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        for event in events:
            if event.type.endswith(".delta"):
                sent += 1
                if burst:
                    if sent % burst == 1 and sent > 1:
                        await asyncio.sleep(burst / rate)
                else:
                    wait = start + sent / rate - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
            yield event

    steps = [ModelStep.stream(stream)]
    if first is not None:
        steps.insert(0, ModelStep.stream(full_speed))
    model = ScriptedModel(steps)
    return TurnRunner(Agent(name="Bench", model=model), run_config=RunConfig(tracing_disabled=True))


async def stream_app(
    deltas: list[str],
    rate: float,
    *,
    burst: int = 0,
    cancel_after: int | None = None,
    before: Callable[[Any], Any] | None = None,
    first: list[str] | None = None,
) -> StreamResult:
    """``deltas`` streamed at ``rate`` into a fresh app; with ``first``, after that reply
    streamed in the same app (a process that has already shown a long reply)."""
    from tui.app import AgentsTuiApp
    from tui.core import events as ev
    from tui.core.config import Settings
    from tui.widgets.assistant_message import AssistantMessage

    text = "".join(deltas)
    result = StreamResult(rate, len(deltas), len(deltas) / rate)
    probe = _Probe()
    runner = _scripted_runner(deltas, rate, burst=burst, first=first)
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="bench")
    restore = probe.watch_replies()
    delivered = ""
    try:
        async with app.run_test(size=SIZE) as pilot:
            if first is not None:
                await _submit_and_wait(app)
                await asyncio.sleep(heap.LATEST_S + 0.2)  # the held full collection ran
                probe.shown.clear()  # what that reply showed is not the measured one's
            if before is not None:
                await before(app)
                await pilot.pause()
            probe.hook_frames(app)
            original_emit = app.chat_screen.emit

            def emit(event: Any) -> None:
                nonlocal delivered
                if isinstance(event, ev.TextDelta):
                    delivered += event.text
                    probe.arrivals.append((event.at_ns, len(delivered)))
                    if cancel_after is not None and len(probe.arrivals) == cancel_after:
                        app.action_cancel_turn()
                original_emit(event)

            app.chat_screen.emit = emit  # type: ignore[method-assign]
            await pilot.pause()  # the app's one-off start-up work (heap settle) is not streaming
            cpu_start, waited = time.process_time(), waited_for_cpu_ns()
            await _submit_and_wait(app)
            await asyncio.sleep(0.15)  # the last frames
            reply = app.query(AssistantMessage).last()
            expected = text if cancel_after is None else delivered
            finished = _finish(result, probe, expected, reply.source, cpu_start, waited)
            finished.screen_identical = await _same_lines_as_reopened(app, pilot, reply)
            return finished
    finally:
        gc.unfreeze()  # the app froze its heap; the next measurement starts from scratch
        restore()


async def _submit_and_wait(app: Any) -> None:
    """Send a prompt as a person does; return when its turn has ended."""
    from tui.widgets.prompt import PromptInput

    prompt = app.query_one(PromptInput)
    prompt.text = "bench"
    prompt.submit()
    while not app.turn_running:
        await asyncio.sleep(0.001)
    while app.turn_running:
        await asyncio.sleep(0.005)


async def _same_lines_as_reopened(app: Any, pilot: Any, reply: Any) -> bool:
    """What the streamed reply shows, line for line, against the same text drawn as a
    reopened conversation draws it (a transcript record rendered whole at the same width):
    not just the same deltas."""
    from tui.widgets.record import Record

    body = reply._body
    streamed = [body.render_line(y).text.rstrip() for y in range(body.size.height)]
    transcript = app.chat.transcript
    width = transcript.content_size.width or app.chat.scrollable_content_region.width
    record = Record("assistant", reply.source, "completed", None, {})
    drawn = transcript._render_record(record, width)
    reopened = [line.text[1:].rstrip() for line in drawn[1:]]  # no margin row, no padding
    return bool(streamed) and streamed == reopened


# --- stock Textual -----------------------------------------------------------------------------
class _TimedMarkdown(Markdown):
    probe: _Probe | None = None

    def append(self, markdown: str) -> Any:
        awaitable = super().append(markdown)

        async def timed() -> None:
            await awaitable
            if self.probe is not None:
                self.probe.shown.append((time.perf_counter_ns(), len(self.source)))

        return timed()


class StockApp(App[None]):
    """The baseline: ``Markdown.get_stream()`` into a plain ``Markdown`` widget, in a
    container anchored to the bottom as in Textual's own streaming example."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield _TimedMarkdown(id="md")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


async def stream_stock(deltas: list[str], rate: float, *, burst: int = 0) -> StreamResult:
    text = "".join(deltas)
    result = StreamResult(rate, len(deltas), len(deltas) / rate)
    probe = _Probe()
    app = StockApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        md = app.query_one(_TimedMarkdown)
        md.probe = probe
        probe.hook_frames(app)
        gc.collect()  # the same heap state as the app, which collects and freezes when ready
        gc.freeze()
        cpu_start, waited = time.process_time(), waited_for_cpu_ns()
        stream = Markdown.get_stream(md)
        written = 0
        if burst:
            for start in range(0, len(deltas), burst):
                for delta in deltas[start : start + burst]:
                    written += len(delta)
                    probe.arrivals.append((time.perf_counter_ns(), written))
                    await stream.write(delta)
                await asyncio.sleep(burst / rate)
        else:
            async for delta in paced_strings(deltas, rate):
                written += len(delta)
                probe.arrivals.append((time.perf_counter_ns(), written))
                await stream.write(delta)
        await stream.stop()
        await asyncio.sleep(0.15)
        finished = _finish(result, probe, text, md.source, cpu_start, waited)
        gc.unfreeze()
        return finished


# --- long conversations and memory ---------------------------------------------------------------
def rss_kb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024


async def long_conversation(messages: int, reply: str) -> dict[str, float]:
    """Mount time at message 10 and at ``messages``; RSS per finished message."""
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.widgets.assistant_message import AssistantMessage
    from tui.widgets.user_message import UserMessage

    runner = _scripted_runner(["x"], 1000)
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="bench")
    probe = _Probe()
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        probe.hook_frames(app)
        chat = app.chat

        async def timed_mount() -> float:
            frames = len(probe.frames)
            started = time.perf_counter_ns()
            await chat.mount(AssistantMessage.finished(reply, "completed", None, {}))
            while len(probe.frames) == frames:
                await asyncio.sleep(0.001)
            return (probe.frames[-1] - started) / 1e6

        for _ in range(7):
            await chat.mount(AssistantMessage.finished(reply, "completed", None, {}))
        await pilot.pause()
        samples = [await timed_mount() for _ in range(3)]  # messages 8-10; the first warms up
        out["mount_ms_at_message_10"] = min(samples)
        gc.collect()
        await pilot.pause()
        rss_before = rss_kb()
        mounted = 10
        while mounted < messages - 3:
            batch = min(100, messages - 3 - mounted)
            widgets: list[Any] = []
            for _ in range(batch // 2):
                widgets += [
                    UserMessage("a question"),
                    AssistantMessage.finished(reply, "completed", None, {}),
                ]
            if batch % 2:
                widgets.append(AssistantMessage.finished(reply, "completed", None, {}))
            await chat.mount_all(widgets)
            await pilot.pause()
            mounted += batch
        chat.scroll_end(animate=False)
        await pilot.pause()
        out["mount_ms_at_message_1000"] = min([await timed_mount() for _ in range(3)])
        gc.collect()
        await pilot.pause()
        out["rss_kb_per_finished_message"] = (rss_kb() - rss_before) / (messages - 10)
        out["messages_mounted"] = float(len(chat.children))
    return out


# --- own overhead ---------------------------------------------------------------------
def adapter_overhead_us(deltas: int = 50_000) -> float:
    from agents.stream_events import RawResponsesStreamEvent
    from openai.types.responses import ResponseTextDeltaEvent

    from tui.core.observe.metrics import TurnMetrics
    from tui.core.turn.adapter import StreamAdapter

    raw = [
        RawResponsesStreamEvent(
            data=ResponseTextDeltaEvent(
                type="response.output_text.delta",
                item_id="m",
                output_index=0,
                content_index=0,
                delta="tok ",
                logprobs=[],
                sequence_number=i,
            )
        )
        for i in range(deltas)
    ]
    adapter = StreamAdapter()
    metrics = TurnMetrics(started_ns=time.perf_counter_ns())
    started = time.perf_counter_ns()
    for event in raw:
        at = time.perf_counter_ns()
        for app_event in adapter.convert(event, at):
            metrics.observe(app_event)
    return (time.perf_counter_ns() - started) / deltas / 1000


# --- keys while streaming ---------------------------------------------------------------------
def watch_typed_keys(app: Any, prompt: Any, posted: list[int], seen: list[int]) -> Any:
    """Hook the app's output: for the n-th key in ``posted``, the time of the first frame
    composed once the prompt holds n characters goes into ``seen``. Returns the original
    output method, to put back."""
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if renderable is not None:
            now = time.perf_counter_ns()
            while len(seen) < len(posted) and len(prompt.text) > len(seen):
                seen.append(now)

    app._display = display
    return original


async def typing_latency(rate: float, keys: int = 30, deltas: int = 10_000) -> dict[str, float]:
    """Key posted (as the terminal driver posts it) to the first frame composed after the
    prompt holds it, while a reply streams at ``rate`` deltas/s (``rate`` 0: idle)."""
    from textual import events

    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.widgets.prompt import PromptInput

    words = [f"w{i % 97} " for i in range(deltas)]  # prose: a long reply of short words
    runner = _scripted_runner(words, rate or 1000)
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="bench")
    posted: list[int] = []
    seen: list[int] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            prompt = app.query_one(PromptInput)
            await pilot.pause()
            if rate:
                prompt.text = "stream"
                prompt.submit()
                while not app.turn_running:
                    await asyncio.sleep(0.001)
                await asyncio.sleep(0.5)  # well into the stream
            prompt.text = ""
            prompt.focus()
            await pilot.pause()
            original = watch_typed_keys(app, prompt, posted, seen)
            for _ in range(keys):
                posted.append(time.perf_counter_ns())
                app.post_message(events.Key("x", "x"))
                await asyncio.sleep(0.1)
            streaming = app.turn_running
            app._display = original  # type: ignore[method-assign]
            app.action_cancel_turn()
    finally:
        gc.unfreeze()
    lat = sorted((s - p) / 1e6 for p, s in zip(posted, seen, strict=False))
    lost = len(posted) - len(lat)
    return {
        "median_ms": round(percentile(lat, 0.5), 1) if lat else float("inf"),
        "max_ms": round(lat[-1], 1) if lat and not lost else float("inf"),
        "keys": float(len(posted)),
        "still_streaming": float(bool(streaming) if rate else 0),
    }


# --- a long live session ----------------------------------------------------------------------
async def long_session(turns: int = 120) -> dict[str, float]:
    """``turns`` short turns in one live session (real SDK path, real store): time from Enter
    to the turn's end, and memory, early against late."""
    from agents import Agent, RunConfig
    from agents.testing import ModelStep, ScriptedModel

    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.core.turn.runner import TurnRunner
    from tui.testing.scripted import Text, response_events

    reply = [f"word{i} " for i in range(30)]
    model = ScriptedModel([ModelStep.stream(response_events([Text(reply)])) for _ in range(turns)])
    config = RunConfig(tracing_disabled=True)
    runner = TurnRunner(Agent(name="Bench", model=model), run_config=config)
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="bench")
    # the test model records every call; a real one keeps none
    return await timed_turns(app, turns, after_turn=model._calls.clear)


async def timed_turns(
    app: Any, turns: int, after_turn: Callable[[], None] | None = None
) -> dict[str, float]:
    """Send ``turns`` short prompts one after another, early against late: Enter to the
    turn's end in the app, and Enter to the frame that shows it (what the person sees: the
    finished reply and the prompt's "ready"; every turn must reach such a frame within
    0.5 s of its end). Resident memory per turn from turn 11 on.

    Why both: Textual paints on a fixed 60 Hz clock and each turn starts just after a
    frame, so a turn shorter than one frame interval (the early ones here, ~15 ms) ends
    before its first paint and a slightly longer one has a whole paint inside it: the time
    to the turn's end jumps by a paint at ~17 ms. The time to the frame that shows the end
    includes the painting in every turn.
    """
    from tui.widgets.prompt import PromptInput

    durations: list[float] = []
    shown: list[float] = []
    rss: dict[int, float] = {}
    # The frames composed after the turn's end, up to the one that writes "ready": a frame
    # is a compositor update of what changed, and the status line's change can land one
    # frame after the reply's (its class changes restyle it on the next cycle).
    frame: list[tuple[float, Any]] = []
    watching = False
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if not watching or renderable is None or app.turn_running:
            return
        if not frame or "ready" not in frame_text(frame[-1][1]):
            frame.append((time.perf_counter(), renderable))

    app._display = display
    checked = 0
    try:
        async with app.run_test(size=SIZE) as pilot:
            while not app.model_ready or not app.heap_settled:
                await asyncio.sleep(0.01)
            prompt = app.query_one(PromptInput)
            for turn in range(1, turns + 1):
                if turn in (11, turns):
                    gc.collect()
                    rss[turn] = rss_kb()
                prompt.text = f"question {turn}"
                frame.clear()
                started = time.perf_counter()
                prompt.submit()
                while not app.turn_running:
                    await asyncio.sleep(0.001)
                watching = True
                while app.turn_running:
                    await asyncio.sleep(0.001)
                durations.append((time.perf_counter() - started) * 1000)
                ended = time.perf_counter()
                while time.perf_counter() - ended < 0.5 and not (
                    frame and "ready" in frame_text(frame[-1][1])
                ):
                    await asyncio.sleep(0.001)
                watching = False
                at, update = frame[-1] if frame else (time.perf_counter(), None)
                shown.append((at - started) * 1000)
                checked += update is not None and "ready" in frame_text(update)
                if after_turn is not None:
                    after_turn()
                await pilot.pause()
    finally:
        app._display = original
        gc.unfreeze()
    early, late = statistics.median(shown[:10]), statistics.median(shown[-10:])
    return {
        "shown_ms_median_first_10": round(early, 1),
        "shown_ms_median_31_40": round(statistics.median(shown[30:40] or shown), 1),
        "shown_ms_median_last_10": round(late, 1),
        "late_vs_early_ratio": round(late / early, 2) if early else float("inf"),
        "end_frames_show_ready": checked / turns,
        "turn_ms_median_first_10": round(statistics.median(durations[:10]), 1),
        "turn_ms_median_last_10": round(statistics.median(durations[-10:]), 1),
        "turn_end_late_vs_early_ratio": round(
            statistics.median(durations[-10:]) / statistics.median(durations[:10]), 2
        ),
        "kb_per_turn": round((rss[turns] - rss[11]) / (turns - 11), 1),
    }


class PaintedScreen:
    """What the terminal shows: every compositor update the app writes, applied to a grid
    of cells (rendering the widgets anew could not see a paint that never happened)."""

    def __init__(self, app: Any, size: tuple[int, int]) -> None:
        self.width, self.height = size
        self.rows = [[" "] * self.width for _ in range(self.height)]
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                self.apply(renderable)

        app._display = display

    def _write(self, y: int, x: int, text: str, x1: int = 0, x2: int | None = None) -> None:
        if not 0 <= y < self.height:
            return
        right = self.width if x2 is None else min(x2, self.width)
        for offset, char in enumerate(text):
            if max(x1, 0) <= x + offset < right:
                self.rows[y][x + offset] = char

    def apply(self, update: Any) -> None:
        if hasattr(update, "chops"):
            for y, x1, x2 in update.spans:
                for x, strip in update.chops[y].items():
                    if strip is not None:
                        self._write(y, x, strip.text, x1, x2 + 1)
        elif hasattr(update, "strips"):
            region = update.region
            for y, line in enumerate(update.strips, region.y):
                x = region.x
                for strip in line:
                    self._write(y, x, strip.text)
                    x += strip.cell_length

    def text(self) -> str:
        return "\n".join("".join(row).rstrip() for row in self.rows)


async def fresh_first_reply_painted(deltas: int = 80) -> bool:
    """A fresh conversation, one prompt, a reply at full speed: is its last word on the
    terminal (in the frames written) once the turn is over?"""
    from agents import Agent, RunConfig
    from agents.testing import ModelStep, ScriptedModel

    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.core.turn.runner import TurnRunner
    from tui.testing.scripted import Text, response_events

    reply = [f"w{i} " for i in range(deltas - 1)] + ["LAST-WORD."]
    model = ScriptedModel([ModelStep.stream(response_events([Text(reply)]))])
    runner = TurnRunner(
        Agent(name="Bench", model=model), run_config=RunConfig(tracing_disabled=True)
    )
    app = AgentsTuiApp(Settings(), runner=runner, backend_label="bench")
    painted = PaintedScreen(app, SIZE)
    async with app.run_test(size=SIZE) as pilot:
        while not app.model_ready:
            await asyncio.sleep(0.01)
        await _submit_and_wait(app)
        for _ in range(100):  # up to a second of frames
            await pilot.pause(0.01)
            if "ready" in painted.text():
                break
        return "ready" in painted.text() and "LAST-WORD." in painted.text()


def frame_text(update: Any) -> str:
    """The text a compositor update writes (not ``render_segments``: that caches a string
    on every strip it renders, which would grow the memory being measured)."""
    if hasattr(update, "chops"):
        strips = [s for line in update.chops for s in line.values() if s is not None]
    else:
        strips = [s for line in getattr(update, "strips", ()) for s in line]
    return "\n".join(strip.text for strip in strips)


def in_fresh_process(call: str) -> dict[str, Any]:
    """Run ``call`` (an expression in ``tui.bench.harness``) in a new interpreter: memory
    growth measured in a process that earlier measurements have not already grown."""
    import json
    import subprocess
    import sys

    code = (
        "import asyncio, json\n"
        "from tui.bench import harness, conversation, server_stream\n"
        f"print(json.dumps({call}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=900, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
