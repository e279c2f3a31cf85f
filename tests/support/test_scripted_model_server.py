"""The scripted OpenAI-compatible model server (tests/support/scripted_model_server.py): it streams
exactly the scripted fragments as SSE events, sends bytes as they are, and records every request
body (the model named in it included), which tests of the chat read back. A test of a test double:
reported apart (tests/support/doubles.py)."""

from __future__ import annotations

import json

import httpx

from tests.support.scripted_model_server import MODEL, ScriptedModelServer, echo


def events(response: httpx.Response) -> list[bytes]:
    return [line for line in response.content.split(b"\n") if line]


def test_it_lists_its_models_and_is_not_an_ollama():
    with ScriptedModelServer() as server:
        models = httpx.get(server.url + "/v1/models", trust_env=False).json()
        assert [model["id"] for model in models["data"]] == [MODEL]
        assert httpx.get(server.url + "/api/version", trust_env=False).status_code == 404
    with ScriptedModelServer(models=("one", "two")) as server:
        models = httpx.get(server.url + "/v1/models", trust_env=False).json()
        assert [model["id"] for model in models["data"]] == ["one", "two"]


def test_fragments_stream_as_one_event_each_and_every_request_is_recorded():
    script = ["Hello", " \ud800", b"data: {not json\n\n", " world"]
    with ScriptedModelServer(lambda messages: script) as server:
        body = {"model": "some-model", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        answer = httpx.post(server.url + "/v1/chat/completions", json=body, trust_env=False)
        second = dict(body, model="another-model")
        httpx.post(server.url + "/v1/chat/completions", json=second, trust_env=False)
    assert answer.headers["content-type"].startswith("text/event-stream")
    lines = events(answer)
    assert lines[0] == b'data: {"choices": [{"delta": {"content": "Hello"}}]}'
    assert lines[1] == b'data: {"choices": [{"delta": {"content": " \\ud800"}}]}'  # the escape, as json.dumps makes it
    assert lines[2] == b"data: {not json"  # bytes go out as they are
    assert json.loads(lines[3][len(b"data: "):])["choices"][0]["delta"]["content"] == " world"
    assert lines[4:] == [b"data: [DONE]"]
    assert [received["model"] for received in server.received] == ["some-model", "another-model"]
    assert server.received[0]["messages"] == body["messages"]


def test_echo_says_the_last_user_message_back_in_pieces():
    messages = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "x"},
                {"role": "user", "content": "say exactly this"}]
    assert "".join(echo(messages)) == "say exactly this" and len(echo(messages)) > 1
    assert echo([]) == [""]
