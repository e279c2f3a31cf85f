"""The Host/Origin guard against the real server, with hand-written HTTP/1.1 bytes on raw sockets.

An HTTP client library fixes up what it sends (it adds Host, it refuses odd headers); raw bytes
send exactly what an attacker's page, a DNS-rebinding name or a bad tool would.

The server runs with --live, so the /live-reload WebSocket route exists.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import time

import pytest
import websockets.exceptions
import websockets.sync.client

from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import scaled

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = base64.b64encode(hashlib.sha1((WS_KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("live") / "data", "--live")
    yield running
    running.stop()
    assert_no_traceback(running)


def exchange(port: int, request: bytes, until_headers_end: bool = False, timeout: float = 5) -> bytes:
    """Send raw bytes; read the answer until the server closes (or, for an upgrade, the headers end)."""
    answer = b""
    deadline = time.monotonic() + scaled(timeout)
    with socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout)) as connection:
        try:
            connection.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything (a 413)
        while time.monotonic() < deadline:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
            if until_headers_end and b"\r\n\r\n" in answer:
                break
    return answer


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", *(f"{name}: {value}" for name, value in headers.items())]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get(port: int, host: str | None, path: str = "/", **extra) -> bytes:
    headers = {"Host": host} if host is not None else {}
    return exchange(port, http_request("GET", path, {**headers, **extra}))


def ws_handshake(path: str, host: str | None, origin: str | None) -> bytes:
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": WS_KEY,
        "Sec-WebSocket-Version": "13",
    }
    if host is not None:
        headers = {"Host": host, **headers}
    if origin is not None:
        headers["Origin"] = origin
    lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def todo_titles(port: int) -> list[str]:
    answer = get(port, f"127.0.0.1:{port}", "/todos", **{"HX-Request": "true"})
    assert status_of(answer) == 200
    return re.findall(r'class="text todo-title"[^>]*>([^<]*)</button>', answer.decode())


# --- Host ----------------------------------------------------------------------------------------


def test_local_host_names_are_served(live_server):
    port = live_server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "127.0.0.1", "LOCALHOST:" + str(port)):
        answer = get(port, host)
        assert status_of(answer) == 200, (host, answer[:300])
        assert b"<!doctype html>" in answer.lower()


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "attacker.example:{port}",  # DNS rebinding: the name resolves to 127.0.0.1, same port
        "127.0.0.1.evil.example:{port}",
        "localhost.evil.example:{port}",
        "127.0.0.1@evil.example:{port}",
        "127.0.0.1:{port}@evil.example",
        "127.0.0.1:notaport",
        "127.0.0.1:99999",
        "[::1",
        "",
    ],
)
def test_foreign_or_malformed_host_is_refused(live_server, host):
    port = live_server.port
    answer = get(port, host.format(port=port))
    assert status_of(answer) == 400, answer[:300]
    assert b"Host header" in answer
    assert b"<!doctype html>" not in answer.lower()


def test_missing_host_is_refused(live_server):
    port = live_server.port
    for version in ("1.1", "1.0"):
        answer = exchange(port, http_request("GET", "/", {}, version=version))
        assert 400 <= status_of(answer) < 500, (version, answer[:300])
        assert b"<!doctype html>" not in answer.lower()


# --- Origin on requests that change something ----------------------------------------------------


def test_post_from_a_foreign_origin_is_refused_and_stores_nothing(live_server):
    port = live_server.port
    host = f"127.0.0.1:{port}"
    form = {"Host": host, "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
    before = todo_titles(port)
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{port + 1 if port < 65535 else 1}",
                   f"http://{host}.evil.example", f"ftp://{host}"):
        answer = exchange(port, http_request("POST", "/todos", {**form, "Origin": origin}, b"title=from+evil"))
        assert status_of(answer) == 403, (origin, answer[:300])
        assert b"another site" in answer
    assert todo_titles(port) == before

    # The same POST from the app's own page is accepted; one without Origin (a script) too.
    answer = exchange(port, http_request("POST", "/todos", {**form, "Origin": f"http://{host}"}, b"title=own+page"))
    assert status_of(answer) == 200, answer[:300]
    answer = exchange(port, http_request("POST", "/todos", form, b"title=a+script"))
    assert status_of(answer) == 200, answer[:300]
    assert todo_titles(port) == [*before, "own page", "a script"]

    # A safe method with a foreign Origin is served (a link from another site).
    answer = get(port, host, "/", Origin="http://evil.example")
    assert status_of(answer) == 200


def test_chunked_body_over_the_limit_is_413(live_server):
    port = live_server.port
    before = todo_titles(port)
    body = b"title=" + b"a" * (2 * 1024 * 1024)
    piece = 64 * 1024
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i:i + piece]), body[i:i + piece]) for i in range(0, len(body), piece)
    ) + b"0\r\n\r\n"
    headers = {
        "Host": f"127.0.0.1:{port}", "Content-Type": "application/x-www-form-urlencoded",
        "Transfer-Encoding": "chunked",
    }
    answer = exchange(port, http_request("POST", "/todos", headers) + chunked)
    assert status_of(answer) == 413, answer[:300]
    assert todo_titles(port) == before


# --- WebSocket handshakes ------------------------------------------------------------------------


def test_websocket_from_the_apps_own_origin_switches_protocols(live_server):
    port = live_server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        answer = exchange(port, ws_handshake("/live-reload", host, f"http://{host}"), until_headers_end=True)
        assert status_of(answer) == 101, answer[:300]
        assert f"Sec-WebSocket-Accept: {WS_ACCEPT}".lower().encode() in answer.lower()
    # Without Origin (not a browser): accepted too.
    answer = exchange(port, ws_handshake("/live-reload", f"127.0.0.1:{port}", None), until_headers_end=True)
    assert status_of(answer) == 101, answer[:300]


@pytest.mark.parametrize("path", ["/live-reload", "/no-such-socket"])
def test_websocket_from_a_foreign_origin_is_refused(live_server, path):
    port = live_server.port
    host = f"127.0.0.1:{port}"
    for origin in ("http://evil.example", f"http://localhost:{port}", "null"):
        answer = exchange(port, ws_handshake(path, host, origin))
        assert status_of(answer) == 403, (origin, answer[:300])
        assert b"Sec-WebSocket-Accept" not in answer


@pytest.mark.parametrize("host", ["evil.example", "attacker.example:{port}"])
def test_websocket_with_a_foreign_host_is_refused(live_server, host):
    port = live_server.port
    host = host.format(port=port)
    for origin in (None, f"http://{host}"):  # a rebinding page's Origin matches its (foreign) Host
        answer = exchange(port, ws_handshake("/live-reload", host, origin))
        assert status_of(answer) in (400, 403), answer[:300]
        assert b"Sec-WebSocket-Accept" not in answer


def test_websockets_client_library(live_server):
    port = live_server.port
    uri = f"ws://127.0.0.1:{port}/live-reload"
    with websockets.sync.client.connect(uri, origin=f"http://127.0.0.1:{port}", proxy=None, open_timeout=scaled(5)) as ws:
        ws.send("ping")  # the server reads and ignores it: no answer, and the socket stays open
        with pytest.raises(TimeoutError):  # a close would raise ConnectionClosed instead
            ws.recv(timeout=scaled(0.3))
        ws.send("still open")
    for origin in ("http://evil.example", f"http://127.0.0.1:{port}.evil.example"):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            websockets.sync.client.connect(uri, origin=origin, proxy=None, open_timeout=scaled(5))
        assert refused.value.response.status_code == 403
    assert "Traceback" not in live_server.log(), live_server.log()


# --- headers that appear twice -------------------------------------------------------------------


def raw_request(lines: list[str], body: bytes = b"") -> bytes:
    if body:
        lines = [*lines, f"Content-Length: {len(body)}"]
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1") + body


def test_two_host_or_two_origin_headers_are_refused_in_any_order(live_server):
    """Which of two Host (or Origin) headers counts depends on who reads them: the guard read the
    last one, so a foreign Origin first and the app's own second passed. Both orders are refused."""
    port = live_server.port
    own, foreign = f"127.0.0.1:{port}", "evil.example"
    before = todo_titles(port)
    form = ["Content-Type: application/x-www-form-urlencoded", "HX-Request: true"]
    cases = [
        [f"Host: {foreign}", f"Host: {own}"],
        [f"Host: {own}", f"Host: {own}"],
        [f"Host: {own}", f"Host: {foreign}"],
        [f"Host: {own}", "Origin: http://evil.example", f"Origin: http://{own}"],
        [f"Host: {own}", f"Origin: http://{own}", "Origin: http://evil.example"],
        [f"Host: {own}", f"Origin: http://{own}", f"oRiGiN: http://{own}"],
    ]
    for headers in cases:
        answer = exchange(port, raw_request(["POST /todos HTTP/1.1", *headers, *form], b"title=twice"))
        assert status_of(answer) == 400, (headers, answer[:300])
        assert b"more than one" in answer
        handshake = "\r\n".join(["GET /ws HTTP/1.1", *headers, "Upgrade: websocket", "Connection: Upgrade",
                                 f"Sec-WebSocket-Key: {WS_KEY}", "Sec-WebSocket-Version: 13"]) + "\r\n\r\n"
        answer = exchange(port, handshake.encode())
        assert status_of(answer) in (400, 403), (headers, answer[:300])
        assert b"Sec-WebSocket-Accept" not in answer
    assert todo_titles(port) == before


