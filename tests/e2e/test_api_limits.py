"""``agents-tui api`` as a process left running: thousands of sessions under a low open-file
limit, a clear 429 past the stream limit, sessions let go of while idle and taken up again.

The server is the real command (``python -m tui api``) against the benchmark's
OpenAI-compatible server in its own process, both on 127.0.0.1."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.mcp_servers import free_port
from tui.bench.fast_server import reply_deltas
from tui.bench.server_stream import fast_server
from tui.bench.soak import api_argv

REPLY = "".join(reply_deltas(400))
# The benchmark server's reply of N bytes is N bytes of text (and its deltas' JSON).


def model_server(size: int = 400, pace_s: float = 0.002) -> Any:
    """The benchmark's OpenAI-compatible server in its own process; yields its base URL."""
    return fast_server(size, pace_s)


@contextmanager
def api_process(
    base_url: str | None,
    *args: str,
    files: int | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``agents-tui api`` against the model server at ``base_url`` (``None``: the agent
    named in ``args`` brings its own model), under an open-file limit of ``files``."""
    port = free_port()

    def limit() -> None:
        if files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    argv = (
        api_argv(base_url, port, *args)
        if base_url is not None
        else [sys.executable, "-m", "tui", "api", "--port", str(port), *args]
    )
    child = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, child)
        yield url, child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def wait_for_server(url: str, child: subprocess.Popen[str]) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise AssertionError(f"the API exited: {child.stderr.read() if child.stderr else ''}")
        try:
            with urllib.request.urlopen(f"{url}/v1/stats", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers (401 with a token set)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the API did not start")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def create(http: aiohttp.ClientSession, url: str, count: int, **body) -> list[str]:
    ids: list[str] = []
    gate = asyncio.Semaphore(16)

    async def one() -> None:
        async with gate, http.post(f"{url}/v1/sessions", json=body or None) as response:
            assert response.status == 201, await response.text()
            ids.append((await response.json())["session_id"])

    await asyncio.gather(*(one() for _ in range(count)))
    return ids


async def turn(http: aiohttp.ClientSession, url: str, session_id: str) -> tuple[int, dict, str]:
    """(status, the last event or the error body, the streamed text)."""
    async with http.post(
        f"{url}/v1/sessions/{session_id}/messages", json={"message": "hi"}
    ) as response:
        body = await response.text()
        if response.status != 200:
            payload = json.loads(body)
            payload["retry_after"] = response.headers.get("Retry-After")
            return response.status, payload, ""
    events = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]
    text = "".join(e["data"]["delta"] for e in events if e["type"] == "text_delta")
    return 200, events[-1], text


async def test_ten_thousand_sessions_under_a_256_file_limit_and_every_one_still_streams():
    with model_server() as base, api_process(base, files=256) as (url, child):
        before = open_files(child.pid)
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as http:
            first = await create(http, url, 1, user_context={"table": 7}, agent="game-master")
            ids = first + await create(http, url, 9_999)
            assert len(set(ids)) == 10_000
            assert open_files(child.pid) < before + 40  # idle sessions cost no open file
            async with http.get(f"{url}/v1/stats") as response:
                stats = await response.json()
            assert stats["sessions_live"] <= 512 and stats["sessions_evicted"] > 9_000
            # the oldest (let go of long ago), a middle one and the newest all stream
            for session_id in (ids[0], ids[5_000], ids[-1]):
                status, last, text = await turn(http, url, session_id)
                assert status == 200 and last["type"] == "response_complete"
                assert text == REPLY and last["data"]["status"] == "completed"
            # what the first session was created with came back with it
            async with http.get(f"{url}/v1/sessions/{ids[0]}/stats") as response:
                assert (await response.json())["user_context"] == {"table": 7}

            # 120 prompts at once against the limits the file budget allows
            results = await asyncio.gather(*(turn(http, url, s) for s in ids[100:220]))
            codes = collections.Counter(status for status, _, _ in results)
            assert set(codes) <= {200, 429, 503} and codes[200] >= 10 and codes[429] >= 1, codes
            for status, last, text in results:
                if status in (429, 503):  # past the streams, or the connections, it takes
                    code = "TOO_MANY_STREAMS" if status == 429 else "SERVER_BUSY"
                    assert last["error"]["code"] == code
                    assert last["retry_after"] == "1"
                else:
                    assert text == REPLY and last["data"]["status"] == "completed"
            assert open_files(child.pid) < 256
            # every admitted turn is stored whole; a refused prompt is not stored at all
            async with http.get(f"{url}/v1/stats") as response:
                totals = (await response.json())["statistics"]["performance_statistics"]
            assert totals["turns"] == 3 + codes[200]
            assert totals["interrupted_turns"] == 0
        child.terminate()
        _, err = child.communicate(timeout=10)
        assert "Too many open files" not in err and "Traceback" not in err
        assert "at most 16 streams at once" in err


async def test_past_the_stream_limit_a_prompt_gets_429_with_retry_after():
    with model_server(pace_s=0.05) as base, api_process(base, "--max-streams", "1") as (url, _):
        async with aiohttp.ClientSession() as http:
            a, b = await create(http, url, 2)
            slow = asyncio.create_task(turn(http, url, a))
            await asyncio.sleep(0.5)
            status, body, _ = await turn(http, url, b)
            assert status == 429 and body["error"]["code"] == "TOO_MANY_STREAMS"
            assert body["retry_after"] == "1"
            status, _, text = await slow
            assert status == 200 and text == REPLY
            status, _, text = await turn(http, url, b)  # the slot is free again
            assert status == 200 and text == REPLY
            async with http.get(f"{url}/v1/sessions/{b}/messages") as response:
                messages = (await response.json())["messages"]
            assert [m["role"] for m in messages] == ["user", "assistant"]  # once, not twice


@contextmanager
def api_as_pid_1(agent: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The API as PID 1 of a fresh PID namespace, as in a container."""
    port = free_port()
    child = subprocess.Popen(
        [
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            sys.executable,
            "-m",
            "tui",
            "api",
            "--agent",
            agent,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, child)
        yield url, child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


@pytest.mark.skipif(os.geteuid() != 0, reason="a new PID namespace needs root")
async def test_a_turn_cut_by_a_kill_as_pid_1_is_recovered_by_the_next_pid_1():
    import sqlite3

    from tui.core.store import default_db_path

    async with aiohttp.ClientSession() as http:
        with api_as_pid_1("tests.fixtures_agents:slow") as (url, child):
            [session] = await create(http, url, 1)
            response = await http.post(
                f"{url}/v1/sessions/{session}/messages", json={"message": "tell me a long story"}
            )
            seen = ""
            while seen.count("text_delta") < 12:
                seen += (await response.content.readany()).decode()
            await asyncio.sleep(0.4)  # the partial reply is saved every 0.25 s
            db = sqlite3.connect(default_db_path())
            [(pid,)] = db.execute("SELECT pid FROM leases").fetchall()
            assert pid == 1
            child.kill()  # SIGKILL to unshare; --kill-child takes PID 1 with it
            child.wait()
            response.close()
            [(status, partial)] = db.execute("SELECT status, reply FROM turns").fetchall()
            assert status == "running" and partial.startswith("word0 word1 word2")
        with api_as_pid_1("tests.fixtures_agents:echo") as (url, _child):
            pids = [row[0] for row in db.execute("SELECT pid FROM leases")]
            assert pids == [1, 1]  # the dead one and the new one: the same PID
            async with http.get(f"{url}/v1/sessions/{session}/messages") as response:
                messages = (await response.json())["messages"]
            assert messages[1]["status"] == "interrupted"
            assert messages[1]["text"] == partial
            status, last, _ = await turn(http, url, session)
            assert status == 200
            model_saw = json.loads(last["data"]["final_response"].removeprefix("SEEN "))
            assert model_saw == [
                "user: tell me a long story",
                f"assistant: {partial}",
                "user: hi",
            ]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def raw_request(port: int, head: str, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer is not None:  # a client that reads nothing fills this and stops
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    sock.sendall(head.encode())
    return sock


def closed_by_server(sock: socket.socket, within_s: float) -> bool:
    """Reads (and throws away) until the server closes the connection."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


async def test_clients_that_stall_are_dropped_and_their_turns_and_memory_let_go():
    """Clients that read nothing of a 1 MB reply, one that sends half its headers a byte
    at a time, one whose body never comes: each is let go of within its deadline, the cut
    turns are stored as interrupted with their partial text, and what a dropped client
    held is given back (a second round of them does not grow the server)."""
    with (
        model_server(size=1_000_000, pace_s=0) as base,
        api_process(
            base, "--headers-timeout", "3", "--body-timeout", "3", "--send-timeout", "3"
        ) as (url, child),
    ):
        port = int(url.rsplit(":", 1)[1])
        async with aiohttp.ClientSession() as http:

            async def streams_open() -> int:
                async with http.get(f"{url}/v1/stats") as response:
                    return int((await response.json())["streams_open"])

            async def stalled_round() -> list[str]:
                sessions = await create(http, url, 3)
                body = json.dumps({"message": "tell me everything"})
                stalled = [
                    raw_request(
                        port,
                        f"POST /v1/sessions/{s}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n{body}",
                        receive_buffer=4096,
                    )
                    for s in sessions
                ]
                await asyncio.sleep(1)
                start = time.monotonic()
                while await streams_open() and time.monotonic() - start < 30:
                    await asyncio.sleep(0.2)
                assert await streams_open() == 0
                for sock in stalled:
                    assert closed_by_server(sock, 10)
                for session_id in sessions:
                    async with http.get(f"{url}/v1/sessions/{session_id}/messages") as response:
                        last = (await response.json())["messages"][-1]
                    assert last["status"] == "interrupted", {
                        k: v for k, v in last.items() if k != "text"
                    }
                    assert 0 < len(last["text"]) < 1_000_000
                return sessions

            dribbler = raw_request(port, "POST /v1/sessions HTTP/1.1\r\nHost: 1")
            half_body = raw_request(
                port,
                "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{",
            )
            for _ in range(5):  # a byte a second: the head never completes
                await asyncio.sleep(1)
                with contextlib.suppress(OSError):
                    dribbler.send(b"2")
            assert closed_by_server(dribbler, 2)
            answer = half_body.recv(4096).decode()
            assert answer.startswith("HTTP/1.1 408") and '"REQUEST_TIMEOUT"' in answer

            await stalled_round()
            after_one = rss_kb(child.pid)
            await stalled_round()
            grown = rss_kb(child.pid) - after_one
            assert grown < 15_000, f"a second round of dropped clients kept {grown} KB more"
            assert await create(http, url, 1)  # and it still serves
        child.terminate()
        _, err = child.communicate(timeout=10)
        assert (
            err.count("dropped a client that took no event")
            + err.count("the client stopped reading")
            >= 6
        )
        assert "Traceback" not in err and "ERROR" not in err


async def test_the_token_from_the_environment_or_a_file_and_no_credentials_kept(tmp_path):
    """The token never needs the command line; credentials inside --base-url reach the
    model server but appear nowhere: not printed, logged, stored or answered."""
    import sqlite3

    from tui.core.store import default_db_path

    secret = "pw-Zq81-secret"
    token = "tok-3c1f9a77e2"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    with model_server() as base:
        with_credentials = base.replace("http://", f"http://alice:{secret}@")
        for args, env in (
            (("--token-file", str(token_file)), {}),
            ((), {"AGENTS_TUI_API_TOKEN": token}),
        ):
            with api_process(with_credentials, *args, env=env) as (url, child):
                cmdline = Path(f"/proc/{child.pid}/cmdline").read_bytes().decode()
                assert token not in cmdline
                async with aiohttp.ClientSession() as http:
                    async with http.post(f"{url}/v1/sessions") as response:
                        assert response.status == 401
                        assert (await response.json())["error"]["code"] == "UNAUTHORIZED"
                    auth = {"Authorization": f"Bearer {token}"}
                    async with http.post(f"{url}/v1/sessions", headers=auth) as response:
                        session_id = (await response.json())["session_id"]
                    async with http.post(
                        f"{url}/v1/sessions/{session_id}/messages",
                        json={"message": "hi"},
                        headers=auth,
                    ) as response:
                        answered = await response.text()
                    assert REPLY.split()[1] in answered  # it reached the model server
                    bodies = [answered]
                    for path in (f"/v1/sessions/{session_id}/messages", "/v1/stats", "/"):
                        async with http.get(f"{url}{path}", headers=auth) as response:
                            bodies.append(await response.text())
                child.terminate()
                out, err = child.communicate(timeout=10)
            printed = out + err
            assert "agents-tui api on" in printed and "127.0.0.1" in printed
            for text in (printed, *bodies):
                assert secret not in text and "alice" not in text and token not in text
        db = default_db_path()
        [(model,)] = set(sqlite3.connect(db).execute("SELECT model FROM conversations"))
        assert model.startswith("http://127.0.0.1:") and "@" not in model
        for stored in db.parent.rglob("*"):
            if stored.is_file():
                raw = stored.read_bytes()
                assert secret.encode() not in raw and token.encode() not in raw, stored


async def test_the_page_is_served_with_a_policy_that_allows_only_itself():
    with model_server() as base, api_process(base) as (url, _):
        async with aiohttp.ClientSession() as http, http.get(f"{url}/") as response:
            html = await response.text()
            headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "script-src 'sha256-" in policy and "'unsafe-inline'" not in policy
        assert "connect-src 'self'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert "<script>" in html


def answer_to(port: int, head: bytes) -> tuple[int, dict, str]:
    """(status, the JSON body or {}, the raw answer) for a request head sent at once."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        with contextlib.suppress(OSError):  # the server may answer and close mid-send
            sock.sendall(head)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                    break
    text = answer.decode("latin-1")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/1.1 ") else 0
    _, _, body = text.partition("\r\n\r\n")
    try:
        payload = json.loads(body) if body.startswith("{") else {}
    except ValueError:
        payload = {}
    return status, payload, text


async def test_the_16_kb_head_limit_holds_however_the_head_arrives():
    """The docs' 16 KB (docs/operations/index.md, "Limits"): a 120 KB header or a 100 KB
    URL (one read each, which h11 never measured) and a 200 KB head (many reads) all get 431
    HEADERS_TOO_LARGE in the API's error shape; a head under the limit is served."""
    with model_server() as base, api_process(base) as (url, child):
        port = int(url.rsplit(":", 1)[1])

        def get(target: str, *headers: str) -> bytes:
            lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close"]
            return ("\r\n".join(lines) + "\r\n\r\n").encode()

        status, _, text = answer_to(port, get("/v1/stats", "X-Pad: " + "a" * 15_000))
        assert status == 200, text[:300]
        for head in (
            get("/v1/stats", "X-Pad: " + "a" * 17_000),
            get("/v1/stats", "X-Pad: " + "a" * 120_000),
            get("/v1/stats?" + "q" * 100_000),
            get("/v1/stats", *(f"X-Pad-{i}: " + "b" * 1000 for i in range(200))),
        ):
            status, payload, text = answer_to(port, head)
            assert status == 431, (len(head), text[:300])
            assert payload["error"]["code"] == "HEADERS_TOO_LARGE", text[:300]
        assert answer_to(port, get("/v1/stats"))[0] == 200  # and it still serves
        assert child.poll() is None


async def test_on_postgresql_no_password_is_printed_and_no_escape_reaches_the_log(postgres_url):
    """The start-up line names the database without its password, whatever form holds it;
    a path with NUL and ESC is logged with both escaped (text and JSON), its failure (if
    any) once, and its request line with the status it was answered."""
    secret = "Pw-startup-41x"
    database = f"{postgres_url}?sslmode=disable&password={secret}"
    path = "/v1/sessions/%00FAKE%1B[2J%C2%9B/messages"
    for log_format in ("text", "json"):
        with (
            model_server() as base,
            api_process(base, "--database", database, "--log-format", log_format) as (url, child),
        ):
            status, _, text = answer_to(
                int(url.rsplit(":", 1)[1]),
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(),
            )
            assert status >= 400, text[:300]
            child.terminate()
            out, err = child.communicate(timeout=10)
        printed = out + err
        assert "agents-tui api on" in printed and "password=***" in printed
        assert secret not in printed
        for raw in ("\x00", "\x1b", "\x9b"):
            assert raw not in err, (log_format, err[-2000:])
        assert err.count("Traceback") <= 1, err
        assert "Exception in ASGI application" not in err
        if log_format == "json":
            lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
            [request] = [e for e in lines if e.get("event") == "request" and "FAKE" in e["path"]]
            assert request["status"] == status, request
