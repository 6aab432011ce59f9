"""Monitoring over real HTTP: Prometheus metrics that count exactly what happened, checked
by promtool; the tutorial's alerts fired by promtool's rule tests; OpenTelemetry traces
received and decoded on a local OTLP/HTTP endpoint, and none without the variables."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.test_api_limits import api_process, create, turn
from tests.hostile_server import Behaviour, HostileServer

ROOT = Path(__file__).resolve().parents[2]
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
async def test_metrics_count_what_happened_and_promtool_accepts_them(tmp_path):
    """Four turns on a hostile server: a plain one, one cut mid-stream and recovered, one
    with a tool call, one failing on every attempt (500)."""
    server = HostileServer(
        script=[
            Behaviour("ok"),
            Behaviour("cut", after=5),
            Behaviour("ok"),
            Behaviour("tool", tool=("roll_dice", '{"sides": 6}')),
            Behaviour("ok", text="A 4: you climb."),
            Behaviour("status", status=500),
            Behaviour("status", status=500),
            Behaviour("status", status=500),
        ]
    )
    base = server.start()
    try:
        with api_process(
            base, "--agent", "game-master", "--max-retries", "2", "--stall-timeout", "2"
        ) as (url, _):
            async with aiohttp.ClientSession() as http:
                [session] = await create(http, url, 1)
                ends = [(await turn(http, url, session))[1]["data"]["status"] for _ in range(4)]
                assert ends == ["completed", "completed", "completed", "failed"]
                async with http.get(f"{url}/metrics") as response:
                    assert response.status == 200
                    assert response.headers["content-type"].startswith("text/plain")
                    exposition = await response.text()
                async with http.get(f"{url}/v1/sessions/{session}/messages") as response:
                    stored = (await response.json())["messages"][1::2]
    finally:
        server.stop()
    got = samples(exposition)

    def value(name: str, **labels: str) -> float:
        return got.get((name, tuple(sorted(labels.items()))), 0.0)

    with_first_token = sum(1 for m in stored if m["metrics"].get("time_to_first_token_s"))
    assert with_first_token == 3
    assert value("agents_tui_time_to_first_token_seconds_count") == with_first_token
    assert value("agents_tui_turn_duration_seconds_count") == 4
    assert value("agents_tui_turns_total", status="completed") == 3
    assert value("agents_tui_turns_total", status="failed") == 1
    assert value("agents_tui_tool_calls_total", tool="roll_dice", status="ok") == 1
    assert value("agents_tui_errors_total", kind="network") == 1
    assert value("agents_tui_errors_total", kind="server") == 3
    assert value("agents_tui_retries_total") == 1 + 2
    assert value("agents_tui_recoveries_total") == 1
    assert value("agents_tui_inter_token_latency_seconds_count") > 10
    assert value("agents_tui_streams_open") == 0 and value("agents_tui_sessions_live") == 1
    assert value("agents_tui_approvals_pending") == 0
    assert value("agents_tui_prompts_queued") == 0
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=exposition, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_promtool
def test_the_tutorials_alerts_fire_on_bad_series_and_stay_quiet_on_healthy_ones():
    assert PROMTOOL is not None
    rules = ROOT / "docs" / "prometheus"
    checked = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts_test.yml"], cwd=rules, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout + checked.stderr


class OtlpReceiver:
    """An OTLP/HTTP endpoint on 127.0.0.1 that keeps every trace export it is sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                if self.path == "/v1/traces":
                    receiver.bodies.append(self.rfile.read(size))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[Any]:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        out = []
        for body in self.bodies:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}[
                    "service.name"
                ]
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        out.append((service, span))
        return out


def attributes(span: Any) -> dict[str, Any]:
    out = {}
    for a in span.attributes:
        value = a.value
        out[a.key] = (
            value.string_value
            if value.HasField("string_value")
            else value.int_value
            if value.HasField("int_value")
            else value.double_value
            if value.HasField("double_value")
            else value.bool_value
        )
    return out


