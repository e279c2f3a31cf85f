"""The history sent to the model is trimmed to `chat_context_tokens`, through the real server: a
scripted model server (it echoes each message) records exactly what the app sent it."""

from __future__ import annotations

from tests.apps.test_chat_over_websocket import chat, connect
from tests.support.scripted_model_server import MODEL, ScriptedModelServer

SYSTEM = "Be brief."  # 9 characters: 3 tokens at four characters each (pipulate/_chat/history.py)


def test_a_small_context_budget_trims_what_the_model_receives(servers, tmp_path):
    # The servers fixture starts each server in tmp_path, where it reads pipulate.toml.
    (tmp_path / "pipulate.toml").write_text(f'chat_context_tokens = 256\nsystem_prompt = "{SYSTEM}"\n')
    messages = [f"message {number}: " + "x" * 389 for number in range(1, 5)]  # 400 characters: 101 tokens
    assert all(len(message) == 400 for message in messages)
    with ScriptedModelServer() as model:  # echoes each message back as the reply
        app = servers("--llm-url", model.url, "--model", MODEL)
        with connect(app) as ws:
            for message in messages:
                reply = chat(ws, message, stop_after=None, timeout=20)
                assert reply.text == message and not reply.errors, reply.frames

    sent = [[(m["role"], m["content"]) for m in request["messages"]] for request in model.received]
    assert len(sent) == 4
    assert sent[0] == [("system", SYSTEM), ("user", messages[0])]
    # 256 - 3 for the system prompt leaves room for two 101-token messages, not three: the newest
    # question and the reply before it.
    for number in (1, 2, 3):
        assert sent[number] == [("system", SYSTEM), ("assistant", messages[number - 1]), ("user", messages[number])]
