"""Choose and build the model backend: OpenAI, any OpenAI-compatible server, a model the SDK
routes by prefix (``any-llm/…``, ``litellm/…``), or the bundled model.

:class:`Backend` is the one interface (a label to show, a context budget, the SDK
``RunConfig`` that reaches the model); each kind of backend is a subclass below, and
:data:`CHOOSERS` builds the one the settings ask for. Choice for ``provider = "auto"``: a
routed prefix on ``--model`` > ``--base-url`` > a user agent's own ``Model`` object >
``OPENAI_BASE_URL`` > ``OPENAI_API_KEY`` > the bundled local model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from tui.core.config import Settings
from tui.core.secrets import remember, strip_userinfo, userinfo_secrets

if TYPE_CHECKING:
    from agents import Agent, RunConfig
    from agents.models.interface import Model

    from tui.core.turn.budget import ContextBudget
    from tui.core.turn.runner import TurnRunner

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_COMPAT_MODEL = "local-model"


class ProviderError(Exception):
    """The chosen backend cannot work; the message says why and how to fix it."""


@dataclass(slots=True)
class Backend:
    """What every backend answers: its label, its context budget and its ``RunConfig``."""

    kind: ClassVar[str] = "?"
    model_name: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model_path: Path | None = None
    # The LlamaEngine for "local". Any, not ``LlamaEngine | None``: tui/bench/long_local.py
    # loads it with no None check.
    engine: Any = None

    @property
    def label(self) -> str:
        """Shown and stored: never a URL's credentials."""
        raise NotImplementedError

    def run_config(self) -> RunConfig:
        """The SDK ``RunConfig`` that routes every agent in the run to this backend."""
        raise NotImplementedError

    def budget(self, settings: Settings) -> ContextBudget:
        """How much of the conversation each request may carry (``tui.core.turn.budget``)."""
        from tui.core.turn.budget import ContextBudget

        window = settings.context_window
        reserve = 512 if window is None or window > 4096 else max(64, window // 8)
        return ContextBudget(window=window, reserve=reserve, history=settings.history)


@dataclass(slots=True)
class OpenAIBackend(Backend):
    kind: ClassVar[str] = "openai"

    @property
    def label(self) -> str:
        return f"OpenAI · {self.model_name}"

    def run_config(self) -> RunConfig:
        from agents import RunConfig
        from openai import AsyncOpenAI

        from tui.core.models import request_cache
        from tui.core.models.stream_end import CheckedResponsesModel

        request_cache.install("responses")  # a request no longer re-walks the conversation
        client = AsyncOpenAI(api_key=self.api_key, max_retries=0)
        return RunConfig(model=CheckedResponsesModel(self.model_name, client))


@dataclass(slots=True)
class CompatBackend(Backend):
    kind: ClassVar[str] = "compat"

    @property
    def label(self) -> str:
        return f"{strip_userinfo(self.base_url)} · {self.model_name}"

    def run_config(self) -> RunConfig:
        from agents import ModelSettings, RunConfig
        from openai import AsyncOpenAI

        from tui.core.models import request_cache
        from tui.core.models.stream_end import CheckedChatCompletionsModel

        request_cache.install("chat")
        client = AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key or "not-needed", max_retries=0
        )
        return RunConfig(
            model=CheckedChatCompletionsModel(self.model_name, client),
            model_settings=ModelSettings(include_usage=True),
            tracing_disabled=True,
        )


@dataclass(slots=True)
class RoutedBackend(Backend):
    """``any-llm/PROVIDER/MODEL`` or ``litellm/PROVIDER/MODEL``: the SDK's ``MultiProvider``
    picks the model (``tui.core.models.routed``); ``base_url`` and ``api_key`` go to it."""

    kind: ClassVar[str] = "routed"

    @property
    def label(self) -> str:
        where = f"{strip_userinfo(self.base_url)} · " if self.base_url else ""
        return f"{where}{self.model_name}"

    def run_config(self) -> RunConfig:
        from agents import ModelSettings, RunConfig

        from tui.core.models.routed import routed_model

        try:
            model = routed_model(self.model_name, self.base_url, self.api_key)
        except Exception as error:  # any-llm's own: no key, an unknown provider
            raise ProviderError(f"{self.model_name}: {error}") from None
        return RunConfig(
            model=model,
            model_settings=ModelSettings(include_usage=True),
            tracing_disabled=True,  # the SDK's tracing would upload to OpenAI
        )


