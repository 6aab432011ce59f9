"""``agents-tui bench``: the app against stock Textual streaming, measured in the same run."""

# The bench measures the app as ``main()`` runs it: with the Textual work-arounds installed
# (in this process and in the fresh processes it starts), unless AGENTS_TUI_TEXTUAL_PATCHES=off.
from tui import textual_patches as _textual_patches

_textual_patches.install()
