"""What leaves the process for operators' tools: Prometheus metrics, OpenTelemetry traces,
structured log lines. Fed by the conversation's events (``Conversation.wrap``), the same
ones the journal stores and the screen draws, so every front end (TUI, ``run``, API)
reports the same way.

- **Metrics** (``prometheus-client``, names prefixed ``agents_tui_``) are kept in a
  ``Telemetry`` with a registry: the API exposes its own at ``GET /metrics``, with the
  process's (open files, memory, CPU), the platform's and the garbage collector's, and
  ``agents_tui_build_info{version}``.
- **Traces** go to the global OpenTelemetry ``TracerProvider`` when one is set (a host's,
  or ``opentelemetry-instrument agents-tui api``'s); else out only when the standard
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set (OTLP
  over HTTP/protobuf, a provider of our own); nothing is exported, and no network
  touched, otherwise. A turn's trace continues the context it was asked in (the API: a
  request's W3C ``traceparent``). One trace per turn: an ``invoke_agent`` span
  with a ``chat`` span per model call and an ``execute_tool`` span per tool call, following
  the OpenTelemetry GenAI semantic conventions, with agents-tui's measures as attributes.
  The spans are built from the turn's events when it ends (times are the events' own), not
  from the SDK's tracing: that pipeline exports to OpenAI's backend unless its processors
  are replaced, and it knows nothing of time to first token, retries or approval waits.
- **Log lines**: ``turn_log`` is the turn's structured summary (``--log-format json``).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from tui.core import events as ev
from tui.core.observe.metrics import (
    MetricsSummary,
    TurnMetrics,
    decode_rate_of,
    error_rate_of,
    tutorial_rate_of,
)

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Tracer
    from opentelemetry.util.types import AttributeValue
    from prometheus_client import Metric

log = logging.getLogger("agents_tui.turns")

TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
RATE_BUCKETS = (1.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0)
DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
MAX_GAPS_PER_TURN = 2_000  # inter-token gaps observed per turn (evenly sampled past it)
ITL_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class _CacheStats(Protocol):
    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def entries(self) -> int: ...
    @property
    def bytes(self) -> int: ...


class CacheCounts(Protocol):
    """What ``/metrics`` reads of the response cache (``tui.core.turn.cache.ResponseCache``)."""

    def stats(self) -> _CacheStats: ...


class _Journal(Protocol):
    @property
    def last_turn_id(self) -> int | None: ...


class Observed(Protocol):
    """What telemetry reads of a conversation (``tui.core.turn.conversation.Conversation``):
    its id and model, the turn's metrics, and the store's id of the turn that ended."""

    @property
    def id(self) -> str: ...
    @property
    def model_label(self) -> str: ...
    @property
    def metrics(self) -> TurnMetrics | None: ...
    @property
    def journal(self) -> _Journal: ...


@dataclass(slots=True)
class _Call:
    start_ns: int
    end_ns: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(slots=True)
class _Tool:
    name: str
    call_id: str
    start_ns: int
    source: str
    end_ns: int | None = None
    failed: bool = False


@dataclass(slots=True)
class _Turn:
    agent: str
    start_ns: int
    prompt: str = ""
    calls: list[_Call] = field(default_factory=list)
    tools: dict[str, _Tool] = field(default_factory=dict)
    parent: Context | None = None  # the OpenTelemetry context the turn was asked in


class Metrics:
    """The Prometheus metrics of one process (or one API service), in their own registry."""

    def __init__(self) -> None:
        from prometheus_client import (
            GC_COLLECTOR,
            PLATFORM_COLLECTOR,
            PROCESS_COLLECTOR,
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            Info,
        )

        from tui import __version__

        self.registry = CollectorRegistry()
        r = self.registry
        # what operators expect of any process: process_* (open files, memory, CPU),
        # python_info, python_gc_*; the collectors read /proc and gc when scraped
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(collector)
        Info("agents_tui_build", "This build of agents-tui", registry=r).info(
            {"version": __version__}
        )
        self.ttft = Histogram(
            "agents_tui_time_to_first_token_seconds",
            "Time from the prompt to the first streamed token",
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.rate = Histogram(  # the tutorial's tokens/s: its 10 tokens/s alert reads it
            "agents_tui_tokens_per_second",
            "Streamed tokens over the time since the request (the tutorial's tokens/s), per turn",
            buckets=RATE_BUCKETS,
            registry=r,
        )
        self.decode_rate = Histogram(
            "agents_tui_decode_tokens_per_second",
            "Streamed tokens per second while the model streams (the decode rate), per turn",
            buckets=RATE_BUCKETS,
            registry=r,
        )
        self.duration = Histogram(
            "agents_tui_turn_duration_seconds",
            "A turn from the prompt to its end",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.itl = Histogram(
            "agents_tui_inter_token_latency_seconds",
            "Gaps between streamed tokens (at most 2,000 a turn, evenly sampled)",
            buckets=ITL_BUCKETS,
            registry=r,
        )
        self.turns = Counter("agents_tui_turns", "Turns by how they ended", ["status"], registry=r)
        self.tool_calls = Counter(
            "agents_tui_tool_calls", "Tool calls by tool and result", ["tool", "status"], registry=r
        )
        self.errors = Counter("agents_tui_errors", "Failures by kind", ["kind"], registry=r)
        self.events = Counter(  # the monitor's error rate: errors over events
            "agents_tui_stream_events", "Events the turns streamed", registry=r
        )
        self.retries = Counter("agents_tui_retries", "Attempts made again", registry=r)
        self.recoveries = Counter(
            "agents_tui_recoveries", "Turns that completed after a failure", registry=r
        )
        self.input_tokens = Counter("agents_tui_input_tokens", "Input tokens", registry=r)
        self.output_tokens = Counter("agents_tui_output_tokens", "Output tokens", registry=r)
        self.approvals = Counter(
            "agents_tui_approvals", "Tool approvals by decision", ["decision"], registry=r
        )
        self._gauge = Gauge

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge read when scraped (live sessions, open streams...)."""
        self._gauge(name, documentation, registry=self.registry).set_function(read)

    def watch_cache(self, cache: CacheCounts) -> None:
        """The response cache's figures (``--cache-ttl``, ``tui.core.turn.cache``), read
        when scraped: ``agents_tui_response_cache_hits_total`` (turns answered from it),
        ``agents_tui_response_cache_misses_total`` (first prompts of fresh sessions it did
        not hold), its ``_entries`` and ``_bytes``."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
        from prometheus_client.registry import Collector

        class CacheCollector(Collector):
            def collect(self) -> Iterator[Metric]:
                now = cache.stats()
                prefix = "agents_tui_response_cache"
                yield CounterMetricFamily(
                    f"{prefix}_hits", "Turns answered from the response cache", value=now.hits
                )
                yield CounterMetricFamily(
                    f"{prefix}_misses",
                    "First prompts of fresh sessions the response cache did not hold",
                    value=now.misses,
                )
                yield GaugeMetricFamily(
                    f"{prefix}_entries", "Replies in the response cache", value=now.entries
                )
                yield GaugeMetricFamily(
                    f"{prefix}_bytes", "Text held by the response cache", value=now.bytes
                )

        self.registry.register(CacheCollector())

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


class Telemetry:
    """Observes conversations' events; keeps metrics (if asked) and sends traces (if set)."""

    def __init__(self, *, metrics: bool = False, log_content: bool = False) -> None:
        self.metrics = Metrics() if metrics else None
        self.tracer = tracer()
        self.log_content = log_content
        self._turns: dict[str, _Turn] = {}
        self._clock_offset_ns = time.time_ns() - time.perf_counter_ns()

    @property
    def active(self) -> bool:
        return self.metrics is not None or self.tracer is not None or log.isEnabledFor(logging.INFO)

    def observe(self, conversation: Observed, event: ev.RunEvent) -> None:
        """One event of ``conversation`` (after the journal has seen it)."""
        if isinstance(event, ev.TextDelta):
            return  # the hot path: counted by the turn's metrics, not here
        key = str(conversation.id)
        if isinstance(event, ev.TurnStarted):
            parent = _current_context() if self.tracer is not None else None
            self._turns[key] = _Turn(event.agent, event.at_ns, event.prompt, parent=parent)
            return
        turn = self._turns.get(key)
        if turn is None:
            return
        if isinstance(event, ev.ModelCallStarted):
            if turn.calls and turn.calls[-1].end_ns is None:
                turn.calls[-1].end_ns = event.at_ns
            turn.calls.append(_Call(event.at_ns))
        elif isinstance(event, ev.UsageReported) and turn.calls:
            turn.calls[-1].input_tokens += event.input_tokens
            turn.calls[-1].output_tokens += event.output_tokens
        elif isinstance(event, ev.ToolCallIssued):
            if turn.calls and turn.calls[-1].end_ns is None:
                turn.calls[-1].end_ns = event.at_ns
            turn.tools[event.call_id] = _Tool(event.name, event.call_id, event.at_ns, event.source)
        elif isinstance(event, ev.ToolCallFinished):
            tool = turn.tools.get(event.call_id)
            if tool is not None:
                tool.end_ns, tool.failed = event.at_ns, event.failed
        elif isinstance(event, ev.RetryScheduled) and log.isEnabledFor(logging.INFO):
            log.info(
                "retry %d/%d after %s",
                event.attempt,
                event.max_attempts,
                event.error_kind,
                extra={
                    "fields": {
                        "event": "retry",
                        "session": key,
                        "attempt": event.attempt,
                        "max_attempts": event.max_attempts,
                        "kind": event.error_kind,
                        "delay_s": event.delay_s,
                    }
                },
            )
        elif isinstance(event, ev.ApprovalResolved) and self.metrics is not None:
            self.metrics.approvals.labels("approved" if event.approved else "rejected").inc()
        elif isinstance(event, ev.TurnFinished):
            del self._turns[key]
            numbers = conversation.metrics  # the turn's TurnMetrics
            summary = numbers.summary(event.at_ns) if numbers is not None else MetricsSummary()
            gaps = list(numbers.gaps_s) if numbers is not None else []
            self._count(turn, summary, gaps)
            if self.tracer is not None:
                self._trace(conversation, turn, event, summary)
            self._log(conversation, turn, event, summary)

    # --- metrics ----------------------------------------------------------------------------
    def _count(self, turn: _Turn, summary: MetricsSummary, gaps: list[float]) -> None:
        m = self.metrics
        if m is None:
            return
        status = str(summary.get("status") or "unknown")
        m.turns.labels(status).inc()
        ttft, rate, decode, elapsed = (
            summary.get("time_to_first_token_s"),
            tutorial_rate_of(summary),
            decode_rate_of(summary),
            summary.get("elapsed_s"),
        )
        if ttft:
            m.ttft.observe(float(ttft))
        if rate:
            m.rate.observe(rate)
        if decode:
            m.decode_rate.observe(decode)
        m.events.inc(int(summary.get("events") or 0))
        if elapsed is not None:
            m.duration.observe(float(elapsed))
        step = max(1, len(gaps) // MAX_GAPS_PER_TURN)  # a 1 MB reply has 180,000 gaps
        for gap in gaps[::step]:
            m.itl.observe(gap)
        for kind, count in (summary.get("errors_by_kind") or {}).items():
            m.errors.labels(kind).inc(int(count))
        retries = summary.get("retries")
        if retries:
            m.retries.inc(int(retries))
        if summary.get("errors") and status == "completed":
            m.recoveries.inc()
        m.input_tokens.inc(int(summary.get("input_tokens") or 0))
        m.output_tokens.inc(int(summary.get("output_tokens") or 0))
        for tool in turn.tools.values():
            result = "failed" if tool.failed else "ok" if tool.end_ns is not None else "unfinished"
            m.tool_calls.labels(tool.name, result).inc()

    # --- traces -----------------------------------------------------------------------------
    def _ns(self, perf_ns: int) -> int:
        return perf_ns + self._clock_offset_ns

    def _trace(
        self, conversation: Observed, turn: _Turn, end: ev.TurnFinished, summary: MetricsSummary
    ) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        model = model_name(conversation.model_label)
        tracer = self.tracer
        assert tracer is not None
        root = tracer.start_span(
            f"invoke_agent {turn.agent}",
            context=turn.parent,  # a request's traceparent: the turn joins its trace
            start_time=self._ns(turn.start_ns),
            attributes=_clean(
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": turn.agent,
                    "gen_ai.request.model": model,
                    "gen_ai.conversation.id": str(conversation.id),
                    "gen_ai.usage.input_tokens": summary.get("input_tokens"),
                    "gen_ai.usage.output_tokens": summary.get("output_tokens"),
                    "agents_tui.turn.status": end.status,
                    "agents_tui.time_to_first_token_s": summary.get("time_to_first_token_s"),
                    "agents_tui.tokens_per_second": tutorial_rate_of(summary),
                    "agents_tui.decode_tokens_per_second": decode_rate_of(summary),
                    "agents_tui.error_rate": error_rate_of(summary),
                    "agents_tui.retries": summary.get("retries"),
                    "agents_tui.errors": summary.get("errors"),
                    "agents_tui.approval_wait_s": summary.get("approval_wait_s"),
                    "agents_tui.cached": summary.get("cached"),
                    "agents_tui.streamed_tokens": summary.get("streamed_tokens"),
                }
            ),
        )
        if end.status == "failed":
            root.set_status(Status(StatusCode.ERROR, end.error or ""))
            if end.error_kind:
                root.set_attribute("error.type", end.error_kind)
        context = trace.set_span_in_context(root)
        for call in turn.calls:
            span = tracer.start_span(
                f"chat {model}",
                context=context,
                start_time=self._ns(call.start_ns),
                attributes=_clean(
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": model,
                        "gen_ai.usage.input_tokens": call.input_tokens or None,
                        "gen_ai.usage.output_tokens": call.output_tokens or None,
                    }
                ),
            )
            span.end(end_time=self._ns(call.end_ns or end.at_ns))
        for tool in turn.tools.values():
            span = tracer.start_span(
                f"execute_tool {tool.name}",
                context=context,
                start_time=self._ns(tool.start_ns),
                attributes=_clean(
                    {
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": tool.name,
                        "gen_ai.tool.call.id": tool.call_id,
                        "gen_ai.tool.type": "extension" if tool.source else "function",
                    }
                ),
            )
            if tool.failed:
                span.set_status(Status(StatusCode.ERROR))
            span.end(end_time=self._ns(tool.end_ns or end.at_ns))
        root.end(end_time=self._ns(end.at_ns))

    # --- logs -------------------------------------------------------------------------------
    def _log(
        self, conversation: Observed, turn: _Turn, end: ev.TurnFinished, summary: MetricsSummary
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        fields: dict[str, object] = {
            "event": "turn_finished",
            "session": str(conversation.id),
            "turn": conversation.journal.last_turn_id,
            "status": end.status,
            "duration_s": summary.get("elapsed_s"),
            "ttft_s": summary.get("time_to_first_token_s"),
            "tokens_per_second": tutorial_rate_of(summary),
            "decode_tokens_per_second": decode_rate_of(summary),
            "error_rate": round(error_rate_of(summary), 6),
            "retries": summary.get("retries"),
            "errors_by_kind": summary.get("errors_by_kind") or {},
            "recovered": bool(summary.get("errors")) and end.status == "completed",
            "cached": bool(summary.get("cached")),  # replayed from the response cache
        }
        if end.status != "completed" and end.error_kind:
            fields["error_kind"] = end.error_kind
        if self.log_content:  # --log-content: what was said, too
            fields["prompt"] = turn.prompt
            fields["reply"] = end.final_text
        log.info("turn %s", end.status, extra={"fields": fields})


def model_name(label: str) -> str:
    """``http://host/v1 · gpt-x`` -> ``gpt-x``; ``local · SmolLM2`` -> ``SmolLM2``."""
    return label.rsplit(" · ", 1)[-1] if label else ""


def _clean(attributes: dict[str, AttributeValue | None]) -> dict[str, AttributeValue]:
    return {k: v for k, v in attributes.items() if v is not None and v != ""}


_TRACER: Tracer | None = None
_TRACER_READY = False
_TRACER_LOCK = threading.Lock()


def _current_context() -> Context:
    from opentelemetry import context

    return context.get_current()


def global_tracer() -> Tracer | None:
    """A tracer of the global TracerProvider if one is set (by a host, or by
    ``opentelemetry-instrument``); None otherwise, and OpenTelemetry is not imported
    when nothing imported it before."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None  # nobody set one
    from tui import __version__

    return provider.get_tracer("agents-tui", __version__)


def tracer() -> Tracer | None:
    """The global TracerProvider's tracer when one is set; else the OTLP tracer when the
    standard variables ask for one; None otherwise (and then no OpenTelemetry SDK is even
    imported)."""
    found = global_tracer()
    if found is not None:
        return found
    global _TRACER, _TRACER_READY
    with _TRACER_LOCK:
        if _TRACER_READY:
            return _TRACER
        _TRACER_READY = True
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        if not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return None
        protocol = os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
        )
        if protocol and protocol != "http/protobuf":
            logging.getLogger("agents_tui").warning(
                "OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported; traces go over http/protobuf",
                protocol,
            )
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            logging.getLogger("agents_tui").warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
                "pip install 'agents-tui[otel]'"
            )
            return None
        from tui import __version__

        name = os.environ.get("OTEL_SERVICE_NAME") or "agents-tui"
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        import atexit

        atexit.register(provider.shutdown)  # a short `agents-tui run` still sends its trace
        _TRACER = provider.get_tracer("agents-tui", __version__)
        return _TRACER


_DEFAULT: Telemetry | None = None


def default_telemetry() -> Telemetry | None:
    """The process's telemetry for front ends that expose no metrics (TUI, ``run``): traces
    and log lines only, and only when asked for."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Telemetry()
    return _DEFAULT if _DEFAULT.active else None
