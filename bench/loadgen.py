"""Cheap HTTP/1.1 load generation against 127.0.0.1 only.

- `Connection`: a blocking keep-alive socket, for sequential latency (a few µs of client time).
- `run_concurrent`: N asyncio virtual clients, one keep-alive connection each, bounded by a
  request count and a time limit (uvloop when installed).
- `run_wrk`: the same closed-loop test through `wrk -t1` with a Lua script that stops after the
  requested count; used when wrk is installed (`apt-get install wrk`).

Responses are framed by Content-Length, or decoded when chunked; a `connection: close` answer
makes the client reconnect. Every request is sent to 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HOST = "127.0.0.1"


def build_request(port: int, method: str, path: str, body: bytes = b"", htmx: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "User-Agent: pipulate-bench"]
    if htmx:
        lines.append("HX-Request: true")
    if body or method in ("POST", "PUT", "PATCH"):
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def form_body(**fields: str) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


def parse_head(head: bytes) -> tuple[int, int | None, bool, bool]:
    """(status, content-length or None, chunked, connection-close) from a response head."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = None, False, lines[0].startswith(b"HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            close = value == b"close"
    return status, length, chunked, close


class ProtocolError(Exception):
    pass


# --- blocking client (sequential latency, seeding, readiness probes) --------------------------


