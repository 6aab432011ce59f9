"""The main screen's row-cropping compositor paints exactly what Textual's own would."""

import random

import pytest
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region

from tests.app.helpers import make_app, send, wait_idle
from tests.scripts import game_master_steps, text_step
from tui import textual_patches
from tui.textual_patches import RowCropCompositor

# These test the work-around itself; with the patches off (a CI step) Textual's own
# compositor runs and the rest of the suite proves the app works on it.
patched = pytest.mark.skipif(
    not textual_patches.installed().get("row_crop"), reason="Textual patches are off"
)

SIZE = (160, 45)


def _terminal_output(app, regions: list[Region], as_class: type[Compositor]) -> str:
    """What a partial update of ``regions`` writes to the terminal, composed by ``as_class``
    (the steps of ``Compositor.render_partial_update``, without clearing its state)."""
    compositor = app.screen._compositor
    own_class = compositor.__class__
    compositor.__class__ = as_class
    try:
        crop = Region.from_union(regions).intersection(compositor.size.region)
        spans = list(compositor._regions_to_spans(regions))
        rendered_rows = {y for y, _, _ in spans}
        chops = compositor._render_chops(crop, rendered_rows.__contains__)
        ends = [cuts[1:] for cuts in compositor.cuts]
        return ChopsUpdate(chops, spans, ends).render_segments(app.console)
    finally:
        compositor.__class__ = own_class


def _updates(rng: random.Random) -> list[list[Region]]:
    """Dirty regions as a stream produces them: a line of the reply, the sidebar, the
    status line, several at once; and random ones."""
    width, height = SIZE
    reply_lines = [Region(2, y, 78, 1) for y in (1, 10, 30, 42)]
    updates = [[line] for line in reply_lines]
    updates += [[Region(0, 0, width, height)], [Region(128, 4, 30, 12)], [Region(0, 44, width, 1)]]
    updates += [[reply_lines[2], Region(128, 4, 30, 1), Region(128, 17, 22, 1)]]

    def random_region() -> Region:
        x, y = rng.randrange(width), rng.randrange(height)
        return Region(x, y, rng.randint(1, width - x), rng.randint(1, height - y))

    updates += [[random_region() for _ in range(rng.randint(1, 4))] for _ in range(40)]
    return updates


@patched
async def test_partial_updates_match_textual_compositor_mid_stream_and_after():
    deltas = [f"line {i} with **bold** and `code`\n\n" for i in range(30)]
    deltas += ["```python\n", "x = 1\n", "```\n\n", "| a | b |\n|---|---|\n| 1 | 2 |\n"]
    app, _ = make_app([text_step(deltas, rate=60), *game_master_steps()], agent="game-master")
    rng = random.Random(7)
    async with app.run_test(size=SIZE) as pilot:
        compositor = app.screen._compositor
        assert isinstance(compositor, RowCropCompositor)
        await send(pilot, "stream something long")
        checked = 0
        while app.turn_running or checked == 0:
            await pilot.pause(0.15)
            for regions in _updates(rng):
                ours = _terminal_output(app, regions, RowCropCompositor)
                assert ours == _terminal_output(app, regions, Compositor), regions
                checked += 1
        await wait_idle(pilot)
        await send(pilot, "now roll the dice")  # timeline rows, sidebar, a second reply
        await wait_idle(pilot)
        for regions in _updates(rng):
            ours = _terminal_output(app, regions, RowCropCompositor)
            assert ours == _terminal_output(app, regions, Compositor), regions
        assert checked > 40  # compared while the reply was still streaming


@patched
def test_the_row_crop_compositor_steps_aside_when_textual_changes():
    """A Textual whose private ``_get_renders`` differs gets Textual's own compositor."""
    from textual._compositor import Compositor

    chat = textual_patches

    assert chat.row_crop_supported()
    assert isinstance(chat.make_compositor(), chat.RowCropCompositor)

    def changed(self, crop, *, extra=None):  # a hypothetical future signature
        return []

    assert not chat.row_crop_supported(changed)
    original = Compositor._get_renders
    try:
        Compositor._get_renders = changed
        fallback = chat.make_compositor()
    finally:
        Compositor._get_renders = original
    assert type(fallback) is Compositor


def test_with_the_patches_off_the_screen_gets_textuals_own_compositor(monkeypatch):
    from textual._compositor import Compositor

    monkeypatch.setattr(textual_patches, "_installed", {})
    assert textual_patches.install(enabled=False) == dict.fromkeys(textual_patches.PATCHES, False)
    assert type(textual_patches.make_compositor()) is Compositor


def test_an_untested_textual_gets_no_patch(monkeypatch):
    monkeypatch.setattr(textual_patches, "_installed", {})
    monkeypatch.setattr(textual_patches, "textual_version", lambda: "9.0.1")
    assert not any(textual_patches.install(enabled=True).values())
    assert textual_patches.tested("8.2.3") and not textual_patches.tested("8.3.0")
