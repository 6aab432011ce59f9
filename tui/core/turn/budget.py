"""What of the conversation fits the model's context window.

The model's memory keeps the whole conversation; what is *sent* each turn is fitted here.
A turn is a group of items that starts at a user message (its tool calls and their
results, and the replies, follow it): when the history does not fit, the oldest whole
turns give way, so a tool call never travels without its result. Items before the first
user message (a system or developer message) always go, and so does the newest turn.

Tokens are counted with the model's own tokenizer where one is at hand (the bundled
model's ``Llama.tokenize``); otherwise estimated as one token per three characters
(English averages about four, so the estimate runs high) plus a safety margin.

Cuts move in steps, not a turn at a time: once the history overflows, turns are dropped
until it fills at most ``refill`` of the budget, and that cut stays until it overflows
again. Consecutive requests then share their beginning, which llama.cpp (and a server's
prompt cache) reuse instead of evaluating the whole prompt again every turn.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from tui.core.i18n import _, ngettext

if TYPE_CHECKING:
    from agents.items import TResponseInputItem

    from tui.core.events import ContextFitted

Item = TypeVar("Item")

TokenCounter = Callable[[str], int]

MESSAGE_OVERHEAD = 5  # tokens around each message in a chat template (<|im_start|>role ...)
ESTIMATE_MARGIN = 0.10  # headroom left when tokens are estimated, not counted
COUNTED_MARGIN = 0.03  # headroom left with the model's own tokenizer (template tokens)
REFILL = 0.7  # after a cut, the history fills at most this share of the budget


def estimate_tokens(text: str) -> int:
    """Three characters a token, rounded up: high for English prose, safe for code."""
    return math.ceil(len(text) / 3)


def item_text(item: object) -> str:
    """The words an input item puts in front of the model (what is counted)."""
    fields: dict[str, object]
    if isinstance(item, dict):
        fields = item
    else:
        dump = getattr(item, "model_dump", None)
        fields = dump(exclude_unset=True) if callable(dump) else {"content": str(item)}
    parts: list[str] = []
    content = fields.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text") or part.get("refusal") or ""))
            else:
                parts.append(str(part))
    for key in ("name", "arguments", "summary"):
        value = fields.get(key)
        if isinstance(value, str):
            parts.append(value)
    output = fields.get("output")
    if output is not None:
        parts.append(output if isinstance(output, str) else json.dumps(output, default=str))
    return "\n".join(parts)


def is_user_message(item: object) -> bool:
    return (
        isinstance(item, dict)
        and item.get("role") == "user"
        and item.get("type")
        in (
            None,
            "message",
        )
    )


def is_message(item: object) -> bool:
    """A user, assistant or system message (tool calls and their outputs are not)."""
    return (
        isinstance(item, dict)
        and item.get("role") in ("user", "assistant", "system", "developer")
        and item.get("type") in (None, "message")
    )


def split_turns(items: Sequence[Item]) -> tuple[list[Item], list[list[Item]]]:
    """(items before the first user message, then one list per turn, oldest first)."""
    head: list[Item] = []
    turns: list[list[Item]] = []
    for item in items:
        if is_user_message(item):
            turns.append([item])
        elif turns:
            turns[-1].append(item)
        else:
            head.append(item)
    return head, turns


@dataclass(frozen=True, slots=True)
class Fitted:
    """One request's input, and what was left out of it."""

    items: list[TResponseInputItem]
    tokens: int  # input tokens of the request as counted (instructions and tools included)
    window: int | None  # the model's window, when known
    turns_sent: int = 0
    dropped_turns: int = 0
    dropped_messages: int = 0
    reason: str = ""  # "window", "history" or "overflow" when something was left out
    counted: bool = False  # tokens from the model's tokenizer, not an estimate

    @property
    def trimmed(self) -> bool:
        return self.dropped_turns > 0 or self.dropped_messages > 0


