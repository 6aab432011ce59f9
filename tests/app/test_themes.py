"""Shipped and user themes, a broken theme file, and the remembered choice."""

import os
from pathlib import Path

from tests.app.helpers import make_app, send


async def test_themes_ship_load_fall_back_and_persist():
    themes = Path(os.environ["XDG_CONFIG_HOME"]) / "agents-tui" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\ndark = true\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    app, _ = make_app([])
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        for name in ("agents-dark", "agents-light", "agents-high-contrast", "mine"):
            assert name in app.available_themes
        assert "broken" not in app.available_themes
        notices = [n.message for n in app._notifications]
        assert any("broken.toml" in m and "agents-dark" in m for m in notices)
        assert app.theme == "agents-dark"
        await send(pilot, "/theme mine")
        await pilot.pause()
        assert app.theme == "mine"
    app2, _ = make_app([])
    async with app2.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert app2.theme == "mine"  # remembered
