"""A real HTTP server on 127.0.0.1 playing the complaint system's webhook receiver: records
every request, answers scripted statuses (then 200)."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hook:
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class UpstreamReceiver:
    server: ThreadingHTTPServer
    hooks: list[Hook] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/lapor/webhooks"

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses."""
        self.script.extend(statuses)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_upstream_receiver() -> UpstreamReceiver:
    """Start the receiver on a free loopback port, serving in a daemon thread."""
    receiver: UpstreamReceiver

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.hooks.append(Hook(dict(self.headers), body))
                status = receiver.script.popleft() if receiver.script else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = UpstreamReceiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
