"""The tap's wrapper around a model (see ``tap``).

Importing this module loads the SDK, so ``tap`` (which the first frame imports) imports it
only when a model is wrapped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model

from tui.core.turn.growing_text import GrowingText

# The longest stretch the model stream runs the loop without letting anything else in.
YIELD_EVERY_S = 0.004


class DeltaSink(Protocol):
    """Where the text deltas go (``tap.TextTap``)."""

    @property
    def pieces(self) -> GrowingText: ...


class TappedModel(Model):
    """``inner``, with every text delta it streams also appended to ``tap``."""

    def __init__(self, inner: Model, tap: DeltaSink) -> None:
        self.inner = inner
        self.tap = tap

    # Both forward the SDK's arguments as they come: the signature is ``Model``'s, and a
    # wrapper that restates it falls behind when the SDK adds a parameter.
    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return await self.inner.get_response(*args, **kwargs)

    async def stream_response(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[TResponseStreamEvent]:
        busy_since = time.perf_counter()
        async for event in self.inner.stream_response(*args, **kwargs):
            if event.type == "response.output_text.delta":
                self.tap.pieces.append(event.delta or "")
            yield event
            if time.perf_counter() - busy_since > YIELD_EVERY_S:
                # A buffered burst (64 KB of SSE) parses without ever waiting on
                # the socket: let the app paint and take keys in between.
                await asyncio.sleep(0)
                busy_since = time.perf_counter()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)
