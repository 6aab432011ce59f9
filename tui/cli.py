"""Command line: ``agents-tui [options]`` and its subcommands.

``build_parser`` builds the options, one small function per subcommand; ``main`` loads the
settings and hands them to the subcommand's handler in ``HANDLERS`` (no subcommand: the TUI).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from tui import __version__
from tui.core.secrets import redact

if TYPE_CHECKING:
    from tui.app import AgentsTuiApp
    from tui.app_remote import Connect
    from tui.core.config import Settings

AddArgument = Callable[..., argparse.Action]


def _suppressing(parser: argparse.ArgumentParser) -> AddArgument:
    """``parser.add_argument`` with every default *absent*."""

    def add_argument(*names: str, **options: Any) -> argparse.Action:
        options["default"] = argparse.SUPPRESS
        return parser.add_argument(*names, **options)

    return add_argument


def _common(parser: argparse.ArgumentParser, *, in_subcommand: bool = False) -> None:
    """Backend and agent options. In a subcommand their default is *absent*, so an option
    given before the subcommand is not overwritten by the subcommand's empty default."""
    add = _suppressing(parser) if in_subcommand else parser.add_argument
    _backend_options(add)
    _loop_options(add)
    _mcp_options(add)


def _backend_options(add: AddArgument) -> None:
    add(
        "--agent",
        help="storyteller, game-master, assistant, web-assistant, resilient-assistant, "
        "performance-assistant, or package.module:attribute",
    )
    add(
        "--provider",
        choices=["auto", "openai", "compat", "local"],
        help="auto (default): an any-llm/ or litellm/ --model, else --base-url, else "
        "OPENAI_API_KEY, else the bundled model",
    )
    add(
        "--model",
        help="the model: gpt-4.1-mini, a server's name, or any-llm/PROVIDER/MODEL, "
        "litellm/PROVIDER/MODEL (e.g. any-llm/anthropic/claude-sonnet-4-5; pip install "
        "'agents-tui[providers]')",
    )
    add(
        "--base-url",
        help="an OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1), or the endpoint "
        "of an any-llm/ or litellm/ model (env AGENTS_TUI_BASE_URL, OPENAI_BASE_URL)",
    )
    add(
        "--api-key",
        help="visible in the process list: prefer OPENAI_API_KEY, AGENTS_TUI_API_KEY (a "
        "--base-url server) or the provider's own (ANTHROPIC_API_KEY, GEMINI_API_KEY, ...)",
    )
    add("--model-path", help="run another local GGUF file")
    add(
        "--lang",
        choices=("en", "vi"),
        help="the interface's language (default: the locale's, vi when LANG starts with vi)",
    )
    add(
        "--inject-faults",
        type=float,
        metavar="RATE",
        help="the tutorial's demo: fail this fraction of stream events (0.1) to watch recovery",
    )
    add("--seed", type=int, help="make the game master's dice reproducible")


def _loop_options(add: AddArgument) -> None:
    add(
        "--max-retries",
        "--retries",
        dest="max_retries",
        type=int,
        help="retries after a transient failure (2: 3 attempts, waiting 2 s then 4 s)",
    )
    add("--stall-timeout", type=float, help="seconds a model may stay silent (30)")
    add("--max-turns", type=int, help="agent loop limit per prompt (10)")
    add(
        "--context-window",
        type=int,
        metavar="TOKENS",
        help="the server model's context window; older turns give way to fit it",
    )
    add(
        "--history",
        type=int,
        metavar="N",
        help="send only the last N messages to the model (the tutorial's console chat: 6)",
    )
    add(
        "--cache-ttl",
        type=float,
        metavar="SECONDS",
        help="answer a fresh session's first prompt, asked before of the same agent and "
        "model within SECONDS, from memory (off by default; never a turn with tools)",
    )


def _mcp_options(add: AddArgument) -> None:
    add(
        "--mcp",
        action="append",
        metavar="COMMAND",
        help="attach a stdio MCP server, e.g. --mcp 'mcp-server-time' (repeatable)",
    )
    add(
        "--mcp-url",
        action="append",
        metavar="URL",
        help="attach a streamable-HTTP MCP server (repeatable)",
    )


