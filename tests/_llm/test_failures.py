"""How pipulate/_llm fails, with real servers that are absent, crash mid-reply, stall, lack the model, or
lose their client; and that the next message works once the backend is back."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import aclosing

import pytest

from pipulate._llm import BackendFailed, BackendTimeout, BackendUnreachable, ModelNotFound, ModelServer
from tests._llm.support import TIME_LIMIT, model_server, run
from tests.support.ollama_server import DIE_EXIT_CODE
from tests.support.server import free_port
from tests.support.timing import scaled

MESSAGES = [{"role": "user", "content": "Tell me a short story about a lighthouse."}]




async def collect(server: ModelServer, model: str = "smollm2", stop_after: int | None = None) -> list[str]:
    fragments: list[str] = []
    async with aclosing(server.stream_chat(model, MESSAGES)) as stream:
        async for fragment in stream:
            fragments.append(fragment)
            if stop_after is not None and len(fragments) >= stop_after:
                break
    return fragments


async def collect_until_error(server: ModelServer, fragments: list[str], model: str = "smollm2", on_fragment=None):
    """Stream into `fragments`; return (the LLMError raised or None, time.monotonic() when it ended)."""
    try:
        async with aclosing(server.stream_chat(model, MESSAGES)) as stream:
            async for fragment in stream:
                fragments.append(fragment)
                if on_fragment is not None:
                    on_fragment(len(fragments))
    except (BackendFailed, BackendTimeout, BackendUnreachable, ModelNotFound) as error:
        return error, time.monotonic()
    return None, time.monotonic()


def watch_exit(process):
    """Returns died() -> time.monotonic() of the process's exit (seen by a daemon thread), or None."""
    died: list[float] = []

    def wait() -> None:
        try:
            process.wait(timeout=scaled(TIME_LIMIT))
        finally:
            died.append(time.monotonic())

    watcher = threading.Thread(target=wait, daemon=True)
    watcher.start()

    def when(timeout: float = 10) -> float | None:
        watcher.join(scaled(timeout))
        return died[0] if died else None

    return when


# --- nothing there -----------------------------------------------------------------------------


def test_an_absent_backend_is_unreachable_quickly_with_a_hint():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    async def scenario():
        async with model_server(url) as server:
            errors = []
            for attempt in (server.models(), collect(server)):
                started = time.monotonic()
                with pytest.raises(BackendUnreachable) as raised:
                    await attempt
                errors.append((raised.value, time.monotonic() - started))
            return errors

    for error, elapsed in run(scenario()):
        assert elapsed < scaled(2.0)
        text = error.user_text()
        assert url in text
        assert "ollama serve" in text and "PIPULATE_LLM_URL" in text


# --- a backend that dies mid-reply -------------------------------------------------------------


def test_ollama_killed_mid_reply_is_a_failure_soon_after_the_death(start_ollama):
    server = start_ollama("--die-after-tokens", "3", "--min-tokens", "8")
    death = watch_exit(server.process)
    fragments: list[str] = []

    async def scenario():
        async with model_server(server.url) as model_server_:
            return await collect_until_error(model_server_, fragments)

    error, ended = run(scenario())
    assert isinstance(error, BackendFailed), error
    assert server.process.wait(timeout=scaled(10)) == DIE_EXIT_CODE
    assert 1 <= len(fragments) <= 3  # what arrived before the death
    died = death()
    assert died is not None and ended - died < scaled(2.0)
    assert server.url in error.user_text() and "stopped in the middle of the reply" in error.user_text()


def test_llama_cpp_server_killed_mid_reply_is_a_failure_soon_after(start_llama):
    llama = start_llama()
    fragments: list[str] = []
    killed: list[float] = []

    def kill_after_two(count: int) -> None:
        if count == 2:
            llama.stop(kill=True)  # SIGKILL by PID, and wait for it
            killed.append(time.monotonic())

    async def scenario():
        async with model_server(llama.url) as server:
            assert (await server.backend()).kind == "openai"
            return await collect_until_error(server, fragments, on_fragment=kill_after_two)

    error, ended = run(scenario())
    assert isinstance(error, BackendFailed), error
    assert len(fragments) >= 2 and killed
    assert ended - killed[0] < scaled(2.0)
    assert llama.url in error.user_text()


# --- the wrong model ---------------------------------------------------------------------------


def test_an_unknown_model_on_ollama_is_model_not_found(ollama_server):
    async def scenario():
        async with model_server(ollama_server.url) as server:
            with pytest.raises(ModelNotFound) as raised:
                await collect(server, "no-such-model")
            return raised.value

    error = run(scenario())
    assert "'no-such-model'" in error.user_text() and ollama_server.url in error.user_text()
    assert "ollama pull no-such-model" in error.user_text()


def test_an_unknown_model_on_an_openai_server_is_model_not_found(llama_server):
    async def scenario():
        async with model_server(llama_server.url) as server:
            with pytest.raises(ModelNotFound) as raised:
                await collect(server, "no-such-model")
            return raised.value

    error = run(scenario())
    assert "'no-such-model'" in error.user_text() and llama_server.url in error.user_text()
    assert "smollm2" in error.user_text()  # what it has instead


# --- a backend that hangs ----------------------------------------------------------------------


