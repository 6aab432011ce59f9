"""The core never imports textual, and the modules on the first-frame path avoid the SDK."""

import subprocess
import sys


def _core_modules() -> list[str]:
    """Every module of the tui.core package (walked, not a hand-kept list), plus headless."""
    import pkgutil

    import tui.core

    found = [info.name for info in pkgutil.walk_packages(tui.core.__path__, prefix="tui.core.")]
    return [*sorted(found), "tui.headless", "tui.api.service"]


CORE_MODULES = _core_modules()


def _loaded_after(imports: str) -> set[str]:
    code = f"import sys\n{imports}\nprint(','.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.strip().split(","))


def test_core_imports_no_textual():
    modules = _loaded_after("\n".join(f"import {m}" for m in CORE_MODULES))
    leaked = sorted(m for m in modules if m == "textual" or m.startswith("textual."))
    assert leaked == []


def test_core_still_free_of_textual_after_running_a_turn():
    code = (
        "import asyncio\n"
        "from tests.scripts import runner_for, text_step\n"
        "runner, _ = runner_for([text_step(['a', 'b'])])\n"
        "asyncio.run(runner.run('hi', lambda e: None))\n"
    )
    modules = _loaded_after(code)
    assert "agents" in modules  # the turn really ran through the SDK
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)


def test_app_module_does_not_import_the_sdk_before_the_first_frame():
    modules = _loaded_after("import tui.app")
    assert "agents" not in modules
