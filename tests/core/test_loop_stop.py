"""The stop on a repeated 8-word passage and on the word budget (no model needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui.core.models.loop_stop import LoopStop, repeated_passage, word_count

BULLETS = (
    "Welcome, adventurer!\n"
    "- Roll the dice to see if you climb the cliff.\n"
    "- Flip a coin to choose your path.\n"
)
LOOP = BULLETS + "- Roll the dice to see if you climb the cliff.\n" * 4


def stream(text: str, stop: LoopStop, size: int = 3) -> str:
    """Feed ``text`` in pieces of ``size`` characters as llama.cpp's tokens arrive."""
    shown = ""
    for i in range(0, len(text), size):
        shown += stop.feed(text[i : i + size])
        if stop.done:
            return shown
    return shown + stop.finish()


def test_the_measure_finds_a_passage_repeated_in_a_reply():
    assert repeated_passage(LOOP) == tuple(
        ["roll", "the", "dice", "to", "see", "if", "you", "climb"]
    )
    assert repeated_passage(BULLETS) is None
    assert word_count("- Roll the dice, now!\n* Go **") == 5  # "-", "*" are no words


def test_a_looping_reply_ends_before_its_repeat_is_shown():
    stop = LoopStop()
    shown = stream(LOOP, stop)
    assert stop.done and stop.reason == "loop"
    assert repeated_passage(shown) is None
    assert shown == BULLETS + "- "  # everything before the repeat, nothing of it


def test_a_repeat_that_differs_only_in_case_and_punctuation_is_a_repeat():
    text = "The door opens slowly and the wind howls. THE DOOR OPENS SLOWLY, AND THE WIND... "
    stop = LoopStop()
    shown = stream(text + "howls again", stop)
    assert stop.reason == "loop" and shown == "The door opens slowly and the wind howls. "


def test_a_reply_without_a_repeat_streams_whole():
    text = (
        "The cat sat on the mat. The dog sat on the rug. The cat and the dog "
        "were friends, and the mat and the rug were soft under them all day long."
    )
    for size in (1, 2, 5, 40):
        stop = LoopStop()
        assert stream(text, stop, size) == text
        assert not stop.done or stop.reason == ""


def test_words_that_may_start_a_repeat_wait_for_the_next_word_only():
    stop = LoopStop()
    assert stop.feed("one two three four five six seven eight ") == (
        "one two three four five six seven eight "
    )
    assert stop.feed("one two ") == ""  # could be the start of the same passage again
    assert stop.feed("nine ") == "one two nine "  # it was not


def test_the_last_word_can_complete_a_repeat():
    stop = LoopStop()
    passage = "a b c d e f g h "
    shown = stop.feed(passage + "a b c d e f g") + stop.feed(" h")
    assert shown == passage and not stop.done  # "h" has no space after it yet
    assert stop.finish() == "" and stop.reason == "loop"


def test_past_the_word_budget_the_reply_ends_at_a_sentence_end():
    sentence = "Sentence {n} has the words a{n} b{n} c{n} in the land. "
    text = "".join(sentence.format(n=n) for n in range(40))
    stop = LoopStop(max_words=30)
    shown = stream(text, stop)
    assert stop.reason == "length"
    assert shown.endswith("in the land. ") and 30 <= word_count(shown) <= 45


def test_vietnamese_words_are_words():
    vi = "Ngày xưa có một chú mèo dũng cảm sống ở làng. "
    assert word_count(vi) == 11
    stop = LoopStop()
    shown = stream(vi + vi, stop)
    assert stop.reason == "loop" and shown == vi


class FakeEngine:
    """llama.cpp's stream of ``text`` in chunks of 4 characters, ending with a finish."""

    model_path = Path("SmolLM2.gguf")

    def __init__(self, text: str) -> None:
        self.text = text
        self.stopped = False

    def chat(self, stop, **kwargs):
        for i in range(0, len(self.text), 4):
            if stop.is_set():
                self.stopped = True
                return
            yield chunk({"content": self.text[i : i + 4]}, None)
        yield chunk({}, "stop")

    def count_tokens(self, messages):
        return 7


def chunk(delta: dict, finish: str | None) -> dict:
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def model_reply(text: str) -> tuple[str, list]:
    from tui.core.models.local_model import LocalLlamaModel

    model = LocalLlamaModel(FakeEngine(text))  # type: ignore[arg-type]

    async def run() -> list:
        messages = [{"role": "user", "content": "hi"}]
        return [c async for c in model._text_chunks(messages, {"max_tokens": 300})]  # type: ignore[list-item]

    chunks = asyncio.run(run())
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


def test_the_bundled_model_stream_stops_at_a_loop():
    """LocalLlamaModel's text stream: the loop never reaches the reply, which ends cleanly
    (finish reason, usage)."""
    text, chunks = model_reply(LOOP)
    assert text == BULLETS + "- "
    assert repeated_passage(text) is None
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 7


def test_the_bundled_model_stream_keeps_every_word_of_a_reply_without_a_loop():
    said = "Roll the dice. The dice say six, and six is the"
    text, chunks = model_reply(said)
    assert text == said
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
