"""The chat through the real server and a real WebSocket client, with a real model (SmolLM2 served by
llama.cpp's OpenAI-compatible server).

Each test starts its own server (`python -m pipulate serve`, its own data dir) and talks to /ws
with the `websockets` library, sending the Origin the app's own page would send. History is read
back the way a person sees it: `GET /` and the messages inside #chat-messages. The model's words
are never asserted, only what the app does with them.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import websockets.exceptions
import websockets.sync.client

from pipulate._chat.fragments import activity_html, message_html
from tests.support.server import free_port
from tests.support.timing import poll, scaled

HTMX = {"HX-Request": "true"}
SHORT = "Reply in one sentence."
LONG = "Write a long story about a cat named Tom, with many details. Use at least 300 words."

TOKEN = re.compile(r'^<div id="(reply-[\w-]+)" hx-swap-oob="beforeend">(.*)</div>$', re.S)
# A finished reply takes the place of the element it streamed into, under its stored id.
FINAL = re.compile(r'<div class="msg assistant"(?: id="msg-(\d+)" data-id="\d+")? data-source="[^"]*" '
                   r'hx-swap-oob="outerHTML:#(reply-[\w-]+)">')
PENDING = re.compile(r'<div class="msg assistant streaming" id="(reply-[\w-]+)"')
# A failed reply is a message of the conversation (kept, with Retry); a refused frame is a line
# beside the chat box (the box keeps the text).
FAILURE = re.compile(r'<div class="msg error"[^>]*><p>(.*?)</p><div class="msg-actions">', re.S)
REFUSAL = re.compile(r'<div id="chat-note" class="chat-note" role="alert" hx-swap-oob="true">(.*?)</div>', re.S)
ACCEPTED = '<div id="chat-note" class="chat-note" data-accepted="1" hx-swap-oob="true"></div>'


def errors_in(frame: str) -> list[str]:
    """Every error a frame shows: failed replies and refusals alike."""
    return FAILURE.findall(frame) + REFUSAL.findall(frame)
IDLE = 'id="chat-state" data-state="idle"'
STREAMING = 'id="chat-state" data-state="streaming"'


# --- servers ---------------------------------------------------------------------------------------



def connect(server, origin: str | None = "own"):
    origin = f"http://127.0.0.1:{server.port}" if origin == "own" else origin
    return websockets.sync.client.connect(
        f"ws://127.0.0.1:{server.port}/ws", origin=origin, proxy=None, open_timeout=scaled(5), close_timeout=scaled(2),
        max_size=None,
    )


# --- reading frames --------------------------------------------------------------------------------


@dataclass
class Reply:
    frames: list[str] = field(default_factory=list)
    reply_id: str = ""
    tokens: list[str] = field(default_factory=list)  # the text of each token frame, unescaped
    final: str = ""
    errors: list[str] = field(default_factory=list)
    stop_sent: bool = False

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def stopped(self) -> bool:
        return '<p class="msg-note">Stopped.</p>' in self.final

    @property
    def message_id(self) -> int | None:
        """The id the reply was stored under (its final fragment says; None: nothing was stored)."""
        stored = FINAL.search(self.final).group(1)
        return int(stored) if stored else None


def receive(ws, timeout: float) -> str:
    """The next frame, within scaled(timeout) seconds."""
    return _next_frame(ws, scaled(timeout))


def _next_frame(ws, seconds: float) -> str:
    frame = ws.recv(timeout=seconds)
    assert isinstance(frame, str), f"the server sent a binary frame: {frame!r}"
    return frame


def read_reply(ws, reply: Reply | None = None, timeout: float = 60, on_token=None, stop_after: int | None = None) -> Reply:
    """Frames until this reply's final fragment and the idle state (or an error with the idle state).

    `stop_after` presses Stop after that many token frames: a small model may ramble, and this
    machine may be slow; the tests that only need "a reply" bound it so.
    """
    reply = reply or Reply()
    deadline = time.monotonic() + scaled(timeout)
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no end of the reply within {scaled(timeout):g}s; frames: {reply.frames[-5:]}"
        frame = _next_frame(ws, remaining)
        reply.frames.append(frame)
        if not reply.reply_id and (pending := PENDING.search(frame)):
            reply.reply_id = pending.group(1)
            assert STREAMING in frame, frame
            continue
        if token := TOKEN.match(frame):
            assert token.group(1) == reply.reply_id, f"a token of another reply: {frame}"
            assert "<" not in token.group(2), f"markup in a token frame: {frame}"
            reply.tokens.append(html.unescape(token.group(2)))
            if on_token:
                on_token(reply)
            if stop_after is not None and len(reply.tokens) >= stop_after and not reply.stop_sent:
                ws.send(json.dumps({"action": "stop"}))
                reply.stop_sent = True
            continue
        reply.errors += errors_in(frame)
        if final := FINAL.search(frame):
            assert final.group(2) == reply.reply_id, frame
            reply.final = frame
            assert not reply.stopped or reply.stop_sent, frame
        if IDLE in frame and (reply.final or reply.errors):
            return reply


def chat(ws, message: str, timeout: float = 60, stop_after: int | None = 6, **frame_fields) -> Reply:
    ws.send(json.dumps({"action": "chat", "message": message, **frame_fields}))
    return read_reply(ws, timeout=timeout, stop_after=stop_after)


def quiet(ws, seconds: float) -> list[str]:
    """What arrives within scaled(seconds) (normally nothing)."""
    frames = []
    deadline = time.monotonic() + scaled(seconds)
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            frames.append(ws.recv(timeout=remaining))
        except TimeoutError:
            break
    return frames


def final_body(reply: Reply) -> str:
    """The final fragment's inner HTML (before the state fragment that follows it)."""
    match = re.search(r'hx-swap-oob="outerHTML:#reply-[\w-]+">(.*?)</div><div id="chat-state"', reply.final, re.S)
    assert match, reply.final
    return match.group(1)


def plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- reading the history as the page shows it ------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    role: str
    text: str  # plain text
    html: str


class _ChatMessagesParser(HTMLParser):
    """The messages inside <div id="chat-messages">: each <div class="msg ROLE"> child."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.messages: list[dict] = []
        self._depth = 0  # div depth inside #chat-messages (0: outside)
        self.found = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self._depth == 0:
            if tag == "div" and attributes.get("id") == "chat-messages":
                self._depth, self.found = 1, True
            return
        if tag == "div":
            self._depth += 1
            if self._depth == 2:
                classes = (attributes.get("class") or "").split()
                role = next((c for c in classes if c != "msg"), "")
                self.messages.append({"role": role, "html": ""})
                return
        self._add(self.get_starttag_text())

    def handle_endtag(self, tag):
        if self._depth and tag == "div":
            self._depth -= 1
            if self._depth >= 2:
                self._add("</div>")
            return
        self._add(f"</{tag}>")

    def handle_data(self, data):
        self._add(data)

    def handle_entityref(self, name):
        self._add(f"&{name};")

    def handle_charref(self, name):
        self._add(f"&#{name};")

    def _add(self, text):
        if self._depth >= 2 and self.messages:
            self.messages[-1]["html"] += text


def shown_history(server) -> list[Shown]:
    response = httpx.get(server.url + "/", timeout=scaled(10))
    assert response.status_code == 200, response.text[:500]
    parser = _ChatMessagesParser()
    parser.feed(response.text)
    assert parser.found, "no #chat-messages on the page"
    return [Shown(m["role"], plain(m["html"]), m["html"]) for m in parser.messages]


def user_messages(server) -> list[str]:
    return [m.text for m in shown_history(server) if m.role == "user"]


def post(server, path: str, **form) -> httpx.Response:
    response = httpx.post(server.url + path, data=form, headers=HTMX, timeout=scaled(10))
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response


# --- streaming and history ---------------------------------------------------------------------


def test_a_reply_streams_token_by_token_then_ends_with_its_markdown_rendering(chat_server):
    with connect(chat_server) as ws:
        # Shaped like htmx's ws extension: the form's fields plus a HEADERS object.
        reply = chat(
            ws, f"What is a cat? {SHORT}", stop_after=40, HEADERS={"HX-Request": "true", "HX-Trigger": "chat-form"}
        )

    # The sender hears first that its message was taken (its page empties the box then), then
    # every page of the profile gets the message and the reply's place.
    assert reply.frames[0] == ACCEPTED
    first = reply.frames[1]
    assert re.match(r'<div id="chat-messages" hx-swap-oob="beforeend"><div class="msg user" id="msg-(\d+)" '
                    r'data-id="\1" data-source="What is a cat\? [^"]*"><p>What is a cat\?', first), first
    assert f'<div class="msg assistant streaming" id="{reply.reply_id}" aria-busy="true"></div>' in first
    assert STREAMING in first
    assert not reply.errors, reply.errors

    # Several token frames, each appended to the reply as it came, before the final one.
    assert len(reply.tokens) >= 3, reply.frames
    assert reply.text.strip()
    final_index = next(i for i, frame in enumerate(reply.frames) if FINAL.search(frame))
    assert final_index == len(reply.frames) - 1
    assert all(TOKEN.match(frame) for frame in reply.frames[2:final_index])
    # The final fragment is exactly the Markdown rendering of what streamed, and the state goes idle.
    # (Stopped only if the model rambled past 40 tokens.)
    status = "stopped" if reply.stopped else "complete"
    expected = message_html("assistant", reply.text, reply.message_id, status, replaces=reply.reply_id)
    assert reply.final == expected + '<div id="chat-state" data-state="idle" hx-swap-oob="true"></div>'

    history = shown_history(chat_server)
    assert [m.role for m in history] == ["user", "assistant"]
    assert history[0].text == f"What is a cat? {SHORT}"
    assert history[1].html == final_body(reply)


def test_history_survives_a_restart_and_clear_empties_it(servers, llama_server, tmp_path):
    args = ("--llm-url", llama_server.url, "--model", "smollm2")
    data_dir = tmp_path / "data"
    first = servers(*args, data_dir=data_dir)
    with connect(first) as ws:
        reply = chat(ws, f"Name a colour. {SHORT}")
    before = shown_history(first)
    assert [m.role for m in before] == ["user", "assistant"]
    assert before[1].html == final_body(reply)
    first.stop()

    second = servers(*args, data_dir=data_dir)
    assert shown_history(second) == before

    response = post(second, "/chat/clear")
    assert response.text.strip() == ""  # htmx swaps this (nothing) into #chat-messages
    assert shown_history(second) == []

    # The conversation starts again from nothing, and is kept again.
    with connect(second) as ws:
        chat(ws, f"Name a fruit. {SHORT}")
    assert user_messages(second) == [f"Name a fruit. {SHORT}"]


def hello(ws, profile_id: int | None = None) -> None:
    """Say which profile the socket's page shows, as pipulate.js does when the page opens."""
    headers = {"X-Pipulate-Profile": str(profile_id)} if profile_id else {}
    ws.send(json.dumps({"action": "hello", "page": "", "again": "", "HEADERS": headers}))


