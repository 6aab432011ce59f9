"""Ending a streamed reply that starts to repeat itself, or runs past its length.

SmolLM2-135M can fall into a loop: the same two bullets five times over. llama.cpp's repeat
penalty only sees the last 64 tokens and a loop's period is often longer, so the streamed
text itself is watched: :class:`LoopStop` takes the text as it arrives and says how much of
it may be shown. A passage of ``LOOP_WORDS`` words that already occurred in the reply ends
it, *before* the repeat is shown: the words that could be the start of a repeat (the
longest run at the end that occurred earlier, usually none or one common word) are held
back until the next word shows they are not, so the reply shown never holds a repeated
passage. Past a word budget, the reply ends at the next sentence end.

Words are compared without case and punctuation ("Goes." and "goes" are one word);
punctuation alone ("-", "1.") is no word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LOOP_WORDS = 8
_WORD = re.compile(r"\S+")
_NOT_WORD = re.compile(r"[\W_]+")
_SENTENCE_END = re.compile(r"[.!?…。](?:[\"')\]*_]*)\s|\n\s*\n")


# The word budget of a reply, by what was asked (past it, the reply ends at a sentence end;
# the hard limit stays the model's max_tokens). Chosen on ``agents-tui bench --loops``.
NARRATION_WORDS = 90  # the game master telling a tool's result
SHORT_WORDS = 110  # "briefly", "in one sentence", "a short ..."
STORY_WORDS = 220  # a story, a tale, a poem
REPLY_WORDS = 160  # anything else
_SHORT = re.compile(
    r"\b(short|brief(ly)?|quick(ly)?|one sentence|two sentences|in a few words|tl;?dr)\b"
    r"|ngắn|tóm tắt|một câu",
    re.IGNORECASE,
)
_STORY = re.compile(r"\b(story|stories|tale|fairy|poem|adventure)\b|chuyện|truyện|thơ", re.I)


def reply_words(ask: str, *, narrating: bool = False) -> int:
    """How many words a reply to ``ask`` may run before it ends at the next sentence end."""
    if narrating:
        return NARRATION_WORDS
    if _SHORT.search(ask):
        return SHORT_WORDS
    if _STORY.search(ask):
        return STORY_WORDS
    return REPLY_WORDS


def words_of(text: str) -> list[str]:
    """The words of ``text`` as compared: lower case, punctuation left out."""
    return [w for w in (_NOT_WORD.sub("", m.group().lower()) for m in _WORD.finditer(text)) if w]


def word_count(text: str) -> int:
    return len(words_of(text))


def repeated_passage(text: str, n: int = LOOP_WORDS) -> tuple[str, ...] | None:
    """The first run of ``n`` words of ``text`` that occurred earlier in it, or None."""
    words = words_of(text)
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if gram in seen:
            return gram
        seen.add(gram)
    return None


@dataclass
class LoopStop:
    """Watches a reply as it streams: :meth:`feed` each piece of text, show what it returns.

    ``done`` turns true when the reply should end (a repeat began, or the word budget ran
    out at a sentence end); :meth:`finish` gives the rest once the stream ends on its own.
    """

    max_words: int | None = None
    n: int = LOOP_WORDS
    text: str = ""
    shown: int = 0  # characters of ``text`` given out
    done: bool = False
    reason: str = ""  # "loop" or "length" once done
    _words: list[tuple[str, int]] = field(default_factory=list)  # (word, start offset)
    _seen: list[set[tuple[str, ...]]] = field(default_factory=list)
    _held: int = 0  # words at the end that match an earlier run
    _scanned: int = 0  # characters of ``text`` split into complete words

    def __post_init__(self) -> None:
        self._seen = [set() for _ in range(self.n + 1)]

    def feed(self, piece: str) -> str:
        """Take the next piece of the reply; return the text that may be shown now."""
        if self.done:
            return ""
        self.text += piece
        # complete words: those followed by whitespace
        end = max(self.text.rfind(" "), self.text.rfind("\n"), self.text.rfind("\t"))
        if end >= self._scanned:
            for match in _WORD.finditer(self.text, self._scanned, end + 1):
                if self._add(match.group(), match.start()):
                    return self._cut(self._words[-self.n][1], "loop")
            self._scanned = end + 1
        return self._release(end + 1)

    def finish(self) -> str:
        """The stream ended: the rest, unless its last word completes a repeat."""
        if self.done:
            return ""
        for match in _WORD.finditer(self.text, self._scanned):
            if self._add(match.group(), match.start()):
                return self._cut(self._words[-self.n][1], "loop")
        self._scanned = len(self.text)
        self.done = True
        rest = self.text[self.shown :]
        self.shown = len(self.text)
        return rest

    def _add(self, raw: str, start: int) -> bool:
        """One complete word; True when it completes a repeated run of ``n`` words."""
        word = _NOT_WORD.sub("", raw.lower())
        if not word:
            return False
        self._words.append((word, start))
        words = [w for w, _ in self._words[-self.n :]]
        held = 0
        for k in range(1, len(words) + 1):
            gram = tuple(words[-k:])
            if gram in self._seen[k]:
                held = k
            self._seen[k].add(gram)
        self._held = held
        return held >= self.n

    def _release(self, complete: int) -> str:
        """Text up to the first held word (or up to the incomplete last word)."""
        upto = self._words[-self._held][1] if self._held else complete
        if self.max_words is not None and len(self._words) >= self.max_words:
            found = _SENTENCE_END.search(self.text, self._words[self.max_words - 1][1], upto)
            if found:
                return self._cut(found.end(), "length")
        return self._give(upto)

    def _give(self, upto: int) -> str:
        if upto <= self.shown:
            return ""
        out = self.text[self.shown : upto]
        self.shown = upto
        return out

    def _cut(self, upto: int, reason: str) -> str:
        out = self._give(upto)
        self.done = True
        self.reason = reason
        return out
