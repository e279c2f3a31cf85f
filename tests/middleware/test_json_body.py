"""JSONBodyCheckMiddleware in process: which bodies are checked, what is refused (400, nothing
handed on), and what the app is handed otherwise (the same bytes, however they arrived)."""

from __future__ import annotations

import asyncio
import json

import pytest

from pipulate._middleware import JSONBodyCheckMiddleware
from tests.support.asgi import Recorder, call, http_scope
from tests.support.markup import describe

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 65 + b"]" * 65  # one level past the limit (64)


def checked(headers, chunks, **options):
    recorder = Recorder(**options)
    answer = call(JSONBodyCheckMiddleware(recorder), http_scope(headers), chunks)
    return recorder, answer


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=utf-8", "application/vnd.api+json", " application/JSON "],
)
def test_json_bodies_are_checked(content_type):
    recorder, answer = checked({"Content-Type": content_type}, [DEEP])
    assert answer.status == 400
    assert recorder.scopes == []  # the app never saw it


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"},
                                     {"Content-Type": "application/jsonp"}, {"X-Content-Type": "application/json"}])
def test_other_bodies_pass_untouched(headers):
    recorder, answer = checked(headers, [DEEP])
    assert answer.status == 200 and answer.body == DEEP


def test_a_body_in_chunks_is_handed_on_whole_and_once():
    body = json.dumps({"title": "a", "tags": ["x", "y"], "n": 1}).encode()
    recorder, answer = checked(JSON, [body[:5], body[5:9], b"", body[9:]])
    assert answer.status == 200 and answer.body == body
    # One message with the whole body, then (when the app reads on) the client's disconnect.
    assert recorder.received == [{"type": "http.request", "body": body, "more_body": False}, {"type": "http.disconnect"}]


def test_a_client_that_leaves_mid_body_gets_no_answer_and_the_app_is_not_called():
    recorder = Recorder()
    answer = call(JSONBodyCheckMiddleware(recorder), http_scope(JSON), [b'{"a":', b" 1"], complete=False)
    assert answer.messages == [] and recorder.scopes == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"title": "\xff"}', "The request body is not valid UTF-8. Nothing was saved."),
        (DEEP, "The JSON body is nested more than 64 levels deep. Nothing was saved."),
    ],
)
def test_refusals_say_why_and_hand_nothing_on(body, message):
    recorder, answer = checked(JSON, [body])
    assert answer.status == 400
    assert f"<p>{message}</p>" in answer.body.decode()
    assert recorder.scopes == []


def test_a_request_message_without_a_body_key_is_an_empty_chunk():
    """ASGI lets a server leave out `body` (it defaults to b"")."""
    recorder = Recorder()
    incoming = [{"type": "http.request", "body": b'{"a":', "more_body": True},
                {"type": "http.request", "more_body": True}, {"type": "http.request", "body": b" 1}"}]
    sent = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(JSONBodyCheckMiddleware(recorder)(http_scope(JSON), receive, send))
    assert recorder.body == b'{"a": 1}'


def test_the_refusal_goes_to_the_message_area_for_htmx():
    recorder, answer = checked({**JSON, "HX-Request": "true"}, [DEEP])
    assert answer.status == 400
    assert answer.headers["hx-retarget"] == "#flash"
    assert describe(answer.body.decode()) == [
        "div.message.error role=alert", "  'The JSON body is nested more than 64 levels deep. Nothing was saved.'",
    ]


def test_exactly_the_limit_is_accepted():
    body = b"[" * 64 + b"]" * 64
    recorder, answer = checked(JSON, [body])
    assert answer.status == 200 and answer.body == body


@pytest.mark.parametrize(
    ("body", "handed_on"),
    [
        (b'{"title": "a", "tags": []}', b'{"title": "a"}'),  # an empty list means "no value"
        (b'{"tags": [], "more": []}', b"{}"),
        (b'{"title":  "spacing kept", "tags": ["x"]}', b'{"title":  "spacing kept", "tags": ["x"]}'),
        (b"[[], []]", b"[[], []]"),  # not an object: as it is
        (b'{"a": [}', b'{"a": [}'),  # not JSON: the app answers that
    ],
)
def test_empty_lists_are_left_out_and_everything_else_is_left_alone(body, handed_on):
    recorder, answer = checked(JSON, [body])
    assert recorder.body == handed_on


def test_other_scopes_pass_through():
    recorder = Recorder()
    scope = {"type": "websocket", "headers": [(b"content-type", b"application/json")], "path": "/ws"}
    asyncio.run(JSONBodyCheckMiddleware(recorder)(scope, None, None))
    assert recorder.scopes == [scope]


def test_through_the_app_a_deep_body_is_400_and_stores_nothing(app, client):
    response = client.post("/todos", content=b'{"title": ' + DEEP + b"}", headers={**JSON, "HX-Request": "true"})
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.text
    assert app.state.core.db.execute("SELECT count(*) FROM todos").fetchall() == [(0,)]
    assert client.post("/todos", json={"title": "fine", "tags": []}, headers={"HX-Request": "true"}).status_code == 200
