"""What is happening now ("thinking…", "calling roll_dice…", "writing…") and for how long."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from tui.core import events as ev
from tui.core.i18n import _
from tui.core.sanitize import safe_text


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; color: $text-muted; }
    StatusLine.-busy { color: $accent; }
    StatusLine.-retry { color: $warning; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.activity = ""
        self.since: float | None = None
        self.deadline: float | None = None  # a retry countdown ends here
        self.alert = ""  # a threshold crossed this turn: shown whatever the layout
        self.below = False  # the person scrolled up while newer lines arrived
        self.whose = ""  # at a table of players: whose turn runs (``--connect``)
        self._shown = ""

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.25, self._tick, pause=True)

    def show_event(self, event: ev.RunEvent) -> None:
        """What the run is doing, in a few words, from the events that change it."""
        match event:
            case ev.ReasoningDelta():
                self.show(_("reasoning…"))
            case ev.ModelCallStarted():
                self.show(_("thinking…"))
            case ev.ToolCallStarted():
                self.show(_("calling {name}…").format(name=event.name))
            case ev.ToolCallIssued():
                self.show(_("running {name}…").format(name=event.name))
            case ev.RunResumed():
                self.show(_("resuming…"))
            case ev.RetryScheduled():
                self.show(
                    _("retrying ({kind}) in").format(kind=event.error_kind),
                    deadline=time.monotonic() + event.delay_s,
                )
            case ev.TurnStarted():
                self.set_alert("")  # the last turn's warnings belong to it
            case _:
                pass

    def show(self, activity: str, *, busy: bool = True, deadline: float | None = None) -> None:
        if (
            activity == self.activity
            and deadline == self.deadline
            and busy == (self.since is not None)
        ):
            return  # called for every delta: repaint only when the words change
        if busy and self.since is None:
            self.since = time.monotonic()
        if not busy:
            self.since = None
        self.activity = activity
        self.deadline = deadline
        self.set_class(busy, "-busy")
        self.set_class(deadline is not None, "-retry")
        # Tick only while a clock is shown: an idle app should cost no CPU.
        if self.since is not None or deadline is not None:
            self._timer.resume()
        else:
            self._timer.pause()
        self._tick()

    def set_alert(self, alert: str) -> None:
        if alert != self.alert:
            self.alert = alert
            self.set_class(bool(alert), "-alert")
            self._tick()

    def set_whose(self, name: str) -> None:
        if name != self.whose:
            self.whose = name
            self._tick()

    def set_below(self, below: bool) -> None:
        if below != self.below:
            self.below = below
            self._tick()

    def _tick(self) -> None:
        text = Text(safe_text(self.activity))
        if self.whose and self.since is not None:
            turn = _("{name}'s turn").format(name=safe_text(self.whose))
            text = Text.assemble((turn, "bold"), " · ", text)
        if self.deadline is not None:
            left = max(0.0, self.deadline - time.monotonic())
            text.append(" " + _("{s:.1f}s (Esc cancels)").format(s=left))
        if self.since is not None:
            # Whole seconds: a repaint a second, not four, beside a streaming reply.
            text.append(f"  ·  {time.monotonic() - self.since:.0f}s", style="dim")
        if self.alert:
            text.append(f"  ⚠ {self.alert}", style="bold yellow")
        if self.below:
            text.append("  " + _("↓ new messages (Ctrl+End)"), style="bold")
        if text.plain == self._shown:
            return
        self._shown = text.plain
        self.update(text, layout=False)  # always one line: never worth a relayout
