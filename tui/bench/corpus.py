"""Deterministic benchmark texts, split into token-sized deltas."""

from __future__ import annotations

import random
import re

WORDS = [
    "agent",
    "stream",
    "token",
    "latency",
    "model",
    "tool",
    "dice",
    "roll",
    "narrative",
    "cliff",
    "rope",
    "metric",
    "frame",
    "buffer",
    "render",
    "widget",
    "event",
    "queue",
    "retry",
    "backoff",
    "session",
    "memory",
    "context",
    "reply",
    "prompt",
    "terminal",
    "screen",
    "layout",
    "markdown",
    "table",
    "fence",
    "python",
    "async",
    "await",
    "cancel",
    "drain",
]


def prose(tokens: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < tokens:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18)))
        out += (sentence.capitalize() + ".").split(" ")
        if rng.random() < 0.15:
            out[-1] += "\n\n"
    return " ".join(out[:tokens])


def mixed_markdown(tokens: int, seed: int = 2) -> str:
    """Headings, paragraphs, lists, code fences and tables, like a long technical reply."""
    rng = random.Random(seed)
    blocks: list[str] = []
    count = 0
    while count < tokens:
        kind = rng.choice(["heading", "para", "para", "list", "code", "table"])
        if kind == "heading":
            block = "## " + " ".join(rng.choice(WORDS) for _ in range(4)).title()
        elif kind == "para":
            block = prose(rng.randint(30, 70), rng.randint(0, 10_000))
            block = block.replace("\n\n", " ")
            block = block.replace(" token ", " **token** ").replace(" model ", " `model` ")
        elif kind == "list":
            block = "\n".join(
                f"- {' '.join(rng.choice(WORDS) for _ in range(rng.randint(4, 10)))}"
                for _ in range(rng.randint(3, 6))
            )
        elif kind == "code":
            lines = [
                f"    {rng.choice(WORDS)}_{i} = await {rng.choice(WORDS)}"
                f"({i}, '{rng.choice(WORDS)}')"
                for i in range(rng.randint(4, 10))
            ]
            block = "```python\nasync def run():\n" + "\n".join(lines) + "\n```"
        else:
            rows = [
                f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.random():.3f} |"
                for _ in range(rng.randint(3, 6))
            ]
            block = "| name | count | ratio |\n|---|---:|---:|\n" + "\n".join(rows)
        blocks.append(block)
        count += len(split_tokens(block))
    return "\n\n".join(blocks) + "\n"


_TOKEN = re.compile(r"\s*\S+|\s+")


def split_tokens(text: str) -> list[str]:
    """Word-sized deltas (leading whitespace attached), joining back to ``text`` exactly."""
    return _TOKEN.findall(text)


def long_blocks() -> dict[str, str]:
    """Single blocks long enough to be slow if redrawn whole on every paint: a 900-line
    program (with blank lines), a 300-row table and a 300-item list."""
    code = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(300))
    rows = "".join(f"| item{i} | {i} | {i / 7:.3f} |\n" for i in range(300))
    items = "".join(f"- item {i} with a few words\n" for i in range(300))
    return {
        "code": f"Here it is:\n\n```python\n{code}```\n\nDone.\n",
        "table": f"| name | count | ratio |\n|---|---:|---:|\n{rows}\nDone.\n",
        "list": f"{items}\nDone.\n",
    }
