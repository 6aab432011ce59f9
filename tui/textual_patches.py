"""Every work-around for Textual in one module, installed by ``install()`` (called from
``main()`` and by the test suite's conftest), never at import.

Each patch is written for, and tested on, the Textual minor versions in ``TESTED``; on any
other version, or with ``AGENTS_TUI_TEXTUAL_PATCHES=off``, nothing is patched and Textual's
own code runs (correct, somewhat slower). CI runs the app's tests with the patches off to
prove they are optional. The upstream issues are written out in ``docs/upstream.md``.

=====================  ==================================================================
patch                  what it fixes
=====================  ==================================================================
styles_cache           Textual #6665: ``StylesCache.get_inner_outer`` keeps removed widgets
                       (and every line they drew) alive: ~85 KB a turn of a long chat
strip_divide           ``Strip.divide`` at the strip's own width caches ``[self]``: a cycle
                       per drawn line, a 0.65 s collector pause after a 1 MB reply
ansi_by_look           ``Strip.render_ansi`` caches 16,384 styles, each line's own (its
                       offset): ~10 MB in a long chat in a terminal; cached by the look
strip_caches           every ``Strip`` makes seven caches when made (~0.9 KB), though most
                       strips are never asked again: each made when first used
scrollbar              scrollbars rebuilt segment by segment on every repaint (~0.8 ms a
                       bar late in a long session): cached, and a vertical bar's lines made
                       directly
row_crop               the main screen's compositor renders, for a partial update, only the
                       rows inside it (Textual renders whole widgets, then crops)
markdown_parser        Rich's ``Markdown`` builds a ``MarkdownIt`` parser for every document
                       (~0.8 ms, more than parsing a short tail): the reply's Markdown is
                       made without one and parses with the shared parser
layout_once            a widget whose height the layout just changed asks for a second
                       layout (its ``virtual_size`` is a layout reactive): the streaming
                       reply's lines (``lay_out_once``) take the size without it
=====================  ==================================================================

Besides the patches, the few reads of a private attribute of Textual that the app needs
in both modes live here too, each in a small function that says what it reads and why
there is no public way (``anchor_released``, ``node_bindings``, ``use_row_crop``); the
rest of the app reaches into neither Textual nor Rich.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual.binding import BindingsMap
from textual.cache import FIFOCache
from textual.color import Color
from textual.dom import DOMNode
from textual.geometry import Region
from textual.screen import Screen
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

if TYPE_CHECKING:
    from rich.markdown import Markdown

TESTED = ("8.2",)  # Textual major.minor versions every patch here was written for
RICH_TESTED = ("15.0",)  # Rich major.minor versions ``markdown_parser`` was written for
SWITCH = "AGENTS_TUI_TEXTUAL_PATCHES"  # "off": Textual's own code everywhere
log = logging.getLogger(__name__)
_installed: dict[str, bool] = {}


def textual_version() -> str:
    try:
        return importlib.metadata.version("textual")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def rich_version() -> str:
    try:
        return importlib.metadata.version("rich")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def tested(version: str | None = None) -> bool:
    parts = (version or textual_version()).split(".")
    return ".".join(parts[:2]) in TESTED


# --- styles_cache: Textual #6665 ------------------------------------------------------------
@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    return (Style(background=base_background + background), Style(background=base_background))


def _get_inner_outer(_cache: StylesCache, base: Color, background: Color) -> tuple[Style, Style]:
    return _inner_outer(base, background)


def free_dead_styles_caches() -> bool:
    """Textual #6665: ``StylesCache.get_inner_outer`` is an ``lru_cache`` on a method, so
    its key holds the last 1,024 ``StylesCache`` objects alive, and with them every line
    their (removed) widgets ever rendered. A long chat removes widgets all the time: about
    85 KB per turn that never came back. The same colours, cached by colour alone."""
    current: Any = StylesCache.__dict__.get("get_inner_outer")
    if current is _get_inner_outer:
        return True
    if not hasattr(current, "cache_info"):
        return False  # Textual changed it; nothing to work around
    StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign,assignment]
    return True


# --- strip_divide -------------------------------------------------------------------------
_original_divide = Strip.divide


def _divide(strip: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    if len(cuts) == 1 and cuts[0] == strip.cell_length:
        return [strip]  # not cached: a cache entry holding the strip itself is a cycle
    return _original_divide(strip, cuts)


def strips_free_without_the_collector() -> bool:
    """``Strip.divide`` at the strip's own width (the compositor does it for every line it
    draws) caches ``[self]`` in the strip: a reference cycle, so every drawn line became
    garbage only the cycle collector could free. A 1 MB reply left ~270,000 such objects and
    the full collection after it paused the app for 0.65 s."""
    if Strip.__dict__.get("divide") is _divide:
        return True
    if Strip.__dict__.get("divide") is not _original_divide:
        return False
    Strip.divide = _divide  # type: ignore[method-assign,assignment]
    return True


# --- ansi_by_look -------------------------------------------------------------------------
_original_render_ansi: Any = Strip.__dict__.get("render_ansi")
ANSI_LOOKS = 1024  # the colours and attributes a screen uses: a few dozen in this app
_ansi_of_look: dict[tuple[object, ...], str] = {}


def _render_ansi(cls: type[Strip], style: RichStyle, color_system: Any) -> str:
    look = (
        style._color,
        style._bgcolor,
        style._attributes & style._set_attributes,
        color_system,
    )
    ansi = _ansi_of_look.get(look)
    if ansi is None:
        if len(_ansi_of_look) >= ANSI_LOOKS:
            _ansi_of_look.clear()
        ansi = _ansi_of_look[look] = _original_render_ansi.__func__.__wrapped__(
            cls, style, color_system
        )
    style._ansi = ansi
    return ansi


def ansi_by_look() -> bool:
    """``Strip.render_ansi`` (a terminal's every drawn segment goes through it) caches the
    last 16,384 styles, and a selectable widget's lines carry their (x, y) offset in each
    style: a new style for every line of a chat ever drawn. Only a real terminal draws
    (the headless driver writes nothing): ~35 entries a turn, ~10 MB when full, holding
    styles that are long gone from the screen. The escape codes depend on the colours
    and attributes alone, so they are cached by those."""
    current = Strip.__dict__.get("render_ansi")
    if isinstance(current, classmethod) and current.__func__ is _render_ansi:
        return True
    wrapped = getattr(getattr(current, "__func__", None), "__wrapped__", None)
    if current is not _original_render_ansi or wrapped is None:
        return False  # Textual changed it; nothing to work around
    Strip.render_ansi = classmethod(_render_ansi)  # type: ignore[method-assign,assignment]
    return True


# --- strip_caches -------------------------------------------------------------------------
_original_strip_init: Any = Strip.__init__
# Textual's ``Strip.__init__`` makes these seven caches for every strip, at these sizes.
STRIP_CACHES = {
    "_divide_cache": 4,
    "_crop_cache": 16,
    "_style_cache": 16,
    "_filter_cache": 4,
    "_line_length_cache": 4,
    "_crop_extend_cache": 4,
    "_offsets_cache": 4,
}
_STRIP_FIELDS = {"_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count"}


class _CacheWhenUsed:
    """A ``Strip`` slot holding one of its caches, made the first time it is read."""

    __slots__ = ("size", "slot")

    def __init__(self, slot: Any, size: int) -> None:
        self.slot = slot  # the class's own member descriptor for the slot
        self.size = size

    def __get__(self, strip: Strip | None, owner: type | None = None) -> Any:
        if strip is None:
            return self
        try:
            return self.slot.__get__(strip, owner)
        except AttributeError:  # not made yet
            cache: FIFOCache[Any, Any] = FIFOCache(self.size)
            self.slot.__set__(strip, cache)
            return cache

    def __set__(self, strip: Strip, value: Any) -> None:
        self.slot.__set__(strip, value)


def _strip_init(self: Strip, segments: Iterable[Segment], cell_length: int | None = None) -> None:
    self._segments = list(segments)
    self._cell_length = cell_length
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


def strip_caches_when_used() -> bool:
    """Every ``Strip`` makes seven ``FIFOCache`` objects when it is made (~0.9 KB and seven
    constructor calls), though most strips are drawn once and never cropped, styled or
    divided again, and the lines a chat keeps are mostly never asked any of it. Each cache is
    made when first used instead: 3.8 MB less after a 300-turn chat in a terminal."""
    if Strip.__dict__.get("__init__") is _strip_init:
        return True
    # Textual's own sets exactly these (and makes the caches with FIFOCache and list)
    known = {*STRIP_CACHES, *_STRIP_FIELDS, "FIFOCache", "list"}
    sets = set(_original_strip_init.__code__.co_names)
    if (
        Strip.__dict__.get("__init__") is not _original_strip_init
        or sets != known
        or not {*STRIP_CACHES, *_STRIP_FIELDS} <= set(getattr(Strip, "__slots__", ()))
    ):
        return False
    for name, size in STRIP_CACHES.items():
        setattr(Strip, name, _CacheWhenUsed(Strip.__dict__[name], size))
    Strip.__init__ = _strip_init  # type: ignore[method-assign]
    return True


# --- scrollbar ----------------------------------------------------------------------------
_render_bar: Any = ScrollBarRender.render_bar.__func__  # type: ignore[attr-defined]
_DEFAULT_BACK = RichColor.parse("#555555")
_DEFAULT_BAR = RichColor.parse("bright_magenta")


@lru_cache(maxsize=32)  # a bar per pane, a few states each; segments are ~3 KB a bar
def _cached_bar(*args: Any, **kwargs: Any) -> Any:
    return _render_bar(ScrollBarRender, *args, **kwargs)


class CachedScrollBarRender(ScrollBarRender):
    """Textual builds a scrollbar's segments anew on every repaint, with new styles (they
    carry mouse actions as meta, so no style cache after them hits): ~43 us a line, for
    both panes' bars on every full repaint of a long session (the chat and the timeline
    scroll on every turn). Cached by their arguments: ~24 us a line. Installed as
    ``ScrollBar.renderer``, Textual's own hook for a custom scrollbar renderer."""

    @classmethod
    def render_bar(cls, *args: Any, **kwargs: Any) -> Any:
        return _cached_bar(*args, **kwargs)