@dataclass(slots=True)
class ContextBudget:
    """The window of one model, and how to count tokens for it."""

    window: int | None = None  # tokens the model can take in (prompt and reply)
    reserve: int = 512  # tokens kept free for the reply
    history: int | None = None  # send at most this many messages (--history)
    counter: TokenCounter | None = None  # the model's own tokenizer, if at hand
    refill: float = REFILL
    _cut: int = field(default=0, repr=False)  # turns left out of the last request

    def reset(self) -> None:
        """A new conversation: nothing is left out yet."""
        self._cut = 0

    def count(self, text: str) -> int:
        if self.counter is not None:
            try:
                return int(self.counter(text))
            except Exception:  # a model not loaded yet: estimate, never fail the turn
                pass
        return estimate_tokens(text)

    @property
    def counted(self) -> bool:
        return self.counter is not None

    def limit(self) -> int | None:
        """Input tokens a request may carry (the window less the reply and the margin)."""
        if self.window is None:
            return None
        margin = COUNTED_MARGIN if self.counted else ESTIMATE_MARGIN
        return max(1, int((self.window - self.reserve) * (1 - margin)))

    def learn_window(self, window: int | None, sent_tokens: int) -> None:
        """A server refused the request as too long: take its word for the window, or,
        when it named none, assume what was sent was a third too much."""
        if window is not None and window > 0:
            self.window = window
            if self.reserve * 2 > window:
                self.reserve = window // 4
        else:
            self.window = max(64, int(sent_tokens * 2 / 3) + self.reserve)

    def fit(
        self,
        items: Sequence[TResponseInputItem],
        *,
        fixed: str = "",
        tail: Sequence[TResponseInputItem] = (),
    ) -> Fitted:
        """The newest turns of ``items`` that fit, plus ``tail`` (always sent).

        ``fixed`` is what every request carries besides the items (instructions, tool
        schemas): counted, never dropped.
        """
        head, turns = split_turns(items)
        fixed_tokens = (self.count(fixed) + MESSAGE_OVERHEAD) if fixed else 0
        kept_tokens = fixed_tokens + sum(self._tokens(item) for item in [*head, *tail])
        turn_tokens = [0] * len(turns)
        limit = self.limit()
        cut = min(self._cut, max(0, len(turns) - 1))

        def size(start: int) -> int:
            for index in range(start, len(turns)):
                if not turn_tokens[index]:
                    turn_tokens[index] = sum(self._tokens(item) for item in turns[index])
            return kept_tokens + sum(turn_tokens[start:])

        total = size(cut)
        reason = "window" if cut else ""
        if limit is not None and total > limit:
            # Overflowing: drop whole turns until the rest fills at most ``refill``.
            target = int(limit * self.refill)
            while cut < len(turns) - 1 and total > target:
                total -= turn_tokens[cut]
                cut += 1
            reason = "window"
        self._cut = cut
        sent_turns = turns[cut:]
        dropped_messages = 0
        kept = [item for turn in sent_turns for item in turn]
        if self.history is not None:
            kept, dropped_messages = _last_messages(kept, self.history)
            if dropped_messages:
                reason = "history" if not cut else reason
                total = kept_tokens + sum(self._tokens(item) for item in kept)
        return Fitted(
            items=[*head, *kept, *tail],
            tokens=total,
            window=self.window,
            turns_sent=len(sent_turns),
            dropped_turns=cut,
            dropped_messages=dropped_messages,
            reason=reason,
            counted=self.counted,
        )

    def _tokens(self, item: object) -> int:
        return self.count(item_text(item)) + MESSAGE_OVERHEAD


def _last_messages(
    items: list[TResponseInputItem], limit: int
) -> tuple[list[TResponseInputItem], int]:
    """The items from the ``limit``-th newest message on (the source tutorial's
    ``history[-6:]``), with a kept tool result's call kept too; and how many messages were
    left out. The newest turn's prompt is always kept."""
    positions = [i for i, item in enumerate(items) if is_message(item)]
    if len(positions) <= limit:
        return items, 0
    last_user = max((i for i in positions if is_user_message(items[i])), default=0)
    start = min(positions[-max(1, limit)], last_user)
    # Never open on a tool result whose call would be left behind.
    calls = {
        item.get("call_id"): i
        for i, item in enumerate(items)
        if isinstance(item, dict) and item.get("type") == "function_call"
    }
    for item in items[start:]:
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            call_at = calls.get(item.get("call_id"))
            if call_at is not None and call_at < start:
                start = call_at
    while (
        start > 0 and not is_message(items[start]) and items[start].get("type") != ("function_call")
    ):
        start -= 1
    dropped = sum(1 for i in positions if i < start)
    return items[start:], dropped