class Parser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' too), whose error never shows a database
    password: argparse quotes the offending argument (``unrecognized arguments:
    --database postgresql://u:pw@h/db``)."""

    def error(self, message: str) -> NoReturn:
        from tui.core.store import redacted_message

        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {redacted_message(message)}\n")


def _remember_database_urls(argv: list[str]) -> None:
    """The secrets of any database URL on the command line, wherever it was put, hidden
    from then on (an argparse error, a log line)."""
    suspects = [a.partition("=")[2] if a.startswith("--") else a for a in argv]
    suspects = [a for a in suspects if "://" in a or "password" in a.lower()]
    if suspects:
        from tui.core.store import remember_url

        for arg in suspects:
            remember_url(arg)


EPILOG = """\
examples:
  agents-tui                                   the assistant, on the bundled model (no key)
  agents-tui --agent game-master --seed 42     a dice game with reproducible rolls
  agents-tui --model gpt-4.1-mini              OpenAI (OPENAI_API_KEY)
  agents-tui --base-url http://127.0.0.1:11434/v1 --model llama3.2
                                               any OpenAI-compatible server
  agents-tui --model any-llm/anthropic/claude-sonnet-4-5
                                               Anthropic, Gemini, Mistral, ... (their own
                                               keys; pip install 'agents-tui[providers]')
  agents-tui run "Explain TTFT in one line"    one turn, the reply on standard output
  git diff | agents-tui run "review this" -    the prompt, then standard input
  agents-tui models                            the backends this machine reaches

environment:
  OPENAI_API_KEY, OPENAI_BASE_URL        OpenAI, or the server it points at
  ANTHROPIC_API_KEY, GEMINI_API_KEY, ... an any-llm/ model's provider key
  AGENTS_TUI_<SETTING>                   any setting: AGENTS_TUI_MODEL, AGENTS_TUI_BASE_URL,
                                         AGENTS_TUI_API_KEY, AGENTS_TUI_AGENT, ...
  AGENTS_TUI_CONFIG                      another config file

config file: {config}
  (a flag wins over AGENTS_TUI_*, which wins over the file; --print-config shows the result)
"""


def build_parser() -> argparse.ArgumentParser:
    from tui.core.config import config_path

    parser = Parser(
        prog="agents-tui",
        description="Chat with an OpenAI Agents SDK agent and watch the whole run live.",
        epilog=EPILOG.format(config=config_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agents-tui {__version__}")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="show the effective settings (secrets masked) and exit",
    )
    parser.add_argument(
        "--session",
        help="continue (or create) this conversation id; with --connect: join this session",
    )
    parser.add_argument("--resume", action="store_true", help="reopen the latest conversation")
    parser.add_argument(
        "--pace",
        metavar="auto|off|WORDS_PER_S",
        help="show a reply's text at a steady pace: auto follows the reader, a number is "
        "words a second (default off: as it streams; /pace changes it in the app)",
    )
    _connect_options(parser)
    _common(parser)
    sub = parser.add_subparsers(dest="command")
    for name, help_text, add_options in SUBCOMMANDS:  # in this order in the help
        add_options(sub.add_parser(name, help=help_text))
    return parser


def _connect_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "attach to a running agents-tui api (a table of players, or an operator watching)"
    )
    group.add_argument(
        "--connect",
        metavar="URL",
        help="open the app on a session of the service at URL (http:// or https://); "
        "the token from AGENTS_TUI_API_TOKEN or --token-file",
    )
    group.add_argument(
        "--name", help="with --connect: the author of this terminal's prompts (your login)"
    )
    group.add_argument(
        "--watch", action="store_true", help="with --connect: read-only, for an operator"
    )
    group.add_argument(
        "--approve",
        dest="watch_approve",
        action="store_true",
        help="with --watch: still answer the agent's tool approvals",
    )
    group.add_argument(
        "--token-file", metavar="PATH", help="with --connect: the service's token, from PATH"
    )


def _run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "prompt",
        nargs="*",
        help="the prompt (its words); none reads standard input, and '-' puts standard input "
        "there: git diff | agents-tui run 'review this' -",
    )
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--text", action="store_true", help="stream the reply text (default)")
    mode.add_argument("--jsonl", action="store_true", help="one JSON event per line")
    run.add_argument(
        "--session", default=argparse.SUPPRESS, help="continue (or create) this conversation id"
    )
    run.add_argument(
        "--approve",
        choices=["ask", "all", "none"],
        help="tools that need approval: ask on the terminal (default when interactive), "
        "approve all, or reject all (default otherwise)",
    )
    _common(run, in_subcommand=True)


