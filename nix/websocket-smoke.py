"""The WebSocket smoke check: the app served by COMMAND completes a /ws handshake.

    python websocket-smoke.py COMMAND [ARGS...]

Runs `COMMAND ARGS... --port PORT` (a free port on 127.0.0.1; the data dir comes from the
environment, e.g. PIPULATE_DATA_DIR), waits until the page answers, then opens /ws with a raw
HTTP/1.1 Upgrade request from the app's own origin and expects `101 Switching Protocols`. Without
a WebSocket library in the app's environment (uvicorn without its "standard" extra) the answer
is a 404 and this fails, naming it. Stops the server it started (by its PID) in every case.
Standard library only: it runs in `nix flake check` (checks.websocket) and in tests/nix.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

READY_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def page_answers(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def handshake(port: int) -> str:
    """The status line of the answer to a WebSocket Upgrade on /ws."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /ws HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Origin: http://127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def main(command: list[str]) -> int:
    if not command:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_SECONDS
            while not page_answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    print(f"websocket smoke: the app did not answer on 127.0.0.1:{port}:", file=sys.stderr)
                    print(log.read().decode(errors="replace")[-4000:], file=sys.stderr)
                    return 1
                time.sleep(0.2)
            status = handshake(port)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if " 101 " not in f"{status} ":
            log.seek(0)
            print(
                f"websocket smoke: /ws answered {status!r}, not 101 Switching Protocols (is a WebSocket "
                "library, uvicorn[standard]'s websockets, in the app's environment?)",
                file=sys.stderr,
            )
            print(log.read().decode(errors="replace")[-4000:], file=sys.stderr)
            return 1
    print(f"websocket smoke: /ws answered {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
