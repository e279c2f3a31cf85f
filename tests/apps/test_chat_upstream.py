"""Closing the tab mid-reply ends the upstream request within a second, end to end: the page's
WebSocket closes -> Pipulate cancels the reply -> the model server sees its client go away."""

from __future__ import annotations

import json
import re
import time

from websockets.sync.client import connect

from tests.support.llm import HOW_TO_GET_LLAMA, llama_cpp_installed
from tests.support.ollama_server import start_ollama_server
from tests.support.requirements import require
from tests.support.server import start_server
from tests.support.timing import scaled

TOKEN_FRAME = re.compile(r'^<div id="reply-[^"]+" hx-swap-oob="beforeend">')


def test_closing_the_page_socket_ends_the_upstream_request_within_a_second(tmp_path, model_file):
    require(llama_cpp_installed(), "llama-cpp-python[server]", HOW_TO_GET_LLAMA)
    # A reply long enough that it is still streaming when the tab closes.
    ollama = start_ollama_server(model_file, tmp_path, "--min-tokens", "200", "--max-tokens", "400")
    try:
        app = start_server(tmp_path / "data", "--llm-url", ollama.url, "--model", "smollm2")
        try:
            since = ollama.last_seq()
            origin = f"http://127.0.0.1:{app.port}"
            with connect(f"ws://127.0.0.1:{app.port}/ws", origin=origin, open_timeout=scaled(10)) as page_socket:
                page_socket.send(json.dumps({"action": "chat", "message": "Tell me a long story about a cat."}))
                tokens, deadline = 0, time.monotonic() + scaled(60)
                while tokens < 3 and time.monotonic() < deadline:
                    if TOKEN_FRAME.match(page_socket.recv(timeout=scaled(60))):
                        tokens += 1
                assert tokens >= 3, "the reply did not start streaming"
                assert ollama.wait_for_event("chat_started", since) is not None
                assert ollama.wait_for_event("client_disconnected", since, timeout=0.1) is None
            closed_at = time.time()  # the tab is gone
            disconnected = ollama.wait_for_event("client_disconnected", since, timeout=5)
            assert disconnected is not None, "the model server never saw the request end"
            assert disconnected["at"] - closed_at < scaled(1.0), f"upstream closed {disconnected['at'] - closed_at:.2f} s later"
            # The app kept what had arrived, and still answers.
            assert app.client().get("/").status_code == 200
        finally:
            app.stop()
    finally:
        ollama.stop()