def _tutorial_options(tutorial: argparse.ArgumentParser) -> None:
    tutorial.add_argument(
        "program",
        nargs="?",
        help="1-6 or its name (storyteller, game-master, console-chat, web-service, "
        "resilient, performance); none: the list",
    )
    tutorial.add_argument("--list", action="store_true", help="list the six programs")
    tutorial.add_argument(
        "--tui",
        action="store_true",
        help="run it in the TUI: its prompts typed for you (any key takes over)",
    )
    tutorial.add_argument(
        "--pace",
        default="off",
        metavar="auto|off|WORDS_PER_S",
        help="show the replies at a steady pace: auto follows the reader, a number is words "
        "a second (default off: as they stream)",
    )
    _common(tutorial, in_subcommand=True)


def _models_options(models: argparse.ArgumentParser) -> None:
    models.add_argument("--json", action="store_true", help="one JSON list")
    models.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds each backend may take"
    )
    _common(models, in_subcommand=True)


def _stats_options(stats: argparse.ArgumentParser) -> None:
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--lang", choices=("en", "vi"), default=argparse.SUPPRESS)


def _replay_options(replay: argparse.ArgumentParser) -> None:
    replay.add_argument("file", help="a .jsonl recording (see the recordings folder)")
    replay.add_argument("--speed", type=float, default=1.0, help="2 plays twice as fast")


def _serve_options(serve: argparse.ArgumentParser) -> None:
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


def _api_options(api: argparse.ArgumentParser) -> None:
    _api_access_options(api)
    _api_limit_options(api)
    _api_store_and_log_options(api)
    _common(api, in_subcommand=True)


def _api_access_options(api: argparse.ArgumentParser) -> None:
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8765)
    api.add_argument(
        "--token",
        help="require Authorization: Bearer TOKEN (needed off loopback); prefer "
        "AGENTS_TUI_API_TOKEN or --token-file: a --token is visible in the process list",
    )
    api.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the token from PATH (its first line)",
    )
    api.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept requests from pages at ORIGIN (e.g. http://localhost:3000; repeatable)",
    )
    api.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for the host NAME (besides the bound address and localhost)",
    )


def _api_limit_options(api: argparse.ArgumentParser) -> None:
    api.add_argument(
        "--max-streams",
        type=int,
        default=100,
        metavar="N",
        help="turns at once, detached ones and queued prompts included (each counted until "
        "its turn ends), and as many followers (GET .../events); more get 429 "
        "TOO_MANY_STREAMS (default 100, lowered to what the open-file limit allows)",
    )
    api.add_argument(
        "--max-live-sessions",
        type=int,
        default=512,
        metavar="N",
        help="sessions kept in memory; idle ones past N are reloaded from the store on their "
        "next request (default 512)",
    )
    api.add_argument(
        "--headers-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="a request's head must arrive within S seconds, or the connection is closed",
    )
    api.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="a request's body must arrive within S seconds (408 REQUEST_TIMEOUT)",
    )
    api.add_argument(
        "--send-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="a client that takes no event for S seconds is dropped; its turn is stopped "
        "and the partial reply kept",
    )
    api.add_argument(
        "--shutdown-grace",
        type=float,
        default=20.0,
        metavar="S",
        help="on SIGTERM: no new turns (503), running turns get S seconds to finish, then "
        "are stored interrupted with their partial reply (default 20)",
    )


def _api_store_and_log_options(api: argparse.ArgumentParser) -> None:
    api.add_argument(
        "--database",
        metavar="URL",
        help="the store: postgresql://USER@HOST:PORT/DB lets any number of API processes "
        "serve the same sessions (or AGENTS_TUI_DATABASE_URL; default: the SQLite file)",
    )
    api.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one object a line on standard error for every request and turn",
    )
    api.add_argument(
        "--log-content",
        action="store_true",
        help="put prompts and replies in the turn log lines (never by default)",
    )
    api.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        default=None,
        help="write no JSONL recording of the conversations (default: one per session and "
        "process run, in the data dir's recordings/; config: record = false)",
    )
    api.add_argument(
        "--record-retention-days",
        type=float,
        metavar="DAYS",
        help="at start, delete the recordings older than DAYS (config: record_retention_days;"
        " default: kept)",
    )