def test_sockets_of_one_profile_share_its_conversation_and_two_profiles_chat_apart(chat_server):
    created = post(chat_server, "/profiles", name="Second")
    second = int(re.findall(r'id="profile-(\d+)"', created.text)[0])
    on_second = {"X-Pipulate-Profile": str(second)}
    with connect(chat_server) as a, connect(chat_server) as b, connect(chat_server) as c:
        hello(c, second)  # a and b show the stored selection (Default), c shows Second
        assert quiet(c, 0.2) == []

        # One profile, two tabs: b sees a's message and every token of its reply, as a does.
        reply = chat(a, f"Name a dog breed. {SHORT}")
        assert reply.tokens
        seen = read_reply(b, Reply(stop_sent=True))  # a pressed Stop (the small model rambles)
        assert seen.frames == reply.frames[1:]  # all but "your message was taken", which is a's alone
        assert quiet(c, 0.3) == [], "tokens of a Default reply reached a tab of Second"

        # One reply at a time per conversation: b's message during a's reply is refused, and kept
        # nowhere (b's box keeps it).
        a.send(json.dumps({"action": "chat", "message": LONG}))
        read_until(b, PENDING.pattern)
        b.send(json.dumps({"action": "chat", "message": "me too"}))
        refusal = read_until(b, REFUSAL.pattern)
        assert "A reply is still coming" in refusal
        a.send(json.dumps({"action": "stop"}))
        read_until(a, IDLE)
        read_until(b, IDLE)

        # Two profiles ask at once: each gets its own reply, and only its own tokens.
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda args: chat(*args[:2], **args[2]), [
                (a, f"Name a bird. {SHORT}", {}), (c, f"Name a fish. {SHORT}", {"HEADERS": on_second})]))
        for reply in replies:
            assert reply.tokens and not reply.errors, reply.frames
            assert all(TOKEN.match(f).group(1) == reply.reply_id for f in reply.frames if TOKEN.match(f))
        assert replies[0].reply_id != replies[1].reply_id
        assert replies[1].reply_id not in "".join(replies[0].frames)
        assert replies[0].reply_id not in "".join(replies[1].frames)

    assert user_messages(chat_server) == [f"Name a dog breed. {SHORT}", LONG, f"Name a bird. {SHORT}"]
    post(chat_server, "/profiles/select", profile_id=str(second))
    assert user_messages(chat_server) == [f"Name a fish. {SHORT}"]


