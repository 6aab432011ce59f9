"""The shape of the code: no import circles, one turn path through the core."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "tui"


def modules() -> dict[str, Path]:
    out = {}
    for path in TUI.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Every import of a tui module by another: at the top, in a function, or only for the
    type checker (an import circle under TYPE_CHECKING is still a circle in the design)."""
    found = modules()
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                while target and target not in found:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return out


def test_no_import_circles():
    graph = import_graph()
    assert graph["tui.app"] and graph["tui.slash"]  # the graph is really read
    assert circles(graph) == []


def test_the_circle_check_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_layers_hold_as_import_linter_contracts():
    """The contracts in pyproject.toml (the core is headless, widgets import no screen,
    the API no widget, PostgreSQL only in the store, front ends see the turn's public
    face): ``lint-imports`` keeps them all."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert "BROKEN" not in done.stdout and done.returncode == 0, done.stdout[-3000:]
    assert done.stdout.count("KEPT") >= 4


def _assigned_runner_attributes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            owner = target.value if isinstance(target, ast.Attribute) else None
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in ("runner", "base"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_nothing_outside_the_core_sets_a_runners_attributes():
    """A runner is built in the core from settings (``build_runner``, ``for_session``);
    a conversation binds it to its memory and approver. Front ends set nothing on it."""
    offenders = [
        place
        for path in TUI.rglob("*.py")
        if path.relative_to(TUI).parts[0] not in ("core", "bench")
        for place in _assigned_runner_attributes(path)
    ]
    assert offenders == []


def test_no_front_end_runs_turns_or_journals_by_itself():
    """The TUI, ``run`` and the API iterate the conversation's turn (``Conversation.turn``)."""
    pattern = re.compile(r"\b(?:runner\.(?:run|resume|events|resumed)|journal\.write)\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in TUI.rglob("*.py")
        if "core" not in path.relative_to(TUI).parts[:1] and "bench" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def _too_long(limit_class: int, limit_function: int) -> list[str]:
    out = []
    for path in TUI.rglob("*.py"):
        if "bench" in path.relative_to(TUI).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            limit = limit_class if isinstance(node, ast.ClassDef) else limit_function
            if lines > limit:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {lines}")
    return out


def test_no_class_over_350_lines_and_no_function_over_120():
    assert _too_long(350, 120) == []
