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


async def _narrates_result(model: Any, agent: Any, request: str) -> tuple[bool | None, float]:
    """One whole turn: does the narration name the tool's result? And the time to first text."""
    import re

    from agents import RunConfig

    from tui.core import events as ev
    from tui.core.turn.runner import TurnRunner

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
    if not outputs:
        return None, (first_text[0] if first_text else float("nan"))
    named = all(re.search(rf"\b{re.escape(out)}\b", text, re.IGNORECASE) for out in outputs)
    return named, (first_text[0] if first_text else float("nan"))


def narration_rate(engine: Any) -> dict[str, Any]:
    """Whole game-master turns on the warm model: result named, and time to the first word."""
    from tui.core.agents.game_master import build_game_master
    from tui.core.models.local_model import make_local_model

    model = make_local_model(engine)
    agent = build_game_master(seed=2)
    model.warm_for(agent)
    results = [asyncio.run(_narrates_result(model, agent, r)) for r in NARRATION_REQUESTS]
    # Over the turns that made a call (whether a call is made is the pick rate's measure).
    called = [named for named, _ in results if named is not None]
    return {
        "game_master_narration_names_result": f"{sum(called)}/{len(called)}",
        "game_master_first_text_s_median": round(statistics.median(t for _, t in results), 2),
    }


def pick_rate(
    engine: Any = None, sessions: int | None = None, *, with_sessions: bool = True
) -> dict[str, Any]:
    """Run every request through the bundled model; return the rate, timing and misses
    (and the sessions' figures, unless ``with_sessions`` is false)."""
    from tui.core.agents.game_master import build_game_master
    from tui.core.models.local_model import LlamaEngine, bundled_model_path, make_local_model

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
        **(session_rate(engine, sessions) if with_sessions else {}),
    }


if __name__ == "__main__":
    print(json.dumps(pick_rate(), indent=2))


# Game-master sessions: conversations of ten turns in which a player asks for dice, coins
# and the 8-ball turn after turn, with story turns (no call) between them. None of these
# lines is a candidate's description.
SESSIONS: tuple[tuple[tuple[str, tuple[str, dict[str, Any]] | None], ...], ...] = (
    (
        ("I enter the dark cave. Roll a d20 to see if I spot the trap.", _roll(20)),
        ("I jump over the pit. Roll a d20 for my jump!", _roll(20)),
        ("What do I see on the other side?", None),
        ("I attack the goblin, roll a d8 for damage", _roll(8)),
        ("Flip a coin: does the goblin flee?", COIN),
        ("roll a d6 for the goblin's counterattack", _roll(6)),
        ("I search the body. Roll a d20", _roll(20)),
        ("Ask the magic 8-ball: is the treasure near?", BALL),
        ("I open the chest slowly", None),
        ("roll a d100 for the loot", _roll(100)),
    ),
    (
        ("We arrive at the village. Roll a d20 for persuasion with the guard", _roll(20)),
        ("Tell me about the innkeeper", None),
        ("heads or tails: do we stay the night?", COIN),
        ("roll a d12 for the storm damage", _roll(12)),
        ("Magic 8-ball: will the bridge hold tomorrow?", BALL),
        ("roll a die to see who keeps watch", _roll(6)),
        ("I climb the tower, roll a d20", _roll(20)),
        ("roll a d4 for poison", _roll(4)),
        ("What does the old map say?", None),
        ("toss a coin for the left or right path", COIN),
    ),
    (
        ("A dragon appears! Roll a d20 for initiative", _roll(20)),
        ("I cast a spell. Roll a d10 for the fire damage", _roll(10)),
        ("roll a d20 again for my dodge", _roll(20)),
        ("Shake the magic 8 ball: does the dragon sleep tonight?", BALL),
        ("I hide behind the rocks", None),
        ("roll a d6 for the falling rocks", _roll(6)),
        ("flip a coin to decide if we run", COIN),
        ("roll a d8 for my arrow", _roll(8)),
        ("roll a d20 to climb out of the canyon", _roll(20)),
        ("Ask the magic 8-ball whether we will see the dragon again", BALL),
    ),
    (
        ("roll a d20 to pick the lock", _roll(20)),
        ("roll a d20 to pick the lock again", _roll(20)),
        ("Let's settle it with a coin toss: do I go in first?", COIN),
        ("Describe the room behind the door", None),
        ("roll a twelve-sided die for the trap", _roll(12)),
        ("roll a d6 to see how many guards come", _roll(6)),
        ("I talk to the captain of the guards", None),
        ("magic 8 ball, will the captain help us?", BALL),
        ("roll a d4 for the captain's mood", _roll(4)),
        ("roll a d20 for the final escape", _roll(20)),
    ),
)


