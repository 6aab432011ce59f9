"""The OpenAI client's request "transform", once per message instead of once per turn.

Before every request, ``openai`` walks the whole body against its TypedDict annotations
(aliases, dates, base64 files): about 110 us per message of the conversation, all on the
event loop. Chat completions and the Responses API send the whole conversation on every
turn, so at turn 120 (240 messages) each request spent 26 ms there, and the time grew
with every turn: a long conversation got slower to answer and froze the screen longer.

The transform is a pure function of each message, so the messages (chat completions) or
input items (Responses) are transformed one by one and remembered by their JSON text;
only new messages are transformed. Anything that is not plain JSON is transformed as the
client would. Installed when a provider that talks to an OpenAI-compatible server is
built; if ``openai`` no longer has the shape this was written for, nothing is changed.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

# openai's ``async_maybe_transform(data, expected_type)``: a request body (or one of its
# list's items) and the TypedDict it is written against, in; the body as sent, out.
Transform = Callable[[object, object], Awaitable[Any]]

CACHE_SIZE = 8_192  # messages remembered (a long conversation, several agents)

_installed = False
# openai's chat and responses modules each call the name they imported, so it is replaced
# in those two modules (imported there, not exported: hence getattr and setattr).
TRANSFORM = "async_maybe_transform"


class _Transforms:
    """Transformed list items, by their JSON text, most recently used last."""

    def __init__(self, original: Transform) -> None:
        self.original = original
        self._done: OrderedDict[tuple[int, str], object] = OrderedDict()

    async def item(self, item: object, item_type: object) -> object:
        try:
            key = (id(item_type), json.dumps(item, sort_keys=True))
        except (TypeError, ValueError):  # bytes, files, sentinels: as the client does it
            return await self.original(item, item_type)
        done = self._done.get(key)
        if done is None:
            done = await self.original(item, item_type)
            self._done[key] = done
            if len(self._done) > CACHE_SIZE:
                self._done.popitem(last=False)
        else:
            self._done.move_to_end(key)
        return done

    def wrap(self, list_key: str, body_types: tuple[object, ...], item_type: object) -> Transform:
        """An ``async_maybe_transform`` that takes ``list_key`` of these bodies item by item."""

        async def transform(data: object, expected_type: object) -> object:
            items = data.get(list_key) if isinstance(data, dict) else None
            if (
                not isinstance(data, dict)
                or expected_type not in body_types
                or not isinstance(items, list)
            ):
                return await self.original(data, expected_type)
            rest = {key: value for key, value in data.items() if key != list_key}
            transformed = await self.original(rest, expected_type)
            transformed[list_key] = [await self.item(item, item_type) for item in items]
            return transformed

        return transform


def install() -> bool:
    """Cache the transform of chat-completions messages and Responses input items."""
    global _installed
    if _installed:
        return True
    try:
        from openai.resources.chat.completions import completions as chat
        from openai.resources.responses import responses
        from openai.types.chat import completion_create_params as chat_params
        from openai.types.chat.chat_completion_message_param import ChatCompletionMessageParam
        from openai.types.responses import response_create_params as responses_params
        from openai.types.responses.response_input_param import ResponseInputItemParam
    except ImportError:
        return False
    original: Transform | None = getattr(chat, TRANSFORM, None)
    shared = getattr(responses, TRANSFORM, None) is original
    if original is None or not shared:
        return False  # someone else replaced it: leave it alone
    transforms = _Transforms(original)
    chat_transform = transforms.wrap(
        "messages",
        (
            chat_params.CompletionCreateParamsStreaming,
            chat_params.CompletionCreateParamsNonStreaming,
        ),
        ChatCompletionMessageParam,
    )
    responses_transform = transforms.wrap(
        "input",
        (
            responses_params.ResponseCreateParamsStreaming,
            responses_params.ResponseCreateParamsNonStreaming,
        ),
        ResponseInputItemParam,
    )
    setattr(chat, TRANSFORM, chat_transform)
    setattr(responses, TRANSFORM, responses_transform)
    _installed = True
    return True
