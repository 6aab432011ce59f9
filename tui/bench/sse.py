"""A client's reading of the API's Server-Sent Events (an aiohttp response)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any


async def sse_events(response: Any) -> AsyncIterator[dict[str, Any]]:
    """Each ``data:`` object of a Server-Sent Events response, as its event arrives."""
    buffer = ""
    async for chunk in response.content.iter_any():
        buffer += chunk.decode()
        while "\n\n" in buffer or "\r\n\r\n" in buffer:
            cut = buffer.find("\r\n\r\n") if "\r\n\r\n" in buffer else buffer.find("\n\n")
            block, buffer = buffer[:cut], buffer[cut:].lstrip("\r\n")
            for line in block.splitlines():
                if line.startswith("data:"):
                    yield json.loads(line[5:].strip())


async def read_events(response: Any) -> list[dict[str, Any]]:
    """Every ``data:`` object of a Server-Sent Events response, in order."""
    return [event async for event in sse_events(response)]
