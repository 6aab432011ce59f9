"""What an operator expects of a service, over real HTTP: ``/metrics`` with the process's,
the platform's and the garbage collector's collectors and ``agents_tui_build_info``
(promtool accepts the exposition); traces on the global OpenTelemetry ``TracerProvider``
when one is set (in process, and ``opentelemetry-instrument agents-tui api`` for real), a
request's W3C ``traceparent`` continued by its turn's spans."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.api_process import ECHO, echo_api, isolated_env
from tests.e2e.test_api_limits import wait_for_server
from tests.mcp_servers import free_port
from tui import __version__
from tui.bench.sse import read_events

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"), reason="promtool (Debian's prometheus)"
)


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


@needs_promtool
async def test_metrics_have_the_process_platform_and_gc_collectors_and_the_build(tmp_path: Path):
    async with aiohttp.ClientSession() as http:
        with echo_api(tmp_path) as (url, child):
            async with http.get(f"{url}/metrics") as response:
                assert response.status == 200
                exposition = await response.text()
            own_fds = len(os.listdir(f"/proc/{child.pid}/fd"))
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=exposition, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    got = samples(exposition)
    names = {name for name, _ in got}
    assert got[("agents_tui_build_info", (("version", __version__),))] == 1.0
    # the process's, read from /proc when scraped
    assert abs(got[("process_open_fds", ())] - own_fds) <= 3
    assert got[("process_resident_memory_bytes", ())] > 10_000_000
    assert got[("process_cpu_seconds_total", ())] > 0
    assert got[("process_max_fds", ())] > 0
    assert got[("process_start_time_seconds", ())] > 1_600_000_000
    # the platform's and the garbage collector's
    python = [labels for name, labels in got if name == "python_info"]
    assert len(python) == 1 and dict(python[0])["implementation"] == "CPython"
    for generation in "012":
        assert ("python_gc_collections_total", (("generation", generation),)) in got
    assert {"python_gc_objects_collected_total", "agents_tui_streams_open"} <= names


# --- traces ------------------------------------------------------------------------------------
@pytest.fixture
def global_provider() -> Iterator[Any]:
    """An SDK TracerProvider set as the global one (as ``opentelemetry-instrument`` or a
    host does), its spans kept in memory; the globals put back afterwards."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.util._once import Once

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved
        provider.shutdown()


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


async def test_the_global_provider_gets_the_turns_and_a_traceparent_is_continued(
    api: Any, global_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)  # no exporter of our own: the host's only
    server = api()
    assert server.service.telemetry.tracer is not None
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/v1/sessions") as response:
            session = (await response.json())["session_id"]
        for headers in ({"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}, {}):
            async with http.post(
                f"{server.url}/v1/sessions/{session}/messages",
                json={"message": "trace me"},
                headers=headers,
            ) as response:
                events = await read_events(response)
            assert events[-1]["data"]["status"] == "completed"
    spans = global_provider.get_finished_spans()
    roots = [span for span in spans if span.name.startswith("invoke_agent")]
    assert len(roots) == 2
    joined, alone = roots
    # the first turn continues the caller's trace, under the caller's span
    assert format(joined.context.trace_id, "032x") == TRACE_ID
    assert joined.parent is not None and format(joined.parent.span_id, "016x") == PARENT_ID
    assert joined.parent.is_remote
    # the second (no traceparent) is a trace of its own
    assert alone.parent is None and format(alone.context.trace_id, "032x") != TRACE_ID
    chats = [span for span in spans if span.name.startswith("chat")]
    assert {span.context.trace_id for span in chats} == {
        joined.context.trace_id,
        alone.context.trace_id,
    }
    for chat in chats:  # each model call under its turn's span
        root = joined if chat.context.trace_id == joined.context.trace_id else alone
        assert chat.parent is not None and chat.parent.span_id == root.context.span_id
    assert joined.attributes["gen_ai.conversation.id"] == session
    assert "trace me" not in str([dict(span.attributes) for span in spans])  # no content


def test_without_a_global_provider_nor_the_variables_there_is_no_tracer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.core.observe import telemetry

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(telemetry, "_TRACER_READY", False)
    monkeypatch.setattr(telemetry, "_TRACER", None)
    assert telemetry.global_tracer() is None
    assert telemetry.tracer() is None


INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")


@pytest.mark.skipif(
    not INSTRUMENT.exists() and not os.environ.get("CI"), reason="opentelemetry-distro"
)
async def test_opentelemetry_instrument_agents_tui_api_gets_the_turns(tmp_path: Path) -> None:
    """The auto-instrumentation's provider (console exporter) receives the turn's spans, in
    the trace of the request's ``traceparent``; they are sent when the process stops."""
    port = free_port()
    env = isolated_env(
        tmp_path,
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="agents-tui-instrumented",
    )
    child = subprocess.Popen(
        [str(INSTRUMENT), sys.executable, "-m", "tui", "api", "--agent", ECHO, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, child)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/v1/sessions") as response:
                session = (await response.json())["session_id"]
            async with http.post(
                f"{url}/v1/sessions/{session}/messages",
                json={"message": "instrumented"},
                headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
            ) as response:
                events = await read_events(response)
        assert events[-1]["data"]["status"] == "completed"
        child.send_signal(signal.SIGTERM)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, stderr
    decoder, spans, at = json.JSONDecoder(), [], stdout.find("{")
    while at != -1:  # the console exporter's spans: indented JSON objects, one after another
        span, end = decoder.raw_decode(stdout, at)
        spans.append(span)
        at = stdout.find("{", end)
    [root] = [span for span in spans if span["name"] == "invoke_agent Echo"]
    assert root["context"]["trace_id"] == f"0x{TRACE_ID}"
    assert root["parent_id"] == f"0x{PARENT_ID}"
    assert root["resource"]["attributes"]["service.name"] == "agents-tui-instrumented"
    assert root["attributes"]["gen_ai.conversation.id"] == session
    chats = [span for span in spans if span["name"].startswith("chat")]
    assert chats and all(span["parent_id"] == root["context"]["span_id"] for span in chats)
