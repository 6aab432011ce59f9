"""Start-up probe for ``agents-tui bench``: the real app, timed from outside it.

Run as ``python -m tui.bench.startup_probe PROBE_FILE``: writes "first_frame" and "ready"
with wall-clock times to PROBE_FILE, then exits. The app itself carries no bench code.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from textual import on

from tui.app import AgentsTuiApp
from tui.core.config import load_settings
from tui.messages import ModelLoaded


class ProbedApp(AgentsTuiApp):
    # Textual resolves CSS_PATH beside the subclass's module; the app's sheet lives in tui/.
    CSS_PATH = str(Path(sys.modules[AgentsTuiApp.__module__].__file__ or "").with_name("app.tcss"))

    def __init__(self, probe_path: str) -> None:
        super().__init__(load_settings({}))
        self.probe_path = probe_path
        self._first_frame_seen = False

    def _write(self, stage: str) -> None:
        with open(self.probe_path, "a", encoding="utf-8") as probe:
            probe.write(f"{stage} {time.time():.6f}\n")

    def _display(self, screen: Any, renderable: Any) -> None:
        if renderable is not None and not self._first_frame_seen:
            self._first_frame_seen = True
            self._write("first_frame")
        super()._display(screen, renderable)

    @on(ModelLoaded)
    def _probe_ready(self, _message: ModelLoaded) -> None:
        self._write("ready")
        self.exit()


if __name__ == "__main__":
    ProbedApp(sys.argv[1]).run(headless=True, size=(160, 45))
