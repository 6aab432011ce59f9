"""Command line: ``agents-tui [options]`` and its subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui import __version__


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", help="assistant, game-master, or package.module:attribute")
    parser.add_argument("--provider", choices=["auto", "openai", "compat", "local"])
    parser.add_argument("--model", help="model name (OpenAI or server)")
    parser.add_argument(
        "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument("--api-key", help="API key (or OPENAI_API_KEY / AGENTS_TUI_API_KEY)")
    parser.add_argument("--model-path", help="run another local GGUF file")
    parser.add_argument("--seed", type=int, help="make the game master's dice reproducible")
    parser.add_argument("--max-retries", type=int, help="retries after a transient failure (2)")
    parser.add_argument("--stall-timeout", type=float, help="seconds without an event (30)")
    parser.add_argument("--max-turns", type=int, help="agent loop limit per prompt (10)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agents-tui",
        description="Chat with an OpenAI Agents SDK agent and watch the whole run live.",
    )
    parser.add_argument("--version", action="version", version=f"agents-tui {__version__}")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="show the effective settings (secrets masked) and exit",
    )
    _common(parser)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run one turn without the TUI")
    run.add_argument("prompt", help="the prompt ('-' reads standard input)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--text", action="store_true", help="stream the reply text (default)")
    mode.add_argument("--jsonl", action="store_true", help="one JSON event per line")
    _common(run)
    return parser


FLAG_NAMES = (
    "agent",
    "provider",
    "model",
    "base_url",
    "api_key",
    "model_path",
    "seed",
    "max_retries",
    "stall_timeout",
    "max_turns",
)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in FLAG_NAMES}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tui.core.config import ConfigError, load_settings

    try:
        settings = load_settings(_flags(args))
    except ConfigError as error:
        print(f"agents-tui: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(settings.masked(), indent=2))
        return 0
    if args.command == "run":
        from tui.headless import run_headless

        prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
        return run_headless(settings, prompt, jsonl=bool(args.jsonl))
    from tui.app import AgentsTuiApp

    AgentsTuiApp(settings).run()
    return 0
