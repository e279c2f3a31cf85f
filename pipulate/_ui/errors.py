"""Every error as a readable message: in the page's message area for htmx, a small page otherwise.

Tracebacks go to the server's log, never to the browser.
"""

from __future__ import annotations

import logging

from fasthtml.common import H1, A, Body, Div, Head, Html, Main, Meta, P, Title, to_xml
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse

from .._errors import UserError

log = logging.getLogger("pipulate")

_MESSAGES = {
    400: "The request was not understood.",
    404: "Not found.",
    405: "That action is not allowed here.",
    413: "The request is too large.",
    500: "Something went wrong on the server; the details are in its log. Nothing else was changed.",
}


def error_response(request, message: str, status_code: int):
    if request.scope.get("type") == "websocket":
        return PlainTextResponse(message, status_code=status_code)
    if "hx-request" in request.headers:
        fragment = Div(message, cls="message error", role="alert")
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return HTMLResponse(to_xml(fragment), status_code=status_code, headers=headers)
    document = Html(
        Head(Meta(charset="utf-8"), Title(f"{status_code} · Pipulate")),
        Body(Main(H1(str(status_code)), P(message), P(A("Back to the app", href="/")))),
        lang="en",
    )
    return HTMLResponse(to_xml(document), status_code=status_code)


async def handle_user_error(request, error: UserError):
    return error_response(request, error.message, error.status_code)


async def handle_http_exception(request, error: HTTPException):
    message = _MESSAGES.get(error.status_code, "The request was refused.")
    detail = str(error.detail or "")
    # FastHTML puts the reason of a 400 (a missing or badly typed field) in the detail.
    if error.status_code == 400 and detail and detail != "Bad Request":
        message = f"{message} {detail}"
    return error_response(request, message, error.status_code)


async def handle_server_error(request, error: Exception):
    log.exception("error while answering %s %s", request.method, request.url.path, exc_info=error)
    return error_response(request, _MESSAGES[500], 500)


EXCEPTION_HANDLERS = {
    UserError: handle_user_error,
    HTTPException: handle_http_exception,
    404: handle_http_exception,
    405: handle_http_exception,
    500: handle_server_error,
}