# --- a server's "too long" answer --------------------------------------------------------------
_CONTEXT_PATTERNS = (
    re.compile(r"context_length_exceeded"),
    re.compile(r"maximum context length", re.I),
    re.compile(r"exceeds? (the )?(available )?context", re.I),
    re.compile(r"context (window|size|length) (of|is|exceeded)", re.I),
    re.compile(r"too many tokens", re.I),
    re.compile(r"prompt is too long", re.I),
)
_WINDOW_PATTERNS = (
    re.compile(r"maximum context length is (\d+)", re.I),
    re.compile(r"context window of (\d+)", re.I),
    re.compile(r"context size \((\d+)", re.I),
    re.compile(r"n_ctx(?:_slot)?\s*[=:]?\s*(\d+)", re.I),
    re.compile(r"context (?:length|window|size) (?:is|of) (\d+)", re.I),
)


def context_overflow(error: BaseException) -> tuple[bool, int | None]:
    """(was this a context-length refusal, the window it named)."""
    code = getattr(error, "code", None)
    body = getattr(error, "body", None)
    text = str(error)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            code = code or inner.get("code")
            text += " " + str(inner.get("message", ""))
    status = getattr(error, "status_code", None)
    matched = code == "context_length_exceeded" or any(p.search(text) for p in _CONTEXT_PATTERNS)
    if not matched or (status is not None and status not in (400, 413, 422)):
        return False, None
    for pattern in _WINDOW_PATTERNS:
        found = pattern.search(text)
        if found:
            return True, int(found.group(1))
    return True, None


def context_note(event: ContextFitted) -> tuple[str, str]:
    """A timeline row for a ``ContextFitted`` event: a title and its detail."""
    size = f"{event.sent_tokens:,}" + (f" / {event.window:,}" if event.window else "")
    unit = _("tokens") if event.counted else _("tokens (estimated)")
    if event.reason == "overflow":
        window = " " + _("(window: {n:,} tokens)").format(n=event.window) if event.window else ""
        return (
            _("context too long: trimmed, sending again"),
            _("The model refused {n:,} {unit} as too long{window}; ").format(
                n=event.sent_tokens, unit=unit, window=window
            )
            + _("older turns are left out of this and later requests. Nothing is deleted."),
        )
    if event.dropped_turns:
        n = event.dropped_turns
        left = ngettext("{n} earlier turn", "{n} earlier turns", n).format(n=n)
    else:
        n = event.dropped_messages
        left = ngettext("{n} message", "{n} messages", n).format(n=n)
    why = _("to fit the model's window") if event.reason == "window" else "(--history)"
    return (
        _("context: {left} left out").format(left=left),
        _("{left} left out of this request {why}; sent {n} messages, {size} {unit}. ").format(
            left=left, why=why, n=event.sent_messages, size=size, unit=unit
        )
        + _("The whole conversation stays stored, searchable and exported."),
    )


def describe_context(budget: ContextBudget, last: Fitted | None) -> tuple[str, str]:
    """What ``/context`` shows: the budget, and what the last request carried."""
    window = (
        _("{n:,} tokens").format(n=budget.window)
        if budget.window
        else _("unknown (no --context-window)")
    )
    counting = (
        _("the model's own tokenizer") if budget.counted else _("an estimate (3 chars a token)")
    )
    lines = [
        _("window: {window}; tokens counted by {counting}").format(window=window, counting=counting)
    ]
    if budget.history is not None:
        lines.append(_("--history: at most the last {n} messages").format(n=budget.history))
    if last is None:
        lines.append(_("No request yet in this conversation."))
        return _("Context"), "\n".join(lines)
    left = []
    if last.dropped_turns:
        left.append(_("{n} earlier turns").format(n=last.dropped_turns))
    if last.dropped_messages:
        left.append(_("{n} messages").format(n=last.dropped_messages))
    lines.append(
        _(
            "last request: {messages} messages, {items} items, "
            "{tokens:,} tokens with the instructions; "
        ).format(
            messages=sum(1 for i in last.items if is_message(i)),
            items=len(last.items),
            tokens=last.tokens,
        )
        + (_("left out: {what}").format(what=", ".join(left)) if left else _("nothing left out"))
    )
    lines.append("")
    for number, item in enumerate(last.items, 1):
        kind = item.get("role") or item.get("type", "item") if isinstance(item, dict) else "item"
        text = " ".join(item_text(item).split())
        lines.append(f"{number:>3} {kind}: {text[:100]}{'…' if len(text) > 100 else ''}")
    return _("Context sent to the model"), "\n".join(lines)