def read_until(ws, pattern: str, timeout: float = 30) -> str:
    """Frames until one matches `pattern` (a regex); answers that frame."""
    deadline, seen = time.monotonic() + scaled(timeout), []
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no frame matching {pattern!r} within {scaled(timeout):g} s; the last: {seen[-5:]}"
        try:
            frame = _next_frame(ws, remaining)
        except TimeoutError:
            raise AssertionError(f"no frame matching {pattern!r} within {scaled(timeout):g} s; the last: {seen[-5:]}") from None
        seen.append(frame)
        if re.search(pattern, frame):
            return frame


def test_chatq_messages_and_progress_reach_every_open_socket(servers, llama_server, tmp_path):
    # A plugin that is not a workflow, reporting progress with core.chat.progress().
    (tmp_path / "plugins").mkdir()
    shutil.copy(Path(__file__).parents[1] / "support" / "plugins" / "progress_demo.py", tmp_path / "plugins")
    chat_server = servers("--llm-url", llama_server.url, "--model", "smollm2")
    with connect(chat_server) as a, connect(chat_server) as b:
        post(chat_server, "/todos", title="Buy <milk>")
        for ws in (a, b):
            # An app event is a line apart from the conversation, as plain text.
            frame = receive(ws, 5)
            assert frame == activity_html("Added a todo: Buy <milk>")
            assert "Buy &lt;milk&gt;" in frame and "chat-messages" not in frame

        started = post(chat_server, "/progress-demo/start", steps="3")
        assert "3 steps" in started.text
        seen = []
        for ws in (a, b):
            frames = []
            while "finished" not in "".join(frames):
                frames.append(receive(ws, 10))
            progress = [f for f in frames if 'class="msg progress"' in f]
            # Shown once (appended to the conversation), then updated in place: 0/3 ... 3/3, done.
            assert progress[0].startswith('<div id="chat-messages" hx-swap-oob="beforeend"><div class="msg progress"')
            assert 'value="0" max="3"' in progress[0]
            element_id = re.search(r'id="(progress-\d+)"', progress[0]).group(1)
            updates = progress[1:]
            assert all(f'id="{element_id}" hx-swap-oob="outerHTML"' in f for f in updates), updates
            values = [int(re.search(r'value="(\d+)"', f).group(1)) for f in updates]
            assert values == [1, 2, 3, 3], progress
            assert "step 3 of 3" in updates[-2] and ">done<" in updates[-1]
            assert 'class="msg notice"' in frames[-1] and "The demo task finished its 3 steps." in frames[-1]
            seen.append(frames)
        assert seen[0] == seen[1]  # every socket got the same frames
        assert quiet(a, 0.2) == [] and quiet(b, 0.2) == []

    # The todo notice is only shown; the task's closing message is kept in the history.
    history = shown_history(chat_server)
    assert [(m.role, m.text) for m in history] == [("notice", "The demo task finished its 3 steps.")]


