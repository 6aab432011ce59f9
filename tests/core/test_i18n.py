"""The interface's translations: chosen from the locale or --lang, complete, and safe."""

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tui.core import i18n
from tui.core.i18n import language_from_env, pick_language, set_language

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "tui" / "locale" / "vi" / "LC_MESSAGES" / "agents_tui.po"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def source_messages() -> set[str | tuple[str, ...]]:
    """Every string the source marks for translation, as ``pybabel extract`` finds it."""
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "tui"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(tuple(message) if isinstance(message, tuple | list) else message)
    return found


def catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


@pytest.fixture
def vietnamese():
    set_language("vi")
    yield
    set_language("en")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "vi_VN.UTF-8"}, "vi"),
        ({"LC_ALL": "vi", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LANGUAGE": "en:vi", "LANG": "vi_VN.UTF-8"}, "en"),  # LANGUAGE comes first
        ({"LANGUAGE": "vi:en"}, "vi"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_follows_the_locale(env, expected):
    assert language_from_env(env) == expected


def test_lang_given_wins_over_the_locale_and_an_unknown_one_is_refused():
    assert pick_language("vi", {"LANG": "en_US.UTF-8"}) == "vi"
    assert pick_language("vi_VN", {}) == "vi"
    assert pick_language("en", {"LANG": "vi_VN.UTF-8"}) == "en"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        pick_language("fr")


def test_every_string_of_the_interface_has_a_vietnamese_translation():
    po = catalog()
    translated = {
        (tuple(m.id) if isinstance(m.id, tuple | list) else m.id): m.string for m in po if m.id
    }
    marked = source_messages()
    missing = sorted(str(m) for m in marked if not translated.get(m))
    assert not missing, f"{len(missing)} strings without a Vietnamese translation: {missing[:10]}"
    stale = sorted(str(m) for m in translated if m not in marked)
    assert not stale, f"translations of strings the source no longer has: {stale[:10]}"
    assert len(marked) > 250


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_translations_keep_every_placeholder_so_formatting_never_fails():
    for message in catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for text in strings:
            assert fields(text) == fields(ids[0]), (message.id, text)


def test_vietnamese_is_what_the_interface_then_says(vietnamese):
    assert i18n.language() == "vi"
    assert i18n._("ready") == "sẵn sàng"
    assert i18n.ngettext("{n} message", "{n} messages", 3).format(n=3) == "3 tin nhắn"
    assert i18n._("a string nobody marked") == "a string nobody marked"  # English fallback
    set_language("en")
    assert i18n._("ready") == "ready"


def test_the_build_hook_compiles_the_catalog_that_gettext_reads(tmp_path):
    """hatch_build.py's compilation, as pip runs it: the .mo gettext loads says the same."""
    import gettext

    from babel.messages.mofile import write_mo

    mo = tmp_path / "agents_tui.mo"
    with mo.open("wb") as handle:
        write_mo(handle, catalog())
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.gettext("Chat statistics") == "Thống kê trò chuyện"
    hook = (ROOT / "hatch_build.py").read_text()
    assert "write_mo" in hook and 'build_data["artifacts"]' in hook


def test_no_module_that_translates_rebinds_the_underscore():
    """``_`` as a throwaway name in a function that also calls ``_()`` raises
    UnboundLocalError at run time; every translating module is checked."""
    offenders = []
    for path in (ROOT / "tui").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        translates = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "tui.core.i18n"
            and any(alias.name == "_" for alias in node.names)
            for node in ast.walk(tree)
        )
        if not translates:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.arg) and node.arg == "_":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders


def test_no_f_string_is_handed_to_gettext():
    """``_(f"...")`` can never match a catalog entry: the text is made before the lookup."""
    pattern = re.compile(r"\b(?:N_|_|ngettext)\(\s*f[\"']")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "tui").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found
