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
    parser.add_argument("--stall-timeout", type=float, help="seconds a model may stay silent (30)")
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
    parser.add_argument("--session", help="continue (or create) this conversation id")
    parser.add_argument("--resume", action="store_true", help="reopen the latest conversation")
    _common(parser)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run one turn without the TUI")
    run.add_argument("prompt", help="the prompt ('-' reads standard input)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--text", action="store_true", help="stream the reply text (default)")
    mode.add_argument("--jsonl", action="store_true", help="one JSON event per line")
    run.add_argument("--session", help="continue (or create) this conversation id")
    _common(run)
    stats = sub.add_parser("stats", help="statistics over every stored turn")
    stats.add_argument("--json", action="store_true")
    replay = sub.add_parser("replay", help="play a recording in the TUI, no model needed")
    replay.add_argument("file", help="a .jsonl recording (see the recordings folder)")
    replay.add_argument("--speed", type=float, default=1.0, help="2 plays twice as fast")
    serve = sub.add_parser("serve", help="serve the app to a web browser (textual-serve)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --host (prints a warning)"
    )
    serve.add_argument(
        "app_args",
        nargs=argparse.REMAINDER,
        help="options for the served app, after --, e.g. -- --agent game-master",
    )
    bench = sub.add_parser("bench", help="measure streaming speed against stock Textual")
    bench.add_argument("--quick", action="store_true", help="finish within about 5 minutes")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
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
        return run_headless(settings, prompt, jsonl=bool(args.jsonl), session_id=args.session)
    if args.command == "serve":
        from tui.serve import serve

        extra = [a for a in args.app_args if a != "--"]
        return serve(args.host, args.port, extra, allow_remote=args.allow_remote)
    if args.command == "bench":
        from tui.bench.run import run_bench

        return run_bench(quick=args.quick, as_json=args.json)
    if args.command == "stats":
        return _stats(as_json=args.json)
    from tui.app import AgentsTuiApp

    if args.command == "replay":
        from pathlib import Path

        from tui.core.journal import ReplayRunner

        try:
            runner = ReplayRunner(Path(args.file), speed=args.speed)
        except (OSError, ValueError, KeyError) as error:
            print(f"agents-tui: cannot read recording {args.file}: {error}", file=sys.stderr)
            return 2
        label = f"replay of {Path(args.file).name}"
        app = AgentsTuiApp(settings, runner=runner, backend_label=label, autoplay=runner.prompts)
        app.run()
        return 0
    AgentsTuiApp(settings, session_id=args.session, resume=args.resume).run()
    return 0


def _stats(*, as_json: bool) -> int:
    from tui.core.store import Store

    stats = Store().global_stats()
    if as_json:
        print(json.dumps(stats, indent=2))
        return 0
    for key, value in stats.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key.replace('_', ' '):32} {shown}")
    return 0