# --- stopping ------------------------------------------------------------------------------------


def test_stop_mid_reply_ends_it_at_once_and_keeps_what_arrived(chat_server):
    with connect(chat_server) as ws:
        ws.send(json.dumps({"action": "chat", "message": LONG}))
        reply = Reply()

        class Enough(Exception):
            pass

        def after_three_tokens(reply):
            if len(reply.tokens) >= 3:
                raise Enough

        with pytest.raises(Enough):
            read_reply(ws, reply, on_token=after_three_tokens)

        # A second message while this one streams is refused, and goes nowhere.
        ws.send(json.dumps({"action": "chat", "message": "Another question"}))
        ws.send(json.dumps({"action": "stop"}))
        reply.stop_sent, stopped_at = True, time.monotonic()
        read_reply(ws, reply, timeout=10)
        took = time.monotonic() - stopped_at
        assert took < scaled(2), f"the reply went on for {took:.1f}s after Stop"
        assert any("A reply is still coming" in error for error in reply.errors), reply.errors

        # The final fragment renders exactly the text that arrived, with the note.
        assert reply.tokens
        expected = message_html("assistant", reply.text, reply.message_id, "stopped", replaces=reply.reply_id)
        assert reply.final == expected + '<div id="chat-state" data-state="idle" hx-swap-oob="true"></div>'
        body = final_body(reply)
        assert '<p class="msg-note">Stopped.</p><div class="msg-actions">' in body, body
        assert quiet(ws, 0.3) == []  # nothing more of the stopped reply

        # Stop with nothing running only answers the state.
        ws.send(json.dumps({"action": "stop"}))
        assert receive(ws, 5) == '<div id="chat-state" data-state="idle" hx-swap-oob="true"></div>'

        history = shown_history(chat_server)
        assert [m.role for m in history] == ["user", "assistant"]  # "Another question" was not kept
        assert history[0].text == LONG
        assert history[1].html == body  # kept with status "stopped": the note is rendered from it

        # The same socket chats again at once (the model server was let go too). The history is
        # cleared first, or the model would go on with the story.
        post(chat_server, "/chat/clear")
        again = chat(ws, f"Say yes. {SHORT}", timeout=30)
        assert again.tokens and not again.errors


class RawSocket:
    """A WebSocket spoken by hand on a TCP socket, to put several frames into one write: the server
    then reads them in one go, as it does when it is busy or the user quick."""

    def __init__(self, server) -> None:
        self.connection = socket.create_connection(("127.0.0.1", server.port), timeout=scaled(5))
        key = base64.b64encode(os.urandom(16)).decode()
        host = f"127.0.0.1:{server.port}"
        self.connection.sendall(
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101 "), head

    def _recv(self) -> bytes:
        chunk = self.connection.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        return chunk

    @staticmethod
    def text_frame(text: str) -> bytes:
        data, mask = text.encode(), os.urandom(4)
        length = bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack("!H", len(data))
        return b"\x81" + length + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))

    def send_at_once(self, *texts: str) -> None:
        self.connection.sendall(b"".join(self.text_frame(text) for text in texts))

    def receive(self, timeout: float) -> str:
        self.connection.settimeout(scaled(timeout))
        while True:
            if len(self.buffer) >= 10 or (len(self.buffer) >= 2 and self.buffer[1] & 0x7F < 126):
                size, start = self.buffer[1] & 0x7F, 2
                if size == 126:
                    size, start = struct.unpack("!H", self.buffer[2:4])[0], 4
                elif size == 127:
                    size, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
                if len(self.buffer) >= start + size:
                    opcode, payload = self.buffer[0] & 0x0F, self.buffer[start:start + size]
                    self.buffer = self.buffer[start + size:]
                    assert opcode == 1, f"not a text frame: opcode {opcode}"
                    return payload.decode()
            try:
                self.buffer += self._recv()
            except TimeoutError:
                raise TimeoutError("no frame") from None

    def close(self) -> None:
        self.connection.close()


