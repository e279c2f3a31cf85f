"""Which model answers, through the real server, as the README's "Chat with a local model" says:
a model given for this run (`--model` or PIPULATE_MODEL) wins over one picked in the page, which
wins over the brand's default (`model` in pipulate.toml, else llama3.2). A pick is kept: it answers
again once the server runs without a given model. The page says when a given model answers.

The scripted model server records the model each request named (`received`)."""

from __future__ import annotations

import html
import re

import httpx

from tests.apps.test_chat_over_websocket import HTMX, chat, connect, post
from tests.support.scripted_model_server import ScriptedModelServer
from tests.support.timing import scaled

NOTE_ID = 'id="chat-model-note"'
MODELS = ("llama3.2", "brand-model", "picked-model", "given-model", "env-model", "other")


def answering_model(app, model_server) -> str:
    """Send a message; the model the request to the model server named."""
    before = len(model_server.received)
    with connect(app) as ws:
        reply = chat(ws, "which model?", stop_after=None, timeout=10)
    assert reply.final and not reply.errors, reply.frames
    assert len(model_server.received) == before + 1
    return model_server.received[-1]["model"]


def page(app) -> str:
    response = httpx.get(app.url + "/", timeout=scaled(10), trust_env=False)
    assert response.status_code == 200
    return html.unescape(response.text)


def test_a_given_model_wins_over_the_pick_for_that_run_and_the_pick_comes_back(servers, tmp_path):
    data = tmp_path / "data"
    with ScriptedModelServer(models=MODELS) as model_server:
        # No model given: the brand's default answers until one is picked; then the pick does.
        app = servers("--llm-url", model_server.url, data_dir=data)
        assert answering_model(app, model_server) == "llama3.2"
        assert NOTE_ID not in page(app) and 'hx-get="/chat/models"' in page(app)
        post(app, "/chat/model", model="picked-model")
        assert answering_model(app, model_server) == "picked-model"
        app.stop()

        # --model: it answers for this run, over the pick, and the page says so.
        app = servers("--llm-url", model_server.url, "--model", "given-model", data_dir=data)
        assert answering_model(app, model_server) == "given-model"
        shown = page(app)
        assert NOTE_ID in shown and "given-model was given when the server started (--model or PIPULATE_MODEL)" in shown
        picker = re.search(r'<select [^>]*id="chat-model"[^>]*>(.*?)</select>', shown, re.S)
        assert " disabled" in picker.group(0) and picker.group(1).count("<option") == 1
        assert 'hx-get="/chat/models"' not in shown  # no list to pick from
        refused = httpx.post(app.url + "/chat/model", data={"model": "other"}, headers=HTMX, trust_env=False)
        assert 400 <= refused.status_code < 500 and "given when the server started" in html.unescape(refused.text)
        assert answering_model(app, model_server) == "given-model"
        app.stop()

        # PIPULATE_MODEL is a given model too.
        app = servers("--llm-url", model_server.url, data_dir=data, env={"PIPULATE_MODEL": "env-model"})
        assert answering_model(app, model_server) == "env-model"
        assert NOTE_ID in page(app)
        app.stop()

        # Without a given model, the pick made earlier answers again (the refused one was not kept).
        app = servers("--llm-url", model_server.url, data_dir=data)
        assert answering_model(app, model_server) == "picked-model"
        assert NOTE_ID not in page(app)


def test_the_brands_model_in_pipulate_toml_is_a_default_that_a_pick_overrides(servers, tmp_path):
    (tmp_path / "pipulate.toml").write_text('model = "brand-model"\n')
    with ScriptedModelServer(models=MODELS) as model_server:
        app = servers("--llm-url", model_server.url, cwd=tmp_path)
        assert answering_model(app, model_server) == "brand-model"
        assert NOTE_ID not in page(app)
        post(app, "/chat/model", model="picked-model")
        assert answering_model(app, model_server) == "picked-model"


def test_live_mode_hands_the_given_model_to_its_worker(servers, tmp_path):
    """`serve --live` passes every setting to the reloader's worker as PIPULATE_* variables: a model
    from pipulate.toml must stay a default there, and a given one stay given."""
    (tmp_path / "pipulate.toml").write_text('model = "brand-model"\n')
    with ScriptedModelServer(models=MODELS) as model_server:
        app = servers("--live", "--llm-url", model_server.url, cwd=tmp_path, data_dir=tmp_path / "data")
        post(app, "/chat/model", model="picked-model")
        assert answering_model(app, model_server) == "picked-model"
        app.stop()
        app = servers("--live", "--llm-url", model_server.url, "--model", "given-model", cwd=tmp_path,
                      data_dir=tmp_path / "data")
        assert answering_model(app, model_server) == "given-model"
        assert NOTE_ID in page(app)
