"""What-if launcher, used only by `chat_relay.py --whatif ...`: `pipulate serve` with one or more
candidate changes to the chat's per-token path, applied at run time (nothing in pipulate/ is
changed), so their effect on the relay can be measured before anyone edits the app.

    BENCH_CHAT_WHATIF=lean-sse,no-deflate python bench/chat_relay_whatif.py serve --port 5001 ...

  lean-sse     OpenAICompatibleBackend.stream_chat reads the SSE body as bytes and splits the lines
               itself (response.aiter_bytes() instead of aiter_lines(), which adds a text decoder
               and a line decoder per chunk); same checks, same errors, same fragments.
  raw-sse      the same, but the stream is read with asyncio's own streams (one plain HTTP/1.1
               connection per reply, chunked decoding by hand, a read timeout per read) instead of
               httpx/httpcore/h11/anyio: the floor of what reading the model's stream can cost.
  sync-normal  SQLite PRAGMA synchronous=NORMAL on the app's connection: storing the user's message
               (before the request to the model starts) no longer waits for an fsync.
  no-deflate   uvicorn without permessage-deflate on WebSockets (ws_per_message_deflate=False):
               no zlib per token frame here, and none in the browser.
  ws=NAME      uvicorn's WebSocket implementation: websockets-sansio (its default here),
               websockets or wsproto.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from urllib.parse import urlsplit

import uvicorn

from pipulate._cli import main
from pipulate._llm import openai as openai_module
from pipulate._llm._http import translate_errors
from pipulate._llm.errors import BackendFailed, ModelNotFound

CHOICES = [c.strip() for c in os.environ.get("BENCH_CHAT_WHATIF", "").split(",") if c.strip()]


async def lean_stream_chat(self, model: str, messages: list[dict]):
    available = await self.models()
    if available and model not in available:
        raise ModelNotFound(
            f"The server at {self.url} does not have the model {model!r}.",
            f"It has: {', '.join(available)}. Pick one of those.",
        )
    body = {"model": model, "messages": messages, "stream": True}
    async with translate_errors(self.url):
        async with self._client.stream(
            "POST", f"{self.url}/v1/chat/completions", json=body, headers={"Accept": "text/event-stream"}
        ) as response:
            if response.status_code != 200:
                detail = (await response.aread())[:300].decode(errors="replace")
                if response.status_code == 404:
                    raise ModelNotFound(f"The server at {self.url} does not have the model {model!r}.", detail)
                raise BackendFailed(f"The server at {self.url} answered {response.status_code}: {detail}")
            pending = b""
            async for chunk in response.aiter_bytes():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not line.startswith(b"data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == b"[DONE]":
                        return
                    try:
                        event = json.loads(payload)
                    except ValueError:
                        raise BackendFailed(f"The server at {self.url} sent an event that is not JSON.") from None
                    if "error" in event:
                        raise BackendFailed(f"The server at {self.url} reported: {event['error']}")
                    for choice in event.get("choices") or ():
                        content = (choice.get("delta") or {}).get("content")
                        if content:
                            yield content
    raise BackendFailed(f"The server at {self.url} stopped in the middle of the reply.", "Check its log; then try again.")


def _events(pending: bytes, chunk: bytes, url: str):
    """Complete SSE lines in `pending + chunk`: (the fragments they carry, done?, what is left)."""
    *lines, pending = (pending + chunk).split(b"\n")
    fragments = []
    for line in lines:
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return fragments, True, b""
        try:
            event = json.loads(payload)
        except ValueError:
            raise BackendFailed(f"The server at {url} sent an event that is not JSON.") from None
        if "error" in event:
            raise BackendFailed(f"The server at {url} reported: {event['error']}")
        for choice in event.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                fragments.append(content)
    return fragments, False, pending


async def raw_stream_chat(self, model: str, messages: list[dict]):
    available = await self.models()
    if available and model not in available:
        raise ModelNotFound(f"The server at {self.url} does not have the model {model!r}.")
    parts = urlsplit(self.url)
    body = json.dumps({"model": model, "messages": messages, "stream": True}).encode()
    read_timeout = self._client.timeout.read or 120
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        writer.write(
            f"POST {parts.path}/v1/chat/completions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nAccept: text/event-stream\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        async with asyncio.timeout(read_timeout):
            head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise BackendFailed(f"The server at {self.url} answered {status}.")
        chunked = b"transfer-encoding: chunked" in head.lower()
        pending = b""
        while True:
            async with asyncio.timeout(read_timeout):
                if chunked:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        break
                    chunk = (await reader.readexactly(size + 2))[:-2]
                else:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
            fragments, done, pending = _events(pending, chunk, self.url)
            for fragment in fragments:
                yield fragment
            if done:
                return
    finally:
        writer.close()
    raise BackendFailed(f"The server at {self.url} stopped in the middle of the reply.")


uvicorn_options = {}
for choice in CHOICES:
    if choice == "lean-sse":
        openai_module.OpenAICompatibleBackend.stream_chat = lean_stream_chat
    elif choice == "raw-sse":
        openai_module.OpenAICompatibleBackend.stream_chat = raw_stream_chat
    elif choice == "sync-normal":
        import pipulate._app as app_module
        import pipulate._database as database_module

        def open_database_normal(path, _open=database_module.open_database):
            db = _open(path)
            db.execute("PRAGMA synchronous = NORMAL")
            return db

        database_module.open_database = app_module.open_database = open_database_normal
    elif choice == "no-deflate":
        uvicorn_options["ws_per_message_deflate"] = False
    elif choice.startswith("ws="):
        uvicorn_options["ws"] = choice[3:]
    else:
        raise SystemExit(f"chat_relay_whatif: unknown choice {choice!r}")

if uvicorn_options:
    _run = uvicorn.run

    def run(*args, **kwargs):
        return _run(*args, **{**kwargs, **uvicorn_options})

    uvicorn.run = run

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
