"""The HTTP API's contract: pydantic models of every request and response body, of the
error shape and of the Server-Sent Events a turn streams, and the OpenAPI 3.1 document
built from them (``GET /openapi.json``).

Request models validate (``tui.api.routes`` turns their errors into the API's own
``422 INVALID_REQUEST`` messages, named in each model's ``invalid``); response and event
models describe what the service and the protocol encoder send (the tests check live
answers against them). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator
from pydantic.json_schema import JsonSchemaMode, SkipJsonSchema, models_json_schema

from tui.api.service import SESSION_ID

# Unicode's direction controls: in a name, "Eve\u202eLan" reads as another player's name.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

JsonObject = dict[str, JsonValue]
TurnStatus = Literal["completed", "interrupted", "failed"]
StoredStatus = Literal["completed", "interrupted", "failed", "running", "awaiting_approval"]


def absent(schema: dict[str, JsonValue]) -> None:
    """A field that is left out rather than ``null``: its schema has no ``null`` default."""
    schema.pop("default", None)


def optional(description: str) -> Any:
    """A field that may be left out (its value ``None``): ``absent`` from the schema's
    defaults, with its description."""
    return Field(None, json_schema_extra=absent, description=description)


# --- requests ---------------------------------------------------------------------------------
class RequestBody(BaseModel):
    """A JSON object body. Types are strict (``"detach": 1`` is not a boolean); fields the
    API does not know are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")
    # The 422 message for a field that fails: by ``field`` or ``field/error_type``.
    invalid: ClassVar[Mapping[str, str]] = {}


class CreateSessionRequest(RequestBody):
    """``POST /v1/sessions``: every field optional, and so is the body."""

    agent: str | None = Field(
        None,
        description="One of the agents `GET /v1/agents` lists (never an import path); "
        "without it the session gets the server's `--agent`.",
        examples=["game-master"],
    )
    user_context: JsonObject | None = Field(
        None, description="Any JSON object, kept with the session and shown in its stats."
    )
    title: str = Field("", description="The session's title, as the TUI lists it.")
    session_id: str | None = Field(
        None,
        pattern=f"^{SESSION_ID.pattern}$",
        description="The id to give the session (1-64 of `A-Za-z0-9._-`); "
        "`409 SESSION_EXISTS` when taken. Without it the server makes one.",
        examples=["table-7"],
    )

    invalid: ClassVar[Mapping[str, str]] = {
        "agent": "agent must be a string",
        "user_context": "user_context must be an object",
        "title": "title must be a string",
        "session_id": "session_id must be a string",
        "session_id/string_pattern_mismatch": (
            "session_id must be 1-64 letters, digits, '.', '_' or '-'"
        ),
    }


class PostMessageRequest(RequestBody):
    """``POST /v1/sessions/{session_id}/messages``: one prompt."""

    message: str = Field(
        min_length=1,
        description="The prompt: a string that is not only whitespace.",
        examples=["Roll a d20"],
    )
    detach: bool = Field(
        False,
        description="Run the turn to its end even if the client goes away (follow it with "
        "`GET .../events`); otherwise a client that leaves cancels its turn.",
    )
    author: str = Field(
        "",
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f:]*$",
        description="Who typed it, at a table of players (1-64 characters, no colon or "
        "control character): followers see it in `user_message`, and the model reads the "
        "prompt as `AUTHOR: message`.",
        examples=["Lan"],
    )
    message_id: str = Field(
        "",
        max_length=64,
        pattern=f"^({SESSION_ID.pattern})?$",
        description="The client's id for this prompt (`A-Za-z0-9._-`, up to 64): a prompt "
        "sent again with an id the session has seen is refused with `409 DUPLICATE_MESSAGE` "
        "(a client that lost its connection may resend safely); shown in `user_message`.",
        examples=["7f3c1e0a"],
    )
    interrupt: bool = Field(
        False,
        description="Smart interruption: stop the session's running turn (as `POST "
        ".../cancel` with `queued: false` does: its partial reply kept, `interrupted`) and "
        "run this prompt next, ahead of the prompts waiting in this process (they stay "
        "queued behind it). With no turn running, the prompt is sent as usual.",
    )

    invalid: ClassVar[Mapping[str, str]] = {
        "message": "message must be a non-empty string",
        "detach": "detach must be true or false",
        "author": "author must be a name of up to 64 characters without a colon or control "
        "characters",
        "message_id": "message_id must be up to 64 of A-Za-z0-9._-",
        "interrupt": "interrupt must be true or false",
    }

    @field_validator("author")
    @classmethod
    def _a_name(cls, value: str) -> str:
        """A name shown to every player: not only spaces, no direction override that could
        make one name read as another."""
        if value and (not value.strip() or any(c in BIDI_CONTROLS for c in value)):
            raise ValueError("not a name")
        return value

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must be a non-empty string")
        return value