def _shared_run(a: str, b: str, words: int = 8) -> bool:
    """Do two replies share a run of ``words`` consecutive words (a copied passage)?"""
    x, y = a.lower().split(), b.lower().split()
    seen = {tuple(x[i : i + words]) for i in range(len(x) - words + 1)}
    return any(tuple(y[i : i + words]) in seen for i in range(len(y) - words + 1))


async def _session(model: Any, engine: Any, turns: Any, seed: int) -> list[dict[str, Any]]:
    """One conversation through the app's own turn path (the runner, the budget)."""
    import re

    from agents import RunConfig

    from tui.core import events as ev
    from tui.core.agents.game_master import build_game_master
    from tui.core.models.local_model import DEFAULT_MAX_TOKENS
    from tui.core.turn.budget import ContextBudget
    from tui.core.turn.runner import TurnRunner

    runner = TurnRunner(
        build_game_master(seed=seed), run_config=RunConfig(model=model, tracing_disabled=True)
    )
    runner.budget = ContextBudget(
        window=engine.n_ctx, reserve=DEFAULT_MAX_TOKENS, counter=engine.count_text
    )
    out: list[dict[str, Any]] = []
    replies: list[str] = []
    for request, expected in turns:
        seen: list[Any] = []
        started = time.perf_counter()
        outcome = await runner.run(request, seen.append)
        calls = [
            (e.name, json.loads(e.arguments or "{}"))
            for e in seen
            if isinstance(e, ev.ToolCallIssued)
        ]
        outputs = [e.output for e in seen if isinstance(e, ev.ToolCallFinished)]
        text = outcome.text
        out.append(
            {
                "request": request,
                "expected": expected,
                "made": calls,
                "right": calls == ([expected] if expected else []),
                "status": outcome.status,
                "names_result": bool(outputs)
                and all(re.search(rf"\b{re.escape(o)}\b", text, re.IGNORECASE) for o in outputs),
                "repeats": any(_shared_run(earlier, text) for earlier in replies),
                "seconds": time.perf_counter() - started,
            }
        )
        replies.append(text)
    return out


def session_rate(engine: Any, sessions: int | None = None) -> dict[str, Any]:
    """Game-master sessions on the bundled model: is the asked call made turn after turn?"""
    from tui.core.models.local_model import make_local_model

    model = make_local_model(engine)
    chosen = SESSIONS[: sessions or len(SESSIONS)]
    results: list[dict[str, Any]] = []
    for index, turns in enumerate(chosen):
        results += asyncio.run(_session(model, engine, turns, seed=index))
    tool_turns = [r for r in results if r["expected"]]
    story_turns = [r for r in results if not r["expected"]]
    right = sum(r["right"] for r in tool_turns)
    rate = right / len(tool_turns) if tool_turns else 0.0
    return {
        "game_master_session_rate": round(rate, 3),
        "game_master_session_calls": f"{right}/{len(tool_turns)}",
        "game_master_session_no_call": f"{sum(r['right'] for r in story_turns)}/{len(story_turns)}",
        "game_master_session_turns": len(results),
        "game_master_session_names_result": (
            f"{sum(r['names_result'] for r in tool_turns)}/{len(tool_turns)}"
        ),
        "game_master_session_repeats": f"{sum(r['repeats'] for r in results)}/{len(results)}",
        "game_master_session_failed_turns": sum(r["status"] != "completed" for r in results),
        "game_master_session_s_per_turn_median": round(
            statistics.median(r["seconds"] for r in results), 2
        ),
        "game_master_session_misses": [
            {"request": r["request"], "expected": r["expected"], "made": r["made"]}
            for r in results
            if not r["right"]
        ],
    }
