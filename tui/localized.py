"""Key bindings in the interface's language.

Textual keeps each node's bindings (a per-instance copy of the class's, read through
``tui.textual_patches.node_bindings``) with the descriptions written in ``BINDINGS``;
those are marked with ``N_`` for extraction, and ``@localized`` translates the instance's
copy once it exists, so the footer and the command palette show them in the language
chosen at start.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, TypeVar

from tui.core.i18n import N_, _, language

if TYPE_CHECKING:
    from textual.dom import DOMNode

T = TypeVar("T", bound=type)

# Textual's own binding, added by ``App.__init__``: the footer shows it as "^p palette".
TEXTUAL_BINDINGS = (N_("palette"), N_("Open the command palette"))


def localize_bindings(node: DOMNode) -> None:
    if language() == "en":
        return
    from tui.textual_patches import node_bindings

    bindings = node_bindings(node)
    if bindings is None:
        return
    table = bindings.key_to_bindings
    for key, items in table.items():
        table[key] = [
            dataclasses.replace(
                b, description=_(b.description), tooltip=_(b.tooltip) if b.tooltip else ""
            )
            if b.description
            else b
            for b in items
        ]


def localized(cls: T) -> T:
    """Class decorator: the instance's bindings are translated right after ``__init__``."""
    original = cls.__init__  # type: ignore[misc]

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        localize_bindings(self)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls
