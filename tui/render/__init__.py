"""Rendering models with no Textual in them: what a streaming reply commits, and when."""
