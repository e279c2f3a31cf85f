"""RequestSizeLimitMiddleware in process: declared and chunked bodies past the limit are a 413."""

from __future__ import annotations

import asyncio
import re

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from pipulate._middleware import RequestSizeLimitMiddleware
from pipulate._middleware.request_size import DEFAULT_LIMIT

LIMIT = 1000


@pytest.fixture
def echo():
    """A tiny app behind the middleware (limit 1000 bytes) that stores the bodies it read whole."""
    stored: list[int] = []

    async def receive_body(request):
        body = await request.body()
        stored.append(len(body))
        return PlainTextResponse(str(len(body)))

    app = Starlette(
        routes=[Route("/echo", receive_body, methods=["POST"])],
        middleware=[Middleware(RequestSizeLimitMiddleware, max_bytes=LIMIT)],
    )
    with TestClient(app, base_url="http://127.0.0.1:5001") as client:
        yield client, stored


def _pieces(size: int, piece: int = 300):
    sent = 0
    while sent < size:
        n = min(piece, size - sent)
        sent += n
        yield b"x" * n


def test_declared_length(echo):
    client, stored = echo
    assert client.post("/echo", content=b"x" * LIMIT).text == str(LIMIT)
    response = client.post("/echo", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert f"the limit is {LIMIT} bytes" in response.text
    assert stored == [LIMIT]


def test_chunked_body_over_the_limit(echo):
    client, stored = echo
    response = client.post("/echo", content=_pieces(LIMIT + 1))  # no Content-Length: chunked
    assert response.status_code == 413
    assert stored == []
    assert client.post("/echo", content=_pieces(LIMIT)).text == str(LIMIT)
    assert stored == [LIMIT]


def _call(app, scope, incoming):
    sent, queue = [], list(incoming)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


async def _reads_everything(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _statuses(sent):
    return [m["status"] for m in sent if m["type"] == "http.response.start"]


def test_chunked_messages_are_counted_as_they_arrive():
    guard = RequestSizeLimitMiddleware(_reads_everything, max_bytes=LIMIT)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    chunks = [{"type": "http.request", "body": b"y" * 300, "more_body": True} for _ in range(4)]
    chunks.append({"type": "http.request", "body": b"", "more_body": False})
    assert _statuses(_call(guard, scope, chunks)) == [413]
    assert _statuses(_call(guard, scope, chunks[:3] + chunks[-1:])) == [200]  # 900 bytes


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e3", b"", str(LIMIT + 1).encode(), b"9" * 40])
def test_bad_or_large_content_length_is_refused_unread(value):
    called = []

    async def app(scope, receive, send):
        called.append(scope)

    guard = RequestSizeLimitMiddleware(app, max_bytes=LIMIT)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"Content-Length", value)]}
    assert _statuses(_call(guard, scope, [])) == [413]
    assert called == []


def test_an_answer_already_started_is_not_answered_twice():
    async def streams_then_reads(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.body", "body": b"done"})

    guard = RequestSizeLimitMiddleware(streams_then_reads, max_bytes=LIMIT)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    chunks = [{"type": "http.request", "body": b"z" * 600, "more_body": True} for _ in range(3)]
    assert _statuses(_call(guard, scope, chunks)) == [200]


def test_other_scopes_pass_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    guard = RequestSizeLimitMiddleware(app, max_bytes=1)
    _call(guard, {"type": "websocket", "path": "/", "headers": [(b"content-length", b"99")]}, [])
    _call(guard, {"type": "lifespan"}, [])
    assert seen == ["websocket", "lifespan"]


def test_the_app_refuses_a_large_body_and_stores_nothing(client, htmx_headers):
    form = {**htmx_headers, "Content-Type": "application/x-www-form-urlencoded"}
    big = b"title=" + b"a" * (2 * 1024 * 1024)
    assert client.post("/todos", content=big, headers=form).status_code == 413
    assert client.post("/todos", content=_pieces(len(big), 64 * 1024), headers=form).status_code == 413
    # A body of exactly the limit is read (and then refused for its over-long title, not its size).
    exact = b"title=" + b"a" * (DEFAULT_LIMIT - len(b"title="))
    response = client.post("/todos", content=exact, headers=form)
    assert response.status_code == 422 and "limit is 200" in response.text
    assert not re.search(r'id="todo-\d', client.get("/todos", headers=htmx_headers).text)
