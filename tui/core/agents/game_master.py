"""The role-playing game master of the source tutorial, with its three random tools."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from tui.core.agents.failures import tool_failure_message
from tui.core.agents.tutorial import TutorialAgent
from tui.core.i18n import language
from tui.core.models.tool_pick import CandidateCall, register_catalogue

if TYPE_CHECKING:
    from agents import Agent

GAME_MASTER = TutorialAgent(
    "Game Master",
    en="""You are a skilled game master for a role-playing game.
Your abilities:
- Roll dice to decide the outcome of the players' actions (roll_dice).
- Flip a coin for a random yes/no decision (flip_coin).
- Give mysterious magic answers to hard questions (magic_answer).
Your style:
1. Always explain why you use a tool before using it.
2. Interpret the tool's result in the context of the story.
3. Build an exciting narrative around the results.
4. Encourage the players to keep adventuring.
Make every interaction a story moment!""",
    vi="""Bạn là một Game Master tài ba cho trò chơi role-playing.
Khả năng của bạn:
- Roll dice để xác định kết quả hành động
- Tung coin để quyết định ngẫu nhiên
- Đưa ra magic answers cho câu hỏi khó
Phong cách:
1. Luôn explain tại sao cần dùng tool
2. Interpret kết quả tool theo context
3. Tạo narrative hấp dẫn xung quanh results
4. Encourage players tiếp tục adventure
Make mỗi interaction thành một story moment!""",
)
INSTRUCTIONS = GAME_MASTER.en
# Beyond the tutorial: several players may share one table (``agents-tui --connect``); each
# message of theirs reaches the model as ``NAME: text`` (tui.core.turn.runner.spoken).
TABLE = (
    "Players may write as NAME: text; address them by name.",
    "Người chơi có thể viết TÊN: nội dung; hãy gọi họ bằng tên.",
)

MAGIC_ANSWERS = ("Maybe", "Certainly", "Uncertain", "Ask again later", "No", "Absolutely")
# The tutorial's own words, in its order (the English above translates them one for one).
MAGIC_ANSWERS_VI = ("Có thể", "Chắc chắn", "Không chắc", "Hỏi lại sau", "Không", "Tuyệt đối")
COIN = ("heads", "tails")
COIN_VI = ("Ngửa", "Sấp")

STANDARD_DICE = {
    4: "four",
    6: "six",
    8: "eight",
    10: "ten",
    12: "twelve",
    20: "twenty",
    100: "hundred",
}


VI_DICE_WORDS = {
    4: "bốn",
    6: "sáu",
    8: "tám",
    10: "mười",
    12: "mười hai",
    20: "hai mươi",
    100: "trăm",
}


def candidate_calls(lang: str = "en") -> tuple[CandidateCall, ...]:
    """Every call a player can ask the game master for, worded as a player would ask (in
    Vietnamese too under ``vi``: the tutorial's players ask "Tung đồng xu").

    The bundled model chooses among these by scoring them (see ``tui.core.models.tool_pick``);
    a plain "roll a die" is its own candidate because it means six sides without saying so;
    the last candidate is no call at all, for a turn that asks for none.
    """
    vi = lang == "vi"
    dice = [
        CandidateCall(
            "roll_dice",
            {"sides": sides},
            (
                f"gieo một xúc xắc d{sides}: xúc xắc {VI_DICE_WORDS[sides]} mặt, "
                f"xúc xắc {sides} mặt; "
                if vi
                else ""
            )
            + f"roll one d{sides}: a {word}-sided die, a {sides}-sided die"
            + ("; roll percentile dice" if sides == 100 else ""),
        )
        for sides, word in STANDARD_DICE.items()
    ]
    return (
        *dice,
        CandidateCall(
            "roll_dice",
            {"sides": 6},
            ("gieo xúc xắc: tung xúc xắc, đổ xúc xắc; " if vi else "")
            + "roll a die: roll the dice, a die roll",
        ),
        CandidateCall(
            "flip_coin",
            {},
            ("tung đồng xu: tung xu, ngửa hay sấp; " if vi else "")
            + "flip a coin: toss a coin, a coin toss, heads or tails",
        ),
        CandidateCall(
            "magic_answer",
            {},
            ("hỏi quả cầu thần: câu trả lời thần bí cho câu hỏi có hay không; " if vi else "")
            + "ask the magic 8-ball a yes/no question: shake the magic eight ball",
        ),
        # No call: the story goes on (chosen unless a call explains the words far better).
        CandidateCall(
            "", {}, ("kể tiếp chuyện gì xảy ra; " if vi else "") + "tell me what happens next"
        ),
    )


register_catalogue(candidate_calls())


def build_game_master(seed: int | None = None) -> Agent:
    """Build the agent; ``seed`` makes every roll, flip and answer reproducible."""
    from agents import Agent, function_tool

    rng = random.Random(seed)
    register_catalogue(candidate_calls(language()))  # how players ask, in their language
    vietnamese = language() == "vi"  # the tutorial's words: "Ngửa"/"Sấp", "Có thể"...
    coin = COIN_VI if vietnamese else COIN
    answers = MAGIC_ANSWERS_VI if vietnamese else MAGIC_ANSWERS

    @function_tool(failure_error_function=tool_failure_message)
    def roll_dice(sides: int = 6) -> int:
        """Roll one die and return the result.

        Args:
            sides: 4, 6, 8, 10, 12, 20 or 100 (a d20 has 20); 6 for a plain "a die".
        """
        if sides < 1:
            raise ValueError(f"a die needs at least 1 side, got {sides}")
        return rng.randint(1, sides)

    @function_tool(failure_error_function=tool_failure_message)
    def flip_coin() -> str:
        """Flip a coin: returns heads or tails (Ngửa or Sấp in Vietnamese)."""
        return rng.choice(coin)

    @function_tool(failure_error_function=tool_failure_message)
    def magic_answer() -> str:
        """Give a mysterious answer to a hard yes/no question."""
        return rng.choice(answers)

    return Agent(
        name=GAME_MASTER.name,
        instructions=GAME_MASTER.instructions() + "\n\n" + TABLE[language() == "vi"],
        tools=[roll_dice, flip_coin, magic_answer],
    )
