"""What the API reads of a session and of the store (``GET .../messages``, ``.../stats``,
``/v1/stats``): read in a worker thread, so that a client polling them does not hold up the
streams."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tui.api.service import PLAYERS_S, RECENT_METRICS, iso

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tui.api.service import StreamingService
    from tui.core.observe.metrics import MetricsSummary


async def messages(service: StreamingService, session_id: str) -> list[dict[str, Any]]:
    """The stored turns as messages, read in a worker thread (a long conversation is
    thousands of rows)."""
    service.session(session_id)  # 404, on the loop
    turns = await asyncio.to_thread(service.store.read_turns, session_id)
    out: list[dict[str, Any]] = []
    for turn in turns:
        user = {"role": "user", "text": turn.prompt, "at": turn.started_at, "turn_id": turn.id}
        out.append({**user, "author": turn.author} if turn.author else user)
        out.append(
            {
                "role": "assistant",
                "text": turn.reply,
                "status": turn.status,
                "error": turn.error,
                "at": turn.finished_at,
                "tool_calls": turn.tools,
                "metrics": turn.metrics,
                "turn_id": turn.id,
            }
        )
    return out


async def session_stats(service: StreamingService, session_id: str) -> dict[str, Any]:
    """The tutorial's ``get_session_stats``, plus the table ``/stats`` prints, from the
    kept totals (no turn is read but the last 100 turns' metrics), read in a worker
    thread so that a client polling it does not hold up the streams."""
    from tui.core.observe.stats import as_json, report_of

    live = service.session(session_id)
    row = live.conversation.row()
    totals, unfinished, recent, players = await asyncio.to_thread(
        lambda: (
            service.store.totals(session_id),
            service.store.unfinished(session_id),
            service.store.recent_metrics(session_id, RECENT_METRICS),
            service.store.participants([session_id], time.time() - PLAYERS_S),
        )
    )
    created = row.created_at if row else time.time()
    last = row.updated_at if row else created
    coordination = service.store.coordination
    running = live.conversation.running or coordination.running_turn(session_id) is not None
    status = "active" if running else "idle"
    if live.approvals or coordination.pending_approvals(session_id):
        status = "awaiting_approval"
    return {
        "session_id": session_id,
        # the tutorial's count: the person's messages (as ``session_update`` says)
        "message_count": totals.turns + unfinished,
        "created_at": iso(created),
        "last_activity": iso(last),
        "duration_minutes": round((time.time() - created) / 60, 3),
        "status": status,
        "user_context": live.user_context,
        "participants": players.get(session_id, []),
        "turn_metrics": [measured(summary) for summary in recent],
        "statistics": as_json(report_of(totals)),
    }


# What a turn replayed from the response cache did not measure: no model streamed it.
UNMEASURED_WHEN_CACHED = (
    "time_to_first_token_s",
    "tokens_per_second",
    "end_to_end_tokens_per_second",
    "inter_token_latency_p50_ms",
    "inter_token_latency_p95_ms",
)


def measured(summary: MetricsSummary) -> Mapping[str, object]:
    """A turn's stored summary as the session's statistics show it: a cached turn's times
    and rates are null (nothing was measured; the store keeps 0.0 beside ``cached``), as the
    averages beside them leave it out; its counts stay."""
    if not summary.get("cached"):
        return summary
    out: dict[str, object] = dict(summary)
    for key in UNMEASURED_WHEN_CACHED:
        if key in out:
            out[key] = None
    return out


async def global_stats(service: StreamingService) -> dict[str, Any]:
    """Every stored turn's statistics, from the kept totals (read in a worker thread)."""
    from tui.core.observe.stats import as_json, global_statistics, report_of

    totals, figures = await asyncio.to_thread(
        lambda: (service.store.totals(), service.store.global_stats())
    )
    return {
        "sessions_live": len(service.sessions),
        "sessions_evicted": service.evicted,
        "streams_open": service.streams_open,
        "statistics": as_json([*report_of(totals), global_statistics(figures)]),
    }
