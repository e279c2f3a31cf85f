"""Shared fixtures. Under CI=true a skipped test counts as a failure (see pytest_runtest_makereport)."""

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
from tests.support.requirements import in_ci, require
from tests.support.server import start_server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # In CI nothing may pass by being skipped: a missing dependency must be installed there.
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"
    return report


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
    """The real app in a subprocess (uvicorn on 127.0.0.1, a free port), stopped after the test."""
    running = start_server(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture
def servers(tmp_path):
    """servers(*args, data_dir=None): start real app servers (stopped after the test), and check
    that none of them logged a traceback."""
    started = []

    def start(*args, data_dir=None):
        server = start_server(data_dir or tmp_path / f"data{len(started)}", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    for server in started:
        assert "Traceback" not in server.log(), server.log()[-4000:]


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
    context = chromium.new_context()
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
