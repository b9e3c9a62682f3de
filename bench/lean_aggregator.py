"""A lean aggregator send API for the benchmarks: HTTP/1.1 keep-alive on asyncio, in a thread of
the bench's process, answering each POST with what `on_send(body)` returns.

The test suite's server (tests/support/aggregator.py, http.server) costs about half a
millisecond of CPU per request; on a 2-core machine that is CPU taken from the gateway being
measured. A real aggregator runs elsewhere, so the bench's one should cost as little as it can.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable


class LeanAggregator:
    """Serves POST <any path> on 127.0.0.1:<port>; `url` is what the gateway posts to."""

    def __init__(self, on_send: Callable[[dict], tuple[int, str]], latency: float = 0.0):
        self.on_send = on_send
        self.latency = latency  # seconds before each answer: a send API across the internet
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the lean aggregator did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()
        server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One keep-alive connection: requests until the client closes it."""
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                status, text = self.on_send(json.loads(body) if body else {})
                if self.latency:
                    await asyncio.sleep(self.latency)  # other connections are served meanwhile
                out = text.encode()
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, len(out), out)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        """Stop serving."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