class CancelRequest(RequestBody):
    """``POST /v1/sessions/{session_id}/cancel``: every field optional, and so is the body."""

    by: str = Field(
        "",
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f:]*$",
        description="Who cancels, at a table of players: followers are told (`turn_cancelled`).",
        examples=["Lan"],
    )
    queued: bool = Field(
        True,
        description="Also withdraw the detached prompts waiting behind the turn in this "
        "process; `false` (a player's Esc at a shared table) stops the running turn only.",
    )

    invalid: ClassVar[Mapping[str, str]] = {
        "by": "by must be a name of up to 64 characters without a colon or control characters",
        "queued": "queued must be true or false",
    }


class ApproveRequest(RequestBody):
    """``POST /v1/sessions/{session_id}/approvals/{call_id}``: the answer to an
    ``approval_required`` event."""

    approve: bool = Field(description="`true` runs the tool call, `false` refuses it.")

    invalid: ClassVar[Mapping[str, str]] = {"approve": "approve must be true or false"}


# --- responses --------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(
        description="A stable code: `SESSION_NOT_FOUND`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`, "
        "`INVALID_REQUEST`, `INVALID_JSON`, `INVALID_TEXT`, `UNKNOWN_AGENT`, "
        "`INVALID_EVENT_ID`, `UNAUTHORIZED`, `ORIGIN_NOT_ALLOWED`, `HOST_NOT_ALLOWED`, "
        "`BODY_TOO_LARGE`, `HEADERS_TOO_LARGE`, `REQUEST_TIMEOUT`, `SESSION_EXISTS`, "
        "`APPROVAL_NOT_PENDING`, `DUPLICATE_MESSAGE`, "
        "`TOO_MANY_STREAMS`, `TOO_MANY_WAITING`, `SERVER_BUSY`, `NOT_READY`, "
        "`STORE_UNAVAILABLE`, `INTERNAL_ERROR`.",
        examples=["SESSION_NOT_FOUND"],
    )
    message: str = Field(description="What went wrong, for a person; never a stack trace.")


class ErrorResponse(BaseModel):
    """Every error the API answers."""

    error: ErrorDetail


class ProbeResponse(BaseModel):
    """``/healthz`` and ``/readyz``: the process answers (and is ready)."""

    status: Literal["ok"] = "ok"


class SessionCreated(BaseModel):
    session_id: str = Field(description="The session's id, for the paths below.")
    status: Literal["created"] = "created"
    created_at: str = Field(description="ISO 8601, UTC.")
    last_activity: str = Field(description="ISO 8601, UTC (the creation time).")
    timestamp: str = Field(description="ISO 8601, UTC (the creation time).")


SessionStatus = Literal["idle", "active", "awaiting_approval"]


class SessionItem(BaseModel):
    """A session as ``GET /v1/sessions`` lists it."""

    id: str = Field(description="The session's id, for the paths below.")
    title: str
    agent: str | None = Field(
        description="The agent it was created with (`POST /v1/sessions`'s `agent`); "
        "`null`: none named (the server's `--agent`)."
    )
    created_at: str = Field(description="ISO 8601, UTC.")
    last_activity: str = Field(description="ISO 8601, UTC.")
    turns: int = Field(description="Stored turns (one per prompt that ran).")
    status: SessionStatus
    participants: list[str] = Field(
        default_factory=list,
        description="The authors of its prompts in the last hour, the most recent first.",
    )


class SessionsPage(BaseModel):
    """A page of sessions, the most recently active first."""

    sessions: list[SessionItem]
    next_cursor: str | None = Field(
        description="Pass as `?cursor=` for the next page; `null` on the last page."
    )


