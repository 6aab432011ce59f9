"""PostgreSQL stops and comes back under ``agents-tui api`` processes, over real HTTP.

While it is away nothing answers 500: requests that need the store answer ``503
STORE_UNAVAILABLE`` with ``Retry-After``, ``/readyz`` says 503; each stream ends with a
documented event (a running turn's with ``error`` then ``response_complete``, as any failed
turn's; a follower's with ``error``); a turn that outlasts the outage completes. Within
15 s of its return every session takes prompts again, the running turn's reply is stored,
no turn is left ``running`` and no queue ticket is held. The same after a plain restart
with no traffic.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.e2e.test_many_processes import api_processes, create, memory_roles, sse, text_of
from tui.bench.scale_agent import reply_deltas

DOCUMENTED_ENDS = {"response_complete", "error"}
BACK_WITHIN_S = 15.0
DELTAS = 100  # 5 s a reply at 20 deltas/s: the first turns end while PostgreSQL is away


class PgControl:
    """Stops and starts the PostgreSQL server of ``base`` (``pg_ctl``, with the options it
    was started with: ``postmaster.opts``)."""

    def __init__(self, base: str) -> None:
        from tui.bench.pg import pg_bin

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            self.data = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        argv = shlex.split((self.data / "postmaster.opts").read_text())
        cut = argv.index("-D")
        self.options = shlex.join(argv[1:cut] + argv[cut + 2 :])
        bin_dir = pg_bin()
        assert bin_dir is not None
        self.pg_ctl = str(bin_dir / "pg_ctl")

    def _run(self, *args: str) -> None:
        from tui.bench.pg import _as_postgres

        subprocess.run(
            _as_postgres([self.pg_ctl, "-D", str(self.data), *args]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        self._run("-m", "fast", "-w", "stop")

    def start(self) -> None:
        self._run("-o", self.options, "-l", str(self.data.parent / "log"), "-w", "start")


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, PgControl]]:
    """A PostgreSQL server of this test's own (it is stopped and started): a database's
    URL and the server's control."""
    from tui.bench.pg import new_database, pg_bin, postgres_server

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    with postgres_server() as base:
        yield new_database(base), PgControl(base)


class Seen:
    """Every HTTP status answered during the test, by request."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, int]] = []

    def note(self, what: str, status: int) -> None:
        self.statuses.append((what, status))

    def errors(self) -> list[tuple[str, int]]:
        """Server errors but ``503`` (the store unavailable, try again)."""
        return [(what, status) for what, status in self.statuses if status >= 500 and status != 503]


async def stream(
    http: aiohttp.ClientSession,
    seen: Seen,
    method: str,
    url: str,
    *,
    json: dict[str, Any] | None = None,
    keep: int | None = None,
) -> list[dict[str, Any]]:
    """A stream's events to its end (or the first ``keep`` events, then the client goes)."""
    events: list[dict[str, Any]] = []
    async with http.request(method, url, json=json) as response:
        seen.note(f"{method} {url}", response.status)
        assert response.status == 200, await response.text()
        async for event in sse(response):
            events.append(event)
            if keep is not None and len(events) >= keep:
                break
    return events


async def probe(http: aiohttp.ClientSession, seen: Seen, method: str, url: str) -> Any:
    async with http.request(
        method, url, json={} if method == "POST" else None, timeout=aiohttp.ClientTimeout(total=10)
    ) as response:
        seen.note(f"{method} {url}", response.status)
        body = await response.json(content_type=None)
        return response.status, response.headers, body


async def takes_prompts(
    http: aiohttp.ClientSession,
    seen: Seen,
    url: str,
    session: str,
    prompt: str,
    since: float,
    deltas: int,
) -> float:
    """Seconds from ``since`` until ``session`` took ``prompt`` on ``url`` (its stream
    began); its whole reply is streamed then (503 meanwhile, never 500)."""
    began = time.monotonic()
    while True:
        async with http.post(
            f"{url}/v1/sessions/{session}/messages", json={"message": prompt}
        ) as response:
            seen.note(f"POST {url}/v1/sessions/{session}/messages", response.status)
            if response.status == 200:
                took = time.monotonic() - since
                events = [event async for event in sse(response)]
                assert events and events[-1]["type"] == "response_complete", events[-3:]
                assert events[-1]["data"]["status"] == "completed", events[-3:]
                assert text_of(events) == "".join(reply_deltas(prompt, deltas))
                return took
            else:
                assert response.status == 503, await response.text()
                body = await response.json()
                assert body["error"]["code"] == "STORE_UNAVAILABLE"
                assert int(response.headers["Retry-After"]) >= 1
        assert time.monotonic() - began < 30, f"{session} takes no prompt on {url}"
        await asyncio.sleep(0.25)


