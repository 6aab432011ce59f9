"""How the bundled model is shown a conversation (pure functions, no model)."""

from tui.core.models.local_model import _answered_this_turn, narration_messages
from tui.core.turn.runner import CONTINUE_INSTRUCTION

SYSTEM = {"role": "system", "content": "You are a game master."}


def call(n: int) -> list[dict]:
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": f"c{n}", "function": {"name": "roll_dice", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": f"c{n}", "content": str(n)},
    ]


def test_a_turn_after_a_tool_turn_may_call_a_tool_again():
    earlier = [SYSTEM, {"role": "user", "content": "roll a d20"}, *call(14)]
    earlier.append({"role": "assistant", "content": "A 14! The door opens."})
    assert not _answered_this_turn([*earlier, {"role": "user", "content": "roll a d6"}])
    # once this turn's own result is back, it is time to narrate
    assert _answered_this_turn([*earlier, {"role": "user", "content": "roll a d6"}, *call(3)])


def test_narration_sees_the_players_words_not_its_own_earlier_replies():
    messages = [
        SYSTEM,
        {"role": "user", "content": "I enter the cave"},
        {"role": "assistant", "content": "A simple yet powerful tool that elevates you."},
        {"role": "user", "content": "roll a d8 for damage"},
        *call(5),
    ]
    shown = narration_messages(messages)
    text = " ".join(str(m["content"]) for m in shown)
    assert "A simple yet powerful" not in text  # nothing of its own to copy
    assert "I enter the cave" in shown[0]["content"]  # earlier words, in the system prompt
    assert shown[1] == {"role": "user", "content": "roll a d8 for damage"}
    assert "The roll_dice result is 5" in shown[-1]["content"]


def test_a_cut_reply_being_continued_stays_whole():
    partial = "The dragon wakes and slowly"
    messages = [
        SYSTEM,
        {"role": "user", "content": "what happens?"},
        {"role": "assistant", "content": partial},
        {"role": "user", "content": CONTINUE_INSTRUCTION},
    ]
    shown = narration_messages(messages)
    assert {"role": "assistant", "content": partial} in shown
    assert shown[-1]["content"] == CONTINUE_INSTRUCTION
    assert shown[1] == {"role": "user", "content": "what happens?"}
