"""Widgets render what they are sent; they never call the SDK."""