def vertical_bar_lines(bar: ScrollBar, crop: Region) -> list[Strip] | None:
    """A vertical scrollbar's lines made from its segments (one per line, at most five
    different ones), or None when Textual's own path must draw it.

    Textual draws a scrollbar like any widget: the Rich renderable through a console,
    then every line through the widget's style cache, which a scroll empties (the thumb
    moved). That was ~0.8 ms a bar and the largest single cost of a frame late in a long
    session (the chat and the timeline scroll on every turn). The same lines, with the
    same line filters, tested against Textual's own render.
    """
    styles = bar.styles
    if not bar.vertical or styles.opacity < 1 or styles.tint.a or styles.text_opacity < 1:
        return None
    renderable = bar.render()
    if not isinstance(renderable, ScrollBarRender) or not isinstance(renderable.style, RichStyle):
        return None
    width, height = bar.size
    if not width or not height:
        return None
    style = renderable.style
    segments = _cached_bar(
        size=height,
        virtual_size=renderable.virtual_size,
        window_size=renderable.window_size,
        position=renderable.position,
        thickness=width,
        vertical=True,
        back_color=style.bgcolor or _DEFAULT_BACK,
        bar_color=style.color or _DEFAULT_BAR,
    ).segments
    filters = bar.get_line_filters()
    background = bar.background_colors[1]
    base = bar.visual_style.rich_style  # what Textual puts under a widget's content
    made: dict[int, Strip] = {}
    lines: list[Strip] = []
    for segment in segments[crop.y : crop.bottom]:
        strip = made.get(id(segment))
        if strip is None:
            strip = Strip([Segment(segment.text, base + segment.style)], width)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            if crop.x or crop.right < width:
                strip = strip.crop(crop.x, crop.right)
            made[id(segment)] = strip
        lines.append(strip)
    return lines


