"""The API left running under a mixed load, bounded in time (``agents-tui bench --soak``).

One ``agents-tui api`` process (the real command) against the benchmark's
OpenAI-compatible server in its own process, on a store already holding 10,000 turns:
10,000 sessions created; 500 turns, 50 at once; 100 clients that go away mid-stream;
10 that never read; stats polled all along. Reported: requests served and errors by
status and code, open files and RSS at start and end, whether every completed stream
was exact, every turn's stored status, how long stats took, and how much a poller
slowed a live stream (the gap between its deltas, polled and not).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tui.bench.fast_server import reply_deltas
from tui.bench.sse import read_events

REPLY_BYTES = 2_000
PACE_S = 0.002  # a model's pace: about 370 deltas in 0.75 s
SESSIONS = 10_000
TURNS = 500
AT_ONCE = 50
LEAVERS = 100
NON_READERS = 10
SEEDED_TURNS = 10_000
DOCUMENTED = {"completed", "interrupted", "failed"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def api_argv(base_url: str, port: int, *extra: str) -> list[str]:
    """``agents-tui api`` on ``port`` against an OpenAI-compatible server at ``base_url``."""
    return [
        sys.executable,
        "-m",
        "tui",
        "api",
        "--provider",
        "compat",
        "--base-url",
        base_url,
        "--model",
        "bench",
        "--port",
        str(port),
        *extra,
    ]


def _seed(turns: int) -> None:
    """A store that already holds ``turns`` finished turns (stats must not read them)."""
    from tui.core.store import Store

    store = Store()
    store.ensure_conversation("seeded")
    for i in range(turns):
        store.import_turn(
            "seeded",
            started_at=1.0 + i,
            prompt=f"p{i}",
            reply="r",
            status="completed",
            error=None,
            tools=[],
            metrics={"time_to_first_token_s": 0.1 + (i % 5) / 10, "elapsed_s": 1.0},
        )
    store.close()


class _Tally:
    def __init__(self) -> None:
        self.codes: collections.Counter[str] = collections.Counter()
        self.exact = 0
        self.inexact = 0
        self.stats_ms: list[float] = []

    def count(self, status: int, code: str = "") -> None:
        self.codes[f"{status} {code}".strip()] += 1


async def _load(url: str, tally: _Tally, expected: str) -> dict[str, Any]:
    import aiohttp

    port = int(url.rsplit(":", 1)[1])
    connector = aiohttp.TCPConnector(limit=400)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        ids: list[str] = []
        gate = asyncio.Semaphore(16)

        async def create() -> None:
            async with gate, http.post(f"{url}/v1/sessions") as response:
                body = await response.json()
                tally.count(response.status, body.get("error", {}).get("code", ""))
                if response.status == 201:
                    ids.append(body["session_id"])

        started = time.perf_counter()
        await asyncio.gather(*(create() for _ in range(SESSIONS)))
        created_s = time.perf_counter() - started

        done = asyncio.Event()

        async def poll_stats() -> None:
            while not done.is_set():
                sent = time.perf_counter()
                async with http.get(f"{url}/v1/stats") as response:
                    await response.read()
                    tally.count(response.status)
                tally.stats_ms.append((time.perf_counter() - sent) * 1000)
                await asyncio.sleep(0.05)

        async def one_turn(session_id: str, leave_after: int | None = None) -> None:
            while True:
                async with http.post(
                    f"{url}/v1/sessions/{session_id}/messages", json={"message": "go"}
                ) as response:
                    if response.status != 200:
                        body = await response.json()
                        tally.count(response.status, body["error"]["code"])
                        if response.status in (429, 503):
                            await asyncio.sleep(float(response.headers.get("Retry-After", 1)))
                            continue
                        return
                    tally.count(200)
                    if leave_after is not None:
                        seen = 0
                        async for _ in response.content.iter_any():
                            seen += 1
                            if seen >= leave_after:
                                break
                        response.close()  # the client goes away mid-stream
                        return
                    events = await read_events(response)
                text = "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta")
                if events and events[-1]["type"] == "response_complete":
                    if text == expected:
                        tally.exact += 1
                    else:
                        tally.inexact += 1
                return

        def non_reader(session_id: str) -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            body = json.dumps({"message": "go"})
            sock.sendall(
                (
                    f"POST /v1/sessions/{session_id}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n" + body
                ).encode()
            )
            return sock

        poller = asyncio.create_task(poll_stats())
        gate_turns = asyncio.Semaphore(AT_ONCE)

        async def gated(session_id: str) -> None:
            async with gate_turns:
                await one_turn(session_id)

        silent = [non_reader(s) for s in ids[-NON_READERS:]]
        started = time.perf_counter()
        await asyncio.gather(
            *(gated(ids[i * 7 % len(ids)]) for i in range(TURNS)),
            *(one_turn(ids[-NON_READERS - 1 - i], leave_after=3) for i in range(LEAVERS)),
        )
        load_s = time.perf_counter() - started
        done.set()
        await poller
        for sock in silent:
            sock.close()
        return {"created_s": round(created_s, 1), "load_s": round(load_s, 1), "ids": ids}


async def _delta_gaps(url: str, polled: bool) -> list[float]:
    """Gaps between one stream's deltas, with or without a client polling stats."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/sessions") as response:
            session_id = (await response.json())["session_id"]
        stop = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set():
                async with http.get(f"{url}/v1/stats") as response:
                    await response.read()

        pollers = [asyncio.create_task(poll()) for _ in range(2 if polled else 0)]
        gaps: list[float] = []
        last = 0.0
        async with http.post(
            f"{url}/v1/sessions/{session_id}/messages", json={"message": "go"}
        ) as response:
            async for _chunk in response.content.iter_any():
                now = time.perf_counter()
                if last:
                    gaps.append((now - last) * 1000)
                last = now
        stop.set()
        await asyncio.gather(*pollers)
        return gaps