async def made(http: aiohttp.ClientSession, seen: Seen, url: str, since: float) -> float:
    """Seconds from ``since`` until ``POST /v1/sessions`` on ``url`` made a session."""
    while True:
        status, _, body = await probe(http, seen, "POST", f"{url}/v1/sessions")
        if status == 201:
            return time.monotonic() - since
        assert status == 503 and time.monotonic() - since < 30, (status, body)
        await asyncio.sleep(0.25)


def stored(database: str) -> tuple[list[tuple[Any, ...]], int]:
    with psycopg.connect(database) as conn:
        turns = conn.execute(
            "SELECT conversation_id, prompt, reply, status FROM turns ORDER BY id"
        ).fetchall()
        tickets = conn.execute("SELECT count(*) FROM turn_queue").fetchone()
    return turns, int(tickets[0]) if tickets else -1


async def test_ten_seconds_without_postgresql_under_traffic_on_two_processes(own_postgres):
    database, server = own_postgres
    env = {"AGENTS_TUI_ECHO_RATE": "20", "AGENTS_TUI_ECHO_DELTAS": str(DELTAS)}
    seen = Seen()
    slow = {"AGENTS_TUI_ECHO_RATE": "6", "AGENTS_TUI_ECHO_DELTAS": str(DELTAS)}  # 16.7 s
    with (
        api_processes(database, 2, env=env) as procs,
        api_processes(database, 1, env=slow) as (third_process,),
    ):
        (a, _), (b, _) = procs
        c = third_process[0]
        async with aiohttp.ClientSession() as http:
            first = await create(http, a)
            second = await create(http, b)
            third = await create(http, c)
            # and on a third process, a turn that outlasts the outage
            spanning = asyncio.create_task(
                stream(
                    http,
                    seen,
                    "POST",
                    f"{c}/v1/sessions/{third}/messages",
                    json={"message": "spanning one"},
                )
            )
            # a running turn on A; a prompt of the same session queued behind it on B; a
            # detached turn on B whose client leaves; a follower of it on A
            running = asyncio.create_task(
                stream(
                    http,
                    seen,
                    "POST",
                    f"{a}/v1/sessions/{first}/messages",
                    json={"message": "running one"},
                )
            )
            await asyncio.sleep(0.3)
            queued = asyncio.create_task(
                stream(
                    http,
                    seen,
                    "POST",
                    f"{b}/v1/sessions/{first}/messages",
                    json={"message": "queued one"},
                )
            )
            detached = await stream(
                http, seen, "POST", f"{b}/v1/sessions/{second}/messages",
                json={"message": "detached one", "detach": True}, keep=4,
            )  # fmt: skip
            follower = asyncio.create_task(
                stream(http, seen, "GET", f"{a}/v1/sessions/{second}/events")
            )
            await asyncio.sleep(1.5)

            server.stop()
            stopped_at = time.monotonic()
            unavailable: list[int] = []
            ready: list[int] = []
            while time.monotonic() - stopped_at < 10:
                for url in (a, b):
                    status, headers, body = await probe(http, seen, "POST", f"{url}/v1/sessions")
                    if status == 503:
                        assert body["error"]["code"] == "STORE_UNAVAILABLE", body
                        assert int(headers["Retry-After"]) >= 1
                        assert "127.0.0.1" not in body["error"]["message"]
                        unavailable.append(status)
                    status, _, body = await probe(http, seen, "GET", f"{url}/readyz")
                    ready.append(status)
                    await probe(http, seen, "GET", f"{url}/v1/sessions/{first}/messages")
                    # a prompt is refused, not started: it could not take a queue ticket
                    async with http.post(
                        f"{url}/v1/sessions/{second}/messages", json={"message": "while away"}
                    ) as response:
                        seen.note(f"POST {url}/v1/sessions/{second}/messages", response.status)
                        if response.status == 503:
                            body = await response.json()
                            assert body["error"]["code"] == "STORE_UNAVAILABLE", body
                        else:  # before the process saw the database go: a documented end
                            events = [event async for event in sse(response)]
                            assert events[-1]["type"] in DOCUMENTED_ENDS, events[-3:]
                await asyncio.sleep(0.5)
            server.start()
            back_at = time.monotonic()

            assert unavailable, "no request was told the store is unavailable"
            assert 503 in ready

            # every session takes prompts again within 15 s, on either process, and new
            # sessions are made
            took = await asyncio.gather(
                takes_prompts(http, seen, a, first, "after one", back_at, DELTAS),
                takes_prompts(http, seen, b, second, "after two", back_at, DELTAS),
                made(http, seen, a, back_at),
                made(http, seen, b, back_at),
            )
            print(f"taking prompts again, seconds after the return: {took}")

            # each stream ended with a documented event
            ran, waited, followed, spanned = await asyncio.wait_for(
                asyncio.gather(running, queued, follower, spanning), 30
            )
            # the turn that outlasted the outage completed, whole
            assert spanned[-1]["type"] == "response_complete", spanned[-3:]
            assert spanned[-1]["data"]["status"] == "completed"
            assert text_of(spanned) == "".join(reply_deltas("spanning one", DELTAS))
            for events in (ran, waited, followed):
                assert events and events[-1]["type"] in DOCUMENTED_ENDS, events[-3:]
            # the running turn failed as any failed turn does, its whole reply kept
            kinds = [e["type"] for e in ran]
            assert kinds[-1] == "response_complete" and "error" in kinds, kinds[-4:]
            assert ran[-1]["data"]["status"] == "failed"
            assert text_of(ran) == "".join(reply_deltas("running one", DELTAS))
            assert detached and detached[-1]["type"] != "error"
            # the follower on A of B's turn, which A reads from the database, is told
            assert followed[-1]["type"] == "error", followed[-3:]
            assert followed[-1]["data"]["code"] == "STORE_UNAVAILABLE"

            # every turn ends, no ticket is held; the running turn's reply is stored
            deadline = time.monotonic() + 15
            while True:
                turns, tickets = stored(database)
                if tickets == 0 and all(status != "running" for *_, status in turns):
                    break
                assert time.monotonic() < deadline, (turns, tickets)
                await asyncio.sleep(0.25)
            replies = {prompt: (reply, status) for _, prompt, reply, status in turns}
            assert replies["running one"] == (text_of(ran), "failed")
            assert replies["queued one"][1] == "completed"
            detached_reply = "".join(reply_deltas("detached one", DELTAS))
            assert replies["detached one"] == (detached_reply, "failed")
            assert replies["spanning one"] == (text_of(spanned), "completed")
            assert all(status != "running" for *_, status in turns)
            # the replies kept while PostgreSQL was away reached the model's memory before
            # the next prompt of their session ran
            assert memory_roles(database, first) == ["user", "assistant"] * 3
            assert memory_roles(database, second) == ["user", "assistant"] * 2
            assert memory_roles(database, third) == ["user", "assistant"]
    assert not seen.errors(), seen.errors()
    assert max(took) <= BACK_WITHIN_S, took