@pytest.mark.parametrize("host", ["evillocalhost", "evillocalhost:{port}", "xlocalhost", "localhost.", "notlocalhost.example"])
def test_names_that_only_end_like_localhost_are_refused(live_server, host):
    answer = get(live_server.port, host.format(port=live_server.port))
    assert status_of(answer) == 400, answer[:300]


def test_subdomains_of_localhost_are_local(live_server):
    port = live_server.port
    for host in (f"app.localhost:{port}", f"a.b.localhost:{port}"):
        assert status_of(get(port, host)) == 200, host


def test_allowed_hosts_from_pipulate_toml_reach_the_host_guard(tmp_path):
    """The guard itself is tested on a stand-in app (test_local_only.py); this is the wiring: a
    name in the project's pipulate.toml is served by the real server, and only that name."""
    (tmp_path / "pipulate.toml").write_text('allowed_hosts = ["tools.example.test"]\n')
    server = start_server(tmp_path / "data")  # started in tmp_path, where it reads pipulate.toml
    try:
        port = server.port
        for host in ("tools.example.test", f"tools.example.test:{port}", f"TOOLS.example.test:{port}"):
            assert status_of(get(port, host)) == 200, host
        for host in (f"other.example.test:{port}", f"x.tools.example.test:{port}", f"tools.example.test.evil:{port}"):
            assert status_of(get(port, host)) == 400, host
    finally:
        server.stop()
    assert "Traceback" not in server.log(), server.log()[-4000:]
