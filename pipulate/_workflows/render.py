"""What a run looks like in the page: the runs list, the step cards, the forms, the results.

htmx only, no inline script: every button is an hx-* request that answers with the run's body
(`#run-<key>`), which replaces the old one. A running job's card updates itself from the page's
WebSocket (progress and streamed text, pushed by the server) and, as a safety net, asks for its
progress every two seconds; when the job ends, its card asks for the whole body again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from fasthtml.common import (
    H2,
    H3,
    A,
    Article,
    Button,
    Div,
    Footer,
    Form,
    Header,
    Input,
    Label,
    NotStr,
    Option,
    P,
    Progress,
    Select,
    Small,
    Span,
    Table,
    Tbody,
    Td,
    Textarea,
    Th,
    Thead,
    Tr,
)

from .._chat.markdown import render_markdown
from .definition import StepSpec
from .engine import RunView
from .fields import FieldSpec
from .render_results import result_view, run_url
from .store import CANCELLED, DONE, FAILED, RUNNING, STALE

log = logging.getLogger("pipulate.workflows")


def body_id(key: str) -> str:
    return f"run-{key}"


# --- the workflow's page: its runs ----------------------------------------------------------


def runs_page(workflow, views: list[RunView]):
    rows = [
        Tr(
            Td(A(view.run.key, href=run_url(workflow.name, view.run.key), hx_get=run_url(workflow.name, view.run.key),
                 hx_target="#app-panel", hx_push_url="true")),
            Td(Span(view.status, cls=f"status {view.status.replace(' ', '-')}")),
            Td(view.last_done.title if view.last_done else "—"),
            Td(_when(view.run.updated_at), title=datetime.fromtimestamp(view.run.updated_at).isoformat(" ", "seconds")),
            Td(
                Button("Run again", cls="secondary", hx_post=run_url(workflow.name, view.run.key, "copy"), hx_target="#app-panel",
                       title="A new run with these inputs"),
                Button("Delete", cls="quiet delete", hx_delete=run_url(workflow.name, view.run.key), hx_target="#app-panel",
                       hx_confirm=f"Delete the run {view.run.key} and its results?"),
                cls="actions",
            ),
        )
        for view in views
    ]
    return (
        H2(workflow.menu_label()),
        P(workflow.description, cls="hint") if workflow.description else None,
        Form(Button("Start a new run"), hx_post=f"/{workflow.name}/runs", hx_target="#app-panel", cls="inline-form"),
        Table(Thead(Tr(Th("Run"), Th("Status"), Th("Last step"), Th("Updated"), Th(""))), Tbody(*rows), cls="runs")
        if rows else P("No runs yet. Start one above.", cls="empty-note"),
    )


def _when(moment: float) -> str:
    seconds = time.time() - moment
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return datetime.fromtimestamp(moment).strftime("%Y-%m-%d")


# --- a run ------------------------------------------------------------------------------------


def run_panel(workflow, view: RunView, editing: str | None = None, errors: dict | None = None, raw: dict | None = None):
    return (
        Div(A("← All runs", href=f"/{workflow.name}", hx_get=f"/{workflow.name}", hx_target="#app-panel", hx_push_url="true"),
            cls="crumbs"),
        H2(workflow.menu_label(), " ", Span(view.run.key, cls="badge")),
        run_body(workflow, view, editing, errors, raw),
    )


def run_body(workflow, view: RunView, editing: str | None = None, errors: dict | None = None, raw: dict | None = None):
    key = view.run.key
    current = view.current
    cards, reached = [], False
    for number, spec in enumerate(view.specs, 1):
        row = view.row(spec.id)
        if reached:
            if row.has_result:  # an old result waiting for the steps before it: shown as stale
                cards.append(step_card(workflow, view, number, spec, False))
            else:
                cards.append(Article(Header(H3(f"{number}. {spec.title}")), cls="step later", id=f"step-{key}-{spec.id}"))
            continue
        is_current = current is not None and spec.id == current.id
        show_form = spec.id == editing or (is_current and row.status not in (RUNNING, FAILED, CANCELLED) and not view.run.finalized)
        cards.append(step_card(workflow, view, number, spec, show_form, errors if show_form else None, raw if show_form else None))
        reached = is_current
    return Div(
        Div(Span(view.status, cls=f"status {view.status.replace(' ', '-')}"), run_actions(workflow, view), cls="run-bar"),
        *cards,
        Div(id=f"refresh-{key}"),  # a finished job's notice lands here and asks for this body again
        id=body_id(key),
        cls="run",
    )


def run_actions(workflow, view: RunView):
    key, name = view.run.key, workflow.name
    buttons = [Button("Run again", cls="secondary", hx_post=run_url(name, key, "copy"), hx_target="#app-panel",
                      title="A new run with these inputs")]
    if view.run.finalized:
        buttons.append(Button("Unfinalize", cls="secondary", hx_post=run_url(name, key, "unfinalize"), hx_target=f"#{body_id(key)}", hx_swap="outerHTML"))
    elif view.status == "complete":
        buttons.append(Button("Finalize", hx_post=run_url(name, key, "finalize"), hx_target=f"#{body_id(key)}", hx_swap="outerHTML",
                              title="Lock this run: no more changes"))
    return Div(*buttons, cls="actions")


def step_card(workflow, view: RunView, number: int, spec: StepSpec, show_form: bool, errors=None, raw=None):
    key, row = view.run.key, view.row(spec.id)
    state = "form" if show_form else row.status
    title = [H3(f"{number}. {spec.title}")]
    can_change = spec.fields and not view.run.finalized and row.status in (DONE, STALE, FAILED, CANCELLED) and not show_form
    if can_change:
        title.append(Button("Change", cls="quiet", hx_get=run_url(workflow.name, key, "steps", spec.id, "edit"),
                            hx_target=f"#step-{key}-{spec.id}", hx_swap="outerHTML", title="Change this step's inputs"))
    parts = [Header(*title)]
    if spec.description and (show_form or row.status != DONE):
        # The step's docstring, as Markdown (sanitized like the chat's): `code` and links read right.
        parts.append(Div(NotStr(render_markdown(spec.description)), cls="hint step-description"))
    if row.status == STALE and not show_form:
        parts.append(P("Stale: a step it depends on changed. It runs again once it has what it needs.", cls="stale-note"))
    if show_form:
        parts.append(step_form(workflow, view, spec, errors or {}, raw))
    elif row.status == RUNNING:
        parts.append(running(workflow, view, spec))
    elif row.status in (FAILED, CANCELLED):
        paused = spec.resumable and row.status == CANCELLED
        message = "Paused. Resume continues where it stopped." if paused else (row.error or row.status.capitalize())
        parts.append(P(message, cls="step-paused" if paused else "step-error", role="alert"))
        parts.append(Button("Resume" if spec.resumable else "Retry", hx_post=run_url(workflow.name, key, "steps", spec.id, "retry"),
                            hx_target=f"#{body_id(key)}", hx_swap="outerHTML"))
    if row.has_result and row.status in (DONE, STALE) and not show_form:
        parts.append(Div(result_view(workflow, key, spec, row), cls="result"))
        if row.model:
            parts.append(Footer(Small(f"Answered by {row.model}. Prompt: ", Span(row.prompt[:300], cls="prompt"))))
    return Article(*parts, cls=f"step {state}", id=f"step-{key}-{spec.id}")


def running(workflow, view: RunView, spec: StepSpec):
    key, row = view.run.key, view.row(spec.id)
    return Div(
        progress_bar(workflow.name, key, spec.id, row.progress_done, row.progress_total, row.progress_note),
        Div(id=f"stream-{key}-{spec.id}", cls="stream") if spec.takes_llm else None,
        Button("Pause" if spec.resumable else "Cancel", cls="secondary", hx_post=run_url(workflow.name, key, "steps", spec.id, "cancel"),
               hx_target=f"#{body_id(key)}", hx_swap="outerHTML"),
        cls="running",
    )


def progress_bar(workflow: str, key: str, step: str, done: int, total: int, note: str, oob: bool = False):
    """Pushed over the socket while the job runs; also asked for every 2 s (a missed push, a
    socket reconnecting after a restart)."""
    counter = f"{done:,} of {total:,}" if total else (f"{done:,} done" if done else "Starting…")
    return Div(
        Progress(value=str(done), max=str(total)) if total else Progress(),
        Span(counter, cls="progress-count"),
        Span(note, cls="progress-note"),
        id=f"progress-{key}-{step}",
        cls="job-progress",
        hx_get=run_url(workflow, key, "steps", step, "progress"),
        hx_trigger="every 2s",
        hx_swap="outerHTML",
        hx_swap_oob="outerHTML" if oob else None,
    )


def job_over(workflow: str, key: str):
    """Tells an open page that a job of this run ended: the page asks for the run's body again."""
    return Div(
        id=f"refresh-{key}",
        hx_get=run_url(workflow, key, "body"),
        hx_trigger="load",
        hx_target=f"#{body_id(key)}",
        hx_swap="outerHTML",
    )