@dataclass(slots=True)
class AgentBackend(Backend):
    """The agent's own ``Model`` object, as the user's module built it."""

    kind: ClassVar[str] = "agent"

    @property
    def label(self) -> str:
        return f"agent's own model · {self.model_name}"

    def run_config(self) -> RunConfig:
        from agents import RunConfig

        return RunConfig(tracing_disabled=True)


@dataclass(slots=True)
class LocalBackend(Backend):
    """The bundled GGUF model (or ``--model-path``) through llama-cpp-python."""

    kind: ClassVar[str] = "local"

    @property
    def label(self) -> str:
        return f"local · {self.model_name}"

    def budget(self, settings: Settings) -> ContextBudget:
        from tui.core.turn.budget import ContextBudget

        if self.engine is None:
            return Backend.budget(self, settings)
        from tui.core.models.local_model import DEFAULT_MAX_TOKENS

        return ContextBudget(
            window=settings.context_window or self.engine.n_ctx,
            reserve=DEFAULT_MAX_TOKENS,
            history=settings.history,
            counter=self.engine.count_text,
        )

    def run_config(self) -> RunConfig:
        from agents import ModelSettings, RunConfig

        from tui.core.models.local_model import make_local_model

        return RunConfig(
            model=make_local_model(self.engine),
            model_settings=ModelSettings(include_usage=True),
            tracing_disabled=True,
        )


def _agent_model(agent: Agent | None) -> Model | None:
    model = getattr(agent, "model", None)
    return None if model is None or isinstance(model, str) else model


def server_url(settings: Settings, env: Mapping[str, str]) -> str | None:
    """``--base-url`` (flag, ``AGENTS_TUI_BASE_URL``, file), else ``OPENAI_BASE_URL`` as the
    openai library reads it."""
    url = settings.base_url or env.get("OPENAI_BASE_URL") or None
    if url and not settings.base_url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ProviderError(
                f"OPENAI_BASE_URL {strip_userinfo(url)!r} is not an http(s) URL; "
                "fix it or unset it (e.g. http://127.0.0.1:8080/v1)"
            )
    return url


def _auto(settings: Settings, agent: Agent | None, env: Mapping[str, str]) -> str:
    from tui.core.models.routed import prefix_of

    if prefix_of(settings.model):
        return "routed"
    if settings.base_url:
        return "compat"
    if _agent_model(agent) is not None:
        return "agent"  # the user's own Model object, unless a flag says otherwise
    if server_url(settings, env):  # OPENAI_BASE_URL
        return "compat"
    if settings.api_key or env.get("OPENAI_API_KEY"):
        return "openai"
    return "local"


def _openai(settings: Settings, _agent: Agent | None, env: Mapping[str, str]) -> Backend:
    key = settings.api_key or env.get("OPENAI_API_KEY")
    if not key:
        raise ProviderError("OpenAI needs an API key: set OPENAI_API_KEY or pass --api-key")
    return OpenAIBackend(settings.model or DEFAULT_OPENAI_MODEL, api_key=key)


def _compat(settings: Settings, _agent: Agent | None, env: Mapping[str, str]) -> Backend:
    url = server_url(settings, env)
    if not url:
        raise ProviderError(
            "--provider compat needs --base-url URL (e.g. http://127.0.0.1:8080/v1)"
        )
    key = settings.api_key or env.get("AGENTS_TUI_API_KEY")
    if not key and not settings.base_url:
        key = env.get("OPENAI_API_KEY")  # OPENAI_BASE_URL's pair, as the openai library reads it
    return CompatBackend(settings.model or DEFAULT_COMPAT_MODEL, url, key)


def _routed(settings: Settings, _agent: Agent | None, env: Mapping[str, str]) -> Backend:
    from tui.core.models.routed import MissingExtra, check_installed, prefix_of

    prefix = prefix_of(settings.model)
    if prefix is None or settings.model is None:
        raise ProviderError("a routed model is named PREFIX/PROVIDER/MODEL, e.g. any-llm/…")
    try:
        check_installed(prefix)
    except MissingExtra as error:
        raise ProviderError(str(error)) from None
    # No OPENAI_API_KEY here: that key is OpenAI's; without --api-key the provider reads its
    # own variable (ANTHROPIC_API_KEY, GEMINI_API_KEY, ...).
    key = settings.api_key or env.get("AGENTS_TUI_API_KEY")
    return RoutedBackend(settings.model, settings.base_url, key)