class TurnMetricsSummary(BaseModel):
    """One turn's measures, as ``response_complete`` and the store carry them: every field
    once the turn was measured, ``{}`` when it was not (and fewer in imported turns)."""

    model_config = ConfigDict(extra="allow")

    status: str | None = None
    time_to_first_token_s: float | None = Field(None, description="Seconds to the first delta.")
    tokens_per_second: float | None = Field(None, description="While streaming.")
    end_to_end_tokens_per_second: float | None = Field(None, description="Over the request.")
    inter_token_latency_p50_ms: float | None = None
    inter_token_latency_p95_ms: float | None = None
    itl_histogram: list[int] | None = Field(None, description="Counts per latency bucket.")
    streamed_tokens: int | None = None
    events: int | None = None
    events_per_second: float | None = None
    model_calls: int | None = None
    tool_calls: int | None = None
    tool_failures: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    errors: int | None = None
    errors_by_kind: dict[str, int] | None = None
    retries: int | None = None
    context_tokens: int | None = None
    context_window: int | None = None
    context_dropped_turns: int | None = None
    context_dropped_messages: int | None = None
    context_trims: int | None = None
    approvals: int | None = None
    rejections: int | None = None
    approval_wait_s: float | None = None
    elapsed_s: float | None = None
    cached: bool | None = Field(
        None,
        description="Replayed from the response cache (`--cache-ttl`): no model was asked, "
        "so `time_to_first_token_s` is null and the tokens/s are 0 (not measured); in a "
        "session's stats (`turn_metrics`) the tokens/s and inter-token latencies are null "
        "too, and the averages leave the turn out.",
    )


class UserMessage(BaseModel):
    role: Literal["user"]
    text: str = Field(description="The prompt.")
    at: float = Field(description="When the turn started (Unix time, seconds).")
    turn_id: int = Field(description="The turn's id (the `TURN` of its events' ids).")
    author: str | SkipJsonSchema[None] = optional("Who typed it, when a player named it.")


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    text: str = Field(description="The reply (partial when interrupted).")
    status: StoredStatus
    error: str | None = Field(description="Why the turn failed, if it did.")
    at: float | None = Field(description="When the turn ended (Unix time), if it has.")
    tool_calls: list[JsonObject] = Field(description="The turn's tool calls, in order.")
    metrics: TurnMetricsSummary
    turn_id: int = Field(description="The turn's id (the `TURN` of its events' ids).")


Message = Annotated[UserMessage | AssistantMessage, Field(discriminator="role")]


class MessagesResponse(BaseModel):
    """The stored turns, each as the person's message and the assistant's."""

    messages: list[Message]


Figure = float | int | str | None


class ChatStatistics(BaseModel):
    model_config = ConfigDict(extra="allow")

    total_messages: int
    your_messages: int
    assistant_messages: int
    average_response_length: int = Field(description="Characters.")


class PerformanceStatistics(BaseModel):
    """The ``/stats`` table's figures (``null``: nothing to measure yet), with one
    ``errors_KIND`` count per kind of error seen."""

    model_config = ConfigDict(extra="allow")

    turns: int
    average_time_to_first_token_s: float | None
    median_time_to_first_token_s: float | None
    average_tokens_per_second: float | None
    average_decode_tokens_per_second: float | None
    average_total_time_s: float | None
    total_tokens_processed: int
    total_tokens_with_input: int
    errors: int
    turns_with_errors_share: float = Field(
        description="Turns that met an error over turns: agents-tui's own figure, not the "
        "tutorial monitor's error rate (errors over a request's events, in `response_complete`)."
    )
    retries: int
    recovery_successes: int
    recovery_rate: float | None
    recovered_turn_share: float | None
    interrupted_turns: int
    performance_issues: str = Field(description="The tutorial monitor's assessment.")


class GlobalStatistics(BaseModel):
    """The tutorial monitor's global statistics over every stored turn."""

    total_sessions: int = Field(description="Sessions (conversations) with a finished turn.")
    total_turns: int
    sessions_with_issues: int = Field(
        description="Sessions with an error or a turn that did not complete."
    )
    last_updated: str = Field(description="When these figures were read, ISO 8601, UTC.")


