"""A stream that ends without its end is a cut stream.

A server whose response body stops early but cleanly (the connection closed at a chunk
boundary, no ``finish_reason``, no ``data: [DONE]``) looks to the SDK like a short reply:
for any server but OpenAI's own, its Chat Completions handler completes the response with
the text so far, and the turn would be stored as ``completed`` with part of the reply.
Here each provider stream is watched for its terminal signal (a ``finish_reason`` on
choice 0 for Chat Completions; ``response.completed``, ``.incomplete`` or ``.failed`` for
the Responses API), and a stream that ends without one raises :class:`StreamEndedEarly`,
a network failure: the turn continues the reply exactly where it stopped, like any cut
stream, or fails with the text kept once the retries are spent.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, Generic, TypeVar

from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel

RESPONSES_TERMINAL = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error", "response.error"}
)


T = TypeVar("T")


class StreamEndedEarly(ConnectionError):
    """The provider's stream ended before it said the reply was finished."""


def _chat_finished(chunk: object) -> bool:
    for choice in getattr(chunk, "choices", None) or ():
        if getattr(choice, "index", 0) == 0 and getattr(choice, "finish_reason", None):
            return True
    return False


def _responses_finished(event: object) -> bool:
    return getattr(event, "type", None) in RESPONSES_TERMINAL


class EndChecked(Generic[T]):
    """Iterates a provider stream and raises at its end if no terminal signal came.

    Everything else (``response`` for the request id, ``close``) is the stream's own."""

    def __init__(self, stream: AsyncIterable[T], finished: Callable[[T], bool], api: str) -> None:
        self._stream = stream
        self._finished = finished
        self._api = api

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        finished = False
        async for item in self._stream:
            finished = finished or self._finished(item)
            yield item
        if not finished:
            raise StreamEndedEarly(
                f"the server ended the {self._api} stream before finishing the reply "
                "(no finish_reason, no [DONE])"
            )


# The two overrides take the SDK's private, overloaded ``_fetch_response`` arguments as they
# come and pass them on; only the stream it returns is wrapped.
class CheckedChatCompletionsModel(OpenAIChatCompletionsModel):
    async def _fetch_response(self, *args: Any, **kwargs: Any) -> Any:
        result = await super()._fetch_response(*args, **kwargs)
        if kwargs.get("stream"):
            response, stream = result
            return response, EndChecked(stream, _chat_finished, "chat completions")
        return result


class CheckedResponsesModel(OpenAIResponsesModel):
    async def _fetch_response(self, *args: Any, **kwargs: Any) -> Any:
        result = await super()._fetch_response(*args, **kwargs)
        if kwargs.get("stream"):
            return EndChecked(result, _responses_finished, "Responses")
        return result
