"""What a packager reads: every import declared, one version, a licence that ships.

The imports are read from the source (every ``import`` in ``tui/``, in a function too), each
mapped to the distribution that installs it, and looked up in ``pyproject.toml``: a module
the app needs to start must be a dependency; one only a feature needs must be in that
feature's extra.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

import tui

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Modules only a feature imports, and the extra that declares them. Any other module must be
# a dependency.
OPTIONAL = {
    "llama_cpp": "local",
    "jinja2": "local",
    "numpy": "local",
    "psycopg": "postgres",
    "opentelemetry": "otel",
    "textual_serve": "web",
    "litellm": "litellm",  # tui/core/models/routed.py, for --model litellm/...
    "any_llm": "providers",  # tui/core/models/inventory.py (routed.py names it only)
    # A checkout that was never built compiles its .po files with Babel when it is there
    # (tui/core/i18n.py); a wheel carries them compiled (hatch_build.py).
    "babel": "dev",
}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(root: Path = ROOT / "tui") -> dict[str, set[str]]:
    """Top-level module -> the files importing it (not the standard library, not tui)."""
    found: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "tui":
                    found.setdefault(top, set()).add(str(path.relative_to(root.parent)))
    return found


def declared(requirements: list[str]) -> set[str]:
    return {normal(Requirement(line).name) for line in requirements}


def undeclared(imports: dict[str, set[str]]) -> list[str]:
    """One line per import that pyproject.toml does not declare where it should."""
    project = PYPROJECT["project"]
    base = declared(project["dependencies"])
    extras = {name: declared(lines) for name, lines in project["optional-dependencies"].items()}
    installs = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(imports.items()):
        where = ", ".join(sorted(files)[:3])
        distributions = {normal(d) for d in installs.get(module, ())}
        if not distributions:
            problems.append(f"{module} ({where}): no installed distribution provides it")
            continue
        extra = OPTIONAL.get(module)
        allowed = base | (extras.get(extra, set()) if extra else set())
        if not distributions & allowed:
            wanted = f"the {extra!r} extra" if extra else "dependencies"
            problems.append(f"{module} ({where}): {sorted(distributions)} not in {wanted}")
    return problems


def test_every_import_in_tui_is_declared():
    imports = third_party_imports()
    assert {"textual", "agents", "markdown_it"} <= set(imports)  # the source is really read
    assert undeclared(imports) == []


def test_the_check_finds_an_undeclared_import(tmp_path):
    (tmp_path / "mod.py").write_text(
        "def f():\n    import pytest\n    from hypothesis import given\n", encoding="utf-8"
    )
    problems = undeclared(third_party_imports(tmp_path))
    assert [p.partition(" ")[0] for p in problems] == ["hypothesis", "pytest"]


def test_the_extras_each_module_is_filed_under_exist():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(OPTIONAL.values()) <= set(extras)
    assert {"providers", "litellm", "local", "postgres", "web"} <= set(extras)
    # LiteLLM had compromised releases: only an exact, checked version.
    (litellm,) = [Requirement(r) for r in extras["litellm"] if Requirement(r).name == "litellm"]
    assert str(litellm.specifier).startswith("==")


def test_one_version():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "tui/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", tui.__version__)
    assert importlib.metadata.version("agents-tui") == tui.__version__


def test_the_licence_ships_and_says_what_pyproject_says():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert licence.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in licence
    assert "Operating System :: POSIX" in PYPROJECT["project"]["classifiers"]


def test_the_wheel_installs_in_a_fresh_venv_and_runs_a_turn(tmp_path):
    """``pip install dist/*.whl`` in a new venv, its dependencies from the index: nothing
    works only from a checkout (an undeclared dependency fails the turn here)."""
    import subprocess
    import zipfile

    from tests.hostile_server import HostileServer

    def check(*command: object, cwd: Path = tmp_path) -> str:
        done = subprocess.run(
            [str(c) for c in command], capture_output=True, text=True, cwd=cwd, timeout=600
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    dist = tmp_path / "dist"
    check(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT)
    (wheel,) = dist.glob("agents_tui-*.whl")
    assert wheel.name == f"agents_tui-{tui.__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert f"agents_tui-{tui.__version__}.dist-info/licenses/LICENSE" in names
    assert "tui/locale/vi/LC_MESSAGES/agents_tui.mo" in names  # compiled by hatch_build.py
    assert any(n.startswith("tui/_themes/") for n in names)

    venv = tmp_path / "fresh"
    check(sys.executable, "-m", "venv", venv)
    check(venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check", wheel)
    assert check(venv / "bin" / "agents-tui", "--version").strip() == (
        f"agents-tui {tui.__version__}"
    )
    where = check(venv / "bin" / "python", "-c", "import tui; print(tui.__file__)")
    assert where.startswith(str(venv))  # the installed package, not the checkout

    server = HostileServer(full_text="Hello from a fresh install.")
    url = server.start()
    try:
        out = check(venv / "bin" / "agents-tui", "run", "--base-url", url, "hi")
    finally:
        server.stop()
    assert out == "Hello from a fresh install."