def test_stop_right_behind_the_message_still_ends_the_reply(chat_server):
    """Chat and Stop read by the server in one go (a quick hand, a busy server): the reply must
    still end with its final fragment and the idle state, or the page shows "streaming" forever."""
    raw = RawSocket(chat_server)
    try:
        raw.send_at_once(
            json.dumps({"action": "chat", "message": f"Say hi. {SHORT}"}), json.dumps({"action": "stop"})
        )
        assert raw.receive(5) == ACCEPTED
        frames = [raw.receive(5)]
        assert PENDING.search(frames[0]) and STREAMING in frames[0], frames
        try:
            while IDLE not in frames[-1]:
                frames.append(raw.receive(5))
        except TimeoutError:
            pytest.fail(f"the reply never ended: no final fragment, no idle state; frames: {frames}")
    finally:
        raw.close()
    reply_id = PENDING.search(frames[0]).group(1)
    assert FINAL.search(frames[-1]).group(2) == reply_id
    assert '<p class="msg-note">Stopped.</p>' in frames[-1]


def test_closing_the_socket_mid_reply_leaves_the_server_working(chat_server):
    with connect(chat_server) as ws:
        ws.send(json.dumps({"action": "chat", "message": LONG}))
        tokens = 0
        while tokens < 2:
            if TOKEN.match(receive(ws, 60)):
                tokens += 1
    # Closed here, mid-reply.

    # What arrived is kept, marked stopped (wait for the server to notice the close).
    def both_kept():
        history = shown_history(chat_server)
        return history if len(history) >= 2 else None

    history = poll(both_kept, 5, "the stopped reply is in the history")
    assert [m.role for m in history] == ["user", "assistant"]
    assert '<p class="msg-note">Stopped.</p>' in history[1].html, history[1]

    post(chat_server, "/chat/clear")  # or the model would go on with the story
    with connect(chat_server) as ws:
        reply = chat(ws, f"Say hello. {SHORT}", timeout=30)
        assert reply.tokens and not reply.errors
    assert shown_history(chat_server)[-1].html == final_body(reply)


# --- frames that go nowhere ----------------------------------------------------------------------