class Statistics(BaseModel):
    chat_statistics: ChatStatistics
    performance_statistics: PerformanceStatistics
    global_statistics: GlobalStatistics | None = Field(
        default=None, description="In `GET /v1/stats` (the whole store) only."
    )


class SessionStats(BaseModel):
    session_id: str
    message_count: int = Field(description="The person's messages (as `session_update`).")
    created_at: str = Field(description="ISO 8601, UTC.")
    last_activity: str = Field(description="ISO 8601, UTC.")
    duration_minutes: float
    status: SessionStatus
    user_context: JsonObject
    participants: list[str] = Field(
        default_factory=list,
        description="The authors of its prompts in the last hour, the most recent first.",
    )
    turn_metrics: list[TurnMetricsSummary] = Field(description="The last 100 turns'.")
    statistics: Statistics


class GlobalStats(BaseModel):
    sessions_live: int = Field(description="Sessions held in memory.")
    sessions_evicted: int = Field(description="Idle sessions let go (still stored).")
    streams_open: int
    statistics: Statistics


class AgentInfo(BaseModel):
    agent: str = Field(description="The key a session names in `agent`.")
    name: str
    instructions: str = Field(description="In the server's `--lang`.")


class AgentsResponse(BaseModel):
    agents: list[AgentInfo]
    without_agent: str


class CancelResponse(BaseModel):
    cancelled: bool = Field(description="Whether a turn was running (it ends `interrupted`).")


class ApproveResponse(BaseModel):
    call_id: str
    approved: bool


# --- the event protocol (Server-Sent Events) ------------------------------------------------------
class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    source: Literal["provider", "streamed_deltas", "none"] = Field(
        description="Where the numbers come from: the provider, or the streamed deltas "
        "counted when it reported none."
    )


class SessionUpdateData(BaseModel):
    session_id: str
    message_count: int = Field(description="The person's messages, this one included.")
    agent: str


class QueuedData(BaseModel):
    position: int = Field(description="Place in the session's queue.")
    session_id: str


class TypingStartData(BaseModel):
    message: str = Field(examples=["Assistant is thinking..."])


class ResponseCachedData(BaseModel):
    age_s: float = Field(description="How old the kept reply is, in seconds.")


class TextDeltaData(BaseModel):
    delta: str = Field(description="Text (a client that fell behind gets deltas joined).")
    word_count: int = Field(description="The tutorial's running count: spaces so far.")


class ToolStartData(BaseModel):
    tool_name: str
    arguments: str = Field(description="The call's arguments, as the model wrote them (JSON).")
    call_id: str
    source: str = Field(description="`function`, `mcp:SERVER` or `agent:NAME`.")
    message: str = Field(examples=["Using roll_dice..."])


class ToolCompleteData(BaseModel):
    call_id: str
    tool_output: str = Field(description="The first 200 characters, then `...`.")
    full_output: str
    failed: bool
    message: str = Field(examples=["Tool execution completed"])


class ApprovalRequiredData(BaseModel):
    call_id: str = Field(description="Answer with `POST .../approvals/{call_id}`.")
    tool_name: str
    arguments: str
    agent: str
    index: int = Field(description="1-based place among the calls pending at once.")
    total: int


class ApprovalResolvedData(BaseModel):
    call_id: str
    approved: bool
    by: Literal["user", "flag", "always", "expired"]


class NestedActivityData(BaseModel):
    parent_call_id: str
    kind: Literal["agent", "model", "tool"]
    title: str
    detail: str


class GuardrailTrippedData(BaseModel):
    guardrail: str
    stage: Literal["input", "output"]


