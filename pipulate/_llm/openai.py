"""OpenAI-compatible servers (llama.cpp, LM Studio, vLLM, Ollama's /v1): SSE from /v1/chat/completions."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx

from .._errors import quoted
from ._http import translate_errors
from .errors import BackendFailed, ModelNotFound
from .plain_http import PlainHTTPStream

_MODELS_CACHE_SECONDS = 30


class OpenAICompatibleBackend:
    kind = "openai"

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url.rstrip("/")
        self._client = client
        self._models: tuple[float, list[str]] | None = None

    async def models(self) -> list[str]:
        if self._models and time.monotonic() - self._models[0] < _MODELS_CACHE_SECONDS:
            return self._models[1]
        async with translate_errors(self.url):
            response = await self._client.get(f"{self.url}/v1/models")
        if response.status_code != 200:
            raise BackendFailed(f"The server at {self.url} answered {response.status_code} to /v1/models.")
        try:
            names = sorted(str(model["id"]) for model in response.json().get("data", []))
        except (ValueError, TypeError, KeyError, AttributeError):  # not the shape the API documents
            raise BackendFailed(f"The server at {self.url} sent a model list this app does not understand.") from None
        self._models = (time.monotonic(), names)
        return names

    async def stream_chat(self, model: str, messages: list[dict], temperature: float | None = None) -> AsyncIterator[str]:
        # Many of these servers answer any model name with whatever they loaded: check it first,
        # so a typo is reported rather than silently answered by another model.
        available = await self.models()
        if available and model not in available:
            raise ModelNotFound(
                f"The server at {self.url} does not have the model {quoted(model)}.",
                f"It has: {', '.join(available)}. Pick one of those.",
            )
        body = {"model": model, "messages": messages, "stream": True}
        if temperature is not None:
            body["temperature"] = temperature
        lines = self._plain_http_lines if self.url.startswith("http://") else self._httpx_lines
        async with aclosing(lines(model, body)) as stream:
            async for line in stream:
                fragments, done = self._parse_event(line)
                for fragment in fragments:
                    yield fragment
                if done:
                    return
        raise BackendFailed(f"The server at {self.url} stopped in the middle of the reply.", "Check its log; then try again.")

    async def _plain_http_lines(self, model: str, body: dict):
        """The SSE lines of a local (plain-http) server, read without httpx: see plain_http.py."""
        read_timeout = self._client.timeout.read or 120.0
        async with PlainHTTPStream(f"{self.url}/v1/chat/completions", body, read_timeout, self.url) as stream:
            if stream.status != 200:
                detail = (await stream.read_some()).decode(errors="replace")
                raise self._answer_error(model, stream.status, detail)
            async for line in stream.lines():
                yield line.decode("utf-8", errors="replace")

    async def _httpx_lines(self, model: str, body: dict):
        async with translate_errors(self.url):
            async with self._client.stream(
                "POST", f"{self.url}/v1/chat/completions", json=body, headers={"Accept": "text/event-stream"}
            ) as response:
                if response.status_code != 200:
                    detail = (await response.aread())[:300].decode(errors="replace")
                    raise self._answer_error(model, response.status_code, detail)
                async for line in response.aiter_lines():
                    yield line

    def _answer_error(self, model: str, status: int, detail: str):
        if status == 404:
            return ModelNotFound(f"The server at {self.url} does not have the model {quoted(model)}.", detail)
        return BackendFailed(f"The server at {self.url} answered {status}: {detail}")

    def _parse_event(self, line: str) -> tuple[list[str], bool]:
        """One SSE line: (the text fragments it carries, whether the stream is done)."""
        if not line.startswith("data:"):
            return [], False  # SSE comments, event names and blank separators
        payload = line[5:].strip()
        if payload == "[DONE]":
            return [], True
        try:
            chunk = json.loads(payload)
        except (ValueError, RecursionError):
            raise BackendFailed(f"The server at {self.url} sent an event that is not JSON.") from None
        try:
            if "error" in chunk:
                raise BackendFailed(f"The server at {self.url} reported: {chunk['error']}")
            fragments = [
                content
                for choice in chunk.get("choices") or ()
                if isinstance(content := (choice.get("delta") or {}).get("content"), str) and content
            ]
        except (TypeError, AttributeError):  # valid JSON, but not the shape the API documents
            raise BackendFailed(f"The server at {self.url} sent an event this app does not understand.") from None
        return fragments, False
