"""The source tutorial's six agents, each answering with its own instructions, in English and
in the tutorial's Vietnamese; the game master's tools in the tutorial's words."""

import pytest

from tests.scripts import Call, parts_step, runner_for, text_step
from tui.core import events as ev
from tui.core.agents import BUILTIN_AGENTS, load_agent
from tui.core.agents.game_master import MAGIC_ANSWERS_VI
from tui.core.i18n import set_language

# A phrase of each agent's instructions, as the tutorial writes it (vi) and translated (en).
OWN_WORDS = {
    "storyteller": ("Bạn là một kể chuyện tài ba.", "You are a gifted storyteller."),
    "game-master": ("Bạn là một Game Master tài ba", "You are a skilled game master"),
    "assistant": ("Bạn là một trợ lý AI thân thiện", "You are a friendly and helpful AI"),
    "web-assistant": ("được tối ưu cho web interface", "optimised for a web interface"),
    "resilient-assistant": ("được thiết kế để robust", "designed to be robust and reliable"),
    "performance-assistant": ("tối ưu hóa cho performance", "optimised for performance"),
}


@pytest.fixture
def vietnamese():
    set_language("vi")
    yield
    set_language("en")


def test_the_six_builtins_are_the_tutorials_agents_in_its_order():
    assert tuple(OWN_WORDS) == BUILTIN_AGENTS
    names = [load_agent(key).name for key in BUILTIN_AGENTS]
    assert len(set(names)) == 6
    assert "Storyteller" in names and "Game Master" in names and "Resilient Assistant" in names


@pytest.mark.parametrize("key", list(OWN_WORDS))
async def test_each_agent_answers_a_turn_with_its_own_english_instructions(key):
    runner, model = runner_for([text_step(["Hello ", "there"])], agent=key)
    outcome = await runner.run("hi", lambda e: None)
    assert outcome.status == "completed" and outcome.text == "Hello there"
    sent = model.calls[0].system_instructions or ""
    assert OWN_WORDS[key][1] in sent
    others = [words[1] for other, words in OWN_WORDS.items() if other != key]
    assert not any(phrase in sent for phrase in others)


@pytest.mark.parametrize("key", list(OWN_WORDS))
async def test_under_vietnamese_each_agent_has_the_tutorials_own_words(vietnamese, key):
    runner, model = runner_for([text_step(["Xin ", "chào"])], agent=key)
    outcome = await runner.run("chào", lambda e: None)
    assert outcome.text == "Xin chào"
    assert OWN_WORDS[key][0] in (model.calls[0].system_instructions or "")


async def test_under_vietnamese_the_coin_says_ngua_or_sap_and_the_8_ball_the_tutorials_answers(
    vietnamese,
):
    calls = [Call("flip_coin", f"coin_{i}", ["{}"]) for i in range(12)]
    calls += [Call("magic_answer", f"ball_{i}", ["{}"]) for i in range(24)]
    runner, _ = runner_for([parts_step(calls), text_step(["Số phận đã định."])], agent="gm")
    seen: list = []
    await runner.run("Tung đồng xu và hỏi quả cầu", seen.append)
    outputs = {e.call_id: e.output for e in seen if isinstance(e, ev.ToolCallFinished)}
    coins = {v for k, v in outputs.items() if k.startswith("coin_")}
    answers = {v for k, v in outputs.items() if k.startswith("ball_")}
    assert coins == {"Ngửa", "Sấp"}  # 12 flips with the test seed show both faces
    assert answers <= set(MAGIC_ANSWERS_VI) and len(answers) >= 4
    assert set(MAGIC_ANSWERS_VI) == {
        "Có thể",
        "Chắc chắn",
        "Không chắc",
        "Hỏi lại sau",
        "Không",
        "Tuyệt đối",
    }
