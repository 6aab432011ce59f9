"""docs/streaming.svg: a streaming turn, as a moving picture made from the app's own frames.

The real app runs headless (``App.run_test``) on a scripted game-master stream through the
real SDK path (tests/scripts.py: the SDK's ``ScriptedModel``); every ``STEP_S`` the screen
is exported as Textual exports a screenshot (SVG), and the frames that differ are played in
turn, looping (SMIL ``<animate>``, which browsers run in an ``<img>`` too).

    .venv/bin/python scripts/streaming_picture.py [OUT.svg]
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "streaming.svg"
SIZE = (160, 45)
STEP_S = 0.4  # a frame every 0.4 s of the run
HOLD_S = 3.0  # the last frame stays this long before the loop starts again
RATE = 15.0  # tokens a second: slow enough to see each word arrive
NARRATION = (
    "The rope creaks as you haul yourself up the last stretch of rock. "
    "The dice are kind: your fingers find the ledge, and the coin **calms the wind** "
    "for a *moment*.\n\n"
    "- You reach the top of the cliff\n"
    "- Below, the river glitters in the morning sun\n\n"
    "What do you do next?"
)


def steps() -> list[object]:
    from tests.scripts import Call, Text, parts_step, text_step

    words = re.findall(r"\S+\s*|\n+", NARRATION)
    return [
        parts_step(
            [
                Text(
                    [
                        "I ",
                        "roll ",
                        "for ",
                        "the ",
                        "climb, ",
                        "and ",
                        "flip ",
                        "for ",
                        "the ",
                        "wind.",
                    ]
                ),
                Call("roll_dice", "call_a", ['{"sid', 'es": ', "20}"]),
                Call("flip_coin", "call_b", ["{}"]),
            ],
            rate=RATE,
        ),
        text_step(words, rate=RATE),
    ]


async def frames() -> list[str]:
    from tests.app.helpers import send
    from tests.scripts import runner_for
    from tui.app import AgentsTuiApp
    from tui.core.config import Settings
    from tui.widgets.prompt import PromptInput

    runner, _model = runner_for(steps(), agent="game-master")
    app = AgentsTuiApp(Settings(agent="game-master"), runner=runner, backend_label="scripted")
    shots: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(PromptInput).cursor_blink = False
        await pilot.pause(0.3)
        shots.append(app.export_screenshot())
        await send(pilot, "I climb the cliff")
        while app.turn_running or app.chat_screen.queue:
            await pilot.pause(STEP_S)
            shots.append(app.export_screenshot())
        await pilot.pause(0.3)
        shots.append(app.export_screenshot())
    unique: list[str] = []
    for shot in shots:
        if not unique or _body(shot) != _body(unique[-1]):
            unique.append(shot)
    return unique


def _body(svg: str) -> str:
    """A frame without its unique ids, to compare two frames."""
    return re.sub(r"terminal-\d+", "terminal", svg)


def _size(svg: str) -> tuple[float, float]:
    found = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert found, "a Textual screenshot has a viewBox"
    return float(found.group(1)), float(found.group(2))


def animate(shots: list[str]) -> str:
    width, height = _size(shots[0])
    total = STEP_S * (len(shots) - 1) + HOLD_S
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">',
        "<title>agents-tui: a game-master turn streaming: two tool calls in the timeline, "
        "then the narration word by word</title>",
    ]
    for i, shot in enumerate(shots):
        start = i * STEP_S / total
        end = (i + 1) * STEP_S / total if i < len(shots) - 1 else 1.0
        inner = re.sub(r"^<\?xml[^>]*>\s*", "", shot.strip())
        inner = re.sub(r"terminal-\d+", f"f{i}", inner)  # shorter ids, unique per frame
        if i == 0:
            values, times = "visible;hidden", f"0;{end:.4f}"
        elif i == len(shots) - 1:
            values, times = "hidden;visible", f"0;{start:.4f}"
        else:
            values, times = "hidden;visible;hidden", f"0;{start:.4f};{end:.4f}"
        parts.append(
            f'<g visibility="{"visible" if i == 0 else "hidden"}">'
            f'<animate attributeName="visibility" values="{values}" keyTimes="{times}" '
            f'dur="{total:.2f}s" repeatCount="indefinite" calcMode="discrete"/>{inner}</g>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    shots = asyncio.run(frames())
    out.write_text(animate(shots), encoding="utf-8")
    print(f"wrote {out}: {len(shots)} frames, {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
