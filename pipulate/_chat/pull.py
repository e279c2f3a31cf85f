"""Pulling a model into Ollama from the page: Ollama's /api/pull streams its progress, which shows
as a bar in the chat of every open page; when it is done, every page's picker asks again."""

from __future__ import annotations

import itertools
import logging

from .._llm.errors import LLMError

log = logging.getLogger("pipulate.chat")
_ids = itertools.count(1)


def size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


async def pull_model(core, model_server, name: str, pulling: set) -> None:
    element_id = f"pull-{next(_ids)}"
    label = f"Pulling {name}"
    chat = core.chat
    percent, note = 0, "starting"
    try:
        await chat.show_progress(element_id, label, 0, None, note)
        backend = await model_server.backend()
        if getattr(backend, "kind", "") != "ollama":
            raise LLMError(f"The model server at {model_server.url} is not Ollama, so it cannot pull models.")
        async for line in backend.pull(name):
            total, completed = line.get("total"), line.get("completed")
            status = str(line.get("status", ""))[:120]
            if isinstance(total, int) and total > 0 and isinstance(completed, int):
                percent = min(100, completed * 100 // total)
                note = f"{status}: {size(completed)} of {size(total)}"
            else:
                note = status
            await chat.show_progress(element_id, label, percent, 100, note, counter=f"{percent}%")
        await chat.show_progress(element_id, label, 100, 100, "done: it is in the model list now", finished=True,
                                 counter="100%")
    except LLMError as error:
        await chat.show_progress(element_id, label, percent, 100, f"failed: {error.user_text()}", finished=True,
                                 counter=f"{percent}%")
    except Exception:
        log.exception("pulling %s failed", name)
        await chat.show_progress(element_id, label, percent, 100, "failed; the details are in the server's log",
                                 finished=True, counter=f"{percent}%")
    finally:
        pulling.discard(name)
        model_server.forget()  # the list changed: the next look asks the server again
        await core.signal_pages("models")