def _agent(_settings: Settings, agent: Agent | None, _env: Mapping[str, str]) -> Backend:
    model = _agent_model(agent)
    name = getattr(model, "model", None) or type(model).__name__
    return AgentBackend(str(name))


def _local(settings: Settings, _agent: Agent | None, _env: Mapping[str, str]) -> Backend:
    from tui.core.models.local_model import LlamaEngine, bundled_model_path, check_llama_installed

    try:
        check_llama_installed()
        path = Path(settings.model_path) if settings.model_path else bundled_model_path()
    except Exception as error:
        raise ProviderError(str(error)) from None
    if not path.exists():
        raise ProviderError(f"model file not found: {path} (check --model-path)")
    return LocalBackend(path.stem, model_path=path, engine=LlamaEngine(path))


Chooser = Callable[[Settings, "Agent | None", Mapping[str, str]], Backend]

# provider -> what builds its backend ("auto" picks one of these with ``_auto``)
CHOOSERS: dict[str, Chooser] = {
    "openai": _openai,
    "compat": _compat,
    "routed": _routed,
    "agent": _agent,
    "local": _local,
}


def choose_backend(
    settings: Settings, agent: Agent | None = None, environ: Mapping[str, str] | None = None
) -> Backend:
    env = os.environ if environ is None else environ
    # Every provider's key this process holds is hidden wherever it might be echoed.
    remember(settings.api_key, *(v for k, v in env.items() if k.endswith("_API_KEY")))
    userinfo_secrets(settings.base_url)
    userinfo_secrets(env.get("OPENAI_BASE_URL"))
    provider = _auto(settings, agent, env) if settings.provider == "auto" else settings.provider
    from tui.core.models.routed import prefix_of

    if prefix_of(settings.model) and provider != "routed":
        raise ProviderError(
            f"--model {settings.model} is routed by the SDK ({prefix_of(settings.model)}/): "
            f"leave out --provider {provider} (or use --provider auto)"
        )
    return CHOOSERS[provider](settings, agent, env)


def build_runner(settings: Settings) -> tuple[TurnRunner, Backend]:
    """Agent + backend + runner from settings; raises AgentLoadError or ProviderError."""
    from tui.core.agents import load_agent
    from tui.core.models.mcp import McpHub, agents_in, attach
    from tui.core.sdk_compat import agent_of_tool
    from tui.core.turn.runner import RetryPolicy, TurnRunner

    base = load_agent(settings.agent, seed=settings.seed)
    backend = choose_backend(settings, base)
    agent = attach(base, settings.mcp)
    attached = list(agent.mcp_servers)[len(base.mcp_servers) :] if agent is not base else []
    hub = McpHub(agent, attached)
    tracer = None
    if any(
        agent_of_tool(tool) is not None
        for each in agents_in(agent)
        for tool in getattr(each, "tools", None) or ()
    ):
        from tui.core.turn import nested

        tracer = nested.install(keep_upload=backend.kind == "openai")
    faults = None
    if settings.inject_faults:
        from tui.core.turn.faults import FaultInjector

        faults = FaultInjector(settings.inject_faults, seed=settings.seed)
    runner = TurnRunner(
        agent,
        run_config=backend.run_config(),
        max_turns=settings.max_turns,
        retry=RetryPolicy(max_attempts=settings.max_retries + 1),
        stall_timeout_s=settings.stall_timeout,
        budget=backend.budget(settings),
        faults=faults,
        mcp=hub if hub.needed else None,
        tracer=tracer,
    )
    return runner, backend


def session_runners(
    settings: Settings,
) -> tuple[Callable[[str | None], TurnRunner], Backend, TurnRunner]:
    """Per-session runners sharing one agent and backend (one model loaded, once), for a
    service with many conversations: ``make(agent_name)`` (``None``: the default agent)."""
    from tui.core.agents import load_agent
    from tui.core.models.mcp import attach

    base, backend = build_runner(settings)

    def make(agent: str | None) -> TurnRunner:
        chosen = None if agent is None else attach(load_agent(agent, seed=settings.seed), ())
        return base.for_session(chosen, backend.budget(settings))

    return make, backend, base
