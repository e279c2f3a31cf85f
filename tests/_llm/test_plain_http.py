"""The plain-http stream reader's protocol edges, against a raw asyncio server that sends canned
answers (the real model servers are exercised in test_backends.py and test_failures.py)."""

from __future__ import annotations

import asyncio

import pytest

from pipulate._llm.errors import BackendFailed, BackendTimeout, BackendUnreachable
from pipulate._llm.plain_http import PlainHTTPStream
from tests.support.server import free_port
from tests.support.timing import scaled

SSE = b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'


async def with_server(answer, scenario):
    """Run `scenario(url)` against a server that sends `answer(writer)` to each request."""

    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await answer(writer)
        try:
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        return await asyncio.wait_for(scenario(f"http://127.0.0.1:{port}"), scaled(10))


async def read_all(url, read_timeout=2.0):
    async with PlainHTTPStream(f"{url}/v1/chat/completions", {"x": 1}, read_timeout, url) as stream:
        return stream.status, [line async for line in stream.lines()]


def canned(raw: bytes, then_wait: float = 0):
    async def answer(writer):
        writer.write(raw)
        if then_wait:
            await writer.drain()
            await asyncio.sleep(then_wait)

    return answer


def run(answer, scenario=read_all):
    return asyncio.run(with_server(answer, scenario))


def test_chunked_body_lines_arrive_whole():
    body = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (SSE[:10], SSE[10:]))
    status, lines = run(canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n"))
    assert status == 200
    assert lines == ['data: {"choices":[{"delta":{"content":"Hi"}}]}'.encode(), b"", b"data: [DONE]", b""]


def test_content_length_and_unframed_bodies():
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(SSE)}\r\n\r\n".encode()
    assert run(canned(head + SSE))[1][-2] == b"data: [DONE]"
    assert run(canned(b"HTTP/1.1 200 OK\r\n\r\n" + SSE))[1][-2] == b"data: [DONE]"


def test_a_connection_closed_mid_body_is_a_failure_not_an_end():
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(SSE) + 50}\r\n\r\n".encode()
    with pytest.raises(BackendFailed, match="stopped in the middle"):
        run(canned(head + SSE))
    with pytest.raises(BackendFailed, match="stopped in the middle"):
        run(canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))


def test_silence_is_a_timeout_and_garbage_is_not_http():
    with pytest.raises(BackendTimeout):
        run(canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", then_wait=3),
            lambda url: read_all(url, read_timeout=0.5))
    with pytest.raises(BackendFailed, match="did not answer in HTTP"):
        run(canned(b"NOT HTTP AT ALL\r\n\r\n"))


def test_an_error_answer_keeps_its_status_and_detail():
    async def scenario(url):
        async with PlainHTTPStream(f"{url}/v1/chat/completions", {}, 2.0, url) as stream:
            return stream.status, await stream.read_some()

    status, detail = run(canned(b'HTTP/1.1 500 Oops\r\nContent-Length: 13\r\n\r\n{"error":"x"}'), scenario)
    assert (status, detail) == (500, b'{"error":"x"}')


def test_nothing_listening_is_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BackendUnreachable, match="No model server answers"):
        asyncio.run(read_all(url))
