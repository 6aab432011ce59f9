"""Guardrail trips name the guardrail; structured output ends as formatted JSON."""

import json

from agents import Agent, GuardrailFunctionOutput, RunConfig, input_guardrail
from agents.testing import ModelStep, ScriptedModel
from pydantic import BaseModel

from tests.scripts import text_step
from tui.core import events as ev
from tui.core.turn.runner import RetryPolicy, TurnRunner
from tui.testing.scripted import Text, response_events


@input_guardrail
async def no_secrets(_ctx, _agent, text) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="password" in str(text))


async def test_an_input_guardrail_trip_is_an_event_naming_it():
    agent = Agent(
        name="Guarded", input_guardrails=[no_secrets], model=ScriptedModel([text_step(["ok"])])
    )
    runner = TurnRunner(
        agent, run_config=RunConfig(tracing_disabled=True), retry=RetryPolicy(max_attempts=1)
    )
    seen: list = []
    outcome = await runner.run("my password is hunter2", seen.append)
    tripped = [e for e in seen if isinstance(e, ev.GuardrailTripped)]
    assert [(t.name, t.stage) for t in tripped] == [("no_secrets", "input")]
    assert outcome.status == "failed" and "no_secrets" in (outcome.error.message or "")


class Verdict(BaseModel):
    winner: str
    score: int


async def test_structured_output_is_shown_as_formatted_json():
    raw = json.dumps({"winner": "Ann", "score": 3})
    model = ScriptedModel([ModelStep.stream(response_events([Text([raw[:10], raw[10:]])]))])
    agent = Agent(name="Judge", output_type=Verdict, model=model)
    runner = TurnRunner(agent, run_config=RunConfig(tracing_disabled=True))
    seen: list = []
    outcome = await runner.run("who won?", seen.append)
    finished = seen[-1]
    assert isinstance(finished, ev.TurnFinished) and finished.structured
    assert outcome.text == '```json\n{\n  "winner": "Ann",\n  "score": 3\n}\n```'
