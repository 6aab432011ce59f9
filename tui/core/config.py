"""One settings model: defaults < config file < ``AGENTS_TUI_*`` environment < flags.

The file is TOML at ``$XDG_CONFIG_HOME/agents-tui/config.toml`` (or ``$AGENTS_TUI_CONFIG``).
Every bad value becomes a :class:`ConfigError` naming the file, the line when known,
and the fix, so the CLI can print one line instead of a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tui.core.paths import config_dir as config_dir
from tui.core.paths import data_dir as data_dir

PROVIDERS = ("auto", "openai", "compat", "local")


class ConfigError(Exception):
    """A one-line, user-facing configuration problem."""


def _server_name(words: list[str]) -> str:
    """A readable name: ``python -m pkg.server`` is "pkg.server", ``uvx mcp-server-git`` is
    "mcp-server-git", anything else the command's file name."""
    head = Path(words[0]).name
    if "-m" in words[:-1]:
        return words[words.index("-m") + 1]
    if head in ("uvx", "npx", "pipx") and len(words) > 1:
        return next((w for w in words[1:] if not w.startswith("-")), head)
    return head


@dataclass(frozen=True, slots=True)
class McpSpec:
    """One MCP server to attach: a stdio command or a streamable-HTTP URL."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    url: str | None = None

    @classmethod
    def from_command_line(cls, line: str) -> McpSpec:
        """``--mcp "uvx mcp-server-time --local-timezone UTC"``."""
        import shlex

        try:
            words = shlex.split(line)
        except ValueError as error:
            raise ConfigError(f"--mcp {line!r}: {error}") from None
        if not words:
            raise ConfigError("--mcp needs a command, e.g. --mcp 'mcp-server-time'")
        return cls(name=_server_name(words), command=words[0], args=tuple(words[1:]))

    @classmethod
    def from_url(cls, url: str) -> McpSpec:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"--mcp-url {url!r} is not an http(s) URL, e.g. http://127.0.0.1:9000/mcp"
            )
        return cls(name=parsed.netloc, url=url)

    @classmethod
    def from_table(cls, table: object, source: str) -> McpSpec:
        """A ``[[mcp]]`` table of the config file: name, command, args, env, url."""
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: each [[mcp]] entry must be a table")
        unknown = set(table) - {"name", "command", "args", "env", "url"}
        if unknown:
            raise ConfigError(
                f"{source}: [[mcp]] has unknown keys {sorted(unknown)}; "
                "use name, command, args, env, url"
            )
        command, url = table.get("command"), table.get("url")
        if bool(command) == bool(url):
            raise ConfigError(f"{source}: each [[mcp]] needs exactly one of command or url")
        args = table.get("args", [])
        env = table.get("env", {})
        if not isinstance(args, list) or not isinstance(env, dict):
            raise ConfigError(f"{source}: [[mcp]] args must be a list and env a table")
        base = (
            cls.from_url(str(url))
            if url
            else cls(name=Path(str(command)).name, command=str(command))
        )
        return replace(
            base,
            name=str(table.get("name") or base.name),
            args=tuple(str(a) for a in args),
            env=tuple((str(k), str(v)) for k, v in env.items()),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    agent: str = "assistant"
    provider: str = "auto"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    model_path: str | None = None
    seed: int | None = None
    max_retries: int = 2
    stall_timeout: float = 30.0
    max_turns: int = 10
    context_window: int | None = None  # tokens the model takes in (a server's; local: n_ctx)
    history: int | None = None  # send only the last N messages (the source tutorial: 6)
    theme: str = "agents-dark"
    lang: str | None = None  # en or vi; unset: the locale decides (tui.core.i18n)
    inject_faults: float = 0.0  # the tutorial's demo: this fraction of stream events fails
    mcp: tuple[McpSpec, ...] = ()
    # the API's store: postgresql://USER@HOST:PORT/DB (many processes) or a SQLite file
    database: str | None = None
    # the API's JSONL recordings (the data dir's recordings/): written unless false;
    # those older than so many days deleted when it starts (unset: kept)
    record: bool = True
    record_retention_days: float | None = None
    # the API: a tool call's approval unanswered this many seconds is rejected as expired
    approval_timeout: float = 600.0
    # the TUI: a reply's text shown at a steady pace (tui.core.pace): auto, off, words/s
    pace: str = "off"
    # the response cache: a fresh session's first prompt asked again within this many
    # seconds is answered from memory (tui.core.turn.cache); 0: off
    cache_ttl: float = 0.0

    def masked(self) -> dict[str, object]:
        """The effective settings for display, secrets hidden."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["api_key"]:
            key = str(out["api_key"])
            out["api_key"] = key[:3] + "…" + key[-2:] if len(key) > 8 else "***"
        if out["base_url"]:
            from tui.core.secrets import strip_userinfo

            out["base_url"] = strip_userinfo(str(out["base_url"]))
        out["mcp"] = [
            " ".join([spec.command, *spec.args]) if spec.command else spec.url for spec in self.mcp
        ]
        if out["database"]:
            from tui.core.store import redacted_url

            out["database"] = redacted_url(str(out["database"]))
        return out


