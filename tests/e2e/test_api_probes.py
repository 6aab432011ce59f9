"""``GET /healthz`` and ``GET /readyz`` over real HTTP: both answer without the token (a load
balancer's probes) but only on the server's host names; ``/readyz`` says 503 ``NOT_READY``
with ``Retry-After`` and a reason naming nothing secret when the store does not answer or
no model backend is configured, on SQLite and on a PostgreSQL that is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest

from tests.e2e.test_api_limits import wait_for_server
from tests.mcp_servers import free_port

ECHO = "tui.bench.scale_agent:echo"


async def probe(http: aiohttp.ClientSession, url: str, **kwargs) -> tuple[int, Any, dict]:
    async with http.get(url, **kwargs) as response:
        return response.status, response.headers.copy(), await response.json()


async def test_probes_answer_without_the_token_but_only_on_the_servers_host_names(api):
    server = api(token="s3cret")
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/readyz"):
            status, headers, body = await probe(http, f"{server.url}{path}")
            assert (status, body) == (200, {"status": "ok"}), path
            assert headers["content-type"].startswith("application/json")
            status, _, body = await probe(http, f"{server.url}{path}", headers={"Host": "evil"})
            assert status == 421 and body["error"]["code"] == "HOST_NOT_ALLOWED"
        # the token still guards everything else
        status, _, _ = await probe(http, f"{server.url}/v1/agents")
        assert status == 401


async def test_readyz_is_503_with_a_reason_when_the_store_or_the_backend_is_not_there(api):
    server = api()
    service = server.service
    assert service is not None
    async with aiohttp.ClientSession() as http:
        label = service.model_label
        service.model_label = ""
        try:
            status, headers, body = await probe(http, f"{server.url}/readyz")
        finally:
            service.model_label = label
        assert status == 503 and headers["Retry-After"] == "1"
        assert body == {"error": {"code": "NOT_READY", "message": "no model backend is configured"}}
        store = service.store
        real = store._db

        class Broken:
            def execute(self, *_args):
                raise OSError("connection to 10.0.0.7 with password hunter2 lost")

        store._db = Broken()
        try:
            status, headers, body = await probe(http, f"{server.url}/readyz")
            health, _, _ = await probe(http, f"{server.url}/healthz")
        finally:
            store._db = real
        assert status == 503 and headers["Retry-After"] == "1"
        assert body["error"] == {"code": "NOT_READY", "message": "the store does not answer"}
        assert health == 200  # the process answers all the same
        status, _, body = await probe(http, f"{server.url}/readyz")
        assert (status, body) == (200, {"status": "ok"})


async def test_readyz_is_503_while_postgresql_is_stopped(tmp_path):
    """One process on its own PostgreSQL: ready (store, lease, LISTEN connection heard);
    the server stopped: 503 within seconds, /healthz still 200."""
    from tui.bench.pg import new_database, pg_bin, postgres_server

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    with contextlib.ExitStack() as server_stack:
        base = server_stack.enter_context(postgres_server())
        database = new_database(base)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "api",
                "--agent",
                ECHO,
                "--port",
                str(port),
                "--database",
                database,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_server(url, child)
            async with aiohttp.ClientSession() as http:
                status, _, body = await probe(http, f"{url}/readyz")
                assert (status, body) == (200, {"status": "ok"})
                server_stack.close()  # PostgreSQL stops
                deadline = time.monotonic() + 15
                while True:
                    status, headers, body = await probe(
                        http, f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=10)
                    )
                    if status == 503 or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
                assert status == 503, body
                assert body["error"]["code"] == "NOT_READY"
                assert "127.0.0.1" not in body["error"]["message"]
                assert int(headers["Retry-After"]) >= 1
                status, _, body = await probe(http, f"{url}/healthz")
                assert (status, body) == (200, {"status": "ok"})
        finally:
            child.terminate()
            try:
                child.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
