"""The HTML fragments sent over the page socket. htmx's ws extension swaps each by id (oob).

Plain string templates with html.escape, not FT components: a token is sent per fragment, and
building an FT element costs ~15 µs where formatting a string costs ~1 µs.
"""

from __future__ import annotations

from html import escape

from .markdown import render_markdown

MESSAGES_ID = "chat-messages"


def append_to_conversation(inner_html: str) -> str:
    # The wrapper carries the target id; htmx appends its children (not the wrapper itself).
    return f'<div id="{MESSAGES_ID}" hx-swap-oob="beforeend">{inner_html}</div>'


def message_html(role: str, content: str, element_id: str = "", status: str = "complete", oob: bool = False) -> str:
    body = render_markdown(content) if content else ""
    if status == "stopped":
        body += '<p class="msg-note">Stopped.</p>'
    elif status == "failed":
        body += '<p class="msg-note">The reply was cut short.</p>'
    id_attribute = f' id="{escape(element_id)}"' if element_id else ""
    if oob:
        id_attribute += ' hx-swap-oob="outerHTML"'
    return f'<div class="msg {escape(role)}"{id_attribute}>{body}</div>'


def pending_reply_html(reply_id: str) -> str:
    return f'<div class="msg assistant streaming" id="{reply_id}" aria-busy="true"></div>'


def token_html(reply_id: str, text: str) -> str:
    return f'<div id="{reply_id}" hx-swap-oob="beforeend">{escape(text, quote=False)}</div>'


def error_html(text: str) -> str:
    return append_to_conversation(f'<div class="msg error" role="alert">{escape(text)}</div>')


def notice_html(text: str) -> str:
    return append_to_conversation(message_html("notice", text))


def progress_html(element_id: str, label: str, done: int, total: int | None, note: str, first: bool,
                  in_place: bool = False) -> str:
    """A progress bar: appended to the conversation the first time, then replaced by its id
    (`in_place`: just the element, for a page being drawn)."""
    value = f' value="{done}" max="{total}"' if total else ""
    counter = f" {done}/{total}" if total else ""
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
