"""Classify failures and word them for a person: what happened and what to do next."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.i18n import _
from tui.core.secrets import redact

# ``injected``: a fault made on purpose by ``--inject-faults`` (tui.core.turn.faults)
TRANSIENT_KINDS = frozenset({"network", "timeout", "rate_limit", "server", "stall", "injected"})


class StreamStalled(Exception):
    """No event arrived for the configured stall timeout."""


@dataclass(frozen=True, slots=True)
class Classified:
    kind: str
    message: str
    retry_after_s: float | None = None

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS


def _retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def guardrail_of(error: BaseException) -> tuple[str, str]:
    """The tripped guardrail's name and stage (input / output) from the SDK's exception."""
    result = getattr(error, "guardrail_result", None)
    guardrail = getattr(result, "guardrail", None)
    get_name = getattr(guardrail, "get_name", None)
    name = str(get_name()) if callable(get_name) else "guardrail"
    stage = "input" if type(error).__name__.startswith("Input") else "output"
    return name, stage


def classify(error: BaseException) -> Classified:
    """Map any exception from a run to a kind and a one-line, actionable message."""
    name = type(error).__name__
    # A provider's own words, without any secret they echo (a key, a URL's password).
    text = redact(str(error).strip().splitlines()[0][:300]) if str(error).strip() else name
    status = getattr(error, "status_code", None)
    if name == "StoreUnavailable":  # the store's database is away (its words are a person's)
        return Classified("store", text)
    if name == "InjectedFault":
        return Classified("injected", _("Injected fault: {text}").format(text=text))
    if isinstance(error, StreamStalled):
        return Classified("stall", _("The stream stalled: {text}").format(text=text))
    if name == "MaxTurnsExceeded":
        return Classified(
            "max_turns", _("The agent used too many turns ({text}).").format(text=text)
        )
    if name in ("ModelBehaviorError", "ModelRefusalError"):
        return Classified("model_behavior", _("The model misbehaved: {text}").format(text=text))
    if "GuardrailTripwireTriggered" in name:
        guardrail, stage = guardrail_of(error)
        return Classified(
            "guardrail",
            _("The {stage} guardrail {guardrail!r} stopped the run.").format(
                stage=stage, guardrail=guardrail
            ),
        )
    if name in ("ToolTimeoutError",):
        return Classified("tool", _("A tool timed out: {text}").format(text=text))
    if name == "RateLimitError" or status == 429:
        return Classified(
            "rate_limit",
            _("Rate limited by the provider: {text}").format(text=text),
            _retry_after(error),
        )
    if name == "AuthenticationError" or status == 401:
        return Classified(
            "auth",
            _("The API key was rejected: {text}. Check OPENAI_API_KEY or --api-key.").format(
                text=text
            ),
        )
    if name == "NotFoundError" or status == 404:
        return Classified(
            "not_found", _("Not found (unknown model or wrong URL?): {text}").format(text=text)
        )
    if name == "InternalServerError" or (isinstance(status, int) and status >= 500):
        return Classified(
            "server",
            _("The server failed ({status}): {text}").format(status=status, text=text),
            _retry_after(error),
        )
    if name in ("APITimeoutError", "ModelTimeoutError", "TimeoutError", "ReadTimeout"):
        return Classified("timeout", _("The request timed out: {text}").format(text=text))
    if name in (
        "APIConnectionError",
        "RemoteProtocolError",
        "ReadError",
        "ConnectError",
        "IncompleteRead",
        "ConnectionResetError",
        "ConnectionError",
        "BrokenPipeError",
        "StreamEndedEarly",
    ):
        return Classified("network", _("The connection failed: {text}").format(text=text))
    if name in ("JSONDecodeError", "DecodingError") or "incomplete" in text.lower():
        return Classified(
            "server", _("The server sent a malformed stream: {text}").format(text=text)
        )
    if isinstance(status, int):
        return Classified(
            "provider", _("The provider answered {status}: {text}").format(status=status, text=text)
        )
    if name in ("UserError", "AgentsException"):
        return Classified("config", f"{text}")
    return Classified("error", f"{name}: {text}")
