"""A table of players in real terminals: two ``agents-tui --connect`` processes in tmux on one
session of a real ``agents-tui api`` (the game master; a local OpenAI-compatible server as
the model, over HTTP), on SQLite and on two API processes sharing PostgreSQL. Each prompt
shows in both terminals with its author, the reply and the tool call in both, and the
model is told who speaks. A service killed mid-reply and restarted, and a terminal whose
connection is cut for 5 s, end with every terminal showing the same text, none lost or
doubled."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_process import isolated_env
from tests.e2e.test_api_limits import wait_for_server
from tests.hostile_server import Behaviour, HostileServer
from tests.mcp_servers import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"
)

WIDTH, HEIGHT = 150, 46


def words(prefix: str, n: int) -> str:
    return " ".join(f"{prefix}{i}" for i in range(1, n + 1))


class Terminal:
    """One tmux window running a command, on a tmux server of the test's own."""

    def __init__(self, socket_name: str, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.socket, self.name = socket_name, name
        command = " ".join(_quote(a) for a in argv)
        envs = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        self._tmux(
            "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
            f"env -i {envs} {command}; sleep 600",
        )  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)
        self._tmux("send-keys", "-t", self.name, "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def chat(self) -> str:
        """The chat column's text (left of the timeline), joined into one line of words."""
        lines = self.screen().splitlines()
        edge = next((line.find("╭─ Timeline") for line in lines if "╭─ Timeline" in line), -1)
        kept = [line[:edge] if edge > 0 else line for line in lines]
        return " ".join(" ".join(kept).split())

    def wait_for(self, text: str, timeout: float = 30.0, *, where: str = "screen") -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.chat() if where == "chat" else self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: {text!r} not shown in {timeout} s:\n{self.screen()}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@contextlib.contextmanager
def tmux_server() -> Iterator[str]:
    name = f"agents-tui-test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        yield name
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)


