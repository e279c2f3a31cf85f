"""A small stand-in for Ollama's native API, serving the real SmolLM2 model through llama-cpp-python.

Run as a subprocess so a test can kill it:

    python -m tests.support.ollama_server --model FILE --port P [--die-after-tokens N] [--stall]

It answers GET /, /api/version, /api/tags, /api/ps, POST /api/pull (a stub) and POST /api/chat
(NDJSON when streaming, which is Ollama's default; one JSON object otherwise; 404 for an unknown
model), in the shapes the official `ollama` client parses (tests/support/test_ollama_server.py
checks that). GET /test/events tells a test what happened on the server side: chat_started,
chat_finished, client_disconnected (with the wall-clock time `at`), stalled.

Failure modes for tests:
  --die-after-tokens N   exit hard (os._exit) after sending N tokens of a chat: a backend killed mid-reply
  --stall                accept /api/chat but never send anything: a backend that hangs
  --min-tokens N         keep the model from ending a reply before N tokens (so a reply is long enough
                         to be interrupted; the model's words are never asserted anyway)

Generation runs in a worker thread that checks a stop flag between tokens and feeds an asyncio
queue; the consumer sets the flag in its `finally`. The model's lock is only ever taken by worker
threads, never held across a `yield` to the web server, so a client that disconnects mid-stream
cannot deadlock the next request. Each chat response also watches the connection for the client
going away, so a disconnect is recorded when it happens, not at the next token.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import aclosing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from .server import free_port
from .timing import scaled

ROOT = Path(__file__).resolve().parents[2]
MODEL_TAG = "smollm2:latest"
MODEL_NAMES = frozenset({"smollm2", MODEL_TAG})
VERSION = "0.0.0-test"
DIE_EXIT_CODE = 17


def _now_rfc3339(offset: float = 0.0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=offset)
    return moment.isoformat().replace("+00:00", "Z")


def _error(status: int, message: str):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


# --- the model, in worker threads --------------------------------------------------------------


class Generator:
    """llama.cpp's model; one generation at a time (a llama.cpp context is not thread-safe)."""

    def __init__(self, model_file: Path, threads: int, min_tokens: int, max_tokens: int) -> None:
        from llama_cpp import Llama

        self.llama = Llama(model_path=str(model_file), n_ctx=2048, n_threads=threads, verbose=False)
        self.min_tokens = min_tokens
        self.max_tokens = max_tokens
        self.lock = threading.Lock()  # taken by worker threads only
        self.end_tokens = self._end_tokens()

    def _end_tokens(self) -> list[int]:
        ids = {self.llama.token_eos()}
        for text in (b"<|im_end|>", b"<|endoftext|>"):
            with suppress(Exception):
                tokens = self.llama.tokenize(text, add_bos=False, special=True)
                if len(tokens) == 1:
                    ids.add(tokens[0])
        return sorted(token for token in ids if token >= 0)

    def run(self, messages: list[dict], options: dict, emit, stop: threading.Event) -> None:
        """In a worker thread: emit ("token", text) per token, then ("done", reason, count) or ("error", text)."""
        from llama_cpp import LogitsProcessorList

        count, reason = 0, "stop"
        try:
            with self.lock:
                if stop.is_set():
                    return
                prompt_length = None

                def hold_the_end(input_ids, scores):
                    nonlocal prompt_length
                    if prompt_length is None:
                        prompt_length = len(input_ids)
                    if len(input_ids) - prompt_length < self.min_tokens:
                        scores[self.end_tokens] = -1e9
                    return scores

                limit = options.get("num_predict")
                limit = self.max_tokens if not isinstance(limit, int) or limit <= 0 else limit
                extra = {}
                if isinstance(options.get("temperature"), int | float):
                    extra["temperature"] = float(options["temperature"])
                if isinstance(options.get("seed"), int):
                    extra["seed"] = options["seed"]
                chunks = self.llama.create_chat_completion(
                    messages=messages,
                    stream=True,
                    max_tokens=limit,
                    logits_processor=LogitsProcessorList([hold_the_end]) if self.min_tokens else None,
                    **extra,
                )
                for chunk in chunks:
                    if stop.is_set():
                        break
                    choice = chunk["choices"][0]
                    content = choice["delta"].get("content")
                    if content:
                        count += 1
                        emit(("token", content))
                    reason = choice.get("finish_reason") or reason
        except Exception as error:  # reported to the consumer, not lost in the thread
            emit(("error", f"{type(error).__name__}: {error}"))
            return
        emit(("done", reason, count))


