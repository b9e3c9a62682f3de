"""A real HTTP server on 127.0.0.1 that plays an aggregator's send API (generic contract).

Tests script its answers: a queue of (status, body, headers) consumed one per request, then
the default (200 with a fresh id). Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (send-rate tests)

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeAggregator:
    server: ThreadingHTTPServer
    requests: list[Recorded] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Optional: decide the answer from the request (returns an answer tuple, or None for the
    # default). Called under no lock; used by the fault tests to play outages and DLRs.
    on_send: object = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/send"

    def answer_next(self, *answers: tuple) -> None:
        """Queue answers: (status, body) or (status, body, headers)."""
        self.script.extend(answers)

    def sent(self) -> list[dict]:
        """The JSON bodies of the sends received so far."""
        with self.lock:
            return [r.json() for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_fake_aggregator(port: int = 0, on_send=None, host: str = "127.0.0.1") -> FakeAggregator:
    """Start the server on a loopback port (a free one by default), serving in a daemon thread.
    (`host`: another local address, e.g. this machine's side of the cluster test's bridge.)"""
    fake: FakeAggregator

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as real aggregators (and Kannel) serve: the gateway's pooled sessions
        # reuse connections instead of opening one per MT.
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK (40 ms per request on a kept-alive connection).
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorded = Recorded(self.command, self.path, dict(self.headers), body)
            with fake.lock:
                fake.requests.append(recorded)
                n = len(fake.requests)
                answer = fake.script.popleft() if fake.script else None
            if answer is None and fake.on_send is not None:
                answer = fake.on_send(recorded)
            if answer is None:
                answer = (200, json.dumps({"id": f"agg-{n}"}))
            status, text, headers = (*answer, {})[:3]
            out = text.encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    fake = FakeAggregator(server, on_send=on_send)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake
