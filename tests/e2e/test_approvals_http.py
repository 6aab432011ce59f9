"""Approvals end to end: a real OpenAI-compatible server over HTTP, the CLI as a person runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_server import Behaviour, HostileServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", ["all", "none"])
def test_a_server_tool_call_that_needs_approval(tmp_path, mode):
    marker = tmp_path / "marker.txt"
    marker.write_text("keep me")
    server = HostileServer(full_text="The file is handled.")
    server.script = [
        Behaviour(kind="tool", tool=("delete_file", json.dumps({"path": str(marker)})))
    ]
    url = server.start()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "--base-url",
                url,
                "--model",
                "served",
                "run",
                "--jsonl",
                "--agent",
                "tests.approval_agents:cleaner_without_model",
                "--approve",
                mode,
                "delete the marker",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ),
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    objs = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [o["type"] for o in objs]
    assert kinds.index("approval_required") < kinds.index("approval_resolved")
    resolved = next(o["data"] for o in objs if o["type"] == "approval_resolved")
    assert resolved == {"call_id": "call_h1", "approved": mode == "all", "by": "flag"}
    assert objs[-1]["type"] == "response_complete"
    assert objs[-1]["data"]["final_response"] == "The file is handled."
    assert marker.read_text() == ("deleted" if mode == "all" else "keep me")
    # The second request carried the tool's result (or the SDK's refusal) to the server.
    assert len(server.requests) == 2
    tool_message = next(m for m in server.requests[1]["messages"] if m.get("role") == "tool")
    expected = f"deleted {marker}" if mode == "all" else "not approved"
    assert expected in str(tool_message["content"])