def test_a_stalled_server_times_out_after_the_read_timeout(start_ollama):
    server = start_ollama("--stall")
    since = server.last_seq()

    async def scenario():
        async with model_server(server.url, read_timeout=1) as model_server_:
            await model_server_.backend()  # detection answers at once; only the chat hangs
            started = time.monotonic()
            error, ended = await collect_until_error(model_server_, fragments := [])
            return error, ended - started, fragments

    error, elapsed, fragments = run(scenario())
    assert isinstance(error, BackendTimeout), error
    assert 0.9 <= elapsed < 1 + scaled(1.5)  # the read timeout (1 s), and not much more
    assert fragments == []
    assert server.url in error.user_text()
    # pipulate gave up on the request and closed it.
    assert server.wait_for_event("client_disconnected", since, timeout=2) is not None


# --- the client stops --------------------------------------------------------------------------


def test_stopping_a_reply_closes_the_upstream_request_at_once(ollama_server):
    since = ollama_server.last_seq()
    stopped_at: list[float] = []

    async def scenario():
        async with model_server(ollama_server.url) as server:
            fragments: list[str] = []
            async with aclosing(server.stream_chat("smollm2", MESSAGES)) as stream:
                async for fragment in stream:
                    fragments.append(fragment)
                    if len(fragments) == 2:
                        stopped_at.append(time.time())
                        break
            # The server stopped generating for the closed request: the next reply comes at once.
            return fragments, await asyncio.wait_for(collect(server, stop_after=3), scaled(30))

    fragments, next_reply = run(scenario())
    assert len(fragments) == 2
    disconnected = ollama_server.wait_for_event("client_disconnected", since, timeout=3)
    assert disconnected is not None, ollama_server.events(since)
    assert disconnected["at"] - stopped_at[0] < scaled(1.0)
    assert disconnected["tokens_sent"] < 12  # the shared server's replies are at least 12 tokens
    assert len(next_reply) == 3
    # The stopped chat ended by the disconnect, not by finishing; the next one was a new chat. (Their
    # events may interleave: the server can see the new request before the old connection's end.)
    events = [(event["event"], event["chat"]) for event in ollama_server.events(since)]
    stopped = disconnected["chat"]
    assert [name for name, chat in events if chat == stopped] == ["chat_started", "client_disconnected"]
    assert ("chat_started", stopped + 1) in events


# --- and back ----------------------------------------------------------------------------------


def test_the_next_message_works_once_the_backend_is_back(start_ollama):
    dying = start_ollama("--die-after-tokens", "3", "--min-tokens", "8")
    port = dying.port

    async def scenario():
        async with model_server(dying.url) as server:
            first, _ = await collect_until_error(server, [])
            assert isinstance(first, BackendFailed), first
            await asyncio.to_thread(dying.process.wait, scaled(10))
            # While it is down: unreachable, said at once.
            second, _ = await collect_until_error(server, [])
            assert isinstance(second, BackendUnreachable), second
            # Back on the same port: the next message is answered, without restarting anything here.
            back = await asyncio.to_thread(start_ollama, "--min-tokens", "4", port=port)
            fragments = await collect(server, stop_after=3)
            return back, (await server.backend()).kind, fragments

    back, kind, fragments = run(scenario())
    assert back.port == port and kind == "ollama"
    assert len(fragments) == 3 and "".join(fragments).strip()


def test_a_server_swapped_after_a_failure_is_detected_again(start_ollama, start_llama):
    """The backend is forgotten after a failure: when a different kind of server comes up on the same
    port (Ollama replaced by llama.cpp's server), the next message detects and uses it."""
    ollama = start_ollama("--die-after-tokens", "2", "--min-tokens", "8")
    port = ollama.port

    async def scenario():
        async with model_server(ollama.url) as server:
            assert (await server.backend()).kind == "ollama"
            error, _ = await collect_until_error(server, [])
            assert isinstance(error, BackendFailed), error
            await asyncio.to_thread(ollama.process.wait, scaled(10))
            await asyncio.to_thread(start_llama, port)
            fragments = await collect(server, "smollm2", stop_after=3)
            return (await server.backend()).kind, fragments

    kind, fragments = run(scenario())
    assert kind == "openai" and len(fragments) == 3


def test_the_model_list_detects_a_swapped_server_again(start_ollama, start_llama):
    ollama = start_ollama("--stall")  # lists its model; never needs to chat here
    port = ollama.port

    async def scenario():
        async with model_server(ollama.url) as server:
            assert await server.models() == ["smollm2:latest"]
            ollama.stop()
            await asyncio.to_thread(start_llama, port)
            # The first request may fail (the old backend's way of asking); the next must not.
            with pytest.raises(BackendFailed):
                await server.models()
            return await server.models()

    assert run(scenario()) == ["smollm2"]


def test_a_server_that_never_answers_at_all_is_a_timeout():
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # the kernel accepts connections; nothing ever reads or answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        async def scenario():
            async with model_server(url, read_timeout=1) as server:
                started = time.monotonic()
                with pytest.raises(BackendTimeout) as raised:
                    await server.models()
                return raised.value, time.monotonic() - started

        error, elapsed = run(scenario())
    assert elapsed < 1 + scaled(2.0)  # the read timeout (1 s), and not much more
    assert url in error.user_text()


def test_a_server_started_after_the_embedded_fallback_is_used(model_file, start_ollama):
    port = free_port()

    async def scenario():
        async with model_server(f"http://127.0.0.1:{port}", model_file=model_file) as server:
            assert (await server.backend()).kind == "embedded"
            await asyncio.to_thread(start_ollama, "--stall", port=port)  # lists its model; no chat needed
            return (await server.backend()).kind, await server.models()

    assert run(scenario()) == ("ollama", ["smollm2:latest"])
