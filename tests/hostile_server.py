"""A small, scriptable, OpenAI-compatible chat-completions server that misbehaves on purpose.

Bound to 127.0.0.1 on a free port, in a thread. Each request takes the next behaviour
from ``script``; when the script is empty it streams ``full_text`` normally. A request
that carries the app's "continue" instruction is answered with the rest of
``full_text`` after the partial reply it carries: a model that honours the request.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    # ok | cut | ended | status | stall | malformed | truncated | bad_args | unknown_tool;
    # "ended" closes the body cleanly mid-reply: no finish_reason, no [DONE]
    kind: str = "ok"
    after: int = 0  # deltas sent before misbehaving
    status: int = 500
    retry_after: float | None = None
    stall_s: float = 5.0
    text: str | None = None  # overrides full_text for this request
    tool: tuple[str, str] | None = None  # kind "tool": call this tool with these JSON args


@dataclass
class HostileServer:
    full_text: str = "The quick brown fox jumps over the lazy dog. " * 3
    script: list[Behaviour] = field(default_factory=list)
    delta_size: int = 4
    delta_delay_s: float = 0.005
    requests: list[dict[str, Any]] = field(default_factory=list)
    request_times: list[float] = field(default_factory=list)
    # A model with a small window: a request whose messages hold more characters than this
    # is refused with 400, worded as ``context_style`` says ("openai" or "llama.cpp").
    context_chars: int | None = None
    context_style: str = "openai"
    refused: int = 0

    def start(self) -> str:
        server_ref = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(
                    {"object": "list", "data": [{"id": "hostile", "object": "model"}]}
                )
                self._send(200, body)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                server_ref.requests.append(request)
                server_ref.request_times.append(time.monotonic())
                behaviour = server_ref.script.pop(0) if server_ref.script else Behaviour()
                server_ref.handle(self, request, behaviour)

            def _send(self, code: int, body: str, headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- behaviours ---------------------------------------------------------------------------
    def _remaining_text(self, request: dict[str, Any], text: str) -> str:
        messages = request.get("messages", [])
        if len(messages) >= 2 and "Continue it exactly" in str(messages[-1].get("content")):
            partial = str(messages[-2].get("content") or "")
            if text.startswith(partial):
                return text[len(partial) :]
        return text

    def _too_long(self, h: BaseHTTPRequestHandler, request: dict[str, Any]) -> bool:
        if self.context_chars is None:
            return False
        size = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
        if size <= self.context_chars:
            return False
        self.refused += 1
        window = self.context_chars // 4
        if self.context_style == "openai":
            error = {
                "message": f"This model's maximum context length is {window} tokens. "
                f"However, your messages resulted in {size // 4} tokens.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            }
        else:  # llama.cpp's server
            error = {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
            }
        h._send(400, json.dumps({"error": error}))  # type: ignore[attr-defined]
        return True

    def handle(self, h: BaseHTTPRequestHandler, request: dict[str, Any], b: Behaviour) -> None:
        if self._too_long(h, request):
            return
        if b.kind == "status":
            headers = {"retry-after": str(b.retry_after)} if b.retry_after is not None else {}
            body = json.dumps({"error": {"message": f"hostile {b.status}", "type": "server"}})
            h._send(b.status, body, headers)  # type: ignore[attr-defined]
            return
        text = self._remaining_text(request, b.text or self.full_text)
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("transfer-encoding", "chunked")  # as real servers stream
        h.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
            obj = {
                "id": "chatcmpl-hostile",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "hostile",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                if delta is not None
                else [],
            }
            if usage is not None:
                obj["usage"] = usage
            return f"data: {json.dumps(obj)}\n\n".encode()

        def send(data: bytes) -> None:
            h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            h.wfile.flush()

        def end() -> None:
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()

        try:
            if b.kind in ("bad_args", "unknown_tool", "tool"):
                name = "roll_dice" if b.kind == "bad_args" else "summon_dragon"
                args = '{"sides": six' if b.kind == "bad_args" else "{}"
                if b.kind == "tool" and b.tool is not None:
                    name, args = b.tool
                send(
                    chunk(
                        {
                            "role": "assistant",
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_h1",
                                    "type": "function",
                                    "function": {"name": name, "arguments": args},
                                }
                            ],
                        }
                    )
                )
                send(chunk({}, "tool_calls"))
                send(b"data: [DONE]\n\n")
                end()
                return
            send(chunk({"role": "assistant", "content": ""}))
            pieces = [text[i : i + self.delta_size] for i in range(0, len(text), self.delta_size)]
            for index, piece in enumerate(pieces):
                if b.kind in ("cut", "stall", "malformed", "truncated", "ended") and (
                    index == b.after
                ):
                    if b.kind == "ended":
                        end()  # a clean end of the body, as if the reply were over
                        return
                    if b.kind == "stall":
                        time.sleep(b.stall_s)
                    elif b.kind == "malformed":
                        send(b"data: {this is not json\n\n")
                    elif b.kind == "truncated":
                        send(b'data: {"id": "chatcmpl-hostile", "choi')
                    return  # close the connection mid-stream: no final chunk
                send(chunk({"content": piece}))
                time.sleep(self.delta_delay_s)
            send(chunk({}, "stop"))
            prompt_tokens = sum(
                len(str(m.get("content", ""))) // 4 for m in request.get("messages", [])
            )
            send(
                chunk(
                    None,
                    usage={
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(pieces),
                        "total_tokens": prompt_tokens + len(pieces),
                    },
                )
            )
            send(b"data: [DONE]\n\n")
            end()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            h.close_connection = True
