"""What can go wrong talking to a model, each with what to tell the user and what to do."""

from __future__ import annotations


class LLMError(Exception):
    """A failure the chat shows as a message: what happened, which URL, and what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        return f"{self.message} {self.hint}".strip()


class BackendUnreachable(LLMError):
    """Nothing answers at the URL (refused, no route, DNS)."""


class BackendTimeout(LLMError):
    """The server took too long to connect or to send the next token."""


class BackendFailed(LLMError):
    """The server answered with an error, or stopped in the middle of the reply."""


class ModelNotFound(LLMError):
    """The server answers but does not have the requested model."""


def ollama_hint(model: str) -> str:
    return f"Start Ollama with `ollama serve`, then `ollama pull {model}`."
