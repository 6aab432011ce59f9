"""``agents-tui bench``: the app against stock Textual streaming, measured in the same run."""
