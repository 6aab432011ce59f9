"""The tap's wrapper around a model (see ``tap``).

Importing this module loads the SDK, so ``tap`` (which the first frame imports) imports it
only when a model is wrapped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Protocol

from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.tool import Tool
from openai.types.responses.response_prompt_param import ResponsePromptParam

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

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        return await self.inner.get_response(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            previous_response_id=previous_response_id,
            conversation_id=conversation_id,
            prompt=prompt,
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        busy_since = time.perf_counter()
        async for event in self.inner.stream_response(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            previous_response_id=previous_response_id,
            conversation_id=conversation_id,
            prompt=prompt,
        ):
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
