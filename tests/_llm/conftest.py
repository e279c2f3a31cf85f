"""Model servers for the pipulate/_llm tests: the test Ollama server (Ollama's native API over the real
SmolLM2 model, tests/support/ollama_server.py) shared by the session, and a factory for the
short-lived ones the failure tests start, crash and restart."""

from __future__ import annotations

import pytest

from tests.support.llm import HOW_TO_GET_LLAMA, llama_cpp_installed, start_llama_server
from tests.support.ollama_server import start_ollama_server
from tests.support.requirements import require

# Replies from the shared server are at least this long (so a test can stop one midway) and short
# enough to keep the suite quick on two cores.
SHARED_SERVER_ARGS = ("--min-tokens", "12", "--max-tokens", "24")


@pytest.fixture(scope="session")
def ollama_server(model_file, tmp_path_factory):
    """The test Ollama server with SmolLM2 ("smollm2" / "smollm2:latest"), shared by the session."""
    require(llama_cpp_installed(), "llama-cpp-python[server]", HOW_TO_GET_LLAMA)
    server = start_ollama_server(model_file, tmp_path_factory.mktemp("ollama"), *SHARED_SERVER_ARGS)
    yield server
    server.stop()


@pytest.fixture
def start_ollama(model_file, tmp_path):
    """start_ollama(*args, port=None): a test Ollama server for this test only; all are stopped after it."""
    require(llama_cpp_installed(), "llama-cpp-python[server]", HOW_TO_GET_LLAMA)
    started = []

    def start(*args: str, port: int | None = None):
        server = start_ollama_server(model_file, tmp_path, *args, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(kill=True)


@pytest.fixture
def start_llama(model_file, tmp_path):
    """start_llama(port=None): llama.cpp's OpenAI-compatible server for this test only; killed after it."""
    require(llama_cpp_installed(), "llama-cpp-python[server]", HOW_TO_GET_LLAMA)
    started = []

    def start(port: int | None = None):
        server = start_llama_server(model_file, tmp_path, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(kill=True)
