"""Removed widgets give their memory back (Textual #6665 work-around in tui/textual_patches)."""

from __future__ import annotations

import gc

import pytest
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui import textual_patches

# These test the work-arounds themselves; with the patches off (a CI step) they are skipped.
patched = pytest.mark.skipif(
    not any(textual_patches.installed().values()), reason="Textual patches are off"
)


class Churn(App[None]):
    def compose(self) -> ComposeResult:
        yield VerticalScroll()


def _styles_caches() -> int:
    gc.collect()
    return sum(isinstance(o, StylesCache) for o in gc.get_objects())


@patched
async def test_widgets_removed_from_a_long_chat_do_not_keep_their_rendered_lines():
    app = Churn()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(VerticalScroll)
        await pilot.pause()
        before = _styles_caches()
        for round_ in range(20):
            await pane.mount_all(Static(f"message {round_}.{i}") for i in range(20))
            await pilot.pause()  # all on screen, so each has rendered its line
            await pane.remove_children()
        await pilot.pause()
        # 400 widgets came and went; what they rendered must not stay alive with them
        assert _styles_caches() - before < 50


@patched
async def test_lines_drawn_and_replaced_are_freed_without_the_cycle_collector():
    """A streaming reply redraws its lines many times a second; each drawn line that is
    replaced must be freed at once, not left for a full collection (a 0.65 s pause after a
    1 MB reply)."""
    from textual.strip import Strip

    app = Churn()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(VerticalScroll)
        text = Static("")
        await pane.mount(text)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for frame in range(30):
                text.update("\n".join(f"line {frame}.{i}" for i in range(20)))
                await pilot.pause()  # drawn: the compositor cuts every line
            gc.collect()
            cyclic_strips = sum(isinstance(o, Strip) for o in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert cyclic_strips < 20  # 30 frames of 20 lines: 600 before the work-around


async def test_the_full_collection_held_during_a_turn_waits_until_typing_pauses():
    """A full collection after a long reply is a pause of 60-100 ms; it runs when keys stop
    coming, not while the next prompt is being typed."""
    import time

    from tests.app.helpers import make_app, send
    from tests.scripts import text_step
    from tui.core import heap

    app, _ = make_app([text_step([f"w{i} " for i in range(50)])])
    full: list[float] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(time.monotonic())

    async with app.run_test() as pilot:
        await pilot.pause()
        await send(pilot, "hello")
        while not app.turn_running:
            await pilot.pause(0.01)
        for _ in range(12):  # a full collection comes due during the turn
            gc.collect(1)
        gc.callbacks.append(watch)
        try:
            ended = typing_until = None
            keys: list[float] = []  # when each key had been handled
            while typing_until is None or time.monotonic() < typing_until:
                await pilot.press("x")  # the next prompt, typed while the reply ends
                keys.append(time.monotonic())
                await pilot.pause(0.05)
                if ended is None and not app.turn_running:
                    ended = time.monotonic()
                    typing_until = ended + 1.0
            # none while keys were coming: a loaded machine may leave a real pause between
            # two keys, and a collection in such a pause is what the policy allows
            for started in full:
                last_key = max((k for k in keys if k <= started), default=float("-inf"))
                assert started - last_key >= heap.QUIET_S - 0.05, (
                    "a full collection ran while keys were coming"
                )
            await pilot.pause(heap.QUIET_S + 0.3)
            assert full and full[-1] >= keys[-1]  # it ran once typing paused
        finally:
            gc.callbacks.remove(watch)


@patched
def test_cached_scrollbars_draw_the_same_bars():
    """The scrollbar renderer the app installs gives Textual's own segments."""
    from rich.color import Color
    from textual.scrollbar import ScrollBar, ScrollBarRender

    from tui.textual_patches import CachedScrollBarRender

    assert ScrollBar.renderer is CachedScrollBarRender
    back, bar = Color.parse("#202020"), Color.parse("#a0a0ff")
    for size, virtual, window, position in [
        (40, 400, 40, 0),
        (40, 400, 40, 360),
        (30, 95, 30, 17.5),
    ]:
        for vertical in (True, False):
            args = dict(
                size=size,
                virtual_size=virtual,
                window_size=window,
                position=position,
                vertical=vertical,
                back_color=back,
                bar_color=bar,
            )
            ours = CachedScrollBarRender.render_bar(**args)
            theirs = ScrollBarRender.render_bar(**args)
            assert list(ours.segments) == list(theirs.segments)
            assert CachedScrollBarRender.render_bar(**args) is ours  # from the cache


class Scrolled(App[None]):
    CSS = "VerticalScroll.thick { scrollbar-size-vertical: 2; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("\n".join(f"line {i}" for i in range(300)))


@patched
async def test_vertical_scrollbar_lines_are_textuals_own():
    """The vertical bar's lines the app makes directly write the same bytes to the terminal
    as Textual's widget pipeline: every theme kind (incl. ANSI, with its line filter),
    thumb positions, hover and drag, one and two cells wide."""
    from rich.console import Console
    from textual.geometry import Offset, Region
    from textual.scrollbar import ScrollBar
    from textual.widget import Widget

    from tui.textual_patches import vertical_bar_lines

    assert ScrollBar.render_lines is not Widget.render_lines  # installed by the app
    console = Console(width=80, color_system="truecolor", force_terminal=True)
    app = Scrolled()
    async with app.run_test(size=(60, 30)) as pilot:
        scroll = app.query_one(VerticalScroll)
        bar = scroll.vertical_scrollbar
        compared = 0
        for theme in ("textual-dark", "textual-light", "ansi-dark"):
            app.theme = theme
            for thick in (False, True):
                scroll.set_class(thick, "thick")
                for y in (0, 1, 7, 123, 271, 999):
                    scroll.scroll_to(y=y, animate=False)
                    await pilot.pause()
                    for state in ("plain", "hover", "grabbed"):
                        bar.mouse_over = state == "hover"
                        bar.grabbed = Offset(0, 0) if state == "grabbed" else None
                        width, height = bar.size
                        for crop in (Region(0, 0, width, height), Region(0, 3, width, 5)):
                            ours = vertical_bar_lines(bar, crop)
                            assert ours is not None
                            bar._styles_cache.clear()
                            theirs = Widget.render_lines(bar, crop)
                            assert [s.render(console) for s in ours] == [
                                s.render(console) for s in theirs
                            ], (theme, thick, y, state, crop)
                            compared += 1
        assert compared == 3 * 2 * 6 * 3 * 2
