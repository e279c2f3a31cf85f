"""The chat panel beside every app: header (model picker, Export, Clear), the model's status line,
the activity line, the conversation, and the message box with the line that says why a message
was not sent (the box keeps the text)."""

from __future__ import annotations

from fasthtml.common import H2, A, Button, Div, Form, Input, Label, NotStr, Option, P, Select, Span, Textarea

from .fragments import sentence_html

MESSAGE_PLACEHOLDER = "Ask anything… (Enter sends, Shift+Enter: new line)"


def chat_panel(conversation: str, streaming: bool, model: str, given_note: str = "") -> Div:
    given = bool(given_note)
    return Div(
        Div(
            H2("Chat"),
            Form(
                # A model given for this run cannot be changed here, and the page says so.
                Select(Option(model, value=model, selected=True), name="model", id="chat-model", aria_label="Model",
                       disabled=given),
                hx_post="/chat/model",
                hx_trigger="change",
                hx_swap="none",
            ),
            A("Export", href="/chat/export", cls="quiet-link", title="Download this conversation as Markdown",
              download=True),
            Button("Clear", cls="quiet", hx_post="/chat/clear", hx_target="#chat-messages", hx_swap="innerHTML",
                   hx_confirm="Clear this profile's chat history?"),
            cls="chat-header",
        ),
        P(given_note, id="chat-model-note", cls="hint") if given else "",
        # Which server and model: asked for once the page is shown (the answer also fills the
        # picker with what the server has, and shows the pull form for Ollama).
        P("", id="chat-model-status", cls="hint model-status", aria_live="polite", hx_get="/chat/status",
          hx_trigger="load", hx_swap="none"),
        pull_form(visible=False),
        Div(id="chat-activity", cls="chat-activity", hidden=True),
        Div(NotStr(conversation), id="chat-messages", aria_live="polite"),
        Div(id="chat-state", data_state="streaming" if streaming else "idle"),
        Div(id="chat-note", cls="chat-note"),
        Form(
            Input(type="hidden", name="action", value="chat"),
            Input(type="hidden", name="edit", value="", id="chat-edit"),
            Textarea(name="message", rows="2", placeholder=MESSAGE_PLACEHOLDER, aria_label="Message"),
            Button("Send", id="chat-send"),
            id="chat-form",
            ws_send=True,
        ),
        Form(Input(type="hidden", name="action", value="stop"), Button("Stop", cls="secondary"), id="chat-stop",
             ws_send=True),
        # What the buttons inside messages (Regenerate, Retry) and the page itself (hello) send:
        # pipulate.js fills this form and submits it, so it travels like every other frame.
        Form(Input(type="hidden", name="action", value=""), Input(type="hidden", name="message_id", value=""),
             Input(type="hidden", name="again", value=""), Input(type="hidden", name="page", value=""), id="chat-act",
             ws_send=True, hidden=True),
        cls="chat",
    )


def pull_form(visible: bool, oob: bool = False) -> Form:
    """Ollama only: download a model by name; its progress shows in the conversation."""
    return Form(
        Label(Span("Get a model"), Input(name="model", placeholder="e.g. llama3.2", aria_label="Model to pull",
                                         autocomplete="off", required=True)),
        Button("Pull", cls="secondary"),
        id="chat-pull",
        cls="inline-form pull-form",
        hidden=not visible,
        hx_post="/chat/pull",
        hx_swap="none",
        data_reset_on_success=True,
        hx_swap_oob="true" if oob else None,
    )


def model_options(names: list[str], answering: str) -> Select:
    """The picker's entries (swapped into it): what the server has, the answering one selected;
    with no server, just the embedded model or "no model server"."""
    options = [Option(name, value=name, selected=name == answering) for name in names]
    return Select(*options, id="chat-model", hx_swap_oob="innerHTML")


def status_line(text: str, kind: str) -> P:
    return P(NotStr(sentence_html(text)), id="chat-model-status", cls=f"hint model-status {kind}", aria_live="polite", data_kind=kind,
             hx_swap_oob="true")
