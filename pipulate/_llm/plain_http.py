"""Stream a POST's answer from a plain-http server with asyncio's own streams.

Why not httpx here: reading a token through httpx/httpcore/h11/anyio costs ~210 µs of CPU, which
the model (sharing the cores) pays for, and puts ~3 ms on the first token (bench/chat_relay.py).
A local model server speaks plain HTTP/1.1, so this reader is small: one connection per reply
(`Connection: close`), chunked or Content-Length bodies, a timeout on every read, and every
failure turned into the same message the httpx path gives. https stays with httpx.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from .errors import BackendFailed, BackendTimeout, BackendUnreachable

CONNECT_TIMEOUT = 2.0
_MAX_HEAD = 64 * 1024


@contextmanager
def _translated(url: str):
    try:
        yield
    except TimeoutError:
        raise BackendTimeout(
            f"The model server at {url} stopped sending for too long.", "It may be overloaded; try again."
        ) from None
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        raise BackendFailed(
            f"The model server at {url} stopped in the middle of the reply.",
            "Check that it is still running; then try again.",
        ) from None


class PlainHTTPStream:
    """`async with PlainHTTPStream(url, payload, read_timeout) as stream:` then `stream.status`
    and `async for line in stream.lines()`. Leaving the block closes the connection, which is how
    the server learns that the reader (a stopped reply, a closed tab) has gone."""

    def __init__(self, url: str, payload: dict, read_timeout: float, base_url: str) -> None:
        self.url = url
        self.base_url = base_url  # named in messages, as the httpx path does
        self.body = json.dumps(payload).encode()
        self.read_timeout = read_timeout
        self.status = 0
        self._chunked = False
        self._length: int | None = None
        self._reader = self._writer = None

    async def __aenter__(self) -> "PlainHTTPStream":
        parts = urlsplit(self.url)
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port or 80, limit=_MAX_HEAD), CONNECT_TIMEOUT
            )
        except TimeoutError:
            raise BackendTimeout(f"Connecting to the model server at {self.base_url} timed out.") from None
        except OSError:
            raise BackendUnreachable(f"No model server answers at {self.base_url}.") from None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._writer.write(
            f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\nConnection: close\r\nContent-Length: {len(self.body)}\r\n\r\n".encode()
            + self.body
        )
        with _translated(self.base_url):
            await asyncio.wait_for(self._writer.drain(), self.read_timeout)
            head = await asyncio.wait_for(self._reader.readuntil(b"\r\n\r\n"), self.read_timeout)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        try:
            self.status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            raise BackendFailed(f"The model server at {self.base_url} did not answer in HTTP.") from None
        headers = dict(line.lower().split(":", 1) for line in header_lines if ":" in line)
        self._chunked = "chunked" in headers.get("transfer-encoding", "")
        length = headers.get("content-length", "").strip()
        self._length = int(length) if length.isdigit() else None
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self._writer is not None:
            self._writer.close()  # not awaited: a gone peer must not hold the reply up

    async def _chunks(self) -> AsyncIterator[bytes]:
        reader, timeout = self._reader, self.read_timeout
        with _translated(self.base_url):
            if self._chunked:
                while True:
                    size_line = await asyncio.wait_for(reader.readline(), timeout)
                    if not size_line:
                        raise ConnectionError("closed inside a chunked body")
                    size = int(size_line.split(b";")[0].strip(), 16)
                    if size == 0:
                        return
                    chunk = await asyncio.wait_for(reader.readexactly(size + 2), timeout)
                    yield chunk[:-2]
            elif self._length is not None:
                remaining = self._length
                while remaining > 0:
                    chunk = await asyncio.wait_for(reader.read(min(remaining, 65536)), timeout)
                    if not chunk:
                        raise ConnectionError("closed before the announced length")
                    remaining -= len(chunk)
                    yield chunk
            else:  # no framing: the body ends when the connection does
                while chunk := await asyncio.wait_for(reader.read(65536), timeout):
                    yield chunk

    async def lines(self) -> AsyncIterator[bytes]:
        """The body's lines (without their line ending), as soon as each is complete."""
        pending = b""
        async for chunk in self._chunks():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line.rstrip(b"\r")
        if pending:
            yield pending

    async def read_some(self, limit: int = 300) -> bytes:
        """Up to `limit` bytes of the body, for an error message."""
        collected = b""
        try:
            async for chunk in self._chunks():
                collected += chunk
                if len(collected) >= limit:
                    break
        except BackendFailed:
            pass
        return collected[:limit]
