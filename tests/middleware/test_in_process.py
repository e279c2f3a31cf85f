"""The middleware driven in process as plain ASGI (fast; scripts/mutate runs these): the security
headers, the page's profile header, the exact refusals of the Host/Origin guard, and the 413.
The same guards through the real server: test_security_headers.py, test_local_only_over_sockets.py."""

from __future__ import annotations

import asyncio

import pytest

from pipulate._middleware import (
    LocalOnlyMiddleware,
    PageProfileMiddleware,
    RequestSizeLimitMiddleware,
    SecurityHeadersMiddleware,
)
from pipulate._middleware.local_only import refusal_for_host
from pipulate._middleware.security_headers import CONTENT_SECURITY_POLICY
from pipulate._profiles import page_profile_id
from tests.support.asgi import Recorder, call, http_scope

# --- security headers --------------------------------------------------------------------------------


def test_security_headers_are_added_to_the_apps_own():
    answer = call(SecurityHeadersMiddleware(Recorder()), http_scope({}, method="GET"))
    start = next(m for m in answer.messages if m["type"] == "http.response.start")
    assert start["headers"] == [
        (b"content-type", b"text/plain"),
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]
    body = [m for m in answer.messages if m["type"] == "http.response.body"]
    assert body == [{"type": "http.response.body", "body": b""}]  # only the start is changed


def test_a_start_without_headers_gets_them_too():
    async def bare(scope, receive, send):
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})

    answer = call(SecurityHeadersMiddleware(bare), http_scope({}, method="GET"))
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_other_scopes_pass_through_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append((scope, receive, send))

    receive, send = object(), object()
    for middleware in (SecurityHeadersMiddleware(app), PageProfileMiddleware(app)):
        asyncio.run(middleware({"type": "websocket", "headers": []}, receive, send))
    assert [(r, s) for _, r, s in seen] == [(receive, send), (receive, send)]


# --- the page's profile --------------------------------------------------------------------------------


def shown_profile(headers) -> object:
    seen = []

    async def app(scope, receive, send):
        seen.append(page_profile_id.get())

    asyncio.run(PageProfileMiddleware(app)(http_scope(headers, method="GET"), None, None))
    assert page_profile_id.get() is None  # reset after the request
    return seen[0]


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ([], None),
        ([("X-Pipulate-Profile", "7")], 7),
        ([("x-pipulate-profile", " 12 ")], 12),
        ([("X-Pipulate-Profile", "abc")], 0),
        ([("X-Pipulate-Profile", "\xe9")], 0),  # latin-1, as headers are
        ([("X-Pipulate-Profile", "7"), ("X-Pipulate-Profile", "7")], 0),  # two answers: refused later
        ([("X-Other", "7")], None),
    ],
)
def test_the_page_profile_header(headers, shown):
    assert shown_profile(headers) == shown


# --- the Host/Origin guard's refusals ---------------------------------------------------------------------


def refused(headers, method="POST", **options):
    recorder = Recorder()
    answer = call(LocalOnlyMiddleware(recorder, **options), http_scope(headers, method=method))
    return recorder, answer


def test_a_refusal_is_plain_text_with_its_length():
    recorder, answer = refused({"Host": "evil.example"})
    body = refusal_for_host("evil.example").encode()
    assert body.startswith(b"Refused: the Host header names evil.example, which is not one of this app's own names")
    assert b'allowed_hosts = ["evil.example"]' in body
    assert (answer.status, answer.body) == (400, body)
    assert answer.headers == {"content-type": "text/plain; charset=utf-8", "content-length": str(len(body))}
    assert recorder.scopes == []


def test_without_a_host_header_the_request_is_refused():
    recorder, answer = refused({})
    assert answer.status == 400 and recorder.scopes == []


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        ([("Host", "127.0.0.1:5001"), ("HOST", "127.0.0.1:5001")], "Host"),
        ([("Host", "127.0.0.1:5001"), ("Origin", "http://127.0.0.1:5001"), ("origin", "http://127.0.0.1:5001")], "Origin"),
    ],
)
def test_two_host_or_origin_headers_are_refused_and_named(headers, name):
    recorder, answer = refused(headers)
    assert (answer.status, answer.body.decode()) == (400, f"Refused: the request has more than one {name} header.")
    assert recorder.scopes == []


def test_other_repeated_headers_are_fine():
    recorder, answer = refused([("Host", "127.0.0.1:5001"), ("Accept", "a"), ("Accept", "b")], method="GET")
    assert answer.status == 200 and len(recorder.scopes) == 1


@pytest.mark.parametrize(("origin", "status"), [("https://127.0.0.1:5001", 200), ("http://127.0.0.1:5001", 200),
                                                 ("ws://127.0.0.1:5001", 403), ("http://evil.example", 403)])
def test_the_apps_own_origin_over_http_or_https(origin, status):
    recorder, answer = refused({"Host": "127.0.0.1:5001", "Origin": origin})
    assert answer.status == status
    if status == 403:
        assert answer.body == b"Refused: the request comes from another site."


