"""The security headers on every answer of the real server: a page, a 404, a refused Host and a
413 (refused before any handler runs). Without the Content-Security-Policy an escaping mistake
becomes a live script, and no other test would notice: with no policy there is nothing to violate.
"""

from __future__ import annotations

import socket

import pytest

from tests.support.server import start_server

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("headers") / "data")
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()[-4000:]


def raw_answer(port: int, request: bytes) -> tuple[int, list[tuple[str, str]]]:
    """Send REQUEST as bytes; (status, headers in order) of the answer."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in head[1:]]
    return int(head[0].split()[1]), [(name.lower(), value) for name, value in headers]


def policy_directives(policy: str) -> dict[str, set[str]]:
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def assert_security_headers(headers: list[tuple[str, str]]) -> None:
    policies = [value for name, value in headers if name == "content-security-policy"]
    assert len(policies) == 1, headers
    directives = policy_directives(policies[0])
    assert directives["script-src"] == {"'self'"}  # no inline script, no other origin
    assert directives["default-src"] == {"'self'"}
    assert directives["object-src"] == {"'none'"}
    assert directives["base-uri"] == {"'none'"}
    assert directives["frame-ancestors"] == {"'none'"}
    assert directives["form-action"] == {"'self'"}
    for name, value in EXPECTED.items():
        assert [v for n, v in headers if n == name] == [value], (name, headers)


def test_a_page_carries_the_security_headers(running):
    host = f"127.0.0.1:{running.port}"
    status, headers = raw_answer(running.port, f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert status == 200
    assert ("content-type", "text/html; charset=utf-8") in headers
    assert_security_headers(headers)


@pytest.mark.parametrize(
    ("request_head", "expected_status"),
    [
        ("GET /no-such-page HTTP/1.1\r\nHost: {host}", 404),
        ("GET /todos/999999 HTTP/1.1\r\nHost: {host}\r\nHX-Request: true", 404),
        ("GET / HTTP/1.1\r\nHost: evil.example", 400),  # refused by the Host guard
        ("POST /todos HTTP/1.1\r\nHost: {host}\r\nOrigin: http://evil.example", 403),
    ],
    ids=["unknown-page", "unknown-todo", "foreign-host", "foreign-origin"],
)
def test_errors_and_refusals_carry_the_security_headers(running, request_head, expected_status):
    head = request_head.format(host=f"127.0.0.1:{running.port}")
    status, headers = raw_answer(running.port, f"{head}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    assert status == expected_status
    assert_security_headers(headers)


def test_a_413_carries_the_security_headers(running):
    # The size guard answers from the declared length, before the body is read.
    head = (
        f"POST /todos HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n"
    )
    status, headers = raw_answer(running.port, head.encode())
    assert status == 413
    assert_security_headers(headers)
