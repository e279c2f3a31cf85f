"""Chat: a panel beside every app that talks to a local model, token by token.

A message arrives on the page's WebSocket ({"action": "chat", "message": ...}), is stored in the
profile's history, and the reply streams to every page that shows the profile (the conversation
belongs to the profile: pipulate/_chat/conversation.py). When the reply ends it is replaced by
its Markdown rendering (escaped first: no HTML from the model or the user becomes markup).

Which model answers, first match wins: the one given for this run of the server (--model,
PIPULATE_MODEL), the profile's (picked in the chat or on the Settings page), one picked by an
older version (kept in the store), the brand's default.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, urlsplit

from starlette.responses import Response

from .._chat.conversation import Conversation
from .._chat.fragments import streaming_state_html
from .._chat.model_state import model_state
from .._chat.panel import chat_panel, model_options, pull_form, status_line
from .._config import slugify
from .._errors import UserError, parse_id
from .._plugins import Plugin, route
from .._text import clean_text

MESSAGE_LIMIT = 4000  # characters; longer messages are refused before reaching the model
MODEL_NAME_LIMIT = 200
MODEL_KEY = "chat_model"  # where versions before per-profile settings kept the picked model
MODEL_GIVEN_NOTE = (
    "{model} was given when the server started (--model or PIPULATE_MODEL): it answers for this run."
    " A model picked here applies when the server runs without it."
)
PULLABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}")
log = logging.getLogger("pipulate.chat")


class ChatApp(Plugin):
    name = "chat"
    label = "Chat"
    in_menu = False  # it sits beside every app instead

    def __init__(self, core) -> None:
        super().__init__(core)
        self._model_server = None
        self._pulls: set = set()
        self._shown_kind = ""  # what the pages were last told answers (ollama, openai, embedded, none)
        self.conversation = Conversation(
            core.pages, core.chat.history, lambda: core.profiles.stored_selection().id,
            stream=self._stream, prompt=self._prompt, progress_html=core.chat.live_progress_html,
        )
        core.chat.conversation = self.conversation

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

    def model(self, profile_id: int | None = None) -> str:
        """The model that answers for the profile (the page's, when not given); see the module."""
        if self.core.settings.model_given:
            return self.core.settings.model
        if profile_id is None:
            profile_id = self.core.profiles.selected().id
        picked = self.core.profile_settings.get(profile_id).model
        if picked:
            return picked
        legacy = self.store.get(MODEL_KEY)
        if isinstance(legacy, str):
            try:
                return clean_text(legacy, field="Model", max_length=MODEL_NAME_LIMIT)
            except UserError:
                pass
        return self.core.settings.model

    def system_prompt(self, profile_id: int) -> str:
        settings = self.core.settings
        return self.core.profile_settings.get(profile_id).system_prompt or settings.system_prompt or (
            f"You are the assistant inside {settings.app_name}, a local app. Answer briefly and plainly."
        )

    # --- what the conversation asks of the chat -------------------------------------------

    def _prompt(self, profile_id: int, before_id: int | None, context: str) -> list[dict]:
        system = self.system_prompt(profile_id)
        system = f"{system}\n\n{context}" if context else system
        budget = self.core.profile_settings.get(profile_id).context_tokens or self.core.settings.chat_context_tokens
        return self.history.for_model(profile_id, system, budget, before_id=before_id)

    async def _stream(self, profile_id: int, messages: list[dict]):
        temperature = self.core.profile_settings.get(profile_id).temperature
        try:
            async for fragment in self.model_server.stream_chat(self.model(profile_id), messages, temperature):
                yield fragment
        except Exception:
            # The server may have gone or changed: every page of the profile asks again what
            # answers, so the picker and the status line never show a stale name.
            await self.core.signal_pages("models", profile_id)
            raise
        if self._shown_kind and self._answering_kind() != self._shown_kind:  # a server started since pages asked
            await self.core.signal_pages("models", profile_id)

    def _answering_kind(self) -> str:
        backend = self.model_server._backend
        if backend is None:
            return "none"
        return "embedded" if backend is self.model_server.embedded else backend.kind

    # --- the panel -------------------------------------------------------------------------

    async def aside(self, request):
        profile = self.core.profiles.selected()
        given = MODEL_GIVEN_NOTE.format(model=self.model()) if self.core.settings.model_given else ""
        conversation = self.conversation.render(profile.id, drawing_page=True)
        return chat_panel(conversation, self.conversation.streaming(profile.id) is not None, self.model(profile.id), given)

    # --- the page socket -------------------------------------------------------------------

    @route.socket("chat")
    async def on_message(self, page, frame):
        text = frame.get("message")
        if not isinstance(text, str) or not text.strip():
            raise UserError("Type a message first.")
        if len(text.strip()) > MESSAGE_LIMIT:
            raise UserError(f"That message is {len(text.strip()):,} characters; the limit is {MESSAGE_LIMIT:,}. It was not sent.")
        text = clean_text(text, field="The message", max_length=MESSAGE_LIMIT, multiline=True)
        edit = frame.get("edit")
        edit_id = parse_id(edit, field="message") if edit not in (None, "") else None
        profile = self.core.profiles.selected()
        page.profile_id = profile.id  # the page shows the conversation it writes to
        await self.conversation.send(page, profile.id, text, edit_id, self.page_context(frame))

    @route.socket("stop")
    async def on_stop(self, page, frame):
        if not await self.conversation.stop(self.core.profiles.selected().id):
            await page.send(streaming_state_html(False))

    @route.socket("regenerate")
    async def on_regenerate(self, page, frame):
        """Regenerate a reply, or Retry a failed one (the same: answer that question again)."""
        message_id = parse_id(frame.get("message_id"), field="message")
        await self.conversation.regenerate(self.core.profiles.selected().id, message_id, self.page_context(frame))

    @route.socket("hello")
    async def on_hello(self, page, frame):
        """A page says which profile it shows (the socket noted it): it is sent the reply that
        streams for it, or, reconnecting (`again`), the conversation as it is now."""
        token = frame.get("page")
        if isinstance(token, str) and len(token) <= 40:
            page.token = token
        profile = self.core.profiles.selected()
        await self.conversation.resync(page, profile.id, again=bool(frame.get("again")))

    def page_context(self, frame: dict) -> str:
        """What the app knows about the page the message came from (htmx sends its URL)."""
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

    def on_profile_deleted(self, profile_id: int) -> None:
        # Its reply stops now; anything that still arrives is not stored (history.add drops it).
        self.conversation.cancel_profile(profile_id)

    # --- HTTP routes -----------------------------------------------------------------------

    @route.get("/status")
    async def status(self):
        """The status line, the picker's entries and the pull form, each swapped by id."""
        state = await model_state(self.model_server, self.model())
        self._shown_kind = state.kind
        pullable = state.can_pull and not self.core.settings.model_given
        parts = [status_line(state.status, state.kind), pull_form(pullable, oob=True)]
        if not self.core.settings.model_given:
            parts.append(model_options(state.models, state.answering))
        return tuple(parts)

    @route.post("/model")
    async def choose_model(self, model: str = ""):
        if self.core.settings.model_given:
            raise UserError(MODEL_GIVEN_NOTE.format(model=self.model()))
        if not isinstance(model, str) or not model.strip():
            raise UserError("Pick a model from the list.")
        profile_id = self.core.profiles.selected().id
        self.core.profile_settings.update(profile_id, model=model)
        await self.core.signal_pages("models", profile_id)  # the status line and other tabs follow
        return ""

    @route.post("/clear")
    async def clear(self):
        await self.conversation.clear(self.core.profiles.selected().id)
        return ""

    @route.get("/export")
    async def export(self):
        profile = self.core.profiles.selected()
        title = f"{self.core.settings.app_name} chat · {profile.name}"
        name = f"chat-{slugify(profile.name)}.md"
        return Response(
            self.history.as_markdown(profile.id, title), media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
        )

    @route.post("/pull")
    async def pull(self, model: str = ""):
        """Download a model into Ollama; its progress shows in the chat of every page."""
        from .._chat.pull import pull_model

        name = clean_text(model, field="The model name", max_length=MODEL_NAME_LIMIT)
        if not PULLABLE.fullmatch(name):
            raise UserError("A model name looks like llama3.2 or qwen2.5-coder:7b (letters, digits and . _ : / @ + -).")
        if name in self._pulls:
            raise UserError(f"{name} is already being pulled; its progress is in the chat.")
        self._pulls.add(name)
        self.core.start_task(pull_model(self.core, self.model_server, name, self._pulls), f"pull {name}")
        return ""

    async def shutdown(self) -> None:
        if self._model_server is not None:
            await self._model_server.aclose()
