"""Measurement: each turn's metrics (TTFT, tokens/s, inter-token latency, usage, errors,
retries), the statistics over stored turns (``/stats``, ``agents-tui stats``), the
performance dashboard's figures and the telemetry sent to operators' tools (Prometheus,
OpenTelemetry, structured logs).
"""
