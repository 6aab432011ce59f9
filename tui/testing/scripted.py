"""Build exact Responses-API stream events for a reply made of text and tool calls.

Used wherever a deterministic stream is needed: the test suite (fed to the SDK's own
``agents.testing.ScriptedModel`` via ``ModelStep.stream``), the benchmark's synthetic
model, and replays. The events are the same pydantic types OpenAI's Responses API
streams, so everything downstream runs the real SDK path.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails


@dataclass(frozen=True, slots=True)
class Text:
    """An assistant message streamed as these deltas."""

    deltas: Sequence[str]


@dataclass(frozen=True, slots=True)
class Call:
    """A function call whose JSON arguments stream as these deltas."""

    name: str
    call_id: str
    argument_deltas: Sequence[str] = ()


Part = Text | Call


def usage(input_tokens: int = 0, output_tokens: int = 0) -> ResponseUsage:
    return ResponseUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        input_tokens_details=InputTokensDetails.model_validate(
            {"cached_tokens": 0, "cache_write_tokens": 0}
        ),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
    )


def _response(output: list[Any], status: str, used: ResponseUsage | None, model: str) -> Response:
    return Response(
        id="resp_scripted",
        created_at=0,
        model=model,
        object="response",
        output=output,
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=False,
        status=status,  # type: ignore[arg-type]
        usage=used,
    )


def _text_events(index: int, part: Text, nxt: Callable[[], int]) -> tuple[list[Any], Any]:
    """A message's events (added, its deltas, done) and its finished item."""
    events: list[Any] = []
    item_id = f"msg_{index}"
    text = "".join(part.deltas)
    empty = ResponseOutputMessage(
        id=item_id, type="message", role="assistant", status="in_progress", content=[]
    )
    events.append(
        ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=empty,
            output_index=index,
            sequence_number=nxt(),
        )
    )
    events.append(
        ResponseContentPartAddedEvent(
            type="response.content_part.added",
            item_id=item_id,
            output_index=index,
            content_index=0,
            part=ResponseOutputText(type="output_text", text="", annotations=[]),
            sequence_number=nxt(),
        )
    )
    for delta in part.deltas:
        events.append(
            ResponseTextDeltaEvent(
                type="response.output_text.delta",
                item_id=item_id,
                output_index=index,
                content_index=0,
                delta=delta,
                logprobs=[],
                sequence_number=nxt(),
            )
        )
    done_part = ResponseOutputText(type="output_text", text=text, annotations=[])
    events.append(
        ResponseTextDoneEvent(
            type="response.output_text.done",
            item_id=item_id,
            output_index=index,
            content_index=0,
            text=text,
            logprobs=[],
            sequence_number=nxt(),
        )
    )
    events.append(
        ResponseContentPartDoneEvent(
            type="response.content_part.done",
            item_id=item_id,
            output_index=index,
            content_index=0,
            part=done_part,
            sequence_number=nxt(),
        )
    )
    item: Any = ResponseOutputMessage(
        id=item_id,
        type="message",
        role="assistant",
        status="completed",
        content=[done_part],
    )
    return events, item


def _call_events(index: int, part: Call, nxt: Callable[[], int]) -> tuple[list[Any], Any]:
    """A function call's events (added, its argument deltas, done) and its finished item."""
    events: list[Any] = []
    arguments = "".join(part.argument_deltas)
    item_id = f"fc_{part.call_id}"
    events.append(
        ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            item=ResponseFunctionToolCall(
                id=item_id,
                call_id=part.call_id,
                type="function_call",
                name=part.name,
                arguments="",
                status="in_progress",
            ),
            output_index=index,
            sequence_number=nxt(),
        )
    )
    for delta in part.argument_deltas:
        events.append(
            ResponseFunctionCallArgumentsDeltaEvent(
                type="response.function_call_arguments.delta",
                item_id=item_id,
                output_index=index,
                delta=delta,
                sequence_number=nxt(),
            )
        )
    events.append(
        ResponseFunctionCallArgumentsDoneEvent.model_validate(
            {
                "type": "response.function_call_arguments.done",
                "item_id": item_id,
                "output_index": index,
                "arguments": arguments,
                "name": part.name,
                "sequence_number": nxt(),
            }
        )
    )
    item = ResponseFunctionToolCall(
        id=item_id,
        call_id=part.call_id,
        type="function_call",
        name=part.name,
        arguments=arguments,
        status="completed",
    )
    return events, item


def response_events(
    parts: Iterable[Part],
    *,
    input_tokens: int = 0,
    output_tokens: int | None = None,
    model: str = "scripted",
) -> list[Any]:
    """The full event sequence of one model response, ending in ``response.completed``."""
    nxt = itertools.count().__next__
    events: list[Any] = [
        ResponseCreatedEvent(
            type="response.created",
            response=_response([], "in_progress", None, model),
            sequence_number=nxt(),
        )
    ]
    output: list[Any] = []
    streamed = 0
    for index, part in enumerate(parts):
        if isinstance(part, Text):
            streamed += len(part.deltas)
            made, item = _text_events(index, part, nxt)
        else:
            made, item = _call_events(index, part, nxt)
        events += made
        events.append(
            ResponseOutputItemDoneEvent(
                type="response.output_item.done",
                item=item,
                output_index=index,
                sequence_number=nxt(),
            )
        )
        output.append(item)
    used = usage(input_tokens, streamed if output_tokens is None else output_tokens)
    events.append(
        ResponseCompletedEvent(
            type="response.completed",
            response=_response(output, "completed", used, model),
            sequence_number=nxt(),
        )
    )
    return events


async def paced(events: Sequence[Any], tokens_per_s: float) -> AsyncIterator[Any]:
    """Yield ``events`` with text and argument deltas spaced at ``tokens_per_s``.

    Sleeps are scheduled against an absolute clock so that the rate holds on average
    even when the loop is busy (a slow consumer sees bursts, as with a real provider).
    """
    loop = asyncio.get_running_loop()
    interval = 1.0 / tokens_per_s if tokens_per_s > 0 else 0.0
    start = loop.time()
    sent = 0
    for event in events:
        if interval and getattr(event, "type", "").endswith(".delta"):
            sent += 1
            wait = start + sent * interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        yield event