_widget_render_lines = Widget.render_lines


def _scrollbar_render_lines(self: ScrollBar, crop: Region) -> list[Strip]:
    lines = vertical_bar_lines(self, crop)
    return lines if lines is not None else _widget_render_lines(self, crop)


def cached_scrollbars() -> bool:
    """Textual's hook for the segments; the lines of a vertical bar made directly."""
    ScrollBar.renderer = CachedScrollBarRender
    ScrollBar.render_lines = _scrollbar_render_lines  # type: ignore[method-assign,assignment]
    return True


# --- row_crop -----------------------------------------------------------------------------
class RowCropCompositor(Compositor):
    """Renders, for a partial update, only the rows of each widget inside the update."""

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        assert crop is not None  # Textual 8.2 always passes the region it updates
        top, bottom, left, right = crop.y, crop.bottom, crop.x, crop.right
        for widget, (region, clip) in self.visible_widgets.items():
            x, y, width, height = region.intersection(clip)
            if not (width and height) or x >= right or x + width <= left:
                continue  # nothing of it is in the update: its columns are not written
            first, last = max(y, top), min(y + height, bottom)
            if first >= last:
                continue
            # Whole rows: a frame is cut into columns at widget edges, so a render keeps
            # its full width for the cuts to line up.
            rows = Region(x, first, width, last - first)
            yield region, rows, widget.render_lines(rows.translate(-region.offset))


