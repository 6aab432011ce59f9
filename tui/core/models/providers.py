"""Choose and build the model backend: OpenAI, any OpenAI-compatible server, or the bundled model.

Choice: explicit ``provider`` / ``--base-url`` > a user agent's own ``Model`` object >
``OPENAI_API_KEY`` > the bundled local model.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    kind: str  # "openai" | "compat" | "local" | "agent"
    model_name: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model_path: Path | None = None
    # The LlamaEngine for "local". Any, not ``LlamaEngine | None``: tui/bench/long_local.py
    # loads it with no None check.
    engine: Any = None

    @property
    def label(self) -> str:
        if self.kind == "compat":  # shown and stored: never the URL's credentials
            return f"{strip_userinfo(self.base_url)} · {self.model_name}"
        if self.kind == "local":
            return f"local · {self.model_name}"
        if self.kind == "agent":
            return f"agent's own model · {self.model_name}"
        return f"OpenAI · {self.model_name}"

    def budget(self, settings: Settings) -> ContextBudget:
        """How much of the conversation each request may carry (``tui.core.turn.budget``)."""
        from tui.core.turn.budget import ContextBudget

        if self.kind == "local" and self.engine is not None:
            from tui.core.models.local_model import DEFAULT_MAX_TOKENS

            return ContextBudget(
                window=settings.context_window or self.engine.n_ctx,
                reserve=DEFAULT_MAX_TOKENS,
                history=settings.history,
                counter=self.engine.count_text,
            )
        window = settings.context_window
        reserve = 512 if window is None or window > 4096 else max(64, window // 8)
        return ContextBudget(window=window, reserve=reserve, history=settings.history)

    def run_config(self) -> RunConfig:
        """The SDK ``RunConfig`` that routes every agent in the run to this backend."""
        from agents import ModelSettings, RunConfig

        if self.kind == "agent":
            return RunConfig(tracing_disabled=True)
        if self.kind in ("openai", "compat"):
            from tui.core.models import request_cache

            request_cache.install()  # each request no longer re-walks the whole conversation
        if self.kind == "openai":
            from openai import AsyncOpenAI

            from tui.core.models.stream_end import CheckedResponsesModel

            client = AsyncOpenAI(api_key=self.api_key, max_retries=0)
            return RunConfig(model=CheckedResponsesModel(self.model_name, client))
        if self.kind == "compat":
            from openai import AsyncOpenAI

            from tui.core.models.stream_end import CheckedChatCompletionsModel

            client = AsyncOpenAI(
                base_url=self.base_url, api_key=self.api_key or "not-needed", max_retries=0
            )
            return RunConfig(
                model=CheckedChatCompletionsModel(self.model_name, client),
                model_settings=ModelSettings(include_usage=True),
                tracing_disabled=True,
            )
        from tui.core.models.local_model import make_local_model

        return RunConfig(
            model=make_local_model(self.engine),
            model_settings=ModelSettings(include_usage=True),
            tracing_disabled=True,
        )


def _agent_model(agent: Agent | None) -> Model | None:
    model = getattr(agent, "model", None)
    return None if model is None or isinstance(model, str) else model


def choose_backend(
    settings: Settings, agent: Agent | None = None, environ: dict[str, str] | None = None
) -> Backend:
    env = os.environ if environ is None else environ
    remember(settings.api_key, env.get("OPENAI_API_KEY"), env.get("AGENTS_TUI_API_KEY"))
    userinfo_secrets(settings.base_url)
    provider = settings.provider
    if provider == "auto":
        if settings.base_url:
            provider = "compat"
        elif _agent_model(agent) is not None:
            provider = "agent"
        elif settings.api_key or env.get("OPENAI_API_KEY"):
            provider = "openai"
        else:
            provider = "local"
    if provider == "agent":
        model = _agent_model(agent)
        name = getattr(model, "model", None) or type(model).__name__
        return Backend("agent", str(name))
    if provider == "compat":
        if not settings.base_url:
            raise ProviderError(
                "--provider compat needs --base-url URL (e.g. http://127.0.0.1:8080/v1)"
            )
        key = settings.api_key or env.get("AGENTS_TUI_API_KEY")
        return Backend("compat", settings.model or DEFAULT_COMPAT_MODEL, settings.base_url, key)
    if provider == "openai":
        key = settings.api_key or env.get("OPENAI_API_KEY")
        if not key:
            raise ProviderError("OpenAI needs an API key: set OPENAI_API_KEY or pass --api-key")
        return Backend("openai", settings.model or DEFAULT_OPENAI_MODEL, api_key=key)
    from tui.core.models.local_model import LlamaEngine, bundled_model_path, check_llama_installed

    try:
        check_llama_installed()
        path = Path(settings.model_path) if settings.model_path else bundled_model_path()
    except Exception as error:
        raise ProviderError(str(error)) from None
    if not path.exists():
        raise ProviderError(f"model file not found: {path} (check --model-path)")
    return Backend("local", path.stem, model_path=path, engine=LlamaEngine(path))


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
