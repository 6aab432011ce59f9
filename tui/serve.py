"""``agents-tui serve``: the same app in a web browser, through textual-serve."""

from __future__ import annotations

import shlex
import sys

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(host: str, port: int, app_args: list[str], *, allow_remote: bool) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print(
            "agents-tui: the web mode needs textual-serve: pip install 'agents-tui[web]'",
            file=sys.stderr,
        )
        return 2
    if host not in LOOPBACK:
        if not allow_remote:
            print(
                f"agents-tui: refusing to serve on {host}: anyone who can reach it can use your "
                "model and keys. Pass --allow-remote to do it anyway.",
                file=sys.stderr,
            )
            return 2
        print(
            f"agents-tui: WARNING: serving on {host}, reachable beyond this machine.",
            file=sys.stderr,
        )
    command = shlex.join([sys.executable, "-m", "tui", *app_args])
    server = Server(command, host=host, port=port, title="agents-tui")
    server.serve()
    return 0