# --- forms ------------------------------------------------------------------------------------


def step_form(workflow, view: RunView, spec: StepSpec, errors: dict, raw: dict | None):
    key, row = view.run.key, view.row(spec.id)
    values = raw if raw is not None else {f.name: f.as_form_value(row.inputs[f.name]) for f in spec.fields if f.name in row.inputs}
    uploads = any(field.kind == "upload" for field in spec.fields)
    return Form(
        *[field_input(field, values.get(field.name), errors.get(field.name), key, spec.id) for field in spec.fields],
        Div(Button("Run this step" if not spec.fields else "Next"),
            Button("Cancel", type="button", cls="secondary", hx_get=run_url(workflow.name, key, "body"),
                   hx_target=f"#{body_id(key)}", hx_swap="outerHTML") if row.status == DONE else None,
            cls="actions"),
        hx_post=run_url(workflow.name, key, "steps", spec.id),
        hx_target=f"#{body_id(key)}",
        hx_swap="outerHTML",
        hx_encoding="multipart/form-data" if uploads else None,
        cls="step-form",
        novalidate=True,  # the server checks every field and says what is wrong, in words
    )


def field_input(field: FieldSpec, value, error: str | None, key: str, step: str):
    element_id = f"field-{key}-{step}-{field.name}"
    shown = value if value is not None else field.as_form_value(field.default)
    common = dict(name=field.name, id=element_id, aria_invalid="true" if error else None,
                  aria_describedby=f"{element_id}-error" if error else None)
    if field.kind == "bool":
        control = Input(type="checkbox", checked=bool(shown) and shown not in ("", "off"), **common)
        return Div(Label(control, " ", field.label), _help(field), _error(element_id, error), cls="field checkbox")
    if field.kind == "choice":
        control = Select(*[Option(label, value=str(getattr(v, "value", v)), selected=str(getattr(v, "value", v)) == str(shown))
                           for v, label in field.choices], **common)
    elif field.kind in ("lines",) or field.multiline:
        control = Textarea(shown or "", rows="5", placeholder=field.placeholder or ("One per line" if field.kind == "lines" else None), **common)
    elif field.kind == "upload":
        control = Input(type="file", **common)
    else:
        kind = {"int": "number", "float": "number", "url": "url"}.get(field.kind, "text")
        limits = {}
        if field.kind in ("int", "float"):
            limits = {"min": _number(field.minimum), "max": _number(field.maximum), "step": "1" if field.kind == "int" else "any"}
        control = Input(type=kind, value=shown or "", placeholder=field.placeholder or None, autocomplete="off", **limits, **common)
    return Div(Label(field.label, fr=element_id), control, _help(field), _error(element_id, error), cls="field")


def _number(value):
    return None if value is None or abs(value) >= 2**53 else str(value)


def _help(field: FieldSpec):
    return Small(field.help, cls="field-help") if field.help else None


def _error(element_id: str, error: str | None):
    return Small(error, id=f"{element_id}-error", cls="field-error", role="alert") if error else None

