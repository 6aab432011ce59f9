"""See text deltas at the model boundary, before the SDK's queue.

When a model stream fails, the SDK's ``stream_events()`` raises at once and drops the
events still queued behind the failure: words the provider did send never reach the
screen. The runner wraps the model with a tap that records every text delta as the
model yields it, so those words can be shown and carried into the retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.core.turn.growing_text import GrowingText

if TYPE_CHECKING:
    from agents import Agent, RunConfig
    from agents.models.interface import Model


class TextTap:
    """Raw text deltas one attempt's model calls produced, in order."""

    def __init__(self) -> None:
        self.pieces = GrowingText()

    @property
    def text(self) -> str:
        return str(self.pieces)


def untapped(model: Model) -> Model:
    from tui.core.models.tapped import TappedModel

    while isinstance(model, TappedModel):
        model = model.inner
    return model


def with_tap(agent: Agent, run_config: RunConfig, tap: TextTap) -> tuple[Agent, RunConfig]:
    """The agent and run config to run with, their model wrapped by ``tap``."""
    import dataclasses

    from agents.models.interface import Model

    from tui.core.models.tapped import TappedModel

    config_model = getattr(run_config, "model", None)
    if isinstance(config_model, Model):
        inner = untapped(config_model)
        return agent, dataclasses.replace(run_config, model=TappedModel(inner, tap))
    if isinstance(agent.model, Model):
        return agent.clone(model=TappedModel(untapped(agent.model), tap)), run_config
    return agent, run_config  # a model named by string: the SDK resolves it; no tap
