"""A real PostgreSQL for the tests and ``bench --scale``: Debian's server, initdb into a
temporary folder, started with pg_ctl on a free loopback port as the ``postgres`` user,
stopped at the end.

``.ci/run`` installs the package; ``AGENTS_TUI_TEST_DATABASE_URL`` points at a server that
is already running instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@contextlib.contextmanager
def postgres_server(*, throwaway: bool = True) -> Iterator[str]:
    """Yields the server's base URL ``postgresql://postgres@127.0.0.1:PORT``. A
    ``throwaway`` server (tests) never syncs to disk; otherwise it syncs as SQLite's WAL
    store does (each write in the WAL, commits not waiting for the disk)."""
    given = os.environ.get("AGENTS_TUI_TEST_DATABASE_URL")
    if given:
        yield given.rsplit("/", 1)[0]
        return
    binaries = pg_bin()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="agents-tui-pg-"))
    data = folder / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    folder.chmod(0o755)
    port = free_port()

    def run(argv: list[str]) -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    run(_as_postgres([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]))
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
        " -c synchronous_commit=off"
    )
    if throwaway:
        options += " -c fsync=off -c full_page_writes=off"
    run(
        _as_postgres(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ]
        )
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)


def new_database(base_url: str) -> str:
    """A fresh empty database on the server; its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"
