"""agents-tui: chat with an OpenAI Agents SDK agent and watch the whole run live."""

__version__ = "0.1.0"
