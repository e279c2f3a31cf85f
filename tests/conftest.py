"""Shared fixtures. Under CI=true a skip or an xfail counts as a failure (tests/support/strict_ci.py)."""

from __future__ import annotations

import pytest

from pipulate import Settings, create_app
from tests.support.browser import CHROMIUM_ARGS, find_chromium
from tests.support.llm import (
    HOW_TO_GET_LLAMA,
    HOW_TO_GET_MODEL,
    find_model_file,
    llama_cpp_installed,
    start_llama_server,
)
from tests.support.requirements import require
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import ms

# The suite's habits, as plugins: CI counts skips and xfails as failures; a hung test stops at a
# time limit scaled like every other bound; tests of the test doubles are counted apart.
pytest_plugins = ["tests.support.strict_ci", "tests.support.timeouts", "tests.support.doubles"]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", plugin_dirs=())


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    """An in-process client (Starlette's TestClient) with a local Host header."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1:5001") as test_client:
        yield test_client


@pytest.fixture
def htmx_headers():
    return {"HX-Request": "true"}


@pytest.fixture
def server(tmp_path):
    """The real app in a subprocess (uvicorn on 127.0.0.1, a free port), stopped after the test,
    which fails if the server logged a traceback."""
    running = start_server(tmp_path / "data")
    yield running
    running.stop()
    assert_no_traceback(running)


@pytest.fixture
def servers(tmp_path):
    """servers(*args, data_dir=None, cwd=None, env=None): start real app servers (stopped after the
    test), and check that none of them logged a traceback."""
    started = []

    def start(*args, data_dir=None, **options):
        server = start_server(data_dir or tmp_path / f"data{len(started)}", *args, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    assert_no_traceback(*started)


@pytest.fixture
def chat_server(servers, llama_server):
    """The app chatting with llama.cpp's server and SmolLM2."""
    return servers("--llm-url", llama_server.url, "--model", "smollm2")


@pytest.fixture(scope="module")
def chromium():
    """A Playwright Chromium browser (Debian's /usr/bin/chromium here).

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread while
    it is open, which would break later tests that call asyncio.run()."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None, "playwright", "pip install -e '.[test]' (or ./scripts/test)")
    executable = find_chromium()
    require(executable is not None, "Chromium", "apt-get install -y chromium (macOS: install Google Chrome)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    from playwright.sync_api import expect

    expect.set_options(timeout=ms(5))  # Playwright's defaults (5 s for expect, 30 s for actions), scaled
    context = chromium.new_context()
    context.set_default_timeout(ms(30))
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def model_file():
    """The SmolLM2 GGUF file (about 100 MB)."""
    path = find_model_file()
    require(path is not None, "The SmolLM2 model file", HOW_TO_GET_MODEL)
    return path


@pytest.fixture(scope="session")
def llama_server(model_file, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server with SmolLM2 (model name "smollm2"), shared by the session."""
    require(llama_cpp_installed(), "llama-cpp-python[server]", HOW_TO_GET_LLAMA)
    server = start_llama_server(model_file, tmp_path_factory.mktemp("llama"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian's package) on 127.0.0.1, for the shared-jobs mode."""
    from tests.support.postgres import HOW_TO_INSTALL, Postgres, find_bin

    bin_dir = find_bin()
    require(bin_dir is not None, "PostgreSQL", HOW_TO_INSTALL)
    server = Postgres(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def jobs_database(request, tmp_path):
    """Where background jobs are kept: the default SQLite file, then a real PostgreSQL."""
    if request.param == "sqlite":
        return ""
    server = request.getfixturevalue("postgres")
    return server.create_database(f"jobs_{tmp_path.name.lower().replace('-', '_')[:40]}")