def run_cli(base: str, prompt: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "run",
            "--agent",
            "game-master",
            "--base-url",
            base,
            "--model",
            "hostile-gm",
            prompt,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_a_game_master_turn_is_one_trace_with_its_model_and_tool_spans():
    receiver = OtlpReceiver()
    server = HostileServer(
        script=[
            Behaviour("tool", tool=("roll_dice", '{"sides": 20}')),
            Behaviour("ok", text="A 17: you climb the cliff."),
            Behaviour("ok", text="Nothing to trace."),
        ]
    )
    base = server.start()
    try:
        done = run_cli(
            base,
            "roll a d20 for the climb",
            {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "gm-table"},
        )
        assert done.returncode == 0, done.stderr
        spans = receiver.spans()
        assert {service for service, _ in spans} == {"gm-table"}
        assert len({span.trace_id for _, span in spans}) == 1  # one trace for the turn
        by_op = {}
        for _, span in spans:
            by_op.setdefault(attributes(span)["gen_ai.operation.name"], []).append(span)
        [root] = by_op["invoke_agent"]
        chats = by_op["chat"]
        [tool] = by_op["execute_tool"]
        assert len(chats) == 2  # the call that asked for the tool, the one that narrated
        for chat in chats:
            assert attributes(chat)["gen_ai.request.model"] == "hostile-gm"
            assert chat.parent_span_id == root.span_id
        # the server reports usage with the narration (not with the tool call)
        narration = max(chats, key=lambda span: span.start_time_unix_nano)
        assert attributes(narration)["gen_ai.usage.output_tokens"] > 0
        assert attributes(narration)["gen_ai.usage.input_tokens"] > 0
        seen = attributes(tool)
        assert seen["gen_ai.tool.name"] == "roll_dice"
        assert seen["gen_ai.tool.call.id"] == "call_h1"
        assert tool.parent_span_id == root.span_id
        top = attributes(root)
        assert top["agents_tui.turn.status"] == "completed"
        assert top["agents_tui.time_to_first_token_s"] > 0
        assert root.start_time_unix_nano <= tool.start_time_unix_nano
        assert tool.end_time_unix_nano <= root.end_time_unix_nano
        # without the variables nothing is sent
        sent = len(receiver.bodies)
        quiet = run_cli(base, "and now?", {})
        assert quiet.returncode == 0, quiet.stderr
        assert len(receiver.bodies) == sent
    finally:
        server.stop()


async def test_json_logs_have_a_line_per_request_and_turn_and_no_prompt_unless_asked():
    prompt = "my secret plan is to climb at dawn"
    for content in (False, True):
        server = HostileServer(script=[Behaviour("cut", after=5), Behaviour("ok")])
        base = server.start()
        extra = ("--log-content",) if content else ()
        try:
            with api_process(base, "--log-format", "json", "--max-retries", "2", *extra) as (
                url,
                child,
            ):
                async with aiohttp.ClientSession() as http:
                    [session] = await create(http, url, 1)
                    async with http.post(
                        f"{url}/v1/sessions/{session}/messages", json={"message": prompt}
                    ) as response:
                        request_id = response.headers["X-Request-Id"]
                        await response.read()
                child.terminate()
                _, err = child.communicate(timeout=10)
        finally:
            server.stop()
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
        [request] = [x for x in lines if x.get("request_id") == request_id]
        assert request["event"] == "request" and request["status"] == 200
        assert request["session"] == session and request["duration_ms"] > 0
        [retry] = [x for x in lines if x.get("event") == "retry"]
        assert retry["kind"] == "network" and retry["attempt"] == 2  # the next attempt
        assert retry["max_attempts"] == 3
        [finished] = [x for x in lines if x.get("event") == "turn_finished"]
        assert finished["session"] == session and finished["status"] == "completed"
        assert finished["errors_by_kind"] == {"network": 1} and finished["recovered"] is True
        assert finished["retries"] == 1 and finished["turn"] >= 1
        assert (prompt in err) is content
