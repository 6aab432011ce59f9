from tui.core.sanitize import safe_text

HOSTILE = (
    "\x1b[31mred\x1b[0m \x1b]52;c;SGVsbG8=\x07 \x1b]0;pwned\x07 "
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \x00\x07\x08\r \x9b2J"
)


def test_no_control_character_survives():
    out = safe_text(HOSTILE)
    assert not any(ord(c) < 32 and c not in "\n\t" for c in out)
    assert not any(0x7F <= ord(c) <= 0x9F for c in out)


def test_sequences_stay_readable():
    out = safe_text(HOSTILE)
    assert "␛[31mred" in out and "␛]52;c;SGVsbG8=␇" in out and "␀" in out


def test_plain_text_markup_newlines_emoji_and_rtl_unchanged():
    text = "[bold red]not markup[/] 🎲👍🏽 שלום مرحبا\n\tindented"
    assert safe_text(text) == text
