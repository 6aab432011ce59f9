"""Keep every turn: the store's turn rows (partial text saved while streaming) and recordings.

``TurnJournal.wrap(emit)`` returns an emit function that records each event and passes
it on, so the app and the headless command persist turns the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.core import events as ev
from tui.core.turn.growing_text import GrowingText
from tui.core.observe.metrics import TurnMetrics
from tui.core.store import Store
from tui.core.tool_calls import ToolCallLog

PARTIAL_SAVE_S = 0.25
EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in ev.RunEvent.__args__}


_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if f.name != "at_ns")
    for cls in EVENT_TYPES.values()
}


def event_to_json(event: ev.RunEvent, offset_ns: int) -> str:
    """One recording line. Fields are read directly (``dataclasses.asdict`` deep-copies
    each event: 1.3 s of a 300 KB reply's 59,000 deltas); json turns nested dicts and
    lists into the same text."""
    fields = {name: getattr(event, name) for name in _FIELDS[type(event)]}
    if any(dataclasses.is_dataclass(value) for value in fields.values()):
        fields = dataclasses.asdict(event)
        fields.pop("at_ns", None)
    return json.dumps(
        {"t_ms": round(offset_ns / 1e6, 3), "event": type(event).__name__, "data": fields},
        ensure_ascii=False,
    )


def event_from_json(line: str, at_ns: int) -> tuple[float, ev.RunEvent]:
    obj = json.loads(line)
    cls = EVENT_TYPES[obj["event"]]
    return float(obj["t_ms"]), cls(**obj["data"], at_ns=at_ns)


class Recorder:
    """Appends one JSONL line per event, with its offset from the start of its turn.

    The file is open only while a turn runs (opened by its first event, closed when it
    finishes or pauses): an idle conversation costs no open file, so a server can keep
    thousands of them (each used to hold its file open for good)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self._file: Any = None
        self._turn_start_ns = 0
        self.failed = False  # a recording that could not be written is skipped, not fatal

    @property
    def is_open(self) -> bool:
        return self._file is not None

    def write(self, event: ev.RunEvent) -> None:
        if isinstance(event, ev.TurnStarted):
            self._turn_start_ns = event.at_ns
        if self._file is None:
            try:
                self._file = self.path.open("a", encoding="utf-8")
            except OSError as problem:  # out of files or disk: the store still has the turn
                if not self.failed:
                    logging.getLogger("agents_tui").warning(
                        "recording %s stopped: %s", self.path.name, problem.strerror
                    )
                self.failed = True
                return
        self._file.write(event_to_json(event, event.at_ns - self._turn_start_ns) + "\n")
        if isinstance(event, ev.TurnFinished | ev.RunPaused):
            self.close()
        elif isinstance(event, ev.ToolCallFinished | ev.TurnStarted):
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def recordings_dir() -> Path:
    from tui.core.config import data_dir

    path = data_dir() / "recordings"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def recorder_path(conversation_id: str) -> Path:
    """One file per process run: a recording is what one run of the app saw."""
    return recordings_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{conversation_id}.jsonl"


class TurnJournal:
    """Writes the store's turn rows and the recording for one conversation."""

    def __init__(
        self, store: Store | None, conversation_id: str, recorder: Recorder | None = None
    ) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.recorder = recorder
        self.turn_id: int | None = None
        self.last_turn_id: int | None = None  # the store's id of the turn that ended last
        self.metrics: TurnMetrics | None = None
        self._reply = GrowingText()
        self.tools = ToolCallLog()  # this turn's calls (tui.core.tool_calls)
        self._last_save = 0.0
        # Set by the front end before a stored, paused turn is taken up again.
        self.resume_turn_id: int | None = None

    def wrap(self, emit: Callable[[ev.RunEvent], None]) -> Callable[[ev.RunEvent], None]:
        def journaled(event: ev.RunEvent) -> None:
            self.observe(event)
            emit(event)

        return journaled

    def _take_up_stored_turn(self) -> None:
        """A resumed turn goes on with the reply text and tool rows it had when it paused."""
        if self.store is None or self.turn_id is None:
            return
        stored = next(
            (t for t in self.store.turns(self.conversation_id) if t.id == self.turn_id), None
        )
        if stored is not None:
            self._reply = GrowingText(stored.reply)
            self.tools = ToolCallLog.from_stored(stored.tools)

    @property
    def reply(self) -> str:
        """The reply so far, as stored."""
        return str(self._reply)

    def observe(self, event: ev.RunEvent) -> None:
        if self.recorder is not None:
            self.recorder.write(event)
        if isinstance(event, ev.TurnStarted):
            self.metrics = TurnMetrics(started_ns=event.at_ns)
            self._reply = GrowingText()
            self.tools = ToolCallLog()
            if event.resumed and self.resume_turn_id is not None:
                self.turn_id = self.resume_turn_id
                self.resume_turn_id = None
                self._take_up_stored_turn()
            elif self.store is not None:
                self.turn_id = self.store.start_turn(self.conversation_id, event.prompt)
        if self.metrics is not None:
            self.metrics.observe(event)
        if isinstance(event, ev.TextDelta):
            self._reply.append(event.text)
            now = time.monotonic()
            if self.store is not None and self.turn_id and now - self._last_save > PARTIAL_SAVE_S:
                self._last_save = now
                self.store.save_partial(self.turn_id, self.reply)
        elif isinstance(event, ev.ApprovalRequested):
            self.tools.apply(event)
            if self.store is not None and self.turn_id:
                self.store.save_tools(self.turn_id, self.tools.stored())
        elif isinstance(event, ev.ApprovalResolved):
            call = self.tools.apply(event)
            if event.always and self.store is not None and call is not None:
                self.store.approve_always(self.conversation_id, call.name)
        elif isinstance(event, ev.RunPaused) and self.store is not None and self.turn_id:
            self.tools.pause()  # every call not yet run waits for an answer
            self.store.pause_turn(self.turn_id, reply=self.reply, state=event.state)
            self.store.save_tools(self.turn_id, self.tools.stored())
        elif isinstance(event, ev.RunResumed) and self.store is not None and self.turn_id:
            self.store.unpause_turn(self.turn_id)
        elif isinstance(event, ev.ToolCallStarted | ev.ToolCallIssued | ev.ToolCallFinished):
            self.tools.apply(event)
        elif isinstance(event, ev.TurnFinished) and self.store is not None and self.turn_id:
            summary = self.metrics.summary(event.at_ns) if self.metrics else {}
            self.store.finish_turn(
                self.turn_id,
                reply=event.final_text,
                status=event.status,
                error=event.error,
                tools=self.tools.stored(),
                metrics=summary,
            )
            self.last_turn_id, self.turn_id = self.turn_id, None


def load_recording(path: Path) -> list[list[tuple[float, str]]]:
    """Split a recording into turns: lists of (offset ms, raw JSON line)."""
    turns: list[list[tuple[float, str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj["event"] == "TurnStarted" or not turns:
            turns.append([])
        turns[-1].append((float(obj["t_ms"]), line))
    return turns


class ReplayRunner:
    """Plays a recording through the same interface as ``TurnRunner``; no model needed."""

    def __init__(self, path: Path, *, speed: float = 1.0) -> None:
        self.turns = load_recording(path)
        self.speed = speed if speed > 0 else 1.0
        self.history: list[Any] = []
        self.agent_name = "replay"
        self.running = False
        self._cancelled = asyncio.Event()
        self._next = 0
        for _, line in self.turns[0] if self.turns else []:
            obj = json.loads(line)
            if obj["event"] == "TurnStarted":
                self.agent_name = obj["data"]["agent"]

    @property
    def prompts(self) -> list[str]:
        out = []
        for turn in self.turns:
            first = json.loads(turn[0][1])
            if first["event"] == "TurnStarted":
                out.append(str(first["data"]["prompt"]))
        return out

    def cancel(self) -> None:
        self._cancelled.set()

    def reset(self) -> None:
        self.history = []

    async def run(self, prompt: str, emit: Callable[[ev.RunEvent], None]) -> Any:
        self._cancelled = asyncio.Event()
        self.running = True
        try:
            if self._next >= len(self.turns):
                return None
            turn = self.turns[self._next]
            self._next += 1
            loop = asyncio.get_running_loop()
            start = loop.time()
            text = ""
            for offset_ms, line in turn:
                wait = start + offset_ms / 1000 / self.speed - loop.time()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._cancelled.wait(), wait)
                if self._cancelled.is_set():
                    emit(ev.TurnFinished("interrupted", text, time.perf_counter_ns()))
                    return None
                _, event = event_from_json(line, time.perf_counter_ns())
                if isinstance(event, ev.TextDelta):
                    text += event.text
                emit(event)
            return None
        finally:
            self.running = False


def open_memory(store: Store, conversation_id: str, *, per_call: bool = False) -> Any:
    """The model's memory: the SDK's own SQLiteSession, in the store's database file; with
    ``per_call`` opened for each call (a server with thousands of conversations)."""
    if store.url is not None:  # PostgreSQL: the SDK's SQLAlchemySession
        from tui.core.store.postgres import memory

        return memory(store.url, conversation_id)
    assert store.path is not None
    if per_call:
        return ShortLivedMemory(conversation_id, store.path)
    from agents import SQLiteSession

    return SQLiteSession(conversation_id, db_path=store.path)


class ShortLivedMemory:
    """The SDK's ``SQLiteSession``, opened for each call and closed after it.

    A ``SQLiteSession`` keeps a connection (the database and its WAL: two files) for every
    worker thread that used it until it is closed, so a server with many conversations
    ran out of open files. The memory is read once and written twice a turn, so one
    short-lived session per call costs little (a connection each) and holds nothing
    between calls. Same tables, same rows: anything that reads SQLiteSession reads this.
    """

    def __init__(self, session_id: str, path: Path) -> None:
        self.session_id = session_id
        self.path = path
        self.session_settings = None

    def _open(self) -> Any:
        from agents import SQLiteSession

        return SQLiteSession(self.session_id, db_path=self.path)

    async def get_items(self, limit: int | None = None) -> list[Any]:
        with contextlib.closing(self._open()) as memory:
            return list(await memory.get_items(limit))

    async def add_items(self, items: list[Any]) -> None:
        with contextlib.closing(self._open()) as memory:
            await memory.add_items(items)

    async def pop_item(self) -> Any:
        with contextlib.closing(self._open()) as memory:
            return await memory.pop_item()

    async def clear_session(self) -> None:
        with contextlib.closing(self._open()) as memory:
            await memory.clear_session()

    def close(self) -> None:
        """Nothing is held between calls."""
