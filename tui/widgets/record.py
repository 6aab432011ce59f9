"""A finished message of the chat, in one shape for the transcript, search, the store and
the slash commands."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.observe.metrics import MetricsSummary
from tui.widgets.rendered_block import BlockLayout


@dataclass(slots=True)
class Record:
    """A finished message: what the transcript draws, search reads and the store keeps."""

    kind: str  # "user", "assistant" or "note"
    text: str
    status: str = "completed"
    note: str | None = None
    summary: MetricsSummary | None = None
    title: str = ""
    layout: BlockLayout | None = None  # a long reply's blocks as streamed (see Transcript)