# The private method this overrides, as the tested Textual (8.2) declares it.
KNOWN_SIGNATURE = (
    "(self, crop: 'Region | None' = None) -> 'Iterable[tuple[Region, Region, list[Strip]]]'"
)


def row_crop_supported(method: object = None) -> bool:
    """True when Textual's ``Compositor._get_renders`` is the one the override was built on."""
    target = method if method is not None else Compositor._get_renders
    try:
        return str(inspect.signature(target)) == KNOWN_SIGNATURE  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def make_compositor() -> Compositor:
    """The row-cropping compositor when installed, or Textual's own (patches off, or a
    Textual that changed underneath it)."""
    if not _installed.get("row_crop"):
        return Compositor()
    if row_crop_supported():
        return RowCropCompositor()
    log.warning(
        "Textual's Compositor._get_renders is not the known one; using Textual's compositor "
        "(correct, somewhat more CPU while streaming)"
    )
    return Compositor()


def use_row_crop(screen: Screen[Any]) -> None:
    """The screen composes its frames with the row-cropping compositor, when the patch is
    installed. Textual has no hook for a screen's compositor: ``Screen._compositor`` is a
    private attribute set in ``Screen.__init__``, replaced here right after it. With the
    patches off (or a Textual whose compositor changed) the screen keeps Textual's own."""
    if _installed.get("row_crop"):
        screen._compositor = make_compositor()  # Textual's own when it changed underneath


def anchor_released(widget: Widget) -> bool:
    """Whether the person scrolled a widget away from its anchor (Textual keeps this in a
    private attribute, ``Widget._anchor_released``, since 0.86; there is no public reader).
    False when a Textual version no longer has it: the chat then re-anchors only when it is
    not anchored, which is what it did before anchors could be released."""
    return bool(getattr(widget, "_anchor_released", False))


def node_bindings(node: DOMNode) -> BindingsMap | None:
    """A node's own key bindings, to translate their descriptions in place (``@localized``).

    Textual keeps them in ``DOMNode._bindings``, a per-instance copy of the class's merged
    ``BINDINGS`` made in ``DOMNode.__init__``; there is no public way to change a binding's
    description on an instance (the class's are merged when the class is made, before the
    language is chosen). None on a Textual that keeps them elsewhere: the keys then show
    in English, and work the same."""
    bindings = getattr(node, "_bindings", None)
    return bindings if isinstance(bindings, BindingsMap) else None


# --- markdown_parser (Rich) -----------------------------------------------------------------
# ``Markdown.__init__`` as the tested Rich (15.0) declares it: the attributes set below are
# the ones it sets, less the parsed tokens.
MARKDOWN_SIGNATURE = (
    "(self, markup: 'str', code_theme: 'str' = 'monokai', justify: 'JustifyMethod | None' = "
    "None, style: 'str | Style' = 'none', hyperlinks: 'bool' = True, inline_code_lexer: "
    "'str | None' = None, inline_code_theme: 'str | None' = None) -> 'None'"
)


def rich_tested(version: str | None = None) -> bool:
    parts = (version or rich_version()).split(".")
    return ".".join(parts[:2]) in RICH_TESTED


@lru_cache(1)
def markdown_init_known() -> bool:
    """True when Rich's ``Markdown.__init__`` is the one ``init_markdown_unparsed`` copies
    (checked on first use: ``rich.markdown`` is not imported on the first frame's path)."""
    from rich.markdown import Markdown

    try:
        return str(inspect.signature(Markdown.__init__)) == MARKDOWN_SIGNATURE
    except (TypeError, ValueError):
        return False