async def test_a_plain_restart_with_no_traffic(own_postgres):
    database, server = own_postgres
    seen = Seen()
    env = {"AGENTS_TUI_ECHO_DELTAS": "20", "AGENTS_TUI_ECHO_RATE": "200"}
    with api_processes(database, 2, env=env) as procs:
        async with aiohttp.ClientSession() as http:
            sessions = [await create(http, url) for url, _ in procs]
            server.stop()
            server.start()
            back_at = time.monotonic()
            for (url, _), session in zip(procs, sessions, strict=True):
                while True:
                    status, _, body = await probe(http, seen, "POST", f"{url}/v1/sessions")
                    if status == 201:
                        break
                    assert status == 503, (status, body)
                    assert body["error"]["code"] == "STORE_UNAVAILABLE"
                    assert time.monotonic() - back_at < BACK_WITHIN_S, body
                    await asyncio.sleep(0.25)
                await takes_prompts(http, seen, url, session, "after a restart", back_at, 20)
            took = time.monotonic() - back_at
            print(f"both processes took sessions and prompts {took:.1f} s after the restart")
            for url, _ in procs:
                status, _, body = await probe(http, seen, "GET", f"{url}/readyz")
                assert status == 200, body
    assert not seen.errors(), seen.errors()
    assert took <= BACK_WITHIN_S
