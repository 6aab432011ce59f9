"""Adaptive streaming (the tutorial's challenge 5: "adjust the display speed to the reader"):
how many words of a streaming reply a front end shows now.

A model streams in bursts (a server's chunks, a retry's catch-up, a fast local model): shown
as they come, 200 words land in one frame and the next second shows nothing. A ``Pacer``
releases the words at a steady pace instead:

- ``off``: everything at once, no latency (the default for servers, ``run`` and the API);
- a number: that many words a second;
- ``auto``: a reading pace that follows the reader. It rises while the reader waits at the
  bottom with nothing left to read, and holds while they have scrolled up to read.

Whatever the pace, a burst is spread over at most ``max_lag_s`` (words that arrived are never
more than that behind), at one constant rate until the next words arrive: steady, not a
rush that slows down. The pacer only counts; the text, the stored reply, the protocol and
the metrics (stamped when the SDK delivered each delta) are unchanged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

AUTO_START_WPS = 8.0  # a quick reader (about 480 words a minute)
AUTO_MAX_WPS = 40.0
AUTO_RISE_PER_S = 0.5  # while the reader waits at the bottom: +50 % a second
MAX_LAG_S = 3.0
# Scripts written without spaces between words (Chinese, Japanese kana and kanji, Korean
# syllables): each character counts as a word, or a whole reply would be one "word".
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# a word with the spaces after it (or leading spaces)
WORD = re.compile(rf"[{_UNSPACED}]\s*|[^\s{_UNSPACED}]+\s*|\s+")


class PaceError(ValueError):
    """A ``--pace`` that is neither auto, off nor a positive number."""


def parse_pace(text: str) -> float | None:
    """``off`` -> None, ``auto`` -> 0.0 (adaptive), a number -> words a second."""
    value = text.strip().lower()
    if value == "off":
        return None
    if value == "auto":
        return 0.0
    try:
        wps = float(value)
    except ValueError:
        raise PaceError(f"--pace {text!r}: use auto, off or words a second (e.g. 12)") from None
    if not wps > 0:
        raise PaceError(f"--pace {text!r}: words a second must be more than 0")
    if math.isinf(wps):  # no frame could release an infinite allowance
        raise PaceError(f"--pace {text!r}: words a second must be a finite number")
    return wps


def words_in(text: str) -> int:
    return sum(1 for piece in WORD.findall(text) if piece.strip())


def take_words(text: str, count: int) -> tuple[str, str]:
    """The first ``count`` words of ``text`` (with their spaces), and the rest."""
    if count <= 0:
        return "", text
    taken = 0
    end = 0
    for match in WORD.finditer(text):
        if match.group().strip():
            if taken == count:
                break
            taken += 1
        end = match.end()
    return text[:end], text[end:]


@dataclass(slots=True)
class Pacer:
    """Words a second: ``wps`` fixed, or adaptive (``auto``). Times are seconds (any clock)."""

    wps: float = AUTO_START_WPS
    auto: bool = False
    max_lag_s: float = MAX_LAG_S
    rate: float = 0.0  # the words a second released now (the pace, or faster for a burst)
    reader_at_bottom: bool = True
    _credit: float = field(default=0.0, repr=False)
    _last_s: float | None = field(default=None, repr=False)

    @classmethod
    def of(cls, pace: float) -> Pacer:
        """``parse_pace``'s value (not None): 0.0 is ``auto``."""
        return cls(auto=True) if pace == 0.0 else cls(wps=pace)

    def arrived(self, backlog_words: int, now_s: float) -> None:
        """Words arrived: ``backlog_words`` now wait to be shown. The rate is set for the
        whole backlog (kept until the next words arrive), so a burst is released evenly."""
        self._tick(now_s)
        self.rate = max(self.wps, backlog_words / self.max_lag_s)

    def reader(self, *, at_bottom: bool) -> None:
        """Where the reader is: at the bottom (waiting for more), or scrolled up (reading)."""
        self.reader_at_bottom = at_bottom

    def allowance(self, now_s: float, backlog_words: int) -> int:
        """Whole words that may be shown now (the fraction is kept for the next call)."""
        elapsed = self._tick(now_s)
        if backlog_words <= 0:
            self._credit = 0.0
            if self.auto and self.reader_at_bottom and elapsed:
                # caught up and waiting at the bottom: read faster next time
                self.wps = min(AUTO_MAX_WPS, self.wps * (1 + AUTO_RISE_PER_S * elapsed))
            return 0
        self._credit += max(self.rate, self.wps) * elapsed
        words = min(int(self._credit), backlog_words)
        self._credit -= words
        return words

    def _tick(self, now_s: float) -> float:
        elapsed = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        return elapsed
