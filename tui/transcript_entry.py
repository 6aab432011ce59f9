"""A message of the conversation on screen, for ``/history``, ``/retry`` and copying."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class TranscriptEntry:
    at: datetime
    role: str
    text: str
    status: str = "completed"
