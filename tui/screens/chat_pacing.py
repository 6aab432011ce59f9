"""Adaptive streaming in the chat (``--pace``, ``/pace``; the tutorial's challenge 5): a
streaming reply's text reaches the screen at the pacer's rate (``tui.core.pace``).

It sits between the turn's events and the panes: the chat screen hands every event of the
turn to ``holds`` first. With the pace ``off`` that returns False at once and the event is
shown as it always was (no timer, no added latency). Otherwise text deltas are held and
re-cut into the words the pacer allows each frame, on a timer that runs only while words
wait; every other event waits behind the text that came before it, so the chat and the
timeline keep the run's order. The conversation has already recorded, measured and stored
each event when it gets here: the stored text, the protocol and the metrics are unchanged.

Where the reader is comes from the chat pane's own scroll state (``following``: at the
newest line), read at each frame and when words arrive: ``auto`` rises while the reader
waits at the bottom with nothing left to read, and holds while they have scrolled up.

When the turn ends, its ``TurnFinished`` waits behind the text still held like any event:
a fast server (or the response cache) delivers a whole reply in one burst before its end,
and that burst is what the pace is for. That tail is bounded: from the turn's end the rest
goes out at least fast enough to be shown within ``TAIL_MAX_S`` (and whatever is left then
is shown at once). The conversation is free at once (it has stored the turn); only the
screen is behind. The turn's end is shown (the reply's footer, "ready") when the tail is
out, from the metrics the event carries (``ev.TurnFinished.metrics``): by then the
conversation may run the next turn. A new prompt does not wait for the tail: it shows it
at once first (``ChatTurnEnd.begin_after_tail``; a running service's next turn, its
``TurnStarted``, does the same here), as do Esc, ``/pace off`` and opening another
conversation (``/clear``).
"""

from __future__ import annotations

import time
from collections import deque
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from tui.core import events as ev
from tui.core.i18n import _
from tui.core.pace import Pacer, parse_pace, take_words, words_in
from tui.remote.decode import RemoteItem, Said

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.timer import Timer

    from tui.command_context import ScreenHost

FRAME_S = 1 / 30  # a release a frame: a terminal shows no more
TAIL_MAX_S = 2.0  # a reply's text still held when its turn ends is all shown within this


class PacedScreen(Protocol):
    """What the pacing uses of the chat screen."""

    @property
    def host(self) -> ScreenHost: ...

    def emit(self, event: RemoteItem) -> None: ...

    def set_interval(
        self, interval: float, callback: Callable[[], object], *, pause: bool = ...
    ) -> Timer: ...