def _stats_quiet(url: str, polls: int) -> list[float]:
    """``GET /v1/stats`` on the seeded store with nothing else running, in ms."""
    times = []
    for _ in range(polls):
        sent = time.perf_counter()
        with urllib.request.urlopen(f"{url}/v1/stats") as response:
            response.read()
        times.append((time.perf_counter() - sent) * 1000)
    return times


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def soak() -> dict[str, Any]:
    started = time.perf_counter()
    home = tempfile.mkdtemp(prefix="agents-tui-soak-")
    env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    os.environ.update({"XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home})
    _seed(SEEDED_TURNS)
    from tui.bench.server_stream import fast_server

    model = contextlib.ExitStack()
    base = model.enter_context(fast_server(REPLY_BYTES, PACE_S))
    port = _free_port()
    api = subprocess.Popen(
        api_argv(base, port, "--send-timeout", "5"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/v1/stats", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        files_start, rss_start = _open_files(api.pid), _rss_mb(api.pid)
        expected = "".join(reply_deltas(REPLY_BYTES))
        stats_quiet = _stats_quiet(url, 50)
        quiet = asyncio.run(_delta_gaps(url, polled=False))
        polled = asyncio.run(_delta_gaps(url, polled=True))
        tally = _Tally()
        load = asyncio.run(_load(url, tally, expected))
        time.sleep(6)  # the non-readers' streams end (send timeout 5 s)
        with urllib.request.urlopen(f"{url}/v1/stats") as response:
            streams_open = json.load(response)["streams_open"]
        files_end, rss_end = _open_files(api.pid), _rss_mb(api.pid)

    finally:
        api.terminate()
        _, err = api.communicate(timeout=20)
        model.close()
    from tui.core.store import Store

    statuses = collections.Counter(
        t.status for t in Store().turns() if t.conversation_id != "seeded"
    )
    return {
        "soak_seconds": round(time.perf_counter() - started, 1),
        "soak_sessions_created": len(load["ids"]),
        "soak_create_seconds": load["created_s"],
        "soak_load_seconds": load["load_s"],
        "soak_requests_by_status": dict(sorted(tally.codes.items())),
        "soak_5xx": sum(n for code, n in tally.codes.items() if code.startswith("5")),
        "soak_streams_exact": tally.exact,
        "soak_streams_inexact": tally.inexact,
        "soak_turn_statuses": dict(statuses),
        "soak_undocumented_statuses": sum(n for s, n in statuses.items() if s not in DOCUMENTED),
        "soak_streams_open_at_end": streams_open,
        "soak_open_files_start_end": [files_start, files_end],
        "soak_rss_mb_start_end": [rss_start, rss_end],
        "soak_stats_ms_median_quiet": round(statistics.median(stats_quiet), 1),
        "soak_stats_ms_median_under_load": round(statistics.median(tally.stats_ms), 1),
        "soak_stats_ms_p95_under_load": _p(tally.stats_ms, 0.95),
        "soak_stats_polls": len(tally.stats_ms),
        "soak_gap_ms_p90_quiet_polled": [_p(quiet, 0.9), _p(polled, 0.9)],
        "soak_gap_p90_polled_vs_quiet": round(_p(polled, 0.9) / max(_p(quiet, 0.9), 0.1), 2),
        "soak_gap_ms_max_polled": round(max(polled, default=0.0), 1),
        "soak_tracebacks_logged": err.count("Traceback"),
    }


if __name__ == "__main__":
    print(json.dumps(soak(), indent=2))
