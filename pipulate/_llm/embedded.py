"""The embedded default: a GGUF model run in-process by llama-cpp-python (the `local-llm` extra).

Generation runs in a worker thread that checks a stop flag between tokens and feeds an asyncio
queue. The consumer sets the flag in its `finally`, so a stopped reply or a closed tab frees the
model at the next token. One generation at a time: a llama.cpp context is not thread-safe.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from .errors import BackendFailed, BackendUnreachable, ModelNotFound

_END = object()


def llama_cpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


class EmbeddedBackend:
    kind = "embedded"

    def __init__(self, model_file: Path, threads: int = 2, context_tokens: int = 2048, max_reply_tokens: int = 512) -> None:
        self.model_file = Path(model_file)
        self.url = f"embedded:{self.model_file.name}"
        self._threads = threads
        self._context_tokens = context_tokens
        self._max_reply_tokens = max_reply_tokens
        self._llama = None
        self._lock = asyncio.Lock()

    @property
    def model_name(self) -> str:
        return self.model_file.stem

    async def models(self) -> list[str]:
        return [self.model_name]

    def _load(self):
        if self._llama is None:
            if not llama_cpp_available():
                from .._install import install_command

                raise BackendUnreachable(
                    "The embedded model needs llama-cpp-python.", f"Install it with `{install_command('local-llm')}`."
                )
            if not self.model_file.is_file():
                raise ModelNotFound(f"The model file {self.model_file} does not exist.", "See the README: Local model.")
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=str(self.model_file), n_ctx=self._context_tokens, n_threads=self._threads, verbose=False
            )
        return self._llama

    async def stream_chat(self, model: str, messages: list[dict], temperature: float | None = None) -> AsyncIterator[str]:
        options = {} if temperature is None else {"temperature": temperature}
        loop = asyncio.get_running_loop()
        async with self._lock:
            llama = await loop.run_in_executor(None, self._load)
            queue: asyncio.Queue = asyncio.Queue()
            stop = threading.Event()

            def generate():
                try:
                    chunks = llama.create_chat_completion(messages=messages, stream=True, max_tokens=self._max_reply_tokens,
                                                         **options)
                    for chunk in chunks:
                        if stop.is_set():
                            break
                        content = chunk["choices"][0]["delta"].get("content")
                        if content:
                            loop.call_soon_threadsafe(queue.put_nowait, content)
                except Exception as error:  # reported to the consumer, not lost in the thread
                    loop.call_soon_threadsafe(queue.put_nowait, BackendFailed(f"The embedded model failed: {error}"))
                finally:
                    loop.call_soon_threadsafe(queue.put_nowait, _END)

            worker = loop.run_in_executor(None, generate)
            try:
                while (item := await queue.get()) is not _END:
                    if isinstance(item, Exception):
                        raise item
                    yield item
            finally:
                stop.set()
                # Keep the lock until the thread has let go of the model, even if cancelled again.
                cancelled = False
                while not worker.done():
                    try:
                        await asyncio.shield(worker)
                    except asyncio.CancelledError:
                        cancelled = True
                if cancelled:
                    raise asyncio.CancelledError