def _import_options(imp: argparse.ArgumentParser) -> None:
    imp.add_argument("file", help="a JSON file written by /export json or agents-tui export")


def _export_options(exp: argparse.ArgumentParser) -> None:
    exp.add_argument("conversation", help="the conversation id (Ctrl+S shows them)")
    exp.add_argument("--format", choices=["md", "json"], default="md")
    exp.add_argument("-o", "--output", help="write to this file (default: standard output)")


def _migrate_options(mig: argparse.ArgumentParser) -> None:
    mig.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST:PORT/DB")
    mig.add_argument(
        "--from", dest="source", metavar="PATH", help="the SQLite file (default: the app's own)"
    )


def _bench_options(bench: argparse.ArgumentParser) -> None:
    bench.add_argument("--quick", action="store_true", help="finish within about 5 minutes")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--check", action="store_true", help="exit 1 when a ratio or rate target is missed"
    )
    bench.add_argument(
        "--soak",
        action="store_true",
        help="only the API under mixed load (10,000 sessions, 500 turns, leavers, "
        "non-readers, stats polled), within about 2 minutes",
    )
    bench.add_argument(
        "--scale",
        action="store_true",
        help="only the API on PostgreSQL with 1, 2 and 4 processes (and SQLite), 50 to 500 "
        "streams at 10 deltas/s, within about 3 minutes",
    )
    bench.add_argument(
        "--remote",
        action="store_true",
        help="only a terminal attached to a running service (--connect) against the local "
        "TUI on the same stream, and 20 watchers of one session, within about a minute",
    )
    bench.add_argument(
        "--long",
        type=int,
        metavar="TURNS",
        help="only a conversation of TURNS turns on the bundled model (run --session and TUI)",
    )
    bench.add_argument(
        "--terminal",
        type=int,
        metavar="TURNS",
        help="only a chat of TURNS short turns typed into the app on a pseudo-terminal "
        "(160x45, a local server): memory per turn and at the end (300: about 2 minutes)",
    )
    bench.add_argument(
        "--loops",
        action="store_true",
        help="only the bundled model on 30 everyday asks: replies that repeat themselves, "
        "their length in words (a few minutes)",
    )


# Each subcommand: its name, its help, and what adds its options (in the help in this order).
SUBCOMMANDS: tuple[tuple[str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("run", "run one turn without the TUI", _run_options),
    ("models", "the backends this machine reaches: configured, answering", _models_options),
    ("tutorial", "run the source tutorial's program N (1-6) as it shows it", _tutorial_options),
    ("stats", "statistics over every stored turn", _stats_options),
    ("replay", "play a recording in the TUI, no model needed", _replay_options),
    ("serve", "serve the app to a web browser (textual-serve)", _serve_options),
    ("api", "serve the HTTP API (the tutorial's web streaming service)", _api_options),
    ("import", "store a conversation from a /export json file", _import_options),
    ("export", "write a stored conversation as Markdown or JSON", _export_options),
    ("migrate", "copy a SQLite store (every conversation) into PostgreSQL", _migrate_options),
    ("bench", "measure streaming speed against stock Textual", _bench_options),
)

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
    "context_window",
    "history",
    "cache_ttl",
)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    from tui.core.config import McpSpec

    flags = {name: getattr(args, name, None) for name in FLAG_NAMES}
    servers = [McpSpec.from_command_line(c) for c in getattr(args, "mcp", None) or ()]
    servers += [McpSpec.from_url(u) for u in getattr(args, "mcp_url", None) or ()]
    flags["mcp"] = tuple(servers) if servers else None
    flags["lang"] = getattr(args, "lang", None)  # every command speaks it
    flags["inject_faults"] = getattr(args, "inject_faults", None)
    flags["database"] = getattr(args, "database", None)  # agents-tui api --database
    flags["pace"] = getattr(args, "pace", None)  # the TUI's (the tutorial has its own)
    return flags


