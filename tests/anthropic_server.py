"""A small server on 127.0.0.1 speaking Anthropic's Messages API, streaming (SSE).

``POST /v1/messages`` with ``"stream": true`` answers with the events Anthropic documents:
``message_start``, ``content_block_start``, ``content_block_delta`` (``text_delta`` and
``input_json_delta``), ``content_block_stop``, ``message_delta`` (stop reason and usage) and
``message_stop``, with a ``ping`` between. Each request takes the next :class:`Reply` from
``script``; an empty script answers with ``text``. A request whose last message carries a
``tool_result`` is answered with ``after_tool`` followed by the tool's result, so a test sees
the result went back to the model. A request that asks to continue a cut reply (the app's
"continue" instruction after the partial reply) is answered with the rest of the reply that
was cut: a model that honours it. ``GET /v1/models`` lists one model.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "claude-loopback-1"


@dataclass
class Reply:
    """One streamed answer: text, then optionally one tool call (its arguments streamed
    as ``input_json_delta`` pieces). ``cut_after``: close the connection after that many
    deltas, with no ``message_stop`` (a dropped stream)."""

    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None
    cut_after: int | None = None
    status: int = 200  # not 200: an Anthropic error body instead of a stream


@dataclass
class AnthropicServer:
    text: str = "Hello from the loopback Messages server."
    after_tool: str = "The tool said: "
    script: list[Reply] = field(default_factory=list)
    piece: int = 5  # characters per delta
    delay_s: float = 0.002
    input_tokens: int = 31
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _cut_text: str = ""  # the text of the last reply cut short

    def start(self) -> str:
        """Serve on a free port; the base URL (no /v1: the Anthropic client adds it)."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                model = {
                    "id": MODEL,
                    "type": "model",
                    "display_name": MODEL,
                    "created_at": "2026-01-01T00:00:00Z",
                }
                body = {"data": [model], "has_more": False, "first_id": MODEL, "last_id": MODEL}
                self._json(200, body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(request)
                owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = owner._next(request)
                if reply.status != 200:
                    error = {"type": "overloaded_error", "message": "try again later"}
                    self._json(reply.status, {"type": "error", "error": error})
                    return
                if not request.get("stream"):
                    self._json(400, {"type": "error", "error": {"message": "stream only"}})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    owner._stream(self, request, reply)
                self.close_connection = True

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: dict[str, Any]) -> Reply:
        partial = _continued(request)
        if partial is not None and self._cut_text.startswith(partial) and not self.script:
            return Reply(text=self._cut_text[len(partial) :])
        result = _tool_result(request)
        if result is not None and not self.script:
            return Reply(text=self.after_tool + result)
        return self.script.pop(0) if self.script else Reply(text=self.text)

    def _stream(
        self, handler: BaseHTTPRequestHandler, request: dict[str, Any], reply: Reply
    ) -> None:
        sent = 0
        if reply.cut_after is not None:
            self._cut_text = reply.text

        def send(kind: str, data: dict[str, Any]) -> None:
            nonlocal sent
            if kind == "content_block_delta":
                if reply.cut_after is not None and sent >= reply.cut_after:
                    raise _Cut
                sent += 1
            frame = f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"
            handler.wfile.write(frame.encode())
            handler.wfile.flush()
            if kind == "content_block_delta":
                time.sleep(self.delay_s)

        output_tokens = 0
        try:
            message = {
                "id": f"msg_{len(self.requests)}",
                "type": "message",
                "role": "assistant",
                "model": request.get("model", MODEL),
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": self.input_tokens, "output_tokens": 1},
            }
            send("message_start", {"message": message})
            index = 0
            if reply.text:
                send("content_block_start", {"index": index, "content_block": _text_block()})
                send("ping", {})
                for piece in _pieces(reply.text, self.piece):
                    delta = {"type": "text_delta", "text": piece}
                    send("content_block_delta", {"index": index, "delta": delta})
                    output_tokens += 1
                send("content_block_stop", {"index": index})
                index += 1
            if reply.tool is not None:
                name, arguments = reply.tool
                block = {
                    "type": "tool_use",
                    "id": f"toolu_{len(self.requests):02d}",
                    "name": name,
                    "input": {},
                }
                send("content_block_start", {"index": index, "content_block": block})
                for piece in _pieces(json.dumps(arguments), 3):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    send("content_block_delta", {"index": index, "delta": delta})
                    output_tokens += 1
                send("content_block_stop", {"index": index})
            stop = "tool_use" if reply.tool is not None else "end_turn"
            send(
                "message_delta",
                {
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": output_tokens},
                },
            )
            send("message_stop", {})
        except _Cut:
            return  # the connection closes with the message unfinished


class _Cut(Exception):
    pass


def _text_block() -> dict[str, Any]:
    return {"type": "text", "text": ""}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _tool_result(request: dict[str, Any]) -> str | None:
    """The text of the last message's tool_result block, if it has one."""
    messages = request.get("messages") or []
    content = messages[-1].get("content") if messages else None
    if not isinstance(content, list):
        return None
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            inner = block.get("content")
            if isinstance(inner, list):
                return "".join(str(b.get("text", "")) for b in inner if isinstance(b, dict))
            return str(inner)
    return None


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _continued(request: dict[str, Any]) -> str | None:
    """The partial reply a "continue where it stopped" request carries, if it is one."""
    messages = request.get("messages") or []
    if len(messages) < 2 or "Continue it exactly" not in _text_of(messages[-1].get("content")):
        return None
    before = messages[-2]
    return _text_of(before.get("content")) if before.get("role") == "assistant" else None
