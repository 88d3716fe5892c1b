"""A partner's webhook receiver for the tests: a real HTTP server on loopback, in a thread, that
records what it receives and answers what the test tells it to (200 by default)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # (status, extra headers) answered in turn; then 200.
    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    # Seconds each answer takes (a partner's server doing its work).
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self, status: int, **headers: str) -> None:
        self.answers.append((status, headers))

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]


@contextmanager
def receiver() -> Iterator[Receiver]:
    peer = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            if peer.delay:
                time.sleep(peer.delay)
            with peer.lock:
                peer.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = peer.answers.popleft() if peer.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
