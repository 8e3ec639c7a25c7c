"""A gate in front of a model server, for tests that must act *while* an answer is being written.

The tiny test model writes hundreds of tokens in well under a second, so "reload mid-answer" by timing alone is a
race the test loses on a quiet machine. The gate is an OpenAI-compatible proxy on a loopback port: it passes
requests to the real server and streams its answer back, but after the first ``hold_after`` chunks of each streamed
answer it becomes a slow model: one chunk every ``trickle`` seconds, until ``release()``. It records what happened,
so a test can also check that the app closed the model's stream (``hung_up``): that is what stops a server
generating for a page nobody watches.

    with Gate(llama_base_url, hold_after=3) as gate:       # gate.url: "http://127.0.0.1:PORT/v1"
        ... point PLAYGROUND_OPENAI_BASE_URL at gate.url, ask, gate.holding.wait(...), act, gate.hung_up.wait(...)
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Gate:
    def __init__(self, upstream: str, hold_after: int = 3, trickle: float = 2.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.hold_after = hold_after
        self.trickle = trickle
        self.released = threading.Event()
        self.holding = threading.Event()   # a streamed answer reached the hold point
        self.hung_up = threading.Event()   # the client closed a held stream before it ended
        self.streams = 0
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                gate._forward(self, None)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gate._forward(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "Gate":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        self.released.set()

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        path = handler.path[len("/v1"):] if handler.path.startswith("/v1") else handler.path
        request = urllib.request.Request(self.upstream + path, data=body, method=handler.command,
                                         headers={"Content-Type": "application/json"})
        streamed = bool(body) and bool(json.loads(body or b"{}").get("stream"))
        try:
            upstream = urllib.request.urlopen(request, timeout=600)
        except urllib.error.HTTPError as e:
            upstream = e
        with upstream:
            handler.send_response(upstream.status)
            handler.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
            if not streamed:
                data = upstream.read()
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)
                return
            handler.send_header("Connection", "close")  # HTTP/1.0: the answer ends when the connection does
            handler.end_headers()
            self.streams += 1
            chunks = 0
            try:
                for line in upstream:
                    handler.wfile.write(line)
                    handler.wfile.flush()
                    if line.startswith(b"data: ") and b"[DONE]" not in line:
                        chunks += 1
                        if chunks >= self.hold_after and not self.released.is_set():
                            self.holding.set()
                            if not self._slow_down(handler.connection):
                                self.hung_up.set()
                                return  # closing ``upstream`` stops the model server's generation too
            except (BrokenPipeError, ConnectionResetError):
                self.hung_up.set()

    def _slow_down(self, conn: socket.socket) -> bool:
        """Wait ``trickle`` seconds or until released (True), unless the client closes its end first (False)."""
        deadline = time.monotonic() + self.trickle
        while not self.released.wait(0.05) and time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                try:
                    if conn.recv(1, socket.MSG_PEEK) == b"":
                        return False
                except OSError:
                    return False
        return True
