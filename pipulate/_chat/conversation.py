"""The conversation of each profile: one reply at a time, streamed to every page that shows it.

A reply belongs to its profile, not to the tab that asked: two tabs of one profile see the same
message, the same tokens and the same end, and a reloaded tab shows what arrived so far at once
and keeps receiving the rest. A reply stops when Stop or Clear is pressed (in any tab), when
its profile is deleted, or when no page shows its profile any more: at once when the last tab
closes, or after ATTACH_GRACE seconds when a page was drawn for the profile during the reply
(a reload: the new page is on its way).

Errors are part of the conversation: a reply that fails is kept as an "error" message with its
reason (shown with Retry), so a reload never leaves a question hanging unanswered.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from contextlib import aclosing, suppress
from dataclasses import dataclass, field

from .._errors import DISK_FULL_MESSAGE, UserError, is_disk_full
from .._llm.errors import LLMError
from .fragments import (
    append_to_conversation,
    conversation_html,
    message_html,
    note_html,
    pending_reply_html,
    removal_html,
    streaming_state_html,
    token_html,
)
from .history import ChatHistory

log = logging.getLogger("pipulate.chat")
ATTACH_GRACE = 10.0  # seconds a reply waits for a reloaded page before it stops
SHOWN_MESSAGES = 100
_reply_numbers = itertools.count(1)
STILL_COMING = "A reply is still coming: wait for it, or press Stop."


@dataclass
class Reply:
    profile_id: int
    element_id: str
    replaces: int | None = None  # the message regenerated in place, if any
    parts: list[str] = field(default_factory=list)
    task: asyncio.Task | None = None
    drawn_at: float = float("-inf")  # when a page was last drawn showing this reply

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Conversation:
    """`stream(profile_id, messages)` yields the model's text; `prompt(profile_id, before_id,
    context)` gives the messages to send (system prompt and trimmed history)."""

    def __init__(self, pages, history: ChatHistory, selection: Callable[[], int],
                 stream: Callable, prompt: Callable, progress_html: Callable[[], str] = lambda: "") -> None:
        self.pages = pages
        self.history = history
        self._selection = selection  # the stored profile selection, for pages that did not say
        self._stream = stream
        self._prompt = prompt
        self._progress_html = progress_html
        self._replies: dict[int, Reply] = {}
        pages.on_close(self._page_closed)

    # --- what a page shows --------------------------------------------------------------------

    def streaming(self, profile_id: int) -> Reply | None:
        return self._replies.get(profile_id)

    def render(self, profile_id: int, drawing_page: bool = False) -> str:
        """The conversation as a page shows it, with the reply still streaming in its place."""
        reply = self._replies.get(profile_id)
        if reply is not None and drawing_page:
            reply.drawn_at = time.monotonic()  # a page (a reload?) will attach to it
        parts = []
        for message in self.history.recent(profile_id, limit=SHOWN_MESSAGES):
            if reply is not None and reply.replaces == message.id:
                parts.append(pending_reply_html(reply.element_id, reply.text))
            else:
                parts.append(message_html(message.role, message.content, message.id, message.status))
        if reply is not None and reply.replaces is None:
            parts.append(pending_reply_html(reply.element_id, reply.text))
        return "".join(parts) + self._progress_html()

    async def resync(self, page, profile_id: int, again: bool) -> None:
        """A page said which profile it shows: if a reply streams (it was drawn mid-reply, or
        reloaded) or it reconnected after a gap, send it the conversation as it is now."""
        streaming = profile_id in self._replies
        if streaming or again:
            await page.send(conversation_html(self.render(profile_id)) + streaming_state_html(streaming))

    # --- messages -----------------------------------------------------------------------------

    async def send(self, page, profile_id: int, text: str, edit_id: int | None = None, context: str = "") -> None:
        """Keep the user's message and start the reply; refused (UserError) while one streams."""
        if profile_id in self._replies:
            raise UserError(STILL_COMING)
        if edit_id is not None:
            last_user = self.history.last(profile_id, roles=("user",))
            if last_user is None or last_user.id != edit_id:
                raise UserError("Only your last message can be edited; it was not sent.")
            self.history.delete_from(profile_id, edit_id)
        stored = self.history.add(profile_id, "user", text)
        reply = self._new_reply(profile_id)
        if edit_id is not None:
            shown = conversation_html(self.render(profile_id))
        else:
            shown = append_to_conversation(message_html("user", text, stored.id if stored else None)
                                           + pending_reply_html(reply.element_id))
        await page.send(note_html(accepted=True))  # the sender's box may empty now
        await self._to_profile(profile_id, shown + streaming_state_html(True))
        await self._start(reply, self._prompt(profile_id, None, context))

    async def regenerate(self, profile_id: int, message_id: int, context: str = "") -> None:
        """A finished reply again (in place), or the last answer again (Retry, Regenerate on the
        last reply): what followed the question is replaced by the new reply."""
        if profile_id in self._replies:
            raise UserError(STILL_COMING)
        message = self.history.get(profile_id, message_id)
        if message is None or message.role not in ("assistant", "error"):
            raise UserError("That reply is no longer in the conversation.")
        later = [m for m in self.history.recent(profile_id, limit=SHOWN_MESSAGES * 5) if m.id > message.id]
        if message.role == "assistant" and any(m.role == "user" for m in later):
            reply = self._new_reply(profile_id, replaces=message.id)  # a reply in the middle
            shown = pending_reply_html(reply.element_id, replaces=f"msg-{message.id}")
            await self._to_profile(profile_id, shown + streaming_state_html(True))
            await self._start(reply, self._prompt(profile_id, message.id, context))
            return
        question = next((m for m in reversed(self.history.recent(profile_id, limit=SHOWN_MESSAGES * 5))
                         if m.role == "user" and m.id < message.id), None)
        if question is None:
            raise UserError("There is no question before that reply to answer again.")
        self.history.delete_from(profile_id, question.id + 1)
        reply = self._new_reply(profile_id)
        await self._to_profile(profile_id, conversation_html(self.render(profile_id)) + streaming_state_html(True))
        await self._start(reply, self._prompt(profile_id, None, context))

    async def stop(self, profile_id: int) -> bool:
        """Stop the profile's reply and wait until it has ended (kept, marked stopped)."""
        reply = self._replies.get(profile_id)
        if reply is None or reply.task is None:
            return False
        reply.task.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.shield(reply.task)
        return True

    async def clear(self, profile_id: int) -> None:
        """Clear stops the reply first, so nothing of it is stored after the history is gone."""
        await self.stop(profile_id)
        self.history.clear(profile_id)
        await self._to_profile(profile_id, conversation_html(self._progress_html()) + streaming_state_html(False))

    def cancel_profile(self, profile_id: int) -> None:
        """The profile is being deleted: its reply stops; what still arrives is not stored."""
        reply = self._replies.get(profile_id)
        if reply is not None and reply.task is not None:
            reply.task.cancel()

    # --- the reply ----------------------------------------------------------------------------

    def _new_reply(self, profile_id: int, replaces: int | None = None) -> Reply:
        reply = Reply(profile_id, f"reply-{next(_reply_numbers)}", replaces)
        self._replies[profile_id] = reply  # claimed now: a second message is refused from here on
        return reply

    async def _start(self, reply: Reply, messages: list[dict]) -> None:
        reply.task = asyncio.create_task(self._run(reply, messages), name="reply")
        reply.task.add_done_callback(_log_failure)
        reply.task.add_done_callback(lambda task: self._ended_unstarted(reply))
        # Let the reply start (and enter its try/finally) before the next frame is read: a Stop
        # read in the same breath would otherwise cancel it before it could end properly.
        await asyncio.sleep(0)

    def _ended_unstarted(self, reply: Reply) -> None:
        # A task cancelled before its first step never runs its `finally`: end it here instead,
        # or the pages would show "streaming" forever and the profile refuse every message.
        if self._replies.get(reply.profile_id) is reply:
            asyncio.get_running_loop().create_task(self._finish(reply, "stopped", None))

    async def _run(self, reply: Reply, messages: list[dict]) -> None:
        status, failure = "complete", None
        try:
            async with aclosing(self._stream(reply.profile_id, messages)) as fragments:
                async for fragment in fragments:
                    reply.parts.append(fragment)
                    # Sent as it comes: no buffering holds a token back.
                    await self._to_profile(reply.profile_id, token_html(reply.element_id, fragment))
        except asyncio.CancelledError:
            status = "stopped"
            raise
        except LLMError as error:
            status, failure = "failed", error
        except Exception:  # a bug of ours or a backend's: end like any other failure
            log.exception("the reply failed")
            status, failure = "failed", LLMError("The reply failed on the server; the details are in its log.")
        finally:
            # However the reply ended, every page goes back to idle and keeps what arrived.
            try:
                await self._finish(reply, status, failure)
            finally:
                if self._replies.get(reply.profile_id) is reply:
                    del self._replies[reply.profile_id]

    async def _finish(self, reply: Reply, status: str, failure: LLMError | None) -> None:
        profile_id, text = reply.profile_id, reply.text
        stored = error = None
        try:
            if reply.replaces is not None:
                if text:
                    self.history.replace(profile_id, reply.replaces, text, status)
            elif text:
                # Dropped when the profile was deleted meanwhile (add stores nothing then).
                stored = self.history.add(profile_id, "assistant", text, status)
            if failure is not None and reply.replaces is None:
                error = self.history.add(profile_id, "error", failure.user_text())
        except Exception as problem:  # the disk is full, say: the pages still show the reply
            log.warning("could not store the reply: %s", problem)
            failure = failure or LLMError(DISK_FULL_MESSAGE if is_disk_full(problem) else "The reply could not be saved.")
        if self._replies.get(profile_id) is reply:
            del self._replies[profile_id]  # idle from here: the next message is accepted
        if reply.replaces is not None:
            kept = self.history.get(profile_id, reply.replaces)
            final = message_html("assistant", kept.content, kept.id, kept.status, replaces=reply.element_id) if kept else ""
            if failure is not None:
                final += note_html(failure.user_text())
        else:
            if text or failure is None:  # (stopped before a word: "Stopped." says what happened)
                final = message_html("assistant", text, stored.id if stored else None, status, replaces=reply.element_id)
            else:  # nothing arrived: no empty bubble, just the reason
                final = removal_html(reply.element_id)
            if failure is not None:
                final += append_to_conversation(message_html("error", failure.user_text(), error.id if error else None))
        await self._to_profile(profile_id, final + streaming_state_html(False))

    # --- pages --------------------------------------------------------------------------------

    async def _to_profile(self, profile_id: int, html: str) -> None:
        await self.pages.broadcast_to_profile(profile_id, html, self._selection())

    def _page_closed(self, page) -> None:
        """The last page of a profile closed: its reply stops (closing the tab ends the upstream
        request too), unless a page was drawn for it meanwhile (a reload), which gets a grace."""
        selection = self._selection()
        for profile_id, reply in list(self._replies.items()):
            if self.pages.showing(profile_id, selection) or reply.task is None:
                continue
            if time.monotonic() - reply.drawn_at < ATTACH_GRACE:
                asyncio.get_running_loop().call_later(ATTACH_GRACE, self._stop_if_unseen, reply)
            else:
                reply.task.cancel()

    def _stop_if_unseen(self, reply: Reply) -> None:
        if self._replies.get(reply.profile_id) is reply and not self.pages.showing(reply.profile_id, self._selection()):
            reply.task.cancel()


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the reply task failed", exc_info=task.exception())
