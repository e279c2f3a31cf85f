"""The HTML fragments sent over the page socket. htmx's ws extension swaps each by id (oob).

Plain string templates with html.escape, not FT components: a token is sent per fragment, and
building an FT element costs ~15 µs where formatting a string costs ~1 µs.

Buttons inside messages have no text of their own (their label is `aria-label`, drawn by CSS):
a message's text is then exactly what was said, for a reader, a copy and a test alike.
"""

from __future__ import annotations

import re
from html import escape

from .markdown import render_markdown

MESSAGES_ID = "chat-messages"
_CODE_SPAN = re.compile(r"`([^`\n]{1,200})`")


def append_to_conversation(inner_html: str) -> str:
    # The wrapper carries the target id; htmx appends its children (not the wrapper itself).
    return f'<div id="{MESSAGES_ID}" hx-swap-oob="beforeend">{inner_html}</div>'


def conversation_html(inner_html: str) -> str:
    """The whole conversation, replaced (an edit, a retry, a page that reconnects)."""
    return f'<div id="{MESSAGES_ID}" hx-swap-oob="innerHTML">{inner_html}</div>'


def _button(action: str, label: str) -> str:
    return f'<button type="button" class="msg-action" data-chat-action="{action}" aria-label="{label}" title="{label}"></button>'


def message_html(role: str, content: str, message_id: int | None = None, status: str = "complete",
                 replaces: str = "") -> str:
    """A stored message. `replaces`: the id of the element it takes the place of (oob)."""
    body = render_markdown(content) if content and role != "error" else ""
    if role == "error":
        body = f"<p>{sentence_html(content)}</p>"
    if status == "stopped":
        body += '<p class="msg-note">Stopped.</p>'
    elif status == "failed":
        body += '<p class="msg-note">The reply was cut short.</p>'
    attributes = ""
    if message_id is not None:
        attributes += f' id="msg-{message_id}" data-id="{message_id}"'
    if role == "assistant":
        attributes += f' data-source="{escape(content)}"'
        body += f'<div class="msg-actions">{_button("copy", "Copy")}{_button("regenerate", "Regenerate")}</div>'
    elif role == "user" and message_id is not None:
        attributes += f' data-source="{escape(content)}"'
        body += f'<div class="msg-actions">{_button("edit", "Edit and resend")}</div>'
    elif role == "error":
        attributes += ' role="alert"'
        body += f'<div class="msg-actions">{_button("retry", "Retry")}</div>'
    if replaces:
        attributes += f' hx-swap-oob="outerHTML:#{escape(replaces)}"'
    return f'<div class="msg {escape(role)}"{attributes}>{body}</div>'


def sentence_html(text: str) -> str:
    """A message for a person: escaped, with `commands` shown as code rather than backticks."""
    return _CODE_SPAN.sub(r"<code>\1</code>", escape(text))


def pending_reply_html(reply_id: str, text: str = "", replaces: str = "") -> str:
    swap = f' hx-swap-oob="outerHTML:#{escape(replaces)}"' if replaces else ""
    return f'<div class="msg assistant streaming" id="{reply_id}" aria-busy="true"{swap}>{escape(text, quote=False)}</div>'


def token_html(reply_id: str, text: str) -> str:
    return f'<div id="{reply_id}" hx-swap-oob="beforeend">{escape(text, quote=False)}</div>'


def removal_html(element_id: str) -> str:
    return f'<div id="{element_id}" hx-swap-oob="delete"></div>'


def note_html(text: str = "", accepted: bool = False) -> str:
    """The line beside the chat box: why a message was not sent (the box keeps it), or, empty
    and `accepted`, that it was (the page then empties the box)."""
    state = ' data-accepted="1"' if accepted else ""
    role = ' role="alert"' if text else ""
    return f'<div id="chat-note" class="chat-note"{role}{state} hx-swap-oob="true">{sentence_html(text)}</div>'


def error_html(text: str) -> str:
    """A refusal of something the page sent (not a failed reply): shown beside the chat box."""
    return note_html(text)


def notice_html(text: str) -> str:
    return append_to_conversation(message_html("notice", text))


def activity_html(text: str) -> str:
    """An app event (a todo added): one small line apart from the conversation, replaced by the
    next event, never sent to the model. Plain text: a title's `**` stays two asterisks."""
    return (
        '<div id="chat-activity" class="chat-activity" hx-swap-oob="true" role="status">'
        f'<span class="activity-text">{escape(text)}</span>'
        '<button type="button" class="msg-action" data-chat-action="dismiss" aria-label="Dismiss" title="Dismiss">'
        "</button></div>"
    )


def progress_html(element_id: str, label: str, done: int, total: int | None, note: str, first: bool,
                  in_place: bool = False, counter: str | None = None) -> str:
    """A progress bar: appended to the conversation the first time, then replaced by its id
    (`in_place`: just the element, for a page being drawn). `counter` replaces "done/total"."""
    value = f' value="{done}" max="{total}"' if total else ""
    counter = f" {escape(counter)}" if counter is not None else (f" {done}/{total}" if total else "")
    inner = (
        f'<span class="progress-label">{escape(label)}{counter}</span>'
        f'<progress{value} aria-label="{escape(label)}"></progress>'
        f'<span class="progress-note">{escape(note)}</span>'
    )
    element = f'<div class="msg progress" id="{element_id}">{inner}</div>'
    if in_place:
        return element
    if first:
        return append_to_conversation(element)
    return f'<div class="msg progress" id="{element_id}" hx-swap-oob="outerHTML">{inner}</div>'


def streaming_state_html(streaming: bool) -> str:
    """The chat form's state: the Stop button shows while a reply streams."""
    state = "streaming" if streaming else "idle"
    return f'<div id="chat-state" data-state="{state}" hx-swap-oob="true"></div>'
