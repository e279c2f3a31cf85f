"""Which model server is connected and which model will answer, in words for the page.

The chat's picker shows the model that will actually answer: with no server but a model file,
the embedded model; with nothing at all, "no model server", never a stale name. A line under
the picker says which server (kind and URL) and which model are in use.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .._llm.errors import LLMError
from .._text import clean_model_text

NO_SERVER = "no model server"


@dataclass(frozen=True)
class ModelState:
    kind: str  # "ollama", "openai", "embedded", "none" (nothing answers), "busy", "error"
    answering: str  # the model that will answer (NO_SERVER when none can)
    models: list[str] = field(default_factory=list)  # what the picker offers
    status: str = ""  # one line: the server and the model
    can_pull: bool = False  # Ollama: a named model can be downloaded from the page


async def model_state(model_server, chosen: str) -> ModelState:
    """Ask the model server (detecting it again if need be) what it is and what it has."""
    url = model_server.url
    try:
        backend = await model_server.backend()
    except LLMError as error:
        return ModelState("none", NO_SERVER, [NO_SERVER], error.user_text())
    if backend is model_server.embedded:
        name = backend.model_name
        return ModelState("embedded", name, [name], f"No server at {url}: the embedded model {backend.model_file.name} answers.")
    try:
        # Some servers (llama.cpp's) hold /v1/models while they generate: don't hang the picker.
        names = await asyncio.wait_for(model_server.models(), timeout=3)
    except TimeoutError:
        return ModelState("busy", chosen, [chosen], f"The model server at {url} is busy; the list will come later. Model: {chosen}.")
    except LLMError as error:
        return ModelState("error", chosen, [chosen], f"Model server unavailable: {error.user_text()}")
    names = [clean_model_text(name) for name in names if isinstance(name, str)]  # a server's text
    kind = "ollama" if backend.kind == "ollama" else "openai"
    server = f"Ollama at {url}" if kind == "ollama" else f"OpenAI-compatible server at {url}"
    if chosen in names:
        status = f"{server} · {chosen}"
    else:
        status = f"{server}, which does not have {chosen}" + (": pull it below, or pick another." if kind == "ollama" else ".")
        names = [chosen, *names]
    return ModelState(kind, chosen, names, status, can_pull=kind == "ollama")
