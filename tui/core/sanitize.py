"""Make untrusted text (model, tool, user) safe to put on a terminal, keeping it readable.

Control characters are replaced by their visible Unicode "control pictures", so an
escape sequence such as ``ESC [31m`` shows up as ``␛[31m`` instead of colouring the
screen, and OSC 52 / OSC 0 / OSC 8 sequences can neither reach the clipboard, the
title nor create links. Newlines and tabs are kept.

Unicode's bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) are shown as
``<U+202E>``: in a terminal that reorders right-to-left text they make a line read
differently from what it holds (the "Trojan Source" trick, CVE-2021-42574). Right-to-left
text itself, and the harmless marks U+200E/U+200F, are kept.
"""

from __future__ import annotations

import re

_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_TABLE: dict[int, str] = {code: pic for code, pic in _C0_PICTURES.items() if code not in (9, 10)}
_TABLE[0x7F] = "\u2421"  # ␡
for _code in range(0x80, 0xA0):
    _TABLE[_code] = f"\\x{_code:02x}"

_BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
for _code in _BIDI_CONTROLS:
    _TABLE[_code] = f"<U+{_code:04X}>"

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """Return ``text`` with every terminal control character made visible and inert."""
    if not _UNSAFE.search(text):
        return text
    return text.replace("\r\n", "\n").translate(_TABLE)