class Api:
    """``agents-tui api`` as a real process: the game master on ``model_url``."""

    def __init__(self, home: Path, model_url: str, port: int, database: str | None) -> None:
        self.home, self.model_url, self.port, self.database = home, model_url, port, database
        self.url = f"http://127.0.0.1:{port}"
        self.child: subprocess.Popen[str] | None = None

    def start(self) -> Api:
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "tui", "api", "--agent", "game-master"]
        argv += ["--base-url", self.model_url, "--model", "hostile", "--port", str(self.port)]
        if self.database:
            argv += ["--database", self.database]
        self.child = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=isolated_env(self.home, OPENAI_API_KEY="sk-test"),
            cwd=self.home,
        )
        wait_for_server(self.url, self.child)
        return self

    def kill(self) -> None:
        assert self.child is not None
        self.child.send_signal(signal.SIGKILL)
        self.child.communicate(timeout=10)

    def stop(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.communicate()


def post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        url + path, json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def messages(url: str, session: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/v1/sessions/{session}/messages", timeout=10) as answer:
        return json.loads(answer.read())["messages"]


def player(tmux: str, name: str, url: str, home: Path) -> Terminal:
    env = isolated_env(home / name)
    env = {k: env[k] for k in ("PATH", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "LANG")
           if k in env}  # fmt: skip
    env["TERM"] = "xterm-256color"
    env["LANG"] = "C.UTF-8"
    argv = [sys.executable, "-m", "tui", "--connect", url, "--session", "table-1"]
    return Terminal(tmux, name, [*argv, "--name", name], env)


def the_model_heard(model: HostileServer, line: str) -> bool:
    return any(
        m.get("role") == "user" and m.get("content") == line
        for request in model.requests
        for m in request.get("messages", [])
    )


def play_a_round(model: HostileServer, lan: Terminal, minh: Terminal) -> None:
    """Each player speaks; both see every prompt with its author, reply and tool call."""
    lan.type("I open the heavy door")
    for terminal in (lan, minh):
        terminal.wait_for("Lan: I open the heavy door", where="chat")
        terminal.wait_for(words("door", 12), where="chat")
        terminal.wait_for("roll_dice")
    assert the_model_heard(model, "Lan: I open the heavy door")
    minh.type("I light a torch")
    for terminal in (lan, minh):
        terminal.wait_for("Minh: I light a torch", where="chat")
        terminal.wait_for(words("torch", 12), where="chat")
    assert the_model_heard(model, "Minh: I light a torch")


def game_master_model(*texts: str, delay_s: float = 0.02) -> HostileServer:
    """Each prompt: the game master rolls a d20, then tells the next text."""
    script: list[Behaviour] = []
    for text in texts:
        script += [Behaviour("tool", tool=("roll_dice", '{"sides": 20}')), Behaviour(text=text)]
    model = HostileServer(script=script, delta_size=12, delta_delay_s=delay_s)
    return model


def test_two_terminals_play_one_table_on_sqlite_and_survive_a_killed_service(tmp_path):
    long_story = words("story", 150)
    model = game_master_model(
        words("door", 12), words("torch", 12), long_story, words("after", 8), delay_s=0.05
    )
    model_url = model.start()
    port = free_port()
    api = Api(tmp_path / "api", model_url, port, None).start()
    try:
        post(api.url, "/v1/sessions", {"session_id": "table-1"})
        with tmux_server() as tmux:
            lan = player(tmux, "Lan", api.url, tmp_path)
            minh = player(tmux, "Minh", api.url, tmp_path)
            for terminal in (lan, minh):
                terminal.wait_for("connected to")
            play_a_round(model, lan, minh)
            # the service is killed mid-reply, and started again on the same store and port
            lan.type("Tell us a long story")
            for terminal in (lan, minh):
                terminal.wait_for("story5 story6", where="chat")
            api.kill()
            for terminal in (lan, minh):
                terminal.wait_for("reconnecting")
            minh.type("We go on")  # typed while the service is away: sent once it is back
            time.sleep(1.5)
            api = Api(tmp_path / "api", model_url, port, None).start()
            for terminal in (lan, minh):
                terminal.wait_for("interrupted", timeout=30)
            stored = next(
                m for m in messages(api.url, "table-1") if m["text"].startswith("story1 ")
            )
            assert stored["status"] == "interrupted"
            cut = " ".join(stored["text"].split())
            for terminal in (lan, minh):
                shown = terminal.chat()
                assert shown.count("story1 story2") == 1, shown  # nothing doubled
                assert cut in shown  # the partial text the service kept, whole
            for terminal in (lan, minh):
                terminal.wait_for("Minh: We go on", where="chat")
                terminal.wait_for(words("after", 8), where="chat")
            assert the_model_heard(model, "Minh: We go on")
            prompts = [m["text"] for m in messages(api.url, "table-1") if m["role"] == "user"]
            assert prompts.count("We go on") == 1  # sent once, never twice
    finally:
        api.stop()
        model.stop()


def test_two_terminals_on_two_api_processes_sharing_postgresql(tmp_path):
    from tui.bench.pg import new_database, postgres_server

    model = game_master_model(words("door", 12), words("torch", 12))
    model_url = model.start()
    with postgres_server() as base:
        database = new_database(base)
        first = Api(tmp_path / "one", model_url, free_port(), database).start()
        second = Api(tmp_path / "two", model_url, free_port(), database).start()
        try:
            post(first.url, "/v1/sessions", {"session_id": "table-1"})
            with tmux_server() as tmux:
                lan = player(tmux, "Lan", first.url, tmp_path)
                minh = player(tmux, "Minh", second.url, tmp_path)
                for terminal in (lan, minh):
                    terminal.wait_for("connected to")
                play_a_round(model, lan, minh)
        finally:
            first.stop()
            second.stop()
            model.stop()


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that can drop every connection and refuse new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusing_until = 0.0
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.refusing_until:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self, seconds: float) -> None:
        self.refusing_until = time.monotonic() + seconds
        with self.lock:
            dropped, self.open = self.open, []
        for s in dropped:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.listener.close()
        self.cut(0)


def test_a_terminal_cut_off_for_5_s_mid_reply_ends_with_the_same_reply(tmp_path):
    story = words("tale", 120)
    model = game_master_model(story, delay_s=0.06)
    model_url = model.start()
    api = Api(tmp_path / "api", model_url, free_port(), None).start()
    proxy = CuttingProxy(api.port)
    try:
        post(api.url, "/v1/sessions", {"session_id": "table-1"})
        with tmux_server() as tmux:
            lan = player(tmux, "Lan", api.url, tmp_path)
            minh = player(tmux, "Minh", f"http://127.0.0.1:{proxy.port}", tmp_path)
            for terminal in (lan, minh):
                terminal.wait_for("connected to")
            lan.type("Tell the tale")
            minh.wait_for("tale3 tale4", where="chat")
            proxy.cut(5.0)
            minh.wait_for("reconnecting")
            lan.wait_for(story, where="chat", timeout=60)
            minh.wait_for(story, where="chat", timeout=60)
            for terminal in (lan, minh):
                shown = terminal.chat()
                assert shown.count("tale1 tale2") == 1 and shown.count(story) == 1, shown
    finally:
        proxy.close()
        api.stop()
        model.stop()
