"""The bench's real-terminal case: the app as a child process on a pseudo-terminal, turns
typed into it against a local OpenAI-compatible server (tui/bench/terminal.py)."""

from __future__ import annotations

import gc
import os

import pytest

from tui.bench.terminal import terminal_session


def _pipes_and_ptys() -> list[str]:
    """What this process holds open of the kinds the bench opens (the pty's master, the
    server's pipe); other tests' threads may open files meanwhile (a store's lease beat)."""
    gc.collect()  # files an earlier test dropped are closed now, not during this one
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile (the listing's own fd)
        if target.startswith(("pipe:", "/dev/ptmx", "/dev/pts")):
            held.append(target)
    return held


@pytest.mark.timeout(120)
def test_turns_typed_into_a_terminal_are_measured_and_nothing_is_left_running():
    seen: dict[int, tuple[int, str]] = {}

    def look(turn: int, pid: int) -> None:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            seen[turn] = (pid, cmdline.read().decode(errors="replace"))

    before = _pipes_and_ptys()
    result = terminal_session(3, on_turn=look)

    # every turn was typed, answered by the server and measured in the app's own process
    assert sorted(seen) == [0, 1, 2, 3]
    pid, cmdline = seen[3]
    assert "child_main" in cmdline and "compat" in cmdline
    assert result["terminal_turns"] == 3
    assert 50 < result["terminal_rss_mb_last_turn"] < 2_000
    assert result["terminal_rss_mb_at"]["0"] > 50
    # Textual's own driver drew to the terminal (a headless driver writes nothing)
    assert result["terminal_bytes_written_per_turn"] > 1_000
    # the app is gone (reaped, not a zombie), and the pty's and server's fds are closed
    assert not os.path.exists(f"/proc/{pid}")
    after = _pipes_and_ptys()
    assert len(after) <= len(before), set(after) - set(before)


@pytest.mark.parametrize("turns", ["0", "-5"])
def test_a_terminal_bench_of_no_turns_is_one_line_and_exit_2(turns, capsys):
    # -5 ran the app, then failed with a KeyError traceback; 0 ran the whole bench instead
    from tui.cli import main

    assert main(["bench", "--terminal", turns]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"agents-tui: bench --terminal {turns}: give 1 or more turns"
