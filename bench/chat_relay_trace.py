"""Tracing launcher, used only by `chat_relay.py --trace`: `pipulate serve` with timestamps taken
along the chat's path, to show where a relayed reply's time goes. It wraps a few methods at run time
(nothing in pipulate/ is changed) and, when a reply ends, appends its events to the JSON-lines file
named by $BENCH_CHAT_TRACE. Timestamps are time.perf_counter() (CLOCK_MONOTONIC on Linux: the
same clock in every process of the machine, so they line up with the benchmark's own).

    BENCH_CHAT_TRACE=/tmp/trace.jsonl python bench/chat_relay_trace.py serve --port 5001 ...

Events: dispatch (a frame arrives), history_add / for_model / models (start, end), http_send (the
request to the model server: start, headers received), fragment (each piece the backend yields,
with the thread's CPU time), page_send (start, end, whether it was a token frame, CPU time at both), request (the model and
the messages sent),
reply (start, end, reply_id). The wrappers cost a few µs per event. The CPU stamps split a token's
CPU into its receive side (from the previous frame sent to this fragment parsed: waking up, reading
the socket, httpx, SSE and JSON) and its send side (the frame built and written to the page).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time

import httpx

from pipulate._chat.history import ChatHistory
from pipulate._chat.pages import Page
from pipulate._chat.socket import PageSocket
from pipulate._cli import main
from pipulate._llm.openai import OpenAICompatibleBackend
from pipulate.apps.chat import ChatApp

if os.environ.get("BENCH_CHAT_WHATIF"):  # candidate changes first, so they are what gets traced
    import chat_relay_whatif  # noqa: F401  (this file's folder is on sys.path: it is the script's)

TRACE_FILE = os.environ.get("BENCH_CHAT_TRACE", "")
now = time.perf_counter
cpu = time.thread_time_ns  # this thread's CPU time: the event loop runs on it
events: list[tuple] = []


def timed(name: str, function):
    if hasattr(function, "__code__") and function.__code__.co_flags & 0x80:  # a coroutine function
        @functools.wraps(function)
        async def wrapper(*args, **kwargs):
            start = now()
            try:
                return await function(*args, **kwargs)
            finally:
                events.append((name, start, now()))
    else:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = now()
            try:
                return function(*args, **kwargs)
            finally:
                events.append((name, start, now()))
    return wrapper


_dispatch = PageSocket.dispatch


async def dispatch(self, page, text, data):
    events.append(("dispatch", now(), (text or "")[:40]))
    return await _dispatch(self, page, text, data)


_send = Page.send


async def page_send(self, html: str) -> bool:
    start, cpu_start = now(), cpu()
    try:
        return await _send(self, html)
    finally:
        # (name, start, end, a token frame?, CPU ns at start, CPU ns at end)
        events.append(("page_send", start, now(), html.startswith('<div id="reply-'), cpu_start, cpu()))


# The last time bytes from a socket reached Python (anyio's protocol: httpx's reads), to split a
# token's receive side into the event loop's part (wake up, epoll, recv) and the Python stack's.
last_data = [0.0, 0]
try:
    from anyio._backends._asyncio import StreamProtocol

    _data_received = StreamProtocol.data_received

    def data_received(self, data):
        last_data[0], last_data[1] = now(), cpu()
        return _data_received(self, data)

    StreamProtocol.data_received = data_received
except (ImportError, AttributeError):  # another anyio: no split
    pass

_stream_chat = OpenAICompatibleBackend.stream_chat


async def stream_chat(self, model, messages):
    events.append(("request", model, messages))  # what the app asks the model, to compare with the direct request
    async for fragment in _stream_chat(self, model, messages):
        # (name, time, CPU ns, when its bytes reached Python, CPU ns then)
        events.append(("fragment", now(), cpu(), last_data[0], last_data[1]))
        yield fragment


_reply = ChatApp.reply


async def reply(self, page, profile_id, reply_id):
    start = now()
    try:
        return await _reply(self, page, profile_id, reply_id)
    finally:
        events.append(("reply", start, now(), reply_id))
        if TRACE_FILE:
            with open(TRACE_FILE, "a") as out:
                out.write(json.dumps(events) + "\n")
        events.clear()


PageSocket.dispatch = dispatch
Page.send = page_send
OpenAICompatibleBackend.stream_chat = stream_chat
ChatApp.reply = reply
ChatHistory.add = timed("history_add", ChatHistory.add)
ChatHistory.for_model = timed("for_model", ChatHistory.for_model)
OpenAICompatibleBackend.models = timed("models", OpenAICompatibleBackend.models)
httpx.AsyncClient.send = timed("http_send", httpx.AsyncClient.send)

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
