import os

import pytest

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")

# The app as main() runs it: Textual's work-arounds installed, unless the run proves they
# are optional (AGENTS_TUI_TEXTUAL_PATCHES=off, a step of .ci/run).
from tui import textual_patches

textual_patches.install()


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Never touch the real config or data directories, never see a real key."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)  # auto would take it (providers.py)
    monkeypatch.delenv("AGENTS_TUI_CONFIG", raising=False)
    for name in list(os.environ):
        if name.startswith("AGENTS_TUI_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres_base():
    """One real PostgreSQL server for the whole run (tests.postgres_server)."""
    from tui.bench.pg import pg_bin, postgres_server

    if pg_bin() is None and not os.environ.get("AGENTS_TUI_TEST_DATABASE_URL"):
        if os.environ.get("CI"):
            raise pytest.UsageError("CI: PostgreSQL is missing: apt-get install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as base:
        yield base


@pytest.fixture
def postgres_url(postgres_base):
    """A fresh database on the shared server, for one test."""
    from tui.bench.pg import new_database

    return new_database(postgres_base)
