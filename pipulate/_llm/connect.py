"""Which model server to talk to, and how: the URL, the protocol (detected), the fallback.

Where it points: --llm-url / PIPULATE_LLM_URL, else OLLAMA_HOST, else http://127.0.0.1:11434.
The protocol: native Ollama when /api/version answers, else OpenAI-compatible. When no server
answers and a GGUF model file is configured (with llama-cpp-python installed), the embedded
backend answers in-process.
"""

from __future__ import annotations

import os
from contextlib import aclosing

import httpx

from .._text import SurrogateJoiner
from ._http import make_timeout
from .embedded import EmbeddedBackend, llama_cpp_available
from .errors import BackendTimeout, BackendUnreachable, LLMError
from .ollama import OllamaBackend
from .openai import OpenAICompatibleBackend

DEFAULT_LLM_URL = "http://127.0.0.1:11434"


def resolve_llm_url(configured: str = "", environ=None) -> str:
    environ = os.environ if environ is None else environ
    url = configured or environ.get("PIPULATE_LLM_URL") or environ.get("OLLAMA_HOST") or DEFAULT_LLM_URL
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{_ollama_host_port(url)}"  # OLLAMA_HOST is often just host or host:port
    # Ollama listens on 0.0.0.0 when told to; we reach it on loopback.
    return url.replace("://0.0.0.0", "://127.0.0.1")


def _ollama_host_port(address: str) -> str:
    """host[:port][/path] as Ollama reads OLLAMA_HOST: no host means 127.0.0.1, no port 11434."""
    host_port, slash, path = address.partition("/")
    host, colon, port = host_port.rpartition(":")
    if not colon or "]" in port:  # no port (an IPv6 literal's colons are inside its brackets)
        host, port = host_port, "11434"
    return f"{host or '127.0.0.1'}:{port}{slash}{path}"


class ModelServer:
    """Finds the backend on first use and remembers it; forgets it after a failure, so the next
    message detects again (the server may have been started, stopped or swapped)."""

    def __init__(self, url: str, model_file=None, read_timeout: float = 120.0) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=make_timeout(read_timeout), trust_env=False)
        self.embedded = EmbeddedBackend(model_file) if model_file else None
        self._backend = None

    async def backend(self):
        # The embedded model only stands in while no server answers: look again each time (a
        # refused connection on localhost costs a millisecond), so a server started later is used.
        if self._backend is None or self._backend is self.embedded:
            self._backend = await self._detect()
        return self._backend

    def forget(self) -> None:
        self._backend = None

    async def _detect(self):
        try:
            response = await self.client.get(f"{self.url}/api/version", timeout=2.0)
            if response.status_code == 200 and "version" in _json_or_empty(response):
                return OllamaBackend(self.url, self.client)
            return OpenAICompatibleBackend(self.url, self.client)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            if self.embedded is not None and llama_cpp_available():
                return self.embedded
            raise BackendUnreachable(
                f"No model server answers at {self.url}.",
                "Start Ollama with `ollama serve` (and `ollama pull` a model), "
                "or set --llm-url / PIPULATE_LLM_URL to an OpenAI-compatible server.",
            ) from None
        except httpx.TimeoutException:
            raise BackendTimeout(
                f"The server at {self.url} accepted the connection but did not answer within 2 seconds.",
                "It may be hung or overloaded; check it, then try again.",
            ) from None
        except httpx.HTTPError as error:
            raise LLMError(f"Asking {self.url} what it is failed: {error!r}") from None

    async def models(self) -> list[str]:
        backend = await self.backend()
        try:
            return await backend.models()
        except LLMError:
            self.forget()  # as after a failed chat: the next call detects again
            raise

    async def stream_chat(self, model: str, messages: list[dict], temperature: float | None = None):
        """The reply's text as it arrives. `temperature`: None leaves the model's own default."""
        backend = await self.backend()
        if backend is self.embedded:
            model = backend.model_name
        try:
            # aclosing: when our caller stops early, the backend's stream (and its HTTP request)
            # is closed now, not whenever the garbage collector gets to it.
            # A server's text may hold what cannot be stored or sent (a lone surrogate from a JSON
            # escape, NUL): it is cleaned here, the one door every model's text comes through.
            joiner = SurrogateJoiner()
            async with aclosing(backend.stream_chat(model, messages, temperature)) as fragments:
                async for fragment in fragments:
                    if fragment := joiner.feed(fragment):
                        yield fragment
            if rest := joiner.flush():
                yield rest
        except LLMError:
            self.forget()
            raise

    async def aclose(self) -> None:
        await self.client.aclose()


def _json_or_empty(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
