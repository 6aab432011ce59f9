"""Transcripts for people (Markdown) and programs (JSON), with tool calls and metrics."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from tui.core.observe.metrics import MetricsSummary
from tui.core.store import ConversationRow, TurnRow
from tui.core.tool_calls import StoredToolCall


class ExportedTurn(TypedDict, total=False):
    """A turn in ``/export json``'s file (what ``agents-tui import`` reads back: only the
    prompt is sure to be there; a time may be a number too)."""

    started_at: str | float
    prompt: str
    reply: str
    status: str
    error: str | None
    tool_calls: list[StoredToolCall]
    metrics: MetricsSummary


class Exported(TypedDict, total=False):
    """A conversation as ``/export json`` writes it."""

    id: str
    title: str
    agent: str
    model: str
    created_at: str | float
    updated_at: str | float
    turns: list[ExportedTurn]


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def to_json(conversation: ConversationRow, turns: list[TurnRow]) -> str:
    data: Exported = {
        "id": conversation.id,
        "title": conversation.title,
        "agent": conversation.agent,
        "model": conversation.model,
        "created_at": _when(conversation.created_at),
        "updated_at": _when(conversation.updated_at),
        "turns": [
            {
                "started_at": _when(t.started_at),
                "prompt": t.prompt,
                "reply": t.reply,
                "status": t.status,
                "error": t.error,
                "tool_calls": t.tools,
                "metrics": t.metrics,
            }
            for t in turns
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text}\n{ticks}"


def to_markdown(conversation: ConversationRow, turns: list[TurnRow]) -> str:
    lines = [
        f"# {conversation.title or conversation.id}",
        "",
        f"- conversation: `{conversation.id}`",
        f"- agent: {conversation.agent or '—'} · model: {conversation.model or '—'}",
        f"- created: {_when(conversation.created_at)}",
        "",
    ]
    for number, turn in enumerate(turns, 1):
        lines += [
            f"## Turn {number} · {_when(turn.started_at)}",
            "",
            "**You:**",
            "",
            turn.prompt,
            "",
        ]
        for tool in turn.tools:
            state = "failed" if tool.get("failed") else "done"
            lines += [
                f"**Tool `{tool.get('name')}`** ({state})",
                "",
                "Arguments:",
                _fence(str(tool.get("arguments") or "")),
                "",
                "Output:",
                _fence(str(tool.get("output") or "")),
                "",
            ]
        mark = "" if turn.status == "completed" else f" *({turn.status})*"
        lines += [f"**Assistant{mark}:**", "", turn.reply or "*(no text)*", ""]
        if turn.error:
            lines += [f"> error: {turn.error}", ""]
        m = turn.metrics
        if m:
            ttft = m.get("time_to_first_token_s")
            lines += [
                "<sub>"
                + " · ".join(
                    [
                        f"TTFT {ttft:.3f} s" if ttft is not None else "TTFT —",
                        f"{m.get('tokens_per_second', 0):.1f} tok/s",
                        f"tokens in/out {m.get('input_tokens', 0)}/{m.get('output_tokens', 0)}",
                        f"tool calls {m.get('tool_calls', 0)}",
                        f"errors {m.get('errors', 0)}",
                        f"retries {m.get('retries', 0)}",
                    ]
                )
                + "</sub>",
                "",
            ]
    return "\n".join(lines)


def export(
    conversation: ConversationRow, turns: list[TurnRow], fmt: str, path: Path | None = None
) -> Path:
    if fmt not in ("md", "json"):
        raise ValueError(f"unknown export format {fmt!r}: use md or json")
    target = path or Path.cwd() / f"agents-tui-{conversation.id}.{fmt}"
    text = to_markdown(conversation, turns) if fmt == "md" else to_json(conversation, turns)
    target.write_text(text, encoding="utf-8")
    return target