class AgentUpdatedData(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agent: str = Field(description="The agent answering now.")
    from_: str = Field(alias="from", description="The agent that handed off.")


class ContextTrimmedData(BaseModel):
    reason: Literal["window", "history", "overflow"]
    sent_tokens: int
    window: int | None
    sent_messages: int
    dropped_turns: int
    dropped_messages: int
    tokens_counted: bool = Field(description="Counted by a tokenizer, else estimated.")


class RetryData(BaseModel):
    attempt: int
    max_attempts: int
    delay_s: float
    code: str = Field(description="The failure's class.")
    message: str


class ErrorData(BaseModel):
    message: str
    code: str = Field(
        description="`STREAM_ERROR` (the model's run), `STORE_UNAVAILABLE` (a follower's "
        "stream: the store's database does not answer; follow again shortly) or "
        "`INTERNAL_ERROR`."
    )
    kind: str | SkipJsonSchema[None] = optional(
        "With `STREAM_ERROR`: `network`, `timeout`, `rate_limit`, `server`, "
        "`stall`, `model_behavior`, `tool`, `guardrail`, `mcp`, `store` (the store's "
        "database went away before the turn was stored: its reply is kept and stored "
        "when the database is back), ..."
    )


class ResponseCompleteData(BaseModel):
    status: TurnStatus
    final_response: str
    word_count: int
    character_count: int
    session_id: str
    usage: Usage | SkipJsonSchema[None] = optional(
        "Absent when a follower is told how a turn it missed ended."
    )
    metrics: TurnMetricsSummary | SkipJsonSchema[None] = optional("Absent as `usage` is.")
    performance_issues: list[str] | SkipJsonSchema[None] = optional(
        "The tutorial monitor's: TTFT over 2 s, under 10 tokens/s, errors. Absent as `usage` is."
    )
    cached: bool | SkipJsonSchema[None] = optional(
        "True when the reply was replayed from the response cache (`--cache-ttl`: the first "
        "prompt of a fresh session asked before of the same agent, model and instructions; "
        "no model request). Absent as `usage` is."
    )


class StreamEventBase(BaseModel):
    """One Server-Sent Event's ``data``: a JSON object."""

    timestamp: str = Field(description="ISO 8601, UTC.")
    id: str | SkipJsonSchema[None] = optional(
        "`TURN-SEQ`, also the SSE `id:` field: send it back as `Last-Event-ID` "
        "to resume (every event of a started turn has one; `queued` has none)."
    )


class UserMessageData(BaseModel):
    author: str = Field(description='Who typed it (`author` of the POST); "" when none.')
    text: str = Field(description="The prompt as typed.")
    message_id: str = Field(description='The client\'s id for it (`message_id`); "" when none.')


class TurnCancelledData(BaseModel):
    by: str = Field(description="Who cancelled (`by` of `POST .../cancel`).")


class TurnCancelledEvent(StreamEventBase):
    """Someone asked the running turn to stop (followers only); it ends `interrupted`."""

    type: Literal["turn_cancelled"]
    data: TurnCancelledData


class UserMessageEvent(StreamEventBase):
    """A prompt, from any client, as its turn starts: every follower sees who said what."""

    type: Literal["user_message"]
    data: UserMessageData


class SessionUpdateEvent(StreamEventBase):
    type: Literal["session_update"]
    data: SessionUpdateData


class QueuedEvent(StreamEventBase):
    """The prompt waits for the session's running turn (API only)."""

    type: Literal["queued"]
    data: QueuedData


class TypingStartEvent(StreamEventBase):
    type: Literal["typing_start"]
    data: TypingStartData


class ResponseCachedEvent(StreamEventBase):
    """The turn is answered from the response cache (`--cache-ttl`), after `typing_start`:
    no model request; the kept reply's deltas follow, their original gaps compressed (a
    tenth at most, the whole replay within half a second), and `response_complete` says
    `cached: true`."""

    type: Literal["response_cached"]
    data: ResponseCachedData


class TextDeltaEvent(StreamEventBase):
    type: Literal["text_delta"]
    data: TextDeltaData


class ToolStartEvent(StreamEventBase):
    type: Literal["tool_start"]
    data: ToolStartData


class ToolCompleteEvent(StreamEventBase):
    type: Literal["tool_complete"]
    data: ToolCompleteData


class ApprovalRequiredEvent(StreamEventBase):
    type: Literal["approval_required"]
    data: ApprovalRequiredData


class ApprovalResolvedEvent(StreamEventBase):
    type: Literal["approval_resolved"]
    data: ApprovalResolvedData


class NestedActivityEvent(StreamEventBase):
    """What an agent used as a tool does inside its call."""

    type: Literal["nested_activity"]
    data: NestedActivityData


class GuardrailTrippedEvent(StreamEventBase):
    type: Literal["guardrail_tripped"]
    data: GuardrailTrippedData


class AgentUpdatedEvent(StreamEventBase):
    """Only when the answering agent changes (a handoff)."""

    type: Literal["agent_updated"]
    data: AgentUpdatedData


class ContextTrimmedEvent(StreamEventBase):
    """Older turns were left out of a request."""

    type: Literal["context_trimmed"]
    data: ContextTrimmedData


class RetryEvent(StreamEventBase):
    type: Literal["retry"]
    data: RetryData


class ErrorEvent(StreamEventBase):
    """The turn failed (a ``response_complete`` follows when the turn ends)."""

    type: Literal["error"]
    data: ErrorData


class ResponseCompleteEvent(StreamEventBase):
    """The turn's last event."""

    type: Literal["response_complete"]
    data: ResponseCompleteData


StreamEvent = Annotated[
    SessionUpdateEvent
    | UserMessageEvent
    | TurnCancelledEvent
    | QueuedEvent
    | TypingStartEvent
    | ResponseCachedEvent
    | TextDeltaEvent
    | ToolStartEvent
    | ToolCompleteEvent
    | ApprovalRequiredEvent
    | ApprovalResolvedEvent
    | NestedActivityEvent
    | GuardrailTrippedEvent
    | AgentUpdatedEvent
    | ContextTrimmedEvent
    | RetryEvent
    | ErrorEvent
    | ResponseCompleteEvent,
    Field(discriminator="type"),
]


# --- the OpenAPI document ---------------------------------------------------------------------
SCHEMAS = "#/components/schemas/{model}"
ERROR_SCHEMA = SCHEMAS.format(model="ErrorResponse")
JsonDict = dict[str, JsonValue]

# What each error status means, in every operation that can answer it.
ERRORS: Mapping[int, str] = {
    401: "`UNAUTHORIZED`: the server has a token and the request did not send "
    "`Authorization: Bearer TOKEN`.",
    403: "`ORIGIN_NOT_ALLOWED`: an `Origin` header that is neither the server's own nor "
    "one given with `--allow-origin`.",
    404: "`SESSION_NOT_FOUND`: no such session.",
    408: "`REQUEST_TIMEOUT`: the body did not arrive in time.",
    409: "A conflict (see the code).",
    413: "`BODY_TOO_LARGE`: bodies are limited to 256 KB.",
    421: "`HOST_NOT_ALLOWED`: a `Host` that is not the bound address, a loopback name or "
    "one given with `--allow-host`.",
    422: "`INVALID_REQUEST` (a field of the wrong type, a missing field), `INVALID_JSON` "
    "(not JSON, or nested deeper than 32 levels), `INVALID_TEXT` (text of the body, the "
    "path, the query or `Last-Event-ID` that is not valid Unicode or holds NUL, `\\u0000`).",
    429: "`TOO_MANY_STREAMS` (streams open at once) or `TOO_MANY_WAITING` (prompts queued "
    "in the session): try again after `Retry-After` seconds.",
    500: "`INTERNAL_ERROR`: logged with the request id the message names.",
    503: "`SERVER_BUSY`: the server holds as many connections as it takes; "
    "`SHUTTING_DOWN`: it drains on SIGTERM and takes no new turn; `STORE_UNAVAILABLE`: "
    "the store's database does not answer (stopped, restarting); try again after "
    "`Retry-After` seconds.",
}
RETRY_AFTER: JsonDict = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
EVERY_OPERATION = (403, 421, 500, 503)


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path, as the OpenAPI document describes it."""

    method: str
    path: str
    operation_id: str
    summary: str
    description: str = ""
    body: type[RequestBody] | None = None
    body_required: bool = True
    reply: type[BaseModel] | None = None  # the JSON a success answers
    status: int = 200
    media: str = "application/json"  # the success's media type
    reply_text: str = "OK"
    errors: Mapping[int, str] = field(default_factory=dict)  # status -> what (else ERRORS)
    secured: bool = True  # behind the token, when the server has one
    parameters: tuple[JsonDict, ...] = ()  # headers and query parameters


def _error_response(status: int, text: str) -> JsonDict:
    response: JsonDict = {
        "description": text,
        "content": {
            "application/json": {"schema": {"$ref": SCHEMAS.format(model="ErrorResponse")}}
        },
    }
    if status in (429, 503):
        response["headers"] = dict(RETRY_AFTER)
    return response


def _success(op: Operation) -> JsonDict:
    headers: JsonDict = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    if op.status == 201:
        headers["Location"] = {"$ref": "#/components/headers/Location"}
    if op.status == 204:
        return {"description": op.reply_text, "headers": headers}
    if op.media == "text/event-stream":
        schema: JsonDict = {"$ref": SCHEMAS.format(model="ServerSentEvent")}
    elif op.reply is not None:
        schema = {"$ref": SCHEMAS.format(model=op.reply.__name__)}
    elif op.media == "application/json":
        schema = {"type": "object"}
    else:
        schema = {"type": "string"}
    return {
        "description": op.reply_text,
        "headers": headers,
        "content": {op.media: {"schema": schema}},
    }


def _operation(op: Operation) -> JsonDict:
    out: JsonDict = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    names = [part[1:-1] for part in op.path.split("/") if part.startswith("{")]
    parameters: list[JsonValue] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in names
    ]
    parameters += list(op.parameters)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {
                "application/json": {"schema": {"$ref": SCHEMAS.format(model=op.body.__name__)}}
            },
        }
    statuses = {*op.errors, *EVERY_OPERATION, *((401,) if op.secured else ())}
    if op.body is not None:
        statuses |= {408, 413, 422}
    if names or op.parameters:  # text in the path or the query: NUL refused
        statuses |= {422}
    responses: JsonDict = {str(op.status): _success(op)}
    for status in sorted(statuses):
        responses[str(status)] = _error_response(status, op.errors.get(status) or ERRORS[status])
    out["responses"] = responses
    out["security"] = [{"bearerAuth": []}] if op.secured else []
    return out


def component_schemas(models: Iterable[type[BaseModel]]) -> JsonDict:
    """Every model's JSON Schema (2020-12, as OpenAPI 3.1 takes it), named by its class,
    with the event union as ``StreamEvent``."""
    from pydantic import TypeAdapter

    mode: JsonSchemaMode = "validation"
    _, top = models_json_schema([(model, mode) for model in models], ref_template=SCHEMAS)
    schemas: JsonDict = dict(top.get("$defs", {}))
    union = TypeAdapter(StreamEvent).json_schema(ref_template=SCHEMAS)
    schemas.update(union.pop("$defs", {}))
    union["description"] = (
        "One event of a turn: the `data:` line of each Server-Sent Event is one of these, "
        "told apart by `type`."
    )
    schemas["StreamEvent"] = union
    # A stream's schema describes one of its events (OpenAPI 3.1; 3.2's ``itemSchema``):
    # the SSE fields, ``data`` holding a StreamEvent as JSON (what Schemathesis validates).
    schemas["ServerSentEvent"] = {
        "type": "object",
        "description": "One Server-Sent Event of a stream: `data` is a `StreamEvent` as "
        "JSON, `id` its id (`TURN-SEQ`) when it has one.",
        "properties": {
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": SCHEMAS.format(model="StreamEvent")},
            },
            "id": {"type": "string"},
            "event": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
        },
        "required": ["data"],
    }
    return schemas


def openapi_document(operations: Sequence[Operation], *, version: str) -> JsonDict:
    """The OpenAPI 3.1 document of ``operations``, with every model they name."""
    paths: JsonDict = {}
    for op in operations:
        item = paths.setdefault(op.path, {})
        assert isinstance(item, dict)
        item[op.method.lower()] = _operation(op)
    models: list[type[BaseModel]] = [ErrorResponse]
    models += [op.body for op in operations if op.body is not None]
    models += [op.reply for op in operations if op.reply is not None]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "agents-tui API",
            "version": version,
            "description": (
                "Sessions, turns streamed as Server-Sent Events, approvals and statistics "
                '(`agents-tui api`). Every error is `{"error": {"code", "message"}}` '
                "with a stable code. Loopback needs no token; any other address needs "
                "`--token`, and then every request but the page needs "
                "`Authorization: Bearer TOKEN`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": component_schemas(dict.fromkeys(models)),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The server's token (required when it was started "
                    "with one, as it must be off loopback).",
                }
            },
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"},
                },
                "Location": {
                    "description": "The path of what was created.",
                    "schema": {"type": "string"},
                },
                "X-Request-Id": {
                    "description": "The request's id, named by any error it meets and by "
                    "its log line.",
                    "schema": {"type": "string"},
                },
            },
        },
    }
