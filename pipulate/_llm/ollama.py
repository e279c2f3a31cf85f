"""Ollama's native API: /api/chat streams NDJSON, /api/tags lists models, /api/version identifies it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from .._errors import quoted
from ._http import translate_errors
from .errors import BackendFailed, ModelNotFound, ollama_hint


class OllamaBackend:
    kind = "ollama"

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url.rstrip("/")
        self._client = client

    async def version(self) -> str:
        async with translate_errors(self.url, hint=ollama_hint("MODEL")):
            response = await self._client.get(f"{self.url}/api/version")
        response.raise_for_status()
        return response.json().get("version", "")

    async def models(self) -> list[str]:
        async with translate_errors(self.url):
            response = await self._client.get(f"{self.url}/api/tags")
        if response.status_code != 200:
            raise BackendFailed(f"Ollama at {self.url} answered {response.status_code} to /api/tags.")
        try:
            return sorted(str(model["name"]) for model in response.json().get("models", []))
        except (ValueError, TypeError, KeyError, AttributeError):  # not the shape the API documents
            raise BackendFailed(f"Ollama at {self.url} sent a model list this app does not understand.") from None

    async def stream_chat(self, model: str, messages: list[dict], temperature: float | None = None) -> AsyncIterator[str]:
        """Yield the reply's text fragments as they arrive."""
        body = {"model": model, "messages": messages, "stream": True}
        if temperature is not None:
            body["options"] = {"temperature": temperature}
        async with translate_errors(self.url, hint=ollama_hint(model)):
            async with self._client.stream("POST", f"{self.url}/api/chat", json=body) as response:
                if response.status_code != 200:
                    raise _error_from_answer(self.url, model, response.status_code, await response.aread())
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    content, done = self._parse_line(line)
                    if content:
                        yield content
                    if done:
                        return
        raise BackendFailed(f"Ollama at {self.url} stopped in the middle of the reply.", "Check its log; then try again.")


    async def pull(self, model: str) -> AsyncIterator[dict]:
        """Download a model (POST /api/pull): yields Ollama's progress lines as they come,
        {"status", "total", "completed"}; raises BackendFailed with Ollama's reason on failure."""
        async with translate_errors(self.url):
            async with self._client.stream("POST", f"{self.url}/api/pull", json={"model": model, "stream": True}) as response:
                if response.status_code != 200:
                    raise _pull_error(self.url, model, response.status_code, await response.aread())
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    try:
                        data = json.loads(line)
                    except (ValueError, RecursionError):
                        raise BackendFailed(f"Ollama at {self.url} sent something that is not JSON.") from None
                    if not isinstance(data, dict):
                        continue
                    if "error" in data:
                        raise BackendFailed(f"Ollama could not pull {quoted(model)}: {data['error']}")
                    yield data
                    if data.get("status") == "success":
                        return
        raise BackendFailed(f"Ollama at {self.url} stopped before {quoted(model)} was downloaded.", "Try again.")

    def _parse_line(self, line: str) -> tuple[str, bool]:
        """One NDJSON line: (the text it carries, whether the reply is done)."""
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            raise BackendFailed(f"Ollama at {self.url} sent something that is not JSON.") from None
        try:
            if "error" in data:
                raise BackendFailed(f"Ollama at {self.url} reported: {data['error']}")
            content = (data.get("message") or {}).get("content") or ""
            return (content if isinstance(content, str) else ""), bool(data.get("done"))
        except (TypeError, AttributeError):  # valid JSON, but not the shape the API documents
            raise BackendFailed(f"Ollama at {self.url} sent a reply this app does not understand.") from None


def _pull_error(url: str, model: str, status: int, body: bytes):
    try:
        detail = str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError, RecursionError):
        detail = body[:200].decode(errors="replace")
    return BackendFailed(f"Ollama could not pull {quoted(model)}: {detail or f'it answered {status}'}.")


def _error_from_answer(url: str, model: str, status: int, body: bytes):
    try:
        detail = str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError, RecursionError):
        detail = body[:200].decode(errors="replace")
    if status == 404 or "not found" in detail.lower():
        return ModelNotFound(f"Ollama at {url} does not have the model {quoted(model)}.", f"Pull it with `ollama pull {model}`, or pick another model.")
    return BackendFailed(f"Ollama at {url} answered {status}: {detail}")