@pytest.mark.parametrize(
    "headers",
    [
        [("Host", "127.0.0.1:5001"), ("Origin", "http://evil.example")],
        [("Host", "evil.example")],
        [("Host", "127.0.0.1:5001"), ("Host", "127.0.0.1:5001")],
    ],
    ids=["foreign-origin", "foreign-host", "two-hosts"],
)
def test_a_refused_websocket_is_closed_before_it_is_accepted(headers):
    recorder = Recorder()
    scope = {**http_scope(headers), "type": "websocket"}
    incoming = [{"type": "websocket.connect"}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(LocalOnlyMiddleware(recorder)(scope, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}] and incoming == [] and recorder.scopes == []


# --- the 413 -----------------------------------------------------------------------------------------------


def test_a_body_that_grows_past_the_limit_is_413_and_never_reaches_the_app():
    recorder = Recorder()
    answer = call(RequestSizeLimitMiddleware(recorder, max_bytes=10), http_scope({"Host": "x"}), [b"12345", b"678901"])
    assert answer.status == 413
    assert "Request too large: the limit is 10 bytes. Nothing was saved." in answer.body.decode()
    assert answer.headers["content-type"].startswith("text/html")


def test_an_answer_already_started_is_not_answered_twice():
    async def answers_then_reads(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()
        await receive()  # the second chunk is past the limit
        await send({"type": "http.response.body", "body": b"never"})

    answer = call(RequestSizeLimitMiddleware(answers_then_reads, max_bytes=10), http_scope({}), [b"12345", b"678901"])
    assert [m["type"] for m in answer.messages] == ["http.response.start"]


# --- the upload limit of a workflow step's form ---------------------------------------------------------

STEP = "/report/runs/run-1/steps/upload_file"


@pytest.mark.parametrize(
    ("method", "path", "content_type", "limit"),
    [
        ("POST", STEP, "multipart/form-data; boundary=x", 5000),
        ("POST", STEP, "Multipart/Form-Data; boundary=x", 5000),
        ("POST", STEP, "application/x-www-form-urlencoded", 10),
        ("POST", STEP, None, 10),
        ("PUT", STEP, "multipart/form-data; boundary=x", 10),
        ("POST", "/todos", "multipart/form-data; boundary=x", 10),
        ("POST", STEP + "/more", "multipart/form-data; boundary=x", 10),
    ],
)
def test_only_a_multipart_post_of_a_step_form_gets_the_upload_limit(method, path, content_type, limit):
    middleware = RequestSizeLimitMiddleware(Recorder(), max_bytes=10, upload_bytes=5000)
    headers = [("Content-Type", content_type)] if content_type else []
    assert middleware.limit(http_scope([("Accept", "*/*"), *headers], method=method, path=path)) == limit
    assert middleware.limit({"type": "http", "method": "POST", "headers": []}) == 10  # no path at all


def test_a_path_given_a_larger_limit_gets_it_and_no_other_path_does():
    """The profile import takes a whole profile file (4 GB by default); every other path keeps 1 MB."""
    middleware = RequestSizeLimitMiddleware(Recorder(), max_bytes=10, upload_bytes=5000, larger={"/profiles/import": 900})
    assert middleware.limit(http_scope([("Content-Type", "multipart/form-data; boundary=x")], path="/profiles/import")) == 900
    assert middleware.limit(http_scope([], method="PUT", path="/profiles/import")) == 900
    assert middleware.limit(http_scope([], path="/profiles/import/more")) == 10
    assert middleware.limit(http_scope([], path="/profiles")) == 10
    assert middleware.limit({"type": "http", "method": "POST", "headers": []}) == 10  # no path at all
    answer = call(middleware, http_scope([], path="/profiles/import"), [b"x" * 800])
    assert answer.status == 200


@pytest.mark.parametrize(("size", "status"), [(4000, 200), (6000, 413)])
def test_a_step_form_is_measured_against_the_upload_limit(size, status):
    recorder = Recorder()
    scope = http_scope([("Content-Type", "multipart/form-data; boundary=x")], path=STEP)
    answer = call(RequestSizeLimitMiddleware(recorder, max_bytes=10, upload_bytes=5000), scope, [b"x" * 1000] * (size // 1000))
    assert answer.status == status
    if status == 413:
        assert "Request too large: the limit is 5000 bytes. Nothing was saved." in answer.body.decode()
    else:
        assert len(recorder.body) == size
    declared = http_scope([("Content-Type", "multipart/form-data; boundary=x"), ("Content-Length", str(size))], path=STEP)
    assert call(RequestSizeLimitMiddleware(Recorder(), max_bytes=10, upload_bytes=5000), declared, [b"x" * size]).status == status


def test_the_default_upload_limit_is_50_mb():
    from pipulate._middleware.request_size import UPLOAD_LIMIT

    middleware = RequestSizeLimitMiddleware(Recorder())
    scope = http_scope([("Content-Type", "multipart/form-data; boundary=x")], path=STEP)
    assert middleware.limit(scope) == UPLOAD_LIMIT == 50 * 1024 * 1024
    assert middleware.limit(http_scope([], path=STEP)) == 1024 * 1024


@pytest.mark.parametrize("host", ["évil.example", "a" * 120 + ".example", "x<y>.example"])
def test_a_refusal_names_only_a_plain_host(host):
    """The hint repeats the Host only when it is a plain name or address (it is plain text anyway)."""
    assert refusal_for_host(host) == "Refused: the Host header does not name this machine."


def test_a_refusal_of_a_plain_name_says_why_and_how_to_allow_it():
    assert refusal_for_host("192.168.1.20:5001") == (
        "Refused: the Host header names 192.168.1.20, which is not one of this app's own names (127.0.0.1, "
        "localhost), so that no other web site can reach it through a name of its own (DNS rebinding). "
        'If you opened it at 192.168.1.20 on purpose, allow that name: add allowed_hosts = ["192.168.1.20"] to '
        "pipulate.toml (or set PIPULATE_ALLOWED_HOSTS=192.168.1.20) and restart the app."
    )


@pytest.mark.parametrize(("length", "named"), [(100, True), (101, False)])
def test_a_refusal_names_a_host_of_up_to_100_characters(length, named):
    name = "a" * (length - len(".example")) + ".example"
    assert (f"names {name}," in refusal_for_host(name)) is named
