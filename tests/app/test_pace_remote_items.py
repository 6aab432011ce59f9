"""A running service's items (``--connect URL --pace N``) and the paced tail
(``tui.screens.chat_pacing``): the service's figures for a turn wait behind that turn's text
like its events, and the next prompt (``Said``) shows the last reply's tail at once before
it is shown. Found in tmux with prompts a second apart: the next prompt's bubble came before
the old reply's rest, which then landed in the new reply (one reply cut short, the next with
both texts and the other turn's figures). The app's run over real HTTP:
``tests/e2e/test_connect_paced_tail.py``."""

from __future__ import annotations

from tests.app.test_pace import _Screen
from tui.core import events as ev
from tui.remote.decode import Said, ServiceMeasured
from tui.screens.chat_pacing import ReplyPacing


def test_a_services_figures_wait_behind_the_text_and_its_next_prompt_shows_the_tail_first():
    now = [0.0]
    screen = _Screen()
    pacing = ReplyPacing(screen, clock=lambda: now[0])  # type: ignore[arg-type]
    pacing.set_pace(10.0)
    assert not pacing.holds(Said("Lan", "tell a story", "m1"))  # nothing held: shown now
    assert not pacing.holds(ev.TurnStarted("tell a story", "a", 1))
    text = "".join(f"w{i} " for i in range(40))
    assert pacing.holds(ev.TextDelta(text, 2))  # a burst: at the pace
    measured = ServiceMeasured({"streamed_tokens": 40}, {}, [])
    assert pacing.holds(measured)  # the turn's figures: behind its text
    assert pacing.holds(ev.TurnFinished("completed", text, 3)) and pacing.tail_held
    now[0] += 1 / 30
    screen.frame()
    assert not any(isinstance(e, (ServiceMeasured, ev.TurnFinished)) for e in screen.shown)
    # the next prompt, while the tail goes out: the old turn's rest and end first, at once
    said = Said("Lan", "and a short one", "m2")
    assert not pacing.holds(said)
    screen.shown.append(said)  # the screen shows it after what was released
    kinds = [type(e).__name__ for e in screen.shown]
    assert kinds[-3:] == ["ServiceMeasured", "TurnFinished", "Said"], kinds
    assert "".join(e.text for e in screen.shown if isinstance(e, ev.TextDelta)) == text
    assert pacing.waiting == 0 and not pacing.tail_held
