"""A small, fast HTTP/1.1 server on 127.0.0.1 for the crawler's tests: it serves a site the test
generated, from a handler, and logs every request (when it started and ended, which connection),
so a test can check the crawler's manners (concurrency per host, delays, back-off).

Raw asyncio rather than a framework: the tests need answers a framework would not give (a body
that never ends, a gzip bomb, a 429 phase) and exact timings. It runs in a thread of the test
process, so a crawl in a server subprocess and a crawl in the test both reach it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer starts
    trickle: bool = False  # send the headers, then one byte a second, forever (a page that never finishes)


@dataclass
class Hit:
    path: str
    started: float
    ended: float = 0.0
    status: int = 0


REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 429: "Too Many Requests", 500: "Server Error",
           503: "Service Unavailable", 400: "Bad Request"}


class SiteServer:
    def __init__(self, handler) -> None:
        self.handler = handler  # handler(path) -> Reply
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="site-server")

    def __enter__(self) -> "SiteServer":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def shutdown():  # end open connections (a page that never finishes) before the loop
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"\x16":  # a TLS handshake on this plain port: hang up, as a real server's TLS would fail
                    break
                head = first + await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                parts = line.split(" ")
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    break
                path = parts[1]
                hit = Hit(path, time.monotonic())
                with self.lock:
                    self.hits.append(hit)
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    reply = self.handler(path)
                    hit.status = reply.status
                    if reply.delay:
                        await asyncio.sleep(reply.delay)
                    headers = {"Content-Type": "text/html; charset=utf-8", **reply.headers}
                    if reply.trickle:
                        writer.write(self._head(reply.status, headers, None))
                        while True:
                            writer.write(b" ")
                            await writer.drain()
                            await asyncio.sleep(1)
                    writer.write(self._head(reply.status, headers, len(reply.body)) + reply.body)
                    await writer.drain()
                finally:
                    hit.ended = time.monotonic()
                    with self.lock:
                        self.in_flight -= 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _head(status: int, headers: dict, length: int | None) -> bytes:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def paths(self) -> list[str]:
        with self.lock:
            return [hit.path for hit in self.hits]
