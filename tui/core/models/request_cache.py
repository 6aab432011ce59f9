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

import importlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

# openai's ``async_maybe_transform(data, expected_type)``: a request body (or one of its
# list's items) and the TypedDict it is written against, in; the body as sent, out.
Transform = Callable[[object, object], Awaitable[Any]]

CACHE_SIZE = 8_192  # messages remembered (a long conversation, several agents)

_installed: set[str] = set()  # the APIs whose transform is cached
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


_transforms: _Transforms | None = None  # one cache for both APIs


def _install_chat(transforms: _Transforms) -> None:
    from openai.resources.chat.completions import completions as chat
    from openai.types.chat import completion_create_params as chat_params
    from openai.types.chat.chat_completion_message_param import ChatCompletionMessageParam

    body_types = (
        chat_params.CompletionCreateParamsStreaming,
        chat_params.CompletionCreateParamsNonStreaming,
    )
    setattr(chat, TRANSFORM, transforms.wrap("messages", body_types, ChatCompletionMessageParam))


def _install_responses(transforms: _Transforms) -> None:
    from openai.resources.responses import responses
    from openai.types.responses import response_create_params as responses_params
    from openai.types.responses.response_input_param import ResponseInputItemParam

    body_types = (
        responses_params.ResponseCreateParamsStreaming,
        responses_params.ResponseCreateParamsNonStreaming,
    )
    setattr(responses, TRANSFORM, transforms.wrap("input", body_types, ResponseInputItemParam))


def install(api: str | None = None) -> bool:
    """Cache the transform of chat-completions messages (``api="chat"``), of Responses input
    items (``"responses"``), or of both (None). Only the API a provider speaks: importing
    ``openai``'s Responses resources builds pydantic validators for its generic response
    types (~3 MB resident) that a chat-completions server never needs."""
    global _transforms
    wanted = {"chat": _install_chat, "responses": _install_responses}
    if api is not None:
        wanted = {api: wanted[api]}
    try:
        from openai._utils import async_maybe_transform as original
    except ImportError:
        return False
    done = True
    for name, patch in wanted.items():
        if name in _installed:
            continue
        try:
            module = importlib.import_module(_MODULES[name])
        except ImportError:
            done = False
            continue
        if getattr(module, TRANSFORM, None) is not original:
            done = False  # someone else replaced it: leave it alone
            continue
        _transforms = _transforms or _Transforms(original)
        patch(_transforms)
        _installed.add(name)
    return done


_MODULES = {
    "chat": "openai.resources.chat.completions.completions",
    "responses": "openai.resources.responses.responses",
}
