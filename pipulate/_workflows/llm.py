"""`llm`: a step's way to ask the local model, the notebook's "ask the LLM" cell ported.

    @step("Summary")
    def summary(crawl: list[dict], llm: LLM) -> str:
        return llm.ask(f"Summarise these pages for a manager: {crawl[:20]}")

The answer streams into the step's card as it comes, becomes the step's result when the function
returns it, and the step's row records which model answered which prompt. The model is the one
the chat uses (Ollama, any OpenAI-compatible server, or the embedded model): nothing leaves the
machine. A step that takes `llm` runs in the background, like a job, so a long answer never
holds a request open and survives a closed tab.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing


class LLM:
    def __init__(self, url: str, model: str, emit: Callable[[str], None], model_file=None, read_timeout: float = 120.0) -> None:
        self.url = url
        self.model = model
        self.model_file = model_file
        self.read_timeout = read_timeout
        self._emit = emit
        self.calls: list[tuple[str, str]] = []  # (model, prompt) of each question asked

    def ask(self, prompt: str, *, system: str | None = None) -> str:
        """The model's whole answer to `prompt` (streamed into the step's card as it comes)."""
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": str(prompt)})
        self.calls.append((self.model, str(prompt)))
        return asyncio.run(self._answer(messages))

    async def _answer(self, messages: list[dict]) -> str:
        from .._llm.connect import ModelServer

        server = ModelServer(self.url, model_file=self.model_file, read_timeout=self.read_timeout)
        parts: list[str] = []
        try:
            async with aclosing(server.stream_chat(self.model, messages)) as fragments:
                async for fragment in fragments:
                    parts.append(fragment)
                    self._emit(fragment)
        finally:
            await server.aclose()
        return "".join(parts)