BAD_FRAMES = [
    (b'{"action": "chat", "message": "binary"}', "takes JSON text frames, not binary"),
    ("hello there", "not valid JSON"),
    ('["chat", "hello"]', "must be a JSON object"),
    ('"chat"', "must be a JSON object"),
    ("null", "must be a JSON object"),
    (json.dumps({"action": "explode", "message": "hi"}), "Unknown action &#x27;explode&#x27; (known: chat, hello, regenerate, stop)"),
    (json.dumps({"message": "no action"}), "A frame needs an &quot;action&quot; (known: chat, hello, regenerate, stop)"),
    (json.dumps({"action": ["chat"], "message": "hi"}), "Unknown action"),
    (json.dumps({"action": "<b>chat</b>"}), "Unknown action &#x27;&lt;b&gt;chat&lt;/b&gt;&#x27;"),
    (json.dumps({"action": "chat"}), "Type a message first."),
    (json.dumps({"action": "chat", "message": ""}), "Type a message first."),
    (json.dumps({"action": "chat", "message": " \n\t "}), "Type a message first."),
    (json.dumps({"action": "chat", "message": 42}), "Type a message first."),
    (json.dumps({"action": "chat", "message": "x" * 4001}), "That message is 4,001 characters; the limit is 4,000."),
    (json.dumps({"action": "chat", "message": "y" * 70_000}), "too large (the limit is 64 KB)"),
    # Frames Python's JSON parser cannot take: deep nesting, unclosed nesting, a huge number.
    ('{"action": "chat", "message": ' + "[" * 5_000 + "]" * 5_000 + "}", "nested more than 64 levels"),
    ("[" * 30_000, "nested more than 64 levels"),
    ('{"action": "chat", "n": ' + "9" * 30_001 + "}", "not valid JSON"),
    ('{"action": ' + "9" * 30_001 + "}", "not valid JSON"),
    # Text that cannot be stored or displays as something else.
    ('{"action": "chat", "message": "hi \\ud800 there"}', "not valid Unicode"),
    (json.dumps({"action": "chat", "message": "nul \x00 here"}), "control characters"),
    (json.dumps({"action": "chat", "message": "\u202eevil"}), "right-to-left override"),
    (json.dumps({"action": "chat", "message": "\u200b\u200b\u2060"}), "cannot be empty"),
    (json.dumps({"action": "chat", "message": "é" * 40_000}, ensure_ascii=False), "too large (the limit is 64 KB)"),  # 80 KB as UTF-8
]


def test_bad_frames_get_a_readable_error_and_reach_nothing(chat_server, llama_server):
    requests_before = llama_server.log_path.read_text(errors="replace").count("/v1/chat/completions")
    with connect(chat_server) as ws:
        for frame, expected in BAD_FRAMES:
            ws.send(frame)
            answer = receive(ws, 2)
            errors = errors_in(answer)
            assert len(errors) == 1 and expected in errors[0], (frame[:60], answer)
            assert "Traceback" not in answer and "Something went wrong" not in answer
            assert quiet(ws, 0.1) == [], frame[:60]
        # The socket is still open and working after all of them.
        ws.send(json.dumps({"action": "stop"}))
        assert IDLE in receive(ws, 2)

    assert shown_history(chat_server) == []  # errors are shown, not kept; no user message was stored

    # None of them reached the model: a real message sent after them is the only new request.
    def completions() -> int:
        return llama_server.log_path.read_text(errors="replace").count("/v1/chat/completions")

    with connect(chat_server) as ws:
        assert chat(ws, f"Say yes. {SHORT}", stop_after=1).tokens
    poll(lambda: completions() > requests_before, 5, "the model server logged the real message")
    assert completions() == requests_before + 1


# --- the model server is missing or lacks the model ---------------------------------------------


def test_without_a_model_server_a_message_gets_an_error_naming_the_url(servers):
    closed = f"http://127.0.0.1:{free_port()}"
    server = servers("--llm-url", closed, "--model", "smollm2")
    with connect(server) as ws:
        started = time.monotonic()
        reply = chat(ws, "Hello?", timeout=5)
        took = time.monotonic() - started
    assert took < scaled(2), f"the error took {took:.1f}s"
    assert not reply.tokens
    assert len(reply.errors) == 1, reply.frames
    error = html.unescape(reply.errors[0])
    assert f"No model server answers at {closed}." in error
    assert "ollama serve" in error and "--llm-url" in error  # what to do about it

    page = httpx.get(server.url + "/", timeout=scaled(10))
    assert page.status_code == 200 and 'id="chat-messages"' in page.text
    status = httpx.get(server.url + "/chat/status", headers=HTMX, timeout=scaled(10))
    assert status.status_code == 200, status.text
    assert "no model server" in status.text.lower() and closed in status.text
    # The failure is part of the conversation: a reload shows the question and why it has no answer.
    assert [m.role for m in shown_history(server)] == ["user", "error"]


def test_an_unknown_model_gets_an_error_naming_it(servers, llama_server):
    server = servers("--llm-url", llama_server.url, "--model", "nope")
    with connect(server) as ws:
        reply = chat(ws, "Hello?", timeout=10)
    assert not reply.tokens
    assert len(reply.errors) == 1, reply.frames
    error = html.unescape(reply.errors[0])
    assert "does not have the model “nope”" in error and llama_server.url in error
    assert "smollm2" in error  # what it has instead


