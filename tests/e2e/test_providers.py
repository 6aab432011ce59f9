"""Models the SDK routes by prefix, reached over real HTTP: ``any-llm/anthropic/…`` and
``litellm/anthropic/…`` against a loopback server speaking Anthropic's Messages streaming
protocol (tests/anthropic_server.py), through the real any-llm (on Anthropic's SDK) and
LiteLLM, the app's core, ``agents-tui run`` and the TUI."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.anthropic_server import MODEL, AnthropicServer, Reply
from tui.core.config import load_settings
from tui.core.models.providers import ProviderError, choose_backend
from tui.headless import run_turn_headless

ROOT = Path(__file__).resolve().parents[2]
ROUTED = f"any-llm/anthropic/{MODEL}"
KEY = "sk-ant-loopback-5e3f9"

for module, extra in (("any_llm", "providers"), ("litellm", "litellm")):
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):  # in CI a missing real part fails, never skips
            raise pytest.UsageError(f"CI: {module} is missing: pip install -e '.[{extra}]'")
        pytest.skip(f"needs pip install -e '.[{extra}]'", allow_module_level=True)


@pytest.fixture(params=["any-llm", "litellm"])
def routed(request: pytest.FixtureRequest) -> str:
    """The model name, through each router the SDK has."""
    return f"{request.param}/anthropic/{MODEL}"


@pytest.fixture
def anthropic():
    servers: list[AnthropicServer] = []

    def make(*script: Reply, **options: object) -> tuple[AnthropicServer, str]:
        server = AnthropicServer(script=list(script), **options)  # type: ignore[arg-type]
        servers.append(server)
        return server, server.start()

    yield make
    for server in servers:
        server.stop()


async def turn(
    url: str, prompt: str = "hello", model: str = ROUTED, **flags: object
) -> tuple[int, list[dict]]:
    settings = {"model": model, "base_url": url, "api_key": KEY, "stall_timeout": 5.0}
    settings.update(seed=0, **flags)
    out = io.StringIO()
    code = await run_turn_headless(
        load_settings(settings, environ={}), prompt, jsonl=True, out=out, session_id="routed"
    )
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def of(events: list[dict], kind: str) -> list[dict]:
    return [e["data"] for e in events if e["type"] == kind]


def test_a_routed_model_is_chosen_by_its_prefix_and_keeps_openais_key_to_itself():
    env = {"OPENAI_API_KEY": "sk-openai-1234", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    settings = load_settings({"model": ROUTED, "base_url": "http://127.0.0.1:9"}, environ={})
    backend = choose_backend(settings, environ=env)
    assert backend.kind == "routed"
    assert backend.api_key is None  # the provider reads ANTHROPIC_API_KEY itself
    assert backend.label == f"http://127.0.0.1:9 · {ROUTED}"
    with pytest.raises(ProviderError, match="leave out --provider openai"):
        choose_backend(load_settings({"model": ROUTED, "provider": "openai"}, environ={}))


async def test_a_reply_streams_with_its_usage(anthropic, routed):
    server, url = anthropic(Reply(text="Hello from Claude, over the loopback."))
    code, events = await turn(url, model=routed)
    assert code == 0
    deltas = of(events, "text_delta")
    assert len(deltas) > 3  # streamed, not one block
    assert "".join(d["delta"] for d in deltas) == "Hello from Claude, over the loopback."
    done = of(events, "response_complete")[0]
    assert done["status"] == "completed"
    assert done["usage"]["input_tokens"] == server.input_tokens
    assert done["usage"]["output_tokens"] == len(deltas)  # message_delta's usage
    assert done["metrics"]["time_to_first_token_s"] > 0
    # The Anthropic SDK's own request: the Messages API, streaming, the key in its header.
    request = server.requests[0]
    assert request["model"] == MODEL and request["stream"] is True
    last = request["messages"][-1]
    assert last["role"] == "user" and "hello" in json.dumps(last["content"])
    assert server.headers[0]["x-api-key"] == KEY


async def test_a_game_master_tool_call_streams_its_arguments_and_returns_its_result(
    anthropic, routed
):
    server, url = anthropic(Reply(text="Rolling.", tool=("roll_dice", {"sides": 20})))
    code, events = await turn(url, "roll a d20", model=routed, agent="game-master")
    assert code == 0
    (started,) = of(events, "tool_start")
    assert started["tool_name"] == "roll_dice"
    assert json.loads(started["arguments"]) == {"sides": 20}  # sent as input_json_delta
    (finished,) = of(events, "tool_complete")
    assert not finished["failed"] and 1 <= int(finished["tool_output"]) <= 20
    # The result went back to the model as a tool_result, and its answer closed the turn.
    second = server.requests[1]["messages"][-1]["content"][0]
    assert second["type"] == "tool_result" and second["tool_use_id"] == started["call_id"]
    done = of(events, "response_complete")[0]
    assert done["final_response"].endswith("The tool said: " + finished["tool_output"])
    assert done["metrics"]["tool_calls"] == 1 and done["metrics"]["model_calls"] == 2
    assert done["usage"]["input_tokens"] == 2 * server.input_tokens


async def test_a_cut_stream_is_continued_to_exactly_the_full_reply(anthropic, routed):
    full = "A reply long enough to be cut in the middle of a word, and then continued."
    server, url = anthropic(Reply(text=full, cut_after=4))
    code, events = await turn(url, model=routed)
    assert code == 0
    assert "".join(d["delta"] for d in of(events, "text_delta")) == full
    (retry,) = of(events, "retry")
    # any-llm: caught by its missing finish reason; LiteLLM says so itself (a 500)
    assert retry["code"] in ("network", "server")
    assert of(events, "response_complete")[0]["final_response"] == full
    assert len(server.requests) == 2  # the turn's retry only: the client's own retries are off


async def test_an_overloaded_server_is_retried_by_the_turn_not_the_client(anthropic, routed):
    server, url = anthropic(Reply(status=529), Reply(text="Back again."))
    code, events = await turn(url, model=routed)
    assert code == 0
    assert of(events, "response_complete")[0]["final_response"] == "Back again."
    assert len(server.requests) == 2 and len(of(events, "retry")) == 1


def agents_tui(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**base, **env},
    )


def test_agents_tui_run_reaches_it_with_the_providers_own_key_variable(anthropic):
    server, url = anthropic(Reply(text="Hi from the command line."))
    done = agents_tui(
        "run", "--model", ROUTED, "--base-url", url, "hi", env={"ANTHROPIC_API_KEY": KEY}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hi from the command line."
    assert server.headers[0]["x-api-key"] == KEY


def test_agents_tui_run_jsonl_shows_the_tool_call_and_usage(anthropic):
    _server, url = anthropic(Reply(text="Rolling.", tool=("roll_dice", {"sides": 6})))
    done = agents_tui(
        "run",
        "--jsonl",
        "--agent",
        "game-master",
        "--model",
        ROUTED,
        "--base-url",
        url,
        "roll",
        env={"ANTHROPIC_API_KEY": KEY},
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["tool_name"] for e in of(events, "tool_start")] == ["roll_dice"]
    assert of(events, "response_complete")[0]["usage"]["output_tokens"] > 0


def test_a_missing_key_says_which_variable_to_set(anthropic):
    _server, url = anthropic()
    done = agents_tui("run", "--model", ROUTED, "--base-url", url, "hi", env={})
    assert done.returncode == 1
    assert "ANTHROPIC_API_KEY" in done.stderr and "Traceback" not in done.stderr


async def test_the_tui_shows_the_routed_models_reply_tool_call_and_usage(anthropic):
    from tests.app.helpers import pane_text, send, wait_idle
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.core.models.providers import build_runner
    from tui.widgets.assistant_message import AssistantMessage

    server, url = anthropic(Reply(text="Rolling.", tool=("roll_dice", {"sides": 20})))
    settings = Settings(agent="game-master", model=ROUTED, base_url=url, api_key=KEY, seed=0)
    runner, backend = build_runner(settings)
    app = AgentsTuiApp(settings, runner=runner, backend_label=backend.label)
    async with app.run_test(size=(160, 45)) as pilot:
        await send(pilot, "roll a d20")
        await wait_idle(pilot, timeout=30)
        reply = app.query_one(AssistantMessage)
        assert reply.status == "completed"
        assert reply.source.startswith("Rolling.") and "The tool said: " in reply.source
        assert "roll_dice" in pane_text(app, app.timeline)
        session = app.session_metrics
        assert session.errors == 0 and session.retries == 0
    assert len(server.requests) == 2
    assert backend.label == f"{url} · {ROUTED}"


def test_agents_tui_models_lists_what_is_configured_and_what_answers(anthropic):
    from tests.hostile_server import HostileServer

    _server, url = anthropic()
    compat = HostileServer()
    compat_url = compat.start()
    try:
        done = agents_tui(
            "models",
            "--json",
            "--model",
            ROUTED,
            "--base-url",
            url,
            env={"ANTHROPIC_API_KEY": KEY, "OPENAI_BASE_URL": compat_url},
        )
        server = agents_tui("models", "--base-url", compat_url, env={})
    finally:
        compat.stop()
    assert done.returncode == 0, done.stderr
    found = {reach["name"]: reach for reach in json.loads(done.stdout)}
    assert found["any-llm/anthropic"]["reachable"] is True
    assert found["any-llm/anthropic"]["models"] == [MODEL]
    assert found["OpenAI"]["configured"] is None
    assert found["OpenAI"]["detail"] == "set OPENAI_API_KEY"
    assert found["litellm/"]["configured"] == "installed"
    assert KEY not in done.stdout + done.stderr
    assert server.returncode == 0, server.stderr
    line = next(x for x in server.stdout.splitlines() if "server http://127.0.0.1" in x)
    assert line.startswith("ok ") and "1 model: hostile" in line
