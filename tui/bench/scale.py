"""``agents-tui bench --scale``: the API with 1, 2 and 4 processes on one PostgreSQL, and one
process on SQLite, under 50, 200 and 500 streams of a scripted reply at 10 deltas/s each.

Each stream's text is checked exactly; measured: first-event latency (request sent to the
first SSE event) median and p95, deltas per second served, server CPU per 1,000 deltas
(every API process and PostgreSQL, from /proc), and the highest level each setting holds
with exact text and a first-event p95 of at most 1 s. Then a survivor's time to mark the
turn of a process killed with ``kill -9`` interrupted. The client is a few lines of raw
asyncio (no HTTP library) so that it takes as little of the 2 cores as it can; it shares
them with the servers, which is said beside the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.bench.pg import free_port, new_database, postgres_server
from tui.bench.scale_agent import reply_deltas

LEVELS = tuple(int(n) for n in os.environ.get("AGENTS_TUI_SCALE_LEVELS", "50,200,500").split(","))
RATE = 10.0  # deltas per second per stream
DELTAS = 30  # a 3-second reply
SETTINGS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4))
HOLDS_P95_S = 1.0
HOLDS_SLOWDOWN = 1.25  # a stream may take a quarter longer than its 10 deltas/s at p95
WINDOW_S = 9.0  # each level: clients stream turn after turn for this long


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    out.append(int(entry.name))
    return out


@contextlib.contextmanager
def _processes(database: str | None, count: int, home: str) -> Iterator[list[tuple[int, Any]]]:
    env = {
        **os.environ,
        "XDG_DATA_HOME": home,
        "XDG_CONFIG_HOME": home,
        "AGENTS_TUI_ECHO_RATE": str(RATE),
        "AGENTS_TUI_ECHO_DELTAS": str(DELTAS),
    }
    children = []
    try:
        for _ in range(count):
            port = free_port()
            argv = [
                sys.executable,
                "-m",
                "tui",
                "api",
                "--agent",
                "tui.bench.scale_agent:echo",
                "--port",
                str(port),
                "--max-streams",
                "2000",
                "--max-live-sessions",
                "4000",
            ]
            if database:
                argv += ["--database", database]
            child = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
            )
            children.append((port, child))
        for port, child in children:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stats", timeout=1):
                        break
                except OSError:
                    if child.poll() is not None or time.monotonic() > deadline:
                        problem = child.stderr.read() if child.stderr else ""
                        raise RuntimeError(f"the API did not start: {problem}") from None
                    time.sleep(0.1)
        yield children
    finally:
        for _, child in children:
            if child.poll() is None:
                child.terminate()
        for _, child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()


async def _request(port: int, method: str, path: str, body: dict[str, Any] | None) -> bytes:
    """One HTTP/1.1 request, the whole response read (headers and chunked body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode() if body is not None else b""
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json"
        f"\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        + data
    )
    raw = await reader.read(-1)
    writer.close()
    return raw


