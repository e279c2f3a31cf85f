"""The test Ollama server (tests/support/ollama_server.py) checked against the official `ollama` client:
if the client parses what it sends, the server speaks Ollama's protocol closely enough for tests of
pipulate's Ollama backend to mean something."""

from __future__ import annotations

import pytest

from tests.support.llm import HOW_TO_GET_LLAMA, llama_cpp_installed
from tests.support.ollama_server import MODEL_TAG, VERSION, start_ollama_server
from tests.support.requirements import require
from tests.support.timing import scaled

try:
    import ollama
except ImportError:  # reported by the fixture (a failure under CI=true)
    ollama = None

MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def ollama_server(model_file, tmp_path_factory):
    require(llama_cpp_installed(), "llama-cpp-python", HOW_TO_GET_LLAMA)
    server = start_ollama_server(
        model_file, tmp_path_factory.mktemp("ollama"), "--min-tokens", "4", "--max-tokens", "12"
    )
    yield server
    server.stop()


@pytest.fixture
def client(ollama_server):
    require(ollama is not None, "The ollama client", "pip install -e '.[test]'")
    return ollama.Client(host=ollama_server.url, timeout=scaled(30), trust_env=False)


def test_streaming_chat_parses_as_ollama_chunks(client, ollama_server):
    chunks = list(client.chat(model="smollm2", messages=MESSAGES, stream=True))
    assert len(chunks) >= 3  # several tokens, then the final summary
    *tokens, final = chunks
    assert all(not chunk.done and chunk.message.role == "assistant" for chunk in tokens)
    assert all(chunk.model == "smollm2" and chunk.created_at for chunk in chunks)
    assert "".join(chunk.message.content for chunk in tokens).strip()
    assert final.done and final.done_reason in ("stop", "length")
    assert final.total_duration > 0 and final.eval_count == len(tokens)


def test_non_streaming_chat_is_one_object(client):
    response = client.chat(model=MODEL_TAG, messages=MESSAGES, stream=False)
    assert response.done and response.done_reason in ("stop", "length")
    assert response.message.role == "assistant" and response.message.content.strip()
    assert response.model == MODEL_TAG and response.eval_count >= 4


def test_list_and_ps_name_the_model(client):
    listed = client.list().models
    assert [model.model for model in listed] == [MODEL_TAG]
    assert listed[0].size > 0 and listed[0].details.format == "gguf" and listed[0].modified_at is not None
    running = client.ps().models
    assert [model.model for model in running] == [MODEL_TAG]
    assert running[0].expires_at is not None


def test_pull_stub_and_version(client, ollama_server):
    assert [step.status for step in client.pull("smollm2", stream=True)][-1] == "success"
    assert client.pull("smollm2").status == "success"
    import httpx

    assert httpx.get(f"{ollama_server.url}/api/version", trust_env=False).json() == {"version": VERSION}


@pytest.mark.parametrize("stream", [False, True])
def test_an_unknown_model_is_a_404_response_error(client, stream):
    with pytest.raises(ollama.ResponseError) as raised:
        result = client.chat(model="no-such-model", messages=MESSAGES, stream=stream)
        if stream:
            list(result)
    assert raised.value.status_code == 404
    assert raised.value.error == 'model "no-such-model" not found, try pulling it first'


def test_events_record_each_chat(client, ollama_server):
    since = ollama_server.last_seq()
    client.chat(model="smollm2", messages=MESSAGES, stream=False)
    events = ollama_server.events(since)
    chat = events[0]["chat"]
    assert [(event["event"], event["chat"]) for event in events] == [("chat_started", chat), ("chat_finished", chat)]
