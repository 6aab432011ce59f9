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


def test_bidirectional_overrides_are_shown_not_obeyed():
    # "Trojan Source": an override makes a terminal that reorders RTL text show another line
    hostile = "access = 'user\u202e \u2066// admin\u2069 \u2066'"
    out = safe_text(hostile)
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in out)
    assert out == "access = 'user<U+202E> <U+2066>// admin<U+2069> <U+2066>'"
    # right-to-left text and its plain marks are not controls
    assert safe_text("\u200fשלום \u200eok") == "\u200fשלום \u200eok"