# --- who may connect, whose history, what is markup ----------------------------------------------


def test_a_foreign_origin_cannot_open_the_socket(chat_server):
    for origin in ("http://evil.example", f"http://localhost:{chat_server.port + 1}", "null"):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            connect(chat_server, origin=origin)
        assert refused.value.response.status_code == 403, origin
    with connect(chat_server, origin=None) as ws:  # not a browser (a script): allowed
        ws.send(json.dumps({"action": "stop"}))
        assert IDLE in receive(ws, 2)


def test_each_profile_has_its_own_history(chat_server):
    with connect(chat_server) as ws:
        chat(ws, f"I am the default profile. {SHORT}")
    created = post(chat_server, "/profiles", name="Second")
    second_id = re.findall(r'id="profile-(\d+)"', created.text)[0]
    switched = post(chat_server, "/profiles/select", profile_id=second_id)
    # The switch redraws the chat beside the app: the new profile's (empty) conversation.
    assert 'id="chat-messages"' in switched.text and "I am the default profile" not in switched.text
    assert shown_history(chat_server) == []

    with connect(chat_server) as ws:
        chat(ws, f"I am the second profile. {SHORT}")
    assert user_messages(chat_server) == [f"I am the second profile. {SHORT}"]
    post(chat_server, "/chat/clear")  # clears this profile's history only

    post(chat_server, "/profiles/select", profile_id="1")
    history = shown_history(chat_server)
    assert [(m.role, m.text) for m in history][0] == ("user", f"I am the default profile. {SHORT}")
    assert [m.role for m in history] == ["user", "assistant"]
    post(chat_server, "/profiles/select", profile_id=second_id)
    assert shown_history(chat_server) == []


def test_markup_in_a_message_or_a_reply_is_escaped(chat_server):
    markup = "<img src=x onerror=alert(1)>"
    with connect(chat_server) as ws:
        reply = chat(ws, f"Repeat exactly: {markup} <script>alert(2)</script> <b>bold</b>", stop_after=20)
    frames = "".join(reply.frames)
    assert "&lt;img src=x onerror=alert(1)&gt;" in reply.frames[1]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in reply.frames[1]
    # No tag of the message, nor of the model's reply (which may echo it), arrives as markup.
    for tag in ("<img", "<script", "<b>", "</b>"):
        assert tag not in frames, tag
    page = httpx.get(chat_server.url + "/", timeout=scaled(10)).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    for tag in ("<img", "<script>alert", "<b>"):
        assert tag not in page, tag


def test_an_invalid_utf8_frame_or_a_client_that_vanishes_leaves_no_traceback(server):
    """Frames a browser never sends: text that is not UTF-8 (the server closes that socket with
    1007, as the protocol says) and a connection dropped in the middle of a frame."""
    raw = RawSocket(server)
    data, mask = b'{"action": "chat", "message": "\xff\xfe"}', os.urandom(4)
    raw.connection.sendall(b"\x81" + bytes([0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
    closing = b""
    raw.connection.settimeout(scaled(5))
    try:
        while len(closing) < 4:
            chunk = raw.connection.recv(64)
            if not chunk:
                break
            closing += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    if closing:
        assert closing[0] & 0x0F == 8 and struct.unpack("!H", closing[2:4])[0] == 1007, closing
    raw.close()
    half = RawSocket(server)
    half.connection.sendall(half.text_frame('{"action": "chat", "message": "cut short"}')[:9])
    half.close()
    with connect(server) as ws:  # the server goes on serving sockets
        ws.send(json.dumps({"action": "stop"}))
        assert IDLE in receive(ws, 5)
    time.sleep(scaled(0.3))
    assert "Traceback" not in server.log() and "Exception" not in server.log(), server.log()[-2000:]
