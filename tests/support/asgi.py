"""Drive one ASGI middleware directly: exact receive messages in, every sent message out.

For what a client library smooths over: a body in several chunks, a client that leaves mid-body,
what the wrapped app is handed, and a non-HTTP scope.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Recorder:
    """The wrapped app: reads the whole body (and one message more), then answers 200 with it."""

    scopes: list[dict] = field(default_factory=list)
    received: list[dict] = field(default_factory=list)
    read_after_body: bool = True

    async def __call__(self, scope, receive, send):
        self.scopes.append(scope)
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            self.received.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if self.read_after_body:
            self.received.append(await receive())  # what a server sends after the body: the disconnect
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.received if m["type"] == "http.request")


def http_scope(headers: dict[str, str] | list[tuple[str, str]] = (), method: str = "POST", path: str = "/x") -> dict:
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5001),
    }


@dataclass
class Answer:
    messages: list[dict]

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


def call(app, scope: dict, chunks: list[bytes] = (b"",), complete: bool = True) -> Answer:
    """Run APP on SCOPE; the body arrives as CHUNKS (the client leaves before its end unless
    COMPLETE), then the client's disconnect."""
    last = len(chunks) - 1 if complete else len(chunks)
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < last} for i, chunk in enumerate(chunks)]
    incoming.append({"type": "http.disconnect"})
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return Answer(sent)