def init_markdown_unparsed(
    document: Markdown, markup: str, *, code_theme: str, hyperlinks: bool
) -> bool:
    """Sets up a Rich ``Markdown`` as its ``__init__`` does, without building a parser
    and parsing: the caller provides ``parsed`` (tokens from one shared ``MarkdownIt``).
    Rich's ``__init__`` builds a new ``MarkdownIt`` for every document (~0.8 ms, more than
    parsing a short tail that is drawn again on every paint of a streaming reply); Rich has
    no parameter to pass a parser or tokens. False when not installed (patches off, or a
    Rich whose ``__init__`` changed): the caller runs Rich's own ``__init__``."""
    if not _installed.get("markdown_parser") or not markdown_init_known():
        return False
    document.markup = markup
    document.code_theme = code_theme
    document.justify = None
    document.style = "none"
    document.hyperlinks = hyperlinks
    document.inline_code_lexer = None
    document.inline_code_theme = code_theme
    return True


# --- layout_once ------------------------------------------------------------------------
_original_size_updated = Widget._size_updated
_LAID_OUT_ONCE: set[type[Widget]] = set()
W = TypeVar("W", bound=type[Widget])


def lay_out_once(cls: W) -> W:
    """Marks a widget class whose size a layout sets once: its height is ``auto`` (from its
    lines, or from its children's heights, found in the same layout). Textual's
    ``Widget._size_updated`` sets ``virtual_size``, a reactive with ``layout=True``, so
    every change of its height costs a second layout of the whole screen on the next
    frame, which finds the same height (measured: 46 layouts for 23 lines of a reply
    growing inside the first screen). Never a scrollable widget: its ``virtual_size`` is
    its scroll height (the chat pane marked too let replies grow out of sight, b13337b)."""
    _LAID_OUT_ONCE.add(cls)
    return cls


def _size_updated(
    self: Widget, size: Any, virtual_size: Any, container_size: Any, layout: bool = True
) -> bool:
    if layout and type(self) in _LAID_OUT_ONCE:
        layout = False  # as Textual does for the widgets a scroll exposes
    return _original_size_updated(self, size, virtual_size, container_size, layout)


KNOWN_SIZE_UPDATED = (
    "(self, size: 'Size', virtual_size: 'Size', container_size: 'Size', layout: 'bool' = True)"
    " -> 'bool'"
)


def size_updated_once() -> bool:
    """Installs ``_size_updated`` for the marked classes, when Textual's is the known one."""
    if Widget.__dict__.get("_size_updated") is _size_updated:
        return True
    try:
        known = str(inspect.signature(_original_size_updated)) == KNOWN_SIZE_UPDATED
    except (TypeError, ValueError):
        known = False
    if not known:
        return False
    Widget._size_updated = _size_updated  # type: ignore[method-assign]
    return True


PATCHES: dict[str, Callable[[], bool]] = {
    "styles_cache": free_dead_styles_caches,
    "strip_divide": strips_free_without_the_collector,
    "ansi_by_look": ansi_by_look,
    "strip_caches": strip_caches_when_used,
    "scrollbar": cached_scrollbars,
    "row_crop": row_crop_supported,  # taken up by the chat screen (``use_row_crop``)
    "markdown_parser": rich_tested,  # taken up by the reply's Markdown (and checked there)
    "layout_once": size_updated_once,
}


def install(enabled: bool | None = None) -> dict[str, bool]:
    """Apply every patch (once; idempotent); returns which took effect. ``enabled`` None:
    on unless ``AGENTS_TUI_TEXTUAL_PATCHES=off``."""
    if enabled is None:
        enabled = os.environ.get(SWITCH, "on").strip().lower() not in ("off", "0", "no")
    if not enabled:
        _installed.update(dict.fromkeys(PATCHES, False))
        return dict(_installed)
    if not tested():
        log.warning(
            "Textual %s is not one the work-arounds were tested on (%s): running Textual's "
            "own code (correct, somewhat more CPU and memory on long sessions)",
            textual_version(),
            ", ".join(TESTED),
        )
        _installed.update(dict.fromkeys(PATCHES, False))
        return dict(_installed)
    for name, apply in PATCHES.items():
        if not _installed.get(name):
            _installed[name] = bool(apply())
    return dict(_installed)


def installed() -> dict[str, bool]:
    return dict(_installed)
