"""What models this machine can reach: each backend, whether it is configured, and whether it
answers (its model list), for ``agents-tui models``.

Configured means what :mod:`tui.core.models.providers` would use: ``OPENAI_API_KEY`` for
OpenAI, ``--base-url`` (or ``OPENAI_BASE_URL``) for a server, a provider's own key variable
(or ``--model any-llm/PROVIDER/…`` with ``--base-url``/``--api-key``) for any-llm, an
installed extra for LiteLLM and the bundled model. Reachable is asked, never guessed: the
provider's model list, each with a short timeout, all at once.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field

from tui.core.config import Settings
from tui.core.secrets import redact, strip_userinfo

# any-llm providers and the variable each reads its key from (the common ones; any other
# is reached by naming it: --model any-llm/PROVIDER/MODEL)
ANY_LLM_KEYS = {
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
}
SHOWN_MODELS = 5


@dataclass(slots=True)
class Reach:
    """One backend: how it is configured (empty: it is not) and what it answered."""

    name: str
    configured: str = ""
    reachable: bool | None = None  # None: not asked (not configured, or nothing to ask)
    detail: str = ""
    models: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "configured": self.configured or None,
            "reachable": self.reachable,
            "detail": self.detail,
            "models": self.models,
        }


async def _ask(reach: Reach, listing: Awaitable[list[str]], timeout: float) -> None:
    try:
        reach.models = sorted(await asyncio.wait_for(listing, timeout))
    except Exception as error:  # what the provider said, one line, secrets out
        reach.reachable = False
        text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        reach.detail = redact(f"{type(error).__name__}: {text}" if text else type(error).__name__)
        return
    reach.reachable = True
    shown = ", ".join(reach.models[:SHOWN_MODELS])
    more = f", … ({len(reach.models)})" if len(reach.models) > SHOWN_MODELS else ""
    count = f"{len(reach.models)} model{'s' if len(reach.models) != 1 else ''}"
    reach.detail = f"{count}: {shown}{more}" if reach.models else "no models"


async def _openai_models(base_url: str | None, api_key: str, timeout: float) -> list[str]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout)
    try:
        return [model.id async for model in client.models.list()]
    finally:
        await client.close()


async def _any_llm_models(
    provider: str, base_url: str | None, api_key: str | None, timeout: float
) -> list[str]:
    from any_llm import AnyLLM

    llm = AnyLLM.create(provider, api_key=api_key, api_base=base_url)
    return [model.id for model in await llm.alist_models()]


async def inventory(
    settings: Settings, environ: Mapping[str, str], timeout: float = 5.0
) -> list[Reach]:
    """Every backend, configured or not, the configured ones asked for their models."""
    from tui.core.models.providers import server_url
    from tui.core.models.routed import prefix_of

    importlib.import_module("openai")  # before the timers start, as any_llm below

    out: list[Reach] = []
    asks: list[Awaitable[None]] = []

    openai = Reach("OpenAI")
    key = settings.api_key or environ.get("OPENAI_API_KEY")
    if key:
        openai.configured = "--api-key" if settings.api_key else "OPENAI_API_KEY"
        asks.append(_ask(openai, _openai_models(None, key, timeout), timeout))
    else:
        openai.detail = "set OPENAI_API_KEY"
    out.append(openai)

    try:
        url = server_url(settings, environ)
    except Exception as error:
        out.append(Reach("server", detail=str(error)))
        url = None
    routed = prefix_of(settings.model)
    if url and not routed:
        server = Reach(f"server {strip_userinfo(url)}")
        server.configured = "--base-url" if settings.base_url else "OPENAI_BASE_URL"
        server_key = settings.api_key or environ.get("AGENTS_TUI_API_KEY") or "not-needed"
        asks.append(_ask(server, _openai_models(url, server_key, timeout), timeout))
        out.append(server)
    elif not url:
        out.append(Reach("server", detail="--base-url URL (or OPENAI_BASE_URL)"))

    out += _any_llm(settings, environ, timeout, asks, routed)
    litellm = Reach("litellm/")
    if importlib.util.find_spec("litellm") is None:
        litellm.detail = "pip install 'agents-tui[litellm]'"
    else:
        litellm.configured = "installed"
        litellm.detail = "--model litellm/PROVIDER/MODEL, the provider's variables"
    out.append(litellm)
    out.append(_local(settings))
    await asyncio.gather(*asks)
    return out


def _any_llm(
    settings: Settings,
    environ: Mapping[str, str],
    timeout: float,
    asks: list[Awaitable[None]],
    routed: str | None,
) -> list[Reach]:
    if importlib.util.find_spec("any_llm") is None:
        return [Reach("any-llm/", detail="pip install 'agents-tui[providers]'")]
    # Imported here, before any timer starts: an import inside the asks would hold the loop
    # (a second or more) and time the others out.
    importlib.import_module("any_llm")
    named = None
    if routed == "any-llm" and settings.model:
        named = settings.model.split("/")[1]
    out = []
    for provider in sorted({*ANY_LLM_KEYS, *([named] if named else [])}):
        reach = Reach(f"any-llm/{provider}")
        variable = ANY_LLM_KEYS.get(provider, "")
        key = None
        if provider == named and (settings.api_key or settings.base_url):
            key = settings.api_key or environ.get("AGENTS_TUI_API_KEY")
            reach.configured = "--api-key" if settings.api_key else "--base-url"
        elif variable and environ.get(variable):
            reach.configured = variable
        if reach.configured:
            base = settings.base_url if provider == named else None
            listing = _any_llm_models(provider, base, key, timeout)
            asks.append(_ask(reach, listing, timeout))
            out.append(reach)
    if not out:
        variables = ", ".join(ANY_LLM_KEYS.values())
        detail = f"set a provider's key ({variables}) or --model any-llm/PROVIDER/MODEL"
        out.append(Reach("any-llm/", configured="installed", detail=detail))
    return out


def _local(settings: Settings) -> Reach:
    from pathlib import Path

    local = Reach("local")
    if importlib.util.find_spec("llama_cpp") is None:
        local.detail = "pip install 'agents-tui[local]'"
        return local
    try:
        from tui.core.models.local_model import bundled_model_path

        path = Path(settings.model_path) if settings.model_path else bundled_model_path()
    except Exception as error:
        local.detail = str(error)
        return local
    local.configured = "--model-path" if settings.model_path else "bundled"
    local.reachable = path.exists()
    local.models = [path.stem] if path.exists() else []
    local.detail = path.stem if path.exists() else f"model file not found: {path}"
    return local
