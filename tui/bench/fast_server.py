"""An OpenAI-compatible chat-completions server that streams one long reply at full speed.

Run in its own process (``python -m tui.bench.fast_server BYTES``; it prints its port), so
that producing the stream does not take the measured process's CPU. Every request gets
the same reply: ``BYTES`` of prose in deltas of one short word each (about 5.5 bytes, as a
model's tokens are), then a usage chunk and ``[DONE]``.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply_deltas(size: int) -> list[str]:
    """Short words of prose, ``size`` bytes in all."""
    deltas: list[str] = []
    total = 0
    i = 0
    while total < size:
        word = f"w{i % 997} " if i % 12 else f"w{i % 997}.\n\n" if i % 120 == 0 else f"w{i} "
        deltas.append(word)
        total += len(word)
        i += 1
    return deltas


def _chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def stream_bytes(deltas: list[str]) -> bytes:
    usage = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench",
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": len(deltas), "total_tokens": 0},
    }
    parts = [_chunk({"role": "assistant", "content": ""})]
    parts += [_chunk({"content": d}) for d in deltas]
    parts.append(_chunk({}, "stop"))
    parts.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def serve(size: int, pace_s: float = 0.0) -> None:
    """``pace_s`` > 0 sends one event each ``pace_s`` seconds (a model's pace) instead of
    the whole reply at once."""
    import time

    payload = stream_bytes(reply_deltas(size))
    events = [part + b"\n\n" for part in payload.split(b"\n\n") if part]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                if pace_s > 0:
                    for event in events:
                        self.wfile.write(event)
                        self.wfile.flush()
                        time.sleep(pace_s)
                else:
                    view = memoryview(payload)
                    for start in range(0, len(view), 16384):
                        self.wfile.write(view[start : start + 16384])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a cancelled turn)
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
