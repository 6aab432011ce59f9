"""See text deltas at the model boundary, before the SDK's queue.

When a model stream fails, the SDK's ``stream_events()`` raises at once and drops the
events still queued behind the failure: words the provider did send never reach the
screen. The runner wraps the model with a tap that records every text delta as the
model yields it, so those words can be shown and carried into the retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from tui.core.turn.growing_text import GrowingText


class TextTap:
    """Raw text deltas one attempt's model calls produced, in order."""

    def __init__(self) -> None:
        self.pieces = GrowingText()

    @property
    def text(self) -> str:
        return str(self.pieces)


_TAPPED_CLASS: type[Any] | None = None
# The longest stretch the model stream runs the loop without letting anything else in.
YIELD_EVERY_S = 0.004


def _tapped_class() -> type[Any]:
    global _TAPPED_CLASS
    if _TAPPED_CLASS is None:
        from agents.models.interface import Model

        class TappedModel(Model):
            def __init__(self, inner: Any, tap: TextTap) -> None:
                self.inner = inner
                self.tap = tap

            async def get_response(self, *args: Any, **kwargs: Any) -> Any:
                return await self.inner.get_response(*args, **kwargs)

            async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                busy_since = time.perf_counter()
                async for event in self.inner.stream_response(*args, **kwargs):
                    if getattr(event, "type", None) == "response.output_text.delta":
                        self.tap.pieces.append(event.delta or "")
                    yield event
                    if time.perf_counter() - busy_since > YIELD_EVERY_S:
                        # A buffered burst (64 KB of SSE) parses without ever waiting on
                        # the socket: let the app paint and take keys in between.
                        await asyncio.sleep(0)
                        busy_since = time.perf_counter()

            def __getattr__(self, name: str) -> Any:
                return getattr(self.inner, name)

        _TAPPED_CLASS = TappedModel
    return _TAPPED_CLASS


def untapped(model: Any) -> Any:
    cls = _TAPPED_CLASS
    while cls is not None and isinstance(model, cls):
        model = model.inner
    return model


def with_tap(agent: Any, run_config: Any, tap: TextTap) -> tuple[Any, Any]:
    """The agent and run config to run with, their model wrapped by ``tap``."""
    import dataclasses

    from agents.models.interface import Model

    config_model = getattr(run_config, "model", None)
    if isinstance(config_model, Model):
        inner = untapped(config_model)
        return agent, dataclasses.replace(run_config, model=_tapped_class()(inner, tap))
    if isinstance(agent.model, Model):
        return agent.clone(model=_tapped_class()(untapped(agent.model), tap)), run_config
    return agent, run_config  # a model named by string: the SDK resolves it; no tap
