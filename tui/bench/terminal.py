"""A long chat in a real terminal: the app in a pseudo-terminal, memory per turn.

The headless bench drives the app through Textual's headless driver in the bench's own
process; a person runs it in a terminal. Here the app is a child process on a
pseudo-terminal (``TERM=xterm-256color``, 160x45), so Textual uses its own Linux driver
and writer thread, against a local OpenAI-compatible server (``fast_server``, its own
process) that answers every request with a short reply. The prompts are typed into the
pty (the text, then Enter); a turn is over when the store holds it finished and the
screen has gone quiet. A reader thread drains the pty all along, as a terminal does, so
the app never blocks on a write. After each turn the child's resident memory is read
from ``/proc/PID/status``.

``AGENTS_TUI_BENCH_DUMP=PATH`` in the child's environment (``child_main``; ``dump_at`` of
``terminal_session``) makes SIGUSR1 write what the heap holds to ``PATH.N``: RSS before and
after a collection and ``malloc_trim``, SQLite's own memory, every cache's entries, the
modules imported since the last dump, objects by type, and tracemalloc's growth between
dumps: how the memory was found, kept for the next time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPLY_CHARS = 372  # the reply: a short paragraph
ROWS, COLUMNS = 45, 160
DUMP_ENV = "AGENTS_TUI_BENCH_DUMP"
TRACE_ENV = "AGENTS_TUI_BENCH_TRACE_FROM"


class _Terminal:
    """The master side of a pty, drained by a thread; the last output kept for looking."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.received = 0
        self.last_output = time.monotonic()
        self.tail = b""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="bench-pty", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed its side
                return
            if not data:
                return
            with self._lock:
                self.received += len(data)
                self.last_output = time.monotonic()
                self.tail = (self.tail + data)[-65536:]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def quiet_for(self, seconds: float) -> bool:
        with self._lock:
            return time.monotonic() - self.last_output >= seconds

    def shows(self, text: bytes) -> bool:
        with self._lock:
            return text in self.tail

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._thread.join(5)


def _rss_kb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _finished_turns(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as c:
            row = c.execute("SELECT count(*) FROM turns WHERE finished_at IS NOT NULL").fetchone()
    except sqlite3.Error:  # the schema is not there yet, or the file is busy: not yet
        return 0
    return int(row[0])


def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"terminal bench: {what} within {timeout} s")
        time.sleep(0.01)


