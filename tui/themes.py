"""Themes as files: the shipped ones in ``themes/``, the person's own in the config dir.

Each file is TOML with the fields of ``textual.theme.Theme``. A broken file is skipped
with a one-line reason; the app then falls back to the default theme.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.theme import Theme

from tui.core.i18n import _

if TYPE_CHECKING:
    from textual.app import App

DEFAULT_THEME = "agents-dark"
COLOUR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
)
FIELDS = {"name", *COLOUR_FIELDS, "boost", "dark", "luminosity_spread", "text_alpha", "variables"}


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"theme file {self.path}: {self.reason}; using {DEFAULT_THEME} instead"


def shipped_dir() -> Path:
    here = Path(__file__).parent
    installed = here / "_themes"
    return installed if installed.is_dir() else here.parent / "themes"


def user_dir() -> Path:
    from tui.core.config import config_dir

    return config_dir() / "themes"


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read it ({error})") from None
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    if "primary" not in data:
        raise ValueError("it needs at least 'primary'")
    data.setdefault("name", path.stem)
    try:
        theme = Theme(**data)
        from textual.color import Color

        for key in COLOUR_FIELDS:
            if data.get(key) is not None:
                Color.parse(data[key])
    except Exception as error:
        raise ValueError(str(error)) from None
    return theme


def discover() -> tuple[list[Theme], list[ThemeProblem]]:
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    for folder in (shipped_dir(), user_dir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                themes.append(load_theme(path))
            except ValueError as error:
                problems.append(ThemeProblem(path, str(error)))
    return themes, problems


def _state_path() -> Path:
    from tui.core.config import data_dir

    return data_dir() / "state.json"


def remembered_theme() -> str | None:
    try:
        return str(json.loads(_state_path().read_text())["theme"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_theme(name: str) -> None:
    path = _state_path()
    try:
        state = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        state = {}
    state["theme"] = name
    path.write_text(json.dumps(state))


def apply_themes(app: App[Any], configured: str) -> None:
    """Register every theme, pick the remembered one (else the configured one, else the
    default), say what was wrong with a file, and remember the person's later choices."""
    themes, problems = discover()
    for theme in themes:
        app.register_theme(theme)
    for problem in problems:
        app.notify(str(problem), severity="warning", timeout=10)
    wanted = remembered_theme() or configured
    if wanted not in app.available_themes:
        if wanted != DEFAULT_THEME:
            app.notify(
                _("Theme {wanted!r} is not available; using {default}.").format(
                    wanted=wanted, default=DEFAULT_THEME
                ),
                severity="warning",
            )
        wanted = DEFAULT_THEME if DEFAULT_THEME in app.available_themes else "textual-dark"
    app.theme = wanted

    def changed(theme: Theme) -> None:
        try:
            remember_theme(theme.name)
        except OSError as error:
            app.notify(
                _("Could not remember the theme: {error}").format(error=error), severity="warning"
            )

    app.theme_changed_signal.subscribe(app, changed)
