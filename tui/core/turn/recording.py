"""Recordings: every event of every turn as a JSONL line with its time offset, and their
playback (``agents-tui replay``) through the same interface as the runner.

A recording is what one run of the app saw; ``ReplayRunner`` plays it with its original
timing, no model needed.
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
from typing import TYPE_CHECKING, TextIO

from tui.core import events as ev

if TYPE_CHECKING:
    from agents.items import TResponseInputItem

EVENT_TYPES: dict[str, type[ev.RunEvent]] = {cls.__name__: cls for cls in ev.RunEvent.__args__}


# What an event says (not its time, nor a turn's end's ``metrics``: measured again on replay).
_FIELDS: dict[type[ev.RunEvent], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("at_ns", "metrics"))
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
        self._file: TextIO | None = None
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


def prune_recordings(older_than_days: float, *, now: float | None = None) -> int:
    """Delete the recordings last written more than ``older_than_days`` ago
    (``record_retention_days``); how many were deleted."""
    from tui.core.config import data_dir

    folder = data_dir() / "recordings"
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - older_than_days * 86_400
    deleted = 0
    for path in folder.glob("*.jsonl"):
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to delete
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
    return deleted


def recorder_path(conversation_id: str) -> Path:
    """One file per process run: a recording is what one run of the app saw."""
    return recordings_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{conversation_id}.jsonl"


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
        self.history: list[TResponseInputItem] = []
        self.agent_name = "replay"
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

    async def run(self, prompt: str, emit: Callable[[ev.RunEvent], None]) -> None:
        self._cancelled = asyncio.Event()
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
