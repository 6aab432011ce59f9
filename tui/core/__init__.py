"""The headless core: everything that runs an agent and measures it, without textual.

Nothing under this package may import textual; ``tests/core/test_headless.py`` enforces it.
"""
