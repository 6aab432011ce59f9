"""Schemathesis (the CLI, from PyPI) over every operation of ``GET /openapi.json``, against a
live ``agents-tui api`` process on real HTTP, with a token: its example, coverage, fuzzing
and stateful phases, checked for server errors and for status codes, content types and
bodies (event streams included, each event's ``data`` against ``StreamEvent``) that the
document does not describe. Bounded: a fixed seed, 10 examples per operation, one worker
and a 2 s cut for streams that wait for a turn that never comes (about 30 s)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.api_process import echo_api, isolated_env

if not os.environ.get("CI"):  # in CI a missing part fails the run (the dev extra has it)
    pytest.importorskip("schemathesis")

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
TOKEN = "schemathesis-token"


def operations(url: str) -> int:
    request = urllib.request.Request(
        f"{url}/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        document = json.load(response)
    return sum(len(item) for item in document["paths"].values())


def test_schemathesis_finds_nothing_over_every_operation(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN)
    with echo_api(tmp_path, "--token-file", str(tmp_path / "token")) as (url, child):
        total = operations(url)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{url}/openapi.json",
                "--header",
                f"Authorization: Bearer {TOKEN}",
                "--checks",
                ",".join(CHECKS),
                "--max-examples",
                "10",
                "--workers",
                "1",
                "--seed",
                "38",
                "--request-timeout",
                "2",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,  # its cache (.schemathesis, .hypothesis) stays in the test's folder
            env=isolated_env(tmp_path, NO_COLOR="1", COLUMNS="120"),
        )
        child.terminate()
        _, stderr = child.communicate(timeout=30)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-6000:]
    assert "No issues found" in report, report[-6000:]
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", report)
    assert selected is not None, report[-3000:]
    # every operation but the document itself, which Schemathesis leaves out (loaded
    # from it; test_openapi.py validates it)
    everyone = str(total - 1)
    assert selected.groups() == (everyone, everyone, everyone), report[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅\s+{phase}", report), (phase, report[-3000:])
    assert "Traceback" not in stderr and "INTERNAL_ERROR" not in stderr, stderr[-3000:]
