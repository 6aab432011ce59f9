"""Where agents-tui keeps its files: the config dir (``config.toml``, themes) and the data
dir (the store, recordings, the app's state), by the XDG rules ``platformdirs`` follows.
Its own module, importing nothing of the project, so that both the settings
(``tui.core.config``) and the store (``tui.core.store``) can ask it without importing each
other.
"""

from __future__ import annotations

from pathlib import Path


def config_dir() -> Path:
    from platformdirs import user_config_path

    return Path(user_config_path("agents-tui", appauthor=False))


def data_dir() -> Path:
    from platformdirs import user_data_path

    path = Path(user_data_path("agents-tui", appauthor=False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
