"""When the app lets the garbage collector do its full collections (``tui.core.heap`` says
why): held while a turn runs, run after it once nobody is typing, and the one collection
after start-up that freezes the heap the app starts with."""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

from tui.core import heap

if TYPE_CHECKING:
    from textual.app import App


class HeapPolicy:
    def __init__(self, app: App[None]) -> None:
        self._app = app
        self.turn_running = False
        self.last_key_at = 0.0
        self.settled = False  # the one full collection after start-up has run

    def turn(self, running: bool) -> None:
        """A turn starts or ends: full collections wait for its end."""
        if running != self.turn_running:
            self.turn_running = running
            if running:
                heap.hold_full_collections(True)
            else:
                self._collect_when_quiet(time.monotonic())

    def key_pressed(self) -> None:
        self.last_key_at = time.monotonic()

    def _collect_when_quiet(self, turn_ended: float) -> None:
        """The full collection held during the turn, once nobody is typing."""
        if self.turn_running:
            return  # a new turn holds it again; its end schedules it
        if heap.quiet_enough(time.monotonic(), self.last_key_at, turn_ended):
            heap.hold_full_collections(False)
            self._app.call_after_refresh(heap.collect_if_due)
        else:
            self._app.set_timer(0.05, lambda: self._collect_when_quiet(turn_ended))

    def settle(self) -> None:
        """Collect once, then exempt everything alive now (Textual, the SDK, the model
        wrapper: ~1 M objects) from later collections. Without this the collector
        rescans that heap every few seconds while a reply streams: ~130 ms stalls."""
        gc.collect()
        gc.freeze()
        self.settled = True
