"""Chat: a panel beside every app that talks to a local model, token by token.

A message arrives on the page's WebSocket ({"action": "chat", "message": ...}), is stored in the
profile's history, and the reply streams back as fragments appended to the reply's element. When
the reply ends it is replaced by its Markdown rendering (escaped first: no HTML from the model or
the user becomes markup). Stop, or closing the tab, cancels the reply task, which closes the
upstream request.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from contextlib import aclosing

from fasthtml.common import H2, Button, Div, Form, Input, NotStr, Option, P, Select, Textarea

from .._chat.fragments import (
    append_to_conversation,
    error_html,
    message_html,
    pending_reply_html,
    streaming_state_html,
    token_html,
)
from .._errors import DISK_FULL_MESSAGE, UserError, is_disk_full
from .._llm.errors import LLMError
from .._plugins import Plugin, route
from .._text import clean_model_text, clean_text

MESSAGE_LIMIT = 4000  # characters; longer messages are refused before reaching the model
MODEL_NAME_LIMIT = 200
MODEL_KEY = "chat_model"
MODEL_GIVEN_NOTE = (
    "{model} was given when the server started (--model or PIPULATE_MODEL): it answers for this run."
    " A model picked here applies when the server runs without it."
)
_reply_numbers = itertools.count(1)
log = logging.getLogger("pipulate.chat")


class ChatApp(Plugin):
    name = "chat"
    label = "Chat"
    in_menu = False  # it sits beside every app instead

    def __init__(self, core) -> None:
        super().__init__(core)
        settings = core.settings
        self._model_server = None
        self._replies: dict[asyncio.Task, int] = {}  # reply task -> the profile it answers
        self.system_prompt = settings.system_prompt or (
            f"You are the assistant inside {settings.app_name}, a local app. Answer briefly and plainly."
        )

    @property
    def model_server(self):
        """The model server client, made on first use (httpx loads only when someone chats)."""
        if self._model_server is None:
            from .._llm.connect import ModelServer, resolve_llm_url

            settings = self.core.settings
            self._model_server = ModelServer(
                resolve_llm_url(settings.llm_url), model_file=settings.model_file, read_timeout=settings.llm_timeout
            )
        return self._model_server

    @property
    def history(self):
        return self.core.chat.history

    def model(self) -> str:
        """The model given for this run of the server (--model / PIPULATE_MODEL), else the one
        picked in the page, else the brand's default. A stored value that is no longer acceptable
        (written by an older version) is ignored rather than breaking every page."""
        if self.core.settings.model_given:
            return self.core.settings.model
        picked = self.store.get(MODEL_KEY)
        if isinstance(picked, str):
            try:
                return clean_text(picked, field="Model", max_length=MODEL_NAME_LIMIT)
            except UserError:
                pass
        return self.core.settings.model

    # --- the panel -------------------------------------------------------------------------

    async def aside(self, request):
        profile = self.core.profiles.selected()
        history = "".join(
            message_html(m.role, m.content, status=m.status) for m in self.history.recent(profile.id, limit=100)
        ) + self.core.chat.live_progress_html()  # bars still moving (a job's), updated in place
        given = self.core.settings.model_given
        # The list comes from the model server; asked for after the page is shown. A model given
        # for this run cannot be changed here, and the page says so.
        picker = {} if given else dict(hx_get="/chat/models", hx_trigger="load", hx_target="#chat-model",
                                       hx_swap="innerHTML")
        return Div(
            Div(
                H2("Chat"),
                Form(
                    Select(
                        Option(self.model(), value=self.model(), selected=True),
                        name="model",
                        id="chat-model",
                        aria_label="Model",
                        disabled=given,
                        **picker,
                    ),
                    hx_post="/chat/model",
                    hx_trigger="change",
                    hx_swap="none",
                ),
                Button(
                    "Clear",
                    cls="quiet",
                    hx_post="/chat/clear",
                    hx_target="#chat-messages",
                    hx_swap="innerHTML",
                    hx_confirm="Clear this profile's chat history?",
                ),
                cls="chat-header",
            ),
            P(MODEL_GIVEN_NOTE.format(model=self.model()), id="chat-model-note", cls="hint") if given else "",
            Div(NotStr(history), id="chat-messages", aria_live="polite"),
            Div(id="chat-state", data_state="idle"),
            Form(
                Input(type="hidden", name="action", value="chat"),
                Textarea(name="message", rows="2", placeholder="Ask anything… (Enter sends, Shift+Enter: new line)",
                         aria_label="Message"),
                Button("Send", id="chat-send"),
                id="chat-form",
                ws_send=True,
            ),
            Form(
                Input(type="hidden", name="action", value="stop"),
                Button("Stop", cls="secondary"),
                id="chat-stop",
                ws_send=True,
            ),
            cls="chat",
        )

    # --- the page socket -------------------------------------------------------------------

    @route.socket("chat")
    async def on_message(self, page, frame):
        text = frame.get("message")
        if not isinstance(text, str) or not text.strip():
            raise UserError("Type a message first.")
        if len(text.strip()) > MESSAGE_LIMIT:
            raise UserError(f"That message is {len(text.strip()):,} characters; the limit is {MESSAGE_LIMIT:,}. It was not sent.")
        text = clean_text(text, field="The message", max_length=MESSAGE_LIMIT, multiline=True)
        if any(task.get_name() == "reply" and not task.done() for task in page.tasks):
            raise UserError("A reply is still coming: wait for it, or press Stop.")
        profile = self.core.profiles.selected()
        self.history.add(profile.id, "user", text)
        reply_id = f"reply-{page.id}-{next(_reply_numbers)}"
        await page.send(
            append_to_conversation(message_html("user", text) + pending_reply_html(reply_id))
            + streaming_state_html(True)
        )
        context = self.page_context(frame)  # e.g. the workflow run the page shows
        task = page.start(self.reply(page, profile.id, reply_id, context), name="reply")
        self._replies[task] = profile.id
        task.add_done_callback(self._replies.pop)
        # Let the reply task start (and enter its try/finally) before the next frame is read:
        # a Stop read in the same breath would otherwise cancel it before it could answer.
        await asyncio.sleep(0)

    @route.socket("stop")
    async def on_stop(self, page, frame):
        if not page.cancel_tasks():
            await page.send(streaming_state_html(False))

    def page_context(self, frame: dict) -> str:
        """What the app knows about the page the message came from (htmx sends its URL)."""
        from urllib.parse import urlsplit

        headers = frame.get("HEADERS")
        url = headers.get("HX-Current-URL") if isinstance(headers, dict) else None
        if not isinstance(url, str):
            return ""
        path = urlsplit(url).path
        for plugin in self.core.plugins.values():
            context = plugin.chat_context(path)
            if context:
                return context
        return ""

    async def reply(self, page, profile_id: int, reply_id: str, context: str = "") -> None:
        """Stream the model's reply into the page; keep what arrived, however it ends."""
        parts: list[str] = []
        status, failure = "complete", None
        system = f"{self.system_prompt}\n\n{context}" if context else self.system_prompt
        messages = self.history.for_model(profile_id, system, self.core.settings.chat_context_tokens)
        try:
            async with aclosing(self.model_server.stream_chat(self.model(), messages)) as fragments:
                async for fragment in fragments:
                    parts.append(fragment)
                    # Sent as it comes: no buffering holds a token back.
                    if not await page.send(token_html(reply_id, fragment)):
                        status = "stopped"  # the tab is gone; closing the stream ends the upstream request
                        break
        except asyncio.CancelledError:
            status = "stopped"
            raise
        except LLMError as error:
            status, failure = "failed", error
        except Exception:  # a bug of ours or a backend's: end like any other failure
            log.exception("the reply failed")
            status, failure = "failed", LLMError("The reply failed on the server; the details are in its log.")
        finally:
            # However the reply ended, the page goes back to idle and keeps what arrived.
            await self._finish_reply(page, profile_id, reply_id, "".join(parts), status, failure)

    async def _finish_reply(self, page, profile_id: int, reply_id: str, text: str, status: str, failure) -> None:
        try:
            if text:
                # Dropped when the profile was deleted meanwhile (add stores nothing then).
                self.history.add(profile_id, "assistant", text, status)
        except Exception as error:  # the disk is full, say: the page still shows the reply
            log.warning("could not store the reply: %s", error)
            failure = failure or LLMError(DISK_FULL_MESSAGE if is_disk_full(error) else "The reply could not be saved.")
        if text or failure is None:
            final = message_html("assistant", text, element_id=reply_id, status=status, oob=True)
        else:  # nothing arrived: no empty bubble, just the error below
            final = f'<div id="{reply_id}" hx-swap-oob="delete"></div>'
        if failure is not None:
            final += error_html(failure.user_text())
        await page.send(final + streaming_state_html(False))

    def on_profile_deleted(self, profile_id: int) -> None:
        # Its replies stop now; anything that still arrives is not stored (history.add drops it).
        for task, owner in list(self._replies.items()):
            if owner == profile_id:
                task.cancel()

    # --- HTTP routes -----------------------------------------------------------------------

    @route.get("/models")
    async def models(self):
        current = self.model()
        try:
            # Some servers (llama.cpp's) hold /v1/models while they generate: don't hang the picker.
            names = await asyncio.wait_for(self.model_server.models(), timeout=3)
        except TimeoutError:
            return Option(current, value=current, selected=True, title="The model server is busy; try again.")
        except LLMError as error:
            return Option(current, value=current, selected=True, title=f"Model server unavailable: {error.user_text()}")
        names = [clean_model_text(name) for name in names if isinstance(name, str)]  # a server's text
        if current not in names:
            names = [current, *names]
        return tuple(Option(name, value=name, selected=name == current) for name in names)

    @route.post("/model")
    async def choose_model(self, model: str = ""):
        if self.core.settings.model_given:
            raise UserError(MODEL_GIVEN_NOTE.format(model=self.model()))
        if not isinstance(model, str) or not model.strip():
            raise UserError("Pick a model from the list.")
        self.store[MODEL_KEY] = clean_text(model, field="The model name", max_length=MODEL_NAME_LIMIT)
        return ""

    @route.post("/clear")
    async def clear(self):
        self.history.clear(self.core.profiles.selected().id)
        return ""

    async def shutdown(self) -> None:
        if self._model_server is not None:
            await self._model_server.aclose()
