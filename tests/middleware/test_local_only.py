"""LocalOnlyMiddleware in process: Host parsing, the Origin rule, WebSockets, extra allowed hosts."""

from __future__ import annotations

import asyncio
import re

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pipulate._middleware import LocalOnlyMiddleware
from pipulate._middleware.local_only import host_name


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("127.0.0.1:5001", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost:5001", "localhost"),
        ("LocalHost:5001", "localhost"),
        ("[::1]:5001", "::1"),
        ("[::1]", "::1"),
        ("evil.example:5001", "evil.example"),
        ("127.0.0.1@evil.example", "evil.example"),
        ("127.0.0.1:5001:5002", None),
        ("127.0.0.1:abc", None),
        ("127.0.0.1:99999", None),
        ("127.0.0.1:-1", None),
        ("[::1]:x", None),
        ("[::1", None),
        ("", None),
    ],
)
def test_host_name(header, expected):
    assert host_name(header) == expected


@pytest.mark.parametrize("host", ["127.0.0.1:5001", "localhost:5001", "[::1]:5001", "localhost", "app.localhost:5001"])
def test_local_hosts_are_served(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:5001", "127.0.0.1:abc", "127.0.0.1:99999", "[::1]:abc", "[::1", "",
     "localhost.evil.example:5001", "127.0.0.2:5001"],
)
def test_foreign_and_malformed_hosts_are_400(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert "Host header" in response.text


def test_state_changing_requests_need_the_apps_own_origin(client):
    htmx = {"HX-Request": "true"}
    for origin in ("http://evil.example", "null", "http://127.0.0.1:5002", "http://localhost:5001",
                   "javascript://127.0.0.1:5001", "http://127.0.0.1:5001.evil.example"):
        for method, path in (("POST", "/todos"), ("PUT", "/todos/1"), ("DELETE", "/todos/1"),
                             ("POST", "/profiles")):
            response = client.request(method, path, data={"title": "x", "name": "x"},
                                      headers={**htmx, "Origin": origin})
            assert response.status_code == 403, (origin, method, path)
    assert not re.search(r'id="todo-\d', client.get("/todos", headers=htmx).text)

    assert client.post("/todos", data={"title": "own"}, headers={**htmx, "Origin": "http://127.0.0.1:5001"}).status_code == 200
    assert client.post("/todos", data={"title": "own"}, headers={**htmx, "Origin": "HTTP://127.0.0.1:5001"}).status_code == 200
    assert client.post("/todos", data={"title": "tool"}, headers=htmx).status_code == 200
    # Reading is allowed from anywhere (a link from another site).
    assert client.get("/", headers={"Origin": "http://evil.example"}).status_code == 200


def _app_with_socket(**options) -> Starlette:
    async def home(request):
        return PlainTextResponse("home")

    async def echo(websocket):
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    return Starlette(
        routes=[Route("/", home, methods=["GET", "POST"]), WebSocketRoute("/ws", echo)],
        middleware=[Middleware(LocalOnlyMiddleware, **options)],
    )


def test_websocket_origin_and_host():
    with TestClient(_app_with_socket(), base_url="http://127.0.0.1:5001") as client:
        socket_url = "ws://127.0.0.1:5001/ws"
        with client.websocket_connect(socket_url, headers={"Origin": "http://127.0.0.1:5001"}) as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"
        with client.websocket_connect(socket_url) as ws:  # no Origin: not a browser
            ws.send_text("tool")
            assert ws.receive_text() == "tool"
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Host": "evil.example"}, {"Host": "evil.example", "Origin": "http://evil.example"}):
            for path in ("/ws", "/no-such-socket"):
                with pytest.raises(WebSocketDisconnect) as refused:
                    with client.websocket_connect(f"ws://127.0.0.1:5001{path}", headers=dict(headers)):
                        pass
                assert refused.value.code == 1008, (headers, path)


def test_extra_allowed_hosts():
    with TestClient(_app_with_socket(allowed_hosts=["MyBox.lan", ""]), base_url="http://mybox.lan:8000") as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"Host": "MYBOX.LAN"}).status_code == 200
        assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
        assert client.get("/", headers={"Host": "other.lan:8000"}).status_code == 400
        assert client.post("/", headers={"Origin": "http://mybox.lan:8000"}).status_code == 200
        assert client.post("/", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 403


def _call(middleware, scope, incoming):
    """Run an ASGI app directly; return what it sent."""
    sent, queue = [], list(incoming)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


class _Recorder:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1


def test_refused_before_the_app_or_its_router_runs():
    inner = _Recorder()
    guard = LocalOnlyMiddleware(inner)
    websocket = {
        "type": "websocket", "path": "/anything",
        "headers": [(b"host", b"127.0.0.1:5001"), (b"origin", b"http://evil.example")],
    }
    sent = _call(guard, websocket, [{"type": "websocket.connect"}])
    assert inner.calls == 0
    assert sent == [{"type": "websocket.close", "code": 1008}]

    http = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"evil.example")]}
    sent = _call(guard, http, [])
    assert inner.calls == 0
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [400]

    post = {"type": "http", "method": "POST", "path": "/",
            "headers": [(b"host", b"localhost:5001"), (b"origin", b"http://evil.example")]}
    sent = _call(guard, post, [])
    assert inner.calls == 0
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [403]

    # Lifespan and local requests reach the app.
    _call(guard, {"type": "lifespan"}, [])
    _call(guard, {"type": "http", "method": "POST", "path": "/", "headers": [(b"host", b"localhost:5001")]}, [])
    assert inner.calls == 2