class State:
    def __init__(self, generator: Generator | None, model_file: Path, die_after: int, stall: bool) -> None:
        self.generator = generator
        self.model_file = model_file
        self.die_after = die_after
        self.stall = stall
        self.events: list[dict] = []
        self.chats = 0
        self.started = time.time()

    def record(self, event: str, **fields) -> dict:
        entry = {"seq": len(self.events) + 1, "event": event, "at": time.time(), **fields}
        self.events.append(entry)
        print(json.dumps(entry), flush=True)
        return entry

    def model_entry(self) -> dict:
        size = self.model_file.stat().st_size if self.model_file.is_file() else 0
        return {
            "name": MODEL_TAG,
            "model": MODEL_TAG,
            "modified_at": _now_rfc3339(),
            "size": size,
            "digest": hashlib.sha256(f"{self.model_file.name}:{size}".encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "135M",
                "quantization_level": "Q4_1",
            },
        }

    async def tokens(self, messages: list[dict], options: dict):
        """The worker thread's output as an async iterator; closing it stops the thread at its next token."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def emit(item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: nobody is listening any more
                stop.set()

        worker = threading.Thread(target=self.generator.run, args=(messages, options, emit, stop), daemon=True)
        worker.start()
        try:
            while True:
                item = await queue.get()
                yield item
                if item[0] != "token":
                    return
        finally:
            stop.set()


async def _wait_for_disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class ChatReply:
    """The ASGI response to /api/chat: streams (or collects) the reply while watching for the client leaving."""

    def __init__(self, state: State, chat_id: int, model: str, messages: list[dict], options: dict, stream: bool):
        self.state = state
        self.chat_id = chat_id
        self.model = model
        self.messages = messages
        self.options = options
        self.stream = stream
        self.sent_tokens = 0
        self.started = time.perf_counter_ns()

    async def __call__(self, scope, receive, send) -> None:
        watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
        producer = asyncio.ensure_future(self._stall() if self.state.stall else self._produce(send))
        try:
            await asyncio.wait({watcher, producer}, return_when=asyncio.FIRST_COMPLETED)
            if not producer.done():
                self.state.record("client_disconnected", chat=self.chat_id, tokens_sent=self.sent_tokens)
                producer.cancel()  # its `finally` stops the worker thread
            with suppress(asyncio.CancelledError):
                await producer
        finally:
            watcher.cancel()
            producer.cancel()

    async def _stall(self) -> None:
        self.state.record("stalled", chat=self.chat_id)
        await asyncio.sleep(600)  # bounded; the client's timeout ends it long before

    def _line(self, content: str, done: bool, **extra) -> dict:
        return {
            "model": self.model,
            "created_at": _now_rfc3339(),
            "message": {"role": "assistant", "content": content},
            "done": done,
            **extra,
        }

    def _totals(self, reason: str, count: int) -> dict:
        elapsed = time.perf_counter_ns() - self.started
        return {
            "done_reason": reason,
            "total_duration": elapsed,
            "load_duration": 0,
            "prompt_eval_count": 0,
            "prompt_eval_duration": 0,
            "eval_count": count,
            "eval_duration": elapsed,
        }

    async def _die_if_due(self) -> None:
        if self.state.die_after and self.sent_tokens >= self.state.die_after:
            print(f"--die-after-tokens {self.state.die_after}: exiting now", flush=True)
            await asyncio.sleep(0.05)  # let the last line leave the socket
            os._exit(DIE_EXIT_CODE)

    async def _produce(self, send) -> None:
        headers = [(b"content-type", b"application/x-ndjson" if self.stream else b"application/json; charset=utf-8")]
        parts: list[str] = []
        started = False
        async with aclosing(self.state.tokens(self.messages, self.options)) as items:
            async for item in items:
                kind = item[0]
                if kind == "error":
                    body = json.dumps({"error": item[1]}).encode() + b"\n"
                    if started:  # Ollama reports a failure mid-stream as an error line
                        await send({"type": "http.response.body", "body": body, "more_body": False})
                    else:
                        await send({"type": "http.response.start", "status": 500, "headers": headers})
                        await send({"type": "http.response.body", "body": body})
                    self.state.record("chat_failed", chat=self.chat_id, error=item[1])
                    return
                if kind == "token":
                    self.sent_tokens += 1
                    if not self.stream:
                        parts.append(item[1])
                        await self._die_if_due()
                        continue
                    if not started:
                        await send({"type": "http.response.start", "status": 200, "headers": headers})
                        started = True
                    line = json.dumps(self._line(item[1], False)).encode() + b"\n"
                    await send({"type": "http.response.body", "body": line, "more_body": True})
                    await self._die_if_due()
                    continue
                _, reason, count = item
                final = self._line("".join(parts), True, **self._totals(reason, count))
                if self.stream:
                    if not started:
                        await send({"type": "http.response.start", "status": 200, "headers": headers})
                    final["message"]["content"] = ""
                    body = json.dumps(final).encode() + b"\n"
                else:
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    body = json.dumps(final).encode()
                await send({"type": "http.response.body", "body": body, "more_body": False})
                self.state.record("chat_finished", chat=self.chat_id, tokens=count, done_reason=reason)
                return


# --- the web app -------------------------------------------------------------------------------


def create_app(state: State):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    async def read_json(request: Request) -> dict | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def root(request):
        return PlainTextResponse("Ollama is running")

    async def version(request):
        return JSONResponse({"version": VERSION})

    async def tags(request):
        return JSONResponse({"models": [state.model_entry()]})

    async def ps(request):
        if state.generator is None:
            return JSONResponse({"models": []})
        entry = state.model_entry()
        entry.pop("modified_at")
        entry.update(expires_at=_now_rfc3339(300), size_vram=0, context_length=2048)
        return JSONResponse({"models": [entry]})

    async def pull(request):
        body = await read_json(request)
        if body is None:
            return _error(400, "invalid request body")
        name = body.get("model") or body.get("name") or ""
        if name not in MODEL_NAMES:
            return _error(500, "pull model manifest: file does not exist")
        steps = [
            {"status": "pulling manifest"},
            {"status": "verifying sha256 digest"},
            {"status": "writing manifest"},
            {"status": "success"},
        ]
        if body.get("stream", True) is False:
            return JSONResponse(steps[-1])

        async def lines():
            for step in steps:
                yield json.dumps(step) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def chat(request):
        body = await read_json(request)
        if body is None:
            return _error(400, "invalid request body")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return _error(400, "model is required")
        if model not in MODEL_NAMES:
            return _error(404, f'model "{model}" not found, try pulling it first')
        messages = body.get("messages") or []
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return _error(400, "messages must be a list of objects")
        messages = [{"role": str(m.get("role", "user")), "content": str(m.get("content") or "")} for m in messages]
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        stream = body.get("stream", True) is not False  # Ollama streams unless told not to
        state.chats += 1
        state.record("chat_started", chat=state.chats, model=model, stream=stream)
        return ChatReply(state, state.chats, model, messages, options, stream)

    async def events(request):
        since = int(request.query_params.get("since", "0") or 0)
        return JSONResponse({"events": [event for event in state.events if event["seq"] > since]})

    return Starlette(
        routes=[
            Route("/", root, methods=["GET", "HEAD"]),
            Route("/api/version", version),
            Route("/api/tags", tags),
            Route("/api/ps", ps),
            Route("/api/pull", pull, methods=["POST"]),
            Route("/api/chat", chat, methods=["POST"]),
            Route("/test/events", events),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the GGUF file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--die-after-tokens", type=int, default=0)
    parser.add_argument("--stall", action="store_true")
    parser.add_argument("--min-tokens", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args(argv)

    import uvicorn

    # A stalling server never generates: it need not load the model.
    generator = None if args.stall else Generator(args.model, args.threads, args.min_tokens, args.max_tokens)
    state = State(generator, args.model, args.die_after_tokens, args.stall)
    config = uvicorn.Config(
        create_app(state),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    print(f"test Ollama on 127.0.0.1:{args.port} (pid {os.getpid()})", flush=True)
    uvicorn.Server(config).run()


# --- for tests: start it, read its events, stop it ---------------------------------------------


@dataclass
class OllamaTestServer:
    process: subprocess.Popen
    port: int
    log_path: Path
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def events(self, since: int = 0) -> list[dict]:
        response = httpx.get(f"{self.url}/test/events", params={"since": since}, timeout=scaled(5), trust_env=False)
        response.raise_for_status()
        return response.json()["events"]

    def last_seq(self) -> int:
        events = self.events()
        return events[-1]["seq"] if events else 0

    def wait_for_event(self, name: str, since: int = 0, timeout: float = 5.0) -> dict | None:
        deadline = time.monotonic() + scaled(timeout)
        while True:
            found = [event for event in self.events(since) if event["event"] == name]
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def stop(self, kill: bool = False, timeout: float = 10) -> int | None:
        """Stop it by its PID (SIGTERM, or SIGKILL to simulate a crash)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=scaled(timeout))
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=scaled(timeout))
        return self.process.returncode


def start_ollama_server(
    model_file: Path, log_dir: Path, *args: str, port: int | None = None, timeout: float = 60
) -> OllamaTestServer:
    """The test Ollama server on 127.0.0.1 (a free port unless given), ready when /api/version answers
    (it loads the model before listening)."""
    port = port or free_port()
    log_path = Path(log_dir) / f"ollama-test-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.ollama_server",
                "--model",
                str(model_file),
                "--port",
                str(port),
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = OllamaTestServer(process, port, log_path, tuple(args))
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test Ollama server exited with {process.returncode}:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/api/version", timeout=scaled(1), trust_env=False).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop(kill=True)
    raise RuntimeError(f"the test Ollama server did not answer within {scaled(timeout):g}s:\n{server.log()[-3000:]}")


if __name__ == "__main__":
    main()