def _body(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"chunked" not in head.lower():
        return body
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


async def _create(port: int) -> str:
    raw = await _request(port, "POST", "/v1/sessions", {})
    return str(json.loads(_body(raw))["session_id"])


async def _stream(port: int, session: str, prompt: str) -> tuple[float | None, str, float]:
    """(first-event seconds, the reply's text, seconds from the first event to the end)
    of one turn."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps({"message": prompt}).encode()
    writer.write(
        f"POST /v1/sessions/{session}/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n".encode()
        + data
    )
    raw = bytearray()
    first = None
    while chunk := await reader.read(65536):
        raw += chunk
        if first is None and b"data:" in raw:
            first = time.perf_counter() - started
    streamed = time.perf_counter() - started - (first or 0.0)
    writer.close()
    text = []
    for block in _body(bytes(raw)).decode().split("\r\n\r\n"):
        for line in block.splitlines():
            if line.startswith("data:"):
                obj = json.loads(line[5:])
                if obj["type"] == "text_delta":
                    text.append(obj["data"]["delta"])
    return first, "".join(text), streamed


async def _level(ports: list[int], streams: int) -> dict[str, Any]:
    """``streams`` clients, each with its own session, each streaming one turn after
    another for ``WINDOW_S``; they start spread over one reply's length, so that about
    ``streams`` turns stream at any moment (arrivals, not a single burst)."""
    semaphore = asyncio.Semaphore(64)

    async def made(i: int) -> str:
        async with semaphore:
            return await _create(ports[i % len(ports)])

    sessions = await asyncio.gather(*(made(i) for i in range(streams)))
    reply_s = DELTAS / RATE
    firsts: list[float] = []
    lengths: list[float] = []
    turns = exact = 0
    started = time.perf_counter()
    until = started + WINDOW_S

    async def client(i: int, session: str) -> None:
        nonlocal turns, exact
        await asyncio.sleep(reply_s * i / streams)
        n = 0
        while time.perf_counter() < until - reply_s:
            prompt = f"client {i} turn {n}"
            first, text, streamed = await _stream(ports[(i + n + 1) % len(ports)], session, prompt)
            turns += 1
            lengths.append(streamed)
            exact += text == "".join(reply_deltas(prompt, DELTAS))
            if first is not None:
                firsts.append(first)
            n += 1

    await asyncio.gather(*(client(i, s) for i, s in enumerate(sessions)))
    elapsed = time.perf_counter() - started
    firsts.sort()
    lengths.sort()
    return {
        "streams": streams,
        "turns": turns,
        "exact": exact,
        "first_event_p50_ms": round(statistics.median(firsts) * 1000, 1) if firsts else None,
        "first_event_p95_ms": round(firsts[int(0.95 * (len(firsts) - 1))] * 1000, 1)
        if firsts
        else None,
        # how much longer than the model took a stream took to deliver (1.0: on time)
        "stream_slowdown_p95": round(lengths[int(0.95 * (len(lengths) - 1))] / reply_s, 2)
        if lengths
        else None,
        "seconds": round(elapsed, 2),
        "deltas_per_s": round(exact * DELTAS / elapsed, 1),
    }


def _run_setting(backend: str, count: int, base: str | None, home: str) -> dict[str, Any]:
    database = new_database(base) if backend == "postgresql" and base else None
    if backend == "sqlite":
        database = str(Path(home) / f"scale-{time.monotonic_ns()}.db")
    out: dict[str, Any] = {"backend": backend, "processes": count, "levels": []}
    with _processes(database, count, home) as children:
        pids = [child.pid for _, child in children]
        ports = [port for port, _ in children]
        for streams in LEVELS:
            watched = pids + (_postgres_pids() if backend == "postgresql" else [])
            cpu_before = {pid: _cpu_s(pid) for pid in watched}
            level = asyncio.run(_level(ports, streams))
            api_cpu = sum(_cpu_s(pid) - cpu_before[pid] for pid in pids)
            db_cpu = sum(_cpu_s(pid) - cpu_before.get(pid, 0.0) for pid in watched[len(pids) :])
            served = level["turns"] * DELTAS
            level["api_cpu_s_per_1000_deltas"] = (
                round(api_cpu / served * 1000, 3) if served else None
            )
            level["db_cpu_s_per_1000_deltas"] = round(db_cpu / served * 1000, 3) if served else None
            level["holds"] = (
                level["exact"] == level["turns"]
                and level["first_event_p95_ms"] is not None
                and level["first_event_p95_ms"] <= HOLDS_P95_S * 1000
                and (level["stream_slowdown_p95"] or 0) <= HOLDS_SLOWDOWN
            )
            out["levels"].append(level)
            print(f"scale: {backend} x{count}: {level}", file=sys.stderr, flush=True)
            if not level["holds"] and (level["first_event_p95_ms"] or 0) > 5000:
                break  # far past what it holds: the next level says nothing more
    held = [lv["streams"] for lv in out["levels"] if lv["holds"]]
    out["holds_streams"] = max(held) if held else 0
    return out


async def _killed_turn_s(ports: list[int], victim: Any) -> float:
    session = await _create(ports[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", ports[0])
    data = json.dumps({"message": "a long story"}).encode()
    writer.write(
        f"POST /v1/sessions/{session}/messages HTTP/1.1\r\nHost: 127.0.0.1:{ports[0]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    seen = b""
    while seen.count(b"text_delta") < 3:
        chunk = await reader.read(65536)
        if not chunk:
            raise RuntimeError(f"the turn to cut did not stream: {seen[:300]!r}")
        seen += chunk
    os.kill(victim.pid, signal.SIGKILL)
    killed = time.perf_counter()
    writer.close()
    while time.perf_counter() - killed < 60:
        raw = await _request(ports[1], "GET", f"/v1/sessions/{session}/messages", None)
        messages = json.loads(_body(raw))["messages"]
        if messages and messages[-1].get("status") == "interrupted":
            return round(time.perf_counter() - killed, 2)
        await asyncio.sleep(0.1)
    return float("inf")


def scale() -> dict[str, Any]:
    started = time.perf_counter()
    home = tempfile.mkdtemp(prefix="agents-tui-scale-")
    out: dict[str, Any] = {
        "rate_deltas_per_s": RATE,
        "deltas_per_reply": DELTAS,
        "levels": list(LEVELS),
        "cores": os.cpu_count(),
        "settings": [],
    }
    with postgres_server(throwaway=False) as base:
        for backend, count in SETTINGS:
            out["settings"].append(_run_setting(backend, count, base, home))
        with _processes(new_database(base), 2, home) as children:
            ports = [port for port, _ in children]
            out["killed_turn_interrupted_s"] = asyncio.run(_killed_turn_s(ports, children[0][1]))
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main() -> None:
    print(json.dumps(scale(), indent=2))


if __name__ == "__main__":
    main()
