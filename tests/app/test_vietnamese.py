"""The app in the source tutorial's language: no English left on the main screen, in help or
in /stats; Vietnamese text with its diacritics shown whole and wrapped at word boundaries."""

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.app.helpers import make_app, pane_text, screen_text, send, stepping_clock, wait_idle
from tests.app.test_snapshots import _freeze_clock
from tests.scripts import Call, parts_step, text_step
from tui.core.i18n import set_language

PO = Path(__file__).resolve().parents[2] / "tui/locale/vi/LC_MESSAGES/agents_tui.po"
STORY = (
    "Ngày xửa ngày xưa, có hai người bạn thân sống ở một ngôi làng nhỏ bên bờ sông. "
    "Họ cùng nhau vượt qua những cơn bão dữ dội, chia sẻ từng bát cơm, từng niềm vui "
    "và nỗi buồn. Khi một người gặp nạn, người kia không ngần ngại lên đường. "
)


def english_fragments() -> list[str]:
    """The English words of every translated string: none of them may be on screen."""
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    out = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        first = message.string if isinstance(message.string, str) else message.string[0]
        if first == ids[0]:
            continue  # the same in both languages (TTFT, ITL p50)
        for text in ids:
            for literal, *_rest in string.Formatter().parse(text):
                words = literal.strip(" ·:;,.()↑↓⚡?!-").strip()
                if len(words) >= 4 and re.search(r"[a-z]{3}", words):
                    out.add(words)
    return sorted(out)


ENGLISH = english_fragments()


def english_on(text: str) -> list[str]:
    # a slash command's name (/help, /quit) is a command, not an English word, and so are
    # the words a command takes ("/pace auto|off|SỐ_TỪ_MỖI_GIÂY", wrapped or not)
    text = re.sub(r"\w+(?:\|\w+)+", "", text)
    return [
        words
        for words in ENGLISH
        if re.search(r"(?<![\w/-])" + re.escape(words) + r"(?![\w-])", text)
    ]


@pytest.fixture
def vietnamese():
    set_language("vi")
    yield
    set_language("en")


async def test_no_english_on_the_main_screen_in_help_or_in_stats(vietnamese):
    assert len(ENGLISH) > 200
    # the check finds English, and a command's name is not English
    assert "Performance statistics" in english_on("sẵn sàng · Performance statistics · /help")
    assert english_on("sẵn sàng · /help /quit /stats /sessions") == []
    steps = [
        parts_step([Text_("Để xem số phận. "), Call("flip_coin", "call_c", ["{}"])]),
        text_step(["Đồng xu ", "đã quyết định!"]),
    ]
    app, _ = make_app(steps, agent="game-master")
    async with app.run_test(size=(160, 45)) as pilot:
        shown = screen_text(app)
        assert "Gõ tin nhắn rồi nhấn Enter." in shown and english_on(shown) == []
        await send(pilot, "Tung đồng xu cho tôi")
        await wait_idle(pilot)
        shown = screen_text(app)
        assert "Đồng xu đã quyết định!" in shown and "sẵn sàng" in shown
        assert "flip_coin" in shown and ("Ngửa" in shown or "Sấp" in shown)
        assert "Lượt này" in shown and "Dòng thời gian" in shown and "thoát" in shown
        assert english_on(shown) == []
        await pilot.press("f1")
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "Phím" in shown and "gửi câu hỏi" in shown and english_on(shown) == []
        await pilot.press("end")  # the slash commands, below the keys
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "Lệnh gạch chéo" in shown and "Esc đóng trợ giúp này." in shown
        assert "thống kê trò chuyện và hiệu năng" in shown and english_on(shown) == []
        await pilot.press("escape")
        await send(pilot, "/stats")
        await wait_idle(pilot)
        stats = pane_text(app, app.chat)
        assert "Thống kê hiệu năng" in stats and "Tỷ lệ phục hồi (phục hồi / lỗi)" in stats
        assert english_on(screen_text(app)) == []


async def test_vietnamese_text_keeps_its_diacritics_and_wraps_between_words(vietnamese):
    app, _ = make_app([text_step([w + " " for w in STORY.split()])], agent="storyteller")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "Kể cho tôi một câu chuyện ngắn về tình bạn")
        await wait_idle(pilot)
        chat = pane_text(app, app.chat)
        width = app.chat.region.width
        lines = [line.rstrip() for line in chat.splitlines()]
        body = [
            line.strip(" █▌▎")
            for line in lines
            if any(word in line for word in ("xửa", "bão", "nỗi", "ngần", "làng", "sông", "cơm"))
        ]
        assert len(body) >= 2  # wrapped over several lines
        words = set(STORY.split())
        for line in body:
            assert all(word in words for word in line.split()), line  # no word cut in two
        assert " ".join(" ".join(body).split()) == " ".join(STORY.split())
        assert all(len(line) <= width for line in lines)


def Text_(text: str):
    from tui.testing.scripted import Text

    return Text([text])


def test_snapshot_vietnamese_game_master_turn(snap_compare, vietnamese):
    steps = [
        parts_step([Text_("Hãy để đồng xu quyết định. "), Call("flip_coin", "call_c", ["{}"])]),
        text_step(["Đồng xu ", "rơi xuống: ", "con đường bên trái!"]),
    ]
    app, _ = make_app(steps, agent="game-master", clock=stepping_clock())

    async def run_before(pilot):
        await send(pilot, "Có 2 con đường trước mặt. Tôi nên chọn đường nào?")
        await wait_idle(pilot)
        _freeze_clock(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 40), run_before=run_before)
