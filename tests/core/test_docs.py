"""The docs site: it builds strictly, its API reference is the OpenAPI document's, and the
configuration page names every setting with its variable and file key."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from types import ModuleType

import pytest

from tui.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MKDOCS = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")


def reference_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "api_reference", ROOT / "scripts/api_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_api_reference_is_the_openapi_documents():
    script = reference_script()
    page = (DOCS / "api" / "reference.md").read_text(encoding="utf-8")
    assert page == script.render(), (
        "docs/api/reference.md is stale: python scripts/api_reference.py"
    )


def test_every_operation_and_schema_of_the_openapi_document_is_on_the_reference_page():
    script = reference_script()
    document = script.document()
    page = (DOCS / "api" / "reference.md").read_text(encoding="utf-8")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert f"### `{method.upper()} {path}`" in page
            for status in operation["responses"]:
                assert f"| `{status}` |" in page
    for name in document["components"]["schemas"]:
        assert f"### `{name}`" in page


def test_the_configuration_page_names_every_setting_its_variable_and_file_key():
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    for field in fields(Settings):
        if field.name == "mcp":
            assert any(row.startswith("| `[[mcp]]`") for row in rows)
            continue
        row = next((r for r in rows if r.startswith(f"| `{field.name}` |")), None)
        assert row, f"docs/configuration.md: no row for the setting {field.name}"
        assert f"`AGENTS_TUI_{field.name.upper()}" in row
    assert "a flag > its `AGENTS_TUI_*` variable > the config file > the default" in page


@pytest.mark.skipif(MKDOCS is None and not os.environ.get("CI"), reason="mkdocs (the dev extra)")
def test_the_site_builds_strictly(tmp_path: Path):
    """`mkdocs build --strict`: every page in the nav, every link and anchor found (~5 s)."""
    assert MKDOCS, "mkdocs is missing: pip install -e '.[dev]'"
    done = subprocess.run(
        [MKDOCS, "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "api" / "reference" / "index.html").exists()


def test_every_link_of_the_readme_reaches_a_file_of_the_repository():
    """The README points at the site's pages (docs/): none of its links may be broken."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    local = [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+:", t)]
    missing = [t for t in local if t and not (ROOT / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_the_readme_stays_short():
    """What a newcomer needs first; the rest is on the site (issue 37: at most 300 lines)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: move details to docs/"
