"""Models the SDK routes by prefix: ``any-llm/PROVIDER/MODEL`` and ``litellm/PROVIDER/MODEL``.

The SDK's ``MultiProvider`` maps each prefix to a provider; its own fallbacks take no key and
no URL, so here each prefix gets a provider built with the ``--base-url`` and ``--api-key``
given (none given: the provider's own environment variable, ``ANTHROPIC_API_KEY``,
``GEMINI_API_KEY``, ...). The models they return are the SDK's, with two changes the other
backends have too: the turn's retry policy retries, not the provider's client, and a stream
that ends without its finish reason raises (``stream_end``) instead of passing for a short
reply.

Importing this module imports neither extension: each is loaded when its prefix is used,
and a missing one is reported with the extra that installs it.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.models.interface import Model, ModelProvider

# prefix -> (the module it needs, the pip extra that installs it)
PREFIXES: dict[str, tuple[str, str]] = {
    "any-llm": ("any_llm", "providers"),
    "litellm": ("litellm", "litellm"),
}


class MissingExtra(Exception):
    """The prefix's library is not installed; the message names the extra to install."""


def prefix_of(model: str | None) -> str | None:
    """``any-llm`` for ``any-llm/anthropic/claude-…``; None for a name no router takes."""
    head, slash, rest = (model or "").partition("/")
    return head if slash and rest and head in PREFIXES else None


def check_installed(prefix: str) -> None:
    module, extra = PREFIXES[prefix]
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(
            f"{prefix}/ models need {module}: pip install 'agents-tui[{extra}]' "
            "(or uv tool install 'agents-tui[" + extra + "]')"
        )


def routed_model(model: str, base_url: str | None, api_key: str | None) -> Model:
    """The SDK model for ``model`` (a prefixed name), through the SDK's ``MultiProvider``."""
    from agents.models.multi_provider import MultiProvider, MultiProviderMap

    prefix = prefix_of(model)
    if prefix is None:
        raise ValueError(f"{model!r} has no any-llm/ or litellm/ prefix")
    check_installed(prefix)
    routes = MultiProviderMap()  # type: ignore[no-untyped-call]
    routes.add_provider(prefix, _PROVIDERS[prefix](base_url, api_key))
    return MultiProvider(provider_map=routes).get_model(model)


def _any_llm_provider(base_url: str | None, api_key: str | None) -> ModelProvider:
    from agents.extensions.models.any_llm_model import AnyLLMModel
    from agents.models.interface import ModelProvider

    from tui.core.models.stream_end import EndChecked, _chat_finished

    class CheckedAnyLLMModel(AnyLLMModel):
        def _get_provider(self) -> Any:
            # The turn's RetryPolicy retries (and continues a cut reply); a client that also
            # retried would multiply the attempts and hide the failures from the metrics.
            from agents.models._retry_runtime import provider_managed_retries_disabled

            with provider_managed_retries_disabled(True):
                return super()._get_provider()

        async def _fetch_chat_response(self, *args: Any, **kwargs: Any) -> Any:
            result = await super()._fetch_chat_response(*args, **kwargs)
            if kwargs.get("stream"):
                response, stream = result
                return response, EndChecked(stream, _chat_finished, "any-llm chat")
            return result

    class AnyLLMRoutes(ModelProvider):
        def get_model(self, model_name: str | None) -> Model:
            return CheckedAnyLLMModel(
                model=model_name or "", base_url=base_url, api_key=api_key, api="chat_completions"
            )

    return AnyLLMRoutes()


def _litellm_provider(base_url: str | None, api_key: str | None) -> ModelProvider:
    import os

    # LiteLLM fetches its price list from the network when imported (three tries, about ten
    # seconds offline); the copy it ships is enough here.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    from agents.extensions.models.litellm_model import LitellmModel
    from agents.models.interface import ModelProvider

    litellm.suppress_debug_info = True  # its "Give Feedback / Get Help" banner on each error

    class LitellmRoutes(ModelProvider):
        def get_model(self, model_name: str | None) -> Model:
            return LitellmModel(model=model_name or "", base_url=base_url, api_key=api_key)

    return LitellmRoutes()


_PROVIDERS = {"any-llm": _any_llm_provider, "litellm": _litellm_provider}
