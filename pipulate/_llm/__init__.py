"""Talking to a local model: Ollama's native API, any OpenAI-compatible server, or in-process."""

from .connect import DEFAULT_LLM_URL, ModelServer, resolve_llm_url
from .errors import BackendFailed, BackendTimeout, BackendUnreachable, LLMError, ModelNotFound

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
