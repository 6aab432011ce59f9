"""The interface's language: English by default, Vietnamese (the source tutorial's own) by
``--lang vi``, config ``lang``, or a locale starting with ``vi``.

Strings go through gettext catalogs: ``tui/locale/agents_tui.pot`` is extracted from the
source with Babel (``pybabel extract -F babel.cfg``), ``tui/locale/vi/LC_MESSAGES/*.po`` holds
the translations, and the build (``hatch_build.py``, run by ``pip install``) compiles them to
``.mo``. A source checkout without the compiled file reads the ``.po`` through Babel.

Call ``_()`` where the text is shown, never at import: the language is chosen after import.
"""

from __future__ import annotations

import gettext
import logging
import os
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "agents_tui"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "vi")

log = logging.getLogger(__name__)

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def language_from_env(env: Mapping[str, str] | None = None) -> str:
    """gettext's order: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; the first one
    set decides (``vi``, ``vi_VN.UTF-8``, ``vi:en`` mean Vietnamese)."""
    env = os.environ if env is None else env
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            first = value.split(":")[0].lower()
            return "vi" if first.startswith("vi") else "en"
    return "en"


def pick_language(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``--lang`` or config ``lang`` first, then the locale."""
    if explicit:
        lang = explicit.strip().lower().replace("-", "_").split("_")[0]
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {explicit!r}: use one of {', '.join(LANGUAGES)}")
        return lang
    return language_from_env(env)


def _catalog(lang: str) -> gettext.NullTranslations:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po.exists():
        try:
            return _compiled_in_memory(po)
        except ImportError:
            log.warning("%s is not compiled and Babel is not installed: English it is", po)
    return gettext.NullTranslations()


def _compiled_in_memory(po: Path) -> gettext.GNUTranslations:
    """A checkout that was never built (or a ``.po`` edited since): Babel compiles it."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def set_language(lang: str) -> str:
    """Switch every ``_()`` from now on; returns the language in use."""
    global _translation, _language
    lang = pick_language(lang)
    _translation = gettext.NullTranslations() if lang == "en" else _catalog(lang)
    _language = lang
    return lang


def language() -> str:
    return _language


def _(message: str) -> str:
    """The message in the interface's language (English when no translation is known)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; ``_()`` translates it when shown."""
    return message