def _spawn(url: str, home: str, extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """The app on a new pty of 160x45 (its own session: the pty is its terminal)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "OPENAI", "COLUMNS"))
    }
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        XDG_DATA_HOME=home,
        XDG_CONFIG_HOME=home,
        AGENTS_TUI_API_KEY="none",
        LINES=str(ROWS),
        COLUMNS=str(COLUMNS),
        **extra_env,
    )
    command = [sys.executable, "-c", "from tui.bench.terminal import child_main; child_main()"]
    command += ["--provider", "compat", "--base-url", url, "--model", "bench", "--lang", "en"]
    try:
        child = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return child, master


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


def _dump(child: subprocess.Popen[bytes], written: Path) -> None:
    child.send_signal(signal.SIGUSR1)
    _until(written.exists, 600, "the heap dump was written")
    time.sleep(0.5)


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares KB per turn."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx if sxx else 0.0


def terminal_session(
    turns: int = 300,
    *,
    dump_at: tuple[int, ...] = (),
    dump_to: str | None = None,
    trace_from: int = 2,
    env: dict[str, str] | None = None,
    on_turn: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """``turns`` short turns typed into the app on a pty; resident memory after each.

    ``dump_at``: turns after which the child is sent SIGUSR1 (with ``dump_to`` as its
    ``AGENTS_TUI_BENCH_DUMP``; 0: before the first turn): what its heap holds then, for
    finding where memory goes; tracemalloc runs from dump number ``trace_from`` on.
    """
    from tui.bench.server_stream import fast_server

    rss: dict[int, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="agents-tui-terminal-") as home,
        fast_server(REPLY_CHARS) as url,
    ):
        extra = {DUMP_ENV: dump_to, TRACE_ENV: str(trace_from)} if dump_to else {}
        extra.update(env or {})
        child, master = _spawn(url, home, extra)
        terminal = _Terminal(master)
        db = Path(home) / "agents-tui" / "agents-tui.db"
        started = time.perf_counter()
        try:
            _until(lambda: terminal.shows(b"ready"), 60, "the app showed no prompt")
            _until(lambda: terminal.quiet_for(0.3), 30, "the first screen never settled")
            rss[0] = _rss_kb(child.pid)
            if on_turn is not None:
                on_turn(0, child.pid)
            dumps = 0
            for turn in range(1, turns + 2):
                if turn - 1 in dump_at and dump_to:
                    dumps += 1
                    _dump(child, Path(f"{dump_to}.{dumps}"))
                if turn > turns:
                    break
                terminal.type(f"question {turn}")
                time.sleep(0.02)  # a person's Enter comes after the text
                terminal.type("\r")
                _until(lambda turn=turn: _finished_turns(db) >= turn, 60, f"turn {turn} ended")
                # the reply and "ready" drawn, the collection after the turn done
                _until(lambda: terminal.quiet_for(0.15), 10, f"turn {turn}'s screen settled")
                rss[turn] = _rss_kb(child.pid)
                if on_turn is not None:  # (turn, the app's pid): a look inside, between turns
                    on_turn(turn, child.pid)
                if child.poll() is not None:
                    raise RuntimeError(f"the app exited ({child.returncode}) at turn {turn}")
            seconds = time.perf_counter() - started
            received = terminal.received
        finally:
            _stop(child)
            terminal.close()
    first = min(10, turns)
    after = [(t, kb) for t, kb in rss.items() if t >= first]
    marks = [t for t in (10, 50, 120, 300) if t <= turns]
    return {
        "terminal_turns": turns,
        "terminal_reply_chars": REPLY_CHARS,
        "terminal_size": f"{COLUMNS}x{ROWS}",
        "terminal_kb_per_turn": round(_slope(after), 1) if len(after) > 1 else 0.0,
        "terminal_kb_per_turn_ends": round((rss[turns] - rss[first]) / max(turns - first, 1), 1),
        "terminal_rss_mb_last_turn": round(rss[turns] / 1024, 1),
        # the targets are for a chat of 300 turns (a shorter one is still filling caches)
        **(
            {
                "terminal_kb_per_turn_10_300": round(
                    _slope([(t, kb) for t, kb in rss.items() if 10 <= t <= 300]), 1
                ),
                "terminal_rss_mb_at_300": round(rss[300] / 1024, 1),
            }
            if turns >= 300
            else {}
        ),
        "terminal_rss_mb_at": {str(t): round(rss[t] / 1024, 1) for t in (0, *marks)},
        "terminal_rss_mb_first_10": [round(rss[t] / 1024, 1) for t in range(first + 1)],
        "terminal_rss_mb_every_10": [round(rss[t] / 1024, 1) for t in range(0, turns + 1, 10)],
        "terminal_bytes_written_per_turn": round(received / max(turns, 1)),
        "terminal_seconds": round(seconds, 1),
    }


def _install_dump(path: str) -> None:
    """SIGUSR1 writes what the heap holds to ``path.N`` (see the module's docstring)."""
    import ctypes
    import gc
    import tracemalloc
    from collections import Counter

    state: dict[str, Any] = {"n": 0, "previous": None, "modules": set(sys.modules)}
    trace_from = int(os.environ.get(TRACE_ENV, "2"))

    def dump(_signum: int, _frame: Any) -> None:
        lines = [f"rss_kb {_rss_kb(os.getpid())} frozen {gc.get_freeze_count()}"]
        gc.collect()
        lines.append(f"rss_kb_after_collect {_rss_kb(os.getpid())}")
        with contextlib.suppress(OSError, AttributeError):  # glibc: the C heap's free pages
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            lines.append(f"rss_kb_after_malloc_trim {_rss_kb(os.getpid())}")
        with contextlib.suppress(OSError, AttributeError):  # SQLite's own allocations
            used = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
            used.restype = ctypes.c_int64
            lines.append(f"sqlite_kb {used() / 1024:.0f} threads {threading.active_count()}")
        lines += _pymalloc_summary()
        counts = Counter(type(o).__qualname__ for o in gc.get_objects())
        if state["n"] + 1 == trace_from:  # the app runs several times slower traced: trace
            tracemalloc.start(4)  # between two close dumps only
        snapshot = None
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
        previous = state["previous"]
        if snapshot is not None and previous is not None:
            lines.append("## growth since the previous dump, by traceback")
            for stat in snapshot.compare_to(previous, "traceback")[:25]:
                lines.append(f"{stat.size_diff / 1024:+.0f} KB {stat.count_diff:+d} blocks")
                lines += [f"    {line}" for line in stat.traceback.format()]
        lines += _cache_sizes(gc.get_objects())
        modules = set(sys.modules)
        lines.append(f"## {len(modules - state['modules'])} modules imported since")
        lines += sorted(modules - state["modules"])
        state["modules"] = modules
        lines.append("## objects by type")
        lines += [f"{n} {name}" for name, n in counts.most_common(200)]
        state["n"] += 1
        state["previous"] = snapshot
        written = Path(f"{path}.{state['n']}")
        Path(f"{written}.part").write_text("\n".join(lines))
        Path(f"{written}.part").rename(written)

    signal.signal(signal.SIGUSR1, dump)


def _pymalloc_summary() -> list[str]:
    """Python's small-object allocator in a few lines (``sys._debugmallocstats``, which writes
    to the C stderr): arenas held, bytes in live blocks, bytes free inside held pools and
    arenas (what a fragmented heap keeps from the system)."""
    wanted = ("arenas allocated current", "bytes in allocated blocks", "bytes in available")
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    lines = [line.lstrip("# ") for line in text.splitlines()]
    return [
        "## pymalloc",
        *(line for line in lines if line.startswith(wanted) or "unused pools" in line),
    ]


def _lru_caches() -> dict[str, Any]:
    """Every ``functools.lru_cache`` of a loaded module, by name (the caches made at import
    are frozen by the heap policy, so ``gc.get_objects`` does not list them). Only ``type()``
    is asked of what a module holds: ``isinstance`` reads ``__class__``, and ``openai``'s lazy
    proxies import whole packages when it is read (1,500 modules, 8 MB, in an early dump)."""
    import functools

    found: dict[str, Any] = {}
    for module in list(sys.modules.values()):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            owners = [(name, value)]
            if (
                issubclass(type(value), type)
                and value.__dict__.get("__module__") == module.__name__
            ):
                owners = [(f"{name}.{k}", v) for k, v in vars(value).items()]
            for label, item in owners:
                if type(item) in (classmethod, staticmethod):
                    item = item.__func__
                if type(item) is functools._lru_cache_wrapper:  # by where it is defined
                    found[f"{item.__module__}.{getattr(item, '__qualname__', label)}"] = item
    return found


def _cache_sizes(objects: list[Any]) -> list[str]:
    """The caches that fill as a chat grows (functools' and Textual's), largest first."""
    from textual.cache import FIFOCache, LRUCache

    sizes = [(cache.cache_info().currsize, f"lru {name}") for name, cache in _lru_caches().items()]
    for o in objects:
        if type(o) is LRUCache and len(o) > 50:
            sizes.append((len(o), f"LRUCache max {o.maxsize}"))
        elif type(o) is FIFOCache and len(o) > 50:
            sizes.append((len(o), f"FIFOCache max {o._maxsize}"))
    sizes.sort(reverse=True)
    return ["## caches by entries", *(f"{size} {name}" for size, name in sizes[:40])]


def child_main() -> None:
    """The app as ``agents-tui`` runs it, with the heap dump on SIGUSR1 when asked."""
    dump = os.environ.get(DUMP_ENV)
    if dump:
        _install_dump(dump)
    import runpy

    runpy.run_module("tui", run_name="__main__", alter_sys=True)  # ``python -m tui``


if __name__ == "__main__":
    import json

    print(json.dumps(terminal_session(int(sys.argv[1]) if len(sys.argv) > 1 else 300), indent=2))