API_AGENT = "web-assistant"  # the tutorial's web streaming service answers with it

# Subcommands that never start a model: backend options given with them are refused.
NO_BACKEND = ("stats", "replay", "bench", "export", "import", "migrate")


# Stopped by Ctrl+C: 128 + SIGINT, as a shell reports a program the signal ended.
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    from tui.core.models import openai_workarounds

    openai_workarounds.install()  # before anything imports openai (its docstring says why)
    try:
        _remember_database_urls(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(argv)
        if args.command in NO_BACKEND and _refused_backend_options(args):
            return 2
        if getattr(args, "api_key", None):
            print(
                "agents-tui: --api-key is visible to every user in the process list; prefer "
                "OPENAI_API_KEY (AGENTS_TUI_API_KEY for a --base-url server, the provider's "
                "own such as ANTHROPIC_API_KEY for any-llm/ models)",
                file=sys.stderr,
            )
        settings = _settings(args)
        if settings is None:
            return 2
        if args.print_config:
            print(json.dumps(settings.masked(), indent=2))
            return 0
        return HANDLERS[args.command](args, settings)
    except KeyboardInterrupt:  # Ctrl+C where nothing else handles it: no traceback
        print("agents-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (agents-tui run ... | head -1): what it wanted it has. The
        # turn stopped when the write failed; nothing more is written, nothing is retried.
        _quiet_stdout()
        return 0


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of a closed pipe
    does not print an error on the way out."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _refused_backend_options(args: argparse.Namespace) -> bool:
    """Report the backend options given to a subcommand that starts no model."""
    given = [
        "--" + name.replace("_", "-")
        for name in (*FLAG_NAMES, "mcp", "mcp_url")
        if getattr(args, name, None) is not None
    ]
    if given:
        print(
            f"agents-tui: {', '.join(given)} has no effect on '{args.command}' "
            "(it starts no model); remove it",
            file=sys.stderr,
        )
    return bool(given)


def _settings(args: argparse.Namespace) -> Settings | None:
    """The effective settings (the interface's language set from them); None, reported,
    when they are wrong."""
    from tui.core.config import ConfigError, load_settings
    from tui.core.i18n import pick_language, set_language

    try:
        settings = load_settings(_flags(args))
    except ConfigError as error:
        print(f"agents-tui: {redact(str(error))}", file=sys.stderr)
        return None
    set_language(pick_language(settings.lang))
    return settings


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """``agents-tui run``: one turn without the TUI."""
    from tui.headless import run_headless

    words: list[str] = list(args.prompt or ())
    prompt = _read_prompt(words)
    if words and "-" not in words and args.approve != "ask" and _input_waiting():
        # (with --approve ask, standard input carries the answers)
        print(
            "agents-tui: standard input is not read when a prompt is given; "
            "add - to send it too: agents-tui run 'your prompt' -",
            file=sys.stderr,
        )
    if not prompt.strip():
        print("agents-tui: no prompt: give one, or pipe text to standard input", file=sys.stderr)
        return 2
    return run_headless(
        settings,
        prompt,
        jsonl=bool(args.jsonl),
        session_id=getattr(args, "session", None),
        approve=args.approve,
    )


def _read_prompt(words: list[str]) -> str:
    """The prompt: its words, with standard input read to its end where a word is ``-``;
    no words: standard input only. Nothing else reads standard input, so what is piped is
    never lost to a race (``curl … | agents-tui run 'summarise' -``)."""
    if words and "-" not in words:
        return " ".join(words)
    if sys.stdin is None or sys.stdin.closed:
        piped = ""
    else:
        if sys.stdin.isatty():
            print("agents-tui: type the prompt, then Ctrl+D", file=sys.stderr)
        piped = sys.stdin.read()
    if not words:
        return piped
    # Words run together with spaces; the piped text is a paragraph of its own.
    parts: list[str] = []
    run: list[str] = []
    for word in words:
        if word == "-":
            parts += [" ".join(run), piped]
            run = []
        else:
            run.append(word)
    parts.append(" ".join(run))
    return "\n\n".join(part for part in parts if part.strip())


def _input_waiting() -> bool:
    """Standard input holds text right now (a pipe or a file), which a prompt given
    without ``-`` leaves unread. Never waits, never reads."""
    import array
    import fcntl
    import os
    import stat
    import termios

    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            return os.fstat(fd).st_size > os.lseek(fd, 0, os.SEEK_CUR)
        if not stat.S_ISFIFO(mode):
            return False
        count = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, count)
        return count[0] > 0
    except (AttributeError, OSError, ValueError):
        return False


def _tutorial(args: argparse.Namespace, settings: Settings) -> int:
    """``agents-tui tutorial [N]``: the source tutorial's programs."""
    from tui.tutorial import find, run_tutorial
    from tui.tutorial_api import serving  # program 4's service: the API's app, in-process

    entry = find(args.program) if args.tui and args.program else None
    if entry is not None:  # --tui: the TUI, the program's prompts typed for the person
        _textual_app()
        from tui.tutorial_tui import run_in_tui

        return run_in_tui(settings, entry)
    return run_tutorial(
        settings, args.program, list_only=args.list, pace=args.pace, serve_api=serving
    )


def _models(args: argparse.Namespace, settings: Settings) -> int:
    """``agents-tui models``: each backend, configured or not, and the models it answers with."""
    import asyncio
    import os

    from tui.core.models.inventory import inventory

    found = asyncio.run(inventory(settings, os.environ, timeout=args.timeout))
    if args.json:
        print(json.dumps([reach.as_dict() for reach in found], indent=2))
        return 0
    for reach in found:
        mark = "--" if reach.reachable is None else "ok" if reach.reachable else "!!"
        configured = reach.configured or "not configured"
        print(f"{mark} {reach.name:<24} {configured:<18} {reach.detail}")
    return 0


def _api(args: argparse.Namespace, settings: Settings) -> int:
    """``agents-tui api``: the HTTP API, answering with the tutorial's Web Assistant (its
    ``WebStreamingService``) unless ``--agent`` or the configuration names another."""
    from dataclasses import replace

    from tui.api.server import serve_api
    from tui.core.config import Settings as Defaults

    if getattr(args, "agent", None) is None and settings.agent == Defaults().agent:
        settings = replace(settings, agent=API_AGENT)
    from dataclasses import replace

    from tui.core.config import ConfigError, validated

    token, problem = _api_token(args)
    if not problem and args.shutdown_grace < 0:
        problem = "--shutdown-grace must be 0 or more seconds"
    given = {"record": args.record, "record_retention_days": args.record_retention_days}
    try:  # flags over the config file and the environment, as every setting
        settings = validated(replace(settings, **{k: v for k, v in given.items() if v is not None}))
    except ConfigError as error:
        problem = problem or str(error)
    if problem:
        print(f"agents-tui: {problem}", file=sys.stderr)
        return 2
    return serve_api(
        settings,
        host=args.host,
        port=args.port,
        token=token,
        allow_hosts=tuple(args.allow_host),
        allow_origins=tuple(args.allow_origin),
        max_streams=args.max_streams,
        max_live_sessions=args.max_live_sessions,
        timeouts=(args.headers_timeout, args.body_timeout, args.send_timeout),
        log_format=args.log_format,
        log_content=args.log_content,
        shutdown_grace_s=args.shutdown_grace,
    )


def _api_token(args: argparse.Namespace) -> tuple[str | None, str]:
    """The API token from --token-file, AGENTS_TUI_API_TOKEN or --token (in that order of
    preference), and a problem to report, if any."""
    import os

    if args.token_file:
        return _token_from_file(args.token_file)
    from_env = os.environ.get("AGENTS_TUI_API_TOKEN", "").strip()
    if from_env:
        return from_env, ""
    if args.token:
        print(
            "agents-tui: --token is visible to every user in the process list; "
            "prefer AGENTS_TUI_API_TOKEN or --token-file",
            file=sys.stderr,
        )
    return args.token or None, ""


def _token_from_file(name: str) -> tuple[str | None, str]:
    """The first line of --token-file, or the problem reading it."""
    from pathlib import Path

    try:
        lines = Path(name).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        return None, f"cannot read --token-file {name}: {error.strerror}"
    except UnicodeDecodeError:
        return None, f"--token-file {name} is not text"
    token = lines[0].strip() if lines else ""
    if not token:
        return None, f"--token-file {name} is empty"
    return token, ""


def _serve(args: argparse.Namespace, _settings: Settings) -> int:
    """``agents-tui serve``: the app in a web browser."""
    from tui.serve import serve

    # Options given before "serve" mean the same for the served app.
    extra = _flags_as_args(args) + [a for a in args.app_args if a != "--"]
    return serve(args.host, args.port, extra, allow_remote=args.allow_remote)


def _flags_as_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for name in FLAG_NAMES:
        value = getattr(args, name, None)
        if value is not None:
            out += ["--" + name.replace("_", "-"), str(value)]
    for command in getattr(args, "mcp", None) or ():
        out += ["--mcp", command]
    for url in getattr(args, "mcp_url", None) or ():
        out += ["--mcp-url", url]
    return out


def _bench(args: argparse.Namespace, _settings: Settings) -> int:
    """``agents-tui bench``: the whole bench, or one of its --soak, --scale, --long parts."""
    if args.soak:
        from tui.bench.soak import soak

        print(json.dumps(soak(), indent=2))
        return 0
    if args.scale:
        from tui.bench.scale import scale

        print(json.dumps(scale(), indent=2))
        return 0
    if args.remote:
        from tui.bench.remote import remote_bench

        print(json.dumps(remote_bench(quick=args.quick), indent=2))
        return 0
    if args.loops:
        from tui.bench.loops import loops

        print(json.dumps(loops(), indent=2, ensure_ascii=False))
        return 0
    if args.terminal is not None:
        if args.terminal < 1:
            print(
                f"agents-tui: bench --terminal {args.terminal}: give 1 or more turns",
                file=sys.stderr,
            )
            return 2
        from tui.bench.terminal import terminal_session

        print(json.dumps(terminal_session(args.terminal), indent=2))
        return 0
    if args.long:
        from tui.bench.long_local import long_local

        print(json.dumps(long_local(args.long), indent=2))
        return 0
    from tui.bench.run import run_bench

    return run_bench(quick=args.quick, as_json=args.json, check=args.check)


def _stats(args: argparse.Namespace, _settings: Settings) -> int:
    """``agents-tui stats``: statistics over every stored turn."""
    from tui.core.observe.stats import as_json as stats_json
    from tui.core.observe.stats import as_text, global_statistics, report_of
    from tui.core.store import Store

    store = Store()
    try:  # the tutorial's tables, then its monitor's global statistics
        sections = [*report_of(store.totals()), global_statistics(store.global_stats())]
    finally:
        store.close()
    if args.json:
        print(json.dumps(stats_json(sections), indent=2, ensure_ascii=False))
    else:
        print(as_text(sections))
    return 0


def _import(args: argparse.Namespace, _settings: Settings) -> int:
    """``agents-tui import``: store a conversation from a /export json file."""
    import asyncio
    from pathlib import Path

    from tui.core.store import Store
    from tui.core.store.transfer import TransferError, import_conversation, read_export

    try:
        data = read_export(Path(args.file).expanduser())
    except TransferError as error:
        print(f"agents-tui: {redact(str(error))}", file=sys.stderr)
        return 1
    store = Store()
    try:
        conversation_id = asyncio.run(import_conversation(store, data))
    finally:
        store.close()
    print(conversation_id)
    return 0


def _export(args: argparse.Namespace, _settings: Settings) -> int:
    """``agents-tui export``: a stored conversation as Markdown or JSON."""
    from pathlib import Path

    from tui.core.store import Store
    from tui.core.store.export import to_json, to_markdown

    conversation_id, output = args.conversation, args.output
    store = Store()
    row = store.conversation(conversation_id)
    if row is None:
        print(
            f"agents-tui: no conversation {conversation_id!r} (agents-tui stats, Ctrl+S)",
            file=sys.stderr,
        )
        return 1
    turns = store.turns(conversation_id)
    text = to_json(row, turns) if args.format == "json" else to_markdown(row, turns)
    if output:
        Path(output).expanduser().write_text(text, encoding="utf-8")
        print(f"agents-tui: wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _migrate(args: argparse.Namespace, _settings: Settings) -> int:
    """``agents-tui migrate``: copy a SQLite store into PostgreSQL."""
    from pathlib import Path

    from tui.core.store import (
        DatabaseError,
        Store,
        default_db_path,
        is_postgres,
        redacted_message,
        redacted_url,
    )
    from tui.core.store.migrate import copy_store

    source, target = args.source, args.to
    path = Path(source).expanduser() if source else default_db_path()
    if not path.is_file():
        print(f"agents-tui: no SQLite store at {path}", file=sys.stderr)
        return 2
    if not is_postgres(target):
        print("agents-tui: --to must be postgresql://USER@HOST:PORT/DB", file=sys.stderr)
        return 2
    try:
        store = Store(url=target)
    except DatabaseError as problem:
        print(f"agents-tui: {redacted_message(str(problem), target)}", file=sys.stderr)
        return 1
    try:
        report = copy_store(path, store)
    finally:
        store.close()
    print(
        f"copied {report.conversations} conversations ({report.turns} turns, "
        f"{report.memory_items} memory items, {report.paused} paused on approvals) "
        f"from {path} to {redacted_url(target)}"
    )
    if report.skipped:
        print(f"already there, left as they are: {', '.join(report.skipped)}")
    return 0


def _textual_app() -> type[AgentsTuiApp]:
    """The app's class, with Textual's work-arounds installed (here, never at import)."""
    from tui import textual_patches
    from tui.app import AgentsTuiApp

    textual_patches.install()
    return AgentsTuiApp


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    """``agents-tui replay``: a recording played in the TUI, no model needed."""
    from pathlib import Path

    app_class = _textual_app()
    from tui.core.turn.recording import ReplayRunner

    try:
        runner = ReplayRunner(Path(args.file), speed=args.speed)
    except (OSError, ValueError, KeyError) as error:
        print(f"agents-tui: cannot read recording {args.file}: {error}", file=sys.stderr)
        return 2
    label = f"replay of {Path(args.file).name}"
    app_class(settings, runner=runner, backend_label=label, autoplay=runner.prompts).run()
    return 0


def _tui(args: argparse.Namespace, settings: Settings) -> int:
    """No subcommand: the TUI, on a new, given (--session) or the latest (--resume) conversation,
    or (--connect) on a session of a running service."""
    if args.connect:
        connect = _connect(args)
        if connect is None:
            return 2
        _textual_app()(settings, connect=connect).run()
        return 0
    if args.name or args.watch or args.watch_approve:
        print("agents-tui: --name, --watch and --approve go with --connect URL", file=sys.stderr)
        return 2
    _textual_app()(settings, session_id=args.session, resume=args.resume).run()
    return 0


def _connect(args: argparse.Namespace) -> Connect | None:
    """What ``--connect`` attaches to, or None after saying what is wrong."""
    import getpass
    from urllib.parse import urlsplit

    from tui.app_remote import Connect

    url = str(args.connect).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        print(
            f"agents-tui: --connect needs an http:// or https:// URL, not {url!r}", file=sys.stderr
        )
        return None
    token, problem = _api_token(argparse.Namespace(token_file=args.token_file, token=None))
    if problem:
        print(f"agents-tui: {problem}", file=sys.stderr)
        return None
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "player"
    name = (args.name or login).strip()
    if not name or ":" in name or len(name) > 64 or not name.isprintable():
        print("agents-tui: --name must be 1-64 printable characters without ':'", file=sys.stderr)
        return None
    if args.watch and not args.session:
        print(
            "agents-tui: --watch needs --session ID (a watcher makes no session)", file=sys.stderr
        )
        return None
    if args.watch_approve and not args.watch:
        print("agents-tui: --approve goes with --watch (a player answers anyway)", file=sys.stderr)
        return None
    return Connect(
        url,
        token,
        args.session,
        name,
        agent=getattr(args, "agent", None),
        watch=args.watch,
        approve=args.watch_approve,
    )


Handler = Callable[[argparse.Namespace, "Settings"], int]

HANDLERS: dict[str | None, Handler] = {
    None: _tui,
    "run": _run,
    "models": _models,
    "tutorial": _tutorial,
    "stats": _stats,
    "replay": _replay,
    "serve": _serve,
    "api": _api,
    "import": _import,
    "export": _export,
    "migrate": _migrate,
    "bench": _bench,
}
