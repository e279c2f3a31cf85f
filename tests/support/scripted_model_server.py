"""An OpenAI-compatible model server whose replies a test scripts: for protocol edge cases that a
real model cannot be made to produce (a lone surrogate in a JSON escape, a malformed event, an
exact echo of hostile Markdown, a reply slow enough to delete its profile mid-way).

    with ScriptedModelServer(lambda messages: ["Hello", " \\ud800", " world"]) as server:
        ...  # pipulate serve --llm-url server.url --model scripted

Each fragment is sent as one SSE event (`data: {"choices":[{"delta":{"content": ...}}]}`, the
JSON made by json.dumps, so a lone surrogate travels as the escape "\\ud800"); bytes are sent as
they are, for events that are not what the API documents. `received` keeps every request body
(so the model each request named); `models` is what /v1/models lists (the app refuses others).
It runs uvicorn in a thread of the test process, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable

from .server import free_port
from .timing import scaled

MODEL = "scripted"


def echo(messages: list[dict]) -> list[str]:
    """Reply with the last user message, word by word: the model says exactly what it was told."""
    text = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return [text[i:i + 7] for i in range(0, len(text), 7)] or [""]


class ScriptedModelServer:
    def __init__(
        self, reply: Callable[[list[dict]], list] = echo, delay: float = 0.0, models: tuple[str, ...] = (MODEL,)
    ) -> None:
        self.reply = reply
        self.delay = delay  # seconds between fragments
        self.models = models
        self.port = free_port()
        self.received: list[dict] = []
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ScriptedModelServer":
        import uvicorn

        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + scaled(10)
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the scripted model server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=scaled(5))

    def _app(self):
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, Response, StreamingResponse
        from starlette.routing import Route

        async def models(request):
            return JSONResponse({"object": "list", "data": [{"id": name, "object": "model"} for name in self.models]})

        async def completions(request):
            body = await request.json()
            self.received.append(body)
            fragments = self.reply(body["messages"])

            async def events():
                for fragment in fragments:
                    if isinstance(fragment, bytes):
                        yield fragment
                    else:
                        yield b"data: " + json.dumps({"choices": [{"delta": {"content": fragment}}]}).encode() + b"\n\n"
                    if self.delay:
                        await asyncio.sleep(self.delay)
                yield b"data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        async def not_ollama(request):
            return Response("not found", status_code=404)

        return Starlette(routes=[
            Route("/v1/models", models),
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/api/version", not_ollama),
        ])
