"""How often the bundled model makes the call a player asks the game master for.

The requests are phrased as players phrase them, none copied from the candidate
descriptions the model scores against (``tui.core.agents.game_master.candidate_calls``).
One die per call: "roll 2d6" is not in the set because ``roll_dice`` rolls one die.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

TARGET_RATE = 0.9


def _roll(sides: int) -> tuple[str, dict[str, Any]]:
    return ("roll_dice", {"sides": sides})


COIN: tuple[str, dict[str, Any]] = ("flip_coin", {})
BALL: tuple[str, dict[str, Any]] = ("magic_answer", {})

REQUESTS: tuple[tuple[str, tuple[str, dict[str, Any]]], ...] = (
    ("roll a d20", _roll(20)),
    ("Roll a d20 for my attack", _roll(20)),
    ("I attack the goblin, roll a twenty-sided die", _roll(20)),
    ("I try to climb the cliff, roll a d20", _roll(20)),
    ("Roll a 20-sided die", _roll(20)),
    ("d20 please", _roll(20)),
    ("roll a d20 to persuade the guard", _roll(20)),
    ("I search the room. Roll a d20!", _roll(20)),
    ("roll a six-sided die", _roll(6)),
    ("roll a six sided die", _roll(6)),
    ("roll a d6", _roll(6)),
    ("roll 1d6", _roll(6)),
    ("Throw a d6 please", _roll(6)),
    ("Give me a d6 roll for initiative", _roll(6)),
    ("roll the dice", _roll(6)),
    ("roll a die", _roll(6)),
    ("let's roll a die to see what happens", _roll(6)),
    ("roll a d12", _roll(12)),
    ("roll a twelve-sided die", _roll(12)),
    ("roll a 12-sided die", _roll(12)),
    ("roll a d8 for damage", _roll(8)),
    ("roll an eight-sided die", _roll(8)),
    ("please roll one d8", _roll(8)),
    ("roll a d4", _roll(4)),
    ("roll a four-sided die for poison", _roll(4)),
    ("can you roll a d4 for me", _roll(4)),
    ("roll a d10", _roll(10)),
    ("roll a ten-sided die", _roll(10)),
    ("roll a d100 for loot", _roll(100)),
    ("roll percentile dice", _roll(100)),
    ("flip a coin", COIN),
    ("Flip a coin to decide who goes first", COIN),
    ("heads or tails?", COIN),
    ("toss a coin", COIN),
    ("toss a coin for it", COIN),
    ("Can you flip a coin for me?", COIN),
    ("coin flip!", COIN),
    ("Let's settle it with a coin toss", COIN),
    ("flip a coin: do we go left?", COIN),
    ("ask the magic 8-ball", BALL),
    ("Magic 8-ball: will I find the treasure?", BALL),
    ("ask the magic eight ball if the dragon is awake", BALL),
    ("Shake the magic 8 ball", BALL),
    ("ask the magic ball whether the door is trapped", BALL),
    ("What does the magic 8-ball say about the king?", BALL),
    ("Consult the 8-ball: should we trust the wizard?", BALL),
    ("Will the bridge hold? Ask the magic 8-ball.", BALL),
    ("magic 8 ball, is the treasure real?", BALL),
)


async def _first_call(model: Any, agent: Any, request: str) -> tuple[str, dict[str, Any]]:
    """The call the model makes for one request, through the same path a turn takes."""
    from agents import ModelSettings
    from agents.models.interface import ModelTracing

    output: list[Any] = []
    async for event in model.stream_response(
        agent.instructions,
        [{"role": "user", "content": request}],
        ModelSettings(),
        agent.tools,
        None,
        [],
        ModelTracing.DISABLED,
    ):
        if getattr(event, "type", None) == "response.completed":
            output = list(event.response.output)
    call = next((item for item in output if getattr(item, "type", "") == "function_call"), None)
    if call is None:
        return ("", {})
    return (call.name, json.loads(call.arguments or "{}"))


NARRATION_REQUESTS = (
    "I try to climb the cliff, roll a d20",
    "flip a coin to see who goes first",
    "ask the magic 8-ball if the dragon sleeps",
    "roll a d12 for damage",
    "roll a die for the trap",
    "I pick the lock, roll a d20",
)


async def _narrates_result(model: Any, agent: Any, request: str) -> tuple[bool, float]:
    """One whole turn: does the narration name the tool's result? And the time to first text."""
    import re

    from agents import RunConfig

    from tui.core import events as ev
    from tui.core.run import TurnRunner

    runner = TurnRunner(agent, run_config=RunConfig(model=model, tracing_disabled=True))
    seen: list[Any] = []
    first_text: list[float] = []
    started = time.perf_counter()

    def emit(event: Any) -> None:
        seen.append(event)
        if isinstance(event, ev.TextDelta) and not first_text:
            first_text.append(time.perf_counter() - started)

    await runner.run(request, emit)
    outputs = [e.output for e in seen if isinstance(e, ev.ToolCallFinished)]
    text = "".join(e.text for e in seen if isinstance(e, ev.TextDelta))
    named = bool(outputs) and all(
        re.search(rf"\b{re.escape(out)}\b", text, re.IGNORECASE) for out in outputs
    )
    return named, (first_text[0] if first_text else float("nan"))


def narration_rate(engine: Any) -> dict[str, Any]:
    """Whole game-master turns on the warm model: result named, and time to the first word."""
    from tui.core.agents.game_master import build_game_master
    from tui.core.local_model import make_local_model

    model = make_local_model(engine)
    agent = build_game_master(seed=2)
    model.warm_for(agent)
    results = [asyncio.run(_narrates_result(model, agent, r)) for r in NARRATION_REQUESTS]
    return {
        "game_master_narration_names_result": f"{sum(n for n, _ in results)}/{len(results)}",
        "game_master_first_text_s_median": round(statistics.median(t for _, t in results), 2),
    }


def pick_rate(engine: Any = None) -> dict[str, Any]:
    """Run every request through the bundled model; return the rate, timing and misses."""
    from tui.core.agents.game_master import build_game_master
    from tui.core.local_model import LlamaEngine, bundled_model_path, make_local_model

    if engine is None:
        engine = LlamaEngine(bundled_model_path())
        engine.load()
    model = make_local_model(engine)
    agent = build_game_master(seed=1)
    model.warm_for(agent)
    misses: list[dict[str, Any]] = []
    times: list[float] = []
    for request, expected in REQUESTS:
        started = time.perf_counter()
        made = asyncio.run(_first_call(model, agent, request))
        times.append(time.perf_counter() - started)
        if made != expected:
            misses.append({"request": request, "expected": expected, "made": made})
    correct = len(REQUESTS) - len(misses)
    rate = correct / len(REQUESTS)
    return {
        "game_master_pick_rate": round(rate, 3),
        "game_master_pick_correct": correct,
        "game_master_requests": len(REQUESTS),
        "game_master_pick_ms_median": round(statistics.median(times) * 1000, 1),
        "game_master_pick_target": TARGET_RATE,
        "game_master_pick_target_met": rate >= TARGET_RATE,
        "game_master_misses": misses,
        **narration_rate(engine),
    }


if __name__ == "__main__":
    print(json.dumps(pick_rate(), indent=2))
