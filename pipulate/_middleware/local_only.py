"""Refuse what a web page on another site could make a browser send to this local app.

- DNS rebinding: an attacker's name resolving to 127.0.0.1 makes its page "same-origin" with us.
  Only the Host header tells, so it must name this machine (Ollama's and Jupyter's fix too).
- A request with two Host or two Origin headers is refused: which one counts would depend on
  who reads it.
- Browsers apply no same-origin policy to WebSocket handshakes, and a foreign page can POST a
  form here. So a WebSocket handshake, or a request that changes something, whose Origin is not
  this app's own is refused. A request without Origin comes from a script or a tool, not from a
  foreign page, and is allowed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SINGLE_HEADERS = frozenset({"host", "origin"})


def host_name(host_header: str) -> str | None:
    """'127.0.0.1:5001' -> '127.0.0.1', '[::1]:5001' -> '::1'; None when it cannot be parsed."""
    try:
        parts = urlsplit(f"//{host_header}")
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    return parts.hostname


class LocalOnlyMiddleware:
    def __init__(self, app, allowed_hosts=()) -> None:
        self.app = app
        self.allowed_hosts = LOCAL_NAMES | {h.lower() for h in allowed_hosts if h}

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name = key.decode("latin-1").lower()
            if name in _SINGLE_HEADERS and name in headers:
                # Two answers to "who is asking": a proxy or a client would pick one, we cannot.
                return await _refuse(scope, receive, send, 400, f"Refused: the request has more than one {name.title()} header.")
            headers[name] = value.decode("latin-1")
        host = headers.get("host", "")
        if not self._is_local_host(host):
            return await _refuse(scope, receive, send, 400, refusal_for_host(host))
        origin = headers.get("origin")
        changes_state = scope["type"] == "websocket" or scope.get("method") not in _SAFE_METHODS
        if changes_state and origin is not None and not self._is_own_origin(origin, host):
            return await _refuse(scope, receive, send, 403, "Refused: the request comes from another site.")
        return await self.app(scope, receive, send)

    def _is_local_host(self, host: str) -> bool:
        name = host_name(host)
        return name is not None and (name in self.allowed_hosts or name.endswith(".localhost"))

    def _is_own_origin(self, origin: str, host: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def refusal_for_host(host: str) -> str:
    """Why a Host was refused, and, when it is a plain name or address (someone opened the app
    through the machine's LAN address), how to allow it. Plain text: nothing here is markup."""
    name = host_name(host)
    if not name or len(name) > 100 or not re.fullmatch(r"[A-Za-z0-9.:-]+", name):
        return "Refused: the Host header does not name this machine."
    return (
        f"Refused: the Host header names {name}, which is not one of this app's own names (127.0.0.1, "
        "localhost), so that no other web site can reach it through a name of its own (DNS rebinding). "
        f"If you opened it at {name} on purpose, allow that name: add allowed_hosts = [\"{name}\"] to "
        f"pipulate.toml (or set PIPULATE_ALLOWED_HOSTS={name}) and restart the app."
    )


async def _refuse(scope, receive, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake with 403.
        await receive()  # the websocket.connect event
        await send({"type": "websocket.close", "code": 1008})
        return
    body = message.encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