class Connection:
    def __init__(self, port: int, timeout: float = 10) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = bytearray()

    def connect(self) -> None:
        self.close()
        self.sock = socket.create_connection((HOST, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf.clear()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.connect()
        self.sock.sendall(raw)
        status, body, close = self._read_response()
        if close:
            self.close()
        return status, body

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise ProtocolError("connection closed by the server")
        self.buf += data

    def _take_until(self, marker: bytes) -> bytes:
        while (index := self.buf.find(marker)) < 0:
            self._fill()
        out = bytes(self.buf[:index])
        del self.buf[: index + len(marker)]
        return out

    def _take(self, size: int) -> bytes:
        while len(self.buf) < size:
            self._fill()
        out = bytes(self.buf[:size])
        del self.buf[:size]
        return out

    def _read_response(self) -> tuple[int, bytes, bool]:
        status, length, chunked, close = parse_head(self._take_until(b"\r\n\r\n"))
        if chunked:
            parts = []
            while size := int(self._take_until(b"\r\n").split(b";")[0], 16):
                parts.append(self._take(size))
                self._take(2)
            while self._take_until(b"\r\n"):  # trailers, up to the empty line
                pass
            return status, b"".join(parts), close
        if length is not None:
            return status, self._take(length), close
        # Neither: the body runs to the end of the connection.
        while True:
            try:
                self._fill()
            except ProtocolError:
                break
        body = bytes(self.buf)
        self.buf.clear()
        return status, body, True


def wait_for_200(port: int, path: str = "/", timeout: float = 60, alive: Callable[[], bool] = lambda: True,
                 interval: float = 0.002) -> float:
    """Poll until GET `path` answers 200; the perf_counter() at which it did."""
    raw = build_request(port, "GET", path, htmx=False)
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not alive():
            raise RuntimeError("server exited before answering")
        try:
            with Connection(port, timeout=5) as conn:
                status, _ = conn.request(raw)
            if status == 200:
                return time.perf_counter()
        except (OSError, ProtocolError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"no 200 from 127.0.0.1:{port}{path} within {timeout}s")


@dataclass
class Result:
    """Latencies in seconds, in completion order; statuses counted; errors = failures + non-2xx."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # exceptions by type name
    elapsed: float = 0.0
    bytes_received: int = 0
    reconnects: int = 0
    client: str = "python"
    completed: int | None = None  # set when the client reports a count, not each latency (wrk)
    fixed_percentiles: dict = field(default_factory=dict)  # p -> seconds, from wrk's histogram

    @property
    def count(self) -> int:
        return len(self.latencies) if self.completed is None else self.completed

    @property
    def errors(self) -> int:
        return sum(self.failures.values()) + sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if p in self.fixed_percentiles:
            return self.fixed_percentiles[p]
        return percentile(self.latencies, p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


def run_sequential(port: int, make_request: Callable[[int], bytes], count: int, start: int = 0,
                   time_limit: float = 120) -> Result:
    """`count` requests one after another on one keep-alive connection."""
    result = Result()
    deadline = time.perf_counter() + time_limit
    clock = time.perf_counter
    with Connection(port) as conn:
        conn.connect()
        began = clock()
        for index in range(start, start + count):
            if clock() > deadline:
                result.failures["time limit"] += count - (index - start)
                break
            raw = make_request(index)
            t0 = clock()
            try:
                status, body = conn.request(raw)
            except (OSError, ProtocolError) as error:
                result.failures[type(error).__name__] += 1
                conn.close()
                result.reconnects += 1
                continue
            result.latencies.append(clock() - t0)
            result.statuses[status] += 1
            result.bytes_received += len(body)
        result.elapsed = clock() - began
    return result


# --- asyncio client (throughput) ---------------------------------------------------------------


async def _read_response_async(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status, length, chunked, close = parse_head(head[:-4])
    if chunked:
        size_total = 0
        while size := int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16):
            await reader.readexactly(size + 2)
            size_total += size
        while (await reader.readuntil(b"\r\n")) != b"\r\n":
            pass
        return status, size_total, close
    if length is None:
        return status, len(await reader.read()), True
    await reader.readexactly(length)
    return status, length, close


async def _run_concurrent(port, make_request, total, concurrency, time_limit, timeout) -> Result:
    result = Result()
    clock = time.perf_counter
    next_index = 0
    deadline = clock() + time_limit

    async def open_connection():
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def virtual_client():
        nonlocal next_index
        reader, writer = await open_connection()
        try:
            while next_index < total and clock() < deadline:
                index = next_index
                next_index += 1
                raw = make_request(index)
                t0 = clock()
                try:
                    async with asyncio.timeout(timeout):
                        writer.write(raw)
                        status, size, close = await _read_response_async(reader)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                        ValueError, IndexError) as error:
                    result.failures[type(error).__name__] += 1
                    writer.close()
                    reader, writer = await open_connection()
                    result.reconnects += 1
                    continue
                result.latencies.append(clock() - t0)
                result.statuses[status] += 1
                result.bytes_received += size
                if close:
                    writer.close()
                    reader, writer = await open_connection()
                    result.reconnects += 1
        finally:
            writer.close()

    began = clock()
    await asyncio.gather(*[virtual_client() for _ in range(concurrency)])
    result.elapsed = clock() - began
    if next_index < total:
        result.failures["time limit"] += total - next_index
    return result


def run_concurrent(port: int, make_request: Callable[[int], bytes], total: int, concurrency: int = 16,
                   time_limit: float = 60, timeout: float = 10) -> Result:
    """`total` requests from `concurrency` closed-loop clients (each waits for its answer)."""
    try:
        import uvloop

        runner = uvloop.run
        name = "python asyncio+uvloop raw sockets"
    except ImportError:
        runner = asyncio.run
        name = "python asyncio raw sockets"
    result = runner(_run_concurrent(port, make_request, total, concurrency, time_limit, timeout))
    result.client = name
    return result


# --- wrk ---------------------------------------------------------------------------------------


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (out.stdout + out.stderr).split("Copyright")[0].strip()


_WRK_SCRIPT = """
wrk.method = "{method}"
wrk.headers["HX-Request"] = "true"
wrk.headers["User-Agent"] = "pipulate-bench"
{content_type}
local sent = 0
responses = 0
bad = 0
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  sent = sent + 1
  {request_line}
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local got, nonok = 0, 0
  for _, t in ipairs(threads) do
    got = got + t:get("responses")
    nonok = nonok + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"responses": %d, "bad_status": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f}}\\n',
    got, nonok, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def run_wrk(port: int, method: str, path: str, duration: float, concurrency: int = 16, timeout: float = 10,
            title_prefix: str = "wrk todo") -> Result:
    """`wrk -t1 -c<concurrency> -d<duration>`: closed-loop clients for a fixed time (wrk cannot stop
    on a count). POST bodies are `title=<prefix> <n>` forms; every answer that is not 2xx counts."""
    if method == "POST":
        content_type = 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
        prefix = title_prefix.replace(" ", "+")
        request_line = f'return wrk.format(nil, nil, nil, "title={prefix}+" .. sent)'
    else:
        content_type = ""
        request_line = "return wrk.format(nil, nil, nil, nil)"
    script = _WRK_SCRIPT.format(method=method, content_type=content_type, request_line=request_line)
    with tempfile.TemporaryDirectory(prefix="pipulate-bench-wrk-") as folder:
        script_path = Path(folder) / "bench.lua"
        script_path.write_text(script)
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", f"--timeout={int(timeout)}s",
                   "-s", str(script_path), f"http://{HOST}:{port}{path}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout + 30)
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("WRKJSON "):])
    result = Result(client=f"{wrk_version()}, -t1 -c{concurrency} -d{max(1, round(duration))}s")
    result.elapsed = data["duration_us"] / 1e6
    result.bytes_received = data["bytes"]
    result.statuses[200] = data["responses"] - data["bad_status"]
    if data["bad_status"]:
        result.statuses[0] = data["bad_status"]  # not 2xx; wrk does not say which code
    for kind in ("connect", "read", "write", "timeout"):
        if data[kind]:
            result.failures[kind] = data[kind]
    result.completed = data["responses"]
    result.fixed_percentiles = {50: data["p50_us"] / 1e6, 90: data["p90_us"] / 1e6, 99: data["p99_us"] / 1e6,
                                100: data["max_us"] / 1e6}
    result.wrk = data
    return result
