"""The app's processes leave openai's aiohttp transport unimported (about 7 MB resident),
and the SDK still talks to a real OpenAI-compatible server over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tui.bench.server_stream import fast_server

PROBE = """
import asyncio, json, sys
from tui.core.models import openai_workarounds
installed = openai_workarounds.install()
from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
from openai import AsyncOpenAI

set_tracing_disabled(True)

async def main():
    client = AsyncOpenAI(base_url=sys.argv[1], api_key="x")
    agent = Agent(name="a", model=OpenAIChatCompletionsModel("bench", client))
    result = Runner.run_streamed(agent, "hello")
    async for _ in result.stream_events():
        pass
    return result.final_output

text = asyncio.run(main())
print(json.dumps({"installed": installed, "aiohttp": "aiohttp" in sys.modules, "text": text}))
"""


def _probe(url: str, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_run_over_real_http_works_without_importing_aiohttp() -> None:
    with fast_server(40) as url:
        kept = _probe(url)
        asked = _probe(url, AGENTS_TUI_OPENAI_AIOHTTP="on")
    assert kept["installed"] is True
    assert kept["aiohttp"] is False
    assert isinstance(kept["text"], str) and len(kept["text"]) == 40
    # the way out keeps openai's own behaviour: its transport (and aiohttp) imported
    assert asked["installed"] is False
    assert asked["aiohttp"] is True
    assert asked["text"] == kept["text"]


def test_the_cli_installs_it_before_openai_is_imported() -> None:
    code = (
        "import contextlib, sys; from tui.cli import main\n"
        "with contextlib.suppress(SystemExit): main(['--version'])\n"
        "import agents\n"
        "print('aiohttp' in sys.modules, sys.modules.get('openai._vendor.httpx_aiohttp', 0))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "False None"
