"""Every error as a readable message: in the page's message area for htmx, a small page otherwise.

Tracebacks go to the server's log, never to the browser.
"""

from __future__ import annotations

import logging

from fasthtml.common import H1, A, Body, Div, Head, Html, Main, Meta, NotStr, P, Title, to_xml
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse

from .._chat.fragments import sentence_html
from .._errors import DISK_FULL_MESSAGE, UserError
from .._profiles import PageOutOfDate, page_profile_id

log = logging.getLogger("pipulate")

_MESSAGES = {
    400: "The request was not understood.",
    404: "There is no page at this address.",
    405: "That action is not allowed here.",
    413: "The request is too large.",
    507: DISK_FULL_MESSAGE,
    500: "Something went wrong on the server; the details are in its log. Nothing else was changed.",
}


def error_response(request, message: str, status_code: int):
    if request.scope.get("type") == "websocket":
        return PlainTextResponse(message, status_code=status_code)
    if "hx-request" in request.headers:
        fragment = Div(NotStr(sentence_html(message)), cls="message error", role="alert")
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return HTMLResponse(to_xml(fragment), status_code=status_code, headers=headers)
    return HTMLResponse(to_xml(_document(request, message, status_code)), status_code=status_code)


_HEADINGS = {404: "Page not found", 405: "Not allowed here", 400: "Not understood", 413: "Too large",
             507: "The disk is full", 500: "Something went wrong"}


def _document(request, message: str, status_code: int):
    """The app's own page around the message (brand, menu, a way back); a plain one if even that
    cannot be drawn (the database is gone, say)."""
    heading = _HEADINGS.get(status_code, "Refused")
    core = getattr(getattr(request.scope.get("app"), "state", None), "core", None)
    if core is not None:
        try:
            from .layout import error_page

            return error_page(core, status_code, heading, message)
        except Exception:  # noqa: BLE001 - the plain page below still says what happened
            log.warning("could not draw the error page in the app's frame", exc_info=True)
    return Html(
        Head(Meta(charset="utf-8"), Title(f"{status_code} · {heading}")),
        Body(Main(H1(str(status_code)), P(message), P(A("Back to the app", href="/")))),
        lang="en",
    )


async def handle_user_error(request, error: UserError):
    if isinstance(error, PageOutOfDate) and "hx-request" in request.headers:
        return await _page_out_of_date(request, error)
    return error_response(request, error.message, error.status_code)


async def _page_out_of_date(request, error: PageOutOfDate):
    """The message, and the page redrawn for the profile it should show now."""
    from fasthtml.common import Section

    page_profile_id.set(None)  # render for the stored selection
    panel, *others = await request.app.state.core.page_parts(request)
    fragments = [Div(error.message, cls="message error", role="alert"), Section(panel, id="app-panel", hx_swap_oob="innerHTML"), *others]
    headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    return HTMLResponse(to_xml(tuple(fragments)), status_code=error.status_code, headers=headers)


async def handle_disk_full(request, error: Exception):
    # Not the user's fault and not a bug: one line in the log, a sentence in the page. Reads
    # go on working; writes answer this until there is room again.
    log.warning("a write failed, the disk is full: %s %s", request.method, request.url.path)
    return error_response(request, DISK_FULL_MESSAGE, 507)


async def handle_client_disconnect(request, error: Exception):
    # The client left while sending its body: no one reads the answer, and nothing was done.
    return PlainTextResponse("", status_code=400)


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


def exception_handlers() -> dict:
    import apsw
    from starlette.requests import ClientDisconnect

    return {
        UserError: handle_user_error,
        apsw.FullError: handle_disk_full,
        ClientDisconnect: handle_client_disconnect,
        HTTPException: handle_http_exception,
        404: handle_http_exception,
        405: handle_http_exception,
        500: handle_server_error,
    }