_TYPES = {f.name: f.type for f in fields(Settings)}


def config_path() -> Path:
    override = os.environ.get("AGENTS_TUI_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _coerce(name: str, value: object, source: str) -> str | int | float | bool | None:
    kind = str(_TYPES[name])
    try:
        if value is None:
            return None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
                return value.strip().lower() in TRUE
            raise ValueError
        if "int" in kind and "float" not in kind:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError
            return int(value)
        if "float" in kind:
            if not isinstance(value, str | int | float):
                raise TypeError
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {name} = {value!r} is not a valid {kind}") from None


def validated(settings: Settings) -> Settings:
    """``settings`` checked (a front end that changed some after ``load_settings``), or a
    ConfigError naming the first wrong value."""
    return _validate(settings)


def _validate(settings: Settings) -> Settings:
    if settings.provider not in PROVIDERS:
        raise ConfigError(
            f"provider {settings.provider!r} is unknown: use one of {', '.join(PROVIDERS)}"
        )
    if settings.base_url:
        from tui.core.secrets import strip_userinfo

        parsed = urlparse(settings.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"base URL {strip_userinfo(settings.base_url)!r} is not an http(s) URL; "
                "try e.g. http://127.0.0.1:8080/v1"
            )
    if settings.max_retries < 0:
        raise ConfigError("max_retries must be 0 or more")
    if settings.context_window is not None and settings.context_window < 256:
        raise ConfigError("context_window must be at least 256 tokens")
    if settings.history is not None and settings.history < 1:
        raise ConfigError("history must be 1 or more messages")
    if settings.lang is not None:
        from tui.core.i18n import pick_language

        try:
            pick_language(settings.lang)
        except ValueError as error:
            raise ConfigError(f"lang: {error}") from None
    if not 0.0 <= settings.inject_faults < 1.0:
        raise ConfigError("inject_faults must be a fraction from 0 up to (not including) 1")
    if settings.stall_timeout <= 0:
        raise ConfigError("stall_timeout must be a positive number of seconds")
    if settings.record_retention_days is not None and not settings.record_retention_days > 0:
        raise ConfigError(
            "record_retention_days must be a positive number of days (leave it out to keep "
            "every recording)"
        )
    if settings.approval_timeout <= 0:
        raise ConfigError("approval_timeout must be a positive number of seconds")
    from tui.core.pace import PaceError, parse_pace

    try:
        parse_pace(settings.pace)
    except PaceError as error:
        raise ConfigError(str(error)) from None
    if not settings.cache_ttl >= 0:  # nan too
        raise ConfigError("cache_ttl must be 0 (no response cache) or more seconds")
    if settings.database and "://" in settings.database:
        from tui.core.store import is_postgres, redacted_url

        if not is_postgres(settings.database):
            raise ConfigError(
                f"database {redacted_url(settings.database)!r}: use postgresql://USER@HOST:PORT/DB"
                " or the path of a SQLite file"
            )
    return settings


def read_file(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML ({error}); fix or remove that line") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it ({error})") from None
    out: dict[str, object] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name == "mcp":
            tables = value if isinstance(value, list) else [value]
            out["mcp"] = tuple(McpSpec.from_table(t, str(path)) for t in tables)
            continue
        if name not in _TYPES:
            known = ", ".join(sorted(_TYPES))
            raise ConfigError(f"{path}: unknown option {key!r}; known options: {known}")
        out[name] = _coerce(name, value, str(path))
    return out


def read_env(environ: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in _TYPES:
        if name == "mcp":
            continue
        value = environ.get(f"AGENTS_TUI_{name.upper()}")
        if name == "database":
            value = environ.get("AGENTS_TUI_DATABASE_URL") or value
        if value is not None and value != "":
            out[name] = _coerce(name, value, f"AGENTS_TUI_{name.upper()}")
    return out


def _specs(value: object) -> tuple[McpSpec, ...]:
    """MCP servers given as a tuple or list (the config file's, the command line's)."""
    return tuple(value) if isinstance(value, tuple | list) else ()


def load_settings(
    flags: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Merge every source; ``flags`` holds only the options given on the command line."""
    env = dict(os.environ if environ is None else environ)
    merged: dict[str, Any] = {}  # Settings field -> value, checked by _coerce
    path = Path(env["AGENTS_TUI_CONFIG"]) if env.get("AGENTS_TUI_CONFIG") else config_path()
    merged.update(read_file(path))
    merged.update(read_env(env))
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if "mcp" in given:  # servers named on the command line join the config file's
        given["mcp"] = _specs(merged.get("mcp", ())) + _specs(given["mcp"])
    merged.update(given)
    return _validate(replace(Settings(), **merged))
