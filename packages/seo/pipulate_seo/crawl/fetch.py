"""One request: a single hop (redirects are the crawl's business), with a deadline, a body cap
and decompression the crawler does itself.

httpx fetches: it is maintained, async, keeps connections alive per host, and its transport
takes the address guard (guard.py). Bodies are read raw and decompressed here with a size
limit on the *output*, so a gzip bomb (a few KB that expand to gigabytes) stops at the cap like
any other huge body. Only HTML is read at all; other content types are closed after the headers.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass, field

import httpx

from .guard import BlockedAddress, GuardedBackend

BODY_CAP = 5 * 1024 * 1024  # decoded bytes kept of one page
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class Response:
    status: int = 0  # 0: no answer (the error says why)
    error: str = ""
    content_type: str = ""
    headers: dict = field(default_factory=dict)  # the few headers the crawl uses, lower-case names
    body: bytes = b""
    size: int = 0  # bytes of the body as sent (Content-Length when the body was not read)
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def is_html(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in HTML_TYPES


KEPT_HEADERS = ("location", "retry-after", "x-robots-tag", "content-type", "content-length", "content-encoding")


def make_client(user_agent: str, allow_private: bool, timeout: float, connections: int) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx builds its connection pool without a way to pass a network backend: give it one
    # with the address guard in front (same settings as httpx's own pool otherwise).
    transport._pool = type(transport._pool)(
        ssl_context=httpx.create_ssl_context(), max_connections=connections, max_keepalive_connections=connections,
        keepalive_expiry=5.0, http1=True, http2=False, network_backend=GuardedBackend(allow_private),
    )
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                 "Accept-Encoding": "gzip, deflate"},
    )


async def fetch(client: httpx.AsyncClient, url: str, deadline: float, cap: int = BODY_CAP, read_all: bool = False) -> Response:
    """GET `url`: never raises for the site's faults; the Response's error says what happened.
    `deadline` bounds the whole request (a page that trickles bytes forever ends there)."""
    started = time.perf_counter()
    result = Response()
    try:
        async with asyncio.timeout(deadline):
            async with client.stream("GET", url) as answer:
                result.status = answer.status_code
                result.headers = {name: answer.headers[name] for name in KEPT_HEADERS if name in answer.headers}
                result.content_type = result.headers.get("content-type", "")
                length = result.headers.get("content-length", "")
                result.size = int(length) if length.isdigit() else 0
                if read_all or result.is_html:
                    await _read_body(answer, result, cap)
    except TimeoutError:
        result.error = f"No complete answer within {deadline:g} s (timeout)."
    except BlockedAddress as error:
        result.error = str(error)
    except httpx.TimeoutException:
        result.error = "The server did not answer in time (timeout)."
    except httpx.ConnectError as error:
        result.error = f"Could not connect: {_reason(error)}."
    except (httpx.HTTPError, zlib.error, OSError) as error:
        result.error = f"The answer broke off or was malformed: {_reason(error)}."
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    if result.error:
        result.status = 0
    return result


async def _read_body(answer: httpx.Response, result: Response, cap: int) -> None:
    encoding = result.headers.get("content-encoding", "").strip().lower()
    decoder = zlib.decompressobj(wbits=47) if encoding in ("gzip", "x-gzip", "deflate") else None
    parts, kept, raw_size = [], 0, 0
    async for chunk in answer.aiter_raw():
        raw_size += len(chunk)
        if decoder is not None:
            # max_length bounds what one chunk may expand to: the cap holds inside a chunk too.
            chunk = decoder.decompress(chunk, cap - kept + 1)
        if kept + len(chunk) > cap:
            parts.append(chunk[: cap - kept])
            kept = cap
            result.truncated = True
            break
        parts.append(chunk)
        kept += len(chunk)
        if decoder is not None and decoder.unconsumed_tail:
            result.truncated = True  # more output than the cap allows from what arrived
            break
    result.body = b"".join(parts)
    result.size = result.size or raw_size


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:200]


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, moment - (now if now is not None else time.time()))