class ReplyPacing:
    """The chat's pace: ``pace`` is ``parse_pace``'s value (None off, 0.0 auto, else words
    a second); ``pacer`` counts the words while it is on."""

    def __init__(self, screen: PacedScreen, clock: Callable[[], float] = time.monotonic) -> None:
        self._screen = screen
        self._clock = clock
        self.pace: float | None = None
        self.pacer: Pacer | None = None
        self._held: deque[RemoteItem] = deque()  # text not shown yet, the events behind it
        self._backlog = 0  # words in ``_held``
        self._timer: Timer | None = None
        self._releasing = False  # handing held events back to ``emit``: shown, not held
        self._tail_until: float | None = None  # a turn's end is held: all shown by then

    @property
    def waiting(self) -> int:
        """Words received and not shown yet."""
        return self._backlog

    @property
    def tail_held(self) -> bool:
        """A turn's end waits behind its text: the turn is over, its screen is not."""
        return self._tail_until is not None

    def set_pace(self, pace: float | None) -> None:
        """A new pace, for the reply streaming now and the next ones. ``off`` shows what is
        held at once; a pace keeps what is held and releases it at the new rate."""
        self.pace = pace
        if pace is None:
            self.pacer = None
            self.release_all()
        else:
            self.pacer = Pacer.of(pace)
            if self._backlog:
                self.pacer.arrived(self._backlog, self._clock())
                if self._tail_until is not None:
                    self._bound_tail(self._tail_until)
        self._show()

    def describe(self) -> str:
        """The pace in words, for ``/pace``."""
        pacer = self.pacer
        if pacer is None:
            return _("Pace: off (the reply is shown as it streams).")
        if pacer.auto:
            return _("Pace: auto, {wps:.0f} words a second now (it follows your reading).").format(
                wps=pacer.wps
            )
        return _("Pace: {wps:g} words a second.").format(wps=pacer.wps)

    def holds(self, event: RemoteItem) -> bool:
        """True when ``event`` is held to be shown later (the screen shows it then);
        False: the screen shows it now. Always False while the pace is off. A running
        service's items (its figures, a link's state) wait behind the text like events; its
        next prompt (``Said``) shows the last reply's tail at once, as a turn's start does."""
        pacer = self.pacer
        if pacer is None or self._releasing:
            return False
        if isinstance(event, (ev.TurnStarted, Said)):
            self.release_all()  # the last reply's tail, if any, at once (see above)
            pacer.arrived(0, self._clock())  # the time the person took to type is no wait
            return False
        if isinstance(event, ev.TurnFinished) and self._held:
            self._held.append(event)  # shown when its text is (see above)
            self._bound_tail()
            return True
        words = words_in(event.text) if isinstance(event, ev.TextDelta) else 0
        if not words:  # an event, or spaces: behind the words that wait, if any
            if not self._held:
                return False
            self._held.append(event)
            return True
        now = self._clock()
        if not self._backlog:
            # the time since the last words were shown: the reader waited (``auto`` rises
            # if they waited at the bottom) or read above (it holds)
            pacer.reader(at_bottom=self._reader_at_bottom())
            pacer.allowance(now, 0)
        self._held.append(event)
        self._backlog += words
        pacer.arrived(self._backlog, now)
        self._run_timer(True)
        return True

    def release_all(self) -> None:
        """Everything held, shown now, in order."""
        self._release(0, everything=True)

    def drop_text(self) -> str:
        """The held text, taken (a turn whose worker failed: the screen shows it)."""
        text = "".join(e.text for e in self._held if isinstance(e, ev.TextDelta))
        self._held.clear()
        self._backlog = 0
        self._tail_until = None
        self._run_timer(False)
        return text

    def _bound_tail(self, until: float | None = None) -> None:
        """The turn has ended: what is held goes out fast enough to be shown by ``until``
        (``TAIL_MAX_S`` from now), whatever the pace."""
        now = self._clock()
        self._tail_until = until if until is not None else now + TAIL_MAX_S
        pacer = self.pacer
        if pacer is not None:
            left_s = max(FRAME_S, self._tail_until - now)
            pacer.rate = max(pacer.rate, self._backlog / left_s)

    def _frame(self) -> None:
        pacer = self.pacer
        if pacer is None:
            self._run_timer(False)
            return
        now = self._clock()
        if self._tail_until is not None and now >= self._tail_until:
            self.release_all()  # the tail's bound: the rest now (the rate's rounding)
            return
        pacer.reader(at_bottom=self._reader_at_bottom())
        self._release(pacer.allowance(now, self._backlog))
        self._show()

    def _release(self, budget: int, *, everything: bool = False) -> None:
        """Hands the held events back to the screen: whole events, and ``budget`` words."""
        held = self._held
        self._releasing = True
        try:
            while held:
                head = held[0]
                count = words_in(head.text) if isinstance(head, ev.TextDelta) else 0
                if not count or everything:
                    held.popleft()
                    self._backlog -= count
                    self._screen.emit(head)
                    continue
                if budget <= 0:
                    break
                assert isinstance(head, ev.TextDelta)
                shown, rest = take_words(head.text, budget)
                taken = min(count, budget)
                budget -= taken
                self._backlog -= taken
                held.popleft()
                if rest:
                    held.appendleft(ev.TextDelta(rest, head.at_ns))
                self._screen.emit(ev.TextDelta(shown, head.at_ns))
        finally:
            self._releasing = False
        if not held:
            self._backlog = 0
            self._tail_until = None
            self._run_timer(False)

    def _run_timer(self, run: bool) -> None:
        """The frame timer runs only while words wait: an idle chat costs nothing."""
        if self._timer is None:
            if not run:
                return
            self._timer = self._screen.set_interval(FRAME_S, self._frame, pause=True)
        if run:
            self._timer.resume()
        else:
            self._timer.pause()

    def _reader_at_bottom(self) -> bool:
        """The chat pane follows the newest line while the reader is at the bottom."""
        from textual.css.query import NoMatches

        try:
            return bool(self._screen.host.chat.following)
        except NoMatches:  # the app is closing
            return True

    def _show(self) -> None:
        """The sidebar's pace row (it redraws only when the words change)."""
        from textual.app import ScreenStackError
        from textual.css.query import NoMatches

        pacer = self.pacer
        try:
            sidebar = self._screen.host.sidebar
        except (NoMatches, ScreenStackError):
            return
        if pacer is None:
            sidebar.show_pace(None)
        else:
            sidebar.show_pace(pacer.wps, auto=pacer.auto)


class ChatPacing:
    """Mixed into ``ChatScreen``: its ``pacing``, set from ``--pace`` (the settings') when the
    screen mounts; ``/pace`` changes it (``tui.slash_handlers.set_pace``)."""

    @property
    def host(self) -> ScreenHost:
        return self.app  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def pacing(self) -> ReplyPacing:
        return ReplyPacing(self)  # type: ignore[arg-type]  # the chat screen it is mixed into

    def on_mount(self) -> None:
        self.pacing.set_pace(parse_pace(self.host.settings.pace))  # checked by the settings
