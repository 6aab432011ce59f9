"""What a tool's failure tells the model (and the timeline)."""

from __future__ import annotations


def tool_failure_message(_ctx: object, error: Exception) -> str:
    """Give the model (and the timeline) the real reason a tool failed."""
    return f"Tool failed: {type(error).__name__}: {error}"
