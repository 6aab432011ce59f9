"""Small MCP servers built with the ``mcp`` package, for tests.

``python -m tests.mcp_servers crashy`` is a stdio server whose ``crash`` tool kills its
own process (a server dying mid-conversation); ``notes_http_server()`` serves a
streamable-HTTP server on a free loopback port in a thread.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from typing import Any

try:  # mcp 2 renamed FastMCP; agents-tui pins mcp 1 (see pyproject), both are served here
    from mcp.server.mcpserver import MCPServer
except ImportError:
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[assignment,no-redef]


def notes_server() -> MCPServer:
    server = MCPServer("notes")
    notes: list[str] = []

    @server.tool()
    def add_note(text: str) -> str:
        """Keep a note."""
        notes.append(text)
        return f"noted ({len(notes)} notes)"

    @server.tool()
    def count_notes() -> int:
        """How many notes are kept."""
        return len(notes)

    return server


def crashy_server() -> MCPServer:
    server = MCPServer("crashy")

    @server.tool()
    def echo(text: str) -> str:
        """Say it back."""
        return f"echo: {text}"

    @server.tool()
    def crash() -> str:
        """Stop the server process at once."""
        os._exit(3)

    return server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def notes_http_server() -> tuple[str, Any]:
    """Start the notes server over streamable HTTP; returns its URL and the uvicorn server."""
    import uvicorn

    port = free_port()
    app = notes_server().streamable_http_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}/mcp", server


if __name__ == "__main__":
    {"crashy": crashy_server, "notes": notes_server}[sys.argv[1]]().run("stdio")
