"""The OpenAI client's request transform, cached per message, gives the same body."""

import asyncio
import json

import pytest

from tui.core.models import request_cache

CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "roll a d20"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "roll_dice", "arguments": '{"sides": 20}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "11"},
    {"role": "assistant", "content": [{"type": "text", "text": "You rolled 11."}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "and this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ],
    },
]
RESPONSES = [
    {"role": "user", "content": "hi"},
    {"type": "function_call", "call_id": "c1", "name": "roll_dice", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "c1", "output": "4"},
    {"role": "assistant", "content": [{"type": "output_text", "text": "4", "annotations": []}]},
]


def _bodies():
    from openai.types.chat import completion_create_params as chat
    from openai.types.responses import response_create_params as responses

    chat_body = {"model": "m", "stream": True, "messages": CHAT, "temperature": 0.5}
    responses_body = {"model": "m", "stream": True, "input": RESPONSES, "store": False}
    return [
        (chat_body, chat.CompletionCreateParamsStreaming, "chat"),
        (responses_body, responses.ResponseCreateParamsStreaming, "responses"),
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_cached_transform_gives_the_same_request_body(index):
    from openai._utils import async_maybe_transform as original
    from openai.resources.chat.completions import completions as chat_module
    from openai.resources.responses import responses as responses_module

    body, body_type, which = _bodies()[index]
    expected = asyncio.run(original(body, body_type))
    assert request_cache.install()
    module = chat_module if which == "chat" else responses_module
    cached = module.async_maybe_transform
    assert cached is not original
    first = asyncio.run(cached(body, body_type))
    again = asyncio.run(cached(body, body_type))  # from the cache this time
    assert json.dumps(first, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert json.dumps(again, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_a_long_conversation_is_transformed_once_per_message():
    """Turn after turn, only the new messages are walked: the time no longer grows with
    the conversation."""
    from openai.types.chat import completion_create_params as chat

    calls: list[object] = []

    async def counting(data, expected_type):
        calls.append(expected_type)
        return dict(data)

    transforms = request_cache._Transforms(counting)
    transform = transforms.wrap("messages", (chat.CompletionCreateParamsStreaming,), object)
    history: list[dict] = []
    for turn in range(50):
        history += [{"role": "user", "content": f"q{turn}"}, {"role": "assistant", "content": "a"}]
        calls.clear()
        body = {"model": "m", "messages": list(history)}
        out = asyncio.run(transform(body, chat.CompletionCreateParamsStreaming))
        assert out["messages"] == history
        assert len(calls) <= 3  # the body without its messages, and the new ones ("a" once)


def test_a_chat_completions_server_does_not_load_the_responses_api():
    """A --base-url server speaks chat completions: its messages' transform is cached, and
    openai's Responses resources (their generic response types build pydantic validators,
    ~3 MB resident) are never imported. A fresh interpreter: nothing imported them before."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from openai._utils import async_maybe_transform as original\n"
        "from tui.core.models.providers import CompatBackend\n"
        "CompatBackend('m', base_url='http://127.0.0.1:9/v1').run_config()\n"
        "from openai.resources.chat.completions import completions as chat\n"
        "print(chat.async_maybe_transform is not original,"
        " 'openai.resources.responses.responses' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]
