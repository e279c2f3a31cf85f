"""Talking to a local model: Ollama's native API, any OpenAI-compatible server, or in-process.

Names load on first use: the app starts without httpx until someone chats.
"""

from importlib import import_module

from .errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError, ModelNotFound

_LAZY = {"DEFAULT_LLM_URL": ".connect", "ModelServer": ".connect", "resolve_llm_url": ".connect"}

__all__ = [
    "DEFAULT_LLM_URL",
    "BackendFailed",
    "BackendTimeout",
    "BackendUnreachable",
    "LLMError",
    "ModelNotFound",
    "ModelServer",
    "resolve_llm_url",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
