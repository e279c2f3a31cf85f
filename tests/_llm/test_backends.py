"""pipulate/_llm with a real model behind each protocol: llama.cpp's OpenAI-compatible server, the test
Ollama server (Ollama's native API), and the embedded in-process backend; and where the URL comes from."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from pipulate._llm import DEFAULT_LLM_URL, ModelServer, resolve_llm_url
from tests._llm.support import model_server, run
from tests.support.server import free_port
from tests.support.timing import scaled

MESSAGES = [{"role": "user", "content": "Say hello to a new user."}]
# llama.cpp's server and the embedded backend let the model talk as long as it likes (two cores can
# make that slow): the tests read this many fragments and then close the stream, which is itself part
# of what they check (closing must end the reply cleanly).
ENOUGH = 5




async def collect(server: ModelServer, model: str, stop_after: int | None = None) -> list[str]:
    fragments: list[str] = []
    async with aclosing(server.stream_chat(model, MESSAGES)) as stream:
        async for fragment in stream:
            fragments.append(fragment)
            if stop_after is not None and len(fragments) >= stop_after:
                break
    return fragments


def test_llama_cpp_server_is_openai_compatible_and_streams(llama_server):
    async def scenario():
        async with model_server(llama_server.url) as server:
            backend = await server.backend()
            return backend.kind, await server.models(), await collect(server, "smollm2", stop_after=ENOUGH)

    kind, models, fragments = run(scenario())
    assert kind == "openai"
    assert models == ["smollm2"]
    assert len(fragments) > 1 and all(isinstance(fragment, str) and fragment for fragment in fragments)
    assert "".join(fragments).strip()


def test_ollama_is_detected_by_its_native_api_and_streams(ollama_server):
    async def scenario():
        async with model_server(ollama_server.url) as server:
            backend = await server.backend()
            return backend.kind, await server.models(), await collect(server, "smollm2")

    since = ollama_server.last_seq()
    kind, models, fragments = run(scenario())
    assert kind == "ollama"
    assert models == ["smollm2:latest"]
    assert len(fragments) > 1 and "".join(fragments).strip()
    # One request, answered to the end.
    events = ollama_server.events(since)
    started = [event["chat"] for event in events if event["event"] == "chat_started"]
    assert len(started) == 1
    assert [event["event"] for event in events if event.get("chat") == started[0]] == ["chat_started", "chat_finished"]


def test_embedded_model_answers_when_no_server_listens(model_file):
    async def scenario():
        async with model_server(f"http://127.0.0.1:{free_port()}", model_file=model_file) as server:
            backend = await server.backend()
            assert backend is server.embedded and backend.kind == "embedded"
            models = await server.models()
            # The model name is whatever the chat is set to; the embedded model answers regardless.
            first = await collect(server, "smollm2", stop_after=ENOUGH)
            stopped = await collect(server, "smollm2", stop_after=2)
            # Stopping a reply frees the model for the next one (no lock left behind).
            after = await asyncio.wait_for(collect(server, "smollm2", stop_after=3), scaled(60))
            return models, first, stopped, after

    models, first, stopped, after = run(scenario())
    assert models == [model_file.stem]
    assert len(first) > 1 and "".join(first).strip()
    assert len(stopped) == 2
    assert len(after) > 1


# --- where the URL comes from ------------------------------------------------------------------


def test_an_explicit_url_wins_over_the_environment():
    environ = {"PIPULATE_LLM_URL": "http://127.0.0.1:8080", "OLLAMA_HOST": "127.0.0.1:11500"}
    assert resolve_llm_url("http://127.0.0.1:9000/", environ) == "http://127.0.0.1:9000"


def test_pipulate_llm_url_wins_over_ollama_host():
    environ = {"PIPULATE_LLM_URL": "http://127.0.0.1:8080/", "OLLAMA_HOST": "127.0.0.1:11500"}
    assert resolve_llm_url("", environ) == "http://127.0.0.1:8080"
    # Set but empty counts as unset.
    assert resolve_llm_url("", {"PIPULATE_LLM_URL": "", "OLLAMA_HOST": "127.0.0.1:11500"}) == "http://127.0.0.1:11500"


@pytest.mark.parametrize(
    ("ollama_host", "expected"),
    [
        ("127.0.0.1:11500", "http://127.0.0.1:11500"),  # host:port without a scheme, as Ollama documents it
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),  # Ollama listening everywhere: reach it on loopback
        ("http://0.0.0.0:11434/", "http://127.0.0.1:11434"),
        ("https://ollama.example:8443", "https://ollama.example:8443"),
        (" localhost:11434 ", "http://localhost:11434"),
    ],
)
def test_ollama_host_is_used_when_nothing_else_is_set(ollama_host, expected):
    assert resolve_llm_url("", {"OLLAMA_HOST": ollama_host}) == expected


@pytest.mark.parametrize(
    ("ollama_host", "expected"),
    [
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("localhost", "http://localhost:11434"),
        (":11500", "http://127.0.0.1:11500"),
    ],
)
def test_ollama_host_without_a_port_means_ollamas_port(ollama_host, expected):
    assert resolve_llm_url("", {"OLLAMA_HOST": ollama_host}) == expected


def test_the_default_is_ollamas_usual_address():
    assert resolve_llm_url("", {}) == DEFAULT_LLM_URL == "http://127.0.0.1:11434"


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.delenv("PIPULATE_LLM_URL", raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:11600")
    assert resolve_llm_url() == "http://127.0.0.1:11600"
    monkeypatch.setenv("PIPULATE_LLM_URL", "http://127.0.0.1:8081")
    assert resolve_llm_url() == "http://127.0.0.1:8081"
