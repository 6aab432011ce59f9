"""Does the bundled model loop? ``agents-tui bench --loops``.

Thirty everyday asks of the three agents people talk to most (the game master, the
assistant, the storyteller), in English and Vietnamese, each a fresh one-turn conversation
through the app's own path (``TurnRunner`` on ``LocalLlamaModel``, the agent's
instructions in the asked language, the game master's tool call and narration). For each
reply: does it repeat a passage of 8 words of itself (a loop: the same bullets over and
over), and how many words is it. The share of looping replies and the longest reply are
the figures to keep down (targets: none loops, none past 300 words).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from tui.core.models.loop_stop import LOOP_WORDS, repeated_passage, word_count

MAX_WORDS = 300

# (agent, language, ask): 10 for each agent, 7 in English and 3 in Vietnamese.
PROMPTS: tuple[tuple[str, str, str], ...] = (
    ("game-master", "en", "I try to climb the cliff, roll a d20"),
    ("game-master", "en", "We enter the tavern. What do we see?"),
    ("game-master", "en", "Describe the dragon's lair."),
    ("game-master", "en", "flip a coin to see who goes first"),
    ("game-master", "en", "I talk to the old wizard about the missing crown."),
    ("game-master", "en", "Start a new adventure for two players in a haunted forest."),
    ("game-master", "en", "Ask the magic 8-ball: will we find the treasure?"),
    ("game-master", "vi", "Tôi mở cánh cửa gỗ cũ. Chuyện gì xảy ra?"),
    ("game-master", "vi", "Tung đồng xu để quyết định ai đi trước"),
    ("game-master", "vi", "Hãy mô tả khu rừng tối trước mặt chúng tôi."),
    ("assistant", "en", "Hello! Who are you?"),
    ("assistant", "en", "What should I cook tonight?"),
    ("assistant", "en", "Give me three tips for sleeping better."),
    ("assistant", "en", "Explain what a prime number is."),
    ("assistant", "en", "How do I stay focused while studying?"),
    ("assistant", "en", "Write a short email to my boss asking for Friday off."),
    ("assistant", "en", "What is the capital of France?"),
    ("assistant", "vi", "Xin chào! Bạn có thể giúp tôi việc gì?"),
    ("assistant", "vi", "Tối nay tôi nên nấu món gì?"),
    ("assistant", "vi", "Làm sao để học tiếng Anh hiệu quả?"),
    ("storyteller", "en", "Tell me a short story about a lighthouse keeper."),
    ("storyteller", "en", "Tell me a story about a brave little cat."),
    ("storyteller", "en", "Write a bedtime story for a five-year-old."),
    ("storyteller", "en", "Tell me a spooky story."),
    ("storyteller", "en", "A short story about friendship, please."),
    ("storyteller", "en", "Tell me a story about a robot who learns to paint."),
    ("storyteller", "en", "Tell me a funny story about a dragon who is afraid of mice."),
    ("storyteller", "vi", "Kể cho tôi một câu chuyện ngắn về tình bạn."),
    ("storyteller", "vi", "Kể một câu chuyện về chú mèo dũng cảm."),
    ("storyteller", "vi", "Kể chuyện cổ tích trước khi đi ngủ."),
)


async def _reply(model: Any, agent_name: str, lang: str, ask: str) -> dict[str, Any]:
    """One fresh turn of ``agent_name`` in ``lang`` through the app's runner."""
    from agents import RunConfig

    from tui.core import events as ev
    from tui.core.agents import load_agent
    from tui.core.i18n import language, set_language
    from tui.core.turn.runner import TurnRunner

    before = language()
    set_language(lang)
    try:
        agent = load_agent(agent_name, seed=1)
    finally:
        set_language(before)
    runner = TurnRunner(agent, run_config=RunConfig(model=model, tracing_disabled=True))
    seen: list[Any] = []
    started = time.perf_counter()
    outcome = await runner.run(ask, seen.append)
    calls = [e.name for e in seen if isinstance(e, ev.ToolCallIssued)]
    text = outcome.text
    passage = repeated_passage(text)
    return {
        "agent": agent_name,
        "lang": lang,
        "ask": ask,
        "status": outcome.status,
        "calls": calls,
        "words": word_count(text),
        "loops": passage is not None,
        "repeated": " ".join(passage) if passage else "",
        "seconds": round(time.perf_counter() - started, 2),
        "text": text,
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    words = [r["words"] for r in rows]
    looping = [r for r in rows if r["loops"]]
    return {
        "replies": len(rows),
        "looping": len(looping),
        "looping_share": round(len(looping) / len(rows), 3) if rows else 0.0,
        "words_max": max(words, default=0),
        "words_median": statistics.median(words) if words else 0,
        "over_max_words": sum(w > MAX_WORDS for w in words),
        "failed": sum(r["status"] != "completed" for r in rows),
        "s_per_reply_median": round(statistics.median(r["seconds"] for r in rows), 2)
        if rows
        else 0.0,
    }


def loops(
    engine: Any = None,
    *,
    texts: bool = False,
    prompts: tuple[tuple[str, str, str], ...] = PROMPTS,
) -> dict[str, Any]:
    """Run the 30 asks (or ``prompts``) on the bundled model; the looping share and lengths,
    overall and per agent, and the replies that loop or run past ``MAX_WORDS`` (every reply
    with ``texts``)."""
    from tui.core.models.local_model import LlamaEngine, bundled_model_path, make_local_model

    if engine is None:
        engine = LlamaEngine(bundled_model_path())
        engine.load()
    model = make_local_model(engine)
    started = time.perf_counter()
    rows = [asyncio.run(_reply(model, *prompt)) for prompt in prompts]
    stops = dict(getattr(model, "stops", {}))
    agents = sorted({r["agent"] for r in rows})
    flagged = [r for r in rows if texts or r["loops"] or r["words"] > MAX_WORDS]
    return {
        "loop_words": LOOP_WORDS,
        "max_words_target": MAX_WORDS,
        **_summary(rows),
        "per_agent": {a: _summary([r for r in rows if r["agent"] == a]) for a in agents},
        "per_language": {
            lang: _summary([r for r in rows if r["lang"] == lang]) for lang in ("en", "vi")
        },
        "ended_early": {"loop": stops.get("loop", 0), "length": stops.get("length", 0)},
        "seconds": round(time.perf_counter() - started, 1),
        "flagged": [
            {k: r[k] for k in ("agent", "lang", "ask", "words", "repeated", "calls", "text")}
            for r in flagged
        ],
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(loops(texts="--texts" in sys.argv), indent=2, ensure_ascii=False))
